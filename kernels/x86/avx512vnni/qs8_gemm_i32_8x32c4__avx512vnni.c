/* int8 GEMM with int32 output, 8 rows x 32 channels, k in groups of 4, AVX512-VNNI (512-bit
 * vpdpbusd: u8 x s8, four products summed into each int32 lane, no saturation). */
#include <immintrin.h>
#include <string.h>

#include "qs8_c4_groups.h"
#include "qs8_gemm_i32.h"

#define MR 8
#define NR 32

/* acc += x . w by groups of 4, as an asm statement: GCC 12 moves each accumulator through a
 * spare register around the intrinsic. */
static inline __m512i dot4(__m512i acc, __m512i x, __m512i w)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
    return acc;
}

static void store_row(int32_t *dst, __m512i lo, __m512i hi, size_t cols)
{
    if (cols >= NR) {
        _mm512_storeu_si512(dst, lo);
        _mm512_storeu_si512(dst + 16, hi);
        return;
    }
    __mmask16 lo_mask = (__mmask16)(cols >= 16 ? 0xffffu : (1u << cols) - 1);
    __mmask16 hi_mask = (__mmask16)(cols > 16 ? (1u << (cols - 16)) - 1 : 0);
    _mm512_mask_storeu_epi32(dst, lo_mask, lo);
    _mm512_mask_storeu_epi32(dst + 16, hi_mask, hi);
}

void fq_qs8_gemm_i32_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc,
                                                const uint8_t *a, size_t a_stride,
                                                const void *packed_w, int32_t *c,
                                                size_t c_stride)
{
    const uint8_t *arow[MR];
    for (size_t i = 0; i < MR; i++)
        arow[i] = a + (i < mr ? i : mr - 1) * a_stride;

    const size_t kmain = kc & ~(size_t)3;
    const uint8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        __m512i acc[MR][2];
        __m512i bias_lo = _mm512_loadu_si512(w);
        __m512i bias_hi = _mm512_loadu_si512(w + 64);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            acc[i][0] = bias_lo;
            acc[i][1] = bias_hi;
        }
        w += NR * sizeof(int32_t);

        for (size_t k = 0; k < kmain; k += 4) {
            __m512i w_lo = _mm512_loadu_si512(w);
            __m512i w_hi = _mm512_loadu_si512(w + 64);
            w += 4 * NR;
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++) {
                __m512i x = _mm512_set1_epi32((int)fq_qs8_c4_group(arow[i] + k));
                acc[i][0] = dot4(acc[i][0], x, w_lo);
                acc[i][1] = dot4(acc[i][1], x, w_hi);
            }
        }
        if (kmain < kc) {
            __m512i w_lo = _mm512_loadu_si512(w);
            __m512i w_hi = _mm512_loadu_si512(w + 64);
            w += 4 * NR;
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++) {
                __m512i x = _mm512_set1_epi32((int)fq_qs8_c4_tail(arow[i] + kmain, kc - kmain));
                acc[i][0] = dot4(acc[i][0], x, w_lo);
                acc[i][1] = dot4(acc[i][1], x, w_hi);
            }
        }

        w += NR * sizeof(float);
        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (size_t i = 0; i < mr; i++)
            store_row((int32_t *)(void *)((uint8_t *)c + i * c_stride) + j0, acc[i][0],
                      acc[i][1], cols);
    }
}
