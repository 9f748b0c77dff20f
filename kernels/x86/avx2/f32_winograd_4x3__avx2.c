/* Winograd F(4x4, 3x3) input and output transforms, AVX2 with FMA: 8 consecutive tiles of one
 * tile row per pass, one tile per lane.
 *
 * Input: each of the window's six rows is five masked loads of the 40 input columns the 8
 * tiles read (zero outside the row). Column j of every tile is a 4x4 transpose inside each
 * 128-bit half after pairing the halves so that tiles l and l + 4 share a vector; columns 4
 * and 5 are columns 0 and 1 moved one tile along. Output: the reverse, stored with masks that
 * crop the plane. The arithmetic is that of the scalar version (f32_winograd.h). */
#include <immintrin.h>

#include "f32_winograd.h"
#include "f32_activate_avx2.h"

enum { LANES = 8 };

/* Lanes [lo, hi) of a load or store mask, clamped to [0, 8]. */
static __m256i mask_between(int64_t lo, int64_t hi)
{
    lo = lo < 0 ? 0 : lo > LANES ? LANES : lo;
    hi = hi < 0 ? 0 : hi > LANES ? LANES : hi;
    __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i above = _mm256_cmpgt_epi32(index, _mm256_set1_epi32((int)lo - 1));
    __m256i below = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), index);
    return _mm256_and_si256(above, below);
}

/* Columns [start, start + 8) of a row of width floats, zero outside [0, width). */
static __m256 load_run(const float *row, int64_t start, int64_t width)
{
    int64_t lo = start < 0 ? -start : 0, hi = width - start;
    if (lo >= LANES || hi <= 0)
        return _mm256_setzero_ps();
    return _mm256_maskload_ps(row + start, mask_between(lo, hi));
}

/* 4x4 transposes inside each 128-bit half: out[j] half h = (r[0..3] half h)[j]. */
static void transpose_halves(const __m256 *r, __m256 *out)
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    out[0] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
    out[1] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
    out[2] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
    out[3] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
}

/* B^T d of six vectors d[0..5] into r[0..5]. */
static void input_line(const __m256 *d, __m256 *r)
{
    __m256 four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f);
    __m256 a = _mm256_fnmadd_ps(four, d[2], d[4]), b = _mm256_fnmadd_ps(four, d[1], d[3]);
    __m256 c = _mm256_sub_ps(d[4], d[2]);
    __m256 e = _mm256_mul_ps(_mm256_set1_ps(2.0f), _mm256_sub_ps(d[3], d[1]));
    r[0] = _mm256_add_ps(_mm256_fnmadd_ps(five, d[2], _mm256_mul_ps(four, d[0])), d[4]);
    r[1] = _mm256_add_ps(a, b);
    r[2] = _mm256_sub_ps(a, b);
    r[3] = _mm256_add_ps(c, e);
    r[4] = _mm256_sub_ps(c, e);
    r[5] = _mm256_add_ps(_mm256_fnmadd_ps(five, d[3], _mm256_mul_ps(four, d[1])), d[5]);
}

/* v moved one tile down the lanes, next in the last lane. */
static __m256 next_tile(__m256 v, float next)
{
    __m256 moved = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7));
    return _mm256_blend_ps(moved, _mm256_set1_ps(next), 0x80);
}

/* Window row columns 0..5 of 8 tiles whose first column is row[start]. */
static void window_row(const float *row, int64_t start, int64_t width, __m256 *d)
{
    __m256 a[5], pairs[4];
    for (int q = 0; q < 5; q++)
        a[q] = load_run(row, start + 8 * q, width);
    pairs[0] = _mm256_permute2f128_ps(a[0], a[2], 0x20);
    pairs[1] = _mm256_permute2f128_ps(a[0], a[2], 0x31);
    pairs[2] = _mm256_permute2f128_ps(a[1], a[3], 0x20);
    pairs[3] = _mm256_permute2f128_ps(a[1], a[3], 0x31);
    transpose_halves(pairs, d);
    float tail[LANES];
    _mm256_storeu_ps(tail, a[4]);
    d[4] = next_tile(d[0], tail[0]);
    d[5] = next_tile(d[1], tail[1]);
}

