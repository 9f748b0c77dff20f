/* Portable qs8 small-channel convolution microkernel on the packed layout of
 * kernels/qs8_stemconv.h, one output pixel at a time. */
#include <string.h>

#include "qs8_stemconv.h"

void fq_qs8_stemconv_ukernel_1x16c4__scalar(size_t pixels, size_t kernel_h, size_t groups,
                                            const uint8_t *const *rows, const void *packed_w,
                                            size_t channels, uint8_t *output,
                                            size_t output_stride,
                                            const fq_qs8_requant_params *params)
{
    size_t weights = kernel_h * groups * 4 * FQ_QS8_STEMCONV_PANEL;
    size_t panel_bytes = FQ_QS8_STEMCONV_PANEL * 2 * sizeof(int32_t) + weights;
    for (size_t p = 0; p < pixels; p++) {
        const uint8_t *const *taps = rows + p * kernel_h;
        const uint8_t *panel = packed_w;
        for (size_t j0 = 0; j0 < channels; j0 += FQ_QS8_STEMCONV_PANEL) {
            int32_t acc[FQ_QS8_STEMCONV_PANEL];
            float multiplier[FQ_QS8_STEMCONV_PANEL];
            const int8_t *w = (const int8_t *)(panel + sizeof(acc));
            memcpy(acc, panel, sizeof(acc));
            memcpy(multiplier, w + weights, sizeof(multiplier));

            for (size_t r = 0; r < kernel_h; r++)
                for (size_t t = 0; t < groups * 4; t++)
                    for (size_t i = 0; i < FQ_QS8_STEMCONV_PANEL; i++)
                        acc[i] += (int32_t)taps[r][t] *
                                  w[((r * groups + t / 4) * FQ_QS8_STEMCONV_PANEL + i) * 4 +
                                    t % 4];
            size_t n = channels - j0 < FQ_QS8_STEMCONV_PANEL ? channels - j0
                                                             : FQ_QS8_STEMCONV_PANEL;
            for (size_t i = 0; i < n; i++)
                output[p * output_stride + j0 + i] =
                    fq_qs8_requantize(acc[i], multiplier[i], params);
            panel += panel_bytes;
        }
    }
}
