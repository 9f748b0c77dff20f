/* QuantizeLinear and DequantizeLinear. */
#include "test_ops_tensor_util.h"

static void test_quantize_defaults_to_u8_zero_and_rounds_ties_to_even(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 10);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(5), F32S(0.5f, 1.5f, 2.5f, -3.0f, 1000.0f), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(1.0f), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(5), U8S(0, 2, 2, 0, 255));
    fq_harness_free(&h);
}

static void test_quantize_i8_with_zero_point_saturates(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(4), F32S(-1.0f, 0.25f, 0.75f, 100.0f), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.5f), false);
    fq_harness_input(&h, FQ_DTYPE_I8, 0, NULL, I8S(-10), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* -2 - 10, round(0.5) = 0, round(1.5) = 2, 200 saturates */
    expect_output(&h, 0, FQ_DTYPE_I8, 1, DIMS(4), I8S(-12, -10, -8, 127));
    fq_harness_free(&h);
}

static void test_quantize_per_axis_from_opset13(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(1, 2, 2), F32S(1, 2, 1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1.0f, 0.5f), false);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(10, 20), false);
    fq_harness_attr_int(&h, "axis", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 3, DIMS(1, 2, 2), U8S(11, 12, 22, 24));
    fq_harness_free(&h);
}

static void test_quantize_per_axis_defaults_to_axis1(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(1, 1, 2, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1.0f, 0.25f), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(2, 2), U8S(1, 4, 2, 8));
    fq_harness_free(&h);
}

static void test_quantize_per_axis_refused_before_opset13(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 10);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(1, 2, 1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1.0f, 0.5f), false);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_quantize_refuses_scale_of_wrong_length(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1.0f, 0.5f), false);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_quantize_refuses_i32_zero_point(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(1.0f), false);
    fq_harness_input(&h, FQ_DTYPE_I32, 0, NULL, I32S(0), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_dequantize_u8_per_tensor(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "DequantizeLinear", 10);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(3), U8S(0, 128, 255), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.5f), false);
    fq_harness_input(&h, FQ_DTYPE_U8, 0, NULL, U8S(128), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(-64, 0, 63.5f), 0);
    fq_harness_free(&h);
}

static void test_dequantize_i8_per_axis(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "DequantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_I8, 2, DIMS(2, 2), I8S(-128, 127, -128, 127), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1.0f, 0.5f), false);
    fq_harness_input(&h, FQ_DTYPE_I8, 1, DIMS(2), I8S(0, -1), false);
    fq_harness_attr_int(&h, "axis", -1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 2), F32S(-128, 64, -128, 64), 0);
    fq_harness_free(&h);
}

static void test_dequantize_i32_without_zero_point(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "DequantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(2), I32S(-1000, 3), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.25f), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(-250, 0.75f), 0);
    fq_harness_free(&h);
}

static void test_dequantize_refuses_zero_point_of_other_dtype(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "DequantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(1), U8S(1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.25f), false);
    fq_harness_input(&h, FQ_DTYPE_I8, 0, NULL, I8S(0), false);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_dequantize_refuses_float_input(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "DequantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.25f), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_defaults_to_u8_zero_and_rounds_ties_to_even),
        cmocka_unit_test(test_quantize_i8_with_zero_point_saturates),
        cmocka_unit_test(test_quantize_per_axis_from_opset13),
        cmocka_unit_test(test_quantize_per_axis_defaults_to_axis1),
        cmocka_unit_test(test_quantize_per_axis_refused_before_opset13),
        cmocka_unit_test(test_quantize_refuses_scale_of_wrong_length),
        cmocka_unit_test(test_quantize_refuses_i32_zero_point),
        cmocka_unit_test(test_dequantize_u8_per_tensor),
        cmocka_unit_test(test_dequantize_i8_per_axis),
        cmocka_unit_test(test_dequantize_i32_without_zero_point),
        cmocka_unit_test(test_dequantize_refuses_zero_point_of_other_dtype),
        cmocka_unit_test(test_dequantize_refuses_float_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
