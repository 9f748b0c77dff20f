/* fp16 GEMM, 8 rows x 64 columns, AVX512-FP16 (vfmadd231ph on zmm): see f16_gemm.h.
 * fp16 activations and weights, fp16 accumulation: each k step broadcasts one fp16 value per row
 * and adds it times 64 packed weights into two zmm accumulators, 16 accumulators in all.
 * Compiled, never run here: the development CPU has no AVX512-FP16 (the tests skip). */
#include <immintrin.h>

#include "f16_gemm.h"

enum { MR = 8, NR = 64 };

static __m512h load_f16x32(const uint16_t *p)
{
    return _mm512_castsi512_ph(_mm512_loadu_si512((const void *)p));
}

static __m512h broadcast_f16(uint16_t bits)
{
    return _mm512_castsi512_ph(_mm512_set1_epi16((short)bits));
}

static __mmask32 column_mask(size_t count)
{
    return count >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << count) - 1u);
}

static void store_f16x32(uint16_t *dst, __mmask32 mask, __m512h v)
{
    _mm512_mask_storeu_epi16((void *)dst, mask, _mm512_castph_si512(v));
}

static void panel(size_t mr, size_t cols, size_t kc, const uint16_t *const *rows,
                  const uint16_t *w, uint16_t *c, size_t c_stride, const fq_f16_minmax *params)
{
    __m512h acc[MR][2];
    __m512h bias0 = load_f16x32(w);
    __m512h bias1 = load_f16x32(w + 32);
    for (int r = 0; r < MR; r++) {
        acc[r][0] = bias0;
        acc[r][1] = bias1;
    }
    w += NR;

    for (size_t k = 0; k < kc; k++, w += NR) {
        __m512h b0 = load_f16x32(w);
        __m512h b1 = load_f16x32(w + 32);
        for (int r = 0; r < MR; r++) {
            __m512h va = broadcast_f16(rows[r][k]);
            acc[r][0] = _mm512_fmadd_ph(va, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ph(va, b1, acc[r][1]);
        }
    }

    __m512h lo = broadcast_f16(params->min);
    __m512h hi = broadcast_f16(params->max);
    __mmask32 mask0 = column_mask(cols);
    __mmask32 mask1 = column_mask(cols > 32 ? cols - 32 : 0);
    for (int r = 0; r < MR; r++) {
        if ((size_t)r >= mr)
            break;
        uint16_t *dst = c + (size_t)r * c_stride;
        store_f16x32(dst, mask0, _mm512_min_ph(_mm512_max_ph(acc[r][0], lo), hi));
        store_f16x32(dst + 32, mask1, _mm512_min_ph(_mm512_max_ph(acc[r][1], lo), hi));
    }
}

void fq_f16_gemm_ukernel_8x64__avx512fp16(size_t mr, size_t nc, size_t kc, const uint16_t *a,
                                          size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                                          size_t c_stride, const fq_f16_minmax *params)
{
    /* Rows past mr repeat the last real row, so every row reads valid memory. */
    const uint16_t *rows[MR];
    for (size_t r = 0; r < MR; r++)
        rows[r] = r < mr ? a + r * a_stride : rows[r - 1];

    for (size_t j = 0; j < nc; j += NR) {
        size_t cols = nc - j < NR ? nc - j : NR;
        panel(mr, cols, kc, rows, packed_w, c + j, c_stride, params);
        packed_w += NR * (kc + 1);
    }
}
