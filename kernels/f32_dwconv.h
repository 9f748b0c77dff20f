/* fp32 depthwise 3x3 convolution kernels, one NCHW channel plane per call.
 *
 *     ukernel(geometry, x, w, bias, y, params)
 *
 * y[oh][ow] = act(bias + sum over kh, kw of w[kh * 3 + kw] *
 *                 x[oh * S - pad_top + kh][ow * S - pad_left + kw]), taps outside x reading zero,
 * with S the stride in the kernel's name (dilation 1). The activation is that of
 * fq_f32_gemm_params (f32_gemm.h) with LEAKY_RELU's alpha as the channel's slope; SIGMOID is
 * left to the caller. Sums start from the bias and run kh-major, with FMA where the ISA has it:
 * the same tolerance as the GEMM kernels holds against the reference. */
#ifndef FQ_KERNELS_F32_DWCONV_H
#define FQ_KERNELS_F32_DWCONV_H

#include <stdint.h>

#include "f32_gemm.h"

typedef struct fq_f32_dwconv_geometry {
    int64_t in_h, in_w;
    int64_t out_h, out_w;
    int64_t pad_top, pad_left;
} fq_f32_dwconv_geometry;

typedef void (*fq_f32_dwconv_fn)(const fq_f32_dwconv_geometry *g, const float *x,
                                 const float *w, float bias, float *y,
                                 const fq_f32_gemm_params *params);

typedef struct fq_f32_dwconv_kernel {
    const char *name;   /* "f32_dwconv_3x3s1__avx512" */
    fq_isa isa;
    int stride;
    fq_f32_dwconv_fn ukernel;
} fq_f32_dwconv_kernel;

/* The best 3x3 kernel of this stride (1 or 2) under cap; NULL when none is compiled or
 * allowed. */
const fq_f32_dwconv_kernel *fq_f32_dwconv_select(fq_isa cap, int stride);

#define FQ_DECLARE_DWCONV(name)                                                              \
    void name(const fq_f32_dwconv_geometry *g, const float *x, const float *w, float bias,   \
              float *y, const fq_f32_gemm_params *params)
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s1__sse41);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s2__sse41);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s1__avx2);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s2__avx2);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s1__avx512);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s2__avx512);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s1__neon);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_3x3s2__neon);
#undef FQ_DECLARE_DWCONV

#endif
