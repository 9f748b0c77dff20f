/* qs8 depthwise 3x3 row kernel body for AVX-512 (F, BW, VL), included by the avx512 and
 * avx512vnni kernels, which define QS8_DW_MAC(acc, x, w): acc + the int32 lane sums of the
 * int16 products x * w (vpmaddwd then vpaddd, or vpdpwssd).
 *
 * Per 16-channel tile the nine widened weight vectors stay in registers for the whole row, and
 * so do the widened input columns under the window: moving one output pixel right loads only
 * the columns the window newly covers (one per kernel row at stride 1, two at stride 2).
 * Activations widen to int32 lanes (vpmovzxbd: high int16 halves are 0) and weights likewise
 * (vpmovsxbd), so every int32 lane of the multiply-add holds the exact product. Channel tails
 * use masked loads and stores, and each kernel row has its own accumulator to keep the chains
 * of dependent additions short. */
#ifndef FQ_KERNELS_X86_QS8_DWCONV3X3_ROW_AVX512_H
#define FQ_KERNELS_X86_QS8_DWCONV3X3_ROW_AVX512_H

#include <immintrin.h>

#include "qs8_dwconv.h"

static inline __m512i qs8_dw_column(const fq_qs8_dwconv_row *row, size_t r, size_t ix,
                                    size_t c0, __mmask16 mask)
{
    const uint8_t *p = ix < row->in_width ? row->rows[r] + ix * row->pixel_step[r]
                                          : row->pad_row;
    return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, p + c0));
}

typedef struct qs8_dw_tile {
    __m512i w[FQ_QS8_DWCONV_TAPS];
    __m512i bias;
    __m512 multiplier;
} qs8_dw_tile;

static inline void qs8_dw_load_tile(const uint8_t *tile, qs8_dw_tile *t)
{
    const uint8_t *w = tile + FQ_QS8_DWCONV_TILE * sizeof(int32_t);
    t->bias = _mm512_loadu_si512(tile);
    t->multiplier = _mm512_loadu_ps((const float *)(const void *)(w + 16 * 9));
    for (int k = 0; k < FQ_QS8_DWCONV_TAPS; k++)
        t->w[k] = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)
                                                       (w + 16 * k)));
}

/* Column ix of kernel row r when ix is known to lie inside the input. */
static inline __m512i qs8_dw_inside(const fq_qs8_dwconv_row *row, size_t r, size_t ix, size_t c0,
                                    __mmask16 mask)
{
    const uint8_t *p = row->rows[r] + ix * row->pixel_step[r];
    return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, p + c0));
}

/* The state of one tile along the row: col[r][q] is column q of kernel row r under the window
 * that starts at input column ix. */
typedef struct qs8_dw_window {
    __m512i col[3][3];
    size_t ix;
} qs8_dw_window;

static inline __m512i qs8_dw_load(const fq_qs8_dwconv_row *row, size_t r, size_t ix, size_t c0,
                                  __mmask16 mask, int checked)
{
    return checked ? qs8_dw_column(row, r, ix, c0, mask) : qs8_dw_inside(row, r, ix, c0, mask);
}

/* Moves the window one output pixel right, loading only the columns it newly covers; checked
 * is 0 when every column of the new window lies inside the input. */
static inline __attribute__((always_inline)) void
qs8_dw_advance(const fq_qs8_dwconv_row *row, qs8_dw_window *win, size_t c0, __mmask16 mask,
               size_t stride, int checked)
{
    win->ix += stride;
    size_t ix = win->ix;
    for (size_t r = 0; r < 3; r++) {
        if (stride == 1) {
            win->col[r][0] = win->col[r][1];
            win->col[r][1] = win->col[r][2];
        } else if (stride == 2) {
            win->col[r][0] = win->col[r][2];
            win->col[r][1] = qs8_dw_load(row, r, ix + 1, c0, mask, checked);
        } else {
            win->col[r][0] = qs8_dw_load(row, r, ix, c0, mask, checked);
            win->col[r][1] = qs8_dw_load(row, r, ix + 1, c0, mask, checked);
        }
        win->col[r][2] = qs8_dw_load(row, r, ix + 2, c0, mask, checked);
    }
}

