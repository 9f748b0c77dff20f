/* The fused NCHW -> NHWC quantization, portable C: see f32_quantize_u8_nchw2nhwc.h. */
#include "f32_quantize_u8_nchw2nhwc.h"
#include "ref/qu8_requant_ref.h"

void fq_f32_quantize_u8_nchw2nhwc__scalar(size_t pixels, size_t channels, size_t plane,
                                          const float *x, float scale, int32_t zero_point,
                                          uint8_t *q)
{
    for (size_t i = 0; i < pixels; i++)
        for (size_t c = 0; c < channels; c++)
            q[i * channels + c] = fq_qu8_requantize(x[c * plane + i] / scale, zero_point, 0);
}
