/* fp32 depthwise 3x3 stride-2 convolution of one channel plane, AVX-512F.
 *
 * Four output rows per pass over nine input rows, each input row loaded and split once for the
 * one or two output rows that read it; the four rows' sums are independent chains of
 * multiply-adds in flight together. 16 output columns per vector: 32 input columns loaded as
 * two whole vectors are split into their even and odd columns (taps kw = 0 and 1), and the
 * even columns shifted by one with the next column give kw = 2; no gathers. Loads are masked to
 * the row, so columns whose taps fall in the left or right padding read zero there and every
 * column runs vectorized. See f32_dwconv.h. */
#include <immintrin.h>

#include "f32_dwconv.h"
#include "f32_activate_avx512.h"

enum { STRIDE = 2, ROWS = 4 };

/* Lanes [0, count) of a mask, count clamped to [0, 16]. */
static __mmask16 lanes(int64_t count)
{
    if (count <= 0)
        return 0;
    return (__mmask16)(count >= 16 ? 0xffff : (1u << count) - 1);
}

/* Input columns [base, base + 16) of a row of in_w floats, zero outside the row. Only a vector
 * over the left padding has base < 0: it loads from column 0 and moves lanes up. */
static __m512 row_vector(const float *row, int64_t base, int64_t in_w)
{
    if (base >= 0)
        return _mm512_maskz_loadu_ps(lanes(in_w - base), row + base);
    if (base <= -16)
        return _mm512_setzero_ps();
    __m512 v = _mm512_maskz_loadu_ps(lanes(in_w), row);
    __m512i from = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                      12, 13, 14, 15),
                                    _mm512_set1_epi32((int)base));
    return _mm512_maskz_permutexvar_ps((__mmask16)~lanes(-base), from, v);
}

/* Where one vector of output columns reads and writes: input columns from base on, m0, m1 and
 * m2 masking its three loads to the row (unless base < 0, then row_vector does), store masking
 * the output row's end. */
typedef struct span {
    int64_t ow, base;
    __mmask16 m0, m1, m2, store;
} span;

static span span_at(const fq_f32_dwconv_geometry *g, int64_t ow)
{
    int64_t base = ow * STRIDE - g->pad_left;
    span s = {ow, base, lanes(g->in_w - base), lanes(g->in_w - base - 16),
              (__mmask16)(lanes(g->in_w - base - 32) & 1u), lanes(g->out_w - ow)};
    return s;
}

/* The three taps of one input row for the span: columns base + 2j, base + 2j + 1 and
 * base + 2j + 2 in lane j. */
static inline __attribute__((always_inline)) void
row_taps(const fq_f32_dwconv_geometry *g, const float *row, const int left, const span *s,
         __m512 t[3])
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    __m512 a = left ? row_vector(row, s->base, g->in_w)
                    : _mm512_maskz_loadu_ps(s->m0, row + s->base);
    __m512 b = left ? row_vector(row, s->base + 16, g->in_w)
                    : _mm512_maskz_loadu_ps(s->m1, row + s->base + 16);
    __m512 c = left ? row_vector(row, s->base + 32, g->in_w)
                    : _mm512_maskz_loadu_ps(s->m2, row + s->base + 32);
    t[0] = _mm512_permutex2var_ps(a, even, b);
    t[1] = _mm512_permutex2var_ps(a, odd, b);
    t[2] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(c),
                                                   _mm512_castps_si512(t[0]), 1));
}

/* Output columns of span s of `rows` output rows, out[r] reading input rows in[2r],
 * in[2r + 1], in[2r + 2] (NULL: padding). Input rows are visited top-down, so each output row's
 * sum still runs kh-major from the bias. rows and left (s.base < 0) are constants where this
 * is inlined, which unrolls the loops and leaves out the padding case. */
static inline __attribute__((always_inline)) void
vectors(const fq_f32_dwconv_geometry *g, const float *const *in, float *const *out,
        const int rows, const int left, const __m512 wv[9], __m512 bias, const span *s,
        const fq_f32_gemm_params *params)
{
    __m512 sum[ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++)
        sum[r] = bias;
#pragma GCC unroll 9
    for (int i = 0; i < 2 * rows + 1; i++) {
        if (in[i] == NULL)
            continue;
        __m512 t[3];
        row_taps(g, in[i], left, s, t);
#pragma GCC unroll 3
        for (int kh = 0; kh < 3; kh++) {
            int r = (i - kh) / 2;
            if (i - kh < 0 || (i - kh) % 2 != 0 || r >= rows)
                continue;
            sum[r] = _mm512_fmadd_ps(wv[kh * 3], t[0], sum[r]);
            sum[r] = _mm512_fmadd_ps(wv[kh * 3 + 1], t[1], sum[r]);
            sum[r] = _mm512_fmadd_ps(wv[kh * 3 + 2], t[2], sum[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++)
        _mm512_mask_storeu_ps(out[r] + s->ow, s->store, activate(sum[r], params));
}

#include "f32_dwconv_pass_avx512.h"
#include "f32_dwconv_small_avx512.h"

void fq_f32_dwconv_ukernel_3x3s2__avx512(const fq_f32_dwconv_geometry *g, const float *x,
                                         const float *w, float bias, float *y,
                                         const fq_f32_gemm_params *params)
{
    if (small_plane(g)) {
        small_plane_run(g, x, w, bias, y, params);
        return;
    }
    __m512 wv[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
        wv[t] = _mm512_set1_ps(w[t]);
    __m512 bv = _mm512_set1_ps(bias);

    for (int64_t oh = 0; oh < g->out_h; oh += ROWS) {
        int rows = g->out_h - oh < ROWS ? (int)(g->out_h - oh) : ROWS;
        const float *in[2 * ROWS + 1];
        float *out[ROWS];
        for (int i = 0; i < 2 * rows + 1; i++) {
            int64_t ih = oh * STRIDE + i - g->pad_top;
            in[i] = ih >= 0 && ih < g->in_h ? x + ih * g->in_w : NULL;
        }
        for (int r = 0; r < rows; r++)
            out[r] = y + (oh + r) * g->out_w;
        for (int64_t ow = 0; ow < g->out_w; ow += 16) {
            span s = span_at(g, ow);
            if (s.base < 0)
                pass(g, in, out, rows, 1, wv, bv, &s, params);
            else
                pass(g, in, out, rows, 0, wv, bv, &s, params);
        }
    }
}
