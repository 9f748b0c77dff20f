/* Reference static int8 GEMM, the oracle of the qs8 GEMM kernels (kernels/qs8_gemm.h).
 *
 * Works on unpacked operands: A (m x k uint8, zero point input_zero_point), W (n x k int8, row
 * j holds channel j), bias (n int32, or NULL), multiplier (n floats). Each accumulator is summed
 * in int64 in plain k order and requantized by fq_qs8_requantize; the caller keeps shapes inside
 * the int32 bound that fq_qs8_gemm_pack checks. */
#ifndef FQ_KERNELS_REF_QS8_GEMM_REF_H
#define FQ_KERNELS_REF_QS8_GEMM_REF_H

#include <stddef.h>
#include <stdint.h>

#include "qs8_gemm.h"

typedef struct fq_qs8_gemm_ref_args {
    size_t m;
    size_t n;
    size_t k;
    const uint8_t *a;
    size_t a_stride;            /* bytes between rows of A (>= k) */
    int32_t input_zero_point;
    const int8_t *w;            /* n x k, contiguous */
    const int32_t *bias;        /* n values, or NULL */
    const float *multiplier;    /* n values */
    uint8_t *c;
    size_t c_stride;            /* bytes between rows of C (>= n) */
} fq_qs8_gemm_ref_args;

void fq_qs8_gemm_ref(const fq_qs8_gemm_ref_args *args, const fq_qs8_requant_params *params);

/* The exact int32 accumulator of row a (k values) against channel w (k values). */
int32_t fq_qs8_dot_ref(size_t k, const uint8_t *a, int32_t input_zero_point, const int8_t *w,
                       int32_t bias);

#endif
