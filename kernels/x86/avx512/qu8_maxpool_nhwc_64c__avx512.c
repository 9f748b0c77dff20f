/* u8 NHWC max pooling for AVX-512BW, 64 channels per vector and a masked vector for the rest
 * (contract in qu8_pool.h). */
#include <immintrin.h>

#include "qu8_pool.h"

static void max_pixel(size_t channels, size_t taps, size_t tap_step, __mmask64 tail,
                      const uint8_t *x, uint8_t *y)
{
    size_t c = 0;
    for (; c + 64 <= channels; c += 64) {
        __m512i best = _mm512_loadu_si512(x + c);
        for (size_t t = 1; t < taps; t++)
            best = _mm512_max_epu8(best, _mm512_loadu_si512(x + t * tap_step + c));
        _mm512_storeu_si512(y + c, best);
    }
    if (c == channels)
        return;

    __m512i best = _mm512_maskz_loadu_epi8(tail, x + c);
    for (size_t t = 1; t < taps; t++)
        best = _mm512_max_epu8(best, _mm512_maskz_loadu_epi8(tail, x + t * tap_step + c));
    _mm512_mask_storeu_epi8(y + c, tail, best);
}

void fq_qu8_maxpool_ukernel_64c__avx512(size_t pixels, size_t channels, size_t taps,
                                        size_t tap_step, size_t pixel_step, const uint8_t *x,
                                        uint8_t *y)
{
    __mmask64 tail = (__mmask64)((1ull << (channels % 64)) - 1u);
    for (size_t o = 0; o < pixels; o++)
        max_pixel(channels, taps, tap_step, tail, x + o * pixel_step, y + o * channels);
}
