/* QuantizeLinear and DequantizeLinear (opsets 10 to 17): per-tensor parameters, and per-axis
 * parameters (a 1-D scale along the axis attribute) from opset 13. */
#include "ops/ops_tensor.h"
#include "ref/qdq_ref.h"

/* Checks scale and zero point against x and fills the [outer, channels, inner] layout. */
static fq_status qdq_layout(const fq_graph *graph, const fq_node *node, const fq_shape *x,
                            const fq_value *scale, const fq_value *zero_point,
                            fq_qdq_layout *layout, fq_error *err)
{
    if (scale->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "scale '%s' is %s, expects f32",
                           scale->name, fq_dtype_name(scale->dtype));
    if (zero_point != NULL && !fq_shape_equal(&zero_point->shape, &scale->shape))
        return fq_op_error(err, FQ_ERR_SHAPE, node, "zero point '%s' and scale '%s' differ in "
                           "shape", zero_point->name, scale->name);
    int64_t numel = fq_shape_numel(x);
    /* A one-element 1-D scale is per-tensor too, as ONNX Runtime treats it. */
    if (scale->shape.rank == 0 || (scale->shape.rank == 1 && scale->shape.dims[0] == 1)) {
        *layout = (fq_qdq_layout){1, 1, numel};
        return FQ_OK;
    }
    if (graph->opset < 13 || scale->shape.rank != 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "scale '%s' must be a scalar%s",
                           scale->name, graph->opset < 13 ? "" : " or 1-D");

    int64_t given = fq_node_attr_int(node, "axis", 1);
    int axis = fq_normalize_axis(given, x->rank);
    if (axis < 0)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range for rank %d",
                           (long long)given, x->rank);
    if (scale->shape.dims[0] != x->dims[axis])
        return fq_op_error(err, FQ_ERR_SHAPE, node, "scale '%s' has %lld entries, axis %d has "
                           "size %lld", scale->name, (long long)scale->shape.dims[0], axis,
                           (long long)x->dims[axis]);
    layout->outer = 1;
    for (int d = 0; d < axis; d++)
        layout->outer *= x->dims[d];
    layout->channels = x->dims[axis];
    layout->inner = x->dims[axis] > 0 ? numel / layout->outer / x->dims[axis] : 0;
    return FQ_OK;
}

fq_status fq_op_quantize_linear_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 3, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    const fq_value *scale = fq_node_input(graph, node, 1);
    const fq_value *zero_point = fq_node_input(graph, node, 2);
    if (x->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects f32",
                           x->name, fq_dtype_name(x->dtype));
    fq_dtype out = zero_point != NULL ? zero_point->dtype : FQ_DTYPE_U8;
    if (out != FQ_DTYPE_U8 && out != FQ_DTYPE_I8)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "zero point '%s' is %s, expects u8 or "
                           "i8", zero_point->name, fq_dtype_name(out));
    fq_qdq_layout layout;
    status = qdq_layout(graph, node, &x->shape, scale, zero_point, &layout, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, out, &x->shape);
    return FQ_OK;
}

fq_status fq_op_quantize_linear_exec(const fq_exec_ctx *ctx)
{
    const fq_graph *graph = ctx->graph;
    const fq_node *node = ctx->node;
    fq_qdq_layout layout;
    fq_status status = qdq_layout(graph, node, &ctx->inputs[0].shape, fq_node_input(graph, node, 1),
                                  fq_node_input(graph, node, 2), &layout, ctx->err);
    if (status != FQ_OK)
        return status;
    const void *zero_point = ctx->n_inputs > 2 ? ctx->inputs[2].data : NULL;
    if (ctx->outputs[0].dtype == FQ_DTYPE_I8)
        fq_quantize_i8_ref(&layout, ctx->inputs[0].data, ctx->inputs[1].data, zero_point,
                           ctx->outputs[0].data);
    else
        fq_quantize_u8_ref(&layout, ctx->inputs[0].data, ctx->inputs[1].data, zero_point,
                           ctx->outputs[0].data);
    return FQ_OK;
}

fq_status fq_op_dequantize_linear_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 3, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    const fq_value *scale = fq_node_input(graph, node, 1);
    const fq_value *zero_point = fq_node_input(graph, node, 2);
    if (x->dtype != FQ_DTYPE_U8 && x->dtype != FQ_DTYPE_I8 && x->dtype != FQ_DTYPE_I32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects u8, i8 or "
                           "i32", x->name, fq_dtype_name(x->dtype));
    if (zero_point != NULL && zero_point->dtype != x->dtype)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "zero point '%s' is %s, input is %s",
                           zero_point->name, fq_dtype_name(zero_point->dtype),
                           fq_dtype_name(x->dtype));
    fq_qdq_layout layout;
    status = qdq_layout(graph, node, &x->shape, scale, zero_point, &layout, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &x->shape);
    return FQ_OK;
}

fq_status fq_op_dequantize_linear_exec(const fq_exec_ctx *ctx)
{
    const fq_graph *graph = ctx->graph;
    const fq_node *node = ctx->node;
    fq_qdq_layout layout;
    fq_status status = qdq_layout(graph, node, &ctx->inputs[0].shape, fq_node_input(graph, node, 1),
                                  fq_node_input(graph, node, 2), &layout, ctx->err);
    if (status != FQ_OK)
        return status;
    const fq_tensor *x = &ctx->inputs[0];
    const float *scale = ctx->inputs[1].data;
    const void *zero_point = ctx->n_inputs > 2 ? ctx->inputs[2].data : NULL;
    float *y = ctx->outputs[0].data;
    switch (x->dtype) {
    case FQ_DTYPE_I8: fq_dequantize_i8_ref(&layout, x->data, scale, zero_point, y); break;
    case FQ_DTYPE_U8: fq_dequantize_u8_ref(&layout, x->data, scale, zero_point, y); break;
    default: fq_dequantize_i32_ref(&layout, x->data, scale, zero_point, y); break;
    }
    return FQ_OK;
}
