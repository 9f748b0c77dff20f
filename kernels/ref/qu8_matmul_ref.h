/* QLinearMatMul (ONNX opset 10) on one matrix pair, 8-bit operands of either signedness.
 *
 *   acc[i][j] = sum_k (a[i][k] - a_zero) * (b[k][j] - b_zero)        (int32)
 *   y[i][j]   = saturate(round_half_even((float)((double)acc * multiplier)) + y_zero)
 *
 * with multiplier = a_scale * b_scale / y_scale in double, saturating to 0..255 for u8 y and
 * -128..127 for i8 y. a is m x k, b is k x n, y is m x n, all row-major. */
#ifndef FQ_KERNELS_REF_QU8_MATMUL_REF_H
#define FQ_KERNELS_REF_QU8_MATMUL_REF_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fq_q8_matmul_params {
    int64_t m, n, k;
    bool a_signed, b_signed, y_signed;
    int32_t a_zero, b_zero, y_zero;
    double multiplier;
} fq_q8_matmul_params;

void fq_q8_matmul_ref(const fq_q8_matmul_params *p, const void *a, const void *b, void *y);

#endif
