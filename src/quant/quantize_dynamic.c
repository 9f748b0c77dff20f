/* The dynamic rewrite of fq_quantize: every Conv with constant f32 weights becomes an
 * FqDynamicConv with per-channel int8 weights (fq_quant_weights_i8), their f32 scales and the
 * float bias unchanged; its fused activation (any kind) stays on the node. Everything else,
 * and the nodes named in keep_float, stays float. */
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/ops.h"
#include "quant/quantize_internal.h"

static int conv_slope_input(const fq_node *node)
{
    return node->act.kind == FQ_ACT_PRELU ? node->n_inputs - 1 : -1;
}

static int conv_bias_input(const fq_node *node)
{
    int slopes = conv_slope_input(node);
    if (node->n_inputs > 2 && slopes != 2 && node->inputs[2] >= 0)
        return 2;
    return -1;
}

/* Why the Conv at index n cannot be rewritten, or NULL. */
static const char *unsupported_reason(const fq_graph *graph, const fq_node *node)
{
    const fq_value *w = fq_node_input(graph, node, 1);
    if (w == NULL || !fq_value_is_constant(w) || w->data == NULL)
        return "weights are not constant";
    if (w->dtype != FQ_DTYPE_F32)
        return "weights are not f32";
    if (w->shape.rank < 3 || w->shape.rank > 4 || w->shape.dims[0] < 1)
        return "only 1-D and 2-D convolutions have a dynamic int8 form";
    if (conv_slope_input(node) >= 0 && conv_slope_input(node) < 2)
        return "fused PRelu has no slope input";
    return NULL;
}

/* Adds the int8 weights and their scales of Conv node as two new constants. */
static fq_status add_weights(fq_graph *graph, const fq_node *node, int *wq, int *wscale,
                             fq_error *err)
{
    const fq_value *w = fq_node_input(graph, node, 1);
    fq_shape shape = w->shape;
    int64_t m = shape.dims[0], per_channel = fq_shape_numel(&shape) / m;
    int8_t *q = fq_malloc((size_t)(m * per_channel));
    float *scale = fq_malloc((size_t)m * sizeof(float));
    if (q == NULL || scale == NULL) {
        fq_free(q);
        fq_free(scale);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the weights of "
                            "node '%s'", node->name);
    }
    fq_quant_weights_i8(w->data, m, per_channel, q, scale);

    char base[256];
    snprintf(base, sizeof(base), "%s_quantized", w->name);
    fq_status status = fq_quant_add_constant(graph, base, FQ_DTYPE_I8, &shape, q, wq, err);
    fq_shape scale_shape = {.rank = 1, .dims = {m}};
    snprintf(base, sizeof(base), "%s_scale", w->name);
    if (status == FQ_OK)
        status = fq_quant_add_constant(graph, base, FQ_DTYPE_F32, &scale_shape, scale, wscale,
                                       err);
    if (status == FQ_OK)
        status = fq_quant_set_per_channel(&graph->values[*wq], 0, (int)m, scale, err);
    fq_free(q);
    fq_free(scale);
    return status;
}

/* Inputs X, W_q, W_scale, then B when present, then a fused PRelu's slopes. */
static fq_status rewire(fq_graph *graph, int n, int wq, int wscale, int op, fq_error *err)
{
    fq_node *node = &graph->nodes[n];
    int slopes = conv_slope_input(node), bias = conv_bias_input(node);
    int inputs[5], count = 0;
    inputs[count++] = node->inputs[0];
    inputs[count++] = wq;
    inputs[count++] = wscale;
    if (bias >= 0)
        inputs[count++] = node->inputs[bias];
    if (slopes >= 0)
        inputs[count++] = node->inputs[slopes];

    int *grown = fq_malloc((size_t)count * sizeof(int));
    char *op_type = fq_strdup("FqDynamicConv");
    if (grown == NULL || op_type == NULL) {
        fq_free(grown);
        fq_free(op_type);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory rewriting node "
                            "'%s'", node->name);
    }
    memcpy(grown, inputs, (size_t)count * sizeof(int));
    fq_free(node->inputs);
    node->inputs = grown;
    node->n_inputs = count;
    fq_free(node->op_type);
    node->op_type = op_type;
    node->op = op;
    return FQ_OK;
}

static fq_status rewrite_conv(fq_graph *graph, int n, int op, fq_error *err)
{
    int wq, wscale;
    fq_status status = add_weights(graph, &graph->nodes[n], &wq, &wscale, err);
    if (status == FQ_OK)
        status = rewire(graph, n, wq, wscale, op, err);
    return status;
}

fq_status fq_quantize_dynamic_impl(fq_graph *graph, const fq_quantize_options *options,
                                   fq_quantize_report *report, fq_error *err)
{
    int op = fq_op_find("FqDynamicConv");
    if (op < 0)
        return fq_error_set(err, FQ_ERR_INTERNAL, "quantize: FqDynamicConv is not in the "
                            "operator table");

    fq_status status = FQ_OK;
    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++) {
        fq_node *node = &graph->nodes[n];
        if (node->dead)
            continue;
        if (strcmp(node->op_type, "Conv") != 0) {
            status = fq_quant_report_set(report, node->name, FQ_DTYPE_F32,
                                         "dynamic int8 rewrites Conv only", err);
            continue;
        }
        const char *reason = unsupported_reason(graph, node);
        if (reason == NULL && fq_quant_keep_float(options, node->name))
            reason = "kept float (keep_float)";
        if (reason != NULL) {
            status = fq_quant_report_set(report, node->name, FQ_DTYPE_F32, reason, err);
            continue;
        }
        status = rewrite_conv(graph, n, op, err);
        if (status == FQ_OK)
            status = fq_quant_report_set(report, graph->nodes[n].name, FQ_DTYPE_I8, NULL, err);
    }
    /* The float weights no node reads any more. */
    if (status == FQ_OK)
        status = fq_graph_compact(graph, err);
    return status;
}
