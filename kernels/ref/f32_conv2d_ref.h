/* Reference fp32 2-D convolution, NCHW input, OIHW weights (I = in_channels / groups).
 *
 * y[b][o][oh][ow] = act(bias[o] + sum over (c, kh, kw) of
 *     w[o][c][kh][kw] * x[b][g * in_per_group + c][oh * stride_h - pad_top + kh * dilation_h]
 *                                                 [ow * stride_w - pad_left + kw * dilation_w])
 * with g = o / (out_channels / groups) and input taps outside the image reading zero. The pads
 * at the bottom and right follow from out_h and out_w. A 1-D convolution is in_h = out_h = 1.
 *
 * Three paths, all summing in the order (c, kh, kw) in float: depthwise convolutions (one input
 * and one output channel per group) directly; 1x1, stride 1, unpadded convolutions as one GEMM
 * per group on the input itself; all others as im2col of a block of output pixels into the
 * workspace followed by a GEMM. */
#ifndef FQ_KERNELS_REF_F32_CONV2D_REF_H
#define FQ_KERNELS_REF_F32_CONV2D_REF_H

#include <stddef.h>
#include <stdint.h>

#include "ref/f32_bias_activation_ref.h"

typedef struct fq_conv2d_f32_params {
    int64_t batch;
    int64_t in_channels, in_h, in_w;
    int64_t out_channels, out_h, out_w;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t dilation_h, dilation_w;
    int64_t pad_top, pad_left;
    int64_t groups;             /* divides in_channels and out_channels */
    fq_epilogue_f32 act;        /* applied after the bias */
} fq_conv2d_f32_params;

/* Workspace bytes fq_ref_conv2d_f32 needs (0 for the direct paths). */
size_t fq_ref_conv2d_f32_workspace_size(const fq_conv2d_f32_params *p);

/* bias may be NULL (zero). workspace has fq_ref_conv2d_f32_workspace_size bytes. */
void fq_ref_conv2d_f32(const fq_conv2d_f32_params *p, const float *x, const float *w,
                       const float *bias, float *y, float *workspace);

#endif
