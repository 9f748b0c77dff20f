/* fp32 depthwise 3x3 stride-1 convolution of one channel plane, AVX-512F: 16 output columns
 * per vector, the interior columns with plain loads, a masked last vector, the columns whose
 * taps touch the left or right padding one at a time. See f32_dwconv.h. */
#include <immintrin.h>

#include "f32_dwconv.h"

enum { STRIDE = 1 };

static float activate1(float v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU: return v > 0.0f ? v : 0.0f;
    case FQ_EPILOGUE_F32_CLIP: v = v < p->alpha ? p->alpha : v; return v > p->beta ? p->beta : v;
    case FQ_EPILOGUE_F32_LEAKY_RELU: return v < 0.0f ? p->alpha * v : v;
    default: return v;
    }
}

static __m512 activate(__m512 v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return _mm512_max_ps(v, _mm512_setzero_ps());
    case FQ_EPILOGUE_F32_CLIP:
        return _mm512_min_ps(_mm512_set1_ps(p->beta),
                             _mm512_max_ps(_mm512_set1_ps(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU: {
        __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, negative, v, _mm512_set1_ps(p->alpha));
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
                sum += w[kh * 3 + kw] * rows[kh][iw];
        }
    }
    return sum;
}

static __m512 vector16(const float *const rows[3], const __m512 wv[9], float bias, int64_t base,
                       __mmask16 mask)
{
    __m512 sum = _mm512_set1_ps(bias);
    for (int kh = 0; kh < 3; kh++) {
        if (rows[kh] == NULL)
            continue;
        const float *r = rows[kh] + base;
        sum = _mm512_fmadd_ps(wv[kh * 3], _mm512_maskz_loadu_ps(mask, r), sum);
        sum = _mm512_fmadd_ps(wv[kh * 3 + 1], _mm512_maskz_loadu_ps(mask, r + 1), sum);
        sum = _mm512_fmadd_ps(wv[kh * 3 + 2], _mm512_maskz_loadu_ps(mask, r + 2), sum);
    }
    return sum;
}

void fq_f32_dwconv_ukernel_3x3s1__avx512(const fq_f32_dwconv_geometry *g, const float *x,
                                         const float *w, float bias, float *y,
                                         const fq_f32_gemm_params *params)
{
    __m512 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm512_set1_ps(w[t]);
    /* Columns [lo, hi) read only taps inside the row. */
    int64_t lo = g->pad_left;
    int64_t hi = g->in_w - 2 + g->pad_left;
    lo = lo < g->out_w ? lo : g->out_w;
    hi = hi < g->out_w ? hi : g->out_w;
    hi = hi > lo ? hi : lo;

    for (int64_t oh = 0; oh < g->out_h; oh++) {
        const float *rows[3];
        for (int kh = 0; kh < 3; kh++) {
            int64_t ih = oh * STRIDE - g->pad_top + kh;
            rows[kh] = ih >= 0 && ih < g->in_h ? x + ih * g->in_w : NULL;
        }
        float *out = y + oh * g->out_w;
        for (int64_t ow = 0; ow < lo; ow++)
            out[ow] = activate1(column(g, rows, w, bias, ow), params);
        int64_t ow = lo;
        for (; ow < hi; ow += 16) {
            int64_t count = hi - ow < 16 ? hi - ow : 16;
            __mmask16 mask = (__mmask16)(count == 16 ? 0xffff : (1u << count) - 1);
            __m512 v = vector16(rows, wv, bias, ow - g->pad_left, mask);
            _mm512_mask_storeu_ps(out + ow, mask, activate(v, params));
        }
        for (ow = hi; ow < g->out_w; ow++)
            out[ow] = activate1(column(g, rows, w, bias, ow), params);
    }
}
