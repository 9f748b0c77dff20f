/* The fused NCHW -> NHWC quantization (f32_quantize_u8_nchw2nhwc.h), AVX2: 16 pixels at a
 * time, two vectors of 8 floats per channel.
 *
 * vdivps is the scalar twin's IEEE division and vcvtps2dq rounds half to even in the default
 * rounding mode. NaN lanes are set to 0 before the conversion (giving the zero point), the
 * clamp to +-512 keeps it in range and changes no code, and the saturating packs do the
 * rest. */
#include "f32_quantize_u8_nchw2nhwc.h"
#include "x86/qu8_nhwc_store_sse41.h"

static __m256i quantize8(const float *x, __m256 scale, __m256i zero_point)
{
    __m256 v = _mm256_div_ps(_mm256_loadu_ps(x), scale);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-512.0f)), _mm256_set1_ps(512.0f));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), zero_point);
}

/* The packs work within 128-bit lanes; the permute puts the 16 words back in pixel order. */
static __m128i quantize16(const float *x, __m256 scale, __m256i zero_point)
{
    __m256i words = _mm256_packs_epi32(quantize8(x, scale, zero_point),
                                       quantize8(x + 8, scale, zero_point));
    words = _mm256_permute4x64_epi64(words, 0xd8);
    return _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
}

void fq_f32_quantize_u8_nchw2nhwc_16p__avx2(size_t pixels, size_t channels, size_t plane,
                                            const float *x, float scale, int32_t zero_point,
                                            uint8_t *q)
{
    if (channels > FQ_QU8_NHWC_MAX_CHANNELS) {
        fq_f32_quantize_u8_nchw2nhwc__scalar(pixels, channels, plane, x, scale, zero_point, q);
        return;
    }
    fq_qu8_interleave3 masks;
    fq_qu8_interleave3_init(&masks);
    const __m256 s = _mm256_set1_ps(scale);
    const __m256i zp = _mm256_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 16 <= pixels; i += 16) {
        __m128i planes[FQ_QU8_NHWC_MAX_CHANNELS];
        for (size_t c = 0; c < channels; c++)
            planes[c] = quantize16(x + c * plane + i, s, zp);
        fq_qu8_store_nhwc16(planes, channels, &masks, q + i * channels);
    }
    fq_f32_quantize_u8_nchw2nhwc__scalar(pixels - i, channels, plane, x + i, scale, zero_point,
                                         q + i * channels);
}
