/* qs8 GEMM, 4 rows x 8 channels, k one at a time, NEON (AArch64 and ARMv7).
 *
 * Activations widen to int16 (vmovl_u8: 0..255 fits), weights widen with vmovl_s8, and
 * vmlal_lane_s16 adds each int16 x int16 product into int32 lanes exactly. ARMv7 has no
 * round-to-nearest-even conversion, so there the rounding adds 1.5 * 2^23 after the clamp: the
 * clamped value is within +-255, so the float addition rounds it to an integer, half to even. */
#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm.h"

#define MR 4
#define NR 8

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

static int16x4_t requantize4(int32x4_t acc, float32x4_t multiplier,
                             const fq_qs8_requant_params *params)
{
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), multiplier);
    v = vmaxq_f32(v, vdupq_n_f32(params->min_less_zero_point));
    v = vminq_f32(v, vdupq_n_f32(params->max_less_zero_point));
    int32x4_t y = vaddq_s32(round_to_int(v), vdupq_n_s32(params->output_zero_point));
    return vqmovn_s32(y);
}

static void store8(uint8_t *dst, uint8x8_t y, size_t cols)
{
    if (cols >= NR) {
        vst1_u8(dst, y);
        return;
    }
    uint8_t bytes[NR];
    vst1_u8(bytes, y);
    memcpy(dst, bytes, cols);
}

/* acc[i] += lane LANE of the 4 k values x[i] times the 8 widened weights of that k. */
#define QS8_NEON_K(HALF, LANE)                                                             \
    do {                                                                                   \
        int16x8_t wv = vmovl_s8(vld1_s8(w));                                               \
        w += NR;                                                                           \
        for (int i = 0; i < MR; i++) {                                                     \
            int16x4_t xs = HALF(x[i]);                                                     \
            acc[i][0] = vmlal_lane_s16(acc[i][0], vget_low_s16(wv), xs, LANE);             \
            acc[i][1] = vmlal_lane_s16(acc[i][1], vget_high_s16(wv), xs, LANE);            \
        }                                                                                  \
    } while (0)

void fq_qs8_gemm_ukernel_4x8c1__neon(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                     size_t a_stride, const void *packed_w, uint8_t *c,
                                     size_t c_stride, const fq_qs8_requant_params *params)
{
    const uint8_t *arow[MR];
    uint8_t *crow[MR];
    fq_qs8_tile_rows(mr, MR, a, a_stride, c, c_stride, arow, crow);

    const int8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        int32x4_t acc[MR][2];
        int32x4_t bias_lo = vld1q_s32((const int32_t *)(const void *)w);
        int32x4_t bias_hi = vld1q_s32((const int32_t *)(const void *)w + 4);
        for (int i = 0; i < MR; i++) {
            acc[i][0] = bias_lo;
            acc[i][1] = bias_hi;
        }
        w += NR * sizeof(int32_t);

        size_t k = 0;
        for (; k + 8 <= kc; k += 8) {
            int16x8_t x[MR];
            for (int i = 0; i < MR; i++)
                x[i] = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(arow[i] + k)));
            QS8_NEON_K(vget_low_s16, 0);
            QS8_NEON_K(vget_low_s16, 1);
            QS8_NEON_K(vget_low_s16, 2);
            QS8_NEON_K(vget_low_s16, 3);
            QS8_NEON_K(vget_high_s16, 0);
            QS8_NEON_K(vget_high_s16, 1);
            QS8_NEON_K(vget_high_s16, 2);
            QS8_NEON_K(vget_high_s16, 3);
        }
        for (; k < kc; k++) {
            int16x8_t wv = vmovl_s8(vld1_s8(w));
            w += NR;
            for (int i = 0; i < MR; i++) {
                int16_t xs = (int16_t)arow[i][k];
                acc[i][0] = vmlal_n_s16(acc[i][0], vget_low_s16(wv), xs);
                acc[i][1] = vmlal_n_s16(acc[i][1], vget_high_s16(wv), xs);
            }
        }

        const float *mult = (const float *)(const void *)w;
        float32x4_t m_lo = vld1q_f32(mult), m_hi = vld1q_f32(mult + 4);
        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (int i = MR - 1; i >= 0; i--) {
            int16x8_t y = vcombine_s16(requantize4(acc[i][0], m_lo, params),
                                       requantize4(acc[i][1], m_hi, params));
            store8(crow[i] + j0, vqmovun_s16(y), cols);
        }
    }
}
