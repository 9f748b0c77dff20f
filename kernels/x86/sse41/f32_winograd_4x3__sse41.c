/* Winograd F(4x4, 3x3) input and output transforms, SSE4.1 (no FMA): 4 consecutive tiles of
 * one tile row per pass, one tile per lane.
 *
 * Input: each of the window's six rows is five loads of the 20 input columns the 4 tiles read
 * (zero outside the row: a partial vector is copied through a zeroed buffer). Column j < 4 of
 * every tile is one 4x4 transpose of the first four loads; columns 4 and 5 are columns 0 and 1
 * moved one tile along. Output: the reverse, cropped to the plane. The arithmetic is that of
 * the scalar version (f32_winograd.h), multiplies and adds in the same order. */
#include <smmintrin.h>
#include <string.h>

#include "f32_winograd.h"
#include "f32_activate_sse41.h"

enum { LANES = 4 };

/* Columns [start, start + 4) of a row of width floats, zero outside [0, width). */
static __m128 load_run(const float *row, int64_t start, int64_t width)
{
    if (start >= 0 && start + LANES <= width)
        return _mm_loadu_ps(row + start);
    float lanes[LANES] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t l = 0; l < LANES; l++)
        if (start + l >= 0 && start + l < width)
            lanes[l] = row[start + l];
    return _mm_loadu_ps(lanes);
}

/* out[j] lane l = r[l] lane j. */
static void transpose(const __m128 *r, __m128 *out)
{
    __m128 t0 = _mm_unpacklo_ps(r[0], r[1]), t1 = _mm_unpackhi_ps(r[0], r[1]);
    __m128 t2 = _mm_unpacklo_ps(r[2], r[3]), t3 = _mm_unpackhi_ps(r[2], r[3]);
    out[0] = _mm_movelh_ps(t0, t2);
    out[1] = _mm_movehl_ps(t2, t0);
    out[2] = _mm_movelh_ps(t1, t3);
    out[3] = _mm_movehl_ps(t3, t1);
}

/* B^T d of six vectors d[0..5] into r[0..5]. */
static void input_line(const __m128 *d, __m128 *r)
{
    __m128 four = _mm_set1_ps(4.0f), five = _mm_set1_ps(5.0f);
    __m128 a = _mm_sub_ps(d[4], _mm_mul_ps(four, d[2]));
    __m128 b = _mm_sub_ps(d[3], _mm_mul_ps(four, d[1]));
    __m128 c = _mm_sub_ps(d[4], d[2]);
    __m128 e = _mm_mul_ps(_mm_set1_ps(2.0f), _mm_sub_ps(d[3], d[1]));
    r[0] = _mm_add_ps(_mm_sub_ps(_mm_mul_ps(four, d[0]), _mm_mul_ps(five, d[2])), d[4]);
    r[1] = _mm_add_ps(a, b);
    r[2] = _mm_sub_ps(a, b);
    r[3] = _mm_add_ps(c, e);
    r[4] = _mm_sub_ps(c, e);
    r[5] = _mm_add_ps(_mm_sub_ps(_mm_mul_ps(four, d[1]), _mm_mul_ps(five, d[3])), d[5]);
}

/* v moved one tile down the lanes, lane 0 of next in the last lane. */
static __m128 next_tile(__m128 v, __m128 next)
{
    __m128 moved = _mm_castsi128_ps(_mm_srli_si128(_mm_castps_si128(v), 4));
    return _mm_insert_ps(moved, next, 0x30);
}

/* Window row columns 0..5 of 4 tiles whose first column is row[start]. */
static void window_row(const float *row, int64_t start, int64_t width, __m128 *d)
{
    __m128 a[5];
    for (int q = 0; q < 5; q++)
        a[q] = load_run(row, start + LANES * q, width);
    transpose(a, d);
    d[4] = next_tile(d[0], a[4]);
    d[5] = next_tile(d[1], _mm_shuffle_ps(a[4], a[4], 0x55));
}

/* Lanes [0, n) of v into dst. */
static void store_lanes(float *dst, __m128 v, int64_t n)
{
    if (n >= LANES) {
        _mm_storeu_ps(dst, v);
        return;
    }
    float lanes[LANES];
    _mm_storeu_ps(lanes, v);
    memcpy(dst, lanes, (size_t)(n > 0 ? n : 0) * sizeof(float));
}

