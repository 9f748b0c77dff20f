/* Fusions: BatchNormalization folded into the convolution before it, and activations fused into
 * the Conv or Gemm that produces their input. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/passes.h"

/* The producer of node input 0 when it is an op of type `op` whose output only this node reads,
 * that is not a graph output and has no activation fused yet; -1 otherwise. */
static int sole_producer(const fq_graph *graph, const fq_node *node, const char *op)
{
    if (node->n_inputs < 1 || node->inputs[0] < 0)
        return -1;
    int value = node->inputs[0];
    int producer = fq_graph_producer(graph, value);
    if (producer < 0)
        return -1;
    const fq_node *p = &graph->nodes[producer];
    if (strcmp(p->op_type, op) != 0 || p->act.kind != FQ_ACT_NONE || p->outputs[0] != value)
        return -1;
    if (fq_graph_use_count(graph, value) != 1)
        return -1;
    for (int i = 0; i < graph->n_outputs; i++)
        if (graph->outputs[i] == value)
            return -1;
    return producer;
}

static const float *const_f32(const fq_graph *graph, const fq_node *node, int i, int64_t count)
{
    const fq_value *v = fq_node_input(graph, node, i);
    if (!fq_value_is_constant(v) || v->dtype != FQ_DTYPE_F32 || fq_shape_numel(&v->shape) != count)
        return NULL;
    return v->data;
}

/* Adds a constant f32 value named "<base><suffix>" with the given shape, taking data. */
static fq_status add_constant(fq_graph *graph, const char *base, const char *suffix,
                              const fq_shape *shape, float *data, int *index, fq_error *err)
{
    char name[512];
    snprintf(name, sizeof(name), "%s%s", base, suffix);
    fq_status status = fq_graph_add_value(graph, name, FQ_DTYPE_F32, shape, index, err);
    if (status != FQ_OK) {
        fq_free_aligned(data);
        return status;
    }
    return fq_value_set_data(graph, *index, data, true, err);
}

/* y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta, folded into new weights and bias. */
static fq_status fold_one_batchnorm(fq_graph *graph, int bn_index, int conv_index, fq_error *err)
{
    const fq_node *bn = &graph->nodes[bn_index];
    const fq_node *conv = &graph->nodes[conv_index];
    const fq_value *w = fq_node_input(graph, conv, 1);
    if (!fq_value_is_constant(w) || w->dtype != FQ_DTYPE_F32 || w->shape.rank < 3)
        return FQ_OK;
    int64_t channels = w->shape.dims[0];
    int64_t per_channel = fq_shape_numel(&w->shape) / (channels > 0 ? channels : 1);
    const float *gamma = const_f32(graph, bn, 1, channels);
    const float *beta = const_f32(graph, bn, 2, channels);
    const float *mean = const_f32(graph, bn, 3, channels);
    const float *var = const_f32(graph, bn, 4, channels);
    const float *bias = conv->n_inputs > 2 ? const_f32(graph, conv, 2, channels) : NULL;
    bool has_bias_input = conv->n_inputs > 2 && conv->inputs[2] >= 0;
    if (gamma == NULL || beta == NULL || mean == NULL || var == NULL ||
        (has_bias_input && bias == NULL) || bn->n_outputs > 1)
        return FQ_OK;
    float eps = fq_node_attr_float(bn, "epsilon", 1e-5f);

    float *new_w = fq_malloc_aligned((size_t)(channels * per_channel) * sizeof(float));
    float *new_b = fq_malloc_aligned((size_t)channels * sizeof(float));
    if (new_w == NULL || new_b == NULL) {
        fq_free_aligned(new_w);
        fq_free_aligned(new_b);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': no memory to fold it", bn->name);
    }
    const float *old_w = w->data;
    for (int64_t c = 0; c < channels; c++) {
        float k = gamma[c] / sqrtf(var[c] + eps);
        for (int64_t j = 0; j < per_channel; j++)
            new_w[c * per_channel + j] = old_w[c * per_channel + j] * k;
        new_b[c] = ((bias != NULL ? bias[c] : 0.0f) - mean[c]) * k + beta[c];
    }

    fq_shape w_shape = w->shape;
    fq_shape b_shape = {.rank = 1, .dims = {channels}};
    char base[480];
    snprintf(base, sizeof(base), "%s", conv->name);
    int w_index, b_index;
    fq_status status = add_constant(graph, base, ".weight_bn", &w_shape, new_w, &w_index, err);
    if (status == FQ_OK)
        status = add_constant(graph, base, ".bias_bn", &b_shape, new_b, &b_index, err);
    else
        fq_free_aligned(new_b);
    if (status != FQ_OK)
        return status;

    fq_node *c = &graph->nodes[conv_index];
    c->inputs[1] = w_index;
    if (c->n_inputs > 2)
        c->inputs[2] = b_index;
    else if ((status = fq_node_append_input(graph, conv_index, b_index, err)) != FQ_OK)
        return status;
    fq_node *b = &graph->nodes[bn_index];
    if (fq_graph_merge_values(graph, c->outputs[0], b->outputs[0]))
        b->dead = true;
    return FQ_OK;
}

