/* The static int8 rewrite of fq_quantize (docs/QUANTIZATION.md, "What the static quantizer
 * does").
 *
 * The float graph is rewritten in place, node by node in graph order. Every f32 value of the
 * float graph may get a u8 twin (a new value); a node that goes int8 reads the twins of its
 * inputs and writes the twin of its output, a node that stays float reads the f32 values. A twin
 * is made by a QuantizeLinear where a float value meets an int8 reader, and an f32 value whose
 * producer went int8 is written back by a DequantizeLinear where a float reader (or the graph
 * output) needs it, so outputs keep their names. New nodes are appended and the node list is
 * sorted back into topological order at the end. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/ops.h"
#include "quant/quantize_internal.h"

typedef struct u8_params {
    float scale;
    int32_t zero_point;
} u8_params;

typedef struct rewrite {
    fq_graph *graph;
    const fq_quantize_options *options;
    fq_quantize_report *report;
    int n_float_values;   /* values of the float graph: indices below this */
    int *twin;            /* per float value: its u8 twin, or -1 */
    bool *float_ready;    /* per float value: produced (or readable) in f32 */
    bool *has_forced;     /* per float value: Concat parameters its twin must carry */
    u8_params *forced;
    int cap;              /* entries of scale_const and zp_const */
    int *scale_const;     /* per value: the scalar constant holding its scale, or -1 */
    int *zp_const;
} rewrite;

static void rewrite_free(rewrite *rw)
{
    fq_free(rw->twin);
    fq_free(rw->float_ready);
    fq_free(rw->has_forced);
    fq_free(rw->forced);
    fq_free(rw->scale_const);
    fq_free(rw->zp_const);
}

