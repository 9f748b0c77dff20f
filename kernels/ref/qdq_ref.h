/* QuantizeLinear and DequantizeLinear.
 *
 * Tensors are seen as [outer, channels, inner] with one scale and zero point per channel
 * (channels = 1 for per-tensor parameters). Quantization is
 *   q = saturate(round_half_even(x / scale) + zero_point)
 * saturating to the range of the quantized type (NaN maps to the zero point); dequantization is
 *   x = (q - zero_point) * scale.
 * zero_point may be NULL (zero).
 */
#ifndef FQ_KERNELS_QDQ_REF_H
#define FQ_KERNELS_QDQ_REF_H

#include <stdint.h>

typedef struct fq_qdq_layout {
    int64_t outer;
    int64_t channels;
    int64_t inner;
} fq_qdq_layout;

void fq_quantize_u8_ref(const fq_qdq_layout *layout, const float *x, const float *scale,
                        const uint8_t *zero_point, uint8_t *q);
void fq_quantize_i8_ref(const fq_qdq_layout *layout, const float *x, const float *scale,
                        const int8_t *zero_point, int8_t *q);

/* q[i] = the fq_quantize_u8_ref result for x[i] with one scale and zero point (NULL: 0), for
 * i < n: bit for bit the same values (NaN gives the zero point), computed without branches so
 * that the loop vectorizes (ref/qu8_requant_ref.h). */
void fq_quantize_u8_span(int64_t n, const float *x, float scale, const uint8_t *zero_point,
                         uint8_t *q);

void fq_dequantize_u8_ref(const fq_qdq_layout *layout, const uint8_t *q, const float *scale,
                          const uint8_t *zero_point, float *x);
void fq_dequantize_i8_ref(const fq_qdq_layout *layout, const int8_t *q, const float *scale,
                          const int8_t *zero_point, float *x);
void fq_dequantize_i32_ref(const fq_qdq_layout *layout, const int32_t *q, const float *scale,
                           const int32_t *zero_point, float *x);

#endif
