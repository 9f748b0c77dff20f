/* fp32 max pooling, undilated, stride 1 or 2, for AVX-512 (contract in f32_maxpool.h).
 *
 * Per output row and chunk of CHUNK outputs: the maximum over the window's rows of every input
 * column the chunk reads goes into a row on the stack (-FLT_MAX outside the input), then each
 * output takes the maximum over kernel_w columns of it; for stride 2 a tap's 16 outputs are the
 * even lanes of 32 consecutive columns. _mm512_max_ps(v, best) is v > best ? v : best, the
 * reference's comparison, so NaN taps are skipped the same way. The 2 x 2, stride-2 windows of
 * the detectors' backbones skip the row on the stack (row_2x2s2). */
#include <float.h>
#include <stdbool.h>
#include <immintrin.h>

#include "f32_maxpool.h"

/* Outputs per pass over a row: 256 measured faster than 64 on the 160-wide output rows of
 * SCRFD's stem pooling, which then take one pass each. */
enum { CHUNK = 256, ROW = 2 * CHUNK + FQ_F32_MAXPOOL_MAX_KW + 32 };

static __mmask16 lanes(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* row[t] for t < count: max over the valid input rows at input column iw0 + t. */
static void column_max(const fq_pool2d_f32_params *p, const float *x, int64_t ih0, int64_t iw0,
                       int64_t count, float *row)
{
    int64_t kh_lo = ih0 < 0 ? -ih0 : 0;
    int64_t kh_hi = p->in_h - ih0 < p->kernel_h ? p->in_h - ih0 : p->kernel_h;
    const __m512 lowest = _mm512_set1_ps(-FLT_MAX);
    for (int64_t t = 0; t < count; t += 16) {
        int64_t iw = iw0 + t;
        int64_t n = count - t < 16 ? count - t : 16;
        int64_t lo = iw < 0 ? -iw : 0;
        int64_t hi = p->in_w - iw < n ? p->in_w - iw : n;
        __m512 best = lowest;
        if (hi > lo) {
            __mmask16 m = (__mmask16)(lanes(hi) & ~lanes(lo));
            for (int64_t kh = kh_lo; kh < kh_hi; kh++) {
                const float *src = x + (ih0 + kh) * p->in_w + iw;
                best = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, m, src), best);
            }
        }
        _mm512_storeu_ps(row + t, best);
    }
}

static void row_max(const fq_pool2d_f32_params *p, const float *row, int64_t count, float *y)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    for (int64_t i = 0; i < count; i += 16) {
        __m512 best = _mm512_set1_ps(-FLT_MAX);
        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
            __m512 v;
            if (p->stride_w == 1) {
                v = _mm512_loadu_ps(row + i + kw);
            } else {
                const float *src = row + 2 * i + kw;
                v = _mm512_permutex2var_ps(_mm512_loadu_ps(src), even,
                                           _mm512_loadu_ps(src + 16));
            }
            best = _mm512_max_ps(v, best);
        }
        _mm512_mask_storeu_ps(y + i, lanes(count - i), best);
    }
}

/* Output row oh of a 2 x 2, stride-2 pool without top or left padding whose two input rows
 * both exist: the same maxima in the same order as column_max and row_max (rows first, from
 * -FLT_MAX, then the even column before the odd one), with no row on the stack. Input
 * columns past the row read -FLT_MAX, as column_max gives them. */
static void row_2x2s2(const fq_pool2d_f32_params *p, const float *x, int64_t oh, float *y)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512 lowest = _mm512_set1_ps(-FLT_MAX);
    const float *r0 = x + 2 * oh * p->in_w, *r1 = r0 + p->in_w;
    float *out = y + oh * p->out_w;
    for (int64_t ow = 0; ow < p->out_w; ow += 16) {
        int64_t iw = 2 * ow;
        __mmask16 m0 = lanes(p->in_w - iw), m1 = lanes(p->in_w - iw - 16);
        __m512 lo = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, m0, r0 + iw), lowest);
        __m512 hi = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, m1, r0 + iw + 16), lowest);
        lo = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, m0, r1 + iw), lo);
        hi = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, m1, r1 + iw + 16), hi);
        __m512 best = _mm512_max_ps(_mm512_permutex2var_ps(lo, even, hi), lowest);
        best = _mm512_max_ps(_mm512_permutex2var_ps(lo, odd, hi), best);
        _mm512_mask_storeu_ps(out + ow, lanes(p->out_w - ow), best);
    }
}

void fq_f32_maxpool_ukernel__avx512(const fq_pool2d_f32_params *p, const float *x, float *y)
{
    float row[ROW];
    int64_t s = p->stride_w;
    bool is_2x2s2 = p->kernel_h == 2 && p->kernel_w == 2 && p->stride_h == 2 && s == 2 &&
                    p->pad_top == 0 && p->pad_left == 0;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        if (is_2x2s2 && 2 * oh + 1 < p->in_h) {
            row_2x2s2(p, x, oh, y);
            continue;
        }
        int64_t ih0 = oh * p->stride_h - p->pad_top;
        for (int64_t ow = 0; ow < p->out_w; ow += CHUNK) {
            int64_t count = p->out_w - ow < CHUNK ? p->out_w - ow : CHUNK;
            int64_t span = (count + 15) / 16 * 16 * s + p->kernel_w + 16;
            column_max(p, x, ih0, ow * s - p->pad_left, span, row);
            row_max(p, row, count, y + oh * p->out_w + ow);
        }
    }
}
