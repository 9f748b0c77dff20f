/* qs8 GEMM, 4 rows x 8 channels, k in pairs, SSE4.1.
 *
 * Activations widen to int16 with pmovzxbw and weights with pmovsxbw; pmaddwd sums each pair of
 * products into int32 (at most 2 * 255 * 128 in magnitude), so nothing saturates and the result
 * equals the reference bit for bit. The packed layout is that of the AVX2 kernel. */
#include <smmintrin.h>
#include <string.h>

#include "qs8_gemm.h"

#define MR 4
#define NR 8
#define CHUNK 8 /* k values widened per row load: 4 pairs */

static __m128i requantize4(__m128i acc, __m128 multiplier, const fq_qs8_requant_params *params)
{
    __m128 v = _mm_mul_ps(_mm_cvtepi32_ps(acc), multiplier);
    v = _mm_max_ps(v, _mm_set1_ps(params->min_less_zero_point));
    v = _mm_min_ps(v, _mm_set1_ps(params->max_less_zero_point));
    return _mm_add_epi32(_mm_cvtps_epi32(v), _mm_set1_epi32(params->output_zero_point));
}

static void store8(uint8_t *dst, __m128i lo, __m128i hi, size_t cols)
{
    __m128i s = _mm_packs_epi32(lo, hi);
    __m128i y = _mm_packus_epi16(s, s);
    if (cols >= NR) {
        _mm_storel_epi64((__m128i *)(void *)dst, y);
        return;
    }
    uint8_t bytes[16];
    _mm_storeu_si128((__m128i *)(void *)bytes, y);
    memcpy(dst, bytes, cols);
}

/* A row's k values [k, k + n), n <= CHUNK, widened to 8 int16 (zeros past n). */
static __m128i load_chunk(const uint8_t *row, size_t n)
{
    uint64_t bytes = 0;
    memcpy(&bytes, row, n);
    return _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)bytes));
}

/* acc[i][0..1] += the pair broadcast from x[i] times the pair's 8 channels at w. */
#define QS8_SSE41_PAIR(LANE)                                                               \
    do {                                                                                   \
        __m128i wv = _mm_loadu_si128((const __m128i *)(const void *)w);                    \
        __m128i w_lo = _mm_cvtepi8_epi16(wv);                                              \
        __m128i w_hi = _mm_cvtepi8_epi16(_mm_unpackhi_epi64(wv, wv));                      \
        w += 2 * NR;                                                                       \
        for (int i = 0; i < MR; i++) {                                                     \
            __m128i xp = _mm_shuffle_epi32(x[i], _MM_SHUFFLE(LANE, LANE, LANE, LANE));     \
            acc[i][0] = _mm_add_epi32(acc[i][0], _mm_madd_epi16(xp, w_lo));                \
            acc[i][1] = _mm_add_epi32(acc[i][1], _mm_madd_epi16(xp, w_hi));                \
        }                                                                                  \
    } while (0)

void fq_qs8_gemm_ukernel_4x8c2__sse41(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                      size_t a_stride, const void *packed_w, uint8_t *c,
                                      size_t c_stride, const fq_qs8_requant_params *params)
{
    const uint8_t *arow[MR];
    uint8_t *crow[MR];
    fq_qs8_tile_rows(mr, MR, a, a_stride, c, c_stride, arow, crow);

    const uint8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        __m128i acc[MR][2];
        __m128i bias_lo = _mm_loadu_si128((const __m128i *)(const void *)w);
        __m128i bias_hi = _mm_loadu_si128((const __m128i *)(const void *)(w + 16));
        for (int i = 0; i < MR; i++) {
            acc[i][0] = bias_lo;
            acc[i][1] = bias_hi;
        }
        w += NR * sizeof(int32_t);

        for (size_t k = 0; k < kc; k += CHUNK) {
            size_t n = kc - k < CHUNK ? kc - k : CHUNK;
            size_t pairs = (n + 1) / 2;
            __m128i x[MR];
            for (int i = 0; i < MR; i++)
                x[i] = load_chunk(arow[i] + k, n);
            QS8_SSE41_PAIR(0);
            if (pairs > 1)
                QS8_SSE41_PAIR(1);
            if (pairs > 2)
                QS8_SSE41_PAIR(2);
            if (pairs > 3)
                QS8_SSE41_PAIR(3);
        }

        const float *mult = (const float *)(const void *)w;
        __m128 m_lo = _mm_loadu_ps(mult), m_hi = _mm_loadu_ps(mult + 4);
        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (int i = MR - 1; i >= 0; i--)
            store8(crow[i] + j0, requantize4(acc[i][0], m_lo, params),
                   requantize4(acc[i][1], m_hi, params), cols);
    }
}
