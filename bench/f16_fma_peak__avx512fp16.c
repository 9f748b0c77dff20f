/* AVX512-FP16 FMA peak loop (vfmadd231ph): see f16_fma_peak.h. Compiled everywhere on x86-64,
 * run only where the CPU has AVX512-FP16. */
#include <immintrin.h>

#include "f16_fma_peak.h"

enum { CHAINS = 16 };

float fq_bench_fma_peak_loop__avx512fp16(int64_t iterations)
{
    __m512h acc[CHAINS];
    __m512h a = _mm512_castsi512_ph(_mm512_set1_epi16((short)0x3bff)); /* 0.99951 */
    __m512h b = _mm512_castsi512_ph(_mm512_set1_epi16((short)0x0001)); /* 2^-24 */
    for (int i = 0; i < CHAINS; i++)
        acc[i] = _mm512_castsi512_ph(_mm512_set1_epi16((short)(0x3c00 + i)));

    for (int64_t it = 0; it < iterations; it++)
        for (int i = 0; i < CHAINS; i++)
            acc[i] = _mm512_fmadd_ph(acc[i], a, b);

    __m512 sum = _mm512_setzero_ps();
    for (int i = 0; i < CHAINS; i++)
        sum = _mm512_add_ps(sum, _mm512_cvtph_ps(_mm512_castsi512_si256(
                                     _mm512_castph_si512(acc[i]))));
    return _mm512_reduce_add_ps(sum);
}
