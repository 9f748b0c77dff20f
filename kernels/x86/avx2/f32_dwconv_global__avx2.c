/* fp32 depthwise convolution whose window is the whole plane (output 1x1), AVX2 with FMA: two
 * vectors of 8 products per step in independent chains of multiply-adds, the tail through a
 * masked load, then one sum across the lanes. See f32_dwconv.h. */
#include <immintrin.h>

#include "f32_dwconv.h"

/* Lanes [0, count) of an 8-lane load mask, count in [1, 8]. */
static __m256i lanes(int64_t count)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static float sum_lanes(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void fq_f32_dwconv_ukernel_global__avx2(const fq_f32_dwconv_geometry *g, const float *x,
                                        const float *w, float bias, float *y,
                                        const fq_f32_gemm_params *params)
{
    int64_t n = g->in_h * g->in_w;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    }
    for (; i < n; i += 8) {
        __m256i m = lanes(n - i < 8 ? n - i : 8);
        acc0 = _mm256_fmadd_ps(_mm256_maskload_ps(w + i, m), _mm256_maskload_ps(x + i, m), acc0);
    }

    y[0] = fq_f32_dwconv_activate(bias + sum_lanes(_mm256_add_ps(acc0, acc1)), params);
}
