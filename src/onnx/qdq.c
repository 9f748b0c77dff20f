/* QDQ ONNX models: export of facequant's quantized IR as a standard QDQ float graph, and import
 * of QDQ models made by other tools onto facequant's int8 operators (docs/QUANTIZATION.md).
 *
 * Both directions are pattern rewrites on the IR. A rewritten node keeps its place in the node
 * list whenever possible, so topological order holds without re-sorting; the export, which adds
 * nodes around each quantized node, gives every node a sort key (original position, step) and
 * orders the list by it at the end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/onnx.h"
#include "facequant/ops.h"
#include "quant/quantize_internal.h"

/* ---- Shared helpers ---------------------------------------------------------------------- */

static bool op_is(const fq_node *node, const char *op)
{
    return !node->dead && strcmp(node->op_type, op) == 0;
}

static const fq_value *constant_at(const fq_graph *g, int value)
{
    if (value < 0 || value >= g->n_values || !fq_value_is_constant(&g->values[value]))
        return NULL;
    return &g->values[value];
}

static int64_t numel_of(const fq_value *v)
{
    return v != NULL ? fq_shape_numel(&v->shape) : -1;
}

/* Zero point element i of a u8/i8/i32 constant, 0 for an absent one. */
static int32_t zero_point_at(const fq_value *zp, int64_t i)
{
    if (zp == NULL || zp->data == NULL)
        return 0;
    int64_t n = numel_of(zp);
    int64_t k = n > 1 ? i : 0;
    switch (zp->dtype) {
    case FQ_DTYPE_U8: return ((const uint8_t *)zp->data)[k];
    case FQ_DTYPE_I8: return ((const int8_t *)zp->data)[k];
    case FQ_DTYPE_I32: return ((const int32_t *)zp->data)[k];
    default: return 0;
    }
}

static float scale_at(const fq_value *scale, int64_t i)
{
    return ((const float *)scale->data)[numel_of(scale) > 1 ? i : 0];
}

static fq_status replace_op_type(fq_node *node, const char *op, fq_error *err)
{
    char *copy = fq_strdup(op);
    if (copy == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot copy op type %s",
                            node->name, op);
    fq_free(node->op_type);
    node->op_type = copy;
    node->op = fq_op_find(op);
    return FQ_OK;
}

/* Sets the inputs of node to a copy of inputs. */
static fq_status set_inputs(fq_node *node, const int *inputs, int n, fq_error *err)
{
    int *copy = fq_malloc((size_t)n * sizeof(int));
    if (copy == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot allocate %d inputs",
                            node->name, n);
    memcpy(copy, inputs, (size_t)n * sizeof(int));
    fq_free(node->inputs);
    node->inputs = copy;
    node->n_inputs = n;
    return FQ_OK;
}

static void attr_release(fq_attr *attr)
{
    fq_free(attr->name);
    fq_free(attr->s);
    fq_free(attr->ints);
    fq_free(attr->floats);
    for (int i = 0; attr->strings != NULL && i < attr->count; i++)
        fq_free(attr->strings[i]);
    fq_free(attr->strings);
}

static void remove_attr(fq_node *node, const char *name)
{
    for (int a = 0; a < node->n_attrs; a++) {
        if (strcmp(node->attrs[a].name, name) != 0)
            continue;
        attr_release(&node->attrs[a]);
        memmove(&node->attrs[a], &node->attrs[a + 1],
                (size_t)(node->n_attrs - a - 1) * sizeof(fq_attr));
        node->n_attrs--;
        return;
    }
}

/* ---- Import: matching ------------------------------------------------------------------- */

/* A live DequantizeLinear or QuantizeLinear node and its parameters. */
typedef struct qparams {
    int node;
    int x;              /* the node's data input */
    int scale;
    int zero_point;     /* -1 when omitted */
    fq_dtype qtype;     /* the integer type: of the zero point, else of x */
    bool per_tensor;
} qparams;

static bool read_qparams(const fq_graph *g, int n, qparams *q)
{
    const fq_node *node = &g->nodes[n];
    if (node->n_inputs < 2 || node->n_outputs != 1)
        return false;
    const fq_value *scale = constant_at(g, node->inputs[1]);
    int zp_index = node->n_inputs >= 3 ? node->inputs[2] : -1;
    const fq_value *zp = constant_at(g, zp_index);
    if (scale == NULL || scale->dtype != FQ_DTYPE_F32 || numel_of(scale) < 1 ||
        (zp_index >= 0 && zp == NULL))
        return false;

    q->node = n;
    q->x = node->inputs[0];
    q->scale = node->inputs[1];
    q->zero_point = zp_index;
    q->qtype = zp != NULL ? zp->dtype : FQ_DTYPE_UNDEFINED;
    if (q->qtype == FQ_DTYPE_UNDEFINED && q->x >= 0)
        q->qtype = g->values[q->x].dtype;
    q->per_tensor = numel_of(scale) == 1 && (zp == NULL || numel_of(zp) == 1);
    return true;
}

/* The DequantizeLinear producing value, if any. */
static bool match_dq(const fq_graph *g, int value, qparams *q)
{
    int p = value >= 0 ? fq_graph_producer(g, value) : -1;
    return p >= 0 && op_is(&g->nodes[p], "DequantizeLinear") && read_qparams(g, p, q);
}

/* A per-tensor uint8 activation behind a DequantizeLinear. */
static bool match_u8_dq(const fq_graph *g, int value, qparams *q)
{
    return match_dq(g, value, q) && q->per_tensor && q->qtype == FQ_DTYPE_U8;
}

