/* qs8 GEMM, 8 rows x 8 channels, k in groups of 4, AVX-VNNI (256-bit vpdpbusd, VEX encoded:
 * u8 activations x s8 weights, four products summed into each int32 lane, no saturation). */
#include <immintrin.h>
#include <string.h>

#include "qs8_gemm.h"

#define MR 8
#define NR 8

static uint32_t load_group(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* The last 1..3 k values of a row, zero-extended to a group. */
static uint32_t load_tail(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    memcpy(&v, p, n);
    return v;
}

static __m128i requantize8(__m256i acc, __m256 multiplier, const fq_qs8_requant_params *params)
{
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), multiplier);
    v = _mm256_max_ps(v, _mm256_set1_ps(params->min_less_zero_point));
    v = _mm256_min_ps(v, _mm256_set1_ps(params->max_less_zero_point));
    __m256i y = _mm256_add_epi32(_mm256_cvtps_epi32(v),
                                 _mm256_set1_epi32(params->output_zero_point));
    __m128i s = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    return _mm_packus_epi16(s, s);
}

static void store8(uint8_t *dst, __m128i y, size_t cols)
{
    if (cols >= NR) {
        _mm_storel_epi64((__m128i *)(void *)dst, y);
        return;
    }
    uint8_t bytes[16];
    _mm_storeu_si128((__m128i *)(void *)bytes, y);
    memcpy(dst, bytes, cols);
}

void fq_qs8_gemm_ukernel_8x8c4__avxvnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                        size_t a_stride, const void *packed_w, uint8_t *c,
                                        size_t c_stride, const fq_qs8_requant_params *params)
{
    const uint8_t *arow[MR];
    uint8_t *crow[MR];
    for (size_t i = 0; i < MR; i++) {
        size_t r = i < mr ? i : mr - 1;
        arow[i] = a + r * a_stride;
        crow[i] = c + r * c_stride;
    }

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
                    acc[i], _mm256_set1_epi32((int)load_group(arow[i] + k)), wv);
        }
        if (kmain < kc) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)(const void *)w);
            w += 4 * NR;
            for (int i = 0; i < MR; i++)
                acc[i] = _mm256_dpbusd_avx_epi32(
                    acc[i], _mm256_set1_epi32((int)load_tail(arow[i] + kmain, kc - kmain)), wv);
        }

        __m256 multiplier = _mm256_loadu_ps((const float *)(const void *)w);
        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (int i = MR - 1; i >= 0; i--)
            store8(crow[i] + j0, requantize8(acc[i], multiplier, params), cols);
    }
}
