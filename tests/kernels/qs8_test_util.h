/* Shared pieces of the qs8 kernel tests: random quantized operands, one cmocka test per kernel
 * (named after it), and the skip of kernels whose instruction set this CPU lacks. */
#ifndef FQ_TESTS_KERNELS_QS8_TEST_UTIL_H
#define FQ_TESTS_KERNELS_QS8_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "qs8_gemm.h"
#include "test_util.h"

enum { QS8_MAX_TESTS = 128, QS8_TEST_NAME = 112 };

/* A growing list of tests whose names are built at run time. */
typedef struct qs8_test_list {
    struct CMUnitTest tests[QS8_MAX_TESTS];
    char names[QS8_MAX_TESTS][QS8_TEST_NAME];
    size_t count;
} qs8_test_list;

static inline void qs8_test_add(qs8_test_list *list, const char *behaviour, const char *kernel,
                                CMUnitTestFunction fn, void *state)
{
    if (list->count == QS8_MAX_TESTS) {
        fprintf(stderr, "qs8 tests: more than %d tests\n", QS8_MAX_TESTS);
        exit(1);
    }
    char *name = list->names[list->count];
    if (kernel != NULL)
        snprintf(name, QS8_TEST_NAME, "%s__%s", behaviour, kernel);
    else
        snprintf(name, QS8_TEST_NAME, "%s", behaviour);
    list->tests[list->count++] = (struct CMUnitTest){name, fn, NULL, NULL, state};
}

static inline int qs8_test_run(const char *group, qs8_test_list *list)
{
    return _cmocka_run_group_tests(group, list->tests, list->count, NULL, NULL);
}

/* Skips the current test, saying why, when the CPU lacks isa. */
static inline void qs8_require_isa(fq_isa isa, const char *kernel)
{
    if (!fq_isa_supported(isa)) {
        printf("skipping %s: this CPU lacks %s\n", kernel, fq_isa_name(isa));
        skip();
    }
}

static inline void *qs8_alloc(size_t size)
{
    void *p = fq_malloc_aligned(size > 0 ? size : 1);
    assert_non_null(p);
    return p;
}

static inline void qs8_fill_u8(uint8_t *x, size_t n, int lo, int hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (uint8_t)fq_test_rand_int(lo, hi);
}

static inline void qs8_fill_i8(int8_t *x, size_t n, int lo, int hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (int8_t)fq_test_rand_int(lo, hi);
}

/* Multipliers that bring accumulators of depth k near the u8 range, varied per channel. */
static inline void qs8_fill_multipliers(float *m, size_t n, size_t k)
{
    for (size_t j = 0; j < n; j++)
        m[j] = fq_test_rand_float(0.2f, 4.0f) / (float)(k * 64 + 1);
}

/* A random output quantization: zero point and a clamp that may or may not bite. */
static inline fq_qs8_requant_params qs8_random_requant(void)
{
    fq_qs8_requant_params p;
    int zp = fq_test_rand_int(0, 255);
    int lo = fq_test_rand_int(0, 3) == 0 ? fq_test_rand_int(0, zp) : 0;
    int hi = fq_test_rand_int(0, 3) == 0 ? fq_test_rand_int(lo, 255) : 255;
    assert_int_equal(fq_qs8_requant_params_init(zp, lo, hi, &p, NULL), FQ_OK);
    return p;
}

#endif
