/* The public input and output transforms of an ISA's Winograd kernels (f32_winograd.h): they
 * walk tiles [t0, t0 + count) in passes of at most LANES consecutive tiles of one tile row.
 * The including file defines LANES, the static functions
 *
 *     input_pass(g, x, th, tw0, n, v, e_stride)
 *     output_pass(g, m, e_stride, th, tw0, n, bias, params, y)
 *
 * for tiles [tw0, tw0 + n) of tile row th, n <= LANES, and the names FQ_WINOGRAD_INPUT and
 * FQ_WINOGRAD_OUTPUT of the two functions to define. */
#include "f32_winograd.h"

/* Tiles in the pass that starts at tile t: to the end of its tile row, of the call, or LANES. */
static inline int64_t pass_tiles(const fq_f32_winograd_geometry *g, int64_t t, int64_t end)
{
    int64_t n = g->tiles_w - t % g->tiles_w;
    n = n < end - t ? n : end - t;
    return n < LANES ? n : LANES;
}

void FQ_WINOGRAD_INPUT(const fq_f32_winograd_geometry *g, const float *x, int64_t t0,
                       int64_t count, float *v, size_t e_stride)
{
    for (int64_t t = t0, n; t < t0 + count; t += n) {
        n = pass_tiles(g, t, t0 + count);
        input_pass(g, x, t / g->tiles_w, t % g->tiles_w, n, v + (t - t0), e_stride);
    }
}

void FQ_WINOGRAD_OUTPUT(const fq_f32_winograd_geometry *g, const float *m, size_t e_stride,
                        int64_t t0, int64_t count, float bias, const fq_f32_gemm_params *params,
                        float *y)
{
    for (int64_t t = t0, n; t < t0 + count; t += n) {
        n = pass_tiles(g, t, t0 + count);
        output_pass(g, m + (t - t0), e_stride, t / g->tiles_w, t % g->tiles_w, n, bias, params,
                    y);
    }
}
