/* Elementwise operators: activations, Clip, PRelu, broadcasting binary ops, variadic ops, Where. */
#include <math.h>
#include <stdlib.h>

#include "test_ops_tensor_util.h"

/* Runs a one-input f32 op at opset 17 on x (n elements, 1-D) and checks y within tol. */
static void check_unary(const char *op, int n, const float *x, const float *y, float tol)
{
    fq_harness h;
    fq_harness_init(&h, op, 17);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(n), x, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(n), y, tol);
    fq_harness_free(&h);
}

static void test_relu_zeroes_negatives(void **state)
{
    (void)state;
    check_unary("Relu", 4, F32S(-2, -0.5f, 0, 3), F32S(0, 0, 0, 3), 0);
}

static void test_relu_accepts_opset6_and_refuses_opset5(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Relu", 6);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(-1), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_free(&h);

    fq_harness_init(&h, "Relu", 5);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(-1), false);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    expect_message(&h, "opset 5");
    fq_harness_free(&h);
}

static void test_add_refuses_opset18(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 18);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    expect_message(&h, "'node'");
    fq_harness_free(&h);
}

static void test_leaky_relu_defaults_alpha_to_0_01(void **state)
{
    (void)state;
    check_unary("LeakyRelu", 3, F32S(-100, 0, 5), F32S(-1, 0, 5), 1e-6f);
}

static void test_leaky_relu_reads_alpha(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "LeakyRelu", 16);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(-2, 2), false);
    fq_harness_attr_float(&h, "alpha", 0.25f);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(-0.5f, 2), 0);
    fq_harness_free(&h);
}

static void test_sigmoid_is_stable_for_large_magnitudes(void **state)
{
    (void)state;
    check_unary("Sigmoid", 5, F32S(-1000, -100, 0, 100, 1000), F32S(0, 3.7200760e-44f, 0.5f, 1, 1),
                1e-7f);
}

static void test_sigmoid_of_one(void **state)
{
    (void)state;
    check_unary("Sigmoid", 2, F32S(1, -1), F32S(0.7310586f, 0.2689414f), 1e-6f);
}

static void test_hard_sigmoid_defaults(void **state)
{
    (void)state;
    check_unary("HardSigmoid", 3, F32S(-5, 1, 5), F32S(0, 0.7f, 1), 1e-6f);
}

static void test_hard_swish_values(void **state)
{
    (void)state;
    check_unary("HardSwish", 3, F32S(-4, 1, 4), F32S(0, 1.0f * (1.0f / 6 + 0.5f), 4), 1e-6f);
}

static void test_elu_default_alpha(void **state)
{
    (void)state;
    check_unary("Elu", 2, F32S(-1, 2), F32S(expf(-1) - 1, 2), 1e-6f);
}

static void test_selu_default_constants(void **state)
{
    (void)state;
    check_unary("Selu", 2, F32S(-1, 2),
                F32S(1.0507010f * 1.6732632f * (expf(-1) - 1), 2 * 1.0507010f), 1e-5f);
}

static void test_softplus_is_stable(void **state)
{
    (void)state;
    check_unary("Softplus", 3, F32S(-100, 0, 100), F32S(3.7200760e-44f, logf(2), 100), 1e-6f);
}

static void test_math_ops_compute_their_functions(void **state)
{
    (void)state;
    check_unary("Neg", 2, F32S(1, -2), F32S(-1, 2), 0);
    check_unary("Abs", 2, F32S(1, -2), F32S(1, 2), 0);
    check_unary("Exp", 2, F32S(0, 1), F32S(1, 2.7182818f), 1e-6f);
    check_unary("Log", 2, F32S(1, 2.7182818f), F32S(0, 1), 1e-6f);
    check_unary("Sqrt", 2, F32S(4, 2), F32S(2, 1.4142135f), 1e-6f);
    check_unary("Tanh", 2, F32S(0, 1), F32S(0, 0.7615942f), 1e-6f);
    check_unary("Floor", 3, F32S(-1.5f, 1.5f, 2), F32S(-2, 1, 2), 0);
    check_unary("Ceil", 3, F32S(-1.5f, 1.5f, 2), F32S(-1, 2, 2), 0);
    check_unary("Reciprocal", 2, F32S(4, -0.5f), F32S(0.25f, -2), 0);
}

/* A tensor of several of the unary ops' tasks (16384 elements each, the last one short) gets
 * each element's own function on 1, 2 and 3 threads. */
