/* qs8 GEMM, 4 rows x 16 channels, k in pairs, AVX2 without VNNI.
 *
 * pmaddubsw would sum two u8 x s8 products into a saturating int16 (255 * -128 * 2 does not
 * fit), so activations are widened to int16 (vpmovzxbw) and weights too (vpmovsxbw), and
 * vpmaddwd sums each pair of products into int32: at most 2 * 255 * 128 in magnitude, with
 * exact int32 additions after it, so the result equals the reference bit for bit for any
 * 8-bit weights. Rows of A are widened a block of k at a time into a stack buffer, from which
 * each pair is one 32-bit broadcast load. */
#include <immintrin.h>
#include <string.h>

#include "qs8_gemm.h"

#define MR 4
#define NR 16
#define K_BLOCK 256 /* even, so pairs never straddle two blocks */

/* Rows' k values [k0, k0 + n) as int16, with a zero after an odd n to complete the last pair. */
static void widen_rows(const uint8_t *const *arow, size_t k0, size_t n,
                       int16_t rows[MR][K_BLOCK])
{
    for (int i = 0; i < MR; i++) {
        const uint8_t *src = arow[i] + k0;
        size_t p = 0;
        for (; p + 16 <= n; p += 16)
            _mm256_storeu_si256((__m256i *)(void *)&rows[i][p],
                                _mm256_cvtepu8_epi16(_mm_loadu_si128(
                                    (const __m128i *)(const void *)(src + p))));
        for (; p < n; p++)
            rows[i][p] = src[p];
        if (n % 2 != 0)
            rows[i][n] = 0;
    }
}

static __m256i broadcast_pair(const int16_t *pair)
{
    int32_t v;
    memcpy(&v, pair, sizeof(v));
    return _mm256_set1_epi32(v);
}

static __m256i requantize8(__m256i acc, const float *multiplier,
                           const fq_qs8_requant_params *params)
{
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(multiplier));
    v = _mm256_max_ps(v, _mm256_set1_ps(params->min_less_zero_point));
    v = _mm256_min_ps(v, _mm256_set1_ps(params->max_less_zero_point));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(params->output_zero_point));
}

/* 16 int32 values in [0, 255] as bytes, stored to dst (cols of them). */
static void store16(uint8_t *dst, __m256i lo, __m256i hi, size_t cols)
{
    __m128i s_lo = _mm_packs_epi32(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
    __m128i s_hi = _mm_packs_epi32(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
    __m128i y = _mm_packus_epi16(s_lo, s_hi);
    if (cols >= NR) {
        _mm_storeu_si128((__m128i *)(void *)dst, y);
        return;
    }
    uint8_t bytes[NR];
    _mm_storeu_si128((__m128i *)(void *)bytes, y);
    memcpy(dst, bytes, cols);
}

void fq_qs8_gemm_ukernel_4x16c2__avx2(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                      size_t a_stride, const void *packed_w, uint8_t *c,
                                      size_t c_stride, const fq_qs8_requant_params *params)
{
    const uint8_t *arow[MR];
    uint8_t *crow[MR];
    fq_qs8_tile_rows(mr, MR, a, a_stride, c, c_stride, arow, crow);

    int16_t rows[MR][K_BLOCK];
    const uint8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        __m256i acc[MR][2];
        __m256i bias_lo = _mm256_loadu_si256((const __m256i *)(const void *)w);
        __m256i bias_hi = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32));
        for (int i = 0; i < MR; i++) {
            acc[i][0] = bias_lo;
            acc[i][1] = bias_hi;
        }
        w += NR * sizeof(int32_t);

        for (size_t k0 = 0; k0 < kc; k0 += K_BLOCK) {
            size_t n = kc - k0 < K_BLOCK ? kc - k0 : K_BLOCK;
            widen_rows(arow, k0, n, rows);
            for (size_t p = 0; p < n; p += 2) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(const void *)w);
                __m256i w_lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(wv));
                __m256i w_hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(wv, 1));
                w += 2 * NR;
                for (int i = 0; i < MR; i++) {
                    __m256i x = broadcast_pair(&rows[i][p]);
                    acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(x, w_lo));
                    acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(x, w_hi));
                }
            }
        }

        const float *multiplier = (const float *)(const void *)w;
        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (int i = MR - 1; i >= 0; i--)
            store16(crow[i] + j0, requantize8(acc[i][0], multiplier, params),
                    requantize8(acc[i][1], multiplier + 8, params), cols);
    }
}