static fq_status rewrite_init(rewrite *rw, fq_graph *graph, const fq_quantize_options *options,
                              fq_quantize_report *report, fq_error *err)
{
    memset(rw, 0, sizeof(*rw));
    rw->graph = graph;
    rw->options = options;
    rw->report = report;
    rw->n_float_values = graph->n_values;
    size_t count = (size_t)graph->n_values + 1;
    rw->twin = fq_malloc(count * sizeof(int));
    rw->float_ready = fq_calloc(count, sizeof(bool));
    rw->has_forced = fq_calloc(count, sizeof(bool));
    rw->forced = fq_calloc(count, sizeof(u8_params));
    if (rw->twin == NULL || rw->float_ready == NULL || rw->has_forced == NULL ||
        rw->forced == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the rewrite");
    for (int v = 0; v < graph->n_values; v++) {
        rw->twin[v] = -1;
        rw->float_ready[v] = graph->values[v].kind != FQ_VALUE_INTERMEDIATE;
    }
    for (int n = 0; n < graph->n_nodes; n++)
        for (int o = 0; o < graph->nodes[n].n_outputs; o++)
            if (graph->nodes[n].outputs[o] >= 0)
                rw->float_ready[graph->nodes[n].outputs[o]] = true;
    return FQ_OK;
}

/* Grows the per-value constant caches to cover every value of the graph. */
static fq_status track_values(rewrite *rw, fq_error *err)
{
    int need = rw->graph->n_values;
    if (need <= rw->cap)
        return FQ_OK;
    int cap = need * 2 + 16;
    int *s = fq_realloc(rw->scale_const, (size_t)cap * sizeof(int));
    if (s != NULL)
        rw->scale_const = s;
    int *z = fq_realloc(rw->zp_const, (size_t)cap * sizeof(int));
    if (z != NULL)
        rw->zp_const = z;
    if (s == NULL || z == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the rewrite");
    for (int v = rw->cap; v < cap; v++) {
        rw->scale_const[v] = -1;
        rw->zp_const[v] = -1;
    }
    rw->cap = cap;
    return FQ_OK;
}

/* ---- quantization parameters ---- */

static bool reaches_sigmoid(const fq_graph *graph, int value, int depth);

/* Values a Sigmoid reads (a detector's score logits) keep their whole calibrated range: a
 * clipping method (entropy, mse) cuts the high logits that make faces, and one uint8 step of
 * the full range costs the scores little. Every other value gets the method asked for. */
static fq_calib_method value_method(const rewrite *rw, int value)
{
    return reaches_sigmoid(rw->graph, value, 0) ? FQ_CALIB_MINMAX : rw->options->method;
}

static fq_status stats_params(const rewrite *rw, int value, u8_params *p, fq_error *err)
{
    const fq_value *v = &rw->graph->values[value];
    int s = fq_calib_stats_find(rw->options->stats, v->name);
    if (s < 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "quantize: the statistics have no entry for "
                            "value '%s'", v->name);
    double percentile = rw->options->percentile > 0 ? rw->options->percentile
                                                    : FQ_CALIB_DEFAULT_PERCENTILE;
    fq_calib_range range;
    fq_status status = fq_value_stats_range(&rw->options->stats->values[s],
                                            value_method(rw, value), percentile, &range, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "quantize: value '%s'", v->name);
    fq_calib_params_u8_asymmetric(&range, &p->scale, &p->zero_point);
    return FQ_OK;
}

/* The parameters the twin of float value `value` gets when a node writes it. */
static fq_status twin_params(const rewrite *rw, int value, u8_params *p, fq_error *err)
{
    if (rw->has_forced[value]) {
        *p = rw->forced[value];
        return FQ_OK;
    }
    return stats_params(rw, value, p, err);
}

static u8_params value_params(const fq_value *v)
{
    u8_params p = {1.0f, 0};
    if (v->quant.count == 1 && v->quant.scale != NULL) {
        p.scale = v->quant.scale[0];
        p.zero_point = v->quant.zero_point[0];
    }
    return p;
}

static bool params_equal(u8_params a, u8_params b)
{
    return a.scale == b.scale && a.zero_point == b.zero_point;
}

/* ---- new values and nodes ---- */

static fq_status unique_value(rewrite *rw, const char *base, const char *suffix, fq_dtype dtype,
                              const fq_shape *shape, int *index, fq_error *err)
{
    char name[512];
    snprintf(name, sizeof(name), "%s%s", base, suffix);
    for (int i = 1; fq_graph_find_value(rw->graph, name) >= 0; i++)
        snprintf(name, sizeof(name), "%s%s_%d", base, suffix, i);
    fq_status status = fq_graph_add_value(rw->graph, name, dtype, shape, index, err);
    if (status == FQ_OK)
        status = track_values(rw, err);
    return status;
}

/* A u8 value shaped like float value `like`, carrying p. */
static fq_status new_u8_value(rewrite *rw, int like, const char *suffix, u8_params p, int *index,
                              fq_error *err)
{
    fq_shape shape = rw->graph->values[like].shape;
    char base[480];
    snprintf(base, sizeof(base), "%s", rw->graph->values[like].name);
    fq_status status = unique_value(rw, base, suffix, FQ_DTYPE_U8, &shape, index, err);
    if (status != FQ_OK)
        return status;
    return fq_quant_set_per_tensor(&rw->graph->values[*index], p.scale, p.zero_point, err);
}

/* The scale and zero-point constants of u8 value `value` (made once). */
static fq_status params_inputs(rewrite *rw, int value, int *scale, int *zero_point,
                               fq_error *err)
{
    fq_status status = track_values(rw, err);
    if (status != FQ_OK)
        return status;
    u8_params p = value_params(&rw->graph->values[value]);
    char base[480];
    snprintf(base, sizeof(base), "%s", rw->graph->values[value].name);
    char name[500];
    if (rw->scale_const[value] < 0) {
        snprintf(name, sizeof(name), "%s_scale", base);
        status = fq_quant_add_scale(rw->graph, name, p.scale, &rw->scale_const[value], err);
        if (status == FQ_OK)
            status = track_values(rw, err);
        if (status != FQ_OK)
            return status;
    }
    if (rw->zp_const[value] < 0) {
        snprintf(name, sizeof(name), "%s_zero_point", base);
        status = fq_quant_add_zero_point_u8(rw->graph, name, p.zero_point, &rw->zp_const[value],
                                            err);
        if (status == FQ_OK)
            status = track_values(rw, err);
        if (status != FQ_OK)
            return status;
    }
    *scale = rw->scale_const[value];
    *zero_point = rw->zp_const[value];
    return FQ_OK;
}

static fq_status add_node(rewrite *rw, const char *base, const char *op_type, const int *inputs,
                          int n_inputs, int output, fq_error *err)
{
    char name[512];
    snprintf(name, sizeof(name), "%s_%s", base, op_type);
    return fq_graph_add_node(rw->graph, name, op_type, inputs, n_inputs, &output, 1, NULL, err);
}

/* QuantizeLinear from f32 value x to a new u8 value with parameters p. */
static fq_status quantize_value(rewrite *rw, int x, u8_params p, int *out, fq_error *err)
{
    fq_status status = new_u8_value(rw, x, "_quantized", p, out, err);
    int scale = -1, zp = -1;
    if (status == FQ_OK)
        status = params_inputs(rw, *out, &scale, &zp, err);
    if (status != FQ_OK)
        return status;
    int inputs[] = {x, scale, zp};
    char base[480];
    snprintf(base, sizeof(base), "%s", rw->graph->values[x].name);
    return add_node(rw, base, "QuantizeLinear", inputs, 3, *out, err);
}

/* DequantizeLinear from u8 value q into f32 value out. */
static fq_status dequantize_value(rewrite *rw, int q, int out, fq_error *err)
{
    int scale = -1, zp = -1;
    fq_status status = params_inputs(rw, q, &scale, &zp, err);
    if (status != FQ_OK)
        return status;
    int inputs[] = {q, scale, zp};
    char base[480];
    snprintf(base, sizeof(base), "%s", rw->graph->values[out].name);
    return add_node(rw, base, "DequantizeLinear", inputs, 3, out, err);
}

/* The u8 twin of float value v, quantizing it where it has none yet. */
static fq_status need_u8(rewrite *rw, int v, int *out, fq_error *err)
{
    if (rw->twin[v] >= 0) {
        *out = rw->twin[v];
        return FQ_OK;
    }
    u8_params p;
    fq_status status = twin_params(rw, v, &p, err);
    if (status == FQ_OK)
        status = quantize_value(rw, v, p, &rw->twin[v], err);
    *out = rw->twin[v];
    return status;
}

/* Makes float value v readable in f32, dequantizing its twin where its producer went int8. */
static fq_status need_float(rewrite *rw, int v, fq_error *err)
{
    if (v < 0 || v >= rw->n_float_values || rw->float_ready[v])
        return FQ_OK;
    if (rw->twin[v] < 0)
        return fq_error_set(err, FQ_ERR_INTERNAL, "quantize: value '%s' has neither a producer "
                            "nor a u8 twin", rw->graph->values[v].name);
    rw->float_ready[v] = true;
    return dequantize_value(rw, rw->twin[v], v, err);
}

/* u8 value q requantized to p through DequantizeLinear and QuantizeLinear. */
static fq_status requantize(rewrite *rw, int q, u8_params p, int *out, fq_error *err)
{
    fq_shape shape = rw->graph->values[q].shape;
    char base[480];
    snprintf(base, sizeof(base), "%s", rw->graph->values[q].name);
    int real = -1;
    fq_status status = unique_value(rw, base, "_real", FQ_DTYPE_F32, &shape, &real, err);
    if (status == FQ_OK)
        status = dequantize_value(rw, q, real, err);
    if (status != FQ_OK)
        return status;
    return quantize_value(rw, real, p, out, err);
}

/* ---- rewriting one node in place ---- */

static fq_status set_node(rewrite *rw, int n, const char *op_type, const int *inputs,
                          int n_inputs, int output, fq_error *err)
{
    fq_node *node = &rw->graph->nodes[n];
    int *in = fq_malloc((size_t)(n_inputs > 0 ? n_inputs : 1) * sizeof(int));
    char *op = fq_strdup(op_type);
    if (in == NULL || op == NULL) {
        fq_free(in);
        fq_free(op);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for node '%s'",
                            node->name);
    }
    memcpy(in, inputs, (size_t)n_inputs * sizeof(int));
    fq_free(node->inputs);
    fq_free(node->op_type);
    node->inputs = in;
    node->n_inputs = n_inputs;
    node->op_type = op;
    node->op = -1;
    node->outputs[0] = output;
    return FQ_OK;
}

static const char *activation_name(fq_activation_kind kind)
{
    switch (kind) {
    case FQ_ACT_LEAKY_RELU:
        return "LeakyRelu";
    case FQ_ACT_PRELU:
        return "PRelu";
    case FQ_ACT_SIGMOID:
        return "Sigmoid";
    default:
        return "activation";
    }
}

static bool is_float_activation(const rewrite *rw, int v)
{
    const fq_value *value = &rw->graph->values[v];
    return value->dtype == FQ_DTYPE_F32 && value->kind != FQ_VALUE_CONSTANT;
}

/* Why Conv node n cannot become QLinearConv, or NULL. */
static const char *conv_refusal(const rewrite *rw, int n, char *buf, size_t size)
{
    const fq_node *node = &rw->graph->nodes[n];
    const fq_value *x = fq_node_input(rw->graph, node, 0);
    const fq_value *w = fq_node_input(rw->graph, node, 1);
    const fq_value *b = fq_node_input(rw->graph, node, 2);
    fq_activation_kind act = node->act.kind;
    if (act != FQ_ACT_NONE && act != FQ_ACT_RELU && act != FQ_ACT_CLIP) {
        snprintf(buf, size, "fused %s", activation_name(act));
        return buf;
    }
    if (x == NULL || !is_float_activation(rw, node->inputs[0]) || node->n_outputs != 1)
        return "input is not an f32 activation";
    if (w == NULL || !fq_value_is_constant(w) || w->dtype != FQ_DTYPE_F32 || w->shape.rank != 4)
        return "weight is not a constant f32 4-D tensor";
    if (b != NULL && (!fq_value_is_constant(b) || b->dtype != FQ_DTYPE_F32 ||
                      fq_shape_numel(&b->shape) != w->shape.dims[0]))
        return "bias is not a constant f32 vector";
    if (x->shape.rank != 4)
        return "only 2-D convolutions are quantized";
    return NULL;
}

/* The weight constants of a QLinearConv: i8 OIHW, scale f32 [M], zero point i8 [M]. */
static fq_status conv_weights(rewrite *rw, int n, int *w_q, int *w_scale, int *w_zp,
                              float **scales, fq_error *err)
{
    const fq_node *node = &rw->graph->nodes[n];
    const fq_value *w = fq_node_input(rw->graph, node, 1);
    fq_shape shape = w->shape;
    int64_t m = shape.dims[0];
    int64_t per = fq_shape_numel(&shape) / (m > 0 ? m : 1);
    int8_t *q = fq_malloc((size_t)fq_shape_numel(&shape) + 1);
    float *s = fq_malloc((size_t)m * sizeof(float) + 1);
    int8_t *zeros = fq_calloc((size_t)m + 1, 1);
    char base[480];
    snprintf(base, sizeof(base), "%s", w->name);
    fq_status status = FQ_OK;
    if (q == NULL || s == NULL || zeros == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the weight "
                              "of node '%s'", node->name);
    if (status == FQ_OK)
        fq_quant_weights_i8(w->data, m, per, q, s);

    fq_shape vec = {1, {m}};
    if (status == FQ_OK)
        status = fq_quant_add_constant(rw->graph, base, FQ_DTYPE_I8, &shape, q, w_q, err);
    if (status == FQ_OK)
        status = fq_quant_set_per_channel(&rw->graph->values[*w_q], 0, (int)m, s, err);
    char name[500];
    snprintf(name, sizeof(name), "%s_scale", base);
    if (status == FQ_OK)
        status = fq_quant_add_constant(rw->graph, name, FQ_DTYPE_F32, &vec, s, w_scale, err);
    snprintf(name, sizeof(name), "%s_zero_point", base);
    if (status == FQ_OK)
        status = fq_quant_add_constant(rw->graph, name, FQ_DTYPE_I8, &vec, zeros, w_zp, err);
    fq_free(q);
    fq_free(zeros);
    if (status == FQ_OK)
        status = track_values(rw, err);
    if (status != FQ_OK) {
        fq_free(s);
        return status;
    }
    *scales = s;
    return FQ_OK;
}

/* Whether a Conv is depthwise: group == input channels == output channels. */
static bool conv_is_depthwise(const fq_graph *graph, const fq_node *node)
{
    const fq_value *x = fq_node_input(graph, node, 0);
    const fq_value *w = fq_node_input(graph, node, 1);
    int64_t group = fq_node_attr_int(node, "group", 1);
    return group > 1 && x->shape.dims[1] == group && w->shape.dims[0] == group &&
           w->shape.dims[1] == 1;
}

/* The statistics entry of Conv node n's input when it holds per-channel sums of its channels,
 * or NULL. */
static const fq_value_stats *input_means(const rewrite *rw, const fq_node *node)
{
    const fq_value *x = fq_node_input(rw->graph, node, 0);
    int s = fq_calib_stats_find(rw->options->stats, x->name);
    if (s < 0)
        return NULL;
    const fq_value_stats *vs = &rw->options->stats->values[s];
    return vs->channels == x->shape.dims[1] ? vs : NULL;
}

static bool corrects_bias(const rewrite *rw, const fq_node *node)
{
    return rw->options->bias_correction && conv_is_depthwise(rw->graph, node) &&
           input_means(rw, node) != NULL;
}

/* The padding before the first element along spatial axis `axis` (0: H, 1: W). */
static int64_t leading_pad(const fq_node *node, int axis, int64_t in, int64_t out, int64_t k,
                           int64_t stride, int64_t dilation)
{
    const char *auto_pad = fq_node_attr_string(node, "auto_pad", "NOTSET");
    if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
        int64_t total = (out - 1) * stride + (k - 1) * dilation + 1 - in;
        total = total > 0 ? total : 0;
        return auto_pad[5] == 'U' ? total / 2 : total - total / 2;
    }
    if (strcmp(auto_pad, "VALID") == 0)
        return 0;
    int64_t pads[4] = {0, 0, 0, 0};
    return fq_node_attr_ints(node, "pads", pads, 4) == 4 ? pads[axis] : 0;
}

