/* qs8 GEMM, 8 rows x 8 channels, k in groups of 4, AVX-VNNI (256-bit vpdpbusd, VEX encoded:
 * u8 activations x s8 weights, four products summed into each int32 lane, no saturation). */
#include "x86/avxvnni/qs8_gemm_avxvnni.h"

#define MR 8
#define NR 8

void fq_qs8_gemm_ukernel_8x8c4__avxvnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                        size_t a_stride, const void *packed_w, uint8_t *c,
                                        size_t c_stride, const fq_qs8_requant_params *params)
{
    const uint8_t *arow[MR];
    uint8_t *crow[MR];
    fq_qs8_tile_rows(mr, MR, a, a_stride, c, c_stride, arow, crow);

    const uint8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        __m256i acc[MR];
        __m256i bias = _mm256_loadu_si256((const __m256i *)(const void *)w);
        for (int i = 0; i < MR; i++)
            acc[i] = bias;
        w += NR * sizeof(int32_t);

        size_t kmain = kc & ~(size_t)3;
        for (size_t k = 0; k < kmain; k += 4) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)(const void *)w);
            w += 4 * NR;
            for (int i = 0; i < MR; i++)
                acc[i] = _mm256_dpbusd_avx_epi32(
                    acc[i], _mm256_set1_epi32((int)fq_qs8_c4_group(arow[i] + k)), wv);
        }
        if (kmain < kc) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)(const void *)w);
            w += 4 * NR;
            for (int i = 0; i < MR; i++)
                acc[i] = _mm256_dpbusd_avx_epi32(
                    acc[i],
                    _mm256_set1_epi32((int)fq_qs8_c4_tail(arow[i] + kmain, kc - kmain)),
                    wv);
        }

        __m256 multiplier = _mm256_loadu_ps((const float *)(const void *)w);
        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (int i = MR - 1; i >= 0; i--)
            qs8_vnni_store8(crow[i] + j0, qs8_vnni_requantize8(acc[i], multiplier, params),
                            cols);
    }
}