/* Tiles [tw0, tw0 + n) of tile row th, n <= 8, into lanes [0, n) of v. */
static void input_pass(const fq_f32_winograd_geometry *g, const float *x, int64_t th,
                       int64_t tw0, int64_t n, float *v, size_t e_stride)
{
    int64_t ih0 = th * 4 - g->pad_top, start = tw0 * 4 - g->pad_left;
    __m256 rows[6][6];
    for (int r = 0; r < 6; r++) {
        __m256 d[6];
        int64_t ih = ih0 + r;
        if (ih < 0 || ih >= g->in_h)
            for (int j = 0; j < 6; j++)
                d[j] = _mm256_setzero_ps();
        else
            window_row(x + ih * g->in_w, start, g->in_w, d);
        input_line(d, rows[r]);
    }

    __m256i mask = mask_between(0, n);
    for (int k = 0; k < 6; k++) {
        __m256 column[6] = {rows[0][k], rows[1][k], rows[2][k], rows[3][k], rows[4][k],
                            rows[5][k]};
        __m256 out[6];
        input_line(column, out);
        for (int i = 0; i < 6; i++)
            _mm256_maskstore_ps(v + (size_t)(i * 6 + k) * e_stride, mask, out[i]);
    }
}

/* A^T m of six vectors m[0..5] into r[0..3]. */
static void output_line(const __m256 *m, __m256 *r)
{
    __m256 sum12 = _mm256_add_ps(m[1], m[2]), diff12 = _mm256_sub_ps(m[1], m[2]);
    __m256 sum34 = _mm256_add_ps(m[3], m[4]), diff34 = _mm256_sub_ps(m[3], m[4]);
    r[0] = _mm256_add_ps(_mm256_add_ps(m[0], sum12), sum34);
    r[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), diff34, diff12);
    r[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), sum34, sum12);
    r[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), diff34, diff12), m[5]);
}

/* Columns b of tiles l in y[b][l] (b < 4, l < 8) into out[q][4 i + b] = y[b][2 q + i]. */
static void interleave_tiles(const __m256 *y, __m256 *out)
{
    __m256 tiles[4];
    transpose_halves(y, tiles);
    out[0] = _mm256_permute2f128_ps(tiles[0], tiles[1], 0x20);
    out[1] = _mm256_permute2f128_ps(tiles[2], tiles[3], 0x20);
    out[2] = _mm256_permute2f128_ps(tiles[0], tiles[1], 0x31);
    out[3] = _mm256_permute2f128_ps(tiles[2], tiles[3], 0x31);
}

/* Tiles [tw0, tw0 + n) of tile row th from lanes [0, n) of m. */
static void output_pass(const fq_f32_winograd_geometry *g, const float *m, size_t e_stride,
                        int64_t th, int64_t tw0, int64_t n, float bias,
                        const fq_f32_gemm_params *params, float *y)
{
    __m256i mask = mask_between(0, n);
    __m256 cols[4][6];
    for (int j = 0; j < 6; j++) {
        __m256 in[6], out[4];
        for (int i = 0; i < 6; i++)
            in[i] = _mm256_maskload_ps(m + (size_t)(i * 6 + j) * e_stride, mask);
        output_line(in, out);
        for (int a = 0; a < 4; a++)
            cols[a][j] = out[a];
    }

    __m256 vbias = _mm256_set1_ps(bias);
    int64_t ow0 = tw0 * 4, width = g->out_w - ow0;
    width = width < 4 * n ? width : 4 * n;
    for (int a = 0; a < 4 && th * 4 + a < g->out_h; a++) {
        __m256 row[4], runs[4];
        output_line(cols[a], row);
        for (int b = 0; b < 4; b++)
            row[b] = activate(_mm256_add_ps(row[b], vbias), params);
        interleave_tiles(row, runs);
        float *dst = y + (th * 4 + a) * g->out_w + ow0;
        for (int q = 0; q < 4 && 8 * q < width; q++)
            _mm256_maskstore_ps(dst + 8 * q, mask_between(0, width - 8 * q), runs[q]);
    }
}

#define FQ_WINOGRAD_INPUT fq_f32_winograd_input_4x3__avx2
#define FQ_WINOGRAD_OUTPUT fq_f32_winograd_output_4x3__avx2
#include "f32_winograd_walk.h"