/* Per tap of one spatial axis: the fraction of output positions at which it reads the input
 * rather than the zero padding. */
static void tap_coverage(const fq_node *node, int axis, int64_t in, int64_t out, int64_t k,
                         double *coverage)
{
    int64_t strides[2] = {1, 1}, dilations[2] = {1, 1};
    fq_node_attr_ints(node, "strides", strides, 2);
    fq_node_attr_ints(node, "dilations", dilations, 2);
    int64_t pad = leading_pad(node, axis, in, out, k, strides[axis], dilations[axis]);
    for (int64_t t = 0; t < k; t++) {
        int64_t inside = 0;
        for (int64_t o = 0; o < out; o++) {
            int64_t at = o * strides[axis] - pad + t * dilations[axis];
            inside += at >= 0 && at < in;
        }
        coverage[t] = out > 0 ? (double)inside / (double)out : 0.0;
    }
}

/* Bias correction of a depthwise Conv: over the output positions, the quantized weights of
 * channel c add sum_k (q[c][k] s[c] - w[c][k]) E[x at tap k] on average, which the bias takes
 * off. E[x at tap k] is the channel mean times the fraction of positions where the tap lies
 * inside the input (the rest read zero padding). */
static void correct_depthwise_bias(const rewrite *rw, const fq_node *node, const int8_t *q,
                                   const float *w_scale, float *bias)
{
    const fq_value *x = fq_node_input(rw->graph, node, 0);
    const fq_value *w = fq_node_input(rw->graph, node, 1);
    const fq_value *y = &rw->graph->values[node->outputs[0]];
    const fq_value_stats *vs = input_means(rw, node);
    int64_t m = w->shape.dims[0], kh = w->shape.dims[2], kw = w->shape.dims[3];
    double cover_h[64], cover_w[64];
    if (kh > 64 || kw > 64)
        return;
    tap_coverage(node, 0, x->shape.dims[2], y->shape.dims[2], kh, cover_h);
    tap_coverage(node, 1, x->shape.dims[3], y->shape.dims[3], kw, cover_w);
    const float *wf = w->data;
    for (int64_t c = 0; c < m; c++) {
        double mean = 0.0, shift = 0.0;
        fq_value_stats_channel_mean(vs, (int)c, &mean);
        for (int64_t i = 0; i < kh; i++) {
            for (int64_t j = 0; j < kw; j++) {
                int64_t k = (c * kh + i) * kw + j;
                double error = (double)q[k] * w_scale[c] - (double)wf[k];
                shift += error * cover_h[i] * cover_w[j];
            }
        }
        bias[c] = (float)((double)bias[c] - mean * shift);
    }
}

