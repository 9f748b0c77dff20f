/* The input range and quantization of dynamic int8 (kernels/qs8_gemm_i32.h), portable C. */
#include <math.h>

#include "qs8_gemm_i32.h"

/* Clamping to +-512 first keeps lrintf in range and changes no saturated result; lrintf rounds
 * half to even in the default rounding mode. */
void fq_f32_quantize_u8__scalar(const float *x, size_t n, float scale, int32_t zero_point,
                                uint8_t *q)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] / scale;
        if (isnan(v)) {
            q[i] = (uint8_t)zero_point;
            continue;
        }
        v = v < -512.0f ? -512.0f : v > 512.0f ? 512.0f : v;
        int32_t r = (int32_t)lrintf(v) + zero_point;
        q[i] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    }
}

/* A NaN fails both comparisons and leaves the bounds alone. */
void fq_f32_range__scalar(const float *x, size_t n, float *lo, float *hi)
{
    float l = 0.0f, h = 0.0f;
    for (size_t i = 0; i < n; i++) {
        l = x[i] < l ? x[i] : l;
        h = x[i] > h ? x[i] : h;
    }
    *lo = l;
    *hi = h;
}
