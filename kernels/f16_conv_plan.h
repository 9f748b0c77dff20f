/* fp16-arithmetic 2-D convolution of an fp16-weight Conv: a plan made once per node (kernel
 * choice, packed fp16 weights, workspace size), run on every call with f32 NCHW input and output.
 *
 * A run converts each image of the f32 NCHW input to f16 NHWC in the workspace, runs the f16
 * convolution there and converts the f16 NHWC result back to f32 NCHW. Two paths:
 *   dense      groups = 1, any kernel size, stride, dilation and pads: fq_f16_conv2d (im2col
 *              rows over the f16 GEMM, f16_gemm.h);
 *   depthwise  one input and one output channel per group, 3x3, equal strides 1 or 2,
 *              dilation 1: the f16 depthwise 3x3 kernel.
 * The fused activation must be none, Relu or Clip: it becomes the kernels' fp16 clamp (Clip's
 * bounds rounded to fp16). Other activations (LeakyRelu, PRelu, Sigmoid), other groupings and
 * a GEMM depth in_channels * kernel_h * kernel_w over FQ_F16_CONV_MAX_DEPTH are not planned
 * here: the fp16 running sum loses about K * 2^-11 of the sum of magnitudes over K terms
 * (f16_gemm.h), so such layers keep the fp32-arithmetic plan (f32_conv.h).
 *
 * Input values outside the fp16 range become infinities, and so do sums above 65504. The layout
 * and precision conversions are f16_nhwc_convert.h's (F16C on x86 from the avx2 level). A run
 * is single-threaded: sessions take this plan only when asked to
 * (fq_session_options.fp16_arithmetic). On the Xeon with AVX512-FP16 it was measured on
 * (2026-12-04) det_500m took 116-118 ms per run with scalar conversions and 26.5-27 ms with the
 * F16C ones, against 10-11 ms on the fp32-arithmetic plans over the same fp16 weights. */
#ifndef FQ_KERNELS_F16_CONV_PLAN_H
#define FQ_KERNELS_F16_CONV_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f16_gemm.h"
#include "f16_nhwc_convert.h"
#include "facequant/status.h"
#include "ref/f32_conv2d_ref.h"

/* Longest GEMM depth (in_channels * kernel_h * kernel_w) the plan takes. */
#define FQ_F16_CONV_MAX_DEPTH 4096

typedef enum fq_f16_conv_path {
    FQ_F16_CONV_DENSE,
    FQ_F16_CONV_DEPTHWISE,
} fq_f16_conv_path;

typedef struct fq_f16_conv_plan {
    fq_conv2d_f32_params p;
    fq_f16_conv_path path;
    const fq_f16_gemm_kernel *gemm;     /* dense */
    fq_f16_conv2d_params conv;          /* dense */
    const fq_f16_dwconv3x3_kernel *dw;  /* depthwise */
    fq_f16_dwconv3x3_params dwconv;     /* depthwise */
    uint16_t *packed;                   /* fp16 bias and weights in the kernel's layout */
    const fq_f16_nhwc_convert *convert; /* f32 NCHW <-> f16 NHWC */
    size_t x_offset, y_offset, im2col_offset; /* workspace regions, bytes */
    size_t workspace;                   /* bytes a run needs */
    char name[64];
} fq_f16_conv_plan;

/* Whether p can run on the fp16-arithmetic kernels allowed under cap (the rules above). */
bool fq_f16_conv_plan_applies(const fq_conv2d_f32_params *p, fq_isa cap);

/* Plans p with fp16 weights w (OIHW bit patterns) and an f32 bias (NULL: zero), rounded to
 * fp16. Refuses with FQ_ERR_UNSUPPORTED what fq_f16_conv_plan_applies refuses. */
fq_status fq_f16_conv_plan_create(const fq_conv2d_f32_params *p, const uint16_t *w,
                                  const float *bias, fq_isa cap, fq_f16_conv_plan **out,
                                  fq_error *err);
void fq_f16_conv_plan_free(fq_f16_conv_plan *plan);

/* y = conv(x), both f32 NCHW; workspace has plan->workspace bytes, FQ_ALIGNMENT aligned. */
void fq_f16_conv_run(const fq_f16_conv_plan *plan, const float *x, float *y, void *workspace);

#endif
