/* u8 NHWC average pooling for SSE4.1, 4 channels per vector and the last ones one by one
 * (contract in qu8_pool.h).
 *
 * The int32 sums go to double, are multiplied and divided there and rounded to float once, or,
 * when r->scale is set, are multiplied by it in float (the same value, see qu8_pool.h); then
 * they are requantized step by step as fq_qu8_requantize does: the add-and-subtract rounding,
 * NaN to 0, the clamps to [-512, 512], truncation, the zero point and the clamp to [0, 255]. */
#include <smmintrin.h>
#include <string.h>

#include "qu8_pool.h"
#include "ref/qu8_requant_ref.h"

static __m128 average(__m128i sum, const fq_qu8_avgpool_requant *r)
{
    if (r->scale != 0.0f)
        return _mm_mul_ps(_mm_cvtepi32_ps(sum), _mm_set1_ps(r->scale));
    const __m128d multiplier = _mm_set1_pd(r->multiplier);
    const __m128d count = _mm_set1_pd(r->count);
    __m128d lo = _mm_cvtepi32_pd(sum);
    __m128d hi = _mm_cvtepi32_pd(_mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
    lo = _mm_div_pd(_mm_mul_pd(lo, multiplier), count);
    hi = _mm_div_pd(_mm_mul_pd(hi, multiplier), count);
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}

/* The 4 codes in the low 32 bits. */
static int32_t requantize(__m128 v, int32_t y_zero)
{
    const __m128 bias = _mm_set1_ps(FQ_QU8_ROUNDING_BIAS);
    __m128 rounded = _mm_sub_ps(_mm_add_ps(v, bias), bias);
    rounded = _mm_and_ps(rounded, _mm_cmpord_ps(rounded, rounded));
    rounded = _mm_max_ps(rounded, _mm_set1_ps(-512.0f));
    rounded = _mm_min_ps(rounded, _mm_set1_ps(512.0f));
    __m128i q = _mm_add_epi32(_mm_cvttps_epi32(rounded), _mm_set1_epi32(y_zero));
    q = _mm_max_epi32(q, _mm_setzero_si128());
    q = _mm_min_epi32(q, _mm_set1_epi32(255));
    __m128i words = _mm_packus_epi32(q, q);
    return _mm_cvtsi128_si32(_mm_packus_epi16(words, words));
}

static __m128i load_4(const uint8_t *x)
{
    int32_t bytes;
    memcpy(&bytes, x, sizeof(bytes));
    return _mm_cvtepu8_epi32(_mm_cvtsi32_si128(bytes));
}

void fq_qu8_avgpool_ukernel_4c__sse41(size_t channels, size_t taps, const uint8_t *const *x,
                                      const fq_qu8_avgpool_requant *r, uint8_t *y)
{
    const __m128i bias = _mm_set1_epi32(r->bias);
    size_t c = 0;
    for (; c + 4 <= channels; c += 4) {
        __m128i sum = bias;
        for (size_t t = 0; t < taps; t++)
            sum = _mm_add_epi32(sum, load_4(x[t] + c));
        int32_t codes = requantize(average(sum, r), r->y_zero);
        memcpy(y + c, &codes, sizeof(codes));
    }
    for (; c < channels; c++) {
        int32_t sum = r->bias;
        for (size_t t = 0; t < taps; t++)
            sum += x[t][c];
        y[c] = fq_qu8_requantize((float)((double)sum * r->multiplier / r->count), r->y_zero, 0);
    }
}
