/* The fused NCHW -> NHWC quantization (f32_quantize_u8_nchw2nhwc.h), SSE4.1: 16 pixels at a
 * time, four vectors of 4 floats per channel.
 *
 * divps is the scalar twin's IEEE division and cvtps2dq rounds half to even in the default
 * rounding mode. NaN lanes are set to 0 before the conversion (giving the zero point), the
 * clamp to +-512 keeps it in range and changes no code, and the saturating packs do the
 * rest. */
#include "f32_quantize_u8_nchw2nhwc.h"
#include "x86/qu8_nhwc_store_sse41.h"

static __m128i quantize4(const float *x, __m128 scale, __m128i zero_point)
{
    __m128 v = _mm_div_ps(_mm_loadu_ps(x), scale);
    v = _mm_and_ps(v, _mm_cmpord_ps(v, v));
    v = _mm_min_ps(_mm_max_ps(v, _mm_set1_ps(-512.0f)), _mm_set1_ps(512.0f));
    return _mm_add_epi32(_mm_cvtps_epi32(v), zero_point);
}

static __m128i quantize16(const float *x, __m128 scale, __m128i zero_point)
{
    __m128i low = _mm_packs_epi32(quantize4(x, scale, zero_point),
                                  quantize4(x + 4, scale, zero_point));
    __m128i high = _mm_packs_epi32(quantize4(x + 8, scale, zero_point),
                                   quantize4(x + 12, scale, zero_point));
    return _mm_packus_epi16(low, high);
}

void fq_f32_quantize_u8_nchw2nhwc_16p__sse41(size_t pixels, size_t channels, size_t plane,
                                             const float *x, float scale, int32_t zero_point,
                                             uint8_t *q)
{
    if (channels > FQ_QU8_NHWC_MAX_CHANNELS) {
        fq_f32_quantize_u8_nchw2nhwc__scalar(pixels, channels, plane, x, scale, zero_point, q);
        return;
    }
    fq_qu8_interleave3 masks;
    fq_qu8_interleave3_init(&masks);
    const __m128 s = _mm_set1_ps(scale);
    const __m128i zp = _mm_set1_epi32(zero_point);
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
