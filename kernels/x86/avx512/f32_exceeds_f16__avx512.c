/* fp16 range check of fp32 data, AVX-512F: see fq_f32_exceeds_f16_fn in f16_gemm.h.
 * An ordered compare is false for NaN, so NaN never counts as overflow. */
#include <immintrin.h>

#include "f16_gemm.h"

bool fq_f32_exceeds_f16__avx512(const float *x, size_t n)
{
    __m512 limit = _mm512_set1_ps(FQ_F16_MAX);
    size_t i = 0;

    for (; i + 64 <= n; i += 64) {
        __mmask16 over = 0;
        for (size_t j = 0; j < 64; j += 16) {
            __m512 v = _mm512_abs_ps(_mm512_loadu_ps(x + i + j));
            over |= _mm512_cmp_ps_mask(v, limit, _CMP_GT_OQ);
        }
        if (over != 0)
            return true;
    }

    for (; i < n; i += 16) {
        __mmask16 mask = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        __m512 v = _mm512_abs_ps(_mm512_maskz_loadu_ps(mask, x + i));
        if (_mm512_mask_cmp_ps_mask(mask, v, limit, _CMP_GT_OQ) != 0)
            return true;
    }
    return false;
}