fq_status fq_pass_fold_batchnorm(fq_graph *graph, fq_error *err)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        if (node->dead || strcmp(node->op_type, "BatchNormalization") != 0 || node->n_inputs != 5)
            continue;
        int conv = sole_producer(graph, node, "Conv");
        if (conv < 0)
            continue;
        fq_status status = fold_one_batchnorm(graph, n, conv, err);
        if (status != FQ_OK)
            return status;
    }
    return fq_graph_compact(graph, err);
}

/* A constant scalar f32 input, or `fallback` when the input is omitted. False if it is present
 * but not a constant scalar. */
static bool scalar_input(const fq_graph *graph, const fq_node *node, int i, float fallback,
                         float *out)
{
    const fq_value *v = fq_node_input(graph, node, i);
    if (v == NULL) {
        *out = fallback;
        return true;
    }
    if (!fq_value_is_constant(v) || v->dtype != FQ_DTYPE_F32 || fq_shape_numel(&v->shape) != 1)
        return false;
    *out = *(const float *)v->data;
    return true;
}

/* PRelu slopes can be fused into a convolution when they are one value or one per output
 * channel laid out along axis 1 of the NCHW output. */
static bool prelu_slope_fits(const fq_graph *graph, const fq_node *prelu, const fq_node *conv)
{
    const fq_value *slope = fq_node_input(graph, prelu, 1);
    const fq_value *out = fq_node_input(graph, prelu, 0);
    if (!fq_value_is_constant(slope) || slope->dtype != FQ_DTYPE_F32 || out->shape.rank != 4)
        return false;
    int64_t n = fq_shape_numel(&slope->shape);
    if (n == 1)
        return true;
    int rank = slope->shape.rank;
    for (int d = 0; d < rank; d++) {
        int axis = 4 - rank + d;
        int64_t want = axis == 1 ? out->shape.dims[1] : 1;
        if (slope->shape.dims[d] != want)
            return false;
    }
    return rank >= 3 && strcmp(conv->op_type, "Conv") == 0;
}

/* Describes the activation node as an fq_activation; false when it cannot be fused. */
static bool activation_of(const fq_graph *graph, const fq_node *node, const fq_node *producer,
                          fq_activation *act)
{
    const char *op = node->op_type;
    *act = (fq_activation){FQ_ACT_NONE, 0.0f, 0.0f};
    if (strcmp(op, "Relu") == 0) {
        act->kind = FQ_ACT_RELU;
    } else if (strcmp(op, "Sigmoid") == 0) {
        act->kind = FQ_ACT_SIGMOID;
    } else if (strcmp(op, "LeakyRelu") == 0) {
        act->kind = FQ_ACT_LEAKY_RELU;
        act->alpha = fq_node_attr_float(node, "alpha", 0.01f);
    } else if (strcmp(op, "Clip") == 0) {
        act->kind = FQ_ACT_CLIP;
        if (graph->opset < 11) {
            act->alpha = fq_node_attr_float(node, "min", -FLT_MAX);
            act->beta = fq_node_attr_float(node, "max", FLT_MAX);
        } else if (!scalar_input(graph, node, 1, -FLT_MAX, &act->alpha) ||
                   !scalar_input(graph, node, 2, FLT_MAX, &act->beta)) {
            return false;
        }
    } else if (strcmp(op, "PRelu") == 0) {
        if (!prelu_slope_fits(graph, node, producer))
            return false;
        act->kind = FQ_ACT_PRELU;
    }
    return act->kind != FQ_ACT_NONE;
}

static fq_status fuse_one(fq_graph *graph, int act_index, int producer_index,
                          const fq_activation *act, fq_error *err)
{
    fq_status status = FQ_OK;
    if (act->kind == FQ_ACT_PRELU) {
        int slope = graph->nodes[act_index].inputs[1];
        while (status == FQ_OK && graph->nodes[producer_index].n_inputs < 3)
            status = fq_node_append_input(graph, producer_index, -1, err);
        if (status == FQ_OK)
            status = fq_node_append_input(graph, producer_index, slope, err);
        if (status != FQ_OK)
            return status;
    }
    fq_node *producer = &graph->nodes[producer_index];
    fq_node *node = &graph->nodes[act_index];
    if (!fq_graph_merge_values(graph, producer->outputs[0], node->outputs[0])) {
        if (act->kind == FQ_ACT_PRELU)
            producer->n_inputs--;
        return FQ_OK;
    }
    producer->act = *act;
    node->dead = true;
    return FQ_OK;
}

fq_status fq_pass_fuse_activations(fq_graph *graph, fq_error *err)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        if (node->dead)
            continue;
        int producer = sole_producer(graph, node, "Conv");
        if (producer < 0)
            producer = sole_producer(graph, node, "Gemm");
        if (producer < 0)
            continue;
        fq_activation act;
        if (!activation_of(graph, node, &graph->nodes[producer], &act))
            continue;
        if (act.kind == FQ_ACT_PRELU && strcmp(graph->nodes[producer].op_type, "Conv") != 0)
            continue;
        fq_status status = fuse_one(graph, n, producer, &act, err);
        if (status != FQ_OK)
            return status;
    }
    return fq_graph_compact(graph, err);
}
