/* Constant, ConstantOfShape, Range and Cast. */
#include <math.h>

#include "test_ops_tensor_util.h"

/* Adds a tensor attribute holding a new constant value, as the ONNX reader does. */
static void attr_tensor(fq_harness *h, const char *name, fq_dtype dtype, int rank,
                        const int64_t *dims, const void *data)
{
    fq_shape shape = {.rank = rank};
    for (int d = 0; d < rank; d++)
        shape.dims[d] = dims[d];
    int value;
    assert_int_equal(fq_graph_add_value(h->graph, "attr_tensor", dtype, &shape, &value, &h->err),
                     FQ_OK);
    assert_int_equal(fq_value_set_data(h->graph, value, data, false, &h->err), FQ_OK);
    fq_attr *attr;
    assert_int_equal(fq_node_add_attr(h->graph, h->node, name, FQ_ATTR_TENSOR, &attr, &h->err),
                     FQ_OK);
    attr->tensor = value;
}

/* ---- Constant ---- */

static void test_constant_value_tensor(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 13);
    attr_tensor(&h, "value", FQ_DTYPE_I64, 1, DIMS(2), I64S(-1, 4));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(2), I64S(-1, 4));
    fq_harness_free(&h);
}

static void test_constant_value_float_is_a_scalar(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 13);
    fq_harness_attr_float(&h, "value_float", 2.5f);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 0, NULL, F32S(2.5f), 0);
    fq_harness_free(&h);
}

static void test_constant_value_floats_is_1d(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 12);
    fq_harness_attr_floats(&h, "value_floats", 3, F32S(1, 2, 3));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(1, 2, 3), 0);
    fq_harness_free(&h);
}

static void test_constant_value_int_is_an_i64_scalar(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 13);
    fq_harness_attr_int(&h, "value_int", -7);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 0, NULL, I64S(-7));
    fq_harness_free(&h);
}

static void test_constant_value_ints_is_i64_1d(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 13);
    fq_harness_attr_ints(&h, "value_ints", 2, I64S(1, 3));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(2), I64S(1, 3));
    fq_harness_free(&h);
}

static void test_constant_refuses_value_string(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 13);
    fq_harness_attr_string(&h, "value_string", "hello");
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    expect_message(&h, "value_string");
    fq_harness_free(&h);
}

static void test_constant_refuses_sparse_value(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 13);
    attr_tensor(&h, "sparse_value", FQ_DTYPE_F32, 1, DIMS(1), F32S(1));
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_constant_refuses_no_value(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Constant", 13);
    expect_refusal(&h, FQ_ERR_PARSE);
    fq_harness_free(&h);
}

/* ---- ConstantOfShape ---- */

static void test_constant_of_shape_defaults_to_f32_zeros(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ConstantOfShape", 9);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(2, 2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 2), F32S(0, 0, 0, 0), 0);
    fq_harness_free(&h);
}

static void test_constant_of_shape_fills_with_value(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ConstantOfShape", 9);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(3), true);
    attr_tensor(&h, "value", FQ_DTYPE_I32, 1, DIMS(1), I32S(7));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_I32, 1, DIMS(3), I32S(7, 7, 7));
    fq_harness_free(&h);
}

static void test_constant_of_shape_with_zero_dim_is_empty(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "ConstantOfShape", 9);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(0, 4), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_F32, 2, DIMS(0, 4), F32S(0));
    fq_harness_free(&h);
}

/* ---- Range ---- */

static void test_range_f32(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Range", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(1), true);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(2), true);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.25f), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(4), F32S(1, 1.25f, 1.5f, 1.75f), 0);
    fq_harness_free(&h);
}

static void test_range_i64_negative_delta(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Range", 11);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(10), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(4), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(-3), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(2), I64S(10, 7));
    fq_harness_free(&h);
}

