/* Winograd F(4x4, 3x3) input and output transforms, AVX-512F: 16 consecutive tiles of one tile
 * row per pass, one tile per lane.
 *
 * Input: each of the window's six rows is five masked loads of the 80 input columns the 16
 * tiles read (zero outside the row); column j of every tile, x[4 l + j] for lane l, is picked
 * out with two-source permutes, columns 4 and 5 being columns 0 and 1 moved one tile along.
 * Output: the four vectors of one output row of the 16 tiles are interleaved back into
 * runs of 64 output columns with two-source permutes, stored with masks that crop the
 * plane. The arithmetic is that of the scalar version (f32_winograd.h). */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "f32_winograd.h"
#include "f32_activate_avx512.h"

enum { LANES = 16 };

static __mmask16 lanes(int64_t count)
{
    if (count <= 0)
        return 0;
    return (__mmask16)(count >= LANES ? 0xffff : (1u << count) - 1);
}

/* Columns [start, start + 16) of a row of width floats, zero outside [0, width). */
static __m512 load_run(const float *row, int64_t start, int64_t width)
{
    int64_t lo = start < 0 ? -start : 0, hi = width - start;
    if (lo >= LANES || hi <= 0)
        return _mm512_setzero_ps();
    __mmask16 mask = (__mmask16)(lanes(hi) & ~lanes(lo));
    return _mm512_maskz_loadu_ps(mask, row + start);
}

/* B^T d of six vectors d[0..5] into r[0..5]. */
static void input_line(const __m512 *d, __m512 *r)
{
    __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f);
    __m512 a = _mm512_fnmadd_ps(four, d[2], d[4]), b = _mm512_fnmadd_ps(four, d[1], d[3]);
    __m512 c = _mm512_sub_ps(d[4], d[2]);
    __m512 e = _mm512_mul_ps(_mm512_set1_ps(2.0f), _mm512_sub_ps(d[3], d[1]));
    r[0] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[2], _mm512_mul_ps(four, d[0])), d[4]);
    r[1] = _mm512_add_ps(a, b);
    r[2] = _mm512_sub_ps(a, b);
    r[3] = _mm512_add_ps(c, e);
    r[4] = _mm512_sub_ps(c, e);
    r[5] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[3], _mm512_mul_ps(four, d[1])), d[5]);
}

/* Two-source permute indices (0..15 the first source, 16..31 the second). Input: columns j
 * and j + 1 of 8 tiles, x[4 l + j] then x[4 l + j + 1]. Output: pairs of two results of each
 * of 8 tiles, then four results of each of 4 tiles from two such pair vectors. */
static const int32_t pick_columns01[16] = {0, 4, 8, 12, 16, 20, 24, 28,
                                           1, 5, 9, 13, 17, 21, 25, 29};
static const int32_t pick_columns23[16] = {2, 6, 10, 14, 18, 22, 26, 30,
                                           3, 7, 11, 15, 19, 23, 27, 31};
