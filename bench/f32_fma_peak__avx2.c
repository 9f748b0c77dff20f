/* The avx2 fp32 multiply-add peak: 12 independent accumulators, so nothing waits on a
 * previous result. Returns the floating-point operations done (2 per lane per step). */
#include <immintrin.h>

#include "bench_peak.h"

double fq_bench_fma_peak__avx2(long steps)
{
    __m256 acc[12];
    __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++)
        acc[i] = _mm256_set1_ps((float)i);
    for (long s = 0; s < steps; s++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            acc[i] = _mm256_fmadd_ps(acc[i], m, a);
    }
    float out[8];
    __m256 sum = acc[0];
    for (int i = 1; i < 12; i++)
        sum = _mm256_add_ps(sum, acc[i]);
    _mm256_storeu_ps(out, sum);
    fq_bench_sink = out[0];
    return 2.0 * 12 * 8 * (double)steps;
}
