/* fp16 depthwise 3x3 convolution, NHWC, 32 channels per zmm, AVX512-FP16: see f16_gemm.h.
 * For each output pixel and group of 32 channels the nine taps inside the image are added in
 * row-major order with vfmadd231ph; the last group loads and stores under a mask, so no byte
 * past the tensors is touched. Stride 1 and 2 share the code. */
#include <immintrin.h>

#include "f16_gemm.h"

enum { CR = 32 };

static __m512h load_f16x32(__mmask32 mask, const uint16_t *p)
{
    return _mm512_castsi512_ph(_mm512_maskz_loadu_epi16(mask, (const void *)p));
}

static __m512h broadcast_f16(uint16_t bits)
{
    return _mm512_castsi512_ph(_mm512_set1_epi16((short)bits));
}

static void pixel(const fq_f16_dwconv3x3_params *p, const uint16_t *x, const uint16_t *w,
                  size_t oh, size_t ow, uint16_t *out)
{
    __m512h lo = broadcast_f16(p->clamp.min);
    __m512h hi = broadcast_f16(p->clamp.max);

    for (size_t ch = 0; ch < p->channels; ch += CR, w += CR * 10) {
        size_t count = p->channels - ch < CR ? p->channels - ch : CR;
        __mmask32 mask = count >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << count) - 1u);
        __m512h acc = load_f16x32(0xffffffffu, w);
        for (size_t kh = 0; kh < 3; kh++) {
            size_t ih = oh * p->stride + kh - p->pad_top; /* wraps around above the image */
            if (ih >= p->in_h)
                continue;
            for (size_t kw = 0; kw < 3; kw++) {
                size_t iw = ow * p->stride + kw - p->pad_left;
                if (iw >= p->in_w)
                    continue;
                const uint16_t *src = x + (ih * p->in_w + iw) * p->channels + ch;
                __m512h tap = load_f16x32(0xffffffffu, w + CR + (kh * 3 + kw) * CR);
                acc = _mm512_fmadd_ph(load_f16x32(mask, src), tap, acc);
            }
        }
        acc = _mm512_min_ph(_mm512_max_ph(acc, lo), hi);
        _mm512_mask_storeu_epi16((void *)(out + ch), mask, _mm512_castph_si512(acc));
    }
}

void fq_f16_dwconv3x3_ukernel_c32__avx512fp16(const fq_f16_dwconv3x3_params *p,
                                              const uint16_t *x, const uint16_t *packed_w,
                                              uint16_t *y)
{
    for (size_t oh = 0; oh < p->out_h; oh++)
        for (size_t ow = 0; ow < p->out_w; ow++)
            pixel(p, x, packed_w, oh, ow, y + (oh * p->out_w + ow) * p->channels);
}
