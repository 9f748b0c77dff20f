/* Reference int8 GEMM with int32 output, the oracle of kernels/qs8_gemm_i32.h: on unpacked
 * operands, c[i][j] = sum_k a[i][k] * w[j][k] summed in int64 in plain k order. The caller keeps
 * k within the bound fq_qs8_gemm_i32_pack checks. */
#ifndef FQ_KERNELS_REF_QS8_GEMM_I32_REF_H
#define FQ_KERNELS_REF_QS8_GEMM_I32_REF_H

#include <stddef.h>
#include <stdint.h>

/* A m x k (row stride a_stride bytes), W n x k contiguous, C m x n (row stride c_stride
 * bytes). */
void fq_qs8_gemm_i32_ref(size_t m, size_t n, size_t k, const uint8_t *a, size_t a_stride,
                         const int8_t *w, int32_t *c, size_t c_stride);

#endif
