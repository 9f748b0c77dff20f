/* fp32 depthwise 3x3 stride-1 convolution of one channel plane, SSE4.1 (no FMA): 4 output
 * columns per vector over the interior, the rest (padding columns and the tail) one at a
 * time. See f32_dwconv.h. */
#include <smmintrin.h>

#include "f32_dwconv.h"
#include "f32_activate_sse41.h"

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

/* Taps kw = 0, 1, 2 of LANES output columns whose first tap is r[0]. */
static void taps(const float *r, __m128 t[3])
{
    t[0] = _mm_loadu_ps(r);
    t[1] = _mm_loadu_ps(r + 1);
    t[2] = _mm_loadu_ps(r + 2);
}

static __m128 vector(const float *const rows[3], const __m128 wv[9], float bias, int64_t base)
{
    __m128 sum = _mm_set1_ps(bias);
    for (int kh = 0; kh < 3; kh++) {
        if (rows[kh] == NULL)
            continue;
        __m128 t[3];
        taps(rows[kh] + base, t);
        sum = _mm_add_ps(sum, _mm_mul_ps(wv[kh * 3], t[0]));
        sum = _mm_add_ps(sum, _mm_mul_ps(wv[kh * 3 + 1], t[1]));
        sum = _mm_add_ps(sum, _mm_mul_ps(wv[kh * 3 + 2], t[2]));
    }
    return sum;
}

/* Whether the vector of output columns [ow, ow + LANES) reads only inside the row: its first
 * tap is at or right of column 0 and its last load ends inside the row. */
static int vector_fits(const fq_f32_dwconv_geometry *g, int64_t ow)
{
    int64_t base = ow * STRIDE - g->pad_left;
    return base >= 0 && base + LOADED <= g->in_w;
}

void fq_f32_dwconv_ukernel_3x3s1__sse41(const fq_f32_dwconv_geometry *g, const float *x,
                                       const float *w, float bias, float *y,
                                       const fq_f32_gemm_params *params)
{
    __m128 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm_set1_ps(w[t]);

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
            __m128 v = vector(rows, wv, bias, ow * STRIDE - g->pad_left);
            _mm_storeu_ps(out + ow, activate(v, params));
        }
        for (; ow < g->out_w; ow++)
            out[ow] = activate1(column(g, rows, w, bias, ow), params);
    }
}
