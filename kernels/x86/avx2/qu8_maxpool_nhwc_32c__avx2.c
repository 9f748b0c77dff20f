/* u8 NHWC max pooling for AVX2, 32 channels per vector, then 16, 8 and single channels
 * (contract in qu8_pool.h). */
#include <immintrin.h>

#include "qu8_pool.h"

static size_t max_32(size_t channels, size_t taps, size_t step, const uint8_t *x, uint8_t *y)
{
    size_t c = 0;
    for (; c + 32 <= channels; c += 32) {
        __m256i best = _mm256_loadu_si256((const __m256i *)(x + c));
        for (size_t t = 1; t < taps; t++)
            best = _mm256_max_epu8(best, _mm256_loadu_si256((const __m256i *)(x + t * step + c)));
        _mm256_storeu_si256((__m256i *)(y + c), best);
    }
    return c;
}

static void max_16(size_t taps, size_t step, const uint8_t *x, uint8_t *y)
{
    __m128i best = _mm_loadu_si128((const __m128i *)x);
    for (size_t t = 1; t < taps; t++)
        best = _mm_max_epu8(best, _mm_loadu_si128((const __m128i *)(x + t * step)));
    _mm_storeu_si128((__m128i *)y, best);
}

static void max_8(size_t taps, size_t step, const uint8_t *x, uint8_t *y)
{
    __m128i best = _mm_loadl_epi64((const __m128i *)x);
    for (size_t t = 1; t < taps; t++)
        best = _mm_max_epu8(best, _mm_loadl_epi64((const __m128i *)(x + t * step)));
    _mm_storel_epi64((__m128i *)y, best);
}

static void max_1(size_t taps, size_t step, const uint8_t *x, uint8_t *y)
{
    uint8_t best = x[0];
    for (size_t t = 1; t < taps; t++)
        best = x[t * step] > best ? x[t * step] : best;
    *y = best;
}

void fq_qu8_maxpool_ukernel_32c__avx2(size_t pixels, size_t channels, size_t taps,
                                      size_t tap_step, size_t pixel_step, const uint8_t *x,
                                      uint8_t *y)
{
    for (size_t o = 0; o < pixels; o++, x += pixel_step, y += channels) {
        size_t c = max_32(channels, taps, tap_step, x, y);
        if (c + 16 <= channels) {
            max_16(taps, tap_step, x + c, y + c);
            c += 16;
        }
        if (c + 8 <= channels) {
            max_8(taps, tap_step, x + c, y + c);
            c += 8;
        }
        for (; c < channels; c++)
            max_1(taps, tap_step, x + c, y + c);
    }
}
