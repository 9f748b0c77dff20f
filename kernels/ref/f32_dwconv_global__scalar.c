/* fp32 depthwise convolution whose window is the whole plane (output 1x1), portable C: the
 * reference twin of the global kernels (see f32_dwconv.h). Four partial sums (element i into
 * sum i % 4), so consecutive multiply-adds do not wait on each other, then their total. */
#include "f32_dwconv.h"

void fq_f32_dwconv_ukernel_global__scalar(const fq_f32_dwconv_geometry *g, const float *x,
                                          const float *w, float bias, float *y,
                                          const fq_f32_gemm_params *params)
{
    int64_t n = g->in_h * g->in_w;
    float sums[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t i = 0; i < n; i++)
        sums[i % 4] += w[i] * x[i];

    float total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    y[0] = fq_f32_dwconv_activate(bias + total, params);
}
