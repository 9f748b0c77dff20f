/* Pad, Softmax, LogSoftmax and BatchNormalization on small hand-computed cases. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_harness.h"

static void pad_1d(fq_harness *h, const char *mode, const float *x, int64_t n, int64_t begin,
                   int64_t end)
{
    fq_harness_init(h, "Pad", 13);
    fq_harness_input(h, FQ_DTYPE_F32, 1, (int64_t[]){n}, x, false);
    fq_harness_input(h, FQ_DTYPE_I64, 1, (int64_t[]){2}, (int64_t[]){begin, end}, true);
    fq_harness_attr_string(h, "mode", mode);
}

static void expect_1d(fq_harness *h, int64_t n, const float *expected)
{
    assert_int_equal(fq_harness_run(h), FQ_OK);
    fq_harness_expect_f32(h, 0, 1, (int64_t[]){n}, expected, 1e-6f);
    fq_harness_free(h);
}

static void test_pad_constant_2d_with_value_input(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Pad", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4}, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, (int64_t[]){4}, (int64_t[]){1, 0, 0, 1}, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, (float[]){9}, true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float expected[9] = {9, 9, 9, 1, 2, 9, 3, 4, 9};
    fq_harness_expect_f32(&h, 0, 2, (int64_t[]){3, 3}, expected, 0);
    fq_harness_free(&h);
}

static void test_pad_reflect_mirrors_without_repeating_edge(void **state)
{
    (void)state;
    fq_harness h;
    pad_1d(&h, "reflect", (float[]){1, 2, 3}, 3, 2, 2);
    expect_1d(&h, 7, (float[]){3, 2, 1, 2, 3, 2, 1});
}

static void test_pad_edge_repeats_edge(void **state)
{
    (void)state;
    fq_harness h;
    pad_1d(&h, "edge", (float[]){1, 2, 3}, 3, 2, 1);
    expect_1d(&h, 6, (float[]){1, 1, 1, 2, 3, 3});
}

static void test_pad_negative_pads_crop(void **state)
{
    (void)state;
    fq_harness h;
    pad_1d(&h, "constant", (float[]){1, 2, 3, 4}, 4, -1, 1);
    expect_1d(&h, 4, (float[]){2, 3, 4, 0});
}

static void test_pad_opset2_attributes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Pad", 2);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1, 2}, false);
    fq_harness_attr_ints(&h, "pads", 2, (int64_t[]){1, 2});
    fq_harness_attr_float(&h, "value", 5);
    expect_1d(&h, 5, (float[]){5, 1, 2, 5, 5});
}

static void test_pad_constant_on_i64(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Pad", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, (int64_t[]){2}, (int64_t[]){1, 2}, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, (int64_t[]){2}, (int64_t[]){1, 1}, true);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, (int64_t[]){7}, true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, (int64_t[]){4}, (int64_t[]){7, 1, 2, 7});
    fq_harness_free(&h);
}

static void test_pad_refuses_wrap_mode(void **state)
{
    (void)state;
    fq_harness h;
    pad_1d(&h, "wrap", (float[]){1, 2, 3}, 3, 1, 1);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "wrap"));
    fq_harness_free(&h);
}

static void softmax_ref(const float *x, int n, int stride, float *y)
{
    double max = x[0], sum = 0;
    for (int i = 1; i < n; i++)
        max = x[i * stride] > max ? x[i * stride] : max;
    for (int i = 0; i < n; i++)
        sum += exp(x[i * stride] - max);
    for (int i = 0; i < n; i++)
        y[i * stride] = (float)(exp(x[i * stride] - max) / sum);
}

static const float cube[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static void run_softmax(fq_harness *h, const char *op, int opset, int64_t axis, bool set_axis)
{
    fq_harness_init(h, op, opset);
    fq_harness_input(h, FQ_DTYPE_F32, 3, (int64_t[]){2, 2, 2}, cube, false);
    if (set_axis)
        fq_harness_attr_int(h, "axis", axis);
    assert_int_equal(fq_harness_run(h), FQ_OK);
}

static void test_softmax_before_13_coerces_to_2d_at_default_axis_1(void **state)
{
    (void)state;
    float expected[8];
    softmax_ref(cube, 4, 1, expected);
    softmax_ref(cube + 4, 4, 1, expected + 4);
    fq_harness h;
    run_softmax(&h, "Softmax", 11, 0, false);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){2, 2, 2}, expected, 1e-6f);
    fq_harness_free(&h);
}

static void test_softmax_from_13_normalizes_one_axis(void **state)
{
    (void)state;
    float expected[8];
    for (int n = 0; n < 2; n++)
        for (int k = 0; k < 2; k++)
            softmax_ref(cube + n * 4 + k, 2, 2, expected + n * 4 + k);
    fq_harness h;
    run_softmax(&h, "Softmax", 13, 1, true);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){2, 2, 2}, expected, 1e-6f);
    fq_harness_free(&h);
}

static void test_softmax_from_13_default_axis_is_last(void **state)
{
    (void)state;
    float expected[8];
    for (int i = 0; i < 4; i++)
        softmax_ref(cube + 2 * i, 2, 1, expected + 2 * i);
    fq_harness h;
    run_softmax(&h, "Softmax", 13, 0, false);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){2, 2, 2}, expected, 1e-6f);
    fq_harness_free(&h);
}

static void test_softmax_large_inputs_stay_finite(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Softmax", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1000, 1001}, false);
    expect_1d(&h, 2, (float[]){0.26894142f, 0.73105858f});
}

static void test_softmax_rejects_axis_out_of_range(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Softmax", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1, 2}, false);
    fq_harness_attr_int(&h, "axis", 1);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_log_softmax_subtracts_log_sum(void **state)
{
    (void)state;
    double log_sum = log(exp(1.0) + exp(2.0) + exp(3.0));
    float expected[3] = {(float)(1 - log_sum), (float)(2 - log_sum), (float)(3 - log_sum)};
    fq_harness h;
    fq_harness_init(&h, "LogSoftmax", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){3}, (float[]){1, 2, 3}, false);
    expect_1d(&h, 3, expected);
}

static void batchnorm_inputs(fq_harness *h, int opset)
{
    fq_harness_init(h, "BatchNormalization", opset);
    fq_harness_input(h, FQ_DTYPE_F32, 4, (int64_t[]){1, 2, 1, 2}, (float[]){1, 2, 3, 4}, false);
    fq_harness_input(h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1, 2}, true);
    fq_harness_input(h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){0, 1}, true);
    fq_harness_input(h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1, 2}, true);
    fq_harness_input(h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1, 4}, true);
}

static void test_batchnorm_normalizes_per_channel(void **state)
{
    (void)state;
    fq_harness h;
    batchnorm_inputs(&h, 15);
    fq_harness_attr_float(&h, "epsilon", 0);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* channel 0: (x - 1) / 1 * 1 + 0; channel 1: (x - 2) / 2 * 2 + 1. */
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 2, 1, 2}, (float[]){0, 1, 2, 3}, 1e-6f);
    fq_harness_free(&h);
}

