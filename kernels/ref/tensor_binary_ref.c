/* Binary elementwise kernels: see tensor_binary_ref.h. */
#include <math.h>
#include <stdint.h>

#include "ref/tensor_binary_ref.h"

/* Defines name(a, a_step, b, b_step, out, n) computing out[i] = EXPR(x, y) with x from a and y
 * from b. The three loops let the compiler vectorize the equal-shape and scalar-operand cases. */
#define DEFINE_MIXED_ROW(name, a_type, b_type, out_type, EXPR)                                  \
    static void name(const void *pa, int64_t a_step, const void *pb, int64_t b_step, void *po,  \
                     int64_t n)                                                                 \
    {                                                                                           \
        const a_type *a = pa;                                                                   \
        const b_type *b = pb;                                                                   \
        out_type *out = po;                                                                     \
        if (a_step == 1 && b_step == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                                   \
                a_type x = a[i];                                                                \
                b_type y = b[i];                                                                \
                out[i] = (out_type)(EXPR);                                                      \
            }                                                                                   \
        } else if (a_step == 1) {                                                               \
            const b_type y = b[0];                                                              \
            for (int64_t i = 0; i < n; i++) {                                                   \
                a_type x = a[i];                                                                \
                out[i] = (out_type)(EXPR);                                                      \
            }                                                                                   \
        } else {                                                                                \
            const a_type x = a[0];                                                              \
            for (int64_t i = 0; i < n; i++) {                                                   \
                b_type y = b[i * b_step];                                                       \
                out[i] = (out_type)(EXPR);                                                      \
            }                                                                                   \
        }                                                                                       \
    }

#define DEFINE_ROW(name, in_type, out_type, EXPR)                                               \
    DEFINE_MIXED_ROW(name, in_type, in_type, out_type, EXPR)

#define WRAP_ADD(u, x, y) ((u)(x) + (u)(y))
#define WRAP_SUB(u, x, y) ((u)(x) - (u)(y))
#define WRAP_MUL(u, x, y) ((u)(x) * (u)(y))
/* Truncating division; x / -1 is a negation (it overflows for the most negative value) and
 * a zero divisor gives 0 (callers refuse it before running). */
#define INT_DIV(u, x, y) ((y) == 0 ? 0 : (y) == -1 ? (u)0 - (u)(x) : (u)((x) / (y)))
#define UINT_DIV(x, y) ((y) == 0 ? 0 : (x) / (y))