/* The float bias of Conv node n, corrected where bias correction applies; NULL (and no error)
 * when the Conv has none and none is needed. */
static fq_status float_bias(const rewrite *rw, int n, const int8_t *q, const float *w_scale,
                            float **out, fq_error *err)
{
    *out = NULL;
    const fq_node *node = &rw->graph->nodes[n];
    const fq_value *b = fq_node_input(rw->graph, node, 2);
    bool correct = corrects_bias(rw, node);
    if (b == NULL && !correct)
        return FQ_OK;
    int64_t m = fq_node_input(rw->graph, node, 1)->shape.dims[0];
    float *bias = fq_calloc((size_t)m + 1, sizeof(float));
    if (bias == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the bias of "
                            "node '%s'", node->name);
    if (b != NULL)
        memcpy(bias, b->data, (size_t)m * sizeof(float));
    if (correct)
        correct_depthwise_bias(rw, node, q, w_scale, bias);
    *out = bias;
    return FQ_OK;
}

/* The int32 bias of a QLinearConv (-1 when it needs none). */
static fq_status conv_bias(rewrite *rw, int n, float x_scale, int w_q, const float *w_scale,
                           int *b_q, fq_error *err)
{
    *b_q = -1;
    float *bias = NULL;
    fq_status status = float_bias(rw, n, rw->graph->values[w_q].data, w_scale, &bias, err);
    if (status != FQ_OK || bias == NULL)
        return status;
    const fq_node *node = &rw->graph->nodes[n];
    int64_t m = fq_node_input(rw->graph, node, 1)->shape.dims[0];
    int32_t *q = fq_malloc((size_t)m * sizeof(int32_t) + 1);
    float *scales = fq_malloc((size_t)m * sizeof(float) + 1);
    if (q == NULL || scales == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the bias of "
                              "node '%s'", node->name);
    char base[480];
    snprintf(base, sizeof(base), "%s_bias", node->name);
    if (status == FQ_OK) {
        rw->report->saturated_biases += fq_quant_bias_i32(bias, m, x_scale, w_scale, q);
        for (int64_t c = 0; c < m; c++)
            scales[c] = x_scale * w_scale[c];
        fq_shape vec = {1, {m}};
        status = fq_quant_add_constant(rw->graph, base, FQ_DTYPE_I32, &vec, q, b_q, err);
    }
    if (status == FQ_OK)
        status = fq_quant_set_per_channel(&rw->graph->values[*b_q], 0, (int)m, scales, err);
    if (status == FQ_OK)
        status = track_values(rw, err);
    fq_free(bias);
    fq_free(q);
    fq_free(scales);
    return status;
}

