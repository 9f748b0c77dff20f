/* Softmax and LogSoftmax in f32. Before opset 13 the input is coerced to 2-D at axis (default
 * 1) and each row is normalized; from 13 on only the given axis (default -1) is. */
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ref/f32_softmax_ref.h"

static fq_status softmax_params(const fq_graph *graph, const fq_node *node,
                                fq_softmax_f32_params *p, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status == FQ_OK)
        status = fq_op_require_f32(graph, node, 0, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    bool single_axis = graph->opset >= 13;
    int64_t attr = fq_node_attr_int(node, "axis", single_axis ? -1 : 1);
    int axis = fq_normalize_axis(attr, x->rank);
    if (axis < 0)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range for rank %d",
                           (long long)attr, x->rank);

    *p = (fq_softmax_f32_params){.outer = 1, .length = 1, .inner = 1};
    for (int d = 0; d < x->rank; d++) {
        if (d < axis)
            p->outer *= x->dims[d];
        else if (d == axis || !single_axis)
            p->length *= x->dims[d];
        else
            p->inner *= x->dims[d];
    }
    return FQ_OK;
}

fq_status fq_softmax_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_softmax_f32_params p;
    fq_status status = softmax_params(graph, node, &p, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &fq_node_input(graph, node, 0)->shape);
    return status;
}

fq_status fq_softmax_exec(const fq_exec_ctx *ctx)
{
    fq_softmax_f32_params p;
    fq_status status = softmax_params(ctx->graph, ctx->node, &p, ctx->err);
    if (status == FQ_OK && p.length > 0)
        fq_ref_softmax_f32(&p, ctx->inputs[0].data, ctx->outputs[0].data);
    return status;
}

fq_status fq_log_softmax_exec(const fq_exec_ctx *ctx)
{
    fq_softmax_f32_params p;
    fq_status status = softmax_params(ctx->graph, ctx->node, &p, ctx->err);
    if (status == FQ_OK && p.length > 0)
        fq_ref_log_softmax_f32(&p, ctx->inputs[0].data, ctx->outputs[0].data);
    return status;
}