/* Arithmetic and comparisons of one integer type; u is the unsigned type used for wrapping. */
#define DEFINE_INT_ROWS(sfx, t, u, DIV)                                                         \
    DEFINE_ROW(add_##sfx, t, t, WRAP_ADD(u, x, y))                                              \
    DEFINE_ROW(sub_##sfx, t, t, WRAP_SUB(u, x, y))                                              \
    DEFINE_ROW(mul_##sfx, t, t, WRAP_MUL(u, x, y))                                              \
    DEFINE_ROW(div_##sfx, t, t, DIV)                                                            \
    DEFINE_ROW(max_##sfx, t, t, x > y ? x : y)                                                  \
    DEFINE_ROW(min_##sfx, t, t, x < y ? x : y)                                                  \
    DEFINE_ROW(equal_##sfx, t, uint8_t, x == y)                                                 \
    DEFINE_ROW(less_##sfx, t, uint8_t, x < y)                                                   \
    DEFINE_ROW(greater_##sfx, t, uint8_t, x > y)

DEFINE_INT_ROWS(i8, int8_t, uint8_t, INT_DIV(uint8_t, x, y))
DEFINE_INT_ROWS(u8, uint8_t, uint8_t, UINT_DIV(x, y))
DEFINE_INT_ROWS(i32, int32_t, uint32_t, INT_DIV(uint32_t, x, y))
DEFINE_INT_ROWS(i64, int64_t, uint64_t, INT_DIV(uint64_t, x, y))

DEFINE_ROW(add_f32, float, float, x + y)
DEFINE_ROW(sub_f32, float, float, x - y)
DEFINE_ROW(mul_f32, float, float, x * y)
DEFINE_ROW(div_f32, float, float, x / y)
/* Max and Min propagate NaN from either operand, as ONNX does. */
DEFINE_ROW(max_f32, float, float, isnan(x) || x > y ? x : y)
DEFINE_ROW(min_f32, float, float, isnan(x) || x < y ? x : y)
DEFINE_ROW(pow_f32, float, float, powf(x, y))
DEFINE_ROW(prelu_f32, float, float, x < 0.0f ? x * y : x)
DEFINE_ROW(equal_f32, float, uint8_t, x == y)
DEFINE_ROW(less_f32, float, uint8_t, x < y)
DEFINE_ROW(greater_f32, float, uint8_t, x > y)
DEFINE_ROW(equal_bool, uint8_t, uint8_t, (x != 0) == (y != 0))

/* Pow with an integer result: the power in double precision, truncated toward zero and
 * saturated to the result type (NaN gives 0). */
static int64_t int_power(double x, double y, double lo, double hi)
{
    double r = pow(x, y);
    if (isnan(r))
        return 0;
    if (r <= lo)
        return (int64_t)lo;
    if (r >= hi)
        return r >= 9223372036854775807.0 ? INT64_MAX : (int64_t)hi;
    return (int64_t)r;
}

#define I32_POWER(x, y) int_power((double)(x), (double)(y), -2147483648.0, 2147483647.0)
#define I64_POWER(x, y) int_power((double)(x), (double)(y), -9223372036854775808.0,           \
                                  9223372036854775807.0)

DEFINE_MIXED_ROW(pow_f32_i32, float, int32_t, float, powf(x, (float)y))
DEFINE_MIXED_ROW(pow_f32_i64, float, int64_t, float, powf(x, (float)y))
DEFINE_MIXED_ROW(pow_i32_f32, int32_t, float, int32_t, I32_POWER(x, y))
DEFINE_MIXED_ROW(pow_i32_i32, int32_t, int32_t, int32_t, I32_POWER(x, y))
DEFINE_MIXED_ROW(pow_i32_i64, int32_t, int64_t, int32_t, I32_POWER(x, y))
DEFINE_MIXED_ROW(pow_i64_f32, int64_t, float, int64_t, I64_POWER(x, y))
DEFINE_MIXED_ROW(pow_i64_i32, int64_t, int32_t, int64_t, I64_POWER(x, y))
DEFINE_MIXED_ROW(pow_i64_i64, int64_t, int64_t, int64_t, I64_POWER(x, y))

static const fq_binary_row_fn pow_table[FQ_DTYPE_COUNT][FQ_DTYPE_COUNT] = {
    [FQ_DTYPE_F32] = {[FQ_DTYPE_F32] = pow_f32, [FQ_DTYPE_I32] = pow_f32_i32,
                      [FQ_DTYPE_I64] = pow_f32_i64},
    [FQ_DTYPE_I32] = {[FQ_DTYPE_F32] = pow_i32_f32, [FQ_DTYPE_I32] = pow_i32_i32,
                      [FQ_DTYPE_I64] = pow_i32_i64},
    [FQ_DTYPE_I64] = {[FQ_DTYPE_F32] = pow_i64_f32, [FQ_DTYPE_I32] = pow_i64_i32,
                      [FQ_DTYPE_I64] = pow_i64_i64},
};

fq_binary_row_fn fq_pow_row_ref(fq_dtype base, fq_dtype exponent)
{
    if ((unsigned)base >= FQ_DTYPE_COUNT || (unsigned)exponent >= FQ_DTYPE_COUNT)
        return NULL;
    return pow_table[base][exponent];
}

#define INT_TABLE_ROW(op)                                                                       \
    {[FQ_DTYPE_I8] = op##_i8, [FQ_DTYPE_U8] = op##_u8, [FQ_DTYPE_I32] = op##_i32,                \
     [FQ_DTYPE_I64] = op##_i64}
#define NUMERIC_TABLE_ROW(op)                                                                   \
    {[FQ_DTYPE_F32] = op##_f32, [FQ_DTYPE_I8] = op##_i8, [FQ_DTYPE_U8] = op##_u8,                \
     [FQ_DTYPE_I32] = op##_i32, [FQ_DTYPE_I64] = op##_i64}

static const fq_binary_row_fn row_table[FQ_BINARY_OP_COUNT][FQ_DTYPE_COUNT] = {
    [FQ_BINARY_ADD] = NUMERIC_TABLE_ROW(add),
    [FQ_BINARY_SUB] = NUMERIC_TABLE_ROW(sub),
    [FQ_BINARY_MUL] = NUMERIC_TABLE_ROW(mul),
    [FQ_BINARY_DIV] = NUMERIC_TABLE_ROW(div),
    [FQ_BINARY_MAX] = NUMERIC_TABLE_ROW(max),
    [FQ_BINARY_MIN] = NUMERIC_TABLE_ROW(min),
    [FQ_BINARY_POW] = {[FQ_DTYPE_F32] = pow_f32},
    [FQ_BINARY_PRELU] = {[FQ_DTYPE_F32] = prelu_f32},
    [FQ_BINARY_EQUAL] = {[FQ_DTYPE_F32] = equal_f32, [FQ_DTYPE_I8] = equal_i8,
                         [FQ_DTYPE_U8] = equal_u8, [FQ_DTYPE_I32] = equal_i32,
                         [FQ_DTYPE_I64] = equal_i64, [FQ_DTYPE_BOOL] = equal_bool},
    [FQ_BINARY_LESS] = NUMERIC_TABLE_ROW(less),
    [FQ_BINARY_GREATER] = NUMERIC_TABLE_ROW(greater),
};

fq_binary_row_fn fq_binary_row_ref(fq_binary_op op, fq_dtype dtype)
{
    if ((unsigned)op >= FQ_BINARY_OP_COUNT || (unsigned)dtype >= FQ_DTYPE_COUNT)
        return NULL;
    return row_table[op][dtype];
}

int fq_binary_op_is_comparison(fq_binary_op op)
{
    return op == FQ_BINARY_EQUAL || op == FQ_BINARY_LESS || op == FQ_BINARY_GREATER;
}

void fq_binary_ref(const fq_broadcast_plan *plan, fq_binary_row_fn row, const void *a,
                   const void *b, void *out, size_t a_elem, size_t b_elem, size_t out_elem)
{
    const unsigned char *pa = a;
    const unsigned char *pb = b;
    unsigned char *po = out;
    int64_t a_step = fq_broadcast_row_step(plan, 0);
    int64_t b_step = fq_broadcast_row_step(plan, 1);
    for (int64_t r = 0; r < plan->rows; r++) {
        int64_t offsets[2];
        fq_broadcast_row_offsets(plan, r, offsets);
        row(pa + (size_t)offsets[0] * a_elem, a_step, pb + (size_t)offsets[1] * b_elem, b_step,
            po + (size_t)(r * plan->row_len) * out_elem, plan->row_len);
    }
}
