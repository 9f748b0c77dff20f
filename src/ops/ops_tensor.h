/* The elementwise, activation, shape and data-movement operators whose table is in ops_tensor.c,
 * and the helpers their files share. Each op_*.c file defines the shape and execution functions
 * of a group of operators; see the table for which function belongs to which op. */
#ifndef FQ_OPS_OPS_TENSOR_H
#define FQ_OPS_OPS_TENSOR_H

#include "ops/op_util.h"

/* Elements of output 0: the flops of an elementwise or data-movement op. */
int64_t fq_op_output_numel(const fq_graph *graph, const fq_node *node);
/* Refuses an output shape whose element count overflows int64, naming the node. */
fq_status fq_op_check_numel(const fq_node *node, const fq_shape *shape, fq_error *err);
/* Bytes of a tensor's data. */
size_t fq_tensor_bytes(const fq_tensor *tensor);
/* Output 0 = input 0, byte for byte (the view ops); nothing to do when they share memory. */
fq_status fq_op_exec_copy(const fq_exec_ctx *ctx);

#define FQ_DECLARE_OP(name)                                                                     \
    fq_status fq_op_##name##_infer(fq_graph *graph, fq_node *node, fq_error *err);              \
    fq_status fq_op_##name##_exec(const fq_exec_ctx *ctx)

/* op_elementwise.c */
/* prepare and kernel_name of Add, Sub and Mul: fp32 ones name the rows of kernels/f32_binary.h
 * they run. */
#define FQ_DECLARE_F32_ROWS_PREPARE(name)                                                       \
    fq_status fq_op_##name##_prepare(const fq_graph *graph, const fq_node *node,               \
                                     const fq_kernel_config *config, void **state,              \
                                     size_t *workspace, fq_error *err)
FQ_DECLARE_F32_ROWS_PREPARE(add);
FQ_DECLARE_F32_ROWS_PREPARE(sub);
FQ_DECLARE_F32_ROWS_PREPARE(mul);
const char *fq_op_f32_binary_kernel_name(const void *state);
bool fq_op_f32_binary_fuse_next(const fq_graph *graph, const fq_node *node, void *state,
                                const fq_node *next, void *next_state, size_t *workspace);
FQ_DECLARE_OP(neg);
FQ_DECLARE_OP(abs);
FQ_DECLARE_OP(exp);
FQ_DECLARE_OP(log);
FQ_DECLARE_OP(sqrt);
FQ_DECLARE_OP(tanh);
FQ_DECLARE_OP(floor);
FQ_DECLARE_OP(ceil);
FQ_DECLARE_OP(reciprocal);
FQ_DECLARE_OP(relu);
FQ_DECLARE_OP(leaky_relu);
FQ_DECLARE_OP(sigmoid);
FQ_DECLARE_OP(hard_sigmoid);
FQ_DECLARE_OP(hard_swish);
FQ_DECLARE_OP(elu);
FQ_DECLARE_OP(selu);
FQ_DECLARE_OP(softplus);
FQ_DECLARE_OP(clip);
FQ_DECLARE_OP(prelu);
FQ_DECLARE_OP(add);
FQ_DECLARE_OP(sub);
FQ_DECLARE_OP(mul);
FQ_DECLARE_OP(div);
FQ_DECLARE_OP(pow);
FQ_DECLARE_OP(equal);
FQ_DECLARE_OP(less);
FQ_DECLARE_OP(greater);
FQ_DECLARE_OP(max);
FQ_DECLARE_OP(min);
FQ_DECLARE_OP(sum);
FQ_DECLARE_OP(mean);
FQ_DECLARE_OP(where);

/* op_shape.c */
FQ_DECLARE_OP(reshape);
FQ_DECLARE_OP(flatten);
FQ_DECLARE_OP(squeeze);
FQ_DECLARE_OP(unsqueeze);
FQ_DECLARE_OP(identity);
FQ_DECLARE_OP(dropout);
FQ_DECLARE_OP(shape);
FQ_DECLARE_OP(expand);

/* op_movement.c */
FQ_DECLARE_OP(transpose);
FQ_DECLARE_OP(concat);
FQ_DECLARE_OP(slice);
FQ_DECLARE_OP(gather);
FQ_DECLARE_OP(tile);

/* op_constant.c */
FQ_DECLARE_OP(constant);
FQ_DECLARE_OP(constant_of_shape);
FQ_DECLARE_OP(range);
FQ_DECLARE_OP(cast);

/* op_quant.c */
FQ_DECLARE_OP(quantize_linear);
/* QuantizeLinear f32 -> u8 picks a SIMD quantizer per session (op_quant.c). */
fq_status fq_op_quantize_linear_prepare(const fq_graph *graph, const fq_node *node,
                                        const fq_kernel_config *config, void **state,
                                        size_t *workspace, fq_error *err);
const char *fq_op_quantize_linear_kernel_name(const void *state);
FQ_DECLARE_OP(dequantize_linear);

/* op_reduce.c */
FQ_DECLARE_OP(reduce_sum);
FQ_DECLARE_OP(reduce_mean);
FQ_DECLARE_OP(reduce_max);
FQ_DECLARE_OP(reduce_min);

#undef FQ_DECLARE_OP

#endif
