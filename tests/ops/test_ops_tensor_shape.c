/* Shape operators: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout, Shape, Expand. */
#include "test_ops_tensor_util.h"

static const float six[6] = {1, 2, 3, 4, 5, 6};

/* ---- Reshape ---- */

static void test_reshape_copies_zero_and_infers_minus_one(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(2, 3, 1), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(0, -1), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), six, 0);
    fq_harness_free(&h);
}

static void test_reshape_accepts_i32_target(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(3), I32S(3, 1, 2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, DIMS(3, 1, 2), six, 0);
    fq_harness_free(&h);
}

static void test_reshape_allowzero_takes_zero_literally(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 14);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(1, 6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(0, -1), true);
    fq_harness_attr_int(&h, "allowzero", 1);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_reshape_allowzero_makes_an_empty_tensor(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 14);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(0, 3), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(3), I64S(3, 0, 5), true);
    fq_harness_attr_int(&h, "allowzero", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_F32, 3, DIMS(3, 0, 5), six);
    fq_harness_free(&h);
}

static void test_reshape_ignores_allowzero_before_opset14(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(1, 6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(0, -1), true);
    fq_harness_attr_int(&h, "allowzero", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(1, 6), six, 0);
    fq_harness_free(&h);
}

static void test_reshape_of_i64_shape_data(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(7, 8), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(2, 1), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 2, DIMS(2, 1), I64S(7, 8));
    fq_harness_free(&h);
}

static void test_reshape_refuses_count_mismatch(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(4, 2), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_reshape_refuses_two_minus_ones(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(-1, -1), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_reshape_refuses_runtime_target(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(6), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    expect_message(&h, "must be constant");
    fq_harness_free(&h);
}

/* The memory plan may give a view op's output the input's buffer: exec must then do nothing
 * harmful. */
static void test_reshape_exec_works_in_place(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(3, 2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);

    const fq_op_info *info = fq_op_get(fq_op_find("Reshape"));
    assert_true(info->is_view);
    float buffer[6] = {1, 2, 3, 4, 5, 6};
    fq_tensor in = {FQ_DTYPE_F32, {.rank = 1, .dims = {6}}, buffer, NULL};
    fq_tensor out = {FQ_DTYPE_F32, {.rank = 2, .dims = {3, 2}}, buffer, NULL};
    fq_exec_ctx ctx = {h.graph, &h.graph->nodes[h.node], 1, &in, 1, &out, NULL, 0, &h.err};
    assert_int_equal(info->exec(&ctx), FQ_OK);
    assert_memory_equal(buffer, six, sizeof(six));
    fq_harness_free(&h);
}

/* ---- Flatten ---- */

static void test_flatten_default_axis_keeps_batch(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Flatten", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(2, 3, 1), six, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), six, 0);
    fq_harness_free(&h);
}

static void test_flatten_axis0_gives_one_row(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Flatten", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_int(&h, "axis", 0);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(1, 6), six, 0);
    fq_harness_free(&h);
}

static void test_flatten_negative_axis(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Flatten", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(1, 2, 3), six, false);
    fq_harness_attr_int(&h, "axis", -1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), six, 0);
    fq_harness_free(&h);
}

static void test_flatten_refuses_axis_beyond_rank(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Flatten", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_int(&h, "axis", 3);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

/* ---- Squeeze and Unsqueeze ---- */

static void test_squeeze_opset11_reads_axes_attribute(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Squeeze", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(1, 2, 1, 3), six, false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(-2));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, DIMS(1, 2, 3), six, 0);
    fq_harness_free(&h);
}

static void test_squeeze_opset13_reads_axes_input(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Squeeze", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(1, 2, 1, 3), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, DIMS(2, 1, 3), six, 0);
    fq_harness_free(&h);
}

static void test_squeeze_opset13_refuses_axes_attribute(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Squeeze", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(1, 6), six, false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(0));
    expect_refusal(&h, FQ_ERR_PARSE);
    fq_harness_free(&h);
}

static void test_squeeze_without_axes_drops_every_size1_dim(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Squeeze", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 3, DIMS(1, 1, 1), I64S(42), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 0, NULL, I64S(42));
    fq_harness_free(&h);
}

static void test_squeeze_refuses_axis_of_size_2(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Squeeze", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(0));
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_unsqueeze_opset11_reads_axes_attribute(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Unsqueeze", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_ints(&h, "axes", 2, I64S(0, 3));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, DIMS(1, 2, 3, 1), six, 0);
    fq_harness_free(&h);
}

static void test_unsqueeze_opset13_unsorted_negative_axes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Unsqueeze", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(-1, 1), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, DIMS(2, 1, 3, 1), six, 0);
    fq_harness_free(&h);
}

static void test_unsqueeze_i64_scalar_to_one_element(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Unsqueeze", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(640), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(1), I64S(640));
    fq_harness_free(&h);
}

static void test_unsqueeze_refuses_repeated_axis(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Unsqueeze", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(0, -3), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_unsqueeze_opset13_refuses_missing_axes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Unsqueeze", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_attr_ints(&h, "axes", 1, I64S(0));
    expect_refusal(&h, FQ_ERR_PARSE);
    fq_harness_free(&h);
}

/* ---- Identity and Dropout ---- */

static void test_identity_copies_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Identity", 16);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(3), U8S(1, 2, 255), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(3), U8S(1, 2, 255));
    fq_harness_free(&h);
}

static void test_dropout_opset7_passes_input_through(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Dropout", 7);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_attr_float(&h, "ratio", 0.3f);
    fq_harness_outputs(&h, 2);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(6), six, 0);
    fq_harness_expect_f32(&h, 1, 1, DIMS(6), F32S(1, 1, 1, 1, 1, 1), 0);
    fq_harness_free(&h);
}

