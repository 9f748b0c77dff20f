/* qs8 small-channel convolution, 8 output pixels x 16 channels a step, AVX512-VNNI (see
 * kernels/qs8_stemconv.h): each group of 4 input bytes is broadcast and multiplied into the 16
 * channels by vpdpbusd (u8 x s8, four products into each int32 lane, without saturation).
 * Pixels past `pixels` repeat the last one: computed, and stored over it with the same
 * values. */
#include <immintrin.h>
#include <string.h>

#include "qs8_stemconv.h"

enum { MR = 8 };

static inline __m512i broadcast_group(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof(v));
    return _mm512_set1_epi32(v);
}

/* acc += x (u8) . w (s8) by groups of 4; an asm statement, as in the qs8 GEMM kernels, keeps
 * GCC from copying each accumulator around the intrinsic. */
static inline __m512i dot(__m512i acc, __m512i x, __m512i w)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
    return acc;
}

/* One panel of 16 channels for MR pixels whose kernel rows are taps[i][r]. */
static void panel_block(size_t kernel_h, size_t groups, const uint8_t *const *const taps[MR],
                        const uint8_t *panel, size_t cols, uint8_t *const out[MR],
                        const fq_qs8_requant_params *params)
{
    __m512i acc[MR];
    const __m512i bias = _mm512_loadu_si512(panel);
    for (int i = 0; i < MR; i++)
        acc[i] = bias;
    const uint8_t *w = panel + 64;
    for (size_t r = 0; r < kernel_h; r++)
        for (size_t g = 0; g < groups; g++, w += 64) {
            __m512i wv = _mm512_loadu_si512(w);
            for (int i = 0; i < MR; i++)
                acc[i] = dot(acc[i], broadcast_group(taps[i][r] + 4 * g), wv);
        }

    const __m512 multiplier = _mm512_loadu_ps((const float *)(const void *)w);
    const __m512 lo = _mm512_set1_ps(params->min_less_zero_point);
    const __m512 hi = _mm512_set1_ps(params->max_less_zero_point);
    const __m512i zero_point = _mm512_set1_epi32(params->output_zero_point);
    const __mmask16 mask = (__mmask16)(cols >= 16 ? 0xFFFFu : (1u << cols) - 1);
    for (int i = MR - 1; i >= 0; i--) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[i]), multiplier);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        __m512i y = _mm512_add_epi32(_mm512_cvtps_epi32(v), zero_point);
        _mm_mask_storeu_epi8(out[i], mask, _mm512_cvtusepi32_epi8(y));
    }
}

void fq_qs8_stemconv_ukernel_8x16c4__avx512vnni(size_t pixels, size_t kernel_h, size_t groups,
                                                const uint8_t *const *rows,
                                                const void *packed_w, size_t channels,
                                                uint8_t *output, size_t output_stride,
                                                const fq_qs8_requant_params *params)
{
    size_t panel_bytes = FQ_QS8_STEMCONV_PANEL * (2 * sizeof(int32_t) + kernel_h * groups * 4);
    for (size_t p0 = 0; p0 < pixels; p0 += MR) {
        const uint8_t *const *taps[MR];
        uint8_t *out[MR];
        for (size_t i = 0; i < MR; i++) {
            size_t p = p0 + i < pixels ? p0 + i : pixels - 1;
            taps[i] = rows + p * kernel_h;
            out[i] = output + p * output_stride;
        }
        const uint8_t *panel = packed_w;
        for (size_t j0 = 0; j0 < channels; j0 += FQ_QS8_STEMCONV_PANEL) {
            uint8_t *out_j[MR];
            for (int i = 0; i < MR; i++)
                out_j[i] = out[i] + j0;
            panel_block(kernel_h, groups, taps, panel, channels - j0, out_j, params);
            panel += panel_bytes;
        }
    }
}
