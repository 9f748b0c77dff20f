/* The sse41 fp32 multiply-add peak: 12 independent accumulators, so nothing waits on a
 * previous result. Returns the floating-point operations done (2 per lane per step). */
#include <smmintrin.h>

#include "bench_peak.h"

double fq_bench_fma_peak__sse41(long steps)
{
    __m128 acc[12];
    __m128 m = _mm_set1_ps(0.999999f), a = _mm_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++)
        acc[i] = _mm_set1_ps((float)i);
    for (long s = 0; s < steps; s++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], m), a);
    }
    float out[4];
    __m128 sum = acc[0];
    for (int i = 1; i < 12; i++)
        sum = _mm_add_ps(sum, acc[i]);
    _mm_storeu_ps(out, sum);
    fq_bench_sink = out[0];
    return 2.0 * 12 * 4 * (double)steps;
}
