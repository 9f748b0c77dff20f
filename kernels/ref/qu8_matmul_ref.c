/* QLinearMatMul reference: see qu8_matmul_ref.h. */
#include <math.h>

#include "ref/qu8_matmul_ref.h"
#include "ref/tensor_cast_ref.h"

static int32_t code_at(const void *data, bool is_signed, int64_t i)
{
    return is_signed ? ((const int8_t *)data)[i] : ((const uint8_t *)data)[i];
}

static int32_t saturate(double v, int32_t zero, bool is_signed)
{
    int32_t lo = is_signed ? -128 : 0;
    int32_t hi = is_signed ? 127 : 255;
    if (isnan(v))
        return zero < lo ? lo : zero > hi ? hi : zero;
    float clamped = v < -1024.0 ? -1024.0f : v > 1024.0 ? 1024.0f : (float)v;
    int32_t q = (int32_t)fq_round_half_even(clamped) + zero;
    return q < lo ? lo : q > hi ? hi : q;
}

void fq_q8_matmul_ref(const fq_q8_matmul_params *p, const void *a, const void *b, void *y)
{
    for (int64_t i = 0; i < p->m; i++) {
        for (int64_t j = 0; j < p->n; j++) {
            int32_t acc = 0;
            for (int64_t t = 0; t < p->k; t++)
                acc += (code_at(a, p->a_signed, i * p->k + t) - p->a_zero) *
                       (code_at(b, p->b_signed, t * p->n + j) - p->b_zero);
            int32_t q = saturate((double)acc * p->multiplier, p->y_zero, p->y_signed);
            if (p->y_signed)
                ((int8_t *)y)[i * p->n + j] = (int8_t)q;
            else
                ((uint8_t *)y)[i * p->n + j] = (uint8_t)q;
        }
    }
}