static fq_status rewrite_conv(rewrite *rw, int n, fq_error *err)
{
    int x = rw->graph->nodes[n].inputs[0];
    int y = rw->graph->nodes[n].outputs[0];
    int xq = -1, x_scale = -1, x_zp = -1, w_q = -1, w_scale = -1, w_zp = -1;
    float *scales = NULL;
    fq_status status = need_u8(rw, x, &xq, err);
    if (status == FQ_OK)
        status = params_inputs(rw, xq, &x_scale, &x_zp, err);
    if (status == FQ_OK)
        status = conv_weights(rw, n, &w_q, &w_scale, &w_zp, &scales, err);
    if (status != FQ_OK)
        return status;

    int b_q = -1, yq = -1, y_scale = -1, y_zp = -1;
    u8_params py;
    status = conv_bias(rw, n, value_params(&rw->graph->values[xq]).scale, w_q, scales, &b_q,
                       err);
    fq_free(scales);
    if (status == FQ_OK)
        status = twin_params(rw, y, &py, err);
    if (status == FQ_OK)
        status = new_u8_value(rw, y, "_quantized", py, &yq, err);
    if (status == FQ_OK)
        status = params_inputs(rw, yq, &y_scale, &y_zp, err);
    if (status != FQ_OK)
        return status;

    int inputs[] = {xq, x_scale, x_zp, w_q, w_scale, w_zp, y_scale, y_zp, b_q};
    rw->twin[y] = yq;
    rw->float_ready[y] = false;
    return set_node(rw, n, "QLinearConv", inputs, b_q >= 0 ? 9 : 8, yq, err);
}

/* QLinearAdd, QLinearAveragePool, QLinearGlobalAveragePool: the u8 data inputs each followed
 * by their scale and zero point, then the output's. */
static fq_status rewrite_qlinear(rewrite *rw, int n, const char *op_type, int n_data,
                                 fq_error *err)
{
    int inputs[8];
    int k = 0;
    fq_status status = FQ_OK;
    for (int i = 0; i < n_data && status == FQ_OK; i++) {
        int q = -1;
        status = need_u8(rw, rw->graph->nodes[n].inputs[i], &q, err);
        if (status == FQ_OK)
            status = params_inputs(rw, q, &inputs[k + 1], &inputs[k + 2], err);
        inputs[k] = q;
        k += 3;
    }
    int y = rw->graph->nodes[n].outputs[0];
    int yq = -1;
    u8_params py;
    if (status == FQ_OK)
        status = twin_params(rw, y, &py, err);
    if (status == FQ_OK)
        status = new_u8_value(rw, y, "_quantized", py, &yq, err);
    if (status == FQ_OK)
        status = params_inputs(rw, yq, &inputs[k], &inputs[k + 1], err);
    if (status != FQ_OK)
        return status;
    rw->twin[y] = yq;
    rw->float_ready[y] = false;
    return set_node(rw, n, op_type, inputs, k + 2, yq, err);
}

/* An op that moves u8 data unchanged (MaxPool, Reshape, Resize, ...): input 0 becomes its twin,
 * the output a twin with the same parameters. */
static fq_status rewrite_passthrough(rewrite *rw, int n, fq_error *err)
{
    fq_node *node = &rw->graph->nodes[n];
    int xq = rw->twin[node->inputs[0]];
    int y = node->outputs[0];
    int yq = -1;
    u8_params p = value_params(&rw->graph->values[xq]);
    fq_status status = new_u8_value(rw, y, "_quantized", p, &yq, err);
    if (status != FQ_OK)
        return status;
    node = &rw->graph->nodes[n];
    node->inputs[0] = xq;
    node->outputs[0] = yq;
    rw->twin[y] = yq;
    rw->float_ready[y] = false;
    return FQ_OK;
}

/* Concat: every input brought to the output's parameters. */
static fq_status rewrite_concat(rewrite *rw, int n, fq_error *err)
{
    int y = rw->graph->nodes[n].outputs[0];
    u8_params p;
    fq_status status = twin_params(rw, y, &p, err);
    for (int i = 0; i < rw->graph->nodes[n].n_inputs && status == FQ_OK; i++) {
        int q = -1;
        status = need_u8(rw, rw->graph->nodes[n].inputs[i], &q, err);
        if (status == FQ_OK && !params_equal(value_params(&rw->graph->values[q]), p))
            status = requantize(rw, q, p, &q, err);
        if (status == FQ_OK)
            rw->graph->nodes[n].inputs[i] = q;
    }
    int yq = -1;
    if (status == FQ_OK)
        status = new_u8_value(rw, y, "_quantized", p, &yq, err);
    if (status != FQ_OK)
        return status;
    rw->graph->nodes[n].outputs[0] = yq;
    rw->twin[y] = yq;
    rw->float_ready[y] = false;
    return FQ_OK;
}

/* ---- choosing a form for each node ---- */

typedef enum node_form {
    FORM_FLOAT = 0,
    FORM_QLINEAR_CONV,
    FORM_QLINEAR_ADD,
    FORM_QLINEAR_AVERAGE_POOL,
    FORM_QLINEAR_GLOBAL_AVERAGE_POOL,
    FORM_PASSTHROUGH,
    FORM_CONCAT
} node_form;

static bool is_passthrough_op(const char *op)
{
    static const char *const ops[] = {"MaxPool", "Reshape", "Transpose", "Flatten", "Squeeze",
                                      "Unsqueeze", "Slice", "Gather", "Resize"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(op, ops[i]) == 0)
            return true;
    return false;
}

