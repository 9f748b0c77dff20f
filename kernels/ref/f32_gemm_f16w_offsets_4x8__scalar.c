/* fp32 GEMM microkernel with fp16 weights, offset-table form, 4 rows x 8 columns, portable C:
 * the fp16-weight twin of f32_gemm_offsets_4x8__scalar (contract and layouts in f32_gemm.h).
 * The weights of a depth chunk are widened (fq_f32_from_f16) into an fp32 block on the stack
 * and the fp32 tile runs on it, so the sums are the fp32 kernel's, bit for bit. */
#include <string.h>

#include "f32_gemm.h"
#include "ref/tensor_cast_ref.h"

enum { MR = 4, CHUNK = 128 };

void fq_f32_gemm_f16w_offsets_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc,
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
        for (size_t i = 0; i < kb * MR; i++)
            block[MR + i] = fq_f32_from_f16(w[k0 * MR + i]);
        fq_f32_gemm_offsets_ukernel_4x8__scalar(mr, nc, kb, x, offsets + k0, block, c,
                                                c_stride, chunk_flags, params);
    }
}
