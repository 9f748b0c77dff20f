/* u8 NHWC max pooling for NEON (ARMv7-A and aarch64), 16 channels per vector, then 8 and
 * single channels (contract in qu8_pool.h). */
#include <arm_neon.h>

#include "qu8_pool.h"

static void max_16(size_t taps, size_t step, const uint8_t *x, uint8_t *y)
{
    uint8x16_t best = vld1q_u8(x);
    for (size_t t = 1; t < taps; t++)
        best = vmaxq_u8(best, vld1q_u8(x + t * step));
    vst1q_u8(y, best);
}

static void max_8(size_t taps, size_t step, const uint8_t *x, uint8_t *y)
{
    uint8x8_t best = vld1_u8(x);
    for (size_t t = 1; t < taps; t++)
        best = vmax_u8(best, vld1_u8(x + t * step));
    vst1_u8(y, best);
}

void fq_qu8_maxpool_ukernel_16c__neon(size_t pixels, size_t channels, size_t taps,
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
