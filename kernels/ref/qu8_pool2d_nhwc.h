/* u8 average and max pooling on NHWC tensors, pixel by pixel with the channels innermost: each
 * window tap is one contiguous run of channels, summed (or maxed) into a row of per-channel
 * accumulators, which the compiler vectorizes. The geometry and numerics are those of
 * ref/qu8_pool2d_ref.h, and the bytes equal fq_qu8_avgpool2d_ref and fq_qu8_maxpool2d_ref's:
 * the sum of (x - x_zero) over the taps equals the sum of x minus taps * x_zero in int32, and
 * the average is the same (float)((double)sum * multiplier / count). p->channels_last must be
 * true. */
#ifndef FQ_KERNELS_REF_QU8_POOL2D_NHWC_H
#define FQ_KERNELS_REF_QU8_POOL2D_NHWC_H

#include "ref/qu8_pool2d_ref.h"

void fq_qu8_avgpool2d_nhwc__scalar(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y);
void fq_qu8_maxpool2d_nhwc__scalar(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y);

#endif