static void test_batchnorm_epsilon_is_added_to_variance(void **state)
{
    (void)state;
    fq_harness h;
    batchnorm_inputs(&h, 9);
    fq_harness_attr_float(&h, "epsilon", 3);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* channel 0: (x - 1) / 2; channel 1: (x - 2) / sqrt(7) * 2 + 1. */
    float s7 = 2.0f / sqrtf(7.0f);
    float expected[4] = {0, 0.5f, 1 + s7, 1 + 2 * s7};
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 2, 1, 2}, expected, 1e-6f);
    fq_harness_free(&h);
}

static void test_batchnorm_refuses_training_mode(void **state)
{
    (void)state;
    fq_harness h;
    batchnorm_inputs(&h, 15);
    fq_harness_attr_int(&h, "training_mode", 1);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "training_mode"));
    fq_harness_free(&h);
}

static void test_batchnorm_refuses_statistics_outputs(void **state)
{
    (void)state;
    fq_harness h;
    batchnorm_inputs(&h, 9);
    fq_harness_outputs(&h, 3);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pad_constant_2d_with_value_input),
        cmocka_unit_test(test_pad_reflect_mirrors_without_repeating_edge),
        cmocka_unit_test(test_pad_edge_repeats_edge),
        cmocka_unit_test(test_pad_negative_pads_crop),
        cmocka_unit_test(test_pad_opset2_attributes),
        cmocka_unit_test(test_pad_constant_on_i64),
        cmocka_unit_test(test_pad_refuses_wrap_mode),
        cmocka_unit_test(test_softmax_before_13_coerces_to_2d_at_default_axis_1),
        cmocka_unit_test(test_softmax_from_13_normalizes_one_axis),
        cmocka_unit_test(test_softmax_from_13_default_axis_is_last),
        cmocka_unit_test(test_softmax_large_inputs_stay_finite),
        cmocka_unit_test(test_softmax_rejects_axis_out_of_range),
        cmocka_unit_test(test_log_softmax_subtracts_log_sum),
        cmocka_unit_test(test_batchnorm_normalizes_per_channel),
        cmocka_unit_test(test_batchnorm_epsilon_is_added_to_variance),
        cmocka_unit_test(test_batchnorm_refuses_training_mode),
        cmocka_unit_test(test_batchnorm_refuses_statistics_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