static void test_unary_ops_split_over_threads_give_every_element_its_value(void **state)
{
    (void)state;
    enum { N = 3 * 16384 + 77 };
    static const char *const ops[] = {"Relu", "Sigmoid", "Neg", "Exp"};
    float *x = malloc(N * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < N; i++)
        x[i] = (float)((i * 7919) % 2001 - 1000) / 250.0f;
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        fq_harness h;
        fq_harness_init(&h, ops[o], 17);
        fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(N), x, false);
        assert_int_equal(fq_harness_run(&h), FQ_OK);
        const float *y = h.outputs[0].data;
        for (int i = 0; i < N; i += 997) {
            float v = x[i], want = v;
            if (o == 0)
                want = v < 0.0f ? 0.0f : v;
            else if (o == 1)
                want = 1.0f / (1.0f + expf(-v));
            else if (o == 2)
                want = -v;
            else
                want = expf(v);
            assert_true(fabsf(y[i] - want) <= 1e-6f * (1.0f + fabsf(want)));
        }
        for (int threads = 1; threads <= 3; threads++) {
            bool planned;
            char kernel[64];
            float *again = fq_harness_run_prepared(&h, FQ_ISA_AUTO, threads, &planned, kernel,
                                                   sizeof(kernel));
            assert_memory_equal(again, y, N * sizeof(float));
            free(again);
        }
        fq_harness_free(&h);
    }
    free(x);
}

static void test_unary_math_refuses_integer_input(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Sqrt", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(4), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

/* ---- Clip ---- */

static void test_clip_opset6_style_attributes_before_11(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 7);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(3), F32S(-5, 0.5f, 5), false);
    fq_harness_attr_float(&h, "min", -1);
    fq_harness_attr_float(&h, "max", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(-1, 0.5f, 1), 0);
    fq_harness_free(&h);
}

static void test_clip_opset11_reads_bound_inputs(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(3), F32S(-5, 0.5f, 5), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(0), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(6), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(0, 0.5f, 5), 0);
    fq_harness_free(&h);
}

static void test_clip_opset11_with_only_max(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(-50, 50), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(6), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(-50, 6), 0);
    fq_harness_free(&h);
}

static void test_clip_without_bounds_is_identity(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 12);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(-3e38f, 3e38f), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(-3e38f, 3e38f), 0);
    fq_harness_free(&h);
}

static void test_clip_opset11_refuses_bound_attributes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(5), false);
    fq_harness_attr_float(&h, "max", 1);
    expect_refusal(&h, FQ_ERR_PARSE);
    fq_harness_free(&h);
}

static void test_clip_int8_from_opset12(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 12);
    fq_harness_input(&h, FQ_DTYPE_I8, 1, DIMS(3), I8S(-100, 3, 100), false);
    fq_harness_input(&h, FQ_DTYPE_I8, 0, NULL, I8S(-5), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_I8, 1, DIMS(3), I8S(-5, 3, 100));
    fq_harness_free(&h);
}

static void test_clip_int8_refused_before_opset12(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 11);
    fq_harness_input(&h, FQ_DTYPE_I8, 1, DIMS(1), I8S(1), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_clip_refuses_non_scalar_bound(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Clip", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(0, 0), false);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

/* ---- PRelu ---- */

static void test_prelu_per_channel_slope_broadcasts_to_nchw(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "PRelu", 9);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(1, 2, 1, 2), F32S(-1, 1, -2, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(2, 1, 1), F32S(0.5f, 0.25f), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, DIMS(1, 2, 1, 2), F32S(-0.5f, 1, -0.5f, 2), 0);
    fq_harness_free(&h);
}

static void test_prelu_refuses_slope_that_grows_the_output(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "PRelu", 16);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(-1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(0.5f, 0.25f), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

/* ---- binary ops ---- */

static void test_add_equal_shapes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 14);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(1, 2, 3, 4), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(10, 20, 30, 40), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 2), F32S(11, 22, 33, 44), 0);
    fq_harness_free(&h);
}

static void test_add_broadcasts_scalar_on_the_left(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(100), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(1, 3), F32S(1, 2, 3), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(1, 3), F32S(101, 102, 103), 0);
    fq_harness_free(&h);
}

static void test_sub_broadcasts_lower_rank_on_the_right(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Sub", 7);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), F32S(10, 20, 30, 40, 50, 60), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(3), F32S(1, 2, 3), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), F32S(9, 18, 27, 39, 48, 57), 0);
    fq_harness_free(&h);
}

