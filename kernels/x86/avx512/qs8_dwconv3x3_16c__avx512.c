/* qs8 depthwise 3x3, 16 channels a step, AVX-512 (F, BW, VL).
 *
 * Each tap widens 16 activations to int32 lanes (vpmovzxbd: high int16 halves are 0) and 16
 * weights likewise (vpmovsxbd); vpmaddwd of the two then gives x * w + 0 * (sign bits) in every
 * lane: the exact product in one instruction. Channel tails use masked loads and stores. */
#include <immintrin.h>

#include "qs8_dwconv.h"

/* Channels [c0, c0 + n) of every output pixel: the tile's nine widened weight vectors stay in
 * registers across the pixels. */
static void channel_tile(size_t c0, size_t n, size_t output_pixels, const uint8_t *const *input,
                         const uint8_t *tile, uint8_t *output, size_t output_pixel_stride,
                         const fq_qs8_requant_params *params)
{
    const __m512 lo = _mm512_set1_ps(params->min_less_zero_point);
    const __m512 hi = _mm512_set1_ps(params->max_less_zero_point);
    const __m512i zero_point = _mm512_set1_epi32(params->output_zero_point);
    const __mmask16 mask = (__mmask16)((1u << n) - 1);
    const __m512i bias = _mm512_loadu_si512(tile);
    const uint8_t *w = tile + FQ_QS8_DWCONV_TILE * sizeof(int32_t);
    const __m512 multiplier = _mm512_loadu_ps((const float *)(const void *)(w + 16 * 9));
    __m512i wt[FQ_QS8_DWCONV_TAPS];
    for (int t = 0; t < FQ_QS8_DWCONV_TAPS; t++)
        wt[t] = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(w + 16 * t)));

    for (size_t p = 0; p < output_pixels; p++) {
        const uint8_t *const *taps = input + p * FQ_QS8_DWCONV_TAPS;
        __m512i acc = bias;
        for (int t = 0; t < FQ_QS8_DWCONV_TAPS; t++) {
            __m128i x = _mm_maskz_loadu_epi8(mask, taps[t] + c0);
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_cvtepu8_epi32(x), wt[t]));
        }

        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), multiplier);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        __m512i y = _mm512_add_epi32(_mm512_cvtps_epi32(v), zero_point);
        _mm_mask_storeu_epi8(output + p * output_pixel_stride + c0, mask,
                             _mm512_cvtusepi32_epi8(y));
    }
}

void fq_qs8_dwconv3x3_ukernel_16c__avx512(size_t channels, size_t output_pixels,
                                          const uint8_t *const *input, const void *packed_w,
                                          uint8_t *output, size_t output_pixel_stride,
                                          const fq_qs8_requant_params *params)
{
    const uint8_t *tile = packed_w;
    for (size_t c0 = 0; c0 < channels; c0 += FQ_QS8_DWCONV_TILE) {
        size_t n = channels - c0 < FQ_QS8_DWCONV_TILE ? channels - c0 : FQ_QS8_DWCONV_TILE;
        channel_tile(c0, n, output_pixels, input, tile, output, output_pixel_stride, params);
        tile += FQ_QS8_DWCONV_TILE_BYTES;
    }
}
