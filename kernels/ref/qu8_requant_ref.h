/* Requantization of one real value to a u8 code, shared by the u8 kernels.
 *
 *   fq_qu8_requantize(v, zero_point, lo) = clamp(round_half_even(v) + zero_point, lo, 255)
 *
 * for zero_point and lo in 0..255; NaN counts as 0 (giving clamp(zero_point, lo, 255)). v is
 * rounded by adding and subtracting 1.5 * 2^23, which in the default rounding mode rounds half
 * to even exactly (equal to fq_round_half_even, ref/tensor_cast_ref.h) for |v| < 2^22 and keeps
 * larger values far outside the code range; the result is then clamped to [-512, 512], which
 * changes no code. The selects come after the arithmetic and there are no branches, so loops
 * over it vectorize. */
#ifndef FQ_KERNELS_REF_QU8_REQUANT_REF_H
#define FQ_KERNELS_REF_QU8_REQUANT_REF_H

#include <stdint.h>

#define FQ_QU8_ROUNDING_BIAS 12582912.0f /* 1.5 * 2^23 */

static inline uint8_t fq_qu8_requantize(float v, int32_t zero_point, int32_t lo)
{
    float rounded = (v + FQ_QU8_ROUNDING_BIAS) - FQ_QU8_ROUNDING_BIAS;
    rounded = rounded == rounded ? rounded : 0.0f;
    rounded = rounded > -512.0f ? rounded : -512.0f;
    rounded = rounded < 512.0f ? rounded : 512.0f;
    int32_t q = (int32_t)rounded + zero_point;
    q = q > lo ? q : lo;
    q = q < 255 ? q : 255;
    return (uint8_t)q;
}

#endif