static bool same_params(const fq_graph *g, const qparams *a, const qparams *b)
{
    if (!a->per_tensor || !b->per_tensor || a->qtype != b->qtype)
        return false;
    float sa = scale_at(&g->values[a->scale], 0);
    float sb = scale_at(&g->values[b->scale], 0);
    return memcmp(&sa, &sb, sizeof(float)) == 0 &&
           zero_point_at(constant_at(g, a->zero_point), 0) ==
               zero_point_at(constant_at(g, b->zero_point), 0);
}

/* Value used by exactly one live node and not a graph output. */
static bool single_use(const fq_graph *g, int value)
{
    return value >= 0 && !g->values[value].is_output && fq_graph_use_count(g, value) == 1;
}

/* Reads an explicit Relu or Clip (constant bounds) into act. */
static bool match_act_node(const fq_graph *g, const fq_node *node, fq_activation *act)
{
    if (op_is(node, "Relu")) {
        *act = (fq_activation){.kind = FQ_ACT_RELU};
        return true;
    }
    if (!op_is(node, "Clip"))
        return false;
    act->kind = FQ_ACT_CLIP;
    act->alpha = fq_node_attr_float(node, "min", -INFINITY);
    act->beta = fq_node_attr_float(node, "max", INFINITY);
    for (int i = 1; i < node->n_inputs && i < 3; i++) {
        if (node->inputs[i] < 0)
            continue;
        const fq_value *bound = constant_at(g, node->inputs[i]);
        if (bound == NULL || bound->dtype != FQ_DTYPE_F32 || numel_of(bound) != 1)
            return false;
        *(i == 1 ? &act->alpha : &act->beta) = ((const float *)bound->data)[0];
    }
    return true;
}

/* The node feeding a QuantizeLinear, looking through one explicit Relu/Clip: *core is the
 * node that computes, *act_node the activation node or -1, act what it does. */
static bool match_core(const fq_graph *g, int q_input, int *core, int *act_node,
                       fq_activation *act)
{
    *act_node = -1;
    *act = (fq_activation){.kind = FQ_ACT_NONE};
    if (!single_use(g, q_input))
        return false;
    int p = fq_graph_producer(g, q_input);
    if (p < 0 || g->nodes[p].dead)
        return false;
    if (match_act_node(g, &g->nodes[p], act)) {
        int pre = g->nodes[p].inputs[0];
        if (!single_use(g, pre))
            return false;
        *act_node = p;
        p = fq_graph_producer(g, pre);
        if (p < 0 || g->nodes[p].dead || g->nodes[p].act.kind != FQ_ACT_NONE)
            return false;
    }
    if (g->nodes[p].n_outputs != 1)
        return false;
    *core = p;
    return true;
}

/* ---- Import: rewrites ------------------------------------------------------------------- */

/* The zero point input to use: the given one, or a new scalar zero of dtype. */
static fq_status zero_point_or_new(fq_graph *g, int zp, fq_dtype dtype, const char *base,
                                   int *out, fq_error *err)
{
    if (zp >= 0) {
        *out = zp;
        return FQ_OK;
    }
    fq_shape scalar = {0};
    const int32_t zero = 0;
    return fq_quant_add_constant(g, base, dtype, &scalar, &zero, out, err);
}

static int32_t saturate_i32(double v)
{
    if (v >= 2147483647.0)
        return INT32_MAX;
    if (v <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)v;
}

/* int32 bias of QLinearConv (scale x_scale * w_scale[j], zero point 0) from a float bias. */
static void bias_from_float(const float *b, int64_t m, float xs, const fq_value *ws,
                            int32_t *q)
{
    for (int64_t j = 0; j < m; j++)
        q[j] = saturate_i32(rint((double)b[j] / ((double)xs * scale_at(ws, j))));
}

/* The float bias behind a Conv's third input: a constant, or a DequantizeLinear of one. */
static bool bias_values(const fq_graph *g, int value, int64_t m, float *b)
{
    const fq_value *c = constant_at(g, value);
    if (c != NULL && c->dtype == FQ_DTYPE_F32 && numel_of(c) == m) {
        memcpy(b, c->data, (size_t)m * sizeof(float));
        return true;
    }
    qparams dq;
    if (!match_dq(g, value, &dq))
        return false;
    c = constant_at(g, dq.x);
    const fq_value *scale = &g->values[dq.scale];
    const fq_value *zp = constant_at(g, dq.zero_point);
    if (c == NULL || c->dtype != FQ_DTYPE_I32 || numel_of(c) != m ||
        (numel_of(scale) != 1 && numel_of(scale) != m))
        return false;
    for (int64_t j = 0; j < m; j++)
        b[j] = scale_at(scale, j) *
               (float)(((const int32_t *)c->data)[j] - zero_point_at(zp, j));
    return true;
}

typedef struct conv_match {
    int conv;
    int act_node;
    fq_activation act;
    qparams x, w, y;
    bool w_float;       /* the weights are already float (fq_passes_run folded their DQ) */
    int64_t m;          /* output channels */
} conv_match;

/* Float weights folded from a symmetric per-channel DequantizeLinear: recovers q and the
 * scales (scale_j = max |W_j| / 127) and checks that q * scale_j gives back every weight bit
 * for bit; false, with nothing added, when it does not. */
