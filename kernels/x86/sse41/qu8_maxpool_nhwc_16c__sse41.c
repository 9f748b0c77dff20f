/* u8 NHWC max pooling for SSE4.1, 16 channels per vector, then 8 and single channels
 * (contract in qu8_pool.h). */
#include <smmintrin.h>

#include "qu8_pool.h"

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

void fq_qu8_maxpool_ukernel_16c__sse41(size_t pixels, size_t channels, size_t taps,
                                       size_t tap_step, size_t pixel_step, const uint8_t *x,
                                       uint8_t *y)
{
    for (size_t o = 0; o < pixels; o++, x += pixel_step, y += channels) {
        size_t c = 0;
        for (; c + 16 <= channels; c += 16)
            max_16(taps, tap_step, x + c, y + c);
        if (c + 8 <= channels) {
            max_8(taps, tap_step, x + c, y + c);
            c += 8;
        }
        for (; c < channels; c++) {
            uint8_t best = x[c];
            for (size_t t = 1; t < taps; t++)
                best = x[t * tap_step + c] > best ? x[t * tap_step + c] : best;
            y[c] = best;
        }
    }
}
