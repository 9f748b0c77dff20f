/* Winograd F(4x4, 3x3) input and output transforms, portable C, one tile at a time. The SIMD
 * versions run the same steps on vectors of consecutive tiles. See f32_winograd.h. */
#include <stdbool.h>

#include "f32_winograd.h"

/* B^T d of six values d[0], d[s], ..., d[5 s] into r[0], r[rs], ..., r[5 rs]. */
static void input_line(const float *d, int s, float *r, int rs)
{
    float a = d[4 * s] - 4.0f * d[2 * s], b = d[3 * s] - 4.0f * d[s];
    float c = d[4 * s] - d[2 * s], e = 2.0f * (d[3 * s] - d[s]);
    r[0] = 4.0f * d[0] - 5.0f * d[2 * s] + d[4 * s];
    r[rs] = a + b;
    r[2 * rs] = a - b;
    r[3 * rs] = c + e;
    r[4 * rs] = c - e;
    r[5 * rs] = 4.0f * d[s] - 5.0f * d[3 * s] + d[5 * s];
}

/* A^T m of six values m[0], m[s], ..., m[5 s] into r[0], r[rs], r[2 rs], r[3 rs]. */
static void output_line(const float *m, int s, float *r, int rs)
{
    float sum12 = m[s] + m[2 * s], diff12 = m[s] - m[2 * s];
    float sum34 = m[3 * s] + m[4 * s], diff34 = m[3 * s] - m[4 * s];
    r[0] = m[0] + sum12 + sum34;
    r[rs] = diff12 + 2.0f * diff34;
    r[2 * rs] = sum12 + 4.0f * sum34;
    r[3 * rs] = diff12 + 8.0f * diff34 + m[5 * s];
}

/* The 6x6 window of tile t, zero outside the plane. */
static void gather_window(const fq_f32_winograd_geometry *g, const float *x, int64_t t,
                          float *d)
{
    int64_t ih0 = t / g->tiles_w * 4 - g->pad_top, iw0 = t % g->tiles_w * 4 - g->pad_left;
    for (int64_t r = 0; r < 6; r++)
        for (int64_t c = 0; c < 6; c++) {
            int64_t ih = ih0 + r, iw = iw0 + c;
            bool inside = ih >= 0 && ih < g->in_h && iw >= 0 && iw < g->in_w;
            d[r * 6 + c] = inside ? x[ih * g->in_w + iw] : 0.0f;
        }
}

void fq_f32_winograd_input_4x3__scalar(const fq_f32_winograd_geometry *g, const float *x,
                                       int64_t t0, int64_t count, float *v, size_t e_stride)
{
    for (int64_t t = t0; t < t0 + count; t++) {
        float d[36], rows[36], out[36];
        gather_window(g, x, t, d);

        for (int r = 0; r < 6; r++)
            input_line(d + r * 6, 1, rows + r * 6, 1);
        for (int c = 0; c < 6; c++)
            input_line(rows + c, 6, out + c, 6);

        for (int e = 0; e < 36; e++)
            v[(size_t)e * e_stride + (size_t)(t - t0)] = out[e];
    }
}

static float activate(float v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return v > 0.0f ? v : 0.0f;
    case FQ_EPILOGUE_F32_CLIP:
        v = v > p->alpha ? v : p->alpha;
        return v < p->beta ? v : p->beta;
    case FQ_EPILOGUE_F32_LEAKY_RELU:
        return v < 0.0f ? v * p->alpha : v;
    default:
        return v;
    }
}

void fq_f32_winograd_output_4x3__scalar(const fq_f32_winograd_geometry *g, const float *m,
                                        size_t e_stride, int64_t t0, int64_t count, float bias,
                                        const fq_f32_gemm_params *params, float *y)
{
    for (int64_t t = t0; t < t0 + count; t++) {
        float in[36], cols[24], out[16];
        for (int e = 0; e < 36; e++)
            in[e] = m[(size_t)e * e_stride + (size_t)(t - t0)];

        for (int c = 0; c < 6; c++)
            output_line(in + c, 6, cols + c, 6);
        for (int r = 0; r < 4; r++)
            output_line(cols + r * 6, 1, out + r * 4, 1);

        int64_t oh0 = t / g->tiles_w * 4, ow0 = t % g->tiles_w * 4;
        for (int64_t r = 0; r < 4 && oh0 + r < g->out_h; r++)
            for (int64_t c = 0; c < 4 && ow0 + c < g->out_w; c++)
                y[(oh0 + r) * g->out_w + ow0 + c] = activate(out[r * 4 + c] + bias, params);
    }
}