static bool recover_int8_weights(const fq_value *w, int64_t m, int8_t *q, float *scale)
{
    int64_t per_channel = fq_shape_numel(&w->shape) / m;
    const float *f = w->data;
    for (int64_t j = 0; j < m; j++) {
        const float *row = f + j * per_channel;
        float amax = 0;
        for (int64_t i = 0; i < per_channel; i++)
            amax = fmaxf(amax, fabsf(row[i]));
        scale[j] = amax > 0 ? amax / 127.0f : 1.0f;
        for (int64_t i = 0; i < per_channel; i++) {
            float r = rintf(row[i] / scale[j]);
            if (!(r >= -127.0f && r <= 127.0f) || r * scale[j] != row[i])
                return false;
            q[j * per_channel + i] = (int8_t)r;
        }
    }
    return true;
}

/* Adds the recovered weights and scales as constants and points cm->w at them. */
static fq_status add_recovered_weights(fq_graph *g, conv_match *cm, bool *exact, fq_error *err)
{
    const fq_node *conv = &g->nodes[cm->conv];
    const fq_value *w = &g->values[conv->inputs[1]];
    int64_t numel = fq_shape_numel(&w->shape);
    int8_t *q = fq_malloc((size_t)numel + 1);
    float *scale = fq_malloc((size_t)cm->m * sizeof(float));
    fq_status status = FQ_OK;
    if (q == NULL || scale == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot allocate the weights",
                              conv->name);
    *exact = status == FQ_OK && recover_int8_weights(w, cm->m, q, scale);

    char base[FQ_ERROR_MESSAGE_SIZE];
    snprintf(base, sizeof(base), "%s_w_i8", conv->name);
    fq_shape w_shape = w->shape, s_shape = {.rank = 1, .dims = {cm->m}};
    if (*exact)
        status = fq_quant_add_constant(g, base, FQ_DTYPE_I8, &w_shape, q, &cm->w.x, err);
    snprintf(base, sizeof(base), "%s_w_scale", g->nodes[cm->conv].name);
    if (*exact && status == FQ_OK)
        status = fq_quant_add_constant(g, base, FQ_DTYPE_F32, &s_shape, scale, &cm->w.scale,
                                       err);
    cm->w.zero_point = -1;
    fq_free(q);
    fq_free(scale);
    return status;
}

static bool match_weight(const fq_graph *g, const fq_node *conv, conv_match *cm)
{
    const fq_value *folded = constant_at(g, conv->inputs[1]);
    cm->w_float = folded != NULL && folded->dtype == FQ_DTYPE_F32 && folded->shape.rank >= 3 &&
                  folded->shape.dims[0] > 0 && folded->data != NULL;
    if (cm->w_float) {
        cm->m = folded->shape.dims[0];
        return true;
    }
    if (!match_dq(g, conv->inputs[1], &cm->w))
        return false;
    const fq_value *w = constant_at(g, cm->w.x);
    if (w == NULL || w->dtype != FQ_DTYPE_I8 || w->shape.rank < 3 || w->data == NULL)
        return false;
    cm->m = w->shape.dims[0];
    if (cm->m <= 0)
        return false;
    int64_t n_scales = numel_of(&g->values[cm->w.scale]);
    const fq_value *zp = constant_at(g, cm->w.zero_point);
    if (n_scales == 1)
        return zp == NULL || numel_of(zp) == 1;
    const fq_node *dq = &g->nodes[cm->w.node];
    return n_scales == cm->m && fq_node_attr_int(dq, "axis", 1) == 0 &&
           (zp == NULL || numel_of(zp) == cm->m);
}

static bool match_conv(const fq_graph *g, int q, conv_match *cm)
{
    if (!read_qparams(g, q, &cm->y) || !cm->y.per_tensor)
        return false;
    if (cm->y.qtype != FQ_DTYPE_U8 && !(cm->y.qtype == FQ_DTYPE_UNDEFINED &&
                                         cm->y.zero_point < 0))
        return false;
    if (!match_core(g, cm->y.x, &cm->conv, &cm->act_node, &cm->act))
        return false;
    const fq_node *conv = &g->nodes[cm->conv];
    if (!op_is(conv, "Conv") || conv->n_inputs < 2 || conv->n_inputs > 3)
        return false;
    if (cm->act_node < 0)
        cm->act = conv->act;
    if (cm->act.kind != FQ_ACT_NONE && cm->act.kind != FQ_ACT_RELU &&
        cm->act.kind != FQ_ACT_CLIP)
        return false;
    return match_u8_dq(g, conv->inputs[0], &cm->x) && match_weight(g, conv, cm);
}

static fq_status conv_bias(fq_graph *g, const conv_match *cm, int *bias, fq_error *err)
{
    *bias = -1;
    const fq_node *conv = &g->nodes[cm->conv];
    if (conv->n_inputs < 3 || conv->inputs[2] < 0)
        return FQ_OK;
    float *b = fq_malloc((size_t)cm->m * sizeof(float));
    int32_t *q = fq_malloc((size_t)cm->m * sizeof(int32_t));
    fq_status status = FQ_OK;
    if (b == NULL || q == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot allocate the bias",
                              conv->name);
    else if (!bias_values(g, conv->inputs[2], cm->m, b))
        status = fq_error_set(err, FQ_ERR_UNSUPPORTED, "node '%s' (Conv): bias is neither a "
                              "constant nor a DequantizeLinear of one", conv->name);
    if (status == FQ_OK) {
        float xs = scale_at(&g->values[cm->x.scale], 0);
        bias_from_float(b, cm->m, xs, &g->values[cm->w.scale], q);
        char base[FQ_ERROR_MESSAGE_SIZE];
        snprintf(base, sizeof(base), "%s_bias_i32", conv->name);
        fq_shape shape = {.rank = 1, .dims = {cm->m}};
        status = fq_quant_add_constant(g, base, FQ_DTYPE_I32, &shape, q, bias, err);
    }
    fq_free(b);
    fq_free(q);
    return status;
}

