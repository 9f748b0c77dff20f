/* Helpers shared by the tests of the elementwise, shape and data-movement operators. */
#ifndef FQ_TESTS_TEST_OPS_TENSOR_UTIL_H
#define FQ_TESTS_TEST_OPS_TENSOR_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_harness.h"

/* An inline dims (or data) array: DIMS(2, 3). */
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define F32S(...) ((const float[]){__VA_ARGS__})
#define I64S(...) ((const int64_t[]){__VA_ARGS__})
#define I32S(...) ((const int32_t[]){__VA_ARGS__})
#define U8S(...) ((const uint8_t[]){__VA_ARGS__})
#define I8S(...) ((const int8_t[]){__VA_ARGS__})

/* Asserts that output i has dtype, shape and exactly the bytes of expected. */
static inline void expect_output(const fq_harness *h, int i, fq_dtype dtype, int rank,
                                 const int64_t *dims, const void *expected)
{
    const fq_tensor *t = &h->outputs[i];
    assert_int_equal(t->dtype, dtype);
    assert_int_equal(t->shape.rank, rank);
    for (int d = 0; d < rank; d++)
        assert_int_equal(t->shape.dims[d], dims[d]);
    int64_t n = fq_shape_numel(&t->shape);
    size_t elem = fq_dtype_size(dtype);
    for (int64_t k = 0; k < n; k++)
        if (memcmp((const char *)t->data + k * elem, (const char *)expected + k * elem, elem))
            fail_msg("output %d element %lld differs", i, (long long)k);
}

/* Asserts that the harness run failed with status and that the message names the node. */
static inline void expect_refusal(fq_harness *h, fq_status status)
{
    assert_int_equal(fq_harness_run(h), status);
    if (strstr(h->err.message, "'node'") == NULL)
        fail_msg("message does not name the node: %s", h->err.message);
}

/* Asserts that the message contains text. */
static inline void expect_message(const fq_harness *h, const char *text)
{
    if (strstr(h->err.message, text) == NULL)
        fail_msg("message lacks \"%s\": %s", text, h->err.message);
}

#endif
