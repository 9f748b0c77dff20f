/* fp32 GEMM microkernel, offset-table form, 8 rows x 12 columns (three q registers per row),
 * aarch64 NEON with vfmaq_laneq_f32: f32_gemm_8x12__neon with row k of X read at
 * x + offsets[k] (contract and layout in f32_gemm.h). A short tile runs through a local
 * 8 x 12 buffer, so the inner loop never tests bounds. */
#include <arm_neon.h>
#include <string.h>

#include "f32_gemm.h"

enum { MR = 8, NR = 12 };

static float32x4_t activate(float32x4_t v, const fq_f32_gemm_params *p, float slope)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return vmaxq_f32(v, vdupq_n_f32(0.0f));
    case FQ_EPILOGUE_F32_CLIP:
        return vminq_f32(vdupq_n_f32(p->beta), vmaxq_f32(vdupq_n_f32(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU:
    case FQ_EPILOGUE_F32_PRELU: {
        uint32x4_t negative = vcltq_f32(v, vdupq_n_f32(0.0f));
        return vbslq_f32(negative, vmulq_f32(v, vdupq_n_f32(slope)), v);
    }
    default:
        return v;
    }
}

/* Row r of the tile takes weight lane L of vector W. */
#define FQ_ROW_FMA(r, W, L)                                   \
    do {                                                      \
        acc[r][0] = vfmaq_laneq_f32(acc[r][0], x0, W, L);     \
        acc[r][1] = vfmaq_laneq_f32(acc[r][1], x1, W, L);     \
        acc[r][2] = vfmaq_laneq_f32(acc[r][2], x2, W, L);     \
    } while (0)

/* A full tile; rows at or past mr only read slope 0. */
static void full_tile(size_t mr, size_t kc, const float *x, const ptrdiff_t *offsets,
                      const float *w, float *c, size_t c_stride, unsigned flags,
                      const fq_f32_gemm_params *params)
{
    float32x4_t acc[MR][3];
    for (int i = 0; i < MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        for (int q = 0; q < 3; q++)
            acc[i][q] = (flags & FQ_F32_GEMM_FIRST) ? vdupq_n_f32(w[i]) : vld1q_f32(row + 4 * q);
    }
    w += MR;

    for (size_t k = 0; k < kc; k++) {
        const float *xk = x + offsets[k];
        float32x4_t x0 = vld1q_f32(xk);
        float32x4_t x1 = vld1q_f32(xk + 4);
        float32x4_t x2 = vld1q_f32(xk + 8);
        float32x4_t w0 = vld1q_f32(w);
        float32x4_t w1 = vld1q_f32(w + 4);
        FQ_ROW_FMA(0, w0, 0);
        FQ_ROW_FMA(1, w0, 1);
        FQ_ROW_FMA(2, w0, 2);
        FQ_ROW_FMA(3, w0, 3);
        FQ_ROW_FMA(4, w1, 0);
        FQ_ROW_FMA(5, w1, 1);
        FQ_ROW_FMA(6, w1, 2);
        FQ_ROW_FMA(7, w1, 3);
        w += MR;
    }

    for (int i = 0; i < MR; i++) {
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        float slope = params->kind == FQ_EPILOGUE_F32_PRELU
                          ? ((size_t)i < mr ? params->slopes[i] : 0.0f)
                          : params->alpha;
        for (int q = 0; q < 3; q++) {
            if (flags & FQ_F32_GEMM_LAST)
                acc[i][q] = activate(acc[i][q], params, slope);
            vst1q_f32(row + 4 * q, acc[i][q]);
        }
    }
}

#undef FQ_ROW_FMA

void fq_f32_gemm_offsets_ukernel_8x12__neon(size_t mr, size_t nc, size_t kc, const float *x,
                                            const ptrdiff_t *offsets, const float *w, float *c,
                                            size_t c_stride, unsigned flags,
                                            const fq_f32_gemm_params *params)
{
    if (mr == MR && nc == NR) {
        full_tile(mr, kc, x, offsets, w, c, c_stride, flags, params);
        return;
    }

    float tile[MR * NR] = {0};
    for (size_t i = 0; i < mr && !(flags & FQ_F32_GEMM_FIRST); i++)
        memcpy(tile + i * NR, (const char *)c + i * c_stride, nc * sizeof(float));
    full_tile(mr, kc, x, offsets, w, tile, NR * sizeof(float), flags, params);
    for (size_t i = 0; i < mr; i++)
        memcpy((char *)c + i * c_stride, tile + i * NR, nc * sizeof(float));
}
