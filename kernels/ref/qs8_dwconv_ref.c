/* Reference static int8 depthwise convolution: a direct loop, int64 sums. */
#include "ref/qs8_dwconv_ref.h"

static int32_t channel_sum(const fq_qs8_conv_shape *s, const uint8_t *image, const int8_t *w,
                           size_t c, int32_t bias, size_t oy, size_t ox)
{
    int64_t acc = bias;
    for (size_t ky = 0; ky < s->kernel_h; ky++) {
        size_t py = oy * s->stride_h + ky * s->dilation_h;
        if (py < s->pad_top || py - s->pad_top >= s->in_height)
            continue;
        for (size_t kx = 0; kx < s->kernel_w; kx++) {
            size_t px = ox * s->stride_w + kx * s->dilation_w;
            if (px < s->pad_left || px - s->pad_left >= s->in_width)
                continue;
            size_t pixel = (py - s->pad_top) * s->in_width + (px - s->pad_left);
            int32_t x = image[pixel * s->in_channels + c];
            acc += (int64_t)(x - s->input_zero_point) *
                   w[(ky * s->kernel_w + kx) * s->in_channels + c];
        }
    }
    return (int32_t)acc;
}

void fq_qs8_dwconv_ref(const fq_qs8_conv_shape *s, const uint8_t *input, const int8_t *w,
                       const int32_t *bias, const float *multiplier, uint8_t *output,
                       const fq_qs8_requant_params *params)
{
    size_t image_size = s->in_height * s->in_width * s->in_channels;
    uint8_t *y = output;
    for (size_t b = 0; b < s->batch; b++)
        for (size_t oy = 0; oy < s->out_height; oy++)
            for (size_t ox = 0; ox < s->out_width; ox++)
                for (size_t c = 0; c < s->in_channels; c++) {
                    int32_t acc = channel_sum(s, input + b * image_size, w, c,
                                              bias != NULL ? bias[c] : 0, oy, ox);
                    *y++ = fq_qs8_requantize(acc, multiplier[c], params);
                }
}
