/* int8 GEMM with int32 output, 8 rows x 8 channels, k in groups of 4, AVX-VNNI (256-bit
 * vpdpbusd, VEX encoded: u8 x s8, four products summed into each int32 lane, no saturation). */
#include <immintrin.h>
#include <string.h>

#include "qs8_c4_groups.h"
#include "qs8_gemm_i32.h"

#define MR 8
#define NR 8

static void store8(int32_t *dst, __m256i acc, size_t cols)
{
    if (cols >= NR) {
        _mm256_storeu_si256((__m256i *)(void *)dst, acc);
        return;
    }
    int32_t values[NR];
    _mm256_storeu_si256((__m256i *)(void *)values, acc);
    memcpy(dst, values, cols * sizeof(int32_t));
}

void fq_qs8_gemm_i32_ukernel_8x8c4__avxvnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                            size_t a_stride, const void *packed_w, int32_t *c,
                                            size_t c_stride)
{
    const uint8_t *arow[MR];
    for (size_t i = 0; i < MR; i++)
        arow[i] = a + (i < mr ? i : mr - 1) * a_stride;

    const uint8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        __m256i acc[MR];
        __m256i bias = _mm256_loadu_si256((const __m256i *)(const void *)w);
        for (int i = 0; i < MR; i++)
            acc[i] = bias;
        w += NR * sizeof(int32_t);

        for (size_t k = 0; k < kc; k += 4) {
            size_t n = kc - k < 4 ? kc - k : 4;
            __m256i wv = _mm256_loadu_si256((const __m256i *)(const void *)w);
            w += 4 * NR;
            for (int i = 0; i < MR; i++)
                acc[i] = _mm256_dpbusd_avx_epi32(
                    acc[i], _mm256_set1_epi32((int)fq_qs8_c4_tail(arow[i] + k, n)), wv);
        }

        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (size_t i = 0; i < mr; i++)
            store8((int32_t *)(void *)((uint8_t *)c + i * c_stride) + j0, acc[i], cols);
    }
}
