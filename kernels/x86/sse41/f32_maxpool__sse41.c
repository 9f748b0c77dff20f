/* fp32 max pooling, undilated, stride 1 or 2, for SSE4.1: 4 lanes through f32_maxpool_body.h.
 * _mm_max_ps(v, best) is v > best ? v : best, the reference's comparison. */
#include <smmintrin.h>

typedef __m128 fq_vec;
#define FQ_LANES 4
#define vec_load(p) _mm_loadu_ps(p)
#define vec_store(p, v) _mm_storeu_ps(p, v)
#define vec_set1(x) _mm_set1_ps(x)
#define vec_max(v, best) _mm_max_ps(v, best)
#define vec_evens(a, b) _mm_shuffle_ps(a, b, 0x88)
#define vec_odds(a, b) _mm_shuffle_ps(a, b, 0xdd)
#define FQ_MAXPOOL_UKERNEL fq_f32_maxpool_ukernel__sse41

#include "f32_maxpool_body.h"
