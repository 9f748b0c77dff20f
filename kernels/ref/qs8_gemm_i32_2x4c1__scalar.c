/* Portable int8 GEMM microkernel with int32 output: 2 rows x 4 channels, k one at a time, on the
 * packed layout of kernels/qs8_gemm.h with nr = 4, kr = 1. */
#include <string.h>

#include "qs8_gemm_i32.h"

#define MR 2
#define NR 4

void fq_qs8_gemm_i32_ukernel_2x4c1__scalar(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                           size_t a_stride, const void *packed_w, int32_t *c,
                                           size_t c_stride)
{
    const uint8_t *a1 = mr > 1 ? a + a_stride : a;
    const uint8_t *panel = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        /* Unsigned: partial sums may wrap; the final sum fits int32 (see qs8_gemm_i32.h). */
        uint32_t acc[MR][NR];
        memcpy(acc[0], panel, sizeof(acc[0]));
        memcpy(acc[1], panel, sizeof(acc[1]));
        const int8_t *w = (const int8_t *)(panel + NR * sizeof(int32_t));

        for (size_t p = 0; p < kc; p++) {
            int32_t x0 = a[p];
            int32_t x1 = a1[p];
            for (int j = 0; j < NR; j++) {
                acc[0][j] += (uint32_t)(x0 * w[p * NR + j]);
                acc[1][j] += (uint32_t)(x1 * w[p * NR + j]);
            }
        }

        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (size_t i = 0; i < mr; i++) {
            int32_t *row = (int32_t *)(void *)((uint8_t *)c + i * c_stride) + j0;
            for (size_t j = 0; j < cols; j++)
                row[j] = (int32_t)acc[i][j];
        }
        panel = (const uint8_t *)(w + kc * NR) + NR * sizeof(float);
    }
}
