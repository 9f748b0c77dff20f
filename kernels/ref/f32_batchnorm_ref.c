/* Reference fp32 inference batch normalization. */
#include <math.h>

#include "ref/f32_batchnorm_ref.h"

void fq_ref_batchnorm_f32(const fq_batchnorm_f32_params *p, const float *x, const float *scale,
                          const float *bias, const float *mean, const float *var, float *y)
{
    for (int64_t c = 0; c < p->channels; c++) {
        float a = scale[c] / sqrtf(var[c] + p->epsilon);
        float b = bias[c] - mean[c] * a;
        for (int64_t n = 0; n < p->batch; n++) {
            int64_t base = (n * p->channels + c) * p->spatial;
            for (int64_t i = 0; i < p->spatial; i++)
                y[base + i] = x[base + i] * a + b;
        }
    }
}