static void test_dropout_opset12_mask_is_all_true(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Dropout", 12);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), six, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.5f), true);
    fq_harness_outputs(&h, 2);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), six, 0);
    expect_output(&h, 1, FQ_DTYPE_BOOL, 1, DIMS(2), U8S(1, 1));
    fq_harness_free(&h);
}

static void test_dropout_refuses_training_mode(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Dropout", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), six, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.5f), true);
    fq_harness_input(&h, FQ_DTYPE_BOOL, 0, NULL, U8S(1), true);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    expect_message(&h, "training");
    fq_harness_free(&h);
}

static void test_dropout_accepts_constant_false_training_mode(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Dropout", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), six, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(&h, FQ_DTYPE_BOOL, 0, NULL, U8S(0), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), six, 0);
    fq_harness_free(&h);
}

static void test_dropout_training_with_zero_ratio_passes_through(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Dropout", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), six, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0.0f), true);
    fq_harness_input(&h, FQ_DTYPE_BOOL, 0, NULL, U8S(1), true);
    fq_harness_outputs(&h, 2);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), six, 0);
    expect_output(&h, 1, FQ_DTYPE_BOOL, 1, DIMS(2), U8S(1, 1));
    fq_harness_free(&h);
}

/* ---- Shape ---- */

static void test_shape_lists_dims_as_i64(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Shape", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(1, 2, 3), six, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(3), I64S(1, 2, 3));
    fq_harness_free(&h);
}

static void test_shape_opset15_start_and_end(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Shape", 15);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(1, 2, 3), six, false);
    fq_harness_attr_int(&h, "start", 1);
    fq_harness_attr_int(&h, "end", -1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(1), I64S(2));
    fq_harness_free(&h);
}

static void test_shape_opset15_clamps_start_and_end(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Shape", 15);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(1, 2, 3), six, false);
    fq_harness_attr_int(&h, "start", -10);
    fq_harness_attr_int(&h, "end", 10);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(3), I64S(1, 2, 3));
    fq_harness_free(&h);
}

