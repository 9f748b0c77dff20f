/* QuantizeLinear to u8 fused with the NCHW -> NHWC layout change: the entry of an int8 region
 * whose input is a float NCHW tensor (an image).
 *
 * For pixels i in [0, pixels) and channels c in [0, channels):
 *   q[i * channels + c] = saturate_u8(round_half_to_even(x[c * plane + i] / scale) + zero_point)
 * with NaN giving zero_point: per value, the fq_quantize_u8_span result of ref/qdq_ref.h, so the
 * node equals QuantizeLinear followed by Transpose (0, 2, 3, 1) bit for bit. x points at the
 * first pixel of channel 0, plane is the distance between channels in floats (H * W of the
 * image), so a caller can hand a run of pixels of one image to each thread. scale is finite and
 * positive, zero_point in 0..255.
 *
 * Every kernel divides in IEEE single precision and rounds half to even, as the scalar twin
 * does. The SIMD kernels interleave three channels in registers (the common image case) and
 * one channel is a plain store; other channel counts quantize in vectors into a small buffer
 * and interleave bytes from it. Pixels left over after the last whole vector go to the scalar
 * twin. */
#ifndef FQ_KERNELS_F32_QUANTIZE_U8_NCHW2NHWC_H
#define FQ_KERNELS_F32_QUANTIZE_U8_NCHW2NHWC_H

#include <stddef.h>
#include <stdint.h>

typedef void (*fq_f32_quantize_u8_nchw2nhwc_fn)(size_t pixels, size_t channels, size_t plane,
                                                const float *x, float scale,
                                                int32_t zero_point, uint8_t *q);

void fq_f32_quantize_u8_nchw2nhwc__scalar(size_t pixels, size_t channels, size_t plane,
                                          const float *x, float scale, int32_t zero_point,
                                          uint8_t *q);
void fq_f32_quantize_u8_nchw2nhwc_16p__sse41(size_t pixels, size_t channels, size_t plane,
                                             const float *x, float scale, int32_t zero_point,
                                             uint8_t *q);
void fq_f32_quantize_u8_nchw2nhwc_16p__avx2(size_t pixels, size_t channels, size_t plane,
                                            const float *x, float scale, int32_t zero_point,
                                            uint8_t *q);
void fq_f32_quantize_u8_nchw2nhwc_16p__avx512(size_t pixels, size_t channels, size_t plane,
                                              const float *x, float scale, int32_t zero_point,
                                              uint8_t *q);
void fq_f32_quantize_u8_nchw2nhwc_16p__neon(size_t pixels, size_t channels, size_t plane,
                                            const float *x, float scale, int32_t zero_point,
                                            uint8_t *q);

#endif
