/* fp32 GEMM microkernel, offset-table form, 4 rows x 8 columns, portable C:
 * f32_gemm_4x8__scalar with row k of X read at x + offsets[k] (contract and layout in
 * f32_gemm.h); the fallback when no SIMD kernel may run. */
#include "f32_gemm.h"

enum { MR = 4, NR = 8 };

static float activate(float v, const fq_f32_gemm_params *p, float slope)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return v > 0.0f ? v : 0.0f;
    case FQ_EPILOGUE_F32_CLIP:
        v = v < p->alpha ? p->alpha : v;
        return v > p->beta ? p->beta : v;
    case FQ_EPILOGUE_F32_LEAKY_RELU:
    case FQ_EPILOGUE_F32_PRELU:
        return v < 0.0f ? slope * v : v;
    default:
        return v;
    }
}

void fq_f32_gemm_offsets_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *x,
                                             const ptrdiff_t *offsets, const float *w, float *c,
                                             size_t c_stride, unsigned flags,
                                             const fq_f32_gemm_params *params)
{
    float acc[MR][NR];
    for (size_t i = 0; i < MR; i++) {
        const float *row = (const float *)((const char *)c + i * c_stride);
        for (size_t j = 0; j < NR; j++)
            acc[i][j] = (flags & FQ_F32_GEMM_FIRST) ? w[i] : i < mr && j < nc ? row[j] : 0.0f;
    }
    w += MR;

    for (size_t k = 0; k < kc; k++) {
        const float *xk = x + offsets[k];
        for (size_t i = 0; i < MR; i++)
            for (size_t j = 0; j < NR; j++)
                acc[i][j] += w[i] * xk[j];
        w += MR;
    }

    for (size_t i = 0; i < mr; i++) {
        float *row = (float *)((char *)c + i * c_stride);
        float slope = params->kind == FQ_EPILOGUE_F32_PRELU ? params->slopes[i] : params->alpha;
        for (size_t j = 0; j < nc; j++)
            row[j] = (flags & FQ_F32_GEMM_LAST) ? activate(acc[i][j], params, slope)
                                                : acc[i][j];
    }
}
