/* fp32 pointwise (1x1, stride 1, unpadded) convolution of NCHW planes over the GEMM
 * microkernels of f32_gemm.h.
 *
 * Y (m x pixels) = packed W (m x k) * X (k x pixels) + bias, then the activation, with X and Y
 * the input and output planes of one image. Reading X in place, as fq_f32_gemm_run does, takes
 * k rows a plane apart for every tile; planes of large images are a multiple of 4 KiB apart, so
 * those rows fall in the same L1 sets and the prefetchers see k short streams. Here the pixels
 * are split into column blocks, and each block of X is first copied, one long sequential run
 * per input plane, into a packed buffer of nr-column panels (panel s holds row r at
 * s * k * nr + r * nr); every row panel of W then runs over the whole block, so each output
 * row receives one long run per block.
 *
 * Sums follow the microkernel contract of f32_gemm.h (depth blocks of kc in increasing order,
 * from the bias), the same for every block size and thread count: a thread takes whole blocks,
 * and every element is computed by one thread in one order. PRELU slopes are per output row
 * (slope_count 1: one for all); sigmoid runs the reference over finished rows. */
#ifndef FQ_KERNELS_F32_POINTWISE_H
#define FQ_KERNELS_F32_POINTWISE_H

#include <stddef.h>
#include <stdint.h>

#include "f32_gemm.h"

struct fq_threadpool;

/* Planes of at least this many pixels run through this driver; below it reading X in place
 * (fq_f32_gemm_run) is as fast or faster, the packing copy costing more than it saves. Inside
 * the models on AVX-512 the driver wins from 56x56 on (MobileFaceNet's 64 -> 64 at 56x56 0.37
 * -> 0.30 ms, det_500m's 72 -> 72 at 80x80 0.89 -> 0.78 ms) and loses at 28x28 (10-20%). */
#define FQ_F32_POINTWISE_MIN_PIXELS (56 * 56)

/* Pixels per column block for a depth of k: a multiple of kernel->nr. */
int64_t fq_f32_pointwise_block(const fq_f32_gemm_kernel *kernel, int64_t k);

/* Workspace bytes fq_f32_pointwise_run needs with `slots` concurrent tasks. */
size_t fq_f32_pointwise_workspace_size(const fq_f32_gemm_kernel *kernel, int64_t k, int slots);

/* y (w->m planes of `pixels` floats) = w * x (w->k planes of `pixels` floats), activation act.
 * workspace has fq_f32_pointwise_workspace_size(kernel, w->k, slots) bytes, aligned to 64
 * bytes; at most `slots` of pool's threads take part. */
void fq_f32_pointwise_run(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w,
                          int64_t pixels, const float *x, float *y, const fq_epilogue_f32 *act,
                          void *workspace, int slots, struct fq_threadpool *pool);

#endif
