/* Reference fp32 matrix product C = A * B on row-major matrices with row strides.
 *
 * Each C element is the sum over k in increasing order, accumulated in float from 0, so the
 * result equals a naive triple loop exactly. Tiles of 4 rows x 8 columns keep their sums in
 * registers; the compiler vectorizes the 8 columns. */
#ifndef FQ_KERNELS_REF_F32_GEMM_REF_H
#define FQ_KERNELS_REF_F32_GEMM_REF_H

#include <stdint.h>

typedef struct fq_gemm_f32_params {
    int64_t m;   /* rows of A and C */
    int64_t n;   /* columns of B and C */
    int64_t k;   /* columns of A, rows of B */
    int64_t lda; /* elements between rows of A (>= k) */
    int64_t ldb; /* elements between rows of B (>= n) */
    int64_t ldc; /* elements between rows of C (>= n) */
} fq_gemm_f32_params;

/* Overwrites C (m x n) with A (m x k) times B (k x n). C must not overlap A or B. */
void fq_ref_gemm_f32(const fq_gemm_f32_params *p, const float *a, const float *b, float *c);

#endif
