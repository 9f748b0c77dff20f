/* Reference static int8 depthwise convolution, NHWC, any kernel size, stride and dilation.
 *
 * shape->out_channels must equal shape->in_channels (one filter per channel, multiplier 1).
 * Weights are kernel_h x kernel_w x channels int8 (HWC). Numerics are those of
 * kernels/qs8_gemm.h; padded positions add nothing. */
#ifndef FQ_KERNELS_REF_QS8_DWCONV_REF_H
#define FQ_KERNELS_REF_QS8_DWCONV_REF_H

#include "ref/qs8_conv2d_ref.h"

void fq_qs8_dwconv_ref(const fq_qs8_conv_shape *shape, const uint8_t *input, const int8_t *w,
                       const int32_t *bias, const float *multiplier, uint8_t *output,
                       const fq_qs8_requant_params *params);

#endif
