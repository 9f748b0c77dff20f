/* u8 pooling: QLinearAveragePool, QLinearGlobalAveragePool and MaxPool on u8 codes, on NCHW
 * or NHWC tensors.
 *
 * The window geometry is that of fq_pool2d_f32_params (ref/f32_pool2d_ref.h): planes = N * C,
 * taps outside the input are skipped. With channels_last the tensor is N, H, W, C: plane
 * n * C + c is channel c of image n, its pixels C elements apart.
 *
 * Average pooling sums (x - x_zero) over the window's taps in int32 (taps in the padding are
 * real zeros and add nothing), divides by the count of fq_pool2d_f32_params and requantizes
 * once:
 *   y = fq_qu8_requantize((float)((double)sum * multiplier / count), y_zero, 0)
 * with multiplier = x_scale / y_scale (float); the global pool does the same over all pixels of
 * a plane, summing in int64. Max pooling takes the largest code of the window's taps (0 when
 * it has none); codes keep their scale, so no arithmetic is needed. */
#ifndef FQ_KERNELS_REF_QU8_POOL2D_REF_H
#define FQ_KERNELS_REF_QU8_POOL2D_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "ref/f32_pool2d_ref.h"

typedef struct fq_qu8_pool_params {
    fq_pool2d_f32_params window;
    int64_t channels;
    bool channels_last;
    float multiplier;
    int32_t x_zero, y_zero;
} fq_qu8_pool_params;

void fq_qu8_avgpool2d_ref(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y);
void fq_qu8_maxpool2d_ref(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y);

/* Global average pool over `size` pixels per plane (window fields unused; planes and channels
 * give N * C and C). */
void fq_qu8_global_avgpool_ref(const fq_qu8_pool_params *p, int64_t size, const uint8_t *x,
                               uint8_t *y);

#endif
