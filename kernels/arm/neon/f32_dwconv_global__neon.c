/* fp32 depthwise convolution whose window is the whole plane (output 1x1), aarch64 NEON: two
 * vectors of 4 products per step in independent chains of multiply-adds, the last 0 to 7
 * products one by one, then one sum across the lanes. See f32_dwconv.h. */
#include <arm_neon.h>

#include "f32_dwconv.h"

void fq_f32_dwconv_ukernel_global__neon(const fq_f32_dwconv_geometry *g, const float *x,
                                        const float *w, float bias, float *y,
                                        const fq_f32_gemm_params *params)
{
    int64_t n = g->in_h * g->in_w;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(w + i), vld1q_f32(x + i));
        acc1 = vfmaq_f32(acc1, vld1q_f32(w + i + 4), vld1q_f32(x + i + 4));
    }

    float total = vaddvq_f32(vaddq_f32(acc0, acc1));
    for (; i < n; i++)
        total += w[i] * x[i];
    y[0] = fq_f32_dwconv_activate(bias + total, params);
}