static void test_mul_broadcasts_size1_dims_on_both_sides(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Mul", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(3, 1), F32S(1, 2, 3), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(1, 2), F32S(10, 100), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(3, 2), F32S(10, 100, 20, 200, 30, 300), 0);
    fq_harness_free(&h);
}

static void test_add_per_channel_operand_against_nchw(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(2, 2, 1, 2), F32S(0, 0, 0, 0, 1, 1, 1, 1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(2, 1, 1), F32S(10, 20), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, DIMS(2, 2, 1, 2), F32S(10, 10, 20, 20, 11, 11, 21, 21), 0);
    fq_harness_free(&h);
}

static void test_div_broadcasts_middle_dim(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Div", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(2, 1, 2), F32S(8, 16, 32, 64), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(1, 2, 1), F32S(2, 4), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, DIMS(2, 2, 2), F32S(4, 8, 2, 4, 16, 32, 8, 16), 0);
    fq_harness_free(&h);
}

static void test_sub_of_i64_scalars(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Sub", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(640), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(1000), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 0, NULL, I64S(-360));
    fq_harness_free(&h);
}

static void test_mul_i32(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Mul", 13);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(2), I32S(3, -4), false);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(1), I32S(5), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_I32, 1, DIMS(2), I32S(15, -20));
    fq_harness_free(&h);
}

static void test_div_i64_truncates_toward_zero(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Div", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(4), I64S(7, -7, 7, INT64_MIN), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(4), I64S(2, 2, -2, -1), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(4), I64S(3, -3, -3, INT64_MIN));
    fq_harness_free(&h);
}

static void test_div_i64_by_zero_is_refused(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Div", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(7, 8), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(1, 0), false);
    expect_refusal(&h, FQ_ERR_INVALID_ARG);
    expect_message(&h, "division by zero");
    fq_harness_free(&h);
}

static void test_div_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Div", 14);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(200, 7), false);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(3, 7), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(2), U8S(66, 1));
    fq_harness_free(&h);
}

static void test_add_u8_wraps_around(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 14);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(250, 1), false);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(10, 2), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(2), U8S(4, 3));
    fq_harness_free(&h);
}

static void test_add_refuses_mixed_dtypes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_add_refuses_shapes_that_do_not_broadcast(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(3), F32S(1, 2, 3), false);
    expect_refusal(&h, FQ_ERR_SHAPE);
    expect_message(&h, "2 and 3");
    fq_harness_free(&h);
}

static void test_add_refuses_f16(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Add", 13);
    fq_harness_input(&h, FQ_DTYPE_F16, 1, DIMS(1), (const uint16_t[]){0x3c00}, false);
    fq_harness_input(&h, FQ_DTYPE_F16, 1, DIMS(1), (const uint16_t[]){0x3c00}, false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_pow_f32_broadcasts_exponent(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Pow", 15);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(3), F32S(1, 2, 3), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(2), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(1, 4, 9), 1e-6f);
    fq_harness_free(&h);
}

static void test_pow_f32_base_with_i64_exponent(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Pow", 15);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(3, 0.5f), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(2, -1), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(9, 2), 1e-6f);
    fq_harness_free(&h);
}

static void test_pow_i64_base_keeps_its_dtype(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Pow", 15);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(3), I64S(2, -3, 10), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(3), F32S(10, 3, 0.5f), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(3), I64S(1024, -27, 3));
    fq_harness_free(&h);
}

static void test_pow_refuses_u8_base(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Pow", 15);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(1), U8S(2), false);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(1), U8S(2), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_equal_i64_gives_bool(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Equal", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(3), I64S(1, 2, 3), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(2), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_BOOL, 1, DIMS(3), U8S(0, 1, 0));
    fq_harness_free(&h);
}

static void test_less_and_greater_broadcast(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Less", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 1), F32S(1, 3), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(2, 3), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_BOOL, 2, DIMS(2, 2), U8S(1, 1, 0, 0));
    fq_harness_free(&h);

    fq_harness_init(&h, "Greater", 9);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(2), I32S(1, 3), false);
    fq_harness_input(&h, FQ_DTYPE_I32, 0, NULL, I32S(2), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_BOOL, 1, DIMS(2), U8S(0, 1));
    fq_harness_free(&h);
}

/* ---- variadic ops ---- */

static void test_max_of_three_broadcast_inputs(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Max", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(3), F32S(1, 5, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 1), F32S(3, 0), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, F32S(1.5f), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), F32S(3, 5, 3, 1.5f, 5, 2), 0);
    fq_harness_free(&h);
}