static inline __attribute__((always_inline)) void
qs8_dw_pixel(const qs8_dw_window *win, const qs8_dw_tile *t, const fq_qs8_requant_params *params,
             __mmask16 mask, uint8_t *out)
{
    __m512i acc0 = t->bias, acc1 = _mm512_setzero_si512(), acc2 = _mm512_setzero_si512();
    for (int q = 0; q < 3; q++) {
        acc0 = QS8_DW_MAC(acc0, win->col[0][q], t->w[q]);
        acc1 = QS8_DW_MAC(acc1, win->col[1][q], t->w[3 + q]);
        acc2 = QS8_DW_MAC(acc2, win->col[2][q], t->w[6 + q]);
    }
    __m512i acc = _mm512_add_epi32(_mm512_add_epi32(acc0, acc1), acc2);

    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), t->multiplier);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(params->min_less_zero_point)),
                      _mm512_set1_ps(params->max_less_zero_point));
    __m512i y = _mm512_add_epi32(_mm512_cvtps_epi32(v),
                                 _mm512_set1_epi32(params->output_zero_point));
    _mm_mask_storeu_epi8(out, mask, _mm512_cvtusepi32_epi8(y));
}

/* [first, last): the output pixels whose window lies wholly inside the input (first == last
 * when there are none). */
static inline void qs8_dw_interior(const fq_qs8_dwconv_row *row, size_t *first, size_t *last)
{
    size_t s = row->stride, pad = row->pad_left;
    *first = (pad + s - 1) / s;
    *last = row->in_width + pad >= 3 ? (row->in_width + pad - 3) / s + 1 : 0;
    *last = *last < row->out_width ? *last : row->out_width;
    *first = *first < *last ? *first : *last;
}

/* Channels [c0, c0 + n) of the whole output row: pixel 0 loads its whole window, the others
 * advance it, without bounds checks across the interior. stride is row->stride, a constant
 * where the caller knows it, so that each stride gets its own loops. */
static inline __attribute__((always_inline)) void
qs8_dw_row_tile(const fq_qs8_dwconv_row *row, size_t c0, size_t n, const uint8_t *tile,
                uint8_t *output, const fq_qs8_requant_params *params, size_t stride)
{
    const __mmask16 mask = (__mmask16)((1u << n) - 1);
    const size_t step = row->channels;
    qs8_dw_tile t;
    qs8_dw_load_tile(tile, &t);
    size_t first, last;
    qs8_dw_interior(row, &first, &last);

    qs8_dw_window win;
    win.ix = 0 - row->pad_left; /* wraps left of the input */
    for (size_t r = 0; r < 3; r++)
        for (size_t q = 0; q < 3; q++)
            win.col[r][q] = qs8_dw_column(row, r, win.ix + q, c0, mask);
    qs8_dw_pixel(&win, &t, params, mask, output + c0);

    size_t ox = 1;
    for (; ox < first; ox++) {
        qs8_dw_advance(row, &win, c0, mask, stride, 1);
        qs8_dw_pixel(&win, &t, params, mask, output + ox * step + c0);
    }
    for (; ox < last; ox++) {
        qs8_dw_advance(row, &win, c0, mask, stride, 0);
        qs8_dw_pixel(&win, &t, params, mask, output + ox * step + c0);
    }
    for (; ox < row->out_width; ox++) {
        qs8_dw_advance(row, &win, c0, mask, stride, 1);
        qs8_dw_pixel(&win, &t, params, mask, output + ox * step + c0);
    }
}

static inline void qs8_dw_row(const fq_qs8_dwconv_row *row, const void *packed_w,
                              uint8_t *output, const fq_qs8_requant_params *params)
{
    const uint8_t *tile = packed_w;
    for (size_t c0 = 0; c0 < row->channels; c0 += FQ_QS8_DWCONV_TILE) {
        size_t left = row->channels - c0;
        size_t n = left < FQ_QS8_DWCONV_TILE ? left : FQ_QS8_DWCONV_TILE;
        if (row->stride == 1)
            qs8_dw_row_tile(row, c0, n, tile, output, params, 1);
        else if (row->stride == 2)
            qs8_dw_row_tile(row, c0, n, tile, output, params, 2);
        else
            qs8_dw_row_tile(row, c0, n, tile, output, params, row->stride);
        tile += FQ_QS8_DWCONV_TILE_BYTES;
    }
}

#endif
