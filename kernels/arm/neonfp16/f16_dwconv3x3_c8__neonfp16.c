/* fp16 depthwise 3x3 convolution, NHWC, 8 channels per vector, ARMv8.2-A fp16 arithmetic:
 * see f16_gemm.h. For each output pixel and group of 8 channels the nine taps inside the image
 * are added in row-major order with vfmaq_f16; a last group of fewer than 8 channels goes
 * through a zero-padded copy, so no byte past the tensors is read or written. Stride 1 and 2
 * share the code. */
#include <arm_neon.h>
#include <string.h>

#include "f16_gemm.h"

enum { CR = 8 };

static float16x8_t load_f16x8(const uint16_t *p)
{
    return vreinterpretq_f16_u16(vld1q_u16(p));
}

static float16x8_t load_channels(const uint16_t *p, size_t count)
{
    if (count >= CR)
        return load_f16x8(p);
    uint16_t lanes[CR] = {0};
    memcpy(lanes, p, count * sizeof(*p));
    return load_f16x8(lanes);
}

static void store_channels(uint16_t *dst, float16x8_t v, size_t count)
{
    uint16_t lanes[CR];
    vst1q_u16(lanes, vreinterpretq_u16_f16(v));
    memcpy(dst, lanes, (count < CR ? count : CR) * sizeof(*dst));
}

static void pixel(const fq_f16_dwconv3x3_params *p, const uint16_t *x, const uint16_t *w,
                  size_t oh, size_t ow, uint16_t *out)
{
    float16x8_t lo = vreinterpretq_f16_u16(vdupq_n_u16(p->clamp.min));
    float16x8_t hi = vreinterpretq_f16_u16(vdupq_n_u16(p->clamp.max));

    for (size_t ch = 0; ch < p->channels; ch += CR, w += CR * 10) {
        size_t count = p->channels - ch;
        float16x8_t acc = load_f16x8(w);
        for (size_t kh = 0; kh < 3; kh++) {
            size_t ih = oh * p->stride + kh - p->pad_top; /* wraps around above the image */
            if (ih >= p->in_h)
                continue;
            for (size_t kw = 0; kw < 3; kw++) {
                size_t iw = ow * p->stride + kw - p->pad_left;
                if (iw >= p->in_w)
                    continue;
                const uint16_t *src = x + (ih * p->in_w + iw) * p->channels + ch;
                float16x8_t tap = load_f16x8(w + CR + (kh * 3 + kw) * CR);
                acc = vfmaq_f16(acc, load_channels(src, count), tap);
            }
        }
        store_channels(out + ch, vminq_f16(vmaxq_f16(acc, lo), hi), count);
    }
}

void fq_f16_dwconv3x3_ukernel_c8__neonfp16(const fq_f16_dwconv3x3_params *p, const uint16_t *x,
                                           const uint16_t *packed_w, uint16_t *y)
{
    for (size_t oh = 0; oh < p->out_h; oh++)
        for (size_t ow = 0; ow < p->out_w; ow++)
            pixel(p, x, packed_w, oh, ow, y + (oh * p->out_w + ow) * p->channels);
}
