/* Equalization of depthwise inputs (docs/QUANTIZATION.md, "Equalization").
 *
 * A depthwise convolution reads each channel of its input on its own, and its weights are
 * quantized per channel, yet its input is one uint8 tensor with one scale: a channel whose
 * calibrated range is a tenth of the widest one gets a tenth of the 256 levels. When the input
 * is written by a Conv that nothing else reads, channel c can be multiplied by s_c >= 1 there
 * (the producer's weight row c and bias c) and divided by s_c in the depthwise weights of
 * channel c, which leaves the float function unchanged on the calibrated ranges and costs
 * neither weight tensor anything (both are quantized per output channel). s_c stretches the
 * channel's calibrated range to half the tensor's quantization range (FQ_EQUALIZE_HEADROOM), at
 * most FQ_EQUALIZE_MAX_GAIN.
 *
 * The producer's fused activation must commute with the scaling: none and Relu do exactly; a
 * Clip(0, hi) does on every input whose scaled value stays below hi, which holds on the
 * calibrated range because it lies inside the tensor's range, itself at most hi. A scaled
 * channel above its calibrated range reaches the clamp of the uint8 range sooner than before:
 * the same clipping the tensor's range already applies to its widest channel. */
#include <math.h>
#include <string.h>

#include "facequant/alloc.h"
#include "quant/quantize_internal.h"

#define FQ_EQUALIZE_MAX_GAIN 32.0
/* Room left above a channel's calibrated range: it may run to twice what the calibration photos
 * showed before the uint8 range clips it. Without it (MobileFaceNet, 18 calibration crops) the
 * held-out cosine gained nothing, because unseen faces exceed the calibrated channel ranges;
 * with 1.25 to 4 it rose from 0.9924 to 0.9957-0.9960. */
#define FQ_EQUALIZE_HEADROOM 2.0

/* A constant f32 tensor that one node alone reads: safe to rescale in place. */
static bool private_f32_constant(const fq_graph *graph, const fq_node *node, int slot)
{
    if (slot >= node->n_inputs || node->inputs[slot] < 0)
        return false;
    int v = node->inputs[slot];
    const fq_value *value = &graph->values[v];
    return fq_value_is_constant(value) && value->dtype == FQ_DTYPE_F32 &&
           fq_quant_sole_reader(graph, v) >= 0;
}

static bool commutes_with_scaling(const fq_node *node)
{
    switch (node->act.kind) {
    case FQ_ACT_NONE:
    case FQ_ACT_RELU:
        return true;
    case FQ_ACT_CLIP:
        return node->act.alpha == 0.0f;
    default:
        return false;
    }
}

static bool is_depthwise_conv(const fq_graph *graph, const fq_node *node, int64_t channels)
{
    if (strcmp(node->op_type, "Conv") != 0 || node->n_inputs < 2)
        return false;
    const fq_value *w = fq_node_input(graph, node, 1);
    int64_t group = fq_node_attr_int(node, "group", 1);
    return w != NULL && w->shape.rank == 4 && group == channels && w->shape.dims[0] == channels &&
           w->shape.dims[1] == 1;
}

/* The producer Conv of a depthwise Conv's input, when the pair can be equalized: -1 if not. */
static int equalizable_producer(const fq_graph *graph, int dw)
{
    const fq_node *node = &graph->nodes[dw];
    int x = node->inputs[0];
    const fq_value *xv = &graph->values[x];
    if (xv->shape.rank != 4 || fq_quant_sole_reader(graph, x) != dw)
        return -1;
    if (!is_depthwise_conv(graph, node, xv->shape.dims[1]) || !private_f32_constant(graph, node, 1))
        return -1;
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *p = &graph->nodes[n];
        if (p->dead || p->n_outputs != 1 || p->outputs[0] != x)
            continue;
        if (strcmp(p->op_type, "Conv") != 0 || !commutes_with_scaling(p) ||
            !private_f32_constant(graph, p, 1))
            return -1;
        if (p->n_inputs > 2 && p->inputs[2] >= 0 && !private_f32_constant(graph, p, 2))
            return -1;
        const fq_value *w = fq_node_input(graph, p, 1);
        return w->shape.dims[0] == xv->shape.dims[1] ? n : -1;
    }
    return -1;
}

