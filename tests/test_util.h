/* Helpers for the cmocka tests. */
#ifndef FQ_TESTS_TEST_UTIL_H
#define FQ_TESTS_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The shared folder (models, golden, images): $FQ_SHARED, else the build's default
 * (FQ_SHARED_DEFAULT, ../shared beside the source tree). Returns NULL if it does not exist. */
const char *fq_test_shared_dir(void);

/* For tests that need ../shared: returns the folder, or, when it is missing, prints why and
 * skips the test (cmocka skip()). With FQ_REQUIRE_SHARED=1 in the environment (CI), a missing
 * folder fails the test instead. */
const char *fq_test_require_shared(void);

/* Joins a and b with '/' into a static buffer (one per call site is not kept: copy it). */
const char *fq_test_path(const char *a, const char *b);

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
void *fq_test_read_file(const char *path, size_t *size);

/* One temporary directory per test program: made under $TMPDIR (or /tmp) as PREFIX_XXXXXX,
 * removed with everything in it. Both return 0 on success, for use as cmocka group setup and
 * teardown. */
int fq_test_tmp_dir_create(const char *prefix);
int fq_test_tmp_dir_remove(void);
/* The directory, and NAME inside it (a static buffer). */
const char *fq_test_tmp_dir(void);
const char *fq_test_tmp_path(const char *name);

/* How many random cases a test runs where it would run n: n, or n scaled by the percentage in
 * $FQ_TEST_CASES_PERCENT (at least one case). Emulated stages that run the same kernels
 * natively elsewhere lower it; the native stages run every case. */
int fq_test_cases(int n);

/* Deterministic pseudo-random numbers (xorshift), seeded per test. */
void fq_test_seed(unsigned long long seed);
unsigned long long fq_test_rand(void);
/* Uniform in [lo, hi]. */
int fq_test_rand_int(int lo, int hi);
/* Uniform in [lo, hi). */
float fq_test_rand_float(float lo, float hi);
/* A malloc'ed array of n (at least one) such values in [-1, 1); asserts the allocation. */
float *fq_test_rand_floats(int64_t n);

#endif
