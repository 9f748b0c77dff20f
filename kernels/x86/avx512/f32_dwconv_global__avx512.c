/* fp32 depthwise convolution whose window is the whole plane (output 1x1), AVX-512F: two
 * vectors of 16 products per step in independent chains of multiply-adds, the tail under a
 * mask, then one sum across the lanes. See f32_dwconv.h. */
#include <immintrin.h>

#include "f32_dwconv.h"

void fq_f32_dwconv_ukernel_global__avx512(const fq_f32_dwconv_geometry *g, const float *x,
                                          const float *w, float bias, float *y,
                                          const fq_f32_gemm_params *params)
{
    int64_t n = g->in_h * g->in_w;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(x + i + 16), acc1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + i), _mm512_maskz_loadu_ps(m, x + i),
                               acc0);
    }

    float total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    y[0] = fq_f32_dwconv_activate(bias + total, params);
}