/* s_c: the channel's range [lo_c, hi_c] stretched towards the tensor's [lo, hi], at least 1. */
static double channel_gain(const fq_value_stats *vs, int c, double lo, double hi)
{
    double mn, mx;
    if (!fq_value_stats_channel_range(vs, c, &mn, &mx))
        return 1.0;
    double gain = FQ_EQUALIZE_MAX_GAIN;
    if (mx > 0.0)
        gain = fmin(gain, hi / mx);
    if (mn < 0.0)
        gain = fmin(gain, lo / mn);
    if (mx <= 0.0 && mn >= 0.0)
        return 1.0; /* a channel that was always zero */
    gain /= FQ_EQUALIZE_HEADROOM;
    return gain > 1.0 ? gain : 1.0;
}

/* Multiplies row c of the constant (rows of `per` floats) by gain[c]; the buffer is replaced by
 * a scaled copy, so borrowed (mapped) data is never written. */
static fq_status scale_rows(fq_graph *graph, int value, const double *gain, bool invert,
                            fq_error *err)
{
    fq_value *v = &graph->values[value];
    int64_t numel = fq_shape_numel(&v->shape);
    int64_t rows = v->shape.dims[0];
    int64_t per = numel / (rows > 0 ? rows : 1);
    float *copy = fq_malloc_aligned((size_t)numel * sizeof(float) + 1);
    if (copy == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: no memory to equalize '%s'",
                            v->name);
    const float *src = v->data;
    for (int64_t r = 0; r < rows; r++) {
        double g = invert ? 1.0 / gain[r] : gain[r];
        for (int64_t i = 0; i < per; i++)
            copy[r * per + i] = (float)((double)src[r * per + i] * g);
    }
    return fq_value_set_data(graph, value, copy, true, err);
}

static fq_status equalize_pair(fq_graph *graph, int producer, int dw, fq_value_stats *vs,
                               double lo, double hi, fq_error *err)
{
    const fq_node *p = &graph->nodes[producer];
    int64_t channels = graph->values[p->outputs[0]].shape.dims[1];
    double *gain = fq_malloc((size_t)channels * sizeof(double));
    if (gain == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: no memory to equalize '%s'",
                            p->name);
    for (int64_t c = 0; c < channels; c++)
        gain[c] = channel_gain(vs, (int)c, lo, hi);
    int w_p = p->inputs[1];
    int b_p = p->n_inputs > 2 ? p->inputs[2] : -1;
    int w_dw = graph->nodes[dw].inputs[1];
    fq_status status = scale_rows(graph, w_p, gain, false, err);
    if (status == FQ_OK && b_p >= 0)
        status = scale_rows(graph, b_p, gain, false, err);
    if (status == FQ_OK)
        status = scale_rows(graph, w_dw, gain, true, err);
    if (status == FQ_OK)
        for (int64_t c = 0; c < channels; c++)
            fq_value_stats_scale_channel(vs, (int)c, gain[c]);
    fq_free(gain);
    return status;
}

fq_status fq_quant_equalize_depthwise(fq_graph *graph, const fq_quantize_options *options,
                                      fq_calib_stats *stats, int *pairs, fq_error *err)
{
    *pairs = 0;
    double percentile = options->percentile > 0 ? options->percentile
                                                : FQ_CALIB_DEFAULT_PERCENTILE;
    for (int n = 0; n < graph->n_nodes; n++) {
        if (graph->nodes[n].dead || fq_quant_keep_float(options, graph->nodes[n].name))
            continue;
        int producer = equalizable_producer(graph, n);
        if (producer < 0 || fq_quant_keep_float(options, graph->nodes[producer].name))
            continue;
        const fq_value *x = &graph->values[graph->nodes[n].inputs[0]];
        int s = fq_calib_stats_find(stats, x->name);
        if (s < 0 || stats->values[s].channels != x->shape.dims[1] ||
            stats->values[s].channel_min == NULL)
            continue;
        fq_calib_range range;
        fq_error ignored;
        if (fq_value_stats_range(&stats->values[s], options->method, percentile, &range,
                                 &ignored) != FQ_OK)
            continue;
        fq_status status = equalize_pair(graph, producer, n, &stats->values[s], range.lo,
                                         range.hi, err);
        if (status != FQ_OK)
            return status;
        (*pairs)++;
    }
    return FQ_OK;
}
