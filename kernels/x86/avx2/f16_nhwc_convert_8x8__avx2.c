/* f32 NCHW <-> f16 NHWC conversions with F16C (f16_nhwc_convert.h): blocks of 8 channels x 8
 * pixels, converted 8 at a time and transposed as 16-bit lanes. vcvtps2ph with
 * _MM_FROUND_TO_NEAREST_INT rounds to nearest even, overflows to infinity and keeps a NaN's top
 * payload bits with the quiet bit set, as fq_f16_from_f32 does; vcvtph2ps is exact. */
#include <immintrin.h>

#include "f16_nhwc_convert.h"

/* r[j] holds 8 values of row j; afterwards r[p] holds column p (value j from row j). */
static inline void transpose8x8_u16(__m128i r[8])
{
    __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
    __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
    __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
    __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
    __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
    __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
    __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
    __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
    r[0] = _mm_unpacklo_epi64(b0, b4);
    r[1] = _mm_unpackhi_epi64(b0, b4);
    r[2] = _mm_unpacklo_epi64(b1, b5);
    r[3] = _mm_unpackhi_epi64(b1, b5);
    r[4] = _mm_unpacklo_epi64(b2, b6);
    r[5] = _mm_unpackhi_epi64(b2, b6);
    r[6] = _mm_unpacklo_epi64(b3, b7);
    r[7] = _mm_unpackhi_epi64(b3, b7);
}

static inline __m128i narrow8(const float *x)
{
    return _mm256_cvtps_ph(_mm256_loadu_ps(x), _MM_FROUND_TO_NEAREST_INT);
}

void fq_f32_nchw_to_f16_nhwc_8x8__avx2(size_t channels, size_t pixels, const float *x,
                                       uint16_t *y)
{
    size_t whole = pixels & ~(size_t)7, c0 = 0;
    for (; c0 + 8 <= channels; c0 += 8)
        for (size_t i = 0; i < whole; i += 8) {
            __m128i r[8];
            for (size_t j = 0; j < 8; j++)
                r[j] = narrow8(x + (c0 + j) * pixels + i);
            transpose8x8_u16(r);
            for (size_t p = 0; p < 8; p++)
                _mm_storeu_si128((__m128i *)(void *)(y + (i + p) * channels + c0), r[p]);
        }
    for (size_t c = c0; c < channels; c++)
        for (size_t i = 0; i < whole; i += 8) {
            uint16_t lanes[8];
            _mm_storeu_si128((__m128i *)(void *)lanes, narrow8(x + c * pixels + i));
            for (size_t p = 0; p < 8; p++)
                y[(i + p) * channels + c] = lanes[p];
        }
    if (whole < pixels) {
        /* The last pixels of every channel: a sub-image of pixels - whole pixels. */
        for (size_t c = 0; c < channels; c++)
            for (size_t i = whole; i < pixels; i++) {
                uint16_t lanes[8];
                _mm_storeu_si128((__m128i *)(void *)lanes,
                                 _mm256_cvtps_ph(_mm256_set1_ps(x[c * pixels + i]),
                                                 _MM_FROUND_TO_NEAREST_INT));
                y[i * channels + c] = lanes[0];
            }
    }
}

void fq_f16_nhwc_to_f32_nchw_8x8__avx2(size_t channels, size_t pixels, const uint16_t *x,
                                       float *y)
{
    size_t whole = pixels & ~(size_t)7, c0 = 0;
    for (; c0 + 8 <= channels; c0 += 8)
        for (size_t i = 0; i < whole; i += 8) {
            __m128i r[8];
            for (size_t p = 0; p < 8; p++)
                r[p] = _mm_loadu_si128((const __m128i *)(const void *)(x + (i + p) * channels +
                                                                       c0));
            transpose8x8_u16(r);
            for (size_t j = 0; j < 8; j++)
                _mm256_storeu_ps(y + (c0 + j) * pixels + i, _mm256_cvtph_ps(r[j]));
        }
    for (size_t c = c0; c < channels; c++)
        for (size_t i = 0; i < whole; i += 8) {
            uint16_t lanes[8];
            for (size_t p = 0; p < 8; p++)
                lanes[p] = x[(i + p) * channels + c];
            _mm256_storeu_ps(y + c * pixels + i,
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(void *)lanes)));
        }
    for (size_t c = 0; c < channels; c++)
        for (size_t i = whole; i < pixels; i++)
            y[c * pixels + i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_set1_epi16((short)x[i * channels +
                                                                                   c])));
}
