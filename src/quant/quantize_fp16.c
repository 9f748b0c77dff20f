/* The fp16 rewrite of fq_quantize: the weights of every Conv (W) and Gemm (B) become fp16
 * constants, which the fp32 operators run with fp32 arithmetic (docs/QUANTIZATION.md), and so
 * does a Conv's bias when fp16 holds it. Activations and the graph's inputs and outputs stay
 * fp32.
 *
 * A node keeps its fp32 weights, with the reason in the report, when:
 *   - options->keep_float names it;
 *   - its weights are not a constant f32 tensor;
 *   - a weight's magnitude exceeds 65504 (FQ_F16_MAX), which fp16 cannot hold;
 *   - with options->stats, its input or its output reaches a magnitude above 32752, half of
 *     65504. On a CPU with fp16 arithmetic (AVX512-FP16, ARMv8.2 fp16) the same model runs with
 *     fp16 activations and fp16 partial sums; a value beyond half the largest fp16 number leaves
 *     too little headroom for the sums that build it, whose running total can exceed the final
 *     value, so the node is kept where it cannot overflow.
 * Statistics that miss a value the check needs are refused, naming the value. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "f16_gemm.h"
#include "facequant/alloc.h"
#include "quant/quantize_internal.h"
#include "ref/tensor_cast_ref.h"

/* Largest activation magnitude a node converted to fp16 may see. */
#define FP16_SAFE_ACTIVATION (FQ_F16_MAX / 2.0f)

enum { REASON_MAX = 512 };

static bool has_fp16_form(const fq_node *node)
{
    return !node->dead && (strcmp(node->op_type, "Conv") == 0 ||
                           strcmp(node->op_type, "Gemm") == 0);
}

/* Largest |w| over the finite and infinite elements (NaN ignored). */
static float max_magnitude(const float *w, int64_t n)
{
    float max = 0.0f;
    for (int64_t i = 0; i < n; i++)
        if (fabsf(w[i]) > max)
            max = fabsf(w[i]);
    return max;
}

/* Why the weights of node cannot be fp16 (into reason), or false when they can. */
static bool weight_reason(const fq_graph *graph, const fq_node *node, char *reason)
{
    const fq_value *w = fq_node_input(graph, node, 1);
    if (w == NULL || w->kind != FQ_VALUE_CONSTANT || w->data == NULL ||
        w->dtype != FQ_DTYPE_F32) {
        snprintf(reason, REASON_MAX, "weights%s%s%s are not a constant f32 tensor",
                 w != NULL ? " '" : "", w != NULL ? w->name : "", w != NULL ? "'" : "");
        return true;
    }
    int64_t n = fq_shape_numel(&w->shape);
    if (!fq_f32_exceeds_f16_select(FQ_ISA_AUTO)(w->data, (size_t)n))
        return false;
    snprintf(reason, REASON_MAX, "weight '%s' has |w| up to %g, beyond the fp16 range "
             "[-65504, 65504]", w->name, (double)max_magnitude(w->data, n));
    return true;
}

/* Checks the recorded range of value against the safe fp16 bound; sets *unsafe and the
 * reason when it is exceeded. */
static fq_status activation_reason(const fq_calib_stats *stats, const fq_value *value,
                                   const char *role, bool *unsafe, char *reason, fq_error *err)
{
    int s = fq_calib_stats_find(stats, value->name);
    if (s < 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "quantize: the statistics have no entry "
                            "for '%s', which the fp16 range check needs", value->name);
    const fq_value_stats *vs = &stats->values[s];
    double peak = fmax(fabs(vs->min), fabs(vs->max));
    if (vs->count == 0 || peak <= FP16_SAFE_ACTIVATION)
        return FQ_OK;
    *unsafe = true;
    snprintf(reason, REASON_MAX, "%s '%s' has range [%g, %g], beyond the safe fp16 range "
             "[-32752, 32752] (half of 65504, headroom for fp16 sums)", role, value->name,
             vs->min, vs->max);
    return FQ_OK;
}

