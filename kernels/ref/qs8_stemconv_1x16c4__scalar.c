/* Portable qs8 small-channel convolution microkernel on the packed layout of
 * kernels/qs8_stemconv.h, one output pixel at a time: full panels and the split tail panel. */
#include <string.h>

#include "qs8_stemconv.h"

/* One panel of split `split` for the pixel whose kernel row r starts at rows[r] + offset:
 * count channels. */
static void panel_pixel(size_t kernel_h, size_t groups, size_t split, const uint8_t *const *rows,
                        size_t offset, const uint8_t *panel, size_t count,
                        uint8_t *out, const fq_qs8_requant_params *params)
{
    int32_t acc[FQ_QS8_STEMCONV_PANEL];
    float multiplier[FQ_QS8_STEMCONV_PANEL];
    size_t steps = groups / split;
    const int8_t *w = (const int8_t *)(panel + sizeof(acc));
    memcpy(acc, panel, sizeof(acc));
    memcpy(multiplier, w + kernel_h * steps * 4 * FQ_QS8_STEMCONV_PANEL, sizeof(multiplier));

    for (size_t r = 0; r < kernel_h; r++)
        for (size_t s = 0; s < steps; s++)
            for (size_t lane = 0; lane < FQ_QS8_STEMCONV_PANEL; lane++)
                for (size_t b = 0; b < 4; b++) {
                    size_t byte = 4 * (s * split + lane % split) + b;
                    acc[lane] += (int32_t)rows[r][offset + byte] *
                                 w[((r * steps + s) * FQ_QS8_STEMCONV_PANEL + lane) * 4 + b];
                }
    for (size_t i = 0; i < count; i++) {
        int32_t sum = 0;
        for (size_t q = 0; q < split; q++)
            sum += acc[i * split + q];
        out[i] = fq_qs8_requantize(sum, multiplier[i], params);
    }
}

void fq_qs8_stemconv_ukernel_1x16c4__scalar(size_t pixels, size_t kernel_h, size_t groups,
                                            const uint8_t *const *rows, size_t pixel_step,
                                            const void *packed_w, size_t channels, uint8_t *output,
                                            size_t output_stride,
                                            const fq_qs8_requant_params *params)
{
    size_t tail_split = fq_qs8_stemconv_split(channels);
    for (size_t p = 0; p < pixels; p++) {
        const uint8_t *panel = packed_w;
        for (size_t j0 = 0; j0 < channels; j0 += FQ_QS8_STEMCONV_PANEL) {
            size_t count = channels - j0 < FQ_QS8_STEMCONV_PANEL ? channels - j0
                                                                 : FQ_QS8_STEMCONV_PANEL;
            size_t split = count < FQ_QS8_STEMCONV_PANEL ? tail_split : 1;
            panel_pixel(kernel_h, groups, split, rows, p * pixel_step, panel, count,
                        output + p * output_stride + j0, params);
            panel += fq_qs8_stemconv_panel_bytes(kernel_h, groups, split);
        }
    }
}
