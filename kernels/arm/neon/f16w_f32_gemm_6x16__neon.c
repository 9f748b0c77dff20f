/* fp16-storage fp32-compute GEMM, 6 rows x 16 columns, aarch64 NEON: see f16_gemm.h.
 * Each k step widens 16 packed fp16 weights with vcvt_f32_f16 / vcvt_high_f32_f16 (base ARMv8,
 * no fp16 arithmetic needed) and adds one fp32 FMA per row and quarter panel; the 24
 * accumulators stay in registers. */
#include <arm_neon.h>
#include <string.h>

#include "f16_gemm.h"

enum { MR = 6, NR = 16 };

static void load_f16x16(const uint16_t *w, float32x4_t out[4])
{
    float16x8_t lo = vreinterpretq_f16_u16(vld1q_u16(w));
    float16x8_t hi = vreinterpretq_f16_u16(vld1q_u16(w + 8));
    out[0] = vcvt_f32_f16(vget_low_f16(lo));
    out[1] = vcvt_high_f32_f16(lo);
    out[2] = vcvt_f32_f16(vget_low_f16(hi));
    out[3] = vcvt_high_f32_f16(hi);
}

static void store_row(float *dst, const float32x4_t v[4], size_t cols)
{
    if (cols == NR) {
        for (int q = 0; q < 4; q++)
            vst1q_f32(dst + 4 * q, v[q]);
        return;
    }
    float lanes[NR];
    for (int q = 0; q < 4; q++)
        vst1q_f32(lanes + 4 * q, v[q]);
    memcpy(dst, lanes, cols * sizeof(*dst));
}

static void panel(size_t mr, size_t cols, size_t kc, const float *const *rows,
                  const uint16_t *w, float *c, size_t c_stride,
                  const fq_f16w_f32_minmax *params)
{
    float32x4_t acc[MR][4];
    float32x4_t bias[4];
    load_f16x16(w, bias);
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < 4; q++)
            acc[r][q] = bias[q];
    w += NR;

    for (size_t k = 0; k < kc; k++, w += NR) {
        float32x4_t b[4];
        load_f16x16(w, b);
        for (int r = 0; r < MR; r++) {
            float32x4_t va = vdupq_n_f32(rows[r][k]);
            for (int q = 0; q < 4; q++)
                acc[r][q] = vfmaq_f32(acc[r][q], va, b[q]);
        }
    }

    float32x4_t lo = vdupq_n_f32(params->min);
    float32x4_t hi = vdupq_n_f32(params->max);
    for (int r = 0; r < MR; r++) {
        if ((size_t)r >= mr)
            break;
        for (int q = 0; q < 4; q++)
            acc[r][q] = vminq_f32(vmaxq_f32(acc[r][q], lo), hi);
        store_row(c + (size_t)r * c_stride, acc[r], cols);
    }
}

void fq_f16w_f32_gemm_ukernel_6x16__neon(size_t mr, size_t nc, size_t kc, const float *a,
                                         size_t a_stride, const uint16_t *packed_w, float *c,
                                         size_t c_stride, const fq_f16w_f32_minmax *params)
{
    /* Rows past mr repeat the last real row, so every row reads valid memory. */
    const float *rows[MR];
    for (size_t r = 0; r < MR; r++)
        rows[r] = r < mr ? a + r * a_stride : rows[r - 1];

    for (size_t j = 0; j < nc; j += NR) {
        size_t cols = nc - j < NR ? nc - j : NR;
        panel(mr, cols, kc, rows, packed_w, c + j, c_stride, params);
        packed_w += NR * (kc + 1);
    }
}
