/* The channel-blocked loops of bench/nchwc_layout__avx512.c (see there). */
#ifndef FQ_BENCH_NCHWC_LAYOUT_H
#define FQ_BENCH_NCHWC_LAYOUT_H

#include <stdint.h>

/* A 1x1 convolution of `pixels` pixels; channel counts are multiples of 64 out, 16 in. */
typedef struct fq_nchwc_pointwise {
    int64_t in_channels, out_channels, pixels;
} fq_nchwc_pointwise;

/* A depthwise 3x3 stride-1 pad-1 convolution of h x w planes; channels a multiple of 16. */
typedef struct fq_nchwc_depthwise {
    int64_t channels, h, w;
} fq_nchwc_depthwise;

/* y = relu(w * x + bias), NCHW16c; w is [out / 16][in][16], bias [out]. */
void fq_nchwc_pointwise_relu__avx512(const fq_nchwc_pointwise *l, const float *x,
                                     const float *w, const float *bias, float *y);
/* y = relu(dw(x) + bias), NCHW16c; w is [channels / 16][9][16], bias [channels]. */
void fq_nchwc_depthwise_relu__avx512(const fq_nchwc_depthwise *l, const float *x,
                                     const float *w, const float *bias, float *y);

#endif
