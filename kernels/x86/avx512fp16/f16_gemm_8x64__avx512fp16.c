/* fp16 GEMM, 8 rows x 64 columns, AVX512-FP16 (vfmadd231ph on zmm): see f16_gemm.h.
 * fp16 activations and weights, fp16 accumulation: each k step adds one fp16 value per row times
 * 64 packed weights into two zmm accumulators, 16 accumulators in all. The row's value is an
 * embedded broadcast ({1to32}) of the multiply-add's memory operand: a register broadcast of a
 * 16-bit value (vpbroadcastw) costs a shuffle on the port the multiply-adds need, eight a step,
 * which held the tile to two thirds of the FMA peak. */
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

/* acc + (the fp16 value at a, broadcast) * w, one vfmadd231ph with a {1to32} memory operand. */
static inline __m512h fmadd_broadcast(__m512h acc, const uint16_t *a, __m512h w)
{
    __asm__("vfmadd231ph %[a]%{1to32%}, %[w], %[acc]"
            : [acc] "+v"(acc)
            : [w] "v"(w), [a] "m"(*a));
    return acc;
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

    const uint16_t *a0 = rows[0], *a1 = rows[1], *a2 = rows[2], *a3 = rows[3];
    const uint16_t *a4 = rows[4], *a5 = rows[5], *a6 = rows[6], *a7 = rows[7];
    __m512h c00 = acc[0][0], c01 = acc[0][1], c10 = acc[1][0], c11 = acc[1][1];
    __m512h c20 = acc[2][0], c21 = acc[2][1], c30 = acc[3][0], c31 = acc[3][1];
    __m512h c40 = acc[4][0], c41 = acc[4][1], c50 = acc[5][0], c51 = acc[5][1];
    __m512h c60 = acc[6][0], c61 = acc[6][1], c70 = acc[7][0], c71 = acc[7][1];
    for (size_t k = 0; k < kc; k++, w += NR) {
        __m512h b0 = load_f16x32(w);
        __m512h b1 = load_f16x32(w + 32);
        c00 = fmadd_broadcast(c00, a0 + k, b0);
        c01 = fmadd_broadcast(c01, a0 + k, b1);
        c10 = fmadd_broadcast(c10, a1 + k, b0);
        c11 = fmadd_broadcast(c11, a1 + k, b1);
        c20 = fmadd_broadcast(c20, a2 + k, b0);
        c21 = fmadd_broadcast(c21, a2 + k, b1);
        c30 = fmadd_broadcast(c30, a3 + k, b0);
        c31 = fmadd_broadcast(c31, a3 + k, b1);
        c40 = fmadd_broadcast(c40, a4 + k, b0);
        c41 = fmadd_broadcast(c41, a4 + k, b1);
        c50 = fmadd_broadcast(c50, a5 + k, b0);
        c51 = fmadd_broadcast(c51, a5 + k, b1);
        c60 = fmadd_broadcast(c60, a6 + k, b0);
        c61 = fmadd_broadcast(c61, a6 + k, b1);
        c70 = fmadd_broadcast(c70, a7 + k, b0);
        c71 = fmadd_broadcast(c71, a7 + k, b1);
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
    acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
    acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
    acc[6][0] = c60, acc[6][1] = c61, acc[7][0] = c70, acc[7][1] = c71;

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
