/* fp32 max pooling kernels, one plane per call.
 *
 *     ukernel(p, x, y)
 *
 * computes one in_h x in_w plane of x into one out_h x out_w plane of y exactly as
 * fq_ref_maxpool2d_f32 (ref/f32_pool2d_ref.h) does for a single plane (p->planes is ignored):
 * taps outside the input are skipped, a window with none gives -FLT_MAX. Kernels take the
 * maximum over the window's rows first, then over its columns; max is exact, so the result
 * equals the reference's up to the sign of a zero when +0 and -0 meet in one window. */
#ifndef FQ_KERNELS_F32_MAXPOOL_H
#define FQ_KERNELS_F32_MAXPOOL_H

#include "facequant/cpu.h"
#include "ref/f32_pool2d_ref.h"

typedef void (*fq_f32_maxpool_fn)(const fq_pool2d_f32_params *p, const float *x, float *y);

typedef struct fq_f32_maxpool_kernel {
    const char *name;   /* "f32_maxpool__avx512" */
    fq_isa isa;
    fq_f32_maxpool_fn ukernel;
} fq_f32_maxpool_kernel;

/* Widest window and stride the kernels take: undilated, stride 1 or 2 in both directions,
 * kernel_w at most FQ_F32_MAXPOOL_MAX_KW. */
enum { FQ_F32_MAXPOOL_MAX_KW = 16 };

/* The best kernel under cap for these parameters; NULL when none is compiled, allowed or able
 * to take them (the caller then runs the reference). */
const fq_f32_maxpool_kernel *fq_f32_maxpool_select(fq_isa cap, const fq_pool2d_f32_params *p);

void fq_f32_maxpool_ukernel__avx512(const fq_pool2d_f32_params *p, const float *x, float *y);
void fq_f32_maxpool_ukernel__avx2(const fq_pool2d_f32_params *p, const float *x, float *y);
void fq_f32_maxpool_ukernel__sse41(const fq_pool2d_f32_params *p, const float *x, float *y);
void fq_f32_maxpool_ukernel__neon(const fq_pool2d_f32_params *p, const float *x, float *y);

#endif
