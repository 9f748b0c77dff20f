/* qs8 GEMM, 4 rows x 8 channels, k in groups of 4, AArch64 NEON dot product (sdot).
 *
 * sdot multiplies signed by signed bytes, so activations are flipped to int8 (a ^ 0x80 is
 * a - 128): sum a * w = sum (a - 128) * w + 128 * sum w, and packing folds 128 * sum w into the
 * bias (activation_offset 128). sdot sums four products exactly into int32 lanes. */
#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm.h"

#define MR 4
#define NR 8
#define CHUNK 16 /* k values per row load: 4 groups */

static int16x4_t requantize4(int32x4_t acc, float32x4_t multiplier,
                             const fq_qs8_requant_params *params)
{
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), multiplier);
    v = vmaxq_f32(v, vdupq_n_f32(params->min_less_zero_point));
    v = vminq_f32(v, vdupq_n_f32(params->max_less_zero_point));
    int32x4_t y = vaddq_s32(vcvtnq_s32_f32(v), vdupq_n_s32(params->output_zero_point));
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

/* A row's k values [k, k + n), n <= CHUNK, flipped to int8. Bytes past n meet the zero weights
 * of the padding (or are not used), so their value does not matter. */
static int8x16_t load_chunk(const uint8_t *row, size_t n)
{
    uint8x16_t bytes;
    if (n == CHUNK) {
        bytes = vld1q_u8(row);
    } else {
        uint8_t tail[CHUNK] = {0};
        memcpy(tail, row, n);
        bytes = vld1q_u8(tail);
    }
    return vreinterpretq_s8_u8(veorq_u8(bytes, vdupq_n_u8(0x80)));
}

#define QS8_DOT_GROUP(LANE)                                                                \
    do {                                                                                   \
        int8x16_t w_lo = vld1q_s8(w), w_hi = vld1q_s8(w + 16);                             \
        w += 4 * NR;                                                                       \
        for (int i = 0; i < MR; i++) {                                                     \
            acc[i][0] = vdotq_laneq_s32(acc[i][0], w_lo, x[i], LANE);                      \
            acc[i][1] = vdotq_laneq_s32(acc[i][1], w_hi, x[i], LANE);                      \
        }                                                                                  \
    } while (0)

void fq_qs8_gemm_ukernel_4x8c4__neondot(size_t mr, size_t nc, size_t kc, const uint8_t *a,
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

        for (size_t k = 0; k < kc; k += CHUNK) {
            size_t n = kc - k < CHUNK ? kc - k : CHUNK;
            size_t groups = (n + 3) / 4;
            int8x16_t x[MR];
            for (int i = 0; i < MR; i++)
                x[i] = load_chunk(arow[i] + k, n);
            QS8_DOT_GROUP(0);
            if (groups > 1)
                QS8_DOT_GROUP(1);
            if (groups > 2)
                QS8_DOT_GROUP(2);
            if (groups > 3)
                QS8_DOT_GROUP(3);
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