/* Lanes [0, n) of a vector read from src, zero above. */
static __m128 load_lanes(const float *src, int64_t n)
{
    if (n >= LANES)
        return _mm_loadu_ps(src);
    float lanes[LANES] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(lanes, src, (size_t)n * sizeof(float));
    return _mm_loadu_ps(lanes);
}

/* Tiles [tw0, tw0 + n) of tile row th, n <= 4, into lanes [0, n) of v. */
static void input_pass(const fq_f32_winograd_geometry *g, const float *x, int64_t th,
                       int64_t tw0, int64_t n, float *v, size_t e_stride)
{
    int64_t ih0 = th * 4 - g->pad_top, start = tw0 * 4 - g->pad_left;
    __m128 rows[6][6];
    for (int r = 0; r < 6; r++) {
        __m128 d[6];
        int64_t ih = ih0 + r;
        if (ih < 0 || ih >= g->in_h)
            for (int j = 0; j < 6; j++)
                d[j] = _mm_setzero_ps();
        else
            window_row(x + ih * g->in_w, start, g->in_w, d);
        input_line(d, rows[r]);
    }

    for (int k = 0; k < 6; k++) {
        __m128 column[6] = {rows[0][k], rows[1][k], rows[2][k], rows[3][k], rows[4][k],
                            rows[5][k]};
        __m128 out[6];
        input_line(column, out);
        for (int i = 0; i < 6; i++)
            store_lanes(v + (size_t)(i * 6 + k) * e_stride, out[i], n);
    }
}

/* A^T m of six vectors m[0..5] into r[0..3]. */
static void output_line(const __m128 *m, __m128 *r)
{
    __m128 sum12 = _mm_add_ps(m[1], m[2]), diff12 = _mm_sub_ps(m[1], m[2]);
    __m128 sum34 = _mm_add_ps(m[3], m[4]), diff34 = _mm_sub_ps(m[3], m[4]);
    r[0] = _mm_add_ps(_mm_add_ps(m[0], sum12), sum34);
    r[1] = _mm_add_ps(_mm_mul_ps(_mm_set1_ps(2.0f), diff34), diff12);
    r[2] = _mm_add_ps(_mm_mul_ps(_mm_set1_ps(4.0f), sum34), sum12);
    r[3] = _mm_add_ps(_mm_add_ps(_mm_mul_ps(_mm_set1_ps(8.0f), diff34), diff12), m[5]);
}

/* Tiles [tw0, tw0 + n) of tile row th from lanes [0, n) of m. */
static void output_pass(const fq_f32_winograd_geometry *g, const float *m, size_t e_stride,
                        int64_t th, int64_t tw0, int64_t n, float bias,
                        const fq_f32_gemm_params *params, float *y)
{
    __m128 cols[4][6];
    for (int j = 0; j < 6; j++) {
        __m128 in[6], out[4];
        for (int i = 0; i < 6; i++)
            in[i] = load_lanes(m + (size_t)(i * 6 + j) * e_stride, n);
        output_line(in, out);
        for (int a = 0; a < 4; a++)
            cols[a][j] = out[a];
    }

    __m128 vbias = _mm_set1_ps(bias);
    int64_t ow0 = tw0 * 4, width = g->out_w - ow0;
    width = width < 4 * n ? width : 4 * n;
    for (int a = 0; a < 4 && th * 4 + a < g->out_h; a++) {
        __m128 row[4], runs[4];
        output_line(cols[a], row);
        for (int b = 0; b < 4; b++)
            row[b] = activate(_mm_add_ps(row[b], vbias), params);
        transpose(row, runs);  /* runs[l]: the 4 columns of tile l */
        float *dst = y + (th * 4 + a) * g->out_w + ow0;
        for (int l = 0; l < 4 && 4 * l < width; l++)
            store_lanes(dst + 4 * l, runs[l], width - 4 * l);
    }
}

#define FQ_WINOGRAD_INPUT fq_f32_winograd_input_4x3__sse41
#define FQ_WINOGRAD_OUTPUT fq_f32_winograd_output_4x3__sse41
#include "f32_winograd_walk.h"