/* Whether a matched Conv's bias can be read as float: checked before anything changes. */
static bool conv_bias_usable(const fq_graph *g, const conv_match *cm)
{
    const fq_node *conv = &g->nodes[cm->conv];
    if (conv->n_inputs < 3 || conv->inputs[2] < 0)
        return true;
    float *b = fq_malloc((size_t)cm->m * sizeof(float) + 1);
    bool usable = b != NULL && bias_values(g, conv->inputs[2], cm->m, b);
    fq_free(b);
    return usable;
}

static fq_status rewrite_conv(fq_graph *g, const conv_match *cm, fq_error *err)
{
    char base[FQ_ERROR_MESSAGE_SIZE];
    snprintf(base, sizeof(base), "%s_zp", g->nodes[cm->conv].name);
    int x_zp, w_zp, y_zp, bias;
    fq_status status = zero_point_or_new(g, cm->x.zero_point, FQ_DTYPE_U8, base, &x_zp, err);
    if (status == FQ_OK)
        status = zero_point_or_new(g, cm->w.zero_point, FQ_DTYPE_I8, base, &w_zp, err);
    if (status == FQ_OK)
        status = zero_point_or_new(g, cm->y.zero_point, FQ_DTYPE_U8, base, &y_zp, err);
    if (status == FQ_OK)
        status = conv_bias(g, cm, &bias, err);
    if (status != FQ_OK)
        return status;

    int inputs[9] = {cm->x.x, cm->x.scale, x_zp, cm->w.x, cm->w.scale, w_zp, cm->y.scale, y_zp,
                     bias};
    fq_node *conv = &g->nodes[cm->conv];
    status = set_inputs(conv, inputs, bias >= 0 ? 9 : 8, err);
    if (status == FQ_OK)
        status = replace_op_type(conv, "QLinearConv", err);
    if (status != FQ_OK)
        return status;
    conv->outputs[0] = g->nodes[cm->y.node].outputs[0];
    conv->act = cm->act;
    g->nodes[cm->y.node].dead = true;
    if (cm->act_node >= 0)
        g->nodes[cm->act_node].dead = true;
    return FQ_OK;
}

static fq_status try_fuse_conv(fq_graph *g, int q, bool *done, fq_error *err)
{
    conv_match cm;
    if (!match_conv(g, q, &cm) || !conv_bias_usable(g, &cm))
        return FQ_OK;
    if (cm.w_float) {
        bool exact = false;
        fq_status status = add_recovered_weights(g, &cm, &exact, err);
        if (status != FQ_OK || !exact)
            return status;
    }
    *done = true;
    return rewrite_conv(g, &cm, err);
}

/* DQ(a), DQ(b) -> Add [-> Relu] -> Q  =>  QLinearAdd. */
static fq_status try_fuse_add(fq_graph *g, int q, bool *done, fq_error *err)
{
    qparams y, a, b;
    int core, act_node;
    fq_activation act;
    if (!read_qparams(g, q, &y) || !y.per_tensor || !match_core(g, y.x, &core, &act_node, &act))
        return FQ_OK;
    fq_node *add = &g->nodes[core];
    if (!op_is(add, "Add") || add->n_inputs != 2 || (act_node >= 0 && act.kind != FQ_ACT_RELU) ||
        add->act.kind != FQ_ACT_NONE || (y.qtype != FQ_DTYPE_U8 && y.zero_point >= 0))
        return FQ_OK;
    if (!match_u8_dq(g, add->inputs[0], &a) || !match_u8_dq(g, add->inputs[1], &b))
        return FQ_OK;

    *done = true;
    char base[FQ_ERROR_MESSAGE_SIZE];
    snprintf(base, sizeof(base), "%s_zp", add->name);
    int a_zp, b_zp, y_zp;
    fq_status status = zero_point_or_new(g, a.zero_point, FQ_DTYPE_U8, base, &a_zp, err);
    if (status == FQ_OK)
        status = zero_point_or_new(g, b.zero_point, FQ_DTYPE_U8, base, &b_zp, err);
    if (status == FQ_OK)
        status = zero_point_or_new(g, y.zero_point, FQ_DTYPE_U8, base, &y_zp, err);
    int inputs[8] = {a.x, a.scale, a_zp, b.x, b.scale, b_zp, y.scale, y_zp};
    add = &g->nodes[core];
    if (status == FQ_OK)
        status = set_inputs(add, inputs, 8, err);
    if (status == FQ_OK)
        status = replace_op_type(add, "QLinearAdd", err);
    if (status != FQ_OK)
        return status;
    add->outputs[0] = g->nodes[q].outputs[0];
    add->act = act;
    g->nodes[q].dead = true;
    if (act_node >= 0)
        g->nodes[act_node].dead = true;
    return FQ_OK;
}

/* DQ -> MaxPool -> Q with equal parameters  =>  uint8 MaxPool; DQ -> AveragePool /
 * GlobalAveragePool -> Q  =>  QLinearAveragePool / QLinearGlobalAveragePool. */
