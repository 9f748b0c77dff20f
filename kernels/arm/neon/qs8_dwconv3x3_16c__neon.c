/* qs8 depthwise 3x3, 16 channels a step as two halves of 8, NEON (AArch64 and ARMv7).
 *
 * Activations widen to int16 (vmovl_u8), weights too (vmovl_s8), and vmlal_s16 adds each
 * product into int32 lanes exactly. Rounding is that of the NEON GEMM kernel. A channel tail is
 * copied into a zeroed 16-byte buffer so no load passes the pixel. */
#include <arm_neon.h>
#include <string.h>

#include "qs8_dwconv.h"

static int32x4_t round_to_int(float32x4_t v)
{
#if defined(__aarch64__)
    return vcvtnq_s32_f32(v);
#else
    const float32x4_t magic = vdupq_n_f32(12582912.0f);
    return vsubq_s32(vreinterpretq_s32_f32(vaddq_f32(v, magic)),
                     vreinterpretq_s32_f32(magic));
#endif
}

static int16x4_t requantize4(int32x4_t acc, const float *multiplier,
                             const fq_qs8_requant_params *params)
{
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(multiplier));
    v = vmaxq_f32(v, vdupq_n_f32(params->min_less_zero_point));
    v = vminq_f32(v, vdupq_n_f32(params->max_less_zero_point));
    return vqmovn_s32(vaddq_s32(round_to_int(v), vdupq_n_s32(params->output_zero_point)));
}

static void channel_tile(size_t c0, size_t n, const uint8_t *const *taps, const uint8_t *tile,
                         uint8_t *out, const fq_qs8_requant_params *params)
{
    const int32_t *bias = (const int32_t *)(const void *)tile;
    int32x4_t acc[4] = {vld1q_s32(bias), vld1q_s32(bias + 4), vld1q_s32(bias + 8),
                        vld1q_s32(bias + 12)};
    const int8_t *w = (const int8_t *)(tile + FQ_QS8_DWCONV_TILE * sizeof(int32_t));

    for (int t = 0; t < FQ_QS8_DWCONV_TAPS; t++) {
        const uint8_t *x = taps[t] + c0;
        uint8_t tail[FQ_QS8_DWCONV_TILE] = {0};
        if (n < FQ_QS8_DWCONV_TILE) {
            memcpy(tail, x, n);
            x = tail;
        }
        uint8x16_t xv = vld1q_u8(x);
        int8x16_t wv = vld1q_s8(w + 16 * t);
        int16x8_t x_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(xv)));
        int16x8_t x_hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(xv)));
        int16x8_t w_lo = vmovl_s8(vget_low_s8(wv)), w_hi = vmovl_s8(vget_high_s8(wv));
        acc[0] = vmlal_s16(acc[0], vget_low_s16(x_lo), vget_low_s16(w_lo));
        acc[1] = vmlal_s16(acc[1], vget_high_s16(x_lo), vget_high_s16(w_lo));
        acc[2] = vmlal_s16(acc[2], vget_low_s16(x_hi), vget_low_s16(w_hi));
        acc[3] = vmlal_s16(acc[3], vget_high_s16(x_hi), vget_high_s16(w_hi));
    }

    const float *m = (const float *)(const void *)(w + 16 * FQ_QS8_DWCONV_TAPS);
    int16x8_t y_lo = vcombine_s16(requantize4(acc[0], m, params),
                                  requantize4(acc[1], m + 4, params));
    int16x8_t y_hi = vcombine_s16(requantize4(acc[2], m + 8, params),
                                  requantize4(acc[3], m + 12, params));
    uint8x16_t y = vcombine_u8(vqmovun_s16(y_lo), vqmovun_s16(y_hi));
    if (n == FQ_QS8_DWCONV_TILE) {
        vst1q_u8(out + c0, y);
        return;
    }
    uint8_t bytes[FQ_QS8_DWCONV_TILE];
    vst1q_u8(bytes, y);
    memcpy(out + c0, bytes, n);
}

void fq_qs8_dwconv3x3_ukernel_16c__neon(size_t channels, size_t output_pixels,
                                        const uint8_t *const *input, const void *packed_w,
                                        uint8_t *output, size_t output_pixel_stride,
                                        const fq_qs8_requant_params *params)
{
    for (size_t p = 0; p < output_pixels; p++) {
        const uint8_t *tile = packed_w;
        for (size_t c0 = 0; c0 < channels; c0 += FQ_QS8_DWCONV_TILE) {
            size_t n = channels - c0 < FQ_QS8_DWCONV_TILE ? channels - c0 : FQ_QS8_DWCONV_TILE;
            channel_tile(c0, n, input + p * FQ_QS8_DWCONV_TAPS, tile,
                         output + p * output_pixel_stride, params);
            tile += FQ_QS8_DWCONV_TILE_BYTES;
        }
    }
}
