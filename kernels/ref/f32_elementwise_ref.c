/* Unary f32 math: see f32_elementwise_ref.h. */
#include <math.h>

#include "ref/f32_elementwise_ref.h"

#define DEFINE_MATH(name, EXPR)                                                                 \
    static void name(const float *x, float *y, int64_t n)                                       \
    {                                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                       \
            float v = x[i];                                                                     \
            y[i] = (EXPR);                                                                      \
        }                                                                                       \
    }

DEFINE_MATH(neg_f32, -v)
DEFINE_MATH(abs_f32, fabsf(v))
DEFINE_MATH(exp_f32, expf(v))
DEFINE_MATH(log_f32, logf(v))
DEFINE_MATH(sqrt_f32, sqrtf(v))
DEFINE_MATH(tanh_f32, tanhf(v))
DEFINE_MATH(floor_f32, floorf(v))
DEFINE_MATH(ceil_f32, ceilf(v))
DEFINE_MATH(reciprocal_f32, 1.0f / v)

void fq_f32_math_ref(fq_f32_math_op op, const float *x, float *y, int64_t n)
{
    switch (op) {
    case FQ_F32_NEG: neg_f32(x, y, n); break;
    case FQ_F32_ABS: abs_f32(x, y, n); break;
    case FQ_F32_EXP: exp_f32(x, y, n); break;
    case FQ_F32_LOG: log_f32(x, y, n); break;
    case FQ_F32_SQRT: sqrt_f32(x, y, n); break;
    case FQ_F32_TANH: tanh_f32(x, y, n); break;
    case FQ_F32_FLOOR: floor_f32(x, y, n); break;
    case FQ_F32_CEIL: ceil_f32(x, y, n); break;
    case FQ_F32_RECIPROCAL: reciprocal_f32(x, y, n); break;
    }
}
