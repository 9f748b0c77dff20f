/* Winograd F(4x4, 3x3) transforms for fp32 3x3 stride-1 convolutions (f32_conv.h).
 *
 * The output plane is cut into 4x4 tiles, numbered row-major over the tile grid (tiles_w
 * tiles per row, the last row and column cropped to the plane). Tile t reads the 6x6 input
 * window whose top-left corner is input row 4 * (t / tiles_w) - pad_top, column
 * 4 * (t % tiles_w) - pad_left, reading zero outside the input. With the interpolation points
 * 0, 1, -1, 2, -2 and infinity, one output tile is
 *
 *     Y = A^T [ (G g G^T) . (B^T d B) ] A      (. elementwise, over the 36 elements)
 *
 *     B^T = | 4  0 -5  0  1  0 |   G = | 1/4     0     0 |   A^T = | 1  1  1  1  1  0 |
 *           | 0 -4 -4  1  1  0 |       | -1/6 -1/6  -1/6 |         | 0  1 -1  2 -2  0 |
 *           | 0  4 -4 -1  1  0 |       | -1/6  1/6  -1/6 |         | 0  1  1  4  4  0 |
 *           | 0 -2 -1  2  1  0 |       | 1/24 1/12   1/6 |         | 0  1 -1  8 -8  1 |
 *           | 0  2 -1 -2  1  0 |       | 1/24 -1/12  1/6 |
 *           | 0  4  0 -5  0  1 |       | 0       0     1 |
 *
 * so the sum over input channels becomes 36 independent GEMMs, one per element e = 6 i + j.
 *
 *     input(g, x, t0, count, v, e_stride)
 *         x one input channel plane (in_h x in_w); for tiles t in [t0, t0 + count), element e
 *         of B^T d B goes to v[e * e_stride + t - t0];
 *     output(g, m, e_stride, t0, count, bias, params, y)
 *         m[e * e_stride + t - t0] the 36 products of tile t for one output channel; writes
 *         A^T m A + bias, activated, into the tile's cropped place in plane y (out_h x out_w).
 *         params as in f32_gemm.h with LEAKY_RELU's alpha as the channel's slope; SIGMOID is
 *         left to the caller.
 * Every tile goes through the same sequence of operations wherever it lies in a call, so the
 * result does not depend on how tiles are split into calls. */
#ifndef FQ_KERNELS_F32_WINOGRAD_H
#define FQ_KERNELS_F32_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

#include "f32_gemm.h"

enum { FQ_F32_WINOGRAD_ELEMENTS = 36, FQ_F32_WINOGRAD_TILE = 4 };

typedef struct fq_f32_winograd_geometry {
    int64_t in_h, in_w;
    int64_t out_h, out_w;
    int64_t pad_top, pad_left;
    int64_t tiles_w;            /* tiles per row of the grid: out_w / 4 rounded up */
} fq_f32_winograd_geometry;

typedef void (*fq_f32_winograd_input_fn)(const fq_f32_winograd_geometry *g, const float *x,
                                         int64_t t0, int64_t count, float *v,
                                         size_t e_stride);

typedef void (*fq_f32_winograd_output_fn)(const fq_f32_winograd_geometry *g, const float *m,
                                          size_t e_stride, int64_t t0, int64_t count,
                                          float bias, const fq_f32_gemm_params *params,
                                          float *y);

typedef struct fq_f32_winograd_kernel {
    const char *name;   /* "f32_winograd_4x3__avx512" */
    fq_isa isa;
    fq_f32_winograd_input_fn input;
    fq_f32_winograd_output_fn output;
} fq_f32_winograd_kernel;

/* The best transforms allowed under cap on this CPU; the scalar ones when no SIMD ones are.
 * Never NULL. */
const fq_f32_winograd_kernel *fq_f32_winograd_select(fq_isa cap);

/* U = G g G^T of one 3x3 filter g (row-major), computed in double and rounded once. */
void fq_f32_winograd_filter_4x3(const float *g, float *u);

void fq_f32_winograd_input_4x3__scalar(const fq_f32_winograd_geometry *g, const float *x,
                                       int64_t t0, int64_t count, float *v, size_t e_stride);
void fq_f32_winograd_output_4x3__scalar(const fq_f32_winograd_geometry *g, const float *m,
                                        size_t e_stride, int64_t t0, int64_t count, float bias,
                                        const fq_f32_gemm_params *params, float *y);
void fq_f32_winograd_input_4x3__sse41(const fq_f32_winograd_geometry *g, const float *x,
                                      int64_t t0, int64_t count, float *v, size_t e_stride);
void fq_f32_winograd_output_4x3__sse41(const fq_f32_winograd_geometry *g, const float *m,
                                       size_t e_stride, int64_t t0, int64_t count, float bias,
                                       const fq_f32_gemm_params *params, float *y);
void fq_f32_winograd_input_4x3__avx2(const fq_f32_winograd_geometry *g, const float *x,
                                     int64_t t0, int64_t count, float *v, size_t e_stride);
void fq_f32_winograd_output_4x3__avx2(const fq_f32_winograd_geometry *g, const float *m,
                                      size_t e_stride, int64_t t0, int64_t count, float bias,
                                      const fq_f32_gemm_params *params, float *y);
void fq_f32_winograd_input_4x3__avx512(const fq_f32_winograd_geometry *g, const float *x,
                                       int64_t t0, int64_t count, float *v, size_t e_stride);
void fq_f32_winograd_output_4x3__avx512(const fq_f32_winograd_geometry *g, const float *m,
                                        size_t e_stride, int64_t t0, int64_t count, float bias,
                                        const fq_f32_gemm_params *params, float *y);

#endif
