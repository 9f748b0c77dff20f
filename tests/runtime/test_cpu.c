/* CPU features and ISA caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/cpu.h"

static void test_isa_names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < FQ_ISA_COUNT; i++) {
        fq_isa parsed;
        assert_int_equal(fq_isa_parse(fq_isa_name((fq_isa)i), &parsed, NULL), FQ_OK);
        assert_int_equal(parsed, i);
    }
    fq_isa isa;
    assert_int_equal(fq_isa_parse("auto", &isa, NULL), FQ_OK);
    assert_int_equal(isa, FQ_ISA_AUTO);
}

static void test_unknown_isa_lists_the_valid_names(void **state)
{
    (void)state;
    fq_isa isa;
    fq_error err;
    assert_int_equal(fq_isa_parse("avx1024", &isa, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "avx1024"));
    assert_non_null(strstr(err.message, "avx512vnni"));
}

static void test_scalar_is_always_allowed(void **state)
{
    (void)state;
    assert_true(fq_isa_supported(FQ_ISA_SCALAR));
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++)
        assert_true(fq_isa_allowed(FQ_ISA_SCALAR, (fq_isa)cap));
}

static void test_a_cap_never_allows_a_higher_level_or_a_missing_feature(void **state)
{
    (void)state;
    for (int isa = 1; isa < FQ_ISA_COUNT; isa++) {
        for (int cap = 0; cap <= FQ_ISA_AUTO; cap++) {
            bool allowed = fq_isa_allowed((fq_isa)isa, (fq_isa)cap);
            if (!fq_isa_supported((fq_isa)isa))
                assert_false(allowed);
            if (cap == FQ_ISA_SCALAR)
                assert_false(allowed);
            if (cap != FQ_ISA_AUTO && isa > cap)
                assert_false(allowed);
        }
    }
}

static void test_best_isa_is_supported_and_allowed_under_auto(void **state)
{
    (void)state;
    fq_isa best = fq_isa_best();
    assert_true(fq_isa_supported(best));
    assert_true(fq_isa_allowed(best, FQ_ISA_AUTO));
    assert_true(fq_isa_allowed(best, best));
}

static void test_architectures_do_not_mix(void **state)
{
    (void)state;
#if defined(__x86_64__)
    assert_false(fq_isa_supported(FQ_ISA_NEON));
    assert_false(fq_isa_allowed(FQ_ISA_SSE41, FQ_ISA_NEONFP16));
#elif defined(__aarch64__)
    assert_false(fq_isa_supported(FQ_ISA_SSE41));
    assert_true(fq_isa_supported(FQ_ISA_NEON));
#endif
}

static void test_fq_isa_environment_sets_the_cap(void **state)
{
    (void)state;
    setenv("FQ_ISA", "sse41", 1);
    assert_int_equal(fq_isa_resolve_cap(FQ_ISA_AUTO), FQ_ISA_SSE41);
    assert_int_equal(fq_isa_resolve_cap(FQ_ISA_AVX2), FQ_ISA_AVX2);
    setenv("FQ_ISA", "nonsense", 1);
    assert_int_equal(fq_isa_resolve_cap(FQ_ISA_AUTO), FQ_ISA_AUTO);
    unsetenv("FQ_ISA");
    assert_int_equal(fq_isa_resolve_cap(FQ_ISA_AUTO), FQ_ISA_AUTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_names_round_trip),
        cmocka_unit_test(test_unknown_isa_lists_the_valid_names),
        cmocka_unit_test(test_scalar_is_always_allowed),
        cmocka_unit_test(test_a_cap_never_allows_a_higher_level_or_a_missing_feature),
        cmocka_unit_test(test_best_isa_is_supported_and_allowed_under_auto),
        cmocka_unit_test(test_architectures_do_not_mix),
        cmocka_unit_test(test_fq_isa_environment_sets_the_cap),
    };
    return cmocka_run_group_tests_name("runtime_cpu", tests, NULL, NULL);
}
