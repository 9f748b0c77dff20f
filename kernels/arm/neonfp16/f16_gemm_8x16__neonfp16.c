/* fp16 GEMM, 8 rows x 16 columns, ARMv8.2-A fp16 arithmetic (vfmaq_f16): see f16_gemm.h.
 * fp16 activations and weights, fp16 accumulation: each k step broadcasts one fp16 value per row
 * and adds it times 16 packed weights into two accumulators, 16 accumulators in all. */
#include <arm_neon.h>
#include <string.h>

#include "f16_gemm.h"

enum { MR = 8, NR = 16 };

static float16x8_t load_f16x8(const uint16_t *p)
{
    return vreinterpretq_f16_u16(vld1q_u16(p));
}

static float16x8_t broadcast_f16(uint16_t bits)
{
    return vreinterpretq_f16_u16(vdupq_n_u16(bits));
}

static void store_columns(uint16_t *dst, float16x8_t v, size_t count)
{
    if (count >= 8) {
        vst1q_u16(dst, vreinterpretq_u16_f16(v));
        return;
    }
    uint16_t lanes[8];
    vst1q_u16(lanes, vreinterpretq_u16_f16(v));
    memcpy(dst, lanes, count * sizeof(*dst));
}

static void panel(size_t mr, size_t cols, size_t kc, const uint16_t *const *rows,
                  const uint16_t *w, uint16_t *c, size_t c_stride, const fq_f16_minmax *params)
{
    float16x8_t acc[MR][2];
    float16x8_t bias0 = load_f16x8(w);
    float16x8_t bias1 = load_f16x8(w + 8);
    for (int r = 0; r < MR; r++) {
        acc[r][0] = bias0;
        acc[r][1] = bias1;
    }
    w += NR;

    for (size_t k = 0; k < kc; k++, w += NR) {
        float16x8_t b0 = load_f16x8(w);
        float16x8_t b1 = load_f16x8(w + 8);
        for (int r = 0; r < MR; r++) {
            float16x8_t va = broadcast_f16(rows[r][k]);
            acc[r][0] = vfmaq_f16(acc[r][0], va, b0);
            acc[r][1] = vfmaq_f16(acc[r][1], va, b1);
        }
    }

    float16x8_t lo = broadcast_f16(params->min);
    float16x8_t hi = broadcast_f16(params->max);
    for (int r = 0; r < MR; r++) {
        if ((size_t)r >= mr)
            break;
        uint16_t *dst = c + (size_t)r * c_stride;
        store_columns(dst, vminq_f16(vmaxq_f16(acc[r][0], lo), hi), cols);
        if (cols > 8)
            store_columns(dst + 8, vminq_f16(vmaxq_f16(acc[r][1], lo), hi), cols - 8);
    }
}

void fq_f16_gemm_ukernel_8x16__neonfp16(size_t mr, size_t nc, size_t kc, const uint16_t *a,
                                        size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                                        size_t c_stride, const fq_f16_minmax *params)
{
    /* Rows past mr repeat the last real row, so every row reads valid memory. */
    const uint16_t *rows[MR];
    for (size_t r = 0; r < MR; r++)
        rows[r] = r < mr ? a + r * a_stride : rows[r - 1];

    for (size_t j = 0; j < nc; j += NR) {
        size_t cols = nc - j < NR ? nc - j : NR;
        panel(mr, cols, kc, rows, packed_w, c + j, c_stride, params);
        packed_w += NR * (kc + 1);
    }
}
