/* Reference static int8 2-D convolution, NHWC, the oracle of the quantized convolutions.
 *
 * Input batch x in_height x in_width x in_channels uint8 (zero point input_zero_point); weights
 * out_channels x kernel_h x kernel_w x in_channels int8 (OHWI), symmetric per output channel;
 * bias int32 per output channel (or NULL); output batch x out_height x out_width x out_channels
 * uint8. Padded positions are real zeros (they add nothing). Numerics are those of
 * kernels/qs8_gemm.h: exact sums, then fq_qs8_requantize with the channel's multiplier.
 * One group only: depthwise layers use fq_qs8_dwconv_ref. */
#ifndef FQ_KERNELS_REF_QS8_CONV2D_REF_H
#define FQ_KERNELS_REF_QS8_CONV2D_REF_H

#include <stddef.h>
#include <stdint.h>

#include "qs8_gemm.h"

typedef struct fq_qs8_conv_shape {
    size_t batch;
    size_t in_height;
    size_t in_width;
    size_t in_channels;
    size_t out_channels;   /* depthwise: equal to in_channels */
    size_t kernel_h;
    size_t kernel_w;
    size_t stride_h;
    size_t stride_w;
    size_t dilation_h;
    size_t dilation_w;
    size_t pad_top;
    size_t pad_left;
    size_t out_height;     /* the caller's; the far padding is what makes it fit */
    size_t out_width;
    int32_t input_zero_point;
} fq_qs8_conv_shape;

void fq_qs8_conv2d_ref(const fq_qs8_conv_shape *shape, const uint8_t *input, const int8_t *w,
                       const int32_t *bias, const float *multiplier, uint8_t *output,
                       const fq_qs8_requant_params *params);

#endif
