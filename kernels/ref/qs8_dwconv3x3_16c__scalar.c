/* Portable qs8 depthwise 3x3 microkernel on the packed layout of kernels/qs8_dwconv.h. */
#include <string.h>

#include "qs8_dwconv.h"

void fq_qs8_dwconv3x3_ukernel_16c__scalar(size_t channels, size_t output_pixels,
                                          const uint8_t *const *input, const void *packed_w,
                                          uint8_t *output, size_t output_pixel_stride,
                                          const fq_qs8_requant_params *params)
{
    for (size_t p = 0; p < output_pixels; p++) {
        const uint8_t *const *taps = input + p * FQ_QS8_DWCONV_TAPS;
        const uint8_t *tile = packed_w;
        for (size_t c0 = 0; c0 < channels; c0 += FQ_QS8_DWCONV_TILE) {
            int32_t acc[FQ_QS8_DWCONV_TILE];
            float multiplier[FQ_QS8_DWCONV_TILE];
            const int8_t *w = (const int8_t *)(tile + sizeof(acc));
            memcpy(acc, tile, sizeof(acc));
            memcpy(multiplier, w + FQ_QS8_DWCONV_TAPS * FQ_QS8_DWCONV_TILE, sizeof(multiplier));

            size_t n = channels - c0 < FQ_QS8_DWCONV_TILE ? channels - c0 : FQ_QS8_DWCONV_TILE;
            for (int t = 0; t < FQ_QS8_DWCONV_TAPS; t++)
                for (size_t j = 0; j < n; j++)
                    acc[j] += (int32_t)taps[t][c0 + j] * w[t * FQ_QS8_DWCONV_TILE + j];
            for (size_t j = 0; j < n; j++)
                output[p * output_pixel_stride + c0 + j] =
                    fq_qs8_requantize(acc[j], multiplier[j], params);
            tile += FQ_QS8_DWCONV_TILE_BYTES;
        }
    }
}