static fq_status try_fuse_pool(fq_graph *g, int q, bool *done, fq_error *err)
{
    qparams y, x;
    if (!read_qparams(g, q, &y) || !y.per_tensor || !single_use(g, y.x))
        return FQ_OK;
    int p = fq_graph_producer(g, y.x);
    if (p < 0 || g->nodes[p].n_outputs != 1 || g->nodes[p].act.kind != FQ_ACT_NONE ||
        g->nodes[p].n_inputs != 1 || !match_u8_dq(g, g->nodes[p].inputs[0], &x))
        return FQ_OK;
    fq_node *pool = &g->nodes[p];
    bool max = op_is(pool, "MaxPool");
    const char *fused = max ? "MaxPool" : op_is(pool, "AveragePool") ? "QLinearAveragePool"
                      : op_is(pool, "GlobalAveragePool") ? "QLinearGlobalAveragePool" : NULL;
    if (fused == NULL || (max && !same_params(g, &x, &y)) ||
        (!max && y.qtype != FQ_DTYPE_U8 && y.zero_point >= 0))
        return FQ_OK;

    *done = true;
    char base[FQ_ERROR_MESSAGE_SIZE];
    snprintf(base, sizeof(base), "%s_zp", pool->name);
    int x_zp, y_zp;
    fq_status status = zero_point_or_new(g, x.zero_point, FQ_DTYPE_U8, base, &x_zp, err);
    if (status == FQ_OK)
        status = zero_point_or_new(g, y.zero_point, FQ_DTYPE_U8, base, &y_zp, err);
    int inputs[5] = {x.x, x.scale, x_zp, y.scale, y_zp};
    pool = &g->nodes[p];
    if (status == FQ_OK)
        status = set_inputs(pool, inputs, max ? 1 : 5, err);
    if (status == FQ_OK)
        status = replace_op_type(pool, fused, err);
    if (status != FQ_OK)
        return status;
    pool->outputs[0] = g->nodes[q].outputs[0];
    g->nodes[q].dead = true;
    return FQ_OK;
}

/* Q(DQ(x)) with the same parameters gives back x exactly. */
static void fold_requantize(fq_graph *g, int q)
{
    qparams y, x;
    if (!read_qparams(g, q, &y) || !match_dq(g, y.x, &x) || !same_params(g, &x, &y))
        return;
    if (x.x < 0 || g->values[x.x].dtype != y.qtype)
        return;
    if (fq_graph_merge_values(g, x.x, g->nodes[q].outputs[0]))
        g->nodes[q].dead = true;
}

/* DequantizeLinear nodes whose output nobody reads any more. */
static void drop_unused_dq(fq_graph *g)
{
    for (int n = g->n_nodes - 1; n >= 0; n--) {
        fq_node *node = &g->nodes[n];
        if (op_is(node, "DequantizeLinear") && node->n_outputs == 1 &&
            !g->values[node->outputs[0]].is_output &&
            fq_graph_use_count(g, node->outputs[0]) == 0)
            node->dead = true;
    }
}

/* Sets the dtype of a value a fused node now writes, from its zero point. */
static void set_u8_outputs(fq_graph *g)
{
    for (int n = 0; n < g->n_nodes; n++) {
        fq_node *node = &g->nodes[n];
        bool quantized = op_is(node, "QLinearConv") || op_is(node, "QLinearAdd") ||
                         op_is(node, "QLinearAveragePool") ||
                         op_is(node, "QLinearGlobalAveragePool");
        if (quantized && node->n_outputs == 1)
            g->values[node->outputs[0]].dtype = FQ_DTYPE_U8;
    }
}

fq_status fq_pass_fuse_qdq(fq_graph *graph, fq_error *err)
{
    if (graph == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_pass_fuse_qdq: graph is NULL");
    fq_status status = FQ_OK;
    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++) {
        if (!op_is(&graph->nodes[n], "QuantizeLinear"))
            continue;
        bool done = false;
        status = try_fuse_conv(graph, n, &done, err);
        if (status == FQ_OK && !done)
            status = try_fuse_add(graph, n, &done, err);
        if (status == FQ_OK && !done)
            status = try_fuse_pool(graph, n, &done, err);
    }
    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++)
        if (op_is(&graph->nodes[n], "QuantizeLinear"))
            fold_requantize(graph, n);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "QDQ import");

    drop_unused_dq(graph);
    set_u8_outputs(graph);
    status = fq_graph_compact(graph, err);
    if (status == FQ_OK)
        status = fq_graph_validate(graph, err);
    return status;
}

/* ---- Export ------------------------------------------------------------------------------ */

/* Sort keys, one per node index: node n of the quantized graph becomes nodes with keys 4n
 * (DequantizeLinear of its inputs), 4n + 1 (the float op) and 4n + 2 (the QuantizeLinear of its
 * output). The original nodes' keys come first; added nodes push theirs as they are added. */
typedef struct exporter {
    fq_graph *g;
    int64_t *keys;
    int n_keys;
    int cap_keys;
} exporter;

static fq_status push_key(exporter *e, int64_t key, fq_error *err)
{
    if (e->n_keys == e->cap_keys) {
        int cap = e->cap_keys > 0 ? e->cap_keys * 2 : 64;
        int64_t *grown = fq_realloc(e->keys, (size_t)cap * sizeof(int64_t));
        if (grown == NULL)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "QDQ export: out of memory");
        e->keys = grown;
        e->cap_keys = cap;
    }
    e->keys[e->n_keys++] = key;
    return FQ_OK;
}

