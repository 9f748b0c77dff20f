/* fp32 average pooling kernels on NCHW planes, one plane per call.
 *
 *     ukernel(p, x, y)
 *
 * computes one in_h x in_w plane of x into one out_h x out_w plane of y exactly as
 * fq_ref_avgpool2d_f32 (ref/f32_pool2d_ref.h) does for a single plane (p->planes is ignored),
 * bit for bit: each output adds its window's taps inside the input in the reference's order
 * (rows, then columns within a row, starting from +0), so the float sums round the same, and
 * divides by the same count. Lanes whose tap lies outside the input add +0, which leaves a sum
 * that started at +0 unchanged. The kernels vectorize across output columns. */
#ifndef FQ_KERNELS_F32_POOL_H
#define FQ_KERNELS_F32_POOL_H

#include "facequant/cpu.h"
#include "ref/f32_pool2d_ref.h"

typedef void (*fq_f32_avgpool_fn)(const fq_pool2d_f32_params *p, const float *x, float *y);

typedef struct fq_f32_avgpool_kernel {
    const char *name;   /* "f32_avgpool_16w__avx512" */
    fq_isa isa;
    fq_f32_avgpool_fn ukernel;
} fq_f32_avgpool_kernel;

/* Every kernel compiled in. */
const fq_f32_avgpool_kernel *fq_f32_avgpool_kernels(int *count);
/* Whether the kernels take p: undilated, stride_w 1 or 2, any stride_h and window. */
bool fq_f32_avgpool_takes(const fq_pool2d_f32_params *p);
/* The best kernel under cap for p; NULL when none is compiled, allowed or able to take it (the
 * caller then runs the reference). */
const fq_f32_avgpool_kernel *fq_f32_avgpool_select(fq_isa cap, const fq_pool2d_f32_params *p);

void fq_f32_avgpool_ukernel_8w__avx2(const fq_pool2d_f32_params *p, const float *x, float *y);
void fq_f32_avgpool_ukernel_16w__avx512(const fq_pool2d_f32_params *p, const float *x,
                                        float *y);

#endif
