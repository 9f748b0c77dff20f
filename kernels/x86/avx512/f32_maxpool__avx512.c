/* fp32 max pooling, undilated, stride 1 or 2, for AVX-512: 16 lanes through
 * f32_maxpool_body.h. _mm512_max_ps(v, best) is v > best ? v : best, the reference's
 * comparison, so NaN taps are skipped the same way; the even (odd) lanes of 32 floats are one
 * two-source permute. */
#include <immintrin.h>

typedef __m512 fq_vec;
#define FQ_LANES 16
#define vec_load(p) _mm512_loadu_ps(p)
#define vec_store(p, v) _mm512_storeu_ps(p, v)
#define vec_set1(x) _mm512_set1_ps(x)
#define vec_max(v, best) _mm512_max_ps(v, best)
#define vec_evens(a, b)                                                                     \
    _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, \
                                                24, 26, 28, 30), b)
#define vec_odds(a, b)                                                                      \
    _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, \
                                                25, 27, 29, 31), b)
#define FQ_MAXPOOL_UKERNEL fq_f32_maxpool_ukernel__avx512

#include "f32_maxpool_body.h"