/* A name not yet used by any value, made from base and suffix. */
static void unique_name(const fq_graph *g, const char *base, const char *suffix, char *out,
                        size_t size)
{
    snprintf(out, size, "%s%s", base, suffix);
    for (int k = 1; fq_graph_find_value(g, out) >= 0; k++)
        snprintf(out, size, "%s%s_%d", base, suffix, k);
}

/* Adds a node with one new f32 output shaped like like_value; *out is the output value. */
static fq_status add_keyed_node(exporter *e, const char *op, const char *name, const int *inputs,
                                int n_inputs, int like_value, int64_t key, int *out,
                                fq_error *err)
{
    char value_name[FQ_ERROR_MESSAGE_SIZE];
    unique_name(e->g, e->g->values[like_value].name, "_f32", value_name, sizeof(value_name));
    fq_shape shape = e->g->values[like_value].shape;
    fq_status status = fq_graph_add_value(e->g, value_name, FQ_DTYPE_F32, &shape, out, err);
    int node;
    if (status == FQ_OK)
        status = fq_graph_add_node(e->g, name, op, inputs, n_inputs, out, 1, &node, err);
    if (status == FQ_OK)
        status = push_key(e, key, err);
    if (status == FQ_OK)
        e->g->nodes[node].op = fq_op_find(op);
    return status;
}

static fq_status set_axis0(exporter *e, fq_error *err)
{
    fq_attr *attr;
    fq_status status = fq_node_add_attr(e->g, e->g->n_nodes - 1, "axis", FQ_ATTR_INT, &attr,
                                        err);
    if (status == FQ_OK)
        attr->i = 0;
    return status;
}

/* DequantizeLinear(value, scale, zp) for node n; *out is the float value. */
static fq_status add_dq(exporter *e, int n, int value, int scale, int zp, bool axis0, int *out,
                        fq_error *err)
{
    char name[FQ_ERROR_MESSAGE_SIZE];
    snprintf(name, sizeof(name), "%s_dq_%s", e->g->nodes[n].name, e->g->values[value].name);
    int inputs[3] = {value, scale, zp};
    fq_status status = add_keyed_node(e, "DequantizeLinear", name, inputs, zp >= 0 ? 3 : 2,
                                      value, 4 * (int64_t)n, out, err);
    if (status == FQ_OK && axis0)
        status = set_axis0(e, err);
    return status;
}

/* QuantizeLinear of the float result of node n into its original output. */
static fq_status add_q(exporter *e, int n, int scale, int zp, fq_error *err)
{
    fq_node *node = &e->g->nodes[n];
    int y = node->outputs[0];
    int yf;
    char value_name[FQ_ERROR_MESSAGE_SIZE], name[FQ_ERROR_MESSAGE_SIZE];
    unique_name(e->g, e->g->values[y].name, "_f32", value_name, sizeof(value_name));
    snprintf(name, sizeof(name), "%s_q", node->name);
    fq_shape shape = e->g->values[y].shape;
    fq_status status = fq_graph_add_value(e->g, value_name, FQ_DTYPE_F32, &shape, &yf, err);
    int inputs[3] = {yf, scale, zp};
    int q;
    if (status == FQ_OK)
        status = fq_graph_add_node(e->g, name, "QuantizeLinear", inputs, 3, &y, 1, &q, err);
    if (status == FQ_OK)
        status = push_key(e, 4 * (int64_t)n + 2, err);
    if (status != FQ_OK)
        return status;
    e->g->nodes[q].op = fq_op_find("QuantizeLinear");
    e->g->nodes[n].outputs[0] = yf;
    return FQ_OK;
}

static fq_status require_constant(const fq_graph *g, const fq_node *node, int i,
                                  const char *what, fq_error *err)
{
    if (i < node->n_inputs && constant_at(g, node->inputs[i]) != NULL)
        return FQ_OK;
    return fq_error_set(err, FQ_ERR_UNSUPPORTED, "node '%s' (%s): %s must be a constant",
                        node->name, node->op_type, what);
}