static void test_min_of_i64(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Min", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(4, -9), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(2, 7), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(2), I64S(2, -9));
    fq_harness_free(&h);
}

static void test_sum_of_one_input_copies_it(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Sum", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(4, -9), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(4, -9), 0);
    fq_harness_free(&h);
}

static void test_mean_divides_the_sum(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Mean", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(3, 4), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(5), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(3, 11.0f / 3), 1e-6f);
    fq_harness_free(&h);
}

/* ---- Where ---- */

static void test_where_broadcasts_condition_and_operands(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Where", 16);
    fq_harness_input(&h, FQ_DTYPE_BOOL, 2, DIMS(2, 1), U8S(1, 0), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(-1), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 2, DIMS(2, 2), I64S(1, 2, -1, -1));
    fq_harness_free(&h);
}

static void test_where_refuses_non_bool_condition(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Where", 16);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(1), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_zeroes_negatives),
        cmocka_unit_test(test_relu_accepts_opset6_and_refuses_opset5),
        cmocka_unit_test(test_add_refuses_opset18),
        cmocka_unit_test(test_leaky_relu_defaults_alpha_to_0_01),
        cmocka_unit_test(test_leaky_relu_reads_alpha),
        cmocka_unit_test(test_sigmoid_is_stable_for_large_magnitudes),
        cmocka_unit_test(test_sigmoid_of_one),
        cmocka_unit_test(test_hard_sigmoid_defaults),
        cmocka_unit_test(test_hard_swish_values),
        cmocka_unit_test(test_elu_default_alpha),
        cmocka_unit_test(test_selu_default_constants),
        cmocka_unit_test(test_softplus_is_stable),
        cmocka_unit_test(test_math_ops_compute_their_functions),
        cmocka_unit_test(test_unary_ops_split_over_threads_give_every_element_its_value),
        cmocka_unit_test(test_unary_math_refuses_integer_input),
        cmocka_unit_test(test_clip_opset6_style_attributes_before_11),
        cmocka_unit_test(test_clip_opset11_reads_bound_inputs),
        cmocka_unit_test(test_clip_opset11_with_only_max),
        cmocka_unit_test(test_clip_without_bounds_is_identity),
        cmocka_unit_test(test_clip_opset11_refuses_bound_attributes),
        cmocka_unit_test(test_clip_int8_from_opset12),
        cmocka_unit_test(test_clip_int8_refused_before_opset12),
        cmocka_unit_test(test_clip_refuses_non_scalar_bound),
        cmocka_unit_test(test_prelu_per_channel_slope_broadcasts_to_nchw),
        cmocka_unit_test(test_prelu_refuses_slope_that_grows_the_output),
        cmocka_unit_test(test_add_equal_shapes),
        cmocka_unit_test(test_add_broadcasts_scalar_on_the_left),
        cmocka_unit_test(test_sub_broadcasts_lower_rank_on_the_right),
        cmocka_unit_test(test_mul_broadcasts_size1_dims_on_both_sides),
        cmocka_unit_test(test_add_per_channel_operand_against_nchw),
        cmocka_unit_test(test_div_broadcasts_middle_dim),
        cmocka_unit_test(test_sub_of_i64_scalars),
        cmocka_unit_test(test_mul_i32),
        cmocka_unit_test(test_div_i64_truncates_toward_zero),
        cmocka_unit_test(test_div_i64_by_zero_is_refused),
        cmocka_unit_test(test_div_u8),
        cmocka_unit_test(test_add_u8_wraps_around),
        cmocka_unit_test(test_add_refuses_mixed_dtypes),
        cmocka_unit_test(test_add_refuses_shapes_that_do_not_broadcast),
        cmocka_unit_test(test_add_refuses_f16),
        cmocka_unit_test(test_pow_f32_broadcasts_exponent),
        cmocka_unit_test(test_pow_f32_base_with_i64_exponent),
        cmocka_unit_test(test_pow_i64_base_keeps_its_dtype),
        cmocka_unit_test(test_pow_refuses_u8_base),
        cmocka_unit_test(test_equal_i64_gives_bool),
        cmocka_unit_test(test_less_and_greater_broadcast),
        cmocka_unit_test(test_max_of_three_broadcast_inputs),
        cmocka_unit_test(test_min_of_i64),
        cmocka_unit_test(test_sum_of_one_input_copies_it),
        cmocka_unit_test(test_mean_divides_the_sum),
        cmocka_unit_test(test_where_broadcasts_condition_and_operands),
        cmocka_unit_test(test_where_refuses_non_bool_condition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
