/* fp32 depthwise 3x3 stride-1 convolution of one channel plane, AVX2 with FMA.
 *
 * Two output rows per pass: each input vector loaded feeds every output row of the pass that
 * reads it, and the rows' sums are independent chains of multiply-adds in flight together
 * (more rows would not leave the 16 vector registers enough room). 8 output columns per
 * vector over the columns whose taps stay inside the row, the last vector moved left to end
 * where they end (it recomputes a few columns, to the same values); the columns whose taps
 * touch the left or right padding one at a time. Nothing outside the row is read. See
 * f32_dwconv.h. */
#include <immintrin.h>

#include "f32_dwconv.h"
#include "f32_activate_avx2.h"

/* LOADED: input columns one vector reads. */
enum { STRIDE = 1, LANES = 8, LOADED = LANES + 2, ROWS = 2 };

static float activate1(float v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU: return v > 0.0f ? v : 0.0f;
    case FQ_EPILOGUE_F32_CLIP: v = v < p->alpha ? p->alpha : v; return v > p->beta ? p->beta : v;
    case FQ_EPILOGUE_F32_LEAKY_RELU: return v < 0.0f ? p->alpha * v : v;
    default: return v;
    }
}

/* One output column, every tap bounds-checked; rows[kh] is NULL for a padding row. */
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

/* Taps kw = 0, 1, 2 of the output columns whose first tap is r[0]. */
static void row_taps(const float *r, __m256 t[3])
{
    t[0] = _mm256_loadu_ps(r);
    t[1] = _mm256_loadu_ps(r + 1);
    t[2] = _mm256_loadu_ps(r + 2);
}

/* Output columns [ow, ow + 8) of `rows` output rows, out[r] reading input rows in[r],
 * in[r + 1], in[r + 2] (NULL: padding), every load inside the row. Input rows are visited
 * top-down, so each output row's sum still runs kh-major from the bias. rows is a constant
 * where this is inlined, which unrolls the loops. */
static inline __attribute__((always_inline)) void
vectors(const fq_f32_dwconv_geometry *g, const float *const *in, float *const *out,
        const int rows, const __m256 wv[9], __m256 bias, int64_t ow,
        const fq_f32_gemm_params *params)
{
    int64_t base = ow * STRIDE - g->pad_left;
    __m256 sum[ROWS];
#pragma GCC unroll 2
    for (int r = 0; r < rows; r++)
        sum[r] = bias;
#pragma GCC unroll 4
    for (int i = 0; i < rows + 2; i++) {
        if (in[i] == NULL)
            continue;
        __m256 t[3];
        row_taps(in[i] + base, t);
#pragma GCC unroll 3
        for (int kh = 0; kh < 3; kh++) {
            int r = i - kh;
            if (r < 0 || r >= rows)
                continue;
            sum[r] = _mm256_fmadd_ps(wv[kh * 3], t[0], sum[r]);
            sum[r] = _mm256_fmadd_ps(wv[kh * 3 + 1], t[1], sum[r]);
            sum[r] = _mm256_fmadd_ps(wv[kh * 3 + 2], t[2], sum[r]);
        }
    }
#pragma GCC unroll 2
    for (int r = 0; r < rows; r++)
        _mm256_storeu_ps(out[r] + ow, activate(sum[r], params));
}

/* The vector columns [lo, hi) of the pass's rows, hi - lo >= 8: all ROWS rows together, or a
 * shorter last pass row by row. */
static void pass(const fq_f32_dwconv_geometry *g, const float *const *in, float *const *out,
                 int rows, const __m256 wv[9], __m256 bias, int64_t lo, int64_t hi,
                 const fq_f32_gemm_params *params)
{
    for (int64_t ow = lo;; ow += LANES) {
        ow = ow + LANES <= hi ? ow : hi - LANES;
        if (rows == ROWS)
            vectors(g, in, out, ROWS, wv, bias, ow, params);
        else
            for (int r = 0; r < rows; r++)
                vectors(g, in + r, out + r, 1, wv, bias, ow, params);
        if (ow + LANES >= hi)
            return;
    }
}

/* Output row out's columns outside [lo, hi), one at a time, from input rows in[0..2]. */
static void edges(const fq_f32_dwconv_geometry *g, const float *const *in, float *out,
                  const float *w, float bias, int64_t lo, int64_t hi,
                  const fq_f32_gemm_params *params)
{
    for (int64_t ow = 0; ow < lo; ow++)
        out[ow] = activate1(column(g, in, w, bias, ow), params);
    for (int64_t ow = hi; ow < g->out_w; ow++)
        out[ow] = activate1(column(g, in, w, bias, ow), params);
}

void fq_f32_dwconv_ukernel_3x3s1__avx2(const fq_f32_dwconv_geometry *g, const float *x,
                                       const float *w, float bias, float *y,
                                       const fq_f32_gemm_params *params)
{
    __m256 wv[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
        wv[t] = _mm256_set1_ps(w[t]);
    __m256 bv = _mm256_set1_ps(bias);
    /* Vectors of columns [lo, hi) load only inside the row (a vector at ow loads LOADED
     * columns from ow * STRIDE - pad_left); fewer than 8 such columns go one at a time. */
    int64_t last = g->in_w - LOADED + g->pad_left;  /* times STRIDE: the last vector's start */
    int64_t lo = (g->pad_left + STRIDE - 1) / STRIDE;
    int64_t hi = last >= 0 ? last / STRIDE + LANES : 0;
    lo = lo < g->out_w ? lo : g->out_w;
    hi = hi < g->out_w ? hi : g->out_w;
    hi = hi - lo >= LANES ? hi : lo;

    for (int64_t oh = 0; oh < g->out_h; oh += ROWS) {
        int rows = g->out_h - oh < ROWS ? (int)(g->out_h - oh) : ROWS;
        const float *in[ROWS + 2];
        float *out[ROWS];
        for (int i = 0; i < rows + 2; i++) {
            int64_t ih = oh * STRIDE + i - g->pad_top;
            in[i] = ih >= 0 && ih < g->in_h ? x + ih * g->in_w : NULL;
        }
        for (int r = 0; r < rows; r++) {
            out[r] = y + (oh + r) * g->out_w;
            edges(g, in + r, out[r], w, bias, lo, hi, params);
        }
        if (hi > lo)
            pass(g, in, out, rows, wv, bv, lo, hi, params);
    }
}
