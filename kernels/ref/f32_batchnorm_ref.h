/* Reference fp32 batch normalization in inference form, NC... layout:
 *   y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + bias[c]
 * computed as x * a[c] + b[c] with a = scale / sqrt(var + epsilon), b = bias - mean * a. */
#ifndef FQ_KERNELS_REF_F32_BATCHNORM_REF_H
#define FQ_KERNELS_REF_F32_BATCHNORM_REF_H

#include <stdint.h>

typedef struct fq_batchnorm_f32_params {
    int64_t batch;
    int64_t channels;
    int64_t spatial; /* elements per channel per batch entry */
    float epsilon;
} fq_batchnorm_f32_params;

void fq_ref_batchnorm_f32(const fq_batchnorm_f32_params *p, const float *x, const float *scale,
                          const float *bias, const float *mean, const float *var, float *y);

#endif