static void test_range_i32_rounds_the_length_up(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Range", 11);
    fq_harness_input(&h, FQ_DTYPE_I32, 0, NULL, I32S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I32, 0, NULL, I32S(7), true);
    fq_harness_input(&h, FQ_DTYPE_I32, 0, NULL, I32S(3), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_I32, 1, DIMS(3), I32S(0, 3, 6));
    fq_harness_free(&h);
}

static void test_range_refuses_runtime_inputs(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Range", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(4), true);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(1), true);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_range_refuses_zero_delta(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Range", 11);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(4), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(0), true);
    expect_refusal(&h, FQ_ERR_INVALID_ARG);
    fq_harness_free(&h);
}

/* ---- Cast ---- */

enum { ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_INT32 = 6, ONNX_INT64 = 7,
       ONNX_BOOL = 9, ONNX_FLOAT16 = 10, ONNX_DOUBLE = 11 };

static void run_cast(fq_harness *h, fq_dtype from, int n, const void *data, int to)
{
    fq_harness_init(h, "Cast", 13);
    fq_harness_input(h, from, 1, DIMS(n), data, false);
    fq_harness_attr_int(h, "to", to);
    assert_int_equal(fq_harness_run(h), FQ_OK);
}

static void test_cast_f32_to_f16_rounds_to_nearest_even(void **state)
{
    (void)state;
    fq_harness h;
    /* 1 + 2^-11 ties down to 1; 1 + 3 * 2^-11 ties up to 1 + 2^-9; 65520 rounds to infinity */
    run_cast(&h, FQ_DTYPE_F32, 6,
             F32S(1.0f, 1.00048828125f, 1.00146484375f, 65504.0f, 65520.0f, -2.0f),
             ONNX_FLOAT16);
    expect_output(&h, 0, FQ_DTYPE_F16, 1, DIMS(6),
                  ((const uint16_t[]){0x3c00, 0x3c00, 0x3c02, 0x7bff, 0x7c00, 0xc000}));
    fq_harness_free(&h);
}

static void test_cast_f32_to_f16_subnormals_and_nan(void **state)
{
    (void)state;
    fq_harness h;
    /* 2^-24 is the smallest subnormal; 2^-25 ties to 0; 1.5 * 2^-24 ties to 2 * 2^-24 */
    run_cast(&h, FQ_DTYPE_F32, 4, F32S(5.9604645e-8f, 2.9802322e-8f, 8.9406967e-8f, NAN),
             ONNX_FLOAT16);
    const uint16_t *out = h.outputs[0].data;
    assert_int_equal(out[0], 0x0001);
    assert_int_equal(out[1], 0x0000);
    assert_int_equal(out[2], 0x0002);
    assert_true((out[3] & 0x7c00) == 0x7c00 && (out[3] & 0x3ff) != 0);
    fq_harness_free(&h);
}

static void test_cast_f16_to_f32(void **state)
{
    (void)state;
    fq_harness h;
    run_cast(&h, FQ_DTYPE_F16, 4, ((const uint16_t[]){0x3c00, 0xc000, 0x0001, 0x7c00}),
             ONNX_FLOAT);
    const float *out = h.outputs[0].data;
    assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == 5.9604645e-8f);
    assert_true(isinf(out[3]) && out[3] > 0);
    fq_harness_free(&h);
}

static void test_cast_f32_to_i32_truncates_toward_zero(void **state)
{
    (void)state;
    fq_harness h;
    run_cast(&h, FQ_DTYPE_F32, 4, F32S(-1.7f, 2.9f, -0.5f, 3e9f), ONNX_INT32);
    expect_output(&h, 0, FQ_DTYPE_I32, 1, DIMS(4), I32S(-1, 2, 0, INT32_MAX));
    fq_harness_free(&h);
}

static void test_cast_f32_to_u8_saturates(void **state)
{
    (void)state;
    fq_harness h;
    run_cast(&h, FQ_DTYPE_F32, 3, F32S(300.0f, -5.0f, 7.9f), ONNX_UINT8);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(3), U8S(255, 0, 7));
    fq_harness_free(&h);
}

