/* Reference int8 GEMM with int32 output: see qs8_gemm_i32_ref.h. */
#include "ref/qs8_gemm_i32_ref.h"

void fq_qs8_gemm_i32_ref(size_t m, size_t n, size_t k, const uint8_t *a, size_t a_stride,
                         const int8_t *w, int32_t *c, size_t c_stride)
{
    for (size_t i = 0; i < m; i++) {
        const uint8_t *row = a + i * a_stride;
        int32_t *out = (int32_t *)(void *)((uint8_t *)c + i * c_stride);
        for (size_t j = 0; j < n; j++) {
            int64_t sum = 0;
            for (size_t p = 0; p < k; p++)
                sum += (int64_t)row[p] * w[j * k + p];
            out[j] = (int32_t)sum;
        }
    }
}
