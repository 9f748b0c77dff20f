/* Portable qs8 GEMM microkernel on the packed layout: 2 rows x 4 channels, k one at a time.
 * The fallback when no SIMD kernel is allowed; the layout is that of kernels/qs8_gemm.h with
 * nr = 4, kr = 1. */
#include <string.h>

#include "qs8_gemm.h"

#define MR 2
#define NR 4

static void store_tile(size_t mr, size_t nc, uint32_t acc[MR][NR], const float *multiplier,
                       uint8_t *c, size_t c_stride, const fq_qs8_requant_params *params)
{
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nc; j++)
            c[i * c_stride + j] = fq_qs8_requantize((int32_t)acc[i][j], multiplier[j], params);
}

void fq_qs8_gemm_ukernel_2x4c1__scalar(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                       size_t a_stride, const void *packed_w, uint8_t *c,
                                       size_t c_stride, const fq_qs8_requant_params *params)
{
    const uint8_t *a1 = mr > 1 ? a + a_stride : a;
    const uint8_t *panel = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        /* Unsigned: the partial sums may wrap; the final sum fits int32 (see qs8_gemm.h). */
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

        float multiplier[NR];
        memcpy(multiplier, w + kc * NR, sizeof(multiplier));
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        store_tile(mr, cols, acc, multiplier, c + j0, c_stride, params);
        panel = (const uint8_t *)(w + kc * NR) + sizeof(multiplier);
    }
}
