/* The vectorized fp32 Add, Sub and Mul rows (kernels/f32_binary.h) against the reference rows
 * (ref/tensor_binary_ref.h), bit for bit, for every pair of steps and lengths around the vector
 * widths, with infinities and NaNs among the inputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_binary.h"
#include "ref/tensor_binary_ref.h"
#include "test_util.h"

enum { MAX_N = 200 };

static float random_value(void)
{
    int pick = fq_test_rand_int(0, 49);
    if (pick == 0)
        return NAN;
    if (pick == 1)
        return -INFINITY;
    return fq_test_rand_float(-1e3f, 1e3f);
}

static bool same_bits_or_nan(float a, float b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof(a)) == 0;
}

static void check_kind(fq_f32_binary_kind kind, fq_binary_op op)
{
    float a[MAX_N], b[MAX_N], got[MAX_N], want[MAX_N];
    fq_binary_row_fn row = fq_binary_row_ref(op, FQ_DTYPE_F32);
    assert_non_null(row);
    for (int round = 0; round < 400; round++) {
        int64_t n = fq_test_rand_int(0, MAX_N);
        int64_t a_step = fq_test_rand_int(0, 1), b_step = fq_test_rand_int(0, 1);
        for (int i = 0; i < MAX_N; i++) {
            a[i] = random_value();
            b[i] = random_value();
        }
        row(a, a_step, b, b_step, want, n);
        fq_f32_binary_row(kind, a, a_step, b, b_step, got, n);
        for (int64_t i = 0; i < n; i++)
            if (!same_bits_or_nan(got[i], want[i]))
                fail_msg("n %lld steps %lld,%lld: output %lld is %a, reference %a",
                         (long long)n, (long long)a_step, (long long)b_step, (long long)i,
                         (double)got[i], (double)want[i]);
    }
}

static void test_add_matches_the_reference_rows(void **state)
{
    (void)state;
    fq_test_seed(71);
    check_kind(FQ_F32_BINARY_ADD, FQ_BINARY_ADD);
}

static void test_sub_matches_the_reference_rows(void **state)
{
    (void)state;
    fq_test_seed(72);
    check_kind(FQ_F32_BINARY_SUB, FQ_BINARY_SUB);
}

static void test_mul_matches_the_reference_rows(void **state)
{
    (void)state;
    fq_test_seed(73);
    check_kind(FQ_F32_BINARY_MUL, FQ_BINARY_MUL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_matches_the_reference_rows),
        cmocka_unit_test(test_sub_matches_the_reference_rows),
        cmocka_unit_test(test_mul_matches_the_reference_rows),
    };
    return cmocka_run_group_tests_name("f32_binary", tests, NULL, NULL);
}
