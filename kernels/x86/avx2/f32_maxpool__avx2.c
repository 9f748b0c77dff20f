/* fp32 max pooling, undilated, stride 1 or 2, for AVX2: 8 lanes through f32_maxpool_body.h.
 * _mm256_max_ps(v, best) is v > best ? v : best, the reference's comparison. The even lanes of
 * 16 floats: a shuffle within each 128-bit half, then the halves' middle quarters swapped. */
#include <immintrin.h>

typedef __m256 fq_vec;
#define FQ_LANES 8
#define vec_load(p) _mm256_loadu_ps(p)
#define vec_store(p, v) _mm256_storeu_ps(p, v)
#define vec_set1(x) _mm256_set1_ps(x)
#define vec_max(v, best) _mm256_max_ps(v, best)
#define vec_evens(a, b)                                                                     \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), \
                                           0xd8))
#define vec_odds(a, b)                                                                      \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xdd)), \
                                           0xd8))
#define FQ_MAXPOOL_UKERNEL fq_f32_maxpool_ukernel__avx2

#include "f32_maxpool_body.h"