/* A passthrough op applies to u8 when input 0 has a twin and every other input is a constant
 * or not f32 (shapes, axes, indices). */
static const char *passthrough_refusal(const rewrite *rw, const fq_node *node)
{
    if (node->n_inputs < 1 || node->inputs[0] < 0 || node->n_outputs != 1 ||
        node->inputs[0] >= rw->n_float_values || rw->twin[node->inputs[0]] < 0)
        return "input is not quantized (or a second output)";
    for (int i = 1; i < node->n_inputs; i++)
        if (node->inputs[i] >= 0 && is_float_activation(rw, node->inputs[i]))
            return "a second f32 activation input";
    if (strcmp(node->op_type, "Resize") == 0) {
        const char *mode = fq_node_attr_string(node, "mode", "nearest");
        if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0)
            return "Resize mode has no u8 form";
    }
    return NULL;
}

static bool all_inputs_activations(const rewrite *rw, const fq_node *node)
{
    for (int i = 0; i < node->n_inputs; i++)
        if (node->inputs[i] < 0 || !is_float_activation(rw, node->inputs[i]))
            return false;
    return node->n_inputs > 0 && node->n_outputs == 1;
}

static const char *add_refusal(const rewrite *rw, const fq_node *node)
{
    if (node->n_inputs != 2 || !all_inputs_activations(rw, node))
        return "an input is not an f32 activation";
    const fq_value *a = fq_node_input(rw->graph, node, 0);
    const fq_value *b = fq_node_input(rw->graph, node, 1);
    if (!fq_shape_equal(&a->shape, &b->shape))
        return "inputs differ in shape";
    if (rw->twin[node->inputs[0]] < 0 && rw->twin[node->inputs[1]] < 0)
        return "neither input is quantized";
    return NULL;
}

static const char *pool_refusal(const rewrite *rw, const fq_node *node)
{
    if (node->n_inputs != 1 || !all_inputs_activations(rw, node))
        return "input is not an f32 activation";
    if (fq_node_input(rw->graph, node, 0)->shape.rank != 4)
        return "only 2-D pooling is quantized";
    return NULL;
}

/* Whether value is read by a Sigmoid, directly or through movement ops (a detector's score
 * head: Conv, Transpose, Reshape, Sigmoid). */
static bool reaches_sigmoid(const fq_graph *graph, int value, int depth)
{
    for (int n = 0; n < graph->n_nodes && depth < 8; n++) {
        const fq_node *node = &graph->nodes[n];
        if (node->dead || node->n_inputs < 1 || node->inputs[0] != value)
            continue;
        if (strcmp(node->op_type, "Sigmoid") == 0)
            return true;
        if (is_passthrough_op(node->op_type) && node->n_outputs == 1 &&
            reaches_sigmoid(graph, node->outputs[0], depth + 1))
            return true;
    }
    return false;
}

/* A Conv output that reaches a Sigmoid stays float when its clipping range cuts off values
 * the calibration saw at a point where the Sigmoid is still below SIGMOID_CLIP_LIMIT: the
 * highest scores would all come out as that one value. */
#define SIGMOID_CLIP_LIMIT 0.99

static const char *sigmoid_clip_refusal(const rewrite *rw, int n, char *buf, size_t size)
{
    int y = rw->graph->nodes[n].outputs[0];
    int s = fq_calib_stats_find(rw->options->stats, rw->graph->values[y].name);
    if (s < 0 || !reaches_sigmoid(rw->graph, y, 0))
        return NULL;
    const fq_value_stats *vs = &rw->options->stats->values[s];
    double percentile = rw->options->percentile > 0 ? rw->options->percentile
                                                    : FQ_CALIB_DEFAULT_PERCENTILE;
    fq_calib_range range;
    if (fq_value_stats_range(vs, rw->options->method, percentile, &range, NULL) != FQ_OK)
        return NULL;
    double score = 1.0 / (1.0 + exp(-range.hi));
    if (range.hi >= vs->max || score >= SIGMOID_CLIP_LIMIT)
        return NULL;
    snprintf(buf, size, "feeds a Sigmoid that its %s range clips at %.3f (score %.3f)",
             fq_calib_method_name(rw->options->method), range.hi, score);
    return buf;
}

static node_form choose_form(const rewrite *rw, int n, const char **reason, char *buf,
                             size_t size)
{
    const fq_node *node = &rw->graph->nodes[n];
    const char *op = node->op_type;
    *reason = NULL;
    if (fq_quant_keep_float(rw->options, node->name)) {
        *reason = "kept float by request";
        return FORM_FLOAT;
    }
    if (strcmp(op, "Conv") == 0) {
        *reason = conv_refusal(rw, n, buf, size);
        if (*reason == NULL)
            *reason = sigmoid_clip_refusal(rw, n, buf, size);
        if (*reason != NULL)
            return FORM_FLOAT;
        if (rw->options->bias_correction && conv_is_depthwise(rw->graph, node) &&
            input_means(rw, node) == NULL)
            *reason = "int8; bias correction skipped: the statistics hold no per-channel "
                      "means of its input";
        return FORM_QLINEAR_CONV;
    }
    if (strcmp(op, "Add") == 0) {
        *reason = add_refusal(rw, node);
        return *reason == NULL ? FORM_QLINEAR_ADD : FORM_FLOAT;
    }
    if (strcmp(op, "AveragePool") == 0 || strcmp(op, "GlobalAveragePool") == 0) {
        *reason = pool_refusal(rw, node);
        if (*reason != NULL)
            return FORM_FLOAT;
        return op[0] == 'A' ? FORM_QLINEAR_AVERAGE_POOL : FORM_QLINEAR_GLOBAL_AVERAGE_POOL;
    }
    if (strcmp(op, "Concat") == 0) {
        *reason = all_inputs_activations(rw, node) ? NULL : "an input is not an f32 activation";
        return *reason == NULL ? FORM_CONCAT : FORM_FLOAT;
    }
    if (is_passthrough_op(op)) {
        *reason = passthrough_refusal(rw, node);
        return *reason == NULL ? FORM_PASSTHROUGH : FORM_FLOAT;
    }
    snprintf(buf, size, "no int8 form for %s", op);
    *reason = buf;
    return FORM_FLOAT;
}

