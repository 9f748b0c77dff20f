/* Reference static int8 GEMM: a triple loop, int64 sums, the shared requantization. */
#include "ref/qs8_gemm_ref.h"

int32_t fq_qs8_dot_ref(size_t k, const uint8_t *a, int32_t input_zero_point, const int8_t *w,
                       int32_t bias)
{
    int64_t acc = bias;
    for (size_t p = 0; p < k; p++)
        acc += (int64_t)((int32_t)a[p] - input_zero_point) * w[p];
    return (int32_t)acc;
}

void fq_qs8_gemm_ref(const fq_qs8_gemm_ref_args *args, const fq_qs8_requant_params *params)
{
    for (size_t i = 0; i < args->m; i++) {
        const uint8_t *row = args->a + i * args->a_stride;
        for (size_t j = 0; j < args->n; j++) {
            int32_t bias = args->bias != NULL ? args->bias[j] : 0;
            int32_t acc = fq_qs8_dot_ref(args->k, row, args->input_zero_point,
                                         args->w + j * args->k, bias);
            args->c[i * args->c_stride + j] =
                fq_qs8_requantize(acc, args->multiplier[j], params);
        }
    }
}