static void test_shape_ignores_start_before_opset15(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Shape", 14);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_int(&h, "start", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(2), I64S(2, 3));
    fq_harness_free(&h);
}

/* ---- Expand ---- */

static void test_expand_broadcasts_to_a_larger_shape(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Expand", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 1), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(3), I64S(2, 1, 3), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, DIMS(2, 2, 3),
                          F32S(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2), 0);
    fq_harness_free(&h);
}

static void test_expand_keeps_larger_input_dims(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Expand", 8);
    fq_harness_input(&h, FQ_DTYPE_I64, 2, DIMS(1, 2), I64S(5, 6), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(2, 1), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 2, DIMS(2, 2), I64S(5, 6, 5, 6));
    fq_harness_free(&h);
}

static void test_expand_refuses_incompatible_shape(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Expand", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(3), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_expand_refuses_overflowing_element_count(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Expand", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(INT64_C(1) << 62, 4), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    expect_message(&h, "too many elements");
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape_copies_zero_and_infers_minus_one),
        cmocka_unit_test(test_reshape_accepts_i32_target),
        cmocka_unit_test(test_reshape_allowzero_takes_zero_literally),
        cmocka_unit_test(test_reshape_allowzero_makes_an_empty_tensor),
        cmocka_unit_test(test_reshape_ignores_allowzero_before_opset14),
        cmocka_unit_test(test_reshape_of_i64_shape_data),
        cmocka_unit_test(test_reshape_refuses_count_mismatch),
        cmocka_unit_test(test_reshape_refuses_two_minus_ones),
        cmocka_unit_test(test_reshape_refuses_runtime_target),
        cmocka_unit_test(test_reshape_exec_works_in_place),
        cmocka_unit_test(test_flatten_default_axis_keeps_batch),
        cmocka_unit_test(test_flatten_axis0_gives_one_row),
        cmocka_unit_test(test_flatten_negative_axis),
        cmocka_unit_test(test_flatten_refuses_axis_beyond_rank),
        cmocka_unit_test(test_squeeze_opset11_reads_axes_attribute),
        cmocka_unit_test(test_squeeze_opset13_reads_axes_input),
        cmocka_unit_test(test_squeeze_opset13_refuses_axes_attribute),
        cmocka_unit_test(test_squeeze_without_axes_drops_every_size1_dim),
        cmocka_unit_test(test_squeeze_refuses_axis_of_size_2),
        cmocka_unit_test(test_unsqueeze_opset11_reads_axes_attribute),
        cmocka_unit_test(test_unsqueeze_opset13_unsorted_negative_axes),
        cmocka_unit_test(test_unsqueeze_i64_scalar_to_one_element),
        cmocka_unit_test(test_unsqueeze_refuses_repeated_axis),
        cmocka_unit_test(test_unsqueeze_opset13_refuses_missing_axes),
        cmocka_unit_test(test_identity_copies_u8),
        cmocka_unit_test(test_dropout_opset7_passes_input_through),
        cmocka_unit_test(test_dropout_opset12_mask_is_all_true),
        cmocka_unit_test(test_dropout_refuses_training_mode),
        cmocka_unit_test(test_dropout_accepts_constant_false_training_mode),
        cmocka_unit_test(test_dropout_training_with_zero_ratio_passes_through),
        cmocka_unit_test(test_shape_lists_dims_as_i64),
        cmocka_unit_test(test_shape_opset15_start_and_end),
        cmocka_unit_test(test_shape_opset15_clamps_start_and_end),
        cmocka_unit_test(test_shape_ignores_start_before_opset15),
        cmocka_unit_test(test_expand_broadcasts_to_a_larger_shape),
        cmocka_unit_test(test_expand_keeps_larger_input_dims),
        cmocka_unit_test(test_expand_refuses_incompatible_shape),
        cmocka_unit_test(test_expand_refuses_overflowing_element_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