static fq_status apply_form(rewrite *rw, int n, node_form form, fq_error *err)
{
    switch (form) {
    case FORM_QLINEAR_CONV:
        return rewrite_conv(rw, n, err);
    case FORM_QLINEAR_ADD:
        return rewrite_qlinear(rw, n, "QLinearAdd", 2, err);
    case FORM_QLINEAR_AVERAGE_POOL:
        return rewrite_qlinear(rw, n, "QLinearAveragePool", 1, err);
    case FORM_QLINEAR_GLOBAL_AVERAGE_POOL:
        return rewrite_qlinear(rw, n, "QLinearGlobalAveragePool", 1, err);
    case FORM_PASSTHROUGH:
        return rewrite_passthrough(rw, n, err);
    case FORM_CONCAT:
        return rewrite_concat(rw, n, err);
    default:
        break;
    }
    const fq_node *node = &rw->graph->nodes[n];
    for (int i = 0; i < node->n_inputs; i++) {
        fq_status status = need_float(rw, rw->graph->nodes[n].inputs[i], err);
        if (status != FQ_OK)
            return status;
        node = &rw->graph->nodes[n];
    }
    return FQ_OK;
}

/* Concat inputs produced by a node that writes its own output parameters are given the Concat
 * output's parameters in advance, so no requantization is needed for them. */
static fq_status force_concat_params(rewrite *rw, fq_error *err)
{
    for (int n = 0; n < rw->graph->n_nodes; n++) {
        const fq_node *node = &rw->graph->nodes[n];
        if (node->dead || strcmp(node->op_type, "Concat") != 0 ||
            fq_quant_keep_float(rw->options, node->name) || !all_inputs_activations(rw, node))
            continue;
        u8_params p;
        fq_status status = stats_params(rw, node->outputs[0], &p, err);
        if (status != FQ_OK)
            return status;
        for (int i = 0; i < node->n_inputs; i++) {
            int v = node->inputs[i];
            if (!rw->has_forced[v] && !rw->graph->values[v].is_output) {
                rw->has_forced[v] = true;
                rw->forced[v] = p;
            }
        }
    }
    return FQ_OK;
}