static void test_cast_i64_to_i32_and_back(void **state)
{
    (void)state;
    fq_harness h;
    run_cast(&h, FQ_DTYPE_I64, 2, I64S(-5, 640), ONNX_INT32);
    expect_output(&h, 0, FQ_DTYPE_I32, 1, DIMS(2), I32S(-5, 640));
    fq_harness_free(&h);
    run_cast(&h, FQ_DTYPE_I32, 2, I32S(-5, 640), ONNX_INT64);
    fq_harness_expect_i64(&h, 0, 1, DIMS(2), I64S(-5, 640));
    fq_harness_free(&h);
}

static void test_cast_i64_to_f32(void **state)
{
    (void)state;
    fq_harness h;
    run_cast(&h, FQ_DTYPE_I64, 2, I64S(-3, 1 << 20), ONNX_FLOAT);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(-3, 1 << 20), 0);
    fq_harness_free(&h);
}

static void test_cast_to_and_from_bool(void **state)
{
    (void)state;
    fq_harness h;
    run_cast(&h, FQ_DTYPE_F32, 3, F32S(0, -0.5f, 2), ONNX_BOOL);
    expect_output(&h, 0, FQ_DTYPE_BOOL, 1, DIMS(3), U8S(0, 1, 1));
    fq_harness_free(&h);
    run_cast(&h, FQ_DTYPE_BOOL, 2, U8S(1, 0), ONNX_FLOAT);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(1, 0), 0);
    fq_harness_free(&h);
}

static void test_cast_u8_to_i8_wraps(void **state)
{
    (void)state;
    fq_harness h;
    run_cast(&h, FQ_DTYPE_U8, 2, U8S(200, 5), ONNX_INT8);
    expect_output(&h, 0, FQ_DTYPE_I8, 1, DIMS(2), I8S(-56, 5));
    fq_harness_free(&h);
}

static void test_cast_refuses_double(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Cast", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_attr_int(&h, "to", ONNX_DOUBLE);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_value_tensor),
        cmocka_unit_test(test_constant_value_float_is_a_scalar),
        cmocka_unit_test(test_constant_value_floats_is_1d),
        cmocka_unit_test(test_constant_value_int_is_an_i64_scalar),
        cmocka_unit_test(test_constant_value_ints_is_i64_1d),
        cmocka_unit_test(test_constant_refuses_value_string),
        cmocka_unit_test(test_constant_refuses_sparse_value),
        cmocka_unit_test(test_constant_refuses_no_value),
        cmocka_unit_test(test_constant_of_shape_defaults_to_f32_zeros),
        cmocka_unit_test(test_constant_of_shape_fills_with_value),
        cmocka_unit_test(test_constant_of_shape_with_zero_dim_is_empty),
        cmocka_unit_test(test_range_f32),
        cmocka_unit_test(test_range_i64_negative_delta),
        cmocka_unit_test(test_range_i32_rounds_the_length_up),
        cmocka_unit_test(test_range_refuses_runtime_inputs),
        cmocka_unit_test(test_range_refuses_zero_delta),
        cmocka_unit_test(test_cast_f32_to_f16_rounds_to_nearest_even),
        cmocka_unit_test(test_cast_f32_to_f16_subnormals_and_nan),
        cmocka_unit_test(test_cast_f16_to_f32),
        cmocka_unit_test(test_cast_f32_to_i32_truncates_toward_zero),
        cmocka_unit_test(test_cast_f32_to_u8_saturates),
        cmocka_unit_test(test_cast_i64_to_i32_and_back),
        cmocka_unit_test(test_cast_i64_to_f32),
        cmocka_unit_test(test_cast_to_and_from_bool),
        cmocka_unit_test(test_cast_u8_to_i8_wraps),
        cmocka_unit_test(test_cast_refuses_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
