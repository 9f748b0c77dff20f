/* Conversions between the IR's dtypes (Cast), and the f16 <-> f32 conversions other kernels use.
 *
 * f32 -> f16 rounds to nearest even, overflows to infinity and keeps NaN a NaN. Floating-point
 * -> integer truncates toward zero; values outside the target's range saturate to its limits and
 * NaN becomes 0 (C leaves both undefined). Integer -> narrower integer wraps around (two's
 * complement). Anything -> bool is "nonzero"; bool -> anything is 0 or 1.
 */
#ifndef FQ_KERNELS_TENSOR_CAST_REF_H
#define FQ_KERNELS_TENSOR_CAST_REF_H

#include <stdint.h>

#include "facequant/ir.h"

uint16_t fq_f16_from_f32(float value);
float fq_f32_from_f16(uint16_t bits);

/* Rounds to the nearest integer, ties to even, independently of the floating-point environment. */
float fq_round_half_even(float value);

/* Converts n elements of dtype from at in to dtype to at out. Every pair of f32, f16, i8, u8,
 * i32, i64 and bool is supported; returns 0 for an undefined dtype. */
int fq_cast_ref(fq_dtype from, const void *in, fq_dtype to, void *out, int64_t n);

#endif
