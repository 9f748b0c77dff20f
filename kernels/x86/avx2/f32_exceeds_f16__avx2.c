/* fp16 range check of fp32 data, AVX2: see fq_f32_exceeds_f16_fn in f16_gemm.h.
 * An ordered compare is false for NaN, so NaN never counts as overflow. */
#include <immintrin.h>
#include <math.h>

#include "f16_gemm.h"

bool fq_f32_exceeds_f16__avx2(const float *x, size_t n)
{
    __m256 limit = _mm256_set1_ps(FQ_F16_MAX);
    __m256 magnitude_bits = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        __m256 over = _mm256_setzero_ps();
        for (size_t j = 0; j < 32; j += 8) {
            __m256 v = _mm256_and_ps(_mm256_loadu_ps(x + i + j), magnitude_bits);
            over = _mm256_or_ps(over, _mm256_cmp_ps(v, limit, _CMP_GT_OQ));
        }
        if (_mm256_movemask_ps(over) != 0)
            return true;
    }

    for (; i < n; i++)
        if (fabsf(x[i]) > FQ_F16_MAX)
            return true;
    return false;
}
