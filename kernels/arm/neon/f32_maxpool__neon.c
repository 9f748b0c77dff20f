/* fp32 max pooling, undilated, stride 1 or 2, for NEON (AArch64 and ARMv7): 4 lanes through
 * f32_maxpool_body.h. vmaxq_f32 returns NaN when either lane is NaN, where the reference skips
 * a NaN tap, so the maximum is v > best ? v : best written as a compare and a select. */
#include <arm_neon.h>

typedef float32x4_t fq_vec;
#define FQ_LANES 4
#define vec_load(p) vld1q_f32(p)
#define vec_store(p, v) vst1q_f32(p, v)
#define vec_set1(x) vdupq_n_f32(x)
#define vec_max(v, best) vbslq_f32(vcgtq_f32(v, best), v, best)
#define vec_evens(a, b) vuzpq_f32(a, b).val[0]
#define vec_odds(a, b) vuzpq_f32(a, b).val[1]
#define FQ_MAXPOOL_UKERNEL fq_f32_maxpool_ukernel__neon

#include "f32_maxpool_body.h"
