/* Reference static int8 convolution: a direct loop over output pixels, channels and taps. */
#include "ref/qs8_conv2d_ref.h"

/* Input index along an axis for output o and tap t, or SIZE_MAX when it falls in the padding. */
static size_t input_index(size_t o, size_t t, size_t stride, size_t dilation, size_t pad,
                          size_t in)
{
    size_t pos = o * stride + t * dilation;
    if (pos < pad || pos - pad >= in)
        return SIZE_MAX;
    return pos - pad;
}

static int32_t output_sum(const fq_qs8_conv_shape *s, const uint8_t *image, const int8_t *wo,
                          int32_t bias, size_t oy, size_t ox)
{
    int64_t acc = bias;
    for (size_t ky = 0; ky < s->kernel_h; ky++) {
        size_t iy = input_index(oy, ky, s->stride_h, s->dilation_h, s->pad_top, s->in_height);
        if (iy == SIZE_MAX)
            continue;
        for (size_t kx = 0; kx < s->kernel_w; kx++) {
            size_t ix = input_index(ox, kx, s->stride_w, s->dilation_w, s->pad_left,
                                    s->in_width);
            if (ix == SIZE_MAX)
                continue;
            const uint8_t *x = image + (iy * s->in_width + ix) * s->in_channels;
            const int8_t *w = wo + (ky * s->kernel_w + kx) * s->in_channels;
            for (size_t ci = 0; ci < s->in_channels; ci++)
                acc += (int64_t)((int32_t)x[ci] - s->input_zero_point) * w[ci];
        }
    }
    return (int32_t)acc;
}

void fq_qs8_conv2d_ref(const fq_qs8_conv_shape *s, const uint8_t *input, const int8_t *w,
                       const int32_t *bias, const float *multiplier, uint8_t *output,
                       const fq_qs8_requant_params *params)
{
    size_t image_size = s->in_height * s->in_width * s->in_channels;
    size_t filter_size = s->kernel_h * s->kernel_w * s->in_channels;
    uint8_t *y = output;
    for (size_t b = 0; b < s->batch; b++)
        for (size_t oy = 0; oy < s->out_height; oy++)
            for (size_t ox = 0; ox < s->out_width; ox++)
                for (size_t co = 0; co < s->out_channels; co++) {
                    int32_t acc = output_sum(s, input + b * image_size, w + co * filter_size,
                                             bias != NULL ? bias[co] : 0, oy, ox);
                    *y++ = fq_qs8_requantize(acc, multiplier[co], params);
                }
}
