/* Gemm and MatMul: transposes, alpha and beta, C broadcast, fused activation, numpy batch
 * broadcasting and 1-D promotion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_harness.h"
#include "test_util.h"

/* A = [[1, 2, 3], [4, 5, 6]] (2 x 3), B = [[1, 0], [0, 1], [1, 1]] (3 x 2): A B = [[4, 5],
 * [10, 11]]. */
static const float mat_a[6] = {1, 2, 3, 4, 5, 6};
static const float mat_a_t[6] = {1, 4, 2, 5, 3, 6};
static const float mat_b[6] = {1, 0, 0, 1, 1, 1};
static const float mat_b_t[6] = {1, 0, 1, 0, 1, 1};

static void gemm_inputs(fq_harness *h, bool trans_a, bool trans_b)
{
    fq_harness_init(h, "Gemm", 13);
    fq_harness_input(h, FQ_DTYPE_F32, 2, trans_a ? (int64_t[]){3, 2} : (int64_t[]){2, 3},
                     trans_a ? mat_a_t : mat_a, false);
    fq_harness_input(h, FQ_DTYPE_F32, 2, trans_b ? (int64_t[]){2, 3} : (int64_t[]){3, 2},
                     trans_b ? mat_b_t : mat_b, true);
    if (trans_a)
        fq_harness_attr_int(h, "transA", 1);
    if (trans_b)
        fq_harness_attr_int(h, "transB", 1);
}

static void expect_product(fq_harness *h, const float *expected)
{
    assert_int_equal(fq_harness_run(h), FQ_OK);
    fq_harness_expect_f32(h, 0, 2, (int64_t[]){2, 2}, expected, 1e-6f);
    fq_harness_free(h);
}

static void test_gemm_without_c(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, false);
    expect_product(&h, (float[]){4, 5, 10, 11});
}

static void test_gemm_trans_a(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, true, false);
    expect_product(&h, (float[]){4, 5, 10, 11});
}

static void test_gemm_trans_b(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, true);
    expect_product(&h, (float[]){4, 5, 10, 11});
}

static void test_gemm_trans_both_with_alpha(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, true, true);
    fq_harness_attr_float(&h, "alpha", 0.5f);
    expect_product(&h, (float[]){2, 2.5f, 5, 5.5f});
}

static void test_gemm_c_row_vector_broadcasts_over_rows(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){100, 200}, true);
    fq_harness_attr_float(&h, "beta", 2.0f);
    expect_product(&h, (float[]){204, 405, 210, 411});
}

static void test_gemm_c_column_broadcasts_over_columns(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){2, 1}, (float[]){1, 2}, true);
    expect_product(&h, (float[]){5, 6, 12, 13});
}

static void test_gemm_c_scalar_and_full_matrix(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, (float[]){-4}, true);
    expect_product(&h, (float[]){0, 1, 6, 7});

    gemm_inputs(&h, false, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4}, true);
    expect_product(&h, (float[]){5, 7, 13, 15});
}

static void test_gemm_rejects_c_that_does_not_broadcast(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){3}, (float[]){1, 2, 3}, true);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_gemm_fused_relu_after_c(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){-5, -20}, true);
    fq_harness_activation(&h, (fq_activation){FQ_ACT_RELU, 0, 0});
    expect_product(&h, (float[]){0, 0, 5, 0});
}

static void test_gemm_fused_prelu_slopes_per_column(void **state)
{
    (void)state;
    fq_harness h;
    gemm_inputs(&h, false, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){-8, -8}, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){0.5f, 0.25f}, true);
    fq_harness_activation(&h, (fq_activation){FQ_ACT_PRELU, 0, 0});
    expect_product(&h, (float[]){-2, -0.75f, 2, 3});
}

static void test_gemm_larger_than_one_tile_matches_naive(void **state)
{
    (void)state;
    enum { M = 13, K = 300, N = 19 };
    static float a[M * K], b[K * N], expected[M * N];
    fq_test_seed(3);
    for (int i = 0; i < M * K; i++)
        a[i] = fq_test_rand_float(-1, 1);
    for (int i = 0; i < K * N; i++)
        b[i] = fq_test_rand_float(-1, 1);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0;
            for (int k = 0; k < K; k++)
                sum += (double)a[i * K + k] * b[k * N + j];
            expected[i * N + j] = (float)sum;
        }
    fq_harness h;
    fq_harness_init(&h, "Gemm", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){M, K}, a, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){K, N}, b, true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, (int64_t[]){M, N}, expected, 1e-4f);
    fq_harness_free(&h);
}

static void test_matmul_2d(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "MatMul", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){2, 3}, mat_a, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){3, 2}, mat_b, false);
    expect_product(&h, (float[]){4, 5, 10, 11});
}

static void test_matmul_broadcasts_batch_of_b(void **state)
{
    (void)state;
    float a[12] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
    fq_harness h;
    fq_harness_init(&h, "MatMul", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, (int64_t[]){2, 2, 3}, a, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){3, 2}, mat_b, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float expected[8] = {4, 5, 10, 11, -4, -5, -10, -11};
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){2, 2, 2}, expected, 1e-6f);
    fq_harness_free(&h);
}

static void test_matmul_broadcasts_both_batches(void **state)
{
    (void)state;
    /* A: 2 x 1 x (1 x 2), B: 1 x 3 x (2 x 1); output 2 x 3 x (1 x 1). */
    float a[4] = {1, 2, 3, 4};
    float b[6] = {1, 0, 0, 1, 1, 1};
    fq_harness h;
    fq_harness_init(&h, "MatMul", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){2, 1, 1, 2}, a, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 3, 2, 1}, b, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float expected[6] = {1, 2, 3, 3, 4, 7};
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){2, 3, 1, 1}, expected, 1e-6f);
    fq_harness_free(&h);
}

static void test_matmul_promotes_1d_operands(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "MatMul", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){3}, (float[]){1, 2, 3}, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){3, 2}, mat_b, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, (int64_t[]){2}, (float[]){4, 5}, 1e-6f);
    fq_harness_free(&h);

    fq_harness_init(&h, "MatMul", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){2, 3}, mat_a, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){3}, (float[]){1, 0, -1}, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, (int64_t[]){2}, (float[]){-2, -2}, 1e-6f);
    fq_harness_free(&h);
}

static void test_matmul_rejects_inner_dimension_mismatch(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "MatMul", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){2, 3}, mat_a, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, (int64_t[]){2, 3}, mat_a, false);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_SHAPE);
    assert_non_null(strstr(h.err.message, "'node'"));
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_without_c),
        cmocka_unit_test(test_gemm_trans_a),
        cmocka_unit_test(test_gemm_trans_b),
        cmocka_unit_test(test_gemm_trans_both_with_alpha),
        cmocka_unit_test(test_gemm_c_row_vector_broadcasts_over_rows),
        cmocka_unit_test(test_gemm_c_column_broadcasts_over_columns),
        cmocka_unit_test(test_gemm_c_scalar_and_full_matrix),
        cmocka_unit_test(test_gemm_rejects_c_that_does_not_broadcast),
        cmocka_unit_test(test_gemm_fused_relu_after_c),
        cmocka_unit_test(test_gemm_fused_prelu_slopes_per_column),
        cmocka_unit_test(test_gemm_larger_than_one_tile_matches_naive),
        cmocka_unit_test(test_matmul_2d),
        cmocka_unit_test(test_matmul_broadcasts_batch_of_b),
        cmocka_unit_test(test_matmul_broadcasts_both_batches),
        cmocka_unit_test(test_matmul_promotes_1d_operands),
        cmocka_unit_test(test_matmul_rejects_inner_dimension_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
