/* fp32 GEMM microkernel, offset-table form, 4 rows x 8 columns (two q registers per row),
 * NEON for ARMv7-A and aarch64: f32_gemm_4x8__neon with row k of X read at x + offsets[k]
 * (contract and layout in f32_gemm.h). With FMA (aarch64, ARMv7 with VFPv4) the steps are
 * fused; plain ARMv7 NEON multiplies and adds separately (vmlaq), as in the strided form. A
 * short tile runs through a local 4 x 8 buffer. */
#include <arm_neon.h>
#include <string.h>

#include "f32_gemm.h"

enum { MR = 4, NR = 8 };

static float32x4_t multiply_add(float32x4_t acc, float32x4_t x, float w)
{
#if defined(__ARM_FEATURE_FMA)
    return vfmaq_f32(acc, x, vdupq_n_f32(w));
#else
    return vmlaq_n_f32(acc, x, w);
#endif
}

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

/* A full tile; rows at or past mr only read slope 0. */
static void full_tile(size_t mr, size_t kc, const float *x, const ptrdiff_t *offsets,
                      const float *w, float *c, size_t c_stride, unsigned flags,
                      const fq_f32_gemm_params *params)
{
    float32x4_t acc[MR][2];
    for (int i = 0; i < MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        for (int q = 0; q < 2; q++)
            acc[i][q] = (flags & FQ_F32_GEMM_FIRST) ? vdupq_n_f32(w[i]) : vld1q_f32(row + 4 * q);
    }
    w += MR;

    for (size_t k = 0; k < kc; k++) {
        const float *xk = x + offsets[k];
        float32x4_t x0 = vld1q_f32(xk);
        float32x4_t x1 = vld1q_f32(xk + 4);
        for (int i = 0; i < MR; i++) {
            acc[i][0] = multiply_add(acc[i][0], x0, w[i]);
            acc[i][1] = multiply_add(acc[i][1], x1, w[i]);
        }
        w += MR;
    }

    for (int i = 0; i < MR; i++) {
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        float slope = params->kind == FQ_EPILOGUE_F32_PRELU
                          ? ((size_t)i < mr ? params->slopes[i] : 0.0f)
                          : params->alpha;
        for (int q = 0; q < 2; q++) {
            if (flags & FQ_F32_GEMM_LAST)
                acc[i][q] = activate(acc[i][q], params, slope);
            vst1q_f32(row + 4 * q, acc[i][q]);
        }
    }
}

void fq_f32_gemm_offsets_ukernel_4x8__neon(size_t mr, size_t nc, size_t kc, const float *x,
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
