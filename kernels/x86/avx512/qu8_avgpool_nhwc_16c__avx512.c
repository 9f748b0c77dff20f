/* u8 NHWC average pooling for AVX-512 (F, BW, VL, DQ), 16 channels per vector, the last ones
 * masked (contract in qu8_pool.h).
 *
 * The int32 sums go to double, are multiplied and divided there and rounded to float once, or,
 * when r->scale is set, are multiplied by it in float (the same value, see qu8_pool.h); then
 * they are requantized step by step as fq_qu8_requantize does: the add-and-subtract rounding,
 * NaN to 0, the clamps to [-512, 512], truncation, the zero point and the clamp to [0, 255]. */
#include <immintrin.h>

#include "qu8_pool.h"
#include "ref/qu8_requant_ref.h"

static __m512 average(__m512i sum, const fq_qu8_avgpool_requant *r)
{
    if (r->scale != 0.0f)
        return _mm512_mul_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(r->scale));
    const __m512d multiplier = _mm512_set1_pd(r->multiplier);
    const __m512d count = _mm512_set1_pd(r->count);
    __m512d lo = _mm512_cvtepi32_pd(_mm512_castsi512_si256(sum));
    __m512d hi = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(sum, 1));
    lo = _mm512_div_pd(_mm512_mul_pd(lo, multiplier), count);
    hi = _mm512_div_pd(_mm512_mul_pd(hi, multiplier), count);
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi),
                              1);
}

static __m128i requantize(__m512 v, int32_t y_zero)
{
    const __m512 bias = _mm512_set1_ps(FQ_QU8_ROUNDING_BIAS);
    __m512 rounded = _mm512_sub_ps(_mm512_add_ps(v, bias), bias);
    rounded = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(rounded, rounded, _CMP_ORD_Q), rounded);
    rounded = _mm512_max_ps(rounded, _mm512_set1_ps(-512.0f));
    rounded = _mm512_min_ps(rounded, _mm512_set1_ps(512.0f));
    __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(rounded), _mm512_set1_epi32(y_zero));
    q = _mm512_max_epi32(q, _mm512_setzero_si512());
    q = _mm512_min_epi32(q, _mm512_set1_epi32(255));
    return _mm512_cvtepi32_epi8(q);
}

void fq_qu8_avgpool_ukernel_16c__avx512(size_t channels, size_t taps, const uint8_t *const *x,
                                        const fq_qu8_avgpool_requant *r, uint8_t *y)
{
    const __m512i bias = _mm512_set1_epi32(r->bias);
    for (size_t c = 0; c < channels; c += 16) {
        __mmask16 lanes = channels - c >= 16 ? (__mmask16)0xffff
                                             : (__mmask16)((1u << (channels - c)) - 1u);
        __m512i sum = bias;
        for (size_t t = 0; t < taps; t++)
            sum = _mm512_add_epi32(sum,
                                   _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(lanes, x[t] + c)));
        _mm_mask_storeu_epi8(y + c, lanes, requantize(average(sum, r), r->y_zero));
    }
}
