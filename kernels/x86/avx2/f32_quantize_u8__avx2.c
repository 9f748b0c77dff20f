/* The input range and quantization of dynamic int8 (kernels/qs8_gemm_i32.h), AVX2: 8 values
 * at a time.
 *
 * vminps and vmaxps return their second operand when either is NaN, so keeping the running
 * bound second skips NaN as the scalar comparisons do.
 *
 * vdivps is the IEEE division of the scalar kernel and vcvtps2dq rounds half to even in the
 * default rounding mode, so the bytes equal the scalar kernel's. NaN lanes are replaced by 0
 * before the conversion (giving the zero point); the clamp to +-512 keeps the conversion in
 * range, and the saturating packs do the rest. */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "qs8_gemm_i32.h"

static __m256i quantize8(__m256 x, __m256 scale, __m256i zero_point)
{
    __m256 v = _mm256_div_ps(x, scale);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-512.0f)), _mm256_set1_ps(512.0f));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), zero_point);
}

/* 8 int32 in [-512 + zp, 512 + zp] saturated to bytes, in order, in the low 8 bytes. */
static __m128i pack8(__m256i r)
{
    __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    return _mm_packus_epi16(words, words);
}

void fq_f32_quantize_u8__avx2(const float *x, size_t n, float scale, int32_t zero_point,
                              uint8_t *q)
{
    const __m256 s = _mm256_set1_ps(scale);
    const __m256i zp = _mm256_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storel_epi64((__m128i *)(void *)(q + i), pack8(quantize8(_mm256_loadu_ps(x + i), s,
                                                                      zp)));
    if (i < n) {
        float tail[8] = {0};
        uint8_t bytes[16];
        memcpy(tail, x + i, (n - i) * sizeof(float));
        _mm_storeu_si128((__m128i *)(void *)bytes, pack8(quantize8(_mm256_loadu_ps(tail), s,
                                                                    zp)));
        memcpy(q + i, bytes, n - i);
    }
}

static float reduce(__m256 v, bool max)
{
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    float r = lanes[0];
    for (int i = 1; i < 8; i++)
        r = max ? (lanes[i] > r ? lanes[i] : r) : (lanes[i] < r ? lanes[i] : r);
    return r;
}

void fq_f32_range__avx2(const float *x, size_t n, float *lo, float *hi)
{
    __m256 l = _mm256_setzero_ps(), h = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        l = _mm256_min_ps(v, l);
        h = _mm256_max_ps(v, h);
    }
    float lv = reduce(l, false), hv = reduce(h, true);
    for (; i < n; i++) {
        lv = x[i] < lv ? x[i] : lv;
        hv = x[i] > hv ? x[i] : hv;
    }
    *lo = lv;
    *hi = hv;
}
