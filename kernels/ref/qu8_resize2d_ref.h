/* u8 resize of two spatial dimensions, nearest and linear, on [outer, H, W, inner] tensors:
 * NCHW is outer = N * C, inner = 1; NHWC is outer = N, inner = C.
 *
 * Source coordinates, rounding and clamping are those of fq_ref_resize2d_f32
 * (ref/f32_resize2d_ref.h). Nearest mode copies codes. Linear mode works in float on the codes
 * (input and output share scale and zero point, so the zero point cancels), in the same order as
 * the f32 kernel: along the width, then along the height, and rounds the result half to even:
 * it gives the f32 kernel's output on the codes, rounded. */
#ifndef FQ_KERNELS_REF_QU8_RESIZE2D_REF_H
#define FQ_KERNELS_REF_QU8_RESIZE2D_REF_H

#include <stddef.h>
#include <stdint.h>

#include "ref/f32_resize2d_ref.h"

/* Workspace bytes: per-column source indices and weights. */
size_t fq_qu8_resize2d_workspace_size(const fq_resize2d_f32_params *p);

/* p->planes is the outer count; inner >= 1 elements per pixel. */
void fq_qu8_resize2d_ref(const fq_resize2d_f32_params *p, int64_t inner, const uint8_t *x,
                         uint8_t *y, void *workspace);

#endif
