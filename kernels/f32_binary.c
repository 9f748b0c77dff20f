/* fp32 Add, Sub and Mul rows (see f32_binary.h). */
#include "f32_binary.h"

/* One loop per operation and pair of steps; `restrict` is left out because out may be a or b
 * (in place), which these loops allow: each element is read before it is written. */
#define DEFINE_ROWS(name, expr)                                                                 \
    static void name##_rows(const float *a, int64_t a_step, const float *b, int64_t b_step,    \
                            float *out, int64_t n)                                              \
    {                                                                                           \
        if (a_step == 1 && b_step == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                                   \
                float x = a[i], y = b[i];                                                       \
                out[i] = expr;                                                                  \
            }                                                                                   \
        } else if (a_step == 1) {                                                               \
            float y = b[0];                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                   \
                float x = a[i];                                                                 \
                out[i] = expr;                                                                  \
            }                                                                                   \
        } else if (b_step == 1) {                                                               \
            float x = a[0];                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                   \
                float y = b[i];                                                                 \
                out[i] = expr;                                                                  \
            }                                                                                   \
        } else {                                                                                \
            float x = a[0], y = b[0];                                                           \
            for (int64_t i = 0; i < n; i++)                                                     \
                out[i] = expr;                                                                  \
        }                                                                                       \
    }

DEFINE_ROWS(add, x + y)
DEFINE_ROWS(sub, x - y)
DEFINE_ROWS(mul, x * y)

void fq_f32_binary_row(fq_f32_binary_kind kind, const float *a, int64_t a_step, const float *b,
                       int64_t b_step, float *out, int64_t n)
{
    switch (kind) {
    case FQ_F32_BINARY_ADD:
        add_rows(a, a_step, b, b_step, out, n);
        return;
    case FQ_F32_BINARY_SUB:
        sub_rows(a, a_step, b, b_step, out, n);
        return;
    case FQ_F32_BINARY_MUL:
        mul_rows(a, a_step, b, b_step, out, n);
        return;
    }
}
