/* The fused NCHW -> NHWC quantization (f32_quantize_u8_nchw2nhwc.h), aarch64 NEON: 16 pixels
 * at a time, four vectors of 4 floats per channel.
 *
 * vdivq_f32 is the scalar twin's IEEE division and vcvtnq_s32_f32 rounds half to even. A NaN
 * survives the clamp to +-512 and converts to 0 (giving the zero point); the saturating
 * narrows do the rest. vst3q_u8 interleaves three channels; other counts go through a small
 * buffer. */
#include <arm_neon.h>

#include "f32_quantize_u8_nchw2nhwc.h"

enum { MAX_CHANNELS = 16 };

static int16x4_t quantize4(const float *x, float32x4_t scale, int32x4_t zero_point)
{
    float32x4_t v = vdivq_f32(vld1q_f32(x), scale);
    v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(-512.0f)), vdupq_n_f32(512.0f));
    return vqmovn_s32(vaddq_s32(vcvtnq_s32_f32(v), zero_point));
}

static uint8x16_t quantize16(const float *x, float32x4_t scale, int32x4_t zero_point)
{
    int16x8_t low = vcombine_s16(quantize4(x, scale, zero_point),
                                 quantize4(x + 4, scale, zero_point));
    int16x8_t high = vcombine_s16(quantize4(x + 8, scale, zero_point),
                                  quantize4(x + 12, scale, zero_point));
    return vcombine_u8(vqmovun_s16(low), vqmovun_s16(high));
}

static void store16(const uint8x16_t *planes, size_t channels, uint8_t *q)
{
    if (channels == 1) {
        vst1q_u8(q, planes[0]);
        return;
    }
    if (channels == 3) {
        uint8x16x3_t rgb = {{planes[0], planes[1], planes[2]}};
        vst3q_u8(q, rgb);
        return;
    }
    uint8_t bytes[MAX_CHANNELS][16];
    for (size_t c = 0; c < channels; c++)
        vst1q_u8(bytes[c], planes[c]);
    for (size_t i = 0; i < 16; i++)
        for (size_t c = 0; c < channels; c++)
            q[i * channels + c] = bytes[c][i];
}

void fq_f32_quantize_u8_nchw2nhwc_16p__neon(size_t pixels, size_t channels, size_t plane,
                                            const float *x, float scale, int32_t zero_point,
                                            uint8_t *q)
{
    if (channels > MAX_CHANNELS) {
        fq_f32_quantize_u8_nchw2nhwc__scalar(pixels, channels, plane, x, scale, zero_point, q);
        return;
    }
    const float32x4_t s = vdupq_n_f32(scale);
    const int32x4_t zp = vdupq_n_s32(zero_point);
    size_t i = 0;
    for (; i + 16 <= pixels; i += 16) {
        uint8x16_t planes[MAX_CHANNELS];
        for (size_t c = 0; c < channels; c++)
            planes[c] = quantize16(x + c * plane + i, s, zp);
        store16(planes, channels, q + i * channels);
    }
    fq_f32_quantize_u8_nchw2nhwc__scalar(pixels - i, channels, plane, x + i, scale, zero_point,
                                         q + i * channels);
}
