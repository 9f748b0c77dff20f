/* Storing 16 pixels of u8 channel planes as NHWC bytes, shared by the x86 kernels of
 * f32_quantize_u8_nchw2nhwc.h (each compiled with SSE4.1 or a later ISA, all of which have
 * pshufb).
 *
 * planes[c] holds pixels 0..15 of channel c. Three channels are interleaved in registers: each
 * of the 48 output bytes j is byte j / 3 of plane j % 3, so every output vector is three
 * pshufb (one per plane, 0x80 clearing the lanes of the other planes) ORed together. */
#ifndef FQ_KERNELS_X86_QU8_NHWC_STORE_SSE41_H
#define FQ_KERNELS_X86_QU8_NHWC_STORE_SSE41_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* The most channels the vector path stores; more go to the scalar kernel. */
enum { FQ_QU8_NHWC_MAX_CHANNELS = 16 };

typedef struct fq_qu8_interleave3 {
    __m128i mask[3][3]; /* [output vector][plane] */
} fq_qu8_interleave3;

static inline void fq_qu8_interleave3_init(fq_qu8_interleave3 *masks)
{
    for (int v = 0; v < 3; v++) {
        for (int plane = 0; plane < 3; plane++) {
            uint8_t bytes[16];
            for (int k = 0; k < 16; k++) {
                int j = 16 * v + k;
                bytes[k] = j % 3 == plane ? (uint8_t)(j / 3) : 0x80;
            }
            masks->mask[v][plane] = _mm_loadu_si128((const __m128i *)(const void *)bytes);
        }
    }
}

static inline void fq_qu8_store_nhwc16(const __m128i *planes, size_t channels,
                                       const fq_qu8_interleave3 *masks, uint8_t *q)
{
    if (channels == 1) {
        _mm_storeu_si128((__m128i *)(void *)q, planes[0]);
        return;
    }
    if (channels == 3) {
        for (int v = 0; v < 3; v++) {
            __m128i out = _mm_or_si128(_mm_shuffle_epi8(planes[0], masks->mask[v][0]),
                                       _mm_shuffle_epi8(planes[1], masks->mask[v][1]));
            out = _mm_or_si128(out, _mm_shuffle_epi8(planes[2], masks->mask[v][2]));
            _mm_storeu_si128((__m128i *)(void *)(q + 16 * v), out);
        }
        return;
    }
    uint8_t bytes[FQ_QU8_NHWC_MAX_CHANNELS][16];
    for (size_t c = 0; c < channels; c++)
        _mm_storeu_si128((__m128i *)(void *)bytes[c], planes[c]);
    for (size_t i = 0; i < 16; i++)
        for (size_t c = 0; c < channels; c++)
            q[i * channels + c] = bytes[c][i];
}

#endif