/* With statistics: whether node's input or output exceeds the safe bound. */
static fq_status stats_reason(const fq_graph *graph, const fq_node *node,
                              const fq_calib_stats *stats, bool *unsafe, char *reason,
                              fq_error *err)
{
    *unsafe = false;
    if (stats == NULL)
        return FQ_OK;
    const fq_value *x = fq_node_input(graph, node, 0);
    fq_status status = FQ_OK;
    if (x != NULL && x->kind != FQ_VALUE_CONSTANT)
        status = activation_reason(stats, x, "input", unsafe, reason, err);
    if (status != FQ_OK || *unsafe || node->n_outputs < 1 || node->outputs[0] < 0)
        return status;
    return activation_reason(stats, &graph->values[node->outputs[0]], "output", unsafe, reason,
                             err);
}

/* Replaces input `input` of node n by an fp16 copy of it. */
static fq_status convert_input(fq_graph *graph, int n, int input, fq_error *err)
{
    const fq_value *w = fq_node_input(graph, &graph->nodes[n], input);
    int64_t count = fq_shape_numel(&w->shape);
    uint16_t *half = fq_malloc((size_t)(count > 0 ? count : 1) * sizeof(uint16_t));
    if (half == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the fp16 "
                            "weights of '%s'", w->name);
    const float *wide = w->data;
    for (int64_t i = 0; i < count; i++)
        half[i] = fq_f16_from_f32(wide[i]);

    char base[256];
    snprintf(base, sizeof(base), "%s_f16", w->name);
    fq_shape shape = w->shape;
    int index;
    fq_status status = fq_quant_add_constant(graph, base, FQ_DTYPE_F16, &shape, half, &index,
                                             err);
    fq_free(half);
    if (status == FQ_OK)
        graph->nodes[n].inputs[input] = index;
    return status;
}

/* A Conv's bias goes fp16 with its weights (the kernels widen it once, at session creation)
 * when it is a constant that fp16 holds; a fused PRelu's slopes (also input 2 when there is no
 * bias) stay fp32. */
static bool bias_fits_fp16(const fq_graph *graph, const fq_node *node)
{
    if (strcmp(node->op_type, "Conv") != 0 || node->n_inputs < 3 || node->inputs[2] < 0 ||
        (node->act.kind == FQ_ACT_PRELU && node->n_inputs == 3))
        return false;
    const fq_value *b = fq_node_input(graph, node, 2);
    return b->kind == FQ_VALUE_CONSTANT && b->dtype == FQ_DTYPE_F32 && b->data != NULL &&
           max_magnitude(b->data, fq_shape_numel(&b->shape)) <= FQ_F16_MAX;
}

static fq_status convert_weights(fq_graph *graph, int n, fq_error *err)
{
    fq_status status = convert_input(graph, n, 1, err);
    if (status == FQ_OK && bias_fits_fp16(graph, &graph->nodes[n]))
        status = convert_input(graph, n, 2, err);
    return status;
}

/* Converts node n, or leaves it fp32 with the reason in the report. */
static fq_status rewrite_node(fq_graph *graph, int n, const fq_quantize_options *options,
                              fq_quantize_report *report, fq_error *err)
{
    const fq_node *node = &graph->nodes[n];
    char reason[REASON_MAX];
    bool unsafe = fq_quant_keep_float(options, node->name);
    if (unsafe)
        snprintf(reason, sizeof(reason), "kept float by request");
    else
        unsafe = weight_reason(graph, node, reason);
    fq_status status = FQ_OK;
    if (!unsafe)
        status = stats_reason(graph, node, options->stats, &unsafe, reason, err);
    if (status != FQ_OK)
        return status;
    if (unsafe)
        return fq_quant_report_set(report, node->name, FQ_DTYPE_F32, reason, err);

    status = convert_weights(graph, n, err);
    if (status != FQ_OK)
        return status;
    return fq_quant_report_set(report, graph->nodes[n].name, FQ_DTYPE_F16, NULL, err);
}

fq_status fq_quantize_fp16_impl(fq_graph *graph, const fq_quantize_options *options,
                                fq_quantize_report *report, fq_error *err)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        if (!has_fp16_form(&graph->nodes[n]))
            continue;
        fq_status status = rewrite_node(graph, n, options, report, err);
        if (status != FQ_OK)
            return status;
    }
    /* The fp32 weights nothing reads any more. */
    return fq_graph_compact(graph, err);
}
