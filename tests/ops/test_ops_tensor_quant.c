/* QuantizeLinear and DequantizeLinear, and their split fast paths against the reference. */
#include <math.h>
#include <stdlib.h>

#include "test_ops_tensor_util.h"
#include "test_util.h"

#include "ref/qdq_ref.h"
#include "runtime/threadpool.h"

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

/* ---- the split fast paths ---- */

/* Runs the harness's node again on a pool of `threads` threads; returns output 0 (malloc'd). */
static void *rerun_on_threads(fq_harness *h, int threads)
{
    fq_graph *g = h->graph;
    const fq_node *node = &g->nodes[h->node];
    fq_tensor inputs[4];
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(g, node, i);
        inputs[i] = (fq_tensor){v->dtype, v->shape, v->data, &v->quant};
    }
    fq_tensor out = h->outputs[0];
    size_t bytes = (size_t)fq_shape_numel(&out.shape) * fq_dtype_size(out.dtype);
    out.data = malloc(bytes);
    memset(out.data, 0xcd, bytes);
    fq_threadpool *pool = NULL;
    assert_int_equal(fq_threadpool_create(threads, &pool, &h->err), FQ_OK);
    fq_exec_ctx ctx = {g, node, node->n_inputs, inputs, 1, &out, NULL, 0, &h->err, NULL, pool};
    assert_int_equal(fq_op_get(node->op)->exec(&ctx), FQ_OK);
    fq_threadpool_free(pool);
    return out.data;
}

static void expect_threads_match(fq_harness *h, const void *reference, size_t bytes)
{
    assert_memory_equal(h->outputs[0].data, reference, bytes);
    for (int threads = 1; threads <= 3; threads++) {
        void *again = rerun_on_threads(h, threads);
        assert_memory_equal(again, reference, bytes);
        free(again);
    }
}

static void test_quantize_u8_span_equals_reference_on_edge_values(void **state)
{
    (void)state;
    float x[4096];
    const float edges[] = {0.0f, -0.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 127.5f, 128.5f, 254.5f,
                           255.5f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN, 1e-30f, -129.5f};
    int n_edges = (int)(sizeof(edges) / sizeof(edges[0]));
    fq_test_seed(31);
    for (int i = 0; i < 4096; i++)
        x[i] = i < n_edges ? edges[i] : fq_test_rand_float(-400.0f, 400.0f);
    const float scales[3] = {1.0f, 0.37f, 3.0f};
    const uint8_t zps[3] = {0, 128, 255};
    for (int s = 0; s < 3; s++) {
        uint8_t fast[4096], ref[4096];
        fq_qdq_layout layout = {1, 1, 4096};
        fq_quantize_u8_span(4096, x, scales[s], &zps[s], fast);
        fq_quantize_u8_ref(&layout, x, &scales[s], &zps[s], ref);
        assert_memory_equal(fast, ref, sizeof(fast));
    }
}

static void test_quantize_u8_same_bytes_for_1_2_3_threads_as_reference(void **state)
{
    (void)state;
    const int64_t n = 100003;
    float *x = malloc(sizeof(float) * (size_t)n);
    uint8_t *ref = malloc((size_t)n);
    fq_test_seed(32);
    for (int64_t i = 0; i < n; i++)
        x[i] = fq_test_rand_float(-10.0f, 10.0f);
    const float scale = 0.0731f;
    const uint8_t zp = 117;
    fq_qdq_layout layout = {1, 1, n};
    fq_quantize_u8_ref(&layout, x, &scale, &zp, ref);

    fq_harness h;
    fq_harness_init(&h, "QuantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(n), x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, &scale, true);
    fq_harness_input(&h, FQ_DTYPE_U8, 0, NULL, &zp, true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_threads_match(&h, ref, (size_t)n);
    fq_harness_free(&h);
    free(x);
    free(ref);
}

static void test_dequantize_per_axis_same_bytes_for_1_2_3_threads_as_reference(void **state)
{
    (void)state;
    /* u8 with long rows (one task per row), i8 with short rows (many rows per task) */
    const int64_t shapes[2][3] = {{2, 5, 40009}, {3, 7, 11}};
    const fq_dtype dtypes[2] = {FQ_DTYPE_U8, FQ_DTYPE_I8};
    fq_test_seed(33);
    for (int k = 0; k < 2; k++) {
        const int64_t *d = shapes[k];
        int64_t n = d[0] * d[1] * d[2];
        uint8_t *q = malloc((size_t)n);
        for (int64_t i = 0; i < n; i++)
            q[i] = (uint8_t)fq_test_rand_int(0, 255);
        float scale[7], *ref = malloc(sizeof(float) * (size_t)n);
        uint8_t zp[7];
        for (int c = 0; c < d[1]; c++) {
            scale[c] = fq_test_rand_float(0.01f, 1.0f);
            zp[c] = (uint8_t)fq_test_rand_int(0, 255);
        }
        fq_qdq_layout layout = {d[0], d[1], d[2]};
        if (dtypes[k] == FQ_DTYPE_U8)
            fq_dequantize_u8_ref(&layout, q, scale, zp, ref);
        else
            fq_dequantize_i8_ref(&layout, (const int8_t *)q, scale, (const int8_t *)zp, ref);

        fq_harness h;
        fq_harness_init(&h, "DequantizeLinear", 13);
        fq_harness_input(&h, dtypes[k], 3, d, q, false);
        fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(d[1]), scale, true);
        fq_harness_input(&h, dtypes[k], 1, DIMS(d[1]), zp, true);
        assert_int_equal(fq_harness_run(&h), FQ_OK);
        expect_threads_match(&h, ref, sizeof(float) * (size_t)n);
        fq_harness_free(&h);
        free(q);
        free(ref);
    }
}

static void test_dequantize_i32_per_tensor_same_bytes_for_1_2_3_threads(void **state)
{
    (void)state;
    const int64_t n = 70001;
    int32_t *q = malloc(sizeof(int32_t) * (size_t)n);
    float *ref = malloc(sizeof(float) * (size_t)n);
    fq_test_seed(34);
    for (int64_t i = 0; i < n; i++)
        q[i] = (int32_t)(fq_test_rand() & 0xffffffu) - (1 << 23);
    const float scale = 0.001f;
    const int32_t zp = -5;
    fq_qdq_layout layout = {1, 1, n};
    fq_dequantize_i32_ref(&layout, q, &scale, &zp, ref);

    fq_harness h;
    fq_harness_init(&h, "DequantizeLinear", 13);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(n), q, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, &scale, true);
    fq_harness_input(&h, FQ_DTYPE_I32, 0, NULL, &zp, true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_threads_match(&h, ref, sizeof(float) * (size_t)n);
    fq_harness_free(&h);
    free(q);
    free(ref);
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
        cmocka_unit_test(test_quantize_u8_span_equals_reference_on_edge_values),
        cmocka_unit_test(test_quantize_u8_same_bytes_for_1_2_3_threads_as_reference),
        cmocka_unit_test(test_dequantize_per_axis_same_bytes_for_1_2_3_threads_as_reference),
        cmocka_unit_test(test_dequantize_i32_per_tensor_same_bytes_for_1_2_3_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
