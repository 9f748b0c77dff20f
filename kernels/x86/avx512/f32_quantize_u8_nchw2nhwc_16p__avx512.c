/* The fused NCHW -> NHWC quantization (f32_quantize_u8_nchw2nhwc.h), AVX-512: 16 pixels at a
 * time, one vector of 16 floats per channel.
 *
 * vdivps is the scalar twin's IEEE division and vcvtps2dq rounds half to even in the default
 * rounding mode. NaN lanes are set to 0 before the conversion (giving the zero point), the
 * clamp to +-512 keeps it in range and changes no code; the codes are clamped to 0..255 and
 * narrowed to bytes. */
#include "f32_quantize_u8_nchw2nhwc.h"
#include "x86/qu8_nhwc_store_sse41.h"

static __m128i quantize16(const float *x, __m512 scale, __m512i zero_point)
{
    __m512 v = _mm512_div_ps(_mm512_loadu_ps(x), scale);
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
    __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(v), zero_point);
    r = _mm512_min_epi32(_mm512_max_epi32(r, _mm512_setzero_si512()), _mm512_set1_epi32(255));
    return _mm512_cvtepi32_epi8(r);
}

void fq_f32_quantize_u8_nchw2nhwc_16p__avx512(size_t pixels, size_t channels, size_t plane,
                                              const float *x, float scale, int32_t zero_point,
                                              uint8_t *q)
{
    if (channels > FQ_QU8_NHWC_MAX_CHANNELS) {
        fq_f32_quantize_u8_nchw2nhwc__scalar(pixels, channels, plane, x, scale, zero_point, q);
        return;
    }
    fq_qu8_interleave3 masks;
    fq_qu8_interleave3_init(&masks);
    const __m512 s = _mm512_set1_ps(scale);
    const __m512i zp = _mm512_set1_epi32(zero_point);
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
