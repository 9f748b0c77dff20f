/* int8 GEMM with int32 output, 4 rows x 8 channels, k in pairs, SSE4.1.
 *
 * Activations widen to int16 with pmovzxbw and weights with pmovsxbw; pmaddwd sums each pair of
 * products into int32 exactly (no pmaddubsw, whose int16 pair sum saturates). */
#include <smmintrin.h>
#include <string.h>

#include "qs8_gemm_i32.h"

#define MR 4
#define NR 8
#define CHUNK 8 /* k values widened per row load: 4 pairs */

/* A row's k values [k, k + n), n <= CHUNK, widened to 8 int16 (zeros past n). */
static __m128i load_chunk(const uint8_t *row, size_t n)
{
    uint64_t bytes = 0;
    memcpy(&bytes, row, n);
    return _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)bytes));
}

static void store8(int32_t *dst, __m128i lo, __m128i hi, size_t cols)
{
    if (cols >= NR) {
        _mm_storeu_si128((__m128i *)(void *)dst, lo);
        _mm_storeu_si128((__m128i *)(void *)(dst + 4), hi);
        return;
    }
    int32_t values[NR];
    _mm_storeu_si128((__m128i *)(void *)values, lo);
    _mm_storeu_si128((__m128i *)(void *)(values + 4), hi);
    memcpy(dst, values, cols * sizeof(int32_t));
}

/* acc[i][0..1] += pair LANE of x[i] times the pair's 8 channels at w. */
#define I32_SSE41_PAIR(LANE)                                                               \
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

void fq_qs8_gemm_i32_ukernel_4x8c2__sse41(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                          size_t a_stride, const void *packed_w, int32_t *c,
                                          size_t c_stride)
{
    const uint8_t *arow[MR];
    for (size_t i = 0; i < MR; i++)
        arow[i] = a + (i < mr ? i : mr - 1) * a_stride;

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
            I32_SSE41_PAIR(0);
            if (pairs > 1)
                I32_SSE41_PAIR(1);
            if (pairs > 2)
                I32_SSE41_PAIR(2);
            if (pairs > 3)
                I32_SSE41_PAIR(3);
        }

        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (size_t i = 0; i < mr; i++)
            store8((int32_t *)(void *)((uint8_t *)c + i * c_stride) + j0, acc[i][0], acc[i][1],
                   cols);
    }
}
