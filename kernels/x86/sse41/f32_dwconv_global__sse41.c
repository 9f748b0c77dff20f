/* fp32 depthwise convolution whose window is the whole plane (output 1x1), SSE4.1: two vectors
 * of 4 products per step in independent chains (multiply, then add: no FMA), the last 0 to 7
 * products one by one, then one sum across the lanes. See f32_dwconv.h. */
#include <smmintrin.h>

#include "f32_dwconv.h"

void fq_f32_dwconv_ukernel_global__sse41(const fq_f32_dwconv_geometry *g, const float *x,
                                         const float *w, float bias, float *y,
                                         const fq_f32_gemm_params *params)
{
    int64_t n = g->in_h * g->in_w;
    __m128 acc0 = _mm_setzero_ps(), acc1 = _mm_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm_add_ps(acc0, _mm_mul_ps(_mm_loadu_ps(w + i), _mm_loadu_ps(x + i)));
        acc1 = _mm_add_ps(acc1, _mm_mul_ps(_mm_loadu_ps(w + i + 4), _mm_loadu_ps(x + i + 4)));
    }

    __m128 s = _mm_add_ps(acc0, acc1);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    float total = _mm_cvtss_f32(s);
    for (; i < n; i++)
        total += w[i] * x[i];
    y[0] = fq_f32_dwconv_activate(bias + total, params);
}
