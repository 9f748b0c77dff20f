/* Quantize and dequantize: see qdq_ref.h. */
#include <math.h>

#include "ref/qdq_ref.h"
#include "ref/qu8_requant_ref.h"
#include "ref/tensor_cast_ref.h"

static int64_t quantize_one(float x, float scale, int64_t zero_point, int64_t lo, int64_t hi)
{
    float scaled = x / scale;
    if (isnan(scaled))
        return zero_point;
    float rounded = fq_round_half_even(scaled) + (float)zero_point;
    if (rounded < (float)lo)
        return lo;
    if (rounded > (float)hi)
        return hi;
    return (int64_t)rounded;
}

#define DEFINE_QUANTIZE(name, type, LO, HI)                                                     \
    void name(const fq_qdq_layout *layout, const float *x, const float *scale,                  \
              const type *zero_point, type *q)                                                  \
    {                                                                                           \
        for (int64_t o = 0; o < layout->outer; o++) {                                           \
            for (int64_t c = 0; c < layout->channels; c++) {                                    \
                int64_t zp = zero_point != NULL ? zero_point[c] : 0;                            \
                int64_t base = (o * layout->channels + c) * layout->inner;                      \
                for (int64_t i = 0; i < layout->inner; i++)                                     \
                    q[base + i] = (type)quantize_one(x[base + i], scale[c], zp, LO, HI);        \
            }                                                                                   \
        }                                                                                       \
    }

#define DEFINE_DEQUANTIZE(name, type)                                                           \
    void name(const fq_qdq_layout *layout, const type *q, const float *scale,                   \
              const type *zero_point, float *x)                                                 \
    {                                                                                           \
        for (int64_t o = 0; o < layout->outer; o++) {                                           \
            for (int64_t c = 0; c < layout->channels; c++) {                                    \
                int64_t zp = zero_point != NULL ? zero_point[c] : 0;                            \
                int64_t base = (o * layout->channels + c) * layout->inner;                      \
                for (int64_t i = 0; i < layout->inner; i++)                                     \
                    x[base + i] = (float)((int64_t)q[base + i] - zp) * scale[c];                \
            }                                                                                   \
        }                                                                                       \
    }

DEFINE_QUANTIZE(fq_quantize_u8_ref, uint8_t, 0, 255)
DEFINE_QUANTIZE(fq_quantize_i8_ref, int8_t, -128, 127)
DEFINE_DEQUANTIZE(fq_dequantize_u8_ref, uint8_t)
DEFINE_DEQUANTIZE(fq_dequantize_i8_ref, int8_t)
DEFINE_DEQUANTIZE(fq_dequantize_i32_ref, int32_t)

void fq_quantize_u8_span(int64_t n, const float *x, float scale, const uint8_t *zero_point,
                         uint8_t *q)
{
    int32_t zp = zero_point != NULL ? *zero_point : 0;
    for (int64_t i = 0; i < n; i++)
        q[i] = fq_qu8_requantize(x[i] / scale, zp, 0);
}
