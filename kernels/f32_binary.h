/* fp32 Add, Sub and Mul along one broadcast row, in loops the compiler vectorizes.
 *
 *     out[i] = a[i * a_step] op b[i * b_step]     for i < n, steps 0 or 1
 *
 * Each output is the one IEEE operation of the reference rows (ref/tensor_binary_ref.h), so the
 * bits are the same. Each combination of steps has its own loop without strides, so equal
 * shapes and per-channel operands (a constant along the row) run at vector speed. */
#ifndef FQ_KERNELS_F32_BINARY_H
#define FQ_KERNELS_F32_BINARY_H

#include <stdbool.h>
#include <stdint.h>

typedef enum fq_f32_binary_kind {
    FQ_F32_BINARY_ADD,
    FQ_F32_BINARY_SUB,
    FQ_F32_BINARY_MUL
} fq_f32_binary_kind;

void fq_f32_binary_row(fq_f32_binary_kind kind, const float *a, int64_t a_step, const float *b,
                       int64_t b_step, float *out, int64_t n);

#endif
