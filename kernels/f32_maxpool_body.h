/* The body of the fp32 max pooling kernels (AVX-512, AVX2, SSE4.1, NEON), the contract of
 * f32_maxpool.h. The including file defines, before including this header:
 *
 *     fq_vec                 its vector of FQ_LANES floats
 *     vec_load(p)            FQ_LANES floats from p (unaligned)
 *     vec_store(p, v)        v to p (unaligned)
 *     vec_set1(x)            x in every lane
 *     vec_max(v, best)       lane by lane v > best ? v : best (a NaN v is skipped, as the
 *                            reference skips it)
 *     vec_evens(a, b)        lanes 0, 2, 4, ... of the 2 * FQ_LANES floats a then b
 *     vec_odds(a, b)         lanes 1, 3, 5, ...
 *     FQ_MAXPOOL_UKERNEL     the name of the function to define
 *
 * Per output row and chunk of CHUNK outputs: the maximum over the window's rows of every input
 * column the chunk reads goes into a row on the stack (-FLT_MAX outside the input), then each
 * output takes the maximum over kernel_w columns of it; for stride 2 a tap's outputs are the even
 * lanes of consecutive columns. Vectors that would cross an edge of the input row, and the last
 * outputs of a row, are done one lane at a time with the same comparisons in the same order.
 * 2 x 2 windows at stride 2 without top or left padding (the detectors' backbones) skip the row
 * on the stack: both input rows' maxima, then the even and the odd columns, in registers. */
#include <float.h>
#include <stdbool.h>
#include <stdint.h>

#include "f32_maxpool.h"

enum { CHUNK = 256, ROW = 2 * CHUNK + FQ_F32_MAXPOOL_MAX_KW + 2 * FQ_LANES };

static inline float max1(float v, float best)
{
    return v > best ? v : best;
}

/* Lanes [0, n) of v into dst, n <= FQ_LANES. */
static inline void store_lanes(float *dst, fq_vec v, int64_t n)
{
    if (n >= FQ_LANES) {
        vec_store(dst, v);
        return;
    }
    float lanes[FQ_LANES];
    vec_store(lanes, v);
    for (int64_t l = 0; l < n; l++)
        dst[l] = lanes[l];
}

/* row[t] for t < count: max over the valid input rows at input column iw0 + t. */
static void column_max(const fq_pool2d_f32_params *p, const float *x, int64_t ih0, int64_t iw0,
                       int64_t count, float *row)
{
    int64_t kh_lo = ih0 < 0 ? -ih0 : 0;
    int64_t kh_hi = p->in_h - ih0 < p->kernel_h ? p->in_h - ih0 : p->kernel_h;
    for (int64_t t = 0; t < count; t += FQ_LANES) {
        int64_t iw = iw0 + t;
        if (iw >= 0 && iw + FQ_LANES <= p->in_w) {
            fq_vec best = vec_set1(-FLT_MAX);
            for (int64_t kh = kh_lo; kh < kh_hi; kh++)
                best = vec_max(vec_load(x + (ih0 + kh) * p->in_w + iw), best);
            vec_store(row + t, best);
            continue;
        }
        for (int64_t l = 0; l < FQ_LANES; l++) {
            float best = -FLT_MAX;
            if (iw + l >= 0 && iw + l < p->in_w)
                for (int64_t kh = kh_lo; kh < kh_hi; kh++)
                    best = max1(x[(ih0 + kh) * p->in_w + iw + l], best);
            row[t + l] = best;
        }
    }
}

static void row_max(const fq_pool2d_f32_params *p, const float *row, int64_t count, float *y)
{
    for (int64_t i = 0; i < count; i += FQ_LANES) {
        fq_vec best = vec_set1(-FLT_MAX);
        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
            fq_vec v;
            if (p->stride_w == 1) {
                v = vec_load(row + i + kw);
            } else {
                const float *src = row + 2 * i + kw;
                v = vec_evens(vec_load(src), vec_load(src + FQ_LANES));
            }
            best = vec_max(v, best);
        }
        store_lanes(y + i, best, count - i);
    }
}

/* Column c of a 2 x 2 window's rows r0 and r1: -FLT_MAX outside the row of in_w columns. */
static inline float column_2(const float *r0, const float *r1, int64_t c, int64_t in_w)
{
    return c < in_w ? max1(r1[c], max1(r0[c], -FLT_MAX)) : -FLT_MAX;
}

/* Output row oh of a 2 x 2, stride-2 pool without top or left padding whose two input rows
 * both exist: the same maxima in the same order as column_max and row_max. */
static void row_2x2s2(const fq_pool2d_f32_params *p, const float *x, int64_t oh, float *y)
{
    const fq_vec lowest = vec_set1(-FLT_MAX);
    const float *r0 = x + 2 * oh * p->in_w, *r1 = r0 + p->in_w;
    float *out = y + oh * p->out_w;
    int64_t ow = 0;
    for (; ow + FQ_LANES <= p->out_w && 2 * (ow + FQ_LANES) <= p->in_w; ow += FQ_LANES) {
        int64_t iw = 2 * ow;
        fq_vec lo = vec_max(vec_load(r0 + iw), lowest);
        fq_vec hi = vec_max(vec_load(r0 + iw + FQ_LANES), lowest);
        lo = vec_max(vec_load(r1 + iw), lo);
        hi = vec_max(vec_load(r1 + iw + FQ_LANES), hi);
        fq_vec best = vec_max(vec_evens(lo, hi), lowest);
        vec_store(out + ow, vec_max(vec_odds(lo, hi), best));
    }
    for (; ow < p->out_w; ow++) {
        float even = column_2(r0, r1, 2 * ow, p->in_w), odd = column_2(r0, r1, 2 * ow + 1,
                                                                       p->in_w);
        out[ow] = max1(odd, max1(even, -FLT_MAX));
    }
}

void FQ_MAXPOOL_UKERNEL(const fq_pool2d_f32_params *p, const float *x, float *y)
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
            int64_t span = (count + FQ_LANES - 1) / FQ_LANES * FQ_LANES * s + p->kernel_w +
                           FQ_LANES;
            column_max(p, x, ih0, ow * s - p->pad_left, span, row);
            row_max(p, row, count, y + oh * p->out_w + ow);
        }
    }
}
