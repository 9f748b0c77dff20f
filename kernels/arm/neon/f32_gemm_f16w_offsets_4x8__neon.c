/* fp32 GEMM microkernel with fp16 weights, offset-table form, 4 rows x 8 columns, aarch64 NEON:
 * the fp16-weight twin of f32_gemm_offsets_4x8__neon (contract and layouts in f32_gemm.h),
 * built on aarch64 only. Weights are the broadcast operand of this tile, so they are widened a
 * depth chunk at a time (vcvt_f32_f16, base ARMv8, 4 per instruction) into an fp32 block on the
 * stack, which stays in L1, and the fp32 tile runs on it: the sums are the fp32 kernel's, bit
 * for bit. */
#include <arm_neon.h>
#include <string.h>

#include "f32_gemm.h"

enum { MR = 4, CHUNK = 128 };

/* dst[0, n) = widened src[0, n); n is a multiple of 4 (MR is). */
static void widen(const uint16_t *src, size_t n, float *dst)
{
    for (size_t i = 0; i < n; i += 4)
        vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
}

void fq_f32_gemm_f16w_offsets_ukernel_4x8__neon(size_t mr, size_t nc, size_t kc,
                                                const float *x, const ptrdiff_t *offsets,
                                                const uint16_t *w, float *c, size_t c_stride,
                                                unsigned flags, const fq_f32_gemm_params *params)
{
    float block[(CHUNK + 1) * MR];
    memcpy(block, w, MR * sizeof(float));
    w += 2 * MR;
    for (size_t k0 = 0; k0 < kc || k0 == 0; k0 += CHUNK) {
        size_t kb = kc - k0 < CHUNK ? kc - k0 : CHUNK;
        unsigned chunk_flags = (k0 == 0 ? flags & FQ_F32_GEMM_FIRST : 0u) |
                               (k0 + kb == kc ? flags & FQ_F32_GEMM_LAST : 0u);
        widen(w + k0 * MR, kb * MR, block + MR);
        fq_f32_gemm_offsets_ukernel_4x8__neon(mr, nc, kb, x, offsets + k0, block, c,
                                              c_stride, chunk_flags, params);
    }
}
