/* f32 reductions (ReduceSum, ReduceMean, ReduceMax, ReduceMin) over any set of axes.
 *
 * The plan has two operands over the input's shape: operand 0 is the input itself, operand 1
 * the output seen with the input's rank and size 1 on every reduced axis (the keepdims shape),
 * so each input element is folded into the output element it maps to. Max and Min propagate NaN.
 */
#ifndef FQ_KERNELS_TENSOR_REDUCE_REF_H
#define FQ_KERNELS_TENSOR_REDUCE_REF_H

#include "ref/tensor_broadcast_ref.h"

typedef enum fq_reduce_op {
    FQ_REDUCE_SUM,
    FQ_REDUCE_MEAN,
    FQ_REDUCE_MAX,
    FQ_REDUCE_MIN
} fq_reduce_op;

/* out has out_numel elements; reduced_count is the number of input elements folded into each
 * (the divisor of the mean). */
void fq_f32_reduce_ref(fq_reduce_op op, const fq_broadcast_plan *plan, const float *in,
                       float *out, int64_t out_numel, int64_t reduced_count);

#endif
