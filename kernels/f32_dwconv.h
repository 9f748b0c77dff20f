/* fp32 depthwise convolution kernels, one NCHW channel plane per call.
 *
 *     ukernel(geometry, x, w, bias, y, params)
 *
 * 3x3 kernels ("3x3sS"): y[oh][ow] = act(bias + sum over kh, kw of w[kh * 3 + kw] *
 * x[oh * S - pad_top + kh][ow * S - pad_left + kw]), taps outside x reading zero, with S the
 * stride in the kernel's name (dilation 1). Sums start from the bias and run kh-major.
 *
 * Global kernels ("global"): the window is the whole plane, as in the "GDConv" that ends
 * MobileFaceNet and ArcFace heads (7x7 planes to 1x1): y[0] = act(bias + sum over i of
 * w[i] * x[i]) for i < in_h * in_w, with out_h = out_w = 1 and no padding in g. The sum runs
 * in vector lanes, then across them, then the bias is added.
 *
 * The activation is that of fq_f32_gemm_params (f32_gemm.h) with LEAKY_RELU's alpha as the
 * channel's slope; SIGMOID is left to the caller. Sums use FMA where the ISA has it: the same
 * tolerance as the GEMM kernels holds against the reference. */
#ifndef FQ_KERNELS_F32_DWCONV_H
#define FQ_KERNELS_F32_DWCONV_H

#include <stdbool.h>
#include <stdint.h>

#include "f32_gemm.h"
#include "ref/f32_conv2d_ref.h"

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

/* True when the depthwise convolution p has one window covering each whole input plane (kernel
 * = plane, output 1x1, no top or left padding, dilation 1): a global kernel computes it. */
bool fq_f32_dwconv_is_global(const fq_conv2d_f32_params *p);

/* The best global kernel under cap (its stride field is 0). Never NULL: the portable one,
 * f32_dwconv_global__scalar, is allowed under every cap. */
const fq_f32_dwconv_kernel *fq_f32_dwconv_select_global(fq_isa cap);

/* The activation of a global kernel's one output (every ISA applies it this way). */
static inline float fq_f32_dwconv_activate(float v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return v > 0.0f ? v : 0.0f;
    case FQ_EPILOGUE_F32_CLIP:
        v = v < p->alpha ? p->alpha : v;
        return v > p->beta ? p->beta : v;
    case FQ_EPILOGUE_F32_LEAKY_RELU:
        return v < 0.0f ? v * p->alpha : v;
    default:
        return v;
    }
}

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
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_global__scalar);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_global__sse41);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_global__avx2);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_global__avx512);
FQ_DECLARE_DWCONV(fq_f32_dwconv_ukernel_global__neon);
#undef FQ_DECLARE_DWCONV

#endif
