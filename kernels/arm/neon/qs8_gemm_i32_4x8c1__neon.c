/* int8 GEMM with int32 output, 4 rows x 8 channels, k one at a time, NEON (AArch64 and ARMv7).
 *
 * Activations widen to int16 (vmovl_u8: 0..255 fits), weights widen with vmovl_s8, and
 * vmlal_lane_s16 adds each int16 x int16 product into int32 lanes exactly. */
#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm_i32.h"

#define MR 4
#define NR 8

static void store8(int32_t *dst, int32x4_t lo, int32x4_t hi, size_t cols)
{
    if (cols >= NR) {
        vst1q_s32(dst, lo);
        vst1q_s32(dst + 4, hi);
        return;
    }
    int32_t values[NR];
    vst1q_s32(values, lo);
    vst1q_s32(values + 4, hi);
    memcpy(dst, values, cols * sizeof(int32_t));
}

/* acc[i] += lane LANE of the 4 k values x[i] times the 8 widened weights of that k. */
#define I32_NEON_K(HALF, LANE)                                                             \
    do {                                                                                   \
        int16x8_t wv = vmovl_s8(vld1_s8(w));                                               \
        w += NR;                                                                           \
        for (int i = 0; i < MR; i++) {                                                     \
            int16x4_t xs = HALF(x[i]);                                                     \
            acc[i][0] = vmlal_lane_s16(acc[i][0], vget_low_s16(wv), xs, LANE);             \
            acc[i][1] = vmlal_lane_s16(acc[i][1], vget_high_s16(wv), xs, LANE);            \
        }                                                                                  \
    } while (0)

void fq_qs8_gemm_i32_ukernel_4x8c1__neon(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                         size_t a_stride, const void *packed_w, int32_t *c,
                                         size_t c_stride)
{
    const uint8_t *arow[MR];
    for (size_t i = 0; i < MR; i++)
        arow[i] = a + (i < mr ? i : mr - 1) * a_stride;

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
            I32_NEON_K(vget_low_s16, 0);
            I32_NEON_K(vget_low_s16, 1);
            I32_NEON_K(vget_low_s16, 2);
            I32_NEON_K(vget_low_s16, 3);
            I32_NEON_K(vget_high_s16, 0);
            I32_NEON_K(vget_high_s16, 1);
            I32_NEON_K(vget_high_s16, 2);
            I32_NEON_K(vget_high_s16, 3);
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

        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (size_t i = 0; i < mr; i++)
            store8((int32_t *)(void *)((uint8_t *)c + i * c_stride) + j0, acc[i][0],
                   acc[i][1], cols);
    }
}
