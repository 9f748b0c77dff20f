/* u8 NHWC average pooling for AVX2, 8 channels per vector and the last ones one by one
 * (contract in qu8_pool.h).
 *
 * The int32 sums go to double, are multiplied and divided there and rounded to float once, or,
 * when r->scale is set, are multiplied by it in float (the same value, see qu8_pool.h); then
 * they are requantized step by step as fq_qu8_requantize does: the add-and-subtract rounding,
 * NaN to 0, the clamps to [-512, 512], truncation, the zero point and the clamp to [0, 255]. */
#include <immintrin.h>

#include "qu8_pool.h"
#include "ref/qu8_requant_ref.h"

static __m256 average(__m256i sum, const fq_qu8_avgpool_requant *r)
{
    if (r->scale != 0.0f)
        return _mm256_mul_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(r->scale));
    const __m256d multiplier = _mm256_set1_pd(r->multiplier);
    const __m256d count = _mm256_set1_pd(r->count);
    __m256d lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(sum));
    __m256d hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(sum, 1));
    lo = _mm256_div_pd(_mm256_mul_pd(lo, multiplier), count);
    hi = _mm256_div_pd(_mm256_mul_pd(hi, multiplier), count);
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

/* The 8 codes in the low half. */
static __m128i requantize(__m256 v, int32_t y_zero)
{
    const __m256 bias = _mm256_set1_ps(FQ_QU8_ROUNDING_BIAS);
    __m256 rounded = _mm256_sub_ps(_mm256_add_ps(v, bias), bias);
    rounded = _mm256_and_ps(rounded, _mm256_cmp_ps(rounded, rounded, _CMP_ORD_Q));
    rounded = _mm256_max_ps(rounded, _mm256_set1_ps(-512.0f));
    rounded = _mm256_min_ps(rounded, _mm256_set1_ps(512.0f));
    __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(rounded), _mm256_set1_epi32(y_zero));
    q = _mm256_max_epi32(q, _mm256_setzero_si256());
    q = _mm256_min_epi32(q, _mm256_set1_epi32(255));
    __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    return _mm_packus_epi16(words, words);
}

void fq_qu8_avgpool_ukernel_8c__avx2(size_t channels, size_t taps, const uint8_t *const *x,
                                     const fq_qu8_avgpool_requant *r, uint8_t *y)
{
    const __m256i bias = _mm256_set1_epi32(r->bias);
    size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256i sum = bias;
        for (size_t t = 0; t < taps; t++)
            sum = _mm256_add_epi32(sum, _mm256_cvtepu8_epi32(
                                            _mm_loadl_epi64((const __m128i *)(x[t] + c))));
        _mm_storel_epi64((__m128i *)(y + c), requantize(average(sum, r), r->y_zero));
    }
    for (; c < channels; c++) {
        int32_t sum = r->bias;
        for (size_t t = 0; t < taps; t++)
            sum += x[t][c];
        y[c] = fq_qu8_requantize((float)((double)sum * r->multiplier / r->count), r->y_zero, 0);
    }
}
