/* Reference fp32 2-D pooling on planes (N * C planes of in_h x in_w, row-major).
 *
 * Output (oh, ow) covers input rows oh * stride_h - pad_top + kh * dilation_h for kh <
 * kernel_h, and the same for columns. Max pooling ignores taps outside the input (a window with
 * none gives -FLT_MAX). Average pooling divides the sum of the taps inside the input by their
 * count, or, with count_include_pad, by the count of taps inside the padded input
 * [-pad_top, in_h + pad_bottom) x [-pad_left, in_w + pad_right). A 1-D pool is in_h = out_h = 1. */
#ifndef FQ_KERNELS_REF_F32_POOL2D_REF_H
#define FQ_KERNELS_REF_F32_POOL2D_REF_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fq_pool2d_f32_params {
    int64_t planes;
    int64_t in_h, in_w;
    int64_t out_h, out_w;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t dilation_h, dilation_w;
    int64_t pad_top, pad_left, pad_bottom, pad_right;
    bool count_include_pad;
} fq_pool2d_f32_params;

void fq_ref_maxpool2d_f32(const fq_pool2d_f32_params *p, const float *x, float *y);
void fq_ref_avgpool2d_f32(const fq_pool2d_f32_params *p, const float *x, float *y);

/* y[i] = mean (or max) of x[i * size .. (i + 1) * size), for i < planes; size >= 1. */
void fq_ref_global_avgpool_f32(int64_t planes, int64_t size, const float *x, float *y);
void fq_ref_global_maxpool_f32(int64_t planes, int64_t size, const float *x, float *y);

#endif
