/* The body of the AVX512-VNNI qs8 GEMM microkernels: MR rows x NV vectors of 16 channels, k in
 * groups of 4 (vpdpbusd: u8 activations x s8 weights, four products summed into each int32
 * lane, without saturation). Included by the files that instantiate one tile each. */
#ifndef FQ_KERNELS_X86_AVX512VNNI_QS8_GEMM_C4_AVX512VNNI_H
#define FQ_KERNELS_X86_AVX512VNNI_QS8_GEMM_C4_AVX512VNNI_H

#include <immintrin.h>
#include <string.h>

#include "qs8_c4_groups.h"
#include "qs8_gemm.h"

#define QS8_C4_MAX_ROWS 16
#define QS8_C4_MAX_VECTORS 4

/* acc += x (u8) . w (s8) by groups of 4. Written as an asm statement because GCC 12 copies
 * every accumulator through a spare register around the vpdpbusd intrinsic. */
static inline __m512i qs8_c4_dot(__m512i acc, __m512i x, __m512i w)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
    return acc;
}

static inline __m128i qs8_c4_requantize(__m512i acc, __m512 multiplier, __m512 lo, __m512 hi,
                                        __m512i zero_point)
{
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), multiplier);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    __m512i y = _mm512_add_epi32(_mm512_cvtps_epi32(v), zero_point);
    return _mm512_cvtusepi32_epi8(y);
}

static inline void qs8_c4_store(uint8_t *dst, __m128i y, size_t cols)
{
    if (cols >= 16)
        _mm_storeu_si128((__m128i *)(void *)dst, y);
    else
        _mm_mask_storeu_epi8(dst, (__mmask16)((1u << cols) - 1), y);
}

static inline __attribute__((always_inline)) void
qs8_gemm_c4_avx512vnni(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride,
                       const void *packed_w, uint8_t *c, size_t c_stride,
                       const fq_qs8_requant_params *params, const int MR, const int NV)
{
    const uint8_t *arow[QS8_C4_MAX_ROWS];
    uint8_t *crow[QS8_C4_MAX_ROWS];
    fq_qs8_tile_rows(mr, (size_t)MR, a, a_stride, c, c_stride, arow, crow);

    const size_t nr = 16 * (size_t)NV, kmain = kc & ~(size_t)3;
    const __m512 lo = _mm512_set1_ps(params->min_less_zero_point);
    const __m512 hi = _mm512_set1_ps(params->max_less_zero_point);
    const __m512i zero_point = _mm512_set1_epi32(params->output_zero_point);
    const uint8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += nr) {
        __m512i acc[QS8_C4_MAX_ROWS][QS8_C4_MAX_VECTORS];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            __m512i bias = _mm512_loadu_si512(w + 64 * v);
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++)
                acc[i][v] = bias;
        }
        w += 64 * NV;

        for (size_t k = 0; k < kmain; k += 4) {
            __m512i wv[QS8_C4_MAX_VECTORS];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                wv[v] = _mm512_loadu_si512(w + 64 * v);
            w += 64 * NV;
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                __m512i x = _mm512_set1_epi32((int)fq_qs8_c4_group(arow[i] + k));
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                    acc[i][v] = qs8_c4_dot(acc[i][v], x, wv[v]);
            }
        }
        if (kmain < kc) {
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                __m512i x = _mm512_set1_epi32((int)fq_qs8_c4_tail(arow[i] + kmain,
                                                                     kc - kmain));
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                    acc[i][v] = qs8_c4_dot(acc[i][v], x, _mm512_loadu_si512(w + 64 * v));
            }
            w += 64 * NV;
        }

        size_t cols = nc - j0 < nr ? nc - j0 : nr;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            if ((size_t)v * 16 >= cols)
                break;
            __m512 multiplier = _mm512_loadu_ps((const float *)(const void *)(w + 64 * v));
#pragma GCC unroll 16
            for (int i = MR - 1; i >= 0; i--)
                qs8_c4_store(crow[i] + j0 + 16 * (size_t)v,
                             qs8_c4_requantize(acc[i][v], multiplier, lo, hi, zero_point),
                             cols - 16 * (size_t)v);
        }
        w += 64 * NV;
    }
}

#endif
