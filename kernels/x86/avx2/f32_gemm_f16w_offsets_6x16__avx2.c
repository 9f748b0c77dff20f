/* fp32 GEMM microkernel with fp16 weights, offset-table form, 6 rows x 16 columns, AVX2 + FMA +
 * F16C: the fp16-weight twin of f32_gemm_offsets_6x16__avx2 (contract and layouts in
 * f32_gemm.h). Weights are the broadcast operand of this tile, so they are widened a depth
 * chunk at a time (vcvtph2ps, 8 per instruction) into an fp32 block on the stack, which stays
 * in L1, and the fp32 tile runs on it: the sums are the fp32 kernel's, bit for bit. */
#include <immintrin.h>
#include <string.h>

#include "f32_gemm.h"

enum { MR = 6, CHUNK = 128 };

/* dst[0, n) = widened src[0, n). */
static void widen(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const void *)(src + i))));
    for (; i < n; i++)
        dst[i] = _cvtsh_ss(src[i]);
}

void fq_f32_gemm_f16w_offsets_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc,
                                                 const float *x, const ptrdiff_t *offsets,
                                                 const uint16_t *w, float *c, size_t c_stride,
                                                 unsigned flags, const fq_f32_gemm_params *params)
{
    _Alignas(32) float block[(CHUNK + 1) * MR];
    memcpy(block, w, MR * sizeof(float));
    w += 2 * MR;
    for (size_t k0 = 0; k0 < kc || k0 == 0; k0 += CHUNK) {
        size_t kb = kc - k0 < CHUNK ? kc - k0 : CHUNK;
        unsigned chunk_flags = (k0 == 0 ? flags & FQ_F32_GEMM_FIRST : 0u) |
                               (k0 + kb == kc ? flags & FQ_F32_GEMM_LAST : 0u);
        widen(w + k0 * MR, kb * MR, block + MR);
        fq_f32_gemm_offsets_ukernel_6x16__avx2(mr, nc, kb, x, offsets + k0, block, c,
                                               c_stride, chunk_flags, params);
    }
}
