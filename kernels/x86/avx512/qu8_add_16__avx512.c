/* QLinearAdd on u8 codes, 16 elements a step, AVX-512 (F, BW): see kernels/qu8_add.h. */
#include <immintrin.h>

#include "qu8_add.h"
#include "ref/qu8_requant_ref.h"

#define CUR _MM_FROUND_CUR_DIRECTION

/* 16 codes of a and b: the 16 codes of c. */
static inline __m128i add16(const fq_qu8_add_params *p, __m128i a, __m128i b)
{
    __m512 fa = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(a),
                                                    _mm512_set1_epi32(p->a_zero)));
    __m512 fb = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(b),
                                                    _mm512_set1_epi32(p->b_zero)));
    __m512 v = _mm512_add_round_ps(_mm512_mul_round_ps(_mm512_set1_ps(p->a_mult), fa, CUR),
                                   _mm512_mul_round_ps(_mm512_set1_ps(p->b_mult), fb, CUR), CUR);

    const __m512 bias = _mm512_set1_ps(FQ_QU8_ROUNDING_BIAS);
    __m512 r = _mm512_sub_round_ps(_mm512_add_round_ps(v, bias, CUR), bias, CUR);
    r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), r);
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
    __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(r), _mm512_set1_epi32(p->c_zero));
    q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(p->c_min)),
                         _mm512_set1_epi32(255));
    return _mm512_cvtepi32_epi8(q);
}

void fq_qu8_add_ukernel_16__avx512(const fq_qu8_add_params *p, int64_t n, const uint8_t *a,
                                   const uint8_t *b, uint8_t *c)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        _mm_storeu_si128((__m128i *)(void *)(c + i), add16(p, x, y));
    }
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1);
        __m128i x = _mm_maskz_loadu_epi8(mask, a + i);
        __m128i y = _mm_maskz_loadu_epi8(mask, b + i);
        _mm_mask_storeu_epi8(c + i, mask, add16(p, x, y));
    }
}
