/* The converter's fp16 range check (fq_f32_exceeds_f16_fn in kernels/f16_gemm.h), every variant. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "f16_gemm.h"
#include "ref/f16_gemm_ref.h"

enum { LENGTH = 203 };

typedef struct range_check {
    const char *name;
    fq_isa isa;
    fq_f32_exceeds_f16_fn fn;
} range_check;

static const range_check checks[] = {
    {"scalar", FQ_ISA_SCALAR, fq_f32_exceeds_f16__scalar},
#if defined(FQ_HAVE_ISA_AVX2)
    {"avx2", FQ_ISA_AVX2, fq_f32_exceeds_f16__avx2},
#endif
#if defined(FQ_HAVE_ISA_AVX512)
    {"avx512", FQ_ISA_AVX512, fq_f32_exceeds_f16__avx512},
#endif
};

static const size_t check_count = sizeof(checks) / sizeof(checks[0]);

static bool runs_here(const range_check *c)
{
    if (fq_isa_supported(c->isa))
        return true;
    printf("[  SKIPPED ] f32_exceeds_f16__%s: this CPU has no %s\n", c->name,
           fq_isa_name(c->isa));
    return false;
}

static void fill(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (i % 2 ? -1.0f : 1.0f) * (float)i * 300.0f; /* up to 60600 */
}

/* One value planted at every position in turn, so the vector body and the tail both see it. */
static void expect_at_every_position(float value, bool expected)
{
    float x[LENGTH];
    for (size_t c = 0; c < check_count; c++) {
        if (!runs_here(&checks[c]))
            continue;
        for (size_t n = 1; n <= LENGTH; n += 13) {
            for (size_t at = 0; at < n; at++) {
                fill(x, n);
                x[at] = value;
                if (checks[c].fn(x, n) != expected)
                    fail_msg("%s: %g at %zu of %zu", checks[c].name, value, at, n);
            }
        }
    }
}

static void test_f16_range_accepts_the_largest_finite_half(void **state)
{
    (void)state;
    expect_at_every_position(65504.0f, false);
    expect_at_every_position(-65504.0f, false);
}

static void test_f16_range_reports_the_next_float_above_65504(void **state)
{
    (void)state;
    expect_at_every_position(nextafterf(65504.0f, INFINITY), true);
    expect_at_every_position(-1e9f, true);
}

static void test_f16_range_reports_infinity(void **state)
{
    (void)state;
    expect_at_every_position(-INFINITY, true);
}

static void test_f16_range_does_not_report_nan(void **state)
{
    (void)state;
    expect_at_every_position(NAN, false);
}

static void test_f16_range_of_nothing_is_in_range(void **state)
{
    (void)state;
    float x = 1e9f;
    for (size_t c = 0; c < check_count; c++)
        if (runs_here(&checks[c]))
            assert_false(checks[c].fn(&x, 0));
}

static void test_f16_range_select_honours_the_cap(void **state)
{
    (void)state;
    assert_ptr_equal(fq_f32_exceeds_f16_select(FQ_ISA_SCALAR), fq_f32_exceeds_f16__scalar);
    assert_non_null(fq_f32_exceeds_f16_select(FQ_ISA_AUTO));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_range_accepts_the_largest_finite_half),
        cmocka_unit_test(test_f16_range_reports_the_next_float_above_65504),
        cmocka_unit_test(test_f16_range_reports_infinity),
        cmocka_unit_test(test_f16_range_does_not_report_nan),
        cmocka_unit_test(test_f16_range_of_nothing_is_in_range),
        cmocka_unit_test(test_f16_range_select_honours_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
