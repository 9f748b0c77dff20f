/* fp32 GEMM microkernel with fp16 weights, offset-table form, 12 rows x 32 columns, AVX-512F:
 * the fp16-weight twin of f32_gemm_offsets_12x32__avx512 (contract and layouts in f32_gemm.h).
 * Weights are the broadcast operand of this tile, so they are widened a depth chunk at a time
 * (vcvtph2ps, 16 per instruction) into an fp32 block on the stack, which stays in L1, and the
 * fp32 tile runs on it: the sums are the fp32 kernel's, bit for bit. */
#include <immintrin.h>
#include <string.h>

#include "f32_gemm.h"

enum { MR = 12, CHUNK = 128 };

/* dst[0, n) = widened src[0, n). */
static void widen(const uint16_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const void *)(src + i))));
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1);
        __m256i h = _mm256_maskz_loadu_epi16(mask, src + i);
        _mm512_mask_storeu_ps(dst + i, mask, _mm512_cvtph_ps(h));
    }
}

void fq_f32_gemm_f16w_offsets_ukernel_12x32__avx512(size_t mr, size_t nc, size_t kc,
                                                    const float *x, const ptrdiff_t *offsets,
                                                    const uint16_t *w, float *c, size_t c_stride,
                                                    unsigned flags,
                                                    const fq_f32_gemm_params *params)
{
    _Alignas(64) float block[(CHUNK + 1) * MR];
    memcpy(block, w, MR * sizeof(float));
    w += 2 * MR;
    for (size_t k0 = 0; k0 < kc || k0 == 0; k0 += CHUNK) {
        size_t kb = kc - k0 < CHUNK ? kc - k0 : CHUNK;
        unsigned chunk_flags = (k0 == 0 ? flags & FQ_F32_GEMM_FIRST : 0u) |
                               (k0 + kb == kc ? flags & FQ_F32_GEMM_LAST : 0u);
        widen(w + k0 * MR, kb * MR, block + MR);
        fq_f32_gemm_offsets_ukernel_12x32__avx512(mr, nc, kb, x, offsets + k0, block, c,
                                                  c_stride, chunk_flags, params);
    }
}
