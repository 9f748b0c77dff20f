/* Unary elementwise math on f32: y[i] = f(x[i]). y may equal x (in place). */
#ifndef FQ_KERNELS_F32_ELEMENTWISE_REF_H
#define FQ_KERNELS_F32_ELEMENTWISE_REF_H

#include <stdint.h>

typedef enum fq_f32_math_op {
    FQ_F32_NEG,
    FQ_F32_ABS,
    FQ_F32_EXP,
    FQ_F32_LOG,
    FQ_F32_SQRT,
    FQ_F32_TANH,
    FQ_F32_FLOOR,
    FQ_F32_CEIL,
    FQ_F32_RECIPROCAL
} fq_f32_math_op;

void fq_f32_math_ref(fq_f32_math_op op, const float *x, float *y, int64_t n);

#endif
