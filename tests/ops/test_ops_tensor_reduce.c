/* ReduceSum, ReduceMean, ReduceMax, ReduceMin. */
#include <math.h>

#include "test_ops_tensor_util.h"

static const float six[6] = {1, 2, 3, 4, 5, 6};

static void test_reduce_sum_axes_attribute_keeps_dims(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceSum", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(1));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 1), F32S(6, 15), 0);
    fq_harness_free(&h);
}

static void test_reduce_sum_opset13_axes_input(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceSum", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_attr_int(&h, "keepdims", 0);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(5, 7, 9), 0);
    fq_harness_free(&h);
}

static void test_reduce_sum_opset13_refuses_axes_attribute(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceSum", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(1));
    expect_refusal(&h, FQ_ERR_PARSE);
    fq_harness_free(&h);
}

static void test_reduce_sum_noop_with_empty_axes_copies(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceSum", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_int(&h, "noop_with_empty_axes", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), six, 0);
    fq_harness_free(&h);
}

static void test_reduce_mean_of_all_axes_without_keepdims(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceMean", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_int(&h, "keepdims", 0);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 0, NULL, F32S(3.5f), 1e-6f);
    fq_harness_free(&h);
}

static void test_reduce_mean_spatial_axes_of_nchw(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceMean", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(1, 2, 1, 3), six, false);
    fq_harness_attr_ints(&h, "axes", 2, I64S(2, 3));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, DIMS(1, 2, 1, 1), F32S(2, 5), 1e-6f);
    fq_harness_free(&h);
}

static void test_reduce_max_negative_axis(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceMax", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), F32S(1, 9, 3, -4, -5, -6), false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(-1));
    fq_harness_attr_int(&h, "keepdims", 0);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(9, -4), 0);
    fq_harness_free(&h);
}

static void test_reduce_min_propagates_nan(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceMin", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(1, NAN, 3, -2), false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(1));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    const float *out = h.outputs[0].data;
    assert_true(isnan(out[0]));
    assert_true(out[1] == -2.0f);
    fq_harness_free(&h);
}

static void test_reduce_refuses_repeated_axis(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ReduceMax", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_ints(&h, "axes", 2, I64S(1, -1));
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce_sum_axes_attribute_keeps_dims),
        cmocka_unit_test(test_reduce_sum_opset13_axes_input),
        cmocka_unit_test(test_reduce_sum_opset13_refuses_axes_attribute),
        cmocka_unit_test(test_reduce_sum_noop_with_empty_axes_copies),
        cmocka_unit_test(test_reduce_mean_of_all_axes_without_keepdims),
        cmocka_unit_test(test_reduce_mean_spatial_axes_of_nchw),
        cmocka_unit_test(test_reduce_max_negative_axis),
        cmocka_unit_test(test_reduce_min_propagates_nan),
        cmocka_unit_test(test_reduce_refuses_repeated_axis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
