/* u8 NHWC average pooling for NEON, 8 channels per vector pair and the last ones one by one
 * (contract in qu8_pool.h).
 *
 * When r->scale is set the int32 sums are multiplied by it in float (the reference's value,
 * see qu8_pool.h), on ARMv7-A and aarch64 alike. Otherwise aarch64 converts them to double,
 * multiplies and divides there and rounds to float once; ARMv7-A NEON has no double vectors,
 * so there each lane goes through the reference expression. The requantization then follows
 * fq_qu8_requantize step by step: the add-and-subtract rounding, NaN to 0, the clamps to
 * [-512, 512], truncation, the zero point and the clamp to [0, 255]. */
#include <arm_neon.h>

#include "qu8_pool.h"
#include "ref/qu8_requant_ref.h"

static uint8_t requantize_one(int32_t sum, const fq_qu8_avgpool_requant *r)
{
    return fq_qu8_requantize((float)((double)sum * r->multiplier / r->count), r->y_zero, 0);
}

static int32x4_t requantize(float32x4_t v, int32_t y_zero)
{
    const float32x4_t bias = vdupq_n_f32(FQ_QU8_ROUNDING_BIAS);
    float32x4_t rounded = vsubq_f32(vaddq_f32(v, bias), bias);
    uint32x4_t ordered = vceqq_f32(rounded, rounded);
    rounded = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(rounded), ordered));
    rounded = vmaxq_f32(rounded, vdupq_n_f32(-512.0f));
    rounded = vminq_f32(rounded, vdupq_n_f32(512.0f));
    int32x4_t q = vaddq_s32(vcvtq_s32_f32(rounded), vdupq_n_s32(y_zero));
    q = vmaxq_s32(q, vdupq_n_s32(0));
    return vminq_s32(q, vdupq_n_s32(255));
}

static void store_codes(int32x4_t lo, int32x4_t hi, uint8_t *y)
{
    uint16x8_t words = vcombine_u16(vqmovun_s32(lo), vqmovun_s32(hi));
    vst1_u8(y, vqmovn_u16(words));
}

#if defined(__aarch64__)
static float32x4_t average(int32x4_t sum, const fq_qu8_avgpool_requant *r)
{
    const float64x2_t multiplier = vdupq_n_f64(r->multiplier);
    const float64x2_t count = vdupq_n_f64(r->count);
    float64x2_t lo = vcvtq_f64_s64(vmovl_s32(vget_low_s32(sum)));
    float64x2_t hi = vcvtq_f64_s64(vmovl_s32(vget_high_s32(sum)));
    lo = vdivq_f64(vmulq_f64(lo, multiplier), count);
    hi = vdivq_f64(vmulq_f64(hi, multiplier), count);
    return vcombine_f32(vcvt_f32_f64(lo), vcvt_f32_f64(hi));
}

static void store_divided(int32x4_t lo, int32x4_t hi, const fq_qu8_avgpool_requant *r,
                          uint8_t *y)
{
    store_codes(requantize(average(lo, r), r->y_zero), requantize(average(hi, r), r->y_zero),
                y);
}
#else
static void store_divided(int32x4_t lo, int32x4_t hi, const fq_qu8_avgpool_requant *r,
                          uint8_t *y)
{
    int32_t sums[8];
    vst1q_s32(sums, lo);
    vst1q_s32(sums + 4, hi);
    for (int j = 0; j < 8; j++)
        y[j] = requantize_one(sums[j], r);
}
#endif

static void store_8(int32x4_t lo, int32x4_t hi, const fq_qu8_avgpool_requant *r, uint8_t *y)
{
    if (r->scale == 0.0f) {
        store_divided(lo, hi, r, y);
        return;
    }
    float32x4_t v_lo = vmulq_n_f32(vcvtq_f32_s32(lo), r->scale);
    float32x4_t v_hi = vmulq_n_f32(vcvtq_f32_s32(hi), r->scale);
    store_codes(requantize(v_lo, r->y_zero), requantize(v_hi, r->y_zero), y);
}

void fq_qu8_avgpool_ukernel_8c__neon(size_t channels, size_t taps, const uint8_t *const *x,
                                     const fq_qu8_avgpool_requant *r, uint8_t *y)
{
    size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
        uint32x4_t lo = vdupq_n_u32(0), hi = vdupq_n_u32(0);
        for (size_t t = 0; t < taps; t++) {
            uint16x8_t codes = vmovl_u8(vld1_u8(x[t] + c));
            lo = vaddw_u16(lo, vget_low_u16(codes));
            hi = vaddw_u16(hi, vget_high_u16(codes));
        }
        int32x4_t bias = vdupq_n_s32(r->bias);
        store_8(vaddq_s32(vreinterpretq_s32_u32(lo), bias),
                vaddq_s32(vreinterpretq_s32_u32(hi), bias), r, y + c);
    }
    for (; c < channels; c++) {
        int32_t sum = r->bias;
        for (size_t t = 0; t < taps; t++)
            sum += x[t][c];
        y[c] = requantize_one(sum, r);
    }
}
