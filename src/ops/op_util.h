/* Helpers shared by the operators' shape and execution functions. */
#ifndef FQ_OPS_OP_UTIL_H
#define FQ_OPS_OP_UTIL_H

#include "facequant/ops.h"
#include "ref/f32_bias_activation_ref.h"

/* Records "node 'NAME' (OP): <message>" and returns status. */
fq_status fq_op_error(fq_error *err, fq_status status, const fq_node *node, const char *format,
                      ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Checks min <= number of inputs <= max and that the required first `min` are present. */
fq_status fq_op_check_arity(const fq_node *node, int min_inputs, int max_inputs, fq_error *err);

/* Sets output i's dtype and shape. */
void fq_op_set_output(fq_graph *graph, const fq_node *node, int i, fq_dtype dtype,
                      const fq_shape *shape);

/* Reads constant input i (i64 or i32) into out (at most max entries); *count gets the element
 * count. Fails naming the node when the input is not constant, not an integer or too long. */
fq_status fq_op_const_ints(const fq_graph *graph, const fq_node *node, int i, int64_t *out,
                           int max, int *count, fq_error *err);
/* The same for a constant f32 input. */
fq_status fq_op_const_floats(const fq_graph *graph, const fq_node *node, int i, float *out,
                             int max, int *count, fq_error *err);

/* Numpy-style multidirectional broadcast of a and b into out; FQ_ERR_SHAPE if they do not fit. */
fq_status fq_broadcast_shape(const fq_shape *a, const fq_shape *b, fq_shape *out);

/* Normalizes an axis in [-rank, rank) to [0, rank); returns -1 when out of range. */
int fq_normalize_axis(int64_t axis, int rank);

/* The spatial kernel size of a convolution from its weights (input w_input, OIHW or OIW) into
 * kernel[0..rank-2), checked against a kernel_shape attribute when there is one. */
fq_status fq_op_conv_kernel_size(const fq_graph *graph, const fq_node *node, int w_input,
                                 int64_t *kernel, fq_error *err);

/* The fp32 epilogue of a fused activation. */
fq_epilogue_f32 fq_op_epilogue_f32(const fq_activation *act);

#endif