/* Weight zero points for a per-channel DequantizeLinear: ONNX wants one per scale. */
static fq_status weight_zero_point(exporter *e, int n, int64_t m, int *zp, fq_error *err)
{
    const fq_node *node = &e->g->nodes[n];
    const fq_value *given = constant_at(e->g, node->inputs[5]);
    if (numel_of(given) == m && given->dtype == FQ_DTYPE_I8)
        return FQ_OK;
    int8_t *zeros = fq_malloc((size_t)m);
    if (zeros == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': out of memory", node->name);
    memset(zeros, (int8_t)zero_point_at(given, 0), (size_t)m);
    char base[FQ_ERROR_MESSAGE_SIZE];
    snprintf(base, sizeof(base), "%s_w_zero_point", node->name);
    fq_shape shape = {.rank = 1, .dims = {m}};
    fq_status status = fq_quant_add_constant(e->g, base, FQ_DTYPE_I8, &shape, zeros, zp, err);
    fq_free(zeros);
    return status;
}

/* Bias scale x_scale * w_scale[j] as an f32 constant ([m], or a scalar for per-tensor w). */
static fq_status bias_scale(exporter *e, int n, int64_t count, int *out, fq_error *err)
{
    const fq_node *node = &e->g->nodes[n];
    float xs = scale_at(&e->g->values[node->inputs[1]], 0);
    const fq_value *ws = &e->g->values[node->inputs[4]];
    float *s = fq_malloc((size_t)count * sizeof(float));
    if (s == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': out of memory", node->name);
    for (int64_t j = 0; j < count; j++)
        s[j] = xs * scale_at(ws, j);
    char base[FQ_ERROR_MESSAGE_SIZE];
    snprintf(base, sizeof(base), "%s_bias_scale", node->name);
    fq_shape shape = {.rank = count > 1 ? 1 : 0, .dims = {count}};
    fq_status status = fq_quant_add_constant(e->g, base, FQ_DTYPE_F32, &shape, s, out, err);
    fq_free(s);
    return status;
}

static fq_status check_qlinearconv(const fq_graph *g, const fq_node *node, fq_error *err)
{
    if (node->n_inputs < 8 || node->n_outputs != 1)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "node '%s' (QLinearConv): %d inputs, 8 "
                            "or 9 expected", node->name, node->n_inputs);
    static const int constants[] = {1, 2, 3, 4, 5, 6, 7};
    static const char *const what[] = {"x_scale", "x_zero_point", "w", "w_scale",
                                       "w_zero_point", "y_scale", "y_zero_point"};
    for (int i = 0; i < 7; i++) {
        fq_status status = require_constant(g, node, constants[i], what[i], err);
        if (status != FQ_OK)
            return status;
    }
    const fq_value *w = &g->values[node->inputs[3]];
    const fq_value *xs = &g->values[node->inputs[1]], *ws = &g->values[node->inputs[4]];
    if (w->shape.rank < 1 || w->shape.dims[0] < 1)
        return fq_error_set(err, FQ_ERR_SHAPE, "node '%s' (QLinearConv): weight '%s' has no "
                            "output channels", node->name, w->name);
    int64_t n_scales = numel_of(ws);
    if (xs->dtype != FQ_DTYPE_F32 || numel_of(xs) != 1 || ws->dtype != FQ_DTYPE_F32 ||
        (n_scales != 1 && n_scales != w->shape.dims[0]))
        return fq_error_set(err, FQ_ERR_SHAPE, "node '%s' (QLinearConv): x_scale must be one "
                            "f32 and w_scale one f32 or one per output channel (%lld)",
                            node->name, (long long)w->shape.dims[0]);
    return FQ_OK;
}

/* QLinearConv -> DQ(x), DQ(w, axis 0), DQ(B, axis 0) -> Conv -> Q(y). */
static fq_status export_qlinearconv(exporter *e, int n, fq_error *err)
{
    fq_status status = check_qlinearconv(e->g, &e->g->nodes[n], err);
    if (status != FQ_OK)
        return status;
    int in[9];
    fq_node *node = &e->g->nodes[n];
    memcpy(in, node->inputs, sizeof(int) * 8);
    in[8] = node->n_inputs > 8 ? node->inputs[8] : -1;
    int64_t m = e->g->values[in[3]].shape.dims[0];
    int64_t n_scales = numel_of(&e->g->values[in[4]]);
    bool per_channel = n_scales > 1;

    int xf, wf, bf = -1, w_zp = in[5], b_scale;
    status = add_dq(e, n, in[0], in[1], in[2], false, &xf, err);
    if (status == FQ_OK && per_channel)
        status = weight_zero_point(e, n, m, &w_zp, err);
    if (status == FQ_OK)
        status = add_dq(e, n, in[3], in[4], w_zp, per_channel, &wf, err);
    if (status == FQ_OK && in[8] >= 0) {
        status = bias_scale(e, n, per_channel ? m : 1, &b_scale, err);
        if (status == FQ_OK)
            status = add_dq(e, n, in[8], b_scale, -1, per_channel, &bf, err);
    }
    int conv_inputs[3] = {xf, wf, bf};
    if (status == FQ_OK)
        status = set_inputs(&e->g->nodes[n], conv_inputs, bf >= 0 ? 3 : 2, err);
    if (status == FQ_OK)
        status = replace_op_type(&e->g->nodes[n], "Conv", err);
    if (status == FQ_OK)
        status = add_q(e, n, in[6], in[7], err);
    return status;
}

/* Ops whose inputs are (X, x_scale, x_zp, ...) pairs followed by (y_scale, y_zp):
 * QLinearAdd (2 operands), QLinearMatMul (2), the pools (1). */
static fq_status export_operands(exporter *e, int n, const char *float_op, int operands,
                                 fq_error *err)
{
    fq_node *node = &e->g->nodes[n];
    int expected = 3 * operands + 2;
    if (node->n_inputs != expected || node->n_outputs != 1)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "node '%s' (%s): %d inputs, %d expected",
                            node->name, node->op_type, node->n_inputs, expected);
    int in[8];
    memcpy(in, node->inputs, sizeof(int) * (size_t)expected);
    int floats[2];
    fq_status status = FQ_OK;
    for (int k = 0; k < operands && status == FQ_OK; k++)
        status = add_dq(e, n, in[3 * k], in[3 * k + 1], in[3 * k + 2], false, &floats[k], err);
    if (status == FQ_OK)
        status = set_inputs(&e->g->nodes[n], floats, operands, err);
    if (status == FQ_OK)
        status = replace_op_type(&e->g->nodes[n], float_op, err);
    if (status == FQ_OK)
        status = add_q(e, n, in[expected - 2], in[expected - 1], err);
    return status;
}

