/* ReduceSum, ReduceMean, ReduceMax, ReduceMin on f32. The axes are an attribute, except for
 * ReduceSum from opset 13, where they are an optional constant input together with the
 * noop_with_empty_axes attribute. No axes means all axes. */
#include <string.h>

#include "ops/ops_tensor.h"
#include "ref/tensor_reduce_ref.h"

typedef struct reduce_params {
    bool reduced[FQ_MAX_RANK];
    bool noop;              /* empty axes with noop_with_empty_axes: the output is the input */
    fq_shape kept;          /* the input's rank, 1 on reduced axes */
    fq_shape out;           /* kept, or without the reduced axes when keepdims is 0 */
    int64_t reduced_count;  /* input elements per output element */
} reduce_params;

static bool axes_are_input(const fq_graph *graph, const fq_node *node)
{
    return strcmp(node->op_type, "ReduceSum") == 0 && graph->opset >= 13;
}

static fq_status reduce_axes(const fq_graph *graph, const fq_node *node, int64_t *axes,
                             int *count, fq_error *err)
{
    if (!axes_are_input(graph, node)) {
        *count = fq_node_attr_ints(node, "axes", axes, FQ_MAX_RANK);
        if (*count == -2)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "more than %d axes", FQ_MAX_RANK);
        return FQ_OK;
    }
    if (fq_node_attr(node, "axes") != NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "axes is an input from opset 13, not an "
                           "attribute");
    *count = -1;
    if (fq_node_input(graph, node, 1) == NULL)
        return FQ_OK;
    return fq_op_const_ints(graph, node, 1, axes, FQ_MAX_RANK, count, err);
}

static fq_status reduce_plan(const fq_graph *graph, const fq_node *node, const fq_shape *in,
                             reduce_params *p, fq_error *err)
{
    int64_t axes[FQ_MAX_RANK];
    int count;
    fq_status status = reduce_axes(graph, node, axes, &count, err);
    if (status != FQ_OK)
        return status;
    memset(p, 0, sizeof(*p));
    bool all = count <= 0;
    p->noop = count <= 0 && axes_are_input(graph, node) &&
              fq_node_attr_int(node, "noop_with_empty_axes", 0) != 0;
    for (int i = 0; i < count; i++) {
        int axis = fq_normalize_axis(axes[i], in->rank);
        if (axis < 0 || p->reduced[axis])
            return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range or "
                               "repeated", (long long)axes[i]);
        p->reduced[axis] = true;
    }

    bool keepdims = fq_node_attr_int(node, "keepdims", 1) != 0;
    p->kept.rank = in->rank;
    p->reduced_count = 1;
    for (int d = 0; d < in->rank; d++) {
        p->reduced[d] = !p->noop && (all || p->reduced[d]);
        p->kept.dims[d] = p->reduced[d] ? 1 : in->dims[d];
        if (p->reduced[d])
            p->reduced_count *= in->dims[d];
        if (!p->reduced[d] || keepdims)
            p->out.dims[p->out.rank++] = p->kept.dims[d];
    }
    return FQ_OK;
}

static fq_status reduce_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, axes_are_input(graph, node) ? 2 : 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    if (x->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s; only f32 is "
                           "supported", x->name, fq_dtype_name(x->dtype));
    reduce_params p;
    status = reduce_plan(graph, node, &x->shape, &p, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &p.out);
    return FQ_OK;
}

static fq_status reduce_exec(const fq_exec_ctx *ctx, fq_reduce_op op)
{
    const fq_tensor *x = &ctx->inputs[0];
    reduce_params p;
    fq_status status = reduce_plan(ctx->graph, ctx->node, &x->shape, &p, ctx->err);
    if (status != FQ_OK)
        return status;
    const fq_shape *operands[2] = {&x->shape, &p.kept};
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &x->shape, 2, operands);
    fq_f32_reduce_ref(op, &plan, x->data, ctx->outputs[0].data, fq_shape_numel(&p.kept),
                      p.reduced_count);
    return FQ_OK;
}

#define DEFINE_REDUCE_OP(name, op)                                                              \
    fq_status fq_op_##name##_infer(fq_graph *graph, fq_node *node, fq_error *err)               \
    {                                                                                           \
        return reduce_infer(graph, node, err);                                                  \
    }                                                                                           \
    fq_status fq_op_##name##_exec(const fq_exec_ctx *ctx)                                       \
    {                                                                                           \
        return reduce_exec(ctx, op);                                                            \
    }

DEFINE_REDUCE_OP(reduce_sum, FQ_REDUCE_SUM)
DEFINE_REDUCE_OP(reduce_mean, FQ_REDUCE_MEAN)
DEFINE_REDUCE_OP(reduce_max, FQ_REDUCE_MAX)
DEFINE_REDUCE_OP(reduce_min, FQ_REDUCE_MIN)
