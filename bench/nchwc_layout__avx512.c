/* Channel-blocked (NCHW16c) 1x1 and depthwise 3x3 convolution loops for
 * bench/nchwc_layout_bench.c, compiled with the AVX-512 flags only. They measure what the
 * layout alone would give a large plane; they are not engine kernels (no threads, ReLU only,
 * whole channel blocks, 3x3 stride 1 pad 1 depthwise).
 *
 * Layout: block b of 16 channels holds, pixel after pixel, the 16 channels' values, so
 * x[b][p][c % 16]. The 1x1 loop keeps 4 output blocks x 6 pixels in 24 accumulators and, per
 * input channel, broadcasts each pixel's value against 4 weight vectors; the depthwise loop
 * sums 4 pixels of a row at a time, each tap one whole-vector load. */
#include <immintrin.h>
#include <stdint.h>

#include "nchwc_layout.h"

enum { BLOCK = 16, PIXELS = 6, OUT_BLOCKS = 4 };

static void pointwise_pixels(const fq_nchwc_pointwise *l, const float *x, const float *w,
                             const float *bias, float *y, int64_t ob0, int64_t p, int count)
{
    __m512 acc[OUT_BLOCKS][PIXELS];
    for (int o = 0; o < OUT_BLOCKS; o++) {
        __m512 b = _mm512_loadu_ps(bias + (ob0 + o) * BLOCK);
        for (int j = 0; j < PIXELS; j++)
            acc[o][j] = b;
    }
    for (int64_t k = 0; k < l->in_channels; k++) {
        const float *xk = x + (k / BLOCK) * l->pixels * BLOCK + p * BLOCK + k % BLOCK;
        __m512 wv[OUT_BLOCKS];
        for (int o = 0; o < OUT_BLOCKS; o++)
            wv[o] = _mm512_loadu_ps(w + ((ob0 + o) * l->in_channels + k) * BLOCK);
#pragma GCC unroll 6
        for (int j = 0; j < PIXELS; j++) {
            if (j >= count)
                break;
            __m512 xv = _mm512_set1_ps(xk[j * BLOCK]);
            for (int o = 0; o < OUT_BLOCKS; o++)
                acc[o][j] = _mm512_fmadd_ps(wv[o], xv, acc[o][j]);
        }
    }
    for (int o = 0; o < OUT_BLOCKS; o++)
        for (int j = 0; j < count; j++)
            _mm512_storeu_ps(y + (ob0 + o) * l->pixels * BLOCK + (p + j) * BLOCK,
                             _mm512_max_ps(acc[o][j], _mm512_setzero_ps()));
}

void fq_nchwc_pointwise_relu__avx512(const fq_nchwc_pointwise *l, const float *x,
                                     const float *w, const float *bias, float *y)
{
    for (int64_t ob0 = 0; ob0 < l->out_channels / BLOCK; ob0 += OUT_BLOCKS)
        for (int64_t p = 0; p < l->pixels; p += PIXELS) {
            int count = l->pixels - p < PIXELS ? (int)(l->pixels - p) : PIXELS;
            if (count == PIXELS)
                pointwise_pixels(l, x, w, bias, y, ob0, p, PIXELS);
            else
                pointwise_pixels(l, x, w, bias, y, ob0, p, count);
        }
}

/* One output pixel of a row with every tap checked against the plane's edges. */
static __m512 edge_pixel(const fq_nchwc_depthwise *l, const float *const rows[3],
                         const __m512 wv[9], __m512 bias, int64_t ow)
{
    __m512 acc = bias;
    for (int kh = 0; kh < 3; kh++) {
        if (rows[kh] == NULL)
            continue;
        for (int kw = 0; kw < 3; kw++) {
            int64_t iw = ow + kw - 1;
            if (iw >= 0 && iw < l->w)
                acc = _mm512_fmadd_ps(wv[kh * 3 + kw], _mm512_loadu_ps(rows[kh] + iw * BLOCK),
                                      acc);
        }
    }
    return acc;
}

void fq_nchwc_depthwise_relu__avx512(const fq_nchwc_depthwise *l, const float *x,
                                     const float *w, const float *bias, float *y)
{
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t b = 0; b < l->channels / BLOCK; b++) {
        const float *xb = x + b * l->h * l->w * BLOCK;
        float *yb = y + b * l->h * l->w * BLOCK;
        __m512 wv[9];
        for (int t = 0; t < 9; t++)
            wv[t] = _mm512_loadu_ps(w + (b * 9 + t) * BLOCK);
        __m512 bv = _mm512_loadu_ps(bias + b * BLOCK);
        for (int64_t oh = 0; oh < l->h; oh++) {
            const float *rows[3];
            for (int kh = 0; kh < 3; kh++) {
                int64_t ih = oh + kh - 1;
                rows[kh] = ih >= 0 && ih < l->h ? xb + ih * l->w * BLOCK : NULL;
            }
            float *out = yb + oh * l->w * BLOCK;
            int64_t ow = 0;
            _mm512_storeu_ps(out, _mm512_max_ps(edge_pixel(l, rows, wv, bv, 0), zero));
            for (ow = 1; ow + 4 <= l->w - 1; ow += 4) {
                __m512 acc[4] = {bv, bv, bv, bv};
                for (int kh = 0; kh < 3; kh++) {
                    if (rows[kh] == NULL)
                        continue;
                    const float *q = rows[kh] + (ow - 1) * BLOCK;
                    __m512 v[6];
                    for (int i = 0; i < 6; i++)
                        v[i] = _mm512_loadu_ps(q + i * BLOCK);
                    for (int j = 0; j < 4; j++)
                        for (int kw = 0; kw < 3; kw++)
                            acc[j] = _mm512_fmadd_ps(wv[kh * 3 + kw], v[j + kw], acc[j]);
                }
                for (int j = 0; j < 4; j++)
                    _mm512_storeu_ps(out + (ow + j) * BLOCK, _mm512_max_ps(acc[j], zero));
            }
            for (; ow < l->w; ow++)
                _mm512_storeu_ps(out + ow * BLOCK,
                                 _mm512_max_ps(edge_pixel(l, rows, wv, bv, ow), zero));
        }
    }
}
