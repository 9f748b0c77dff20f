/* fp32 depthwise 3x3 stride-1 convolution of one channel plane, aarch64 NEON: 4 output columns
 * per vector over the interior, the rest (padding columns and the tail) one at a time. See
 * f32_dwconv.h. */
#include <arm_neon.h>
#include <math.h>

#include "f32_dwconv.h"

/* LOADED: input columns one vector reads. */
enum { STRIDE = 1, LANES = 4, LOADED = LANES + 2 };

static float activate1(float v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU: return v > 0.0f ? v : 0.0f;
    case FQ_EPILOGUE_F32_CLIP: v = v < p->alpha ? p->alpha : v; return v > p->beta ? p->beta : v;
    case FQ_EPILOGUE_F32_LEAKY_RELU: return v < 0.0f ? p->alpha * v : v;
    default: return v;
    }
}

static float32x4_t activate(float32x4_t v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return vmaxq_f32(v, vdupq_n_f32(0.0f));
    case FQ_EPILOGUE_F32_CLIP:
        return vminq_f32(vdupq_n_f32(p->beta), vmaxq_f32(vdupq_n_f32(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU: {
        uint32x4_t negative = vcltq_f32(v, vdupq_n_f32(0.0f));
        return vbslq_f32(negative, vmulq_f32(v, vdupq_n_f32(p->alpha)), v);
    }
    default:
        return v;
    }
}

/* One output column, every tap bounds-checked. */
static float column(const fq_f32_dwconv_geometry *g, const float *const rows[3], const float *w,
                    float bias, int64_t ow)
{
    float sum = bias;
    for (int kh = 0; kh < 3; kh++) {
        if (rows[kh] == NULL)
            continue;
        for (int kw = 0; kw < 3; kw++) {
            int64_t iw = ow * STRIDE - g->pad_left + kw;
            if (iw >= 0 && iw < g->in_w)
                sum = fmaf(w[kh * 3 + kw], rows[kh][iw], sum);
        }
    }
    return sum;
}

static float32x4_t vector(const float *const rows[3], const float32x4_t wv[9], float bias,
                          int64_t base)
{
    float32x4_t sum = vdupq_n_f32(bias);
    for (int kh = 0; kh < 3; kh++) {
        if (rows[kh] == NULL)
            continue;
        const float *r = rows[kh] + base;
        sum = vfmaq_f32(sum, wv[kh * 3], vld1q_f32(r));
        sum = vfmaq_f32(sum, wv[kh * 3 + 1], vld1q_f32(r + 1));
        sum = vfmaq_f32(sum, wv[kh * 3 + 2], vld1q_f32(r + 2));
    }
    return sum;
}

/* Whether the vector of output columns [ow, ow + LANES) reads only inside the row. */
static int vector_fits(const fq_f32_dwconv_geometry *g, int64_t ow)
{
    int64_t base = ow * STRIDE - g->pad_left;
    return base >= 0 && base + LOADED <= g->in_w;
}

void fq_f32_dwconv_ukernel_3x3s1__neon(const fq_f32_dwconv_geometry *g, const float *x,
                                       const float *w, float bias, float *y,
                                       const fq_f32_gemm_params *params)
{
    float32x4_t wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = vdupq_n_f32(w[t]);

    for (int64_t oh = 0; oh < g->out_h; oh++) {
        const float *rows[3];
        for (int kh = 0; kh < 3; kh++) {
            int64_t ih = oh * STRIDE - g->pad_top + kh;
            rows[kh] = ih >= 0 && ih < g->in_h ? x + ih * g->in_w : NULL;
        }
        float *out = y + oh * g->out_w;
        int64_t ow = 0;
        for (; ow < g->out_w && !vector_fits(g, ow); ow++)
            out[ow] = activate1(column(g, rows, w, bias, ow), params);
        for (; ow + LANES <= g->out_w && vector_fits(g, ow); ow += LANES) {
            float32x4_t v = vector(rows, wv, bias, ow * STRIDE - g->pad_left);
            vst1q_f32(out + ow, activate(v, params));
        }
        for (; ow < g->out_w; ow++)
            out[ow] = activate1(column(g, rows, w, bias, ow), params);
    }
}
