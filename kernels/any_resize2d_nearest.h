/* Nearest resize of two spatial dimensions as copies, for any element type, on
 * [outer, H, W, inner] tensors (NCHW: outer = N * C, inner = 1; NHWC: outer = N, inner = C).
 *
 * Output pixel (oh, ow) of image `o` is input pixel (rows[oh], cols[ow]): pixel_bytes bytes
 * (element size * inner). The indices are those of fq_ref_resize2d_nearest_index, so the bytes
 * equal fq_ref_resize2d_f32's and fq_qu8_resize2d_ref's in nearest mode. An output row whose
 * source row is the previous one's is a copy of that row; when every output column copies
 * column ow / 2 (upsampling by 2), the row is built by writing each pixel twice. */
#ifndef FQ_KERNELS_ANY_RESIZE2D_NEAREST_H
#define FQ_KERNELS_ANY_RESIZE2D_NEAREST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ref/f32_resize2d_ref.h"

typedef struct fq_resize2d_nearest_plan {
    int64_t outer, in_h, in_w, out_h, out_w;
    size_t pixel_bytes;
    const int64_t *rows;  /* out_h source rows */
    const int64_t *cols;  /* out_w source columns */
    bool doubles_columns; /* cols[ow] == ow / 2 for every ow */
} fq_resize2d_nearest_plan;

/* Workspace bytes for the index tables of fq_resize2d_nearest_plan_init. */
size_t fq_resize2d_nearest_workspace_size(const fq_resize2d_f32_params *p);

/* Fills the tables in workspace from p (p->planes is the outer count, mode nearest). */
void fq_resize2d_nearest_plan_init(const fq_resize2d_f32_params *p, size_t pixel_bytes,
                                   void *workspace, fq_resize2d_nearest_plan *plan);

/* Output rows [row_begin, row_end) of the outer * out_h rows. */
void fq_resize2d_nearest_rows(const fq_resize2d_nearest_plan *plan, const void *x, void *y,
                              int64_t row_begin, int64_t row_end);

#endif
