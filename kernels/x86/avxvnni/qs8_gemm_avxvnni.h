/* Helpers of the AVX-VNNI qs8 GEMM tiles (8x8c4, 6x16c4): the requantization of 8 int32 sums
 * (qs8_gemm.h) and the store of 8 output bytes; row groups come from qs8_c4_groups.h. Compiled
 * with the avxvnni flags. */
#ifndef FQ_KERNELS_X86_AVXVNNI_QS8_GEMM_AVXVNNI_H
#define FQ_KERNELS_X86_AVXVNNI_QS8_GEMM_AVXVNNI_H

#include <immintrin.h>
#include <string.h>

#include "qs8_c4_groups.h"
#include "qs8_gemm.h"

/* 8 int32 sums to 8 output bytes (in the low 8 bytes). */
static inline __m128i qs8_vnni_requantize8(__m256i acc, __m256 multiplier,
                                           const fq_qs8_requant_params *params)
{
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), multiplier);
    v = _mm256_max_ps(v, _mm256_set1_ps(params->min_less_zero_point));
    v = _mm256_min_ps(v, _mm256_set1_ps(params->max_less_zero_point));
    __m256i y = _mm256_add_epi32(_mm256_cvtps_epi32(v),
                                 _mm256_set1_epi32(params->output_zero_point));
    __m128i s = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    return _mm_packus_epi16(s, s);
}

/* Channels [0, cols) of 8 (cols >= 1) of one row. */
static inline void qs8_vnni_store8(uint8_t *dst, __m128i y, size_t cols)
{
    if (cols >= 8) {
        _mm_storel_epi64((__m128i *)(void *)dst, y);
        return;
    }
    uint8_t bytes[16];
    _mm_storeu_si128((__m128i *)(void *)bytes, y);
    memcpy(dst, bytes, cols);
}

#endif
