/* qs8 depthwise 3x3, the 16 channels of a packed tile as two groups of 8, AVX2.
 *
 * Each tap widens 8 activations to int32 lanes (vpmovzxbd: high int16 halves are 0) and 8
 * weights likewise (vpmovsxbd); vpmaddwd of the two gives the exact product x * w in every lane.
 * A channel tail is copied into a zeroed buffer so no load passes the pixel. Each group of
 * channels runs over all the pixels of a call with its weights held in registers. */
#include <immintrin.h>
#include <string.h>

#include "qs8_dwconv.h"

static __m256i requantize8(__m256i acc, __m256 multiplier, const fq_qs8_requant_params *params)
{
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), multiplier);
    v = _mm256_max_ps(v, _mm256_set1_ps(params->min_less_zero_point));
    v = _mm256_min_ps(v, _mm256_set1_ps(params->max_less_zero_point));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(params->output_zero_point));
}

/* 8 int32 values in [0, 255] as bytes, stored to dst (n of them). */
static void store8(uint8_t *dst, __m256i y, size_t n)
{
    __m128i s = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    __m128i b = _mm_packus_epi16(s, s);
    if (n >= 8) {
        _mm_storel_epi64((__m128i *)(void *)dst, b);
        return;
    }
    uint8_t bytes[16];
    _mm_storeu_si128((__m128i *)(void *)bytes, b);
    memcpy(dst, bytes, n);
}

/* 8 activations at x widened to int32 lanes; a tail of n < 8 goes through a zeroed buffer. */
static __m256i load_activations(const uint8_t *x, size_t n)
{
    uint8_t tail[8] = {0};
    if (n < 8) {
        memcpy(tail, x, n);
        x = tail;
    }
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)x));
}

/* Channels [c0, c0 + n), n <= 8, of every output pixel; j is their offset inside the packed
 * tile. The nine widened weight vectors stay in registers across the pixels. */
static void channel_group(size_t c0, size_t n, size_t j, size_t output_pixels,
                          const uint8_t *const *input, const uint8_t *tile, uint8_t *output,
                          size_t output_pixel_stride, const fq_qs8_requant_params *params)
{
    const __m256i bias = _mm256_loadu_si256((const __m256i *)(const void *)(tile + 4 * j));
    const uint8_t *w = tile + FQ_QS8_DWCONV_TILE * sizeof(int32_t);
    const __m256 multiplier =
        _mm256_loadu_ps((const float *)(const void *)(w + 16 * FQ_QS8_DWCONV_TAPS) + j);
    __m256i wt[FQ_QS8_DWCONV_TAPS];
    for (int t = 0; t < FQ_QS8_DWCONV_TAPS; t++)
        wt[t] = _mm256_cvtepi8_epi32(_mm_loadl_epi64(
            (const __m128i *)(const void *)(w + 16 * t + j)));

    for (size_t p = 0; p < output_pixels; p++) {
        const uint8_t *const *taps = input + p * FQ_QS8_DWCONV_TAPS;
        __m256i acc = bias;
        for (int t = 0; t < FQ_QS8_DWCONV_TAPS; t++)
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(load_activations(taps[t] + c0, n),
                                                          wt[t]));
        store8(output + p * output_pixel_stride + c0, requantize8(acc, multiplier, params), n);
    }
}

void fq_qs8_dwconv3x3_ukernel_16c__avx2(size_t channels, size_t output_pixels,
                                        const uint8_t *const *input, const void *packed_w,
                                        uint8_t *output, size_t output_pixel_stride,
                                        const fq_qs8_requant_params *params)
{
    const uint8_t *tile = packed_w;
    for (size_t c0 = 0; c0 < channels; c0 += FQ_QS8_DWCONV_TILE) {
        for (size_t j = 0; j < FQ_QS8_DWCONV_TILE && c0 + j < channels; j += 8) {
            size_t n = channels - c0 - j < 8 ? channels - c0 - j : 8;
            channel_group(c0 + j, n, j, output_pixels, input, tile, output, output_pixel_stride,
                          params);
        }
        tile += FQ_QS8_DWCONV_TILE_BYTES;
    }
}