static const int32_t pair_low[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const int32_t pair_high[16] = {8, 24, 9, 25, 10, 26, 11, 27,
                                      12, 28, 13, 29, 14, 30, 15, 31};
static const int32_t quad_low[16] = {0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23};
static const int32_t quad_high[16] = {8, 9, 24, 25, 10, 11, 26, 27,
                                      12, 13, 28, 29, 14, 15, 30, 31};

static __m512i indices(const int32_t *table)
{
    return _mm512_loadu_si512(table);
}

/* Window row columns 0..5 of 16 tiles whose first column is row[start]: columns 0 to 3 of
 * tiles 0..7 and 8..15 picked in pairs, then the halves joined. */
static void window_row(const float *row, int64_t start, int64_t width, __m512 *d)
{
    __m512 a[5];
    for (int q = 0; q < 5; q++)
        a[q] = load_run(row, start + 16 * q, width);
    __m512i first = indices(pick_columns01), second = indices(pick_columns23);
    __m512 low01 = _mm512_permutex2var_ps(a[0], first, a[1]);
    __m512 high01 = _mm512_permutex2var_ps(a[2], first, a[3]);
    __m512 low23 = _mm512_permutex2var_ps(a[0], second, a[1]);
    __m512 high23 = _mm512_permutex2var_ps(a[2], second, a[3]);
    d[0] = _mm512_shuffle_f32x4(low01, high01, 0x44);
    d[1] = _mm512_shuffle_f32x4(low01, high01, 0xee);
    d[2] = _mm512_shuffle_f32x4(low23, high23, 0x44);
    d[3] = _mm512_shuffle_f32x4(low23, high23, 0xee);
    __m512i next = _mm512_castps_si512(a[4]);
    d[4] = _mm512_castsi512_ps(_mm512_alignr_epi32(next, _mm512_castps_si512(d[0]), 1));
    next = _mm512_alignr_epi32(next, next, 1);
    d[5] = _mm512_castsi512_ps(_mm512_alignr_epi32(next, _mm512_castps_si512(d[1]), 1));
}

/* Tiles [tw0, tw0 + n) of tile row th, n <= 16, into lanes [0, n) of v. */
static void input_pass(const fq_f32_winograd_geometry *g, const float *x, int64_t th,
                       int64_t tw0, int64_t n, float *v, size_t e_stride)
{
    int64_t ih0 = th * 4 - g->pad_top, start = tw0 * 4 - g->pad_left;
    __m512 rows[6][6];
    for (int r = 0; r < 6; r++) {
        __m512 d[6];
        int64_t ih = ih0 + r;
        if (ih < 0 || ih >= g->in_h)
            for (int j = 0; j < 6; j++)
                d[j] = _mm512_setzero_ps();
        else
            window_row(x + ih * g->in_w, start, g->in_w, d);
        input_line(d, rows[r]);
    }

    __mmask16 mask = lanes(n);
    for (int k = 0; k < 6; k++) {
        __m512 column[6] = {rows[0][k], rows[1][k], rows[2][k], rows[3][k], rows[4][k],
                            rows[5][k]};
        __m512 out[6];
        input_line(column, out);
        for (int i = 0; i < 6; i++)
            _mm512_mask_storeu_ps(v + (size_t)(i * 6 + k) * e_stride, mask, out[i]);
    }
}

/* A^T m of six vectors m[0..5] into r[0..3]. */
static void output_line(const __m512 *m, __m512 *r)
{
    __m512 sum12 = _mm512_add_ps(m[1], m[2]), diff12 = _mm512_sub_ps(m[1], m[2]);
    __m512 sum34 = _mm512_add_ps(m[3], m[4]), diff34 = _mm512_sub_ps(m[3], m[4]);
    r[0] = _mm512_add_ps(_mm512_add_ps(m[0], sum12), sum34);
    r[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), diff34, diff12);
    r[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), sum34, sum12);
    r[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), diff34, diff12), m[5]);
}

/* Columns b of tiles l in y[b][l] (b < 4, l < 16) into out[q][4 i + b] = y[b][4 q + i]:
 * columns 0, 1 and 2, 3 paired per tile, then the pairs of four tiles joined. */
static void interleave_tiles(const __m512 *y, __m512 *out)
{
    __m512i low = indices(pair_low), high = indices(pair_high);
    __m512 low01 = _mm512_permutex2var_ps(y[0], low, y[1]);
    __m512 high01 = _mm512_permutex2var_ps(y[0], high, y[1]);
    __m512 low23 = _mm512_permutex2var_ps(y[2], low, y[3]);
    __m512 high23 = _mm512_permutex2var_ps(y[2], high, y[3]);
    __m512i first = indices(quad_low), second = indices(quad_high);
    out[0] = _mm512_permutex2var_ps(low01, first, low23);
    out[1] = _mm512_permutex2var_ps(low01, second, low23);
    out[2] = _mm512_permutex2var_ps(high01, first, high23);
    out[3] = _mm512_permutex2var_ps(high01, second, high23);
}

/* Tiles [tw0, tw0 + n) of tile row th from lanes [0, n) of m. */
static void output_pass(const fq_f32_winograd_geometry *g, const float *m, size_t e_stride,
                        int64_t th, int64_t tw0, int64_t n, float bias,
                        const fq_f32_gemm_params *params, float *y)
{
    __mmask16 mask = lanes(n);
    __m512 cols[4][6];
    for (int j = 0; j < 6; j++) {
        __m512 in[6], out[4];
        for (int i = 0; i < 6; i++)
            in[i] = _mm512_maskz_loadu_ps(mask, m + (size_t)(i * 6 + j) * e_stride);
        output_line(in, out);
        for (int a = 0; a < 4; a++)
            cols[a][j] = out[a];
    }

    __m512 vbias = _mm512_set1_ps(bias);
    int64_t ow0 = tw0 * 4, width = g->out_w - ow0;
    width = width < 4 * n ? width : 4 * n;
    for (int a = 0; a < 4 && th * 4 + a < g->out_h; a++) {
        __m512 row[4], runs[4];
        output_line(cols[a], row);
        for (int b = 0; b < 4; b++)
            row[b] = activate(_mm512_add_ps(row[b], vbias), params);
        interleave_tiles(row, runs);
        float *dst = y + (th * 4 + a) * g->out_w + ow0;
        for (int q = 0; q < 4 && 16 * q < width; q++)
            _mm512_mask_storeu_ps(dst + 16 * q, lanes(width - 16 * q), runs[q]);
    }
}

#define FQ_WINOGRAD_INPUT fq_f32_winograd_input_4x3__avx512
#define FQ_WINOGRAD_OUTPUT fq_f32_winograd_output_4x3__avx512
#include "f32_winograd_walk.h"
