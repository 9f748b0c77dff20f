/* Broadcasting binary elementwise kernels for every dtype an op defines them for.
 *
 * A row function computes n output elements; a_step and b_step (0 or 1) say whether each
 * operand advances along the row or stays on one element. fq_binary_ref walks a broadcast plan
 * (tensor_broadcast_ref.h) and calls the row function once per row.
 *
 * Integer arithmetic wraps around on overflow (the result is computed in unsigned arithmetic),
 * and integer division truncates toward zero; dividing by zero is the caller's check (the
 * integer Div rows return 0 there instead of trapping).
 */
#ifndef FQ_KERNELS_TENSOR_BINARY_REF_H
#define FQ_KERNELS_TENSOR_BINARY_REF_H

#include "ref/tensor_broadcast_ref.h"

typedef enum fq_binary_op {
    FQ_BINARY_ADD,
    FQ_BINARY_SUB,
    FQ_BINARY_MUL,
    FQ_BINARY_DIV,
    FQ_BINARY_MAX,
    FQ_BINARY_MIN,
    FQ_BINARY_POW,     /* f32 ** f32; fq_pow_row_ref has the mixed-dtype powers */
    FQ_BINARY_PRELU,   /* f32 only: a < 0 ? a * b : a */
    FQ_BINARY_EQUAL,   /* bool output */
    FQ_BINARY_LESS,    /* bool output */
    FQ_BINARY_GREATER, /* bool output */
    FQ_BINARY_OP_COUNT
} fq_binary_op;

typedef void (*fq_binary_row_fn)(const void *a, int64_t a_step, const void *b, int64_t b_step,
                                 void *out, int64_t n);

/* The row function of op on operands of dtype, or NULL when op is not defined for it. */
fq_binary_row_fn fq_binary_row_ref(fq_binary_op op, fq_dtype dtype);

/* Pow of a base of dtype base (f32, i32, i64) to an exponent of dtype exponent (the same
 * three); the result has the base's dtype. NULL for other pairs. */
fq_binary_row_fn fq_pow_row_ref(fq_dtype base, fq_dtype exponent);

/* True for the comparisons, whose output is bool. */
int fq_binary_op_is_comparison(fq_binary_op op);

/* out = row(a, b) over a two-operand plan; a_elem, b_elem and out_elem are element sizes. */
void fq_binary_ref(const fq_broadcast_plan *plan, fq_binary_row_fn row, const void *a,
                   const void *b, void *out, size_t a_elem, size_t b_elem, size_t out_elem);

#endif