static fq_status rewrite_nodes(rewrite *rw, fq_error *err)
{
    int n_nodes = rw->graph->n_nodes;
    for (int n = 0; n < n_nodes; n++) {
        if (rw->graph->nodes[n].dead)
            continue;
        char buf[128];
        const char *reason = NULL;
        node_form form = choose_form(rw, n, &reason, buf, sizeof(buf));
        /* The name string stays put when the node list grows. */
        const char *name = rw->graph->nodes[n].name;
        fq_status status = apply_form(rw, n, form, err);
        if (status == FQ_OK)
            status = fq_quant_report_set(rw->report, name,
                                         form == FORM_FLOAT ? FQ_DTYPE_F32 : FQ_DTYPE_I8,
                                         reason, err);
        if (status != FQ_OK)
            return status;
    }
    for (int i = 0; i < rw->graph->n_outputs; i++) {
        fq_status status = need_float(rw, rw->graph->outputs[i], err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* ---- restoring topological order ---- */

typedef struct topo {
    const fq_graph *graph;
    int *producer;      /* per value: its node, or -1 */
    unsigned char *mark; /* per node: 0 new, 1 in progress, 2 placed */
    int *order;
    int placed;
} topo;

static fq_status topo_visit(topo *t, int n, int depth, fq_error *err)
{
    if (t->mark[n] == 2)
        return FQ_OK;
    if (t->mark[n] == 1 || depth > t->graph->n_nodes)
        return fq_error_set(err, FQ_ERR_INTERNAL, "quantize: node '%s' is on a cycle",
                            t->graph->nodes[n].name);
    t->mark[n] = 1;
    const fq_node *node = &t->graph->nodes[n];
    for (int i = 0; i < node->n_inputs; i++) {
        int v = node->inputs[i];
        if (v < 0 || t->producer[v] < 0)
            continue;
        fq_status status = topo_visit(t, t->producer[v], depth + 1, err);
        if (status != FQ_OK)
            return status;
    }
    t->mark[n] = 2;
    t->order[t->placed++] = n;
    return FQ_OK;
}

fq_status fq_quant_sort_nodes(fq_graph *graph, fq_error *err)
{
    int n_nodes = graph->n_nodes;
    topo t = {graph, fq_malloc(((size_t)graph->n_values + 1) * sizeof(int)),
              fq_calloc((size_t)n_nodes + 1, 1), fq_malloc(((size_t)n_nodes + 1) * sizeof(int)),
              0};
    fq_node *sorted = fq_malloc(((size_t)n_nodes + 1) * sizeof(fq_node));
    fq_status status = FQ_OK;
    if (t.producer == NULL || t.mark == NULL || t.order == NULL || sorted == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for sorting");
    for (int v = 0; status == FQ_OK && v < graph->n_values; v++)
        t.producer[v] = -1;
    for (int n = 0; status == FQ_OK && n < n_nodes; n++)
        for (int o = 0; o < graph->nodes[n].n_outputs; o++)
            if (graph->nodes[n].outputs[o] >= 0 && !graph->nodes[n].dead)
                t.producer[graph->nodes[n].outputs[o]] = n;
    for (int n = 0; status == FQ_OK && n < n_nodes; n++)
        status = topo_visit(&t, n, 0, err);

    if (status == FQ_OK) {
        for (int i = 0; i < n_nodes; i++)
            sorted[i] = graph->nodes[t.order[i]];
        memcpy(graph->nodes, sorted, (size_t)n_nodes * sizeof(fq_node));
    }
    fq_free(sorted);
    fq_free(t.producer);
    fq_free(t.mark);
    fq_free(t.order);
    return status;
}

void fq_quant_bind_known_ops(fq_graph *graph)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        fq_node *node = &graph->nodes[n];
        int op = fq_op_find(node->op_type);
        const fq_op_info *info = fq_op_get(op);
        bool in_range = info != NULL && graph->opset >= info->min_opset &&
                        graph->opset <= info->max_opset;
        node->op = in_range ? op : -1;
    }
}

int fq_quant_sole_reader(const fq_graph *graph, int value)
{
    if (graph->values[value].is_output || fq_graph_use_count(graph, value) != 1)
        return -1;
    for (int n = 0; n < graph->n_nodes; n++)
        for (int i = 0; i < graph->nodes[n].n_inputs && !graph->nodes[n].dead; i++)
            if (graph->nodes[n].inputs[i] == value)
                return n;
    return -1;
}

/* Add -> Relu (the residual blocks of det_2.5g): the Relu becomes the Add's fused activation,
 * which QLinearAdd applies as its output clamp, so the block stays in int8 instead of leaving
 * for a float Relu. The Add writes the Relu's output value, whose statistics are the ones the
 * fused output needs. An Add that stays float gets its Relu back (unfuse_float_add_relu). */
static fq_status fuse_add_relu(fq_graph *graph, fq_quantize_report *report, fq_error *err)
{
    fq_status status = FQ_OK;
    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++) {
        fq_node *add = &graph->nodes[n];
        if (add->dead || strcmp(add->op_type, "Add") != 0 || add->act.kind != FQ_ACT_NONE ||
            add->n_outputs != 1)
            continue;
        int r = fq_quant_sole_reader(graph, add->outputs[0]);
        if (r < 0 || strcmp(graph->nodes[r].op_type, "Relu") != 0)
            continue;
        fq_node *relu = &graph->nodes[r];
        add->act.kind = FQ_ACT_RELU;
        add->outputs[0] = relu->outputs[0];
        relu->dead = true;
        char reason[300];
        snprintf(reason, sizeof(reason), "fused into %s", add->name);
        status = fq_quant_report_set(report, relu->name, FQ_DTYPE_I8, reason, err);
    }
    return status;
}

/* A float Add cannot apply a fused activation: its Relu comes back as a node of its own. */
static fq_status unfuse_float_add_relu(fq_graph *graph, fq_error *err)
{
    fq_status status = FQ_OK;
    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++) {
        fq_node *add = &graph->nodes[n];
        if (add->dead || strcmp(add->op_type, "Add") != 0 || add->act.kind != FQ_ACT_RELU)
            continue;
        int y = add->outputs[0], pre = -1;
        char name[300];
        snprintf(name, sizeof(name), "%s_preact", graph->values[y].name);
        fq_shape shape = graph->values[y].shape;
        status = fq_graph_add_value(graph, name, FQ_DTYPE_F32, &shape, &pre, err);
        if (status != FQ_OK)
            break;
        add = &graph->nodes[n];
        add->act.kind = FQ_ACT_NONE;
        add->outputs[0] = pre;
        snprintf(name, sizeof(name), "%s_relu", add->name);
        status = fq_graph_add_node(graph, name, "Relu", &pre, 1, &y, 1, NULL, err);
    }
    return status;
}

/* A private copy of the statistics for equalization to scale (NULL when it does not apply). */
static fq_status equalize(fq_graph *graph, fq_quantize_options *options,
                          fq_quantize_report *report, fq_calib_stats **copy, fq_error *err)
{
    *copy = NULL;
    if (!options->equalize || options->stats == NULL)
        return FQ_OK;
    void *data = NULL;
    size_t size = 0;
    fq_status status = fq_calib_stats_serialize(options->stats, &data, &size, err);
    if (status == FQ_OK)
        status = fq_calib_stats_deserialize(data, size, copy, err);
    fq_free(data);
    int pairs = 0;
    if (status == FQ_OK)
        status = fq_quant_equalize_depthwise(graph, options, *copy, &pairs, err);
    report->equalized = pairs;
    options->stats = *copy;
    return status;
}

fq_status fq_quantize_static_impl(fq_graph *graph, const fq_quantize_options *given,
                                  fq_quantize_report *report, fq_error *err)
{
    rewrite rw;
    memset(&rw, 0, sizeof(rw)); /* rewrite_free runs whether or not rewrite_init did */
    fq_quantize_options local = *given;
    const fq_quantize_options *options = &local;
    fq_calib_stats *equalized = NULL;
    fq_status status = equalize(graph, &local, report, &equalized, err);
    if (status == FQ_OK)
        status = fuse_add_relu(graph, report, err);
    if (status == FQ_OK)
        status = fq_graph_compact(graph, err);
    if (status == FQ_OK)
        status = rewrite_init(&rw, graph, options, report, err);
    if (status == FQ_OK)
        status = track_values(&rw, err);
    if (status == FQ_OK)
        status = force_concat_params(&rw, err);
    if (status == FQ_OK)
        status = rewrite_nodes(&rw, err);
    rewrite_free(&rw);
    fq_calib_stats_free(equalized);
    if (status == FQ_OK)
        status = unfuse_float_add_relu(graph, err);
    if (status == FQ_OK)
        status = fq_quant_sort_nodes(graph, err);
    if (status == FQ_OK)
        status = fq_graph_compact(graph, err);
    if (status != FQ_OK)
        return status;
    fq_quant_bind_known_ops(graph);
    if (options->channels_last)
        status = fq_pass_channels_last(graph, err);
    return status;
}