/* Opset 13 moved the axes of Squeeze, Unsqueeze and ReduceSum from an attribute to an input. */
static fq_status move_axes_to_input(exporter *e, int n, fq_error *err)
{
    fq_node *node = &e->g->nodes[n];
    const fq_attr *axes = fq_node_attr(node, "axes");
    if (axes == NULL || axes->type != FQ_ATTR_INTS)
        return FQ_OK;
    char base[FQ_ERROR_MESSAGE_SIZE];
    snprintf(base, sizeof(base), "%s_axes", node->name);
    fq_shape shape = {.rank = 1, .dims = {axes->count}};
    int value;
    fq_status status = fq_quant_add_constant(e->g, base, FQ_DTYPE_I64, &shape, axes->ints,
                                             &value, err);
    if (status == FQ_OK)
        status = fq_node_append_input(e->g, n, value, err);
    if (status == FQ_OK)
        remove_attr(&e->g->nodes[n], "axes");
    return status;
}

static fq_status upgrade_node(exporter *e, int n, fq_error *err)
{
    const fq_node *node = &e->g->nodes[n];
    if (e->g->opset >= 13)
        return FQ_OK;
    if (op_is(node, "Squeeze") || op_is(node, "Unsqueeze") || op_is(node, "ReduceSum"))
        return move_axes_to_input(e, n, err);
    if ((op_is(node, "Split") && fq_node_attr(node, "split") != NULL) ||
        (op_is(node, "Clip") && e->g->opset < 11) || op_is(node, "Upsample"))
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "node '%s' (%s): the QDQ export writes "
                            "opset 13, and this node's opset %lld form has no rewrite to it",
                            node->name, node->op_type, (long long)e->g->opset);
    return FQ_OK;
}

static fq_status export_node(exporter *e, int n, fq_error *err)
{
    fq_node *node = &e->g->nodes[n];
    if (fq_node_attr_int(node, "channels_last", 0) != 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "node '%s' (%s) has channels_last=1: the "
                            "QDQ export needs the NCHW form of the quantized graph",
                            node->name, node->op_type);
    remove_attr(node, "channels_last");
    if (op_is(node, "FqDynamicConv") || (op_is(node, "Conv") && node->n_inputs >= 2 &&
                                          e->g->values[node->inputs[1]].dtype == FQ_DTYPE_F16))
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "node '%s' (%s): dynamic int8 and fp16 "
                            "convolutions have no static QDQ form", node->name, node->op_type);
    if (op_is(node, "QLinearConv"))
        return export_qlinearconv(e, n, err);
    if (op_is(node, "QLinearAdd"))
        return export_operands(e, n, "Add", 2, err);
    if (op_is(node, "QLinearMatMul"))
        return export_operands(e, n, "MatMul", 2, err);
    if (op_is(node, "QLinearAveragePool"))
        return export_operands(e, n, "AveragePool", 1, err);
    if (op_is(node, "QLinearGlobalAveragePool"))
        return export_operands(e, n, "GlobalAveragePool", 1, err);
    return upgrade_node(e, n, err);
}

typedef struct keyed_node {
    int64_t key;
    int index;
} keyed_node;

static int compare_keys(const void *a, const void *b)
{
    const keyed_node *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Orders the nodes by their keys: each quantized node's DQs, its float op, its Q. */
static fq_status sort_nodes(exporter *e, fq_error *err)
{
    fq_graph *g = e->g;
    keyed_node *order = fq_malloc((size_t)g->n_nodes * sizeof(keyed_node) + 1);
    fq_node *sorted = fq_malloc((size_t)g->cap_nodes * sizeof(fq_node) + 1);
    if (order == NULL || sorted == NULL || e->n_keys != g->n_nodes) {
        fq_free(order);
        fq_free(sorted);
        return fq_error_set(err, order == NULL || sorted == NULL ? FQ_ERR_NO_MEMORY
                            : FQ_ERR_INTERNAL, "QDQ export: cannot order %d nodes", g->n_nodes);
    }
    for (int n = 0; n < g->n_nodes; n++)
        order[n] = (keyed_node){e->keys[n], n};
    qsort(order, (size_t)g->n_nodes, sizeof(keyed_node), compare_keys);
    for (int n = 0; n < g->n_nodes; n++)
        sorted[n] = g->nodes[order[n].index];
    fq_free(g->nodes);
    g->nodes = sorted;
    fq_free(order);
    return FQ_OK;
}

static fq_status export_graph(exporter *e, fq_error *err)
{
    int n_original = e->g->n_nodes;
    fq_status status = FQ_OK;
    for (int n = 0; n < n_original && status == FQ_OK; n++)
        status = push_key(e, 4 * (int64_t)n + 1, err);
    for (int n = 0; n < n_original && status == FQ_OK; n++)
        status = export_node(e, n, err);
    if (status == FQ_OK)
        status = sort_nodes(e, err);
    if (status != FQ_OK)
        return status;
    if (e->g->opset < 13)
        e->g->opset = 13;
    if (e->g->ir_version < 7)
        e->g->ir_version = 7;
    return fq_graph_validate(e->g, err);
}

fq_status fq_qdq_export(const fq_graph *quantized_nchw, fq_graph **qdq, fq_error *err)
{
    if (quantized_nchw == NULL || qdq == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_qdq_export: graph and qdq must not "
                            "be NULL");
    *qdq = NULL;
    fq_graph *g = NULL;
    fq_status status = fq_graph_clone(quantized_nchw, &g, err);
    if (status != FQ_OK)
        return status;
    status = fq_graph_compact(g, err);
    if (status != FQ_OK) {
        fq_graph_free(g);
        return status;
    }

    exporter e = {.g = g};
    status = export_graph(&e, err);
    fq_free(e.keys);
    if (status != FQ_OK) {
        fq_graph_free(g);
        return fq_error_prefix(err, status, "QDQ export");
    }
    *qdq = g;
    return FQ_OK;
}
