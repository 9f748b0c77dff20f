/* Elementwise, activation, shape and data-movement operators: the table, and the helpers their
 * files (op_elementwise.c, op_shape.c, op_movement.c, op_constant.c, op_quant.c, op_reduce.c)
 * share. Every op implements the semantics of ONNX opsets 7 to 17 (from the op's first opset
 * if later), and also older opsets where the op's semantics were already the same (a lower
 * min_opset); where a signature changed inside the range, the op chooses by graph->opset. */
#include <string.h>

#include "ops/ops_tensor.h"
#include "ops/registry.h"

int64_t fq_op_output_numel(const fq_graph *graph, const fq_node *node)
{
    if (node->n_outputs < 1 || node->outputs[0] < 0)
        return 0;
    return fq_shape_numel(&graph->values[node->outputs[0]].shape);
}

fq_status fq_op_check_numel(const fq_node *node, const fq_shape *shape, fq_error *err)
{
    if (fq_shape_numel(shape) < 0) {
        char text[96];
        return fq_op_error(err, FQ_ERR_SHAPE, node, "output shape %s has too many elements",
                           fq_shape_format(shape, text, sizeof(text)));
    }
    return FQ_OK;
}

size_t fq_tensor_bytes(const fq_tensor *tensor)
{
    int64_t numel = fq_shape_numel(&tensor->shape);
    return numel > 0 ? (size_t)numel * fq_dtype_size(tensor->dtype) : 0;
}

fq_status fq_op_exec_copy(const fq_exec_ctx *ctx)
{
    const fq_tensor *in = &ctx->inputs[0];
    fq_tensor *out = &ctx->outputs[0];
    size_t bytes = fq_tensor_bytes(out);
    if (fq_tensor_bytes(in) != bytes)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "input and output sizes "
                           "differ (%zu and %zu bytes)", fq_tensor_bytes(in), bytes);
    if (out->data != in->data && bytes > 0)
        memmove(out->data, in->data, bytes);
    return FQ_OK;
}

/* One table entry: ONNX name, opset range, the fq_op_<fn>_infer/_exec pair, and whether the
 * output may share the input's memory. */
#define OP(onnx_name, min, max, fn, view)                                                       \
    {.name = onnx_name, .min_opset = min, .max_opset = max, .infer = fq_op_##fn##_infer,         \
     .exec = fq_op_##fn##_exec, .flops = fq_op_output_numel, .is_view = view}

/* An elementwise op whose fp32 form runs the rows of kernels/f32_binary.h, named by `fq cpu`. */
#define F32_BINARY_OP(onnx_name, min, max, fn)                                                  \
    {.name = onnx_name, .min_opset = min, .max_opset = max, .infer = fq_op_##fn##_infer,         \
     .exec = fq_op_##fn##_exec, .flops = fq_op_output_numel,                                   \
     .prepare = fq_op_##fn##_prepare, .kernel_name = fq_op_f32_binary_kernel_name,           \
     .fuse_next = fq_op_f32_binary_fuse_next}

const fq_op_info fq_ops_tensor[] = {
    /* activations */
    OP("Relu", 6, 17, relu, false),
    OP("PRelu", 7, 17, prelu, false),
    OP("LeakyRelu", 6, 17, leaky_relu, false),
    OP("Clip", 6, 17, clip, false),
    OP("Sigmoid", 6, 17, sigmoid, false),
    OP("HardSigmoid", 6, 17, hard_sigmoid, false),
    OP("HardSwish", 14, 17, hard_swish, false),
    OP("Elu", 6, 17, elu, false),
    OP("Selu", 6, 17, selu, false),
    OP("Softplus", 1, 17, softplus, false),
    OP("Tanh", 6, 17, tanh, false),
    /* elementwise math */
    F32_BINARY_OP("Add", 7, 17, add),
    F32_BINARY_OP("Sub", 7, 17, sub),
    F32_BINARY_OP("Mul", 7, 17, mul),
    OP("Div", 7, 17, div, false),
    OP("Pow", 7, 17, pow, false),
    OP("Neg", 6, 17, neg, false),
    OP("Abs", 6, 17, abs, false),
    OP("Exp", 6, 17, exp, false),
    OP("Log", 6, 17, log, false),
    OP("Sqrt", 6, 17, sqrt, false),
    OP("Floor", 6, 17, floor, false),
    OP("Ceil", 6, 17, ceil, false),
    OP("Reciprocal", 6, 17, reciprocal, false),
    OP("Max", 6, 17, max, false),
    OP("Min", 6, 17, min, false),
    OP("Sum", 6, 17, sum, false),
    OP("Mean", 6, 17, mean, false),
    OP("Equal", 7, 17, equal, false),
    OP("Less", 7, 17, less, false),
    OP("Greater", 7, 17, greater, false),
    OP("Where", 9, 17, where, false),
    /* reductions */
    OP("ReduceSum", 1, 17, reduce_sum, false),
    OP("ReduceMean", 1, 17, reduce_mean, false),
    OP("ReduceMax", 1, 17, reduce_max, false),
    OP("ReduceMin", 1, 17, reduce_min, false),
    /* shape */
    OP("Reshape", 5, 17, reshape, true),
    OP("Flatten", 1, 17, flatten, true),
    OP("Squeeze", 1, 17, squeeze, true),
    OP("Unsqueeze", 1, 17, unsqueeze, true),
    OP("Identity", 1, 17, identity, true),
    OP("Dropout", 7, 17, dropout, true),
    OP("Shape", 1, 17, shape, false),
    /* data movement */
    OP("Transpose", 1, 17, transpose, false),
    OP("Concat", 4, 17, concat, false),
    OP("Slice", 1, 17, slice, false),
    OP("Gather", 1, 17, gather, false),
    OP("Expand", 8, 17, expand, false),
    OP("Tile", 6, 17, tile, false),
    /* tensors from attributes, and conversions */
    OP("Constant", 1, 17, constant, false),
    OP("ConstantOfShape", 9, 17, constant_of_shape, false),
    OP("Range", 11, 17, range, false),
    OP("Cast", 6, 17, cast, false),
    {.name = "QuantizeLinear", .min_opset = 10, .max_opset = 17,
     .infer = fq_op_quantize_linear_infer, .exec = fq_op_quantize_linear_exec,
     .flops = fq_op_output_numel, .prepare = fq_op_quantize_linear_prepare,
     .kernel_name = fq_op_quantize_linear_kernel_name},
    OP("DequantizeLinear", 10, 17, dequantize_linear, false),
};
const int fq_ops_tensor_count = (int)(sizeof(fq_ops_tensor) / sizeof(fq_ops_tensor[0]));
