/* The quantized operators of op_qlinear.c: QLinearAdd, QLinearAveragePool,
 * QLinearGlobalAveragePool and QLinearMatMul. */
#include <math.h>
#include <stdlib.h>

#include "test_ops_tensor_util.h"
#include "test_util.h"

#include "runtime/threadpool.h"

/* Runs the harness's node again with a thread pool of `threads` threads into fresh outputs and
 * returns a copy of output 0's bytes (fq_malloc'd by the caller's free). */
static uint8_t *rerun_threads(fq_harness *h, int threads)
{
    fq_graph *g = h->graph;
    const fq_node *node = &g->nodes[h->node];
    const fq_op_info *info = fq_op_get(node->op);
    fq_tensor inputs[16];
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(g, node, i);
        inputs[i] = v == NULL ? (fq_tensor){0}
                              : (fq_tensor){v->dtype, v->shape, v->data, &v->quant};
    }
    fq_tensor out = h->outputs[0];
    size_t bytes = (size_t)fq_shape_numel(&out.shape) * fq_dtype_size(out.dtype);
    out.data = malloc(bytes);
    memset(out.data, 0xcd, bytes);
    fq_threadpool *pool = NULL;
    assert_int_equal(fq_threadpool_create(threads, &pool, &h->err), FQ_OK);
    fq_exec_ctx ctx = {g, node, node->n_inputs, inputs, 1, &out, NULL, 0, &h->err, NULL, pool};
    assert_int_equal(info->exec(&ctx), FQ_OK);
    fq_threadpool_free(pool);
    return out.data;
}

static void scalar_f32(fq_harness *h, float v)
{
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, &v, true);
}

static void scalar_u8(fq_harness *h, uint8_t v)
{
    fq_harness_input(h, FQ_DTYPE_U8, 0, NULL, &v, true);
}

static uint8_t *random_codes(int64_t n)
{
    uint8_t *x = malloc((size_t)n);
    for (int64_t i = 0; i < n; i++)
        x[i] = (uint8_t)fq_test_rand_int(0, 255);
    return x;
}

/* round half to even, then saturate to 0..255, in double */
static int requant_double(double v, int zero)
{
    double r = nearbyint(v) + zero;
    return r < 0 ? 0 : r > 255 ? 255 : (int)r;
}

static void expect_within_one(const uint8_t *got, const int *expected, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (abs((int)got[i] - expected[i]) > 1)
            fail_msg("element %lld: got %d, expected %d (+-1)", (long long)i, got[i],
                     expected[i]);
}

/* ---- QLinearAdd ------------------------------------------------------------------------- */

typedef struct qadd_case {
    float sa, sb, sc;
    uint8_t za, zb, zc;
} qadd_case;

static void qadd_setup(fq_harness *h, const qadd_case *q, int rank_a, const int64_t *dims_a,
                       const uint8_t *a, int rank_b, const int64_t *dims_b, const uint8_t *b)
{
    fq_harness_init(h, "QLinearAdd", 13);
    fq_harness_input(h, FQ_DTYPE_U8, rank_a, dims_a, a, false);
    scalar_f32(h, q->sa);
    scalar_u8(h, q->za);
    fq_harness_input(h, FQ_DTYPE_U8, rank_b, dims_b, b, false);
    scalar_f32(h, q->sb);
    scalar_u8(h, q->zb);
    scalar_f32(h, q->sc);
    scalar_u8(h, q->zc);
}

static void test_qlinear_add_hand_computed_saturates_both_ends(void **state)
{
    (void)state;
    fq_harness h;
    qadd_case q = {0.5f, 1.0f, 0.25f, 10, 5, 3};
    /* c = 2 (a - 10) + 4 (b - 5) + 3 */
    qadd_setup(&h, &q, 1, DIMS(4), U8S(0, 10, 20, 255), 1, DIMS(4), U8S(5, 5, 6, 5));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(4), U8S(0, 3, 27, 255));
    fq_harness_free(&h);
}

static void test_qlinear_add_rounds_half_to_even(void **state)
{
    (void)state;
    fq_harness h;
    qadd_case q = {0.5f, 1.0f, 1.0f, 0, 0, 10};
    qadd_setup(&h, &q, 1, DIMS(4), U8S(1, 3, 5, 7), 1, DIMS(4), U8S(0, 0, 0, 0));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* 0.5, 1.5, 2.5, 3.5 round to 0, 2, 2, 4 */
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(4), U8S(10, 12, 12, 14));
    fq_harness_free(&h);
}

static void test_qlinear_add_omitted_zero_points_are_zero(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QLinearAdd", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(4, 8), false);
    scalar_f32(&h, 1.0f);
    fq_harness_input(&h, FQ_DTYPE_U8, 0, NULL, NULL, false);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(2, 2), false);
    scalar_f32(&h, 1.0f);
    fq_harness_input(&h, FQ_DTYPE_U8, 0, NULL, NULL, false);
    scalar_f32(&h, 2.0f);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(2), U8S(3, 5));
    fq_harness_free(&h);
}

static void test_qlinear_add_broadcasts_per_channel_operand(void **state)
{
    (void)state;
    fq_harness h;
    qadd_case q = {1.0f, 1.0f, 1.0f, 0, 0, 0};
    qadd_setup(&h, &q, 3, DIMS(2, 2, 2), U8S(1, 2, 3, 4, 5, 6, 7, 8), 2, DIMS(2, 1),
               U8S(10, 20));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 3, DIMS(2, 2, 2), U8S(11, 12, 23, 24, 15, 16, 27, 28));
    fq_harness_free(&h);
}

static void test_qlinear_add_broadcasts_both_ways(void **state)
{
    (void)state;
    fq_harness h;
    qadd_case q = {1.0f, 1.0f, 1.0f, 0, 0, 0};
    qadd_setup(&h, &q, 2, DIMS(3, 1), U8S(0, 10, 20), 2, DIMS(1, 2), U8S(1, 2));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(3, 2), U8S(1, 2, 11, 12, 21, 22));
    fq_harness_free(&h);
}

static void test_qlinear_add_fused_relu_clamps_at_output_zero_point(void **state)
{
    (void)state;
    fq_harness h;
    qadd_case q = {1.0f, 1.0f, 1.0f, 100, 100, 50};
    qadd_setup(&h, &q, 1, DIMS(3), U8S(90, 100, 110), 1, DIMS(3), U8S(95, 100, 100));
    fq_harness_activation(&h, (fq_activation){FQ_ACT_RELU, 0, 0});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(3), U8S(50, 50, 60));
    fq_harness_free(&h);
}

static void test_qlinear_add_refuses_sigmoid_activation_naming_the_node(void **state)
{
    (void)state;
    fq_harness h;
    qadd_case q = {1.0f, 1.0f, 1.0f, 0, 0, 0};
    qadd_setup(&h, &q, 1, DIMS(1), U8S(1), 1, DIMS(1), U8S(1));
    fq_harness_activation(&h, (fq_activation){FQ_ACT_SIGMOID, 0, 0});
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_qlinear_add_refuses_i8_input_naming_the_dtype(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QLinearAdd", 13);
    fq_harness_input(&h, FQ_DTYPE_I8, 1, DIMS(1), I8S(1), false);
    scalar_f32(&h, 1.0f);
    fq_harness_input(&h, FQ_DTYPE_I8, 0, NULL, I8S(0), true);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(1), U8S(1), false);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    expect_message(&h, "i8");
    fq_harness_free(&h);
}

static void test_qlinear_add_refuses_per_channel_scale(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QLinearAdd", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1.0f, 2.0f), true);
    scalar_u8(&h, 0);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(1, 2), false);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_qlinear_add_random_broadcast_matches_double_reference(void **state)
{
    (void)state;
    fq_test_seed(11);
    for (int trial = 0; trial < 20; trial++) {
        int64_t n = fq_test_rand_int(1, 5), c = fq_test_rand_int(1, 7);
        int64_t w = fq_test_rand_int(1, 9);
        bool per_channel = trial % 2 == 0;
        int64_t bn = per_channel ? 1 : n, bw = per_channel ? 1 : w;
        uint8_t *a = random_codes(n * c * w), *b = random_codes(bn * c * bw);
        qadd_case q = {fq_test_rand_float(0.01f, 0.1f), fq_test_rand_float(0.01f, 0.1f),
                       fq_test_rand_float(0.02f, 0.2f), (uint8_t)fq_test_rand_int(0, 255),
                       (uint8_t)fq_test_rand_int(0, 255), (uint8_t)fq_test_rand_int(0, 255)};
        fq_harness h;
        qadd_setup(&h, &q, 3, DIMS(n, c, w), a, 3, DIMS(bn, c, bw), b);
        assert_int_equal(fq_harness_run(&h), FQ_OK);

        int *expected = malloc(sizeof(int) * (size_t)(n * c * w));
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < c; j++)
                for (int64_t k = 0; k < w; k++) {
                    int64_t o = (i * c + j) * w + k;
                    int64_t ob = ((per_channel ? 0 : i) * c + j) * bw + (per_channel ? 0 : k);
                    double real = (double)q.sa * (a[o] - q.za) + (double)q.sb * (b[ob] - q.zb);
                    expected[o] = requant_double(real / q.sc, q.zc);
                }
        expect_within_one(h.outputs[0].data, expected, n * c * w);
        free(expected);
        free(a);
        free(b);
        fq_harness_free(&h);
    }
}

static void test_qlinear_add_same_bytes_for_1_2_3_threads_and_broadcast_path(void **state)
{
    (void)state;
    fq_test_seed(12);
    const int64_t n = 200003; /* several chunks and a ragged end */
    uint8_t *a = random_codes(n), *b = random_codes(n);
    qadd_case q = {0.0371f, 0.0213f, 0.0458f, 131, 7, 99};
    fq_harness h;
    qadd_setup(&h, &q, 1, DIMS(n), a, 1, DIMS(n), b);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    for (int threads = 1; threads <= 3; threads++) {
        uint8_t *again = rerun_threads(&h, threads);
        assert_memory_equal(again, h.outputs[0].data, (size_t)n);
        free(again);
    }

    fq_harness broadcast;
    qadd_setup(&broadcast, &q, 2, DIMS(1, n), a, 1, DIMS(n), b);
    assert_int_equal(fq_harness_run(&broadcast), FQ_OK);
    assert_memory_equal(broadcast.outputs[0].data, h.outputs[0].data, (size_t)n);
    fq_harness_free(&broadcast);
    fq_harness_free(&h);
    free(a);
    free(b);
}

/* ---- QLinearAveragePool and QLinearGlobalAveragePool ------------------------------------ */

static void qpool_setup(fq_harness *h, const char *op, int rank, const int64_t *dims,
                        const uint8_t *x, float sx, uint8_t zx, float sy, uint8_t zy)
{
    fq_harness_init(h, op, 13);
    fq_harness_input(h, FQ_DTYPE_U8, rank, dims, x, false);
    scalar_f32(h, sx);
    scalar_u8(h, zx);
    scalar_f32(h, sy);
    scalar_u8(h, zy);
}

static const uint8_t ramp16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void test_qlinear_average_pool_rounds_window_means_half_to_even(void **state)
{
    (void)state;
    fq_harness h;
    qpool_setup(&h, "QLinearAveragePool", 4, DIMS(1, 1, 4, 4), ramp16, 1.0f, 0, 1.0f, 0);
    fq_harness_attr_ints(&h, "kernel_shape", 2, DIMS(2, 2));
    fq_harness_attr_ints(&h, "strides", 2, DIMS(2, 2));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* means 3.5, 5.5, 11.5, 13.5 */
    expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 1, 2, 2), U8S(4, 6, 12, 14));
    fq_harness_free(&h);
}

static void test_qlinear_average_pool_requantizes_between_scales(void **state)
{
    (void)state;
    fq_harness h;
    /* window means of the codes are 3.5, 5.5, 11.5, 13.5; y = 4 (mean - 4) + 20 */
    qpool_setup(&h, "QLinearAveragePool", 4, DIMS(1, 1, 4, 4), ramp16, 0.5f, 4, 0.125f, 20);
    fq_harness_attr_ints(&h, "kernel_shape", 2, DIMS(2, 2));
    fq_harness_attr_ints(&h, "strides", 2, DIMS(2, 2));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 1, 2, 2), U8S(18, 26, 50, 58));
    fq_harness_free(&h);
}

static void test_qlinear_average_pool_count_include_pad(void **state)
{
    (void)state;
    const uint8_t x[4] = {8, 8, 8, 8};
    for (int include = 0; include <= 1; include++) {
        fq_harness h;
        qpool_setup(&h, "QLinearAveragePool", 4, DIMS(1, 1, 2, 2), x, 1.0f, 0, 1.0f, 0);
        fq_harness_attr_ints(&h, "kernel_shape", 2, DIMS(2, 2));
        fq_harness_attr_ints(&h, "strides", 2, DIMS(2, 2));
        fq_harness_attr_ints(&h, "pads", 4, DIMS(1, 1, 1, 1));
        fq_harness_attr_int(&h, "count_include_pad", include);
        assert_int_equal(fq_harness_run(&h), FQ_OK);
        uint8_t v = include ? 2 : 8;
        expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 1, 2, 2), U8S(v, v, v, v));
        fq_harness_free(&h);
    }
}

static void test_qlinear_average_pool_ceil_mode_adds_partial_window(void **state)
{
    (void)state;
    fq_harness h;
    qpool_setup(&h, "QLinearAveragePool", 4, DIMS(1, 1, 4, 4), ramp16, 1.0f, 0, 1.0f, 0);
    fq_harness_attr_ints(&h, "kernel_shape", 2, DIMS(3, 3));
    fq_harness_attr_ints(&h, "strides", 2, DIMS(2, 2));
    fq_harness_attr_int(&h, "ceil_mode", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* the taps inside: means 6, 7.5, 12, 13.5 */
    expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 1, 2, 2), U8S(6, 8, 12, 14));
    fq_harness_free(&h);
}

/* x is NCHW n x c x hh x ww; writes its NHWC copy. */
static void to_nhwc(const uint8_t *x, int64_t n, int64_t c, int64_t hh, int64_t ww,
                    uint8_t *out)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < c; j++)
            for (int64_t p = 0; p < hh * ww; p++)
                out[(i * hh * ww + p) * c + j] = x[(i * c + j) * hh * ww + p];
}

static void test_qlinear_average_pool_nhwc_equals_nchw_transposed(void **state)
{
    (void)state;
    fq_test_seed(21);
    const int64_t n = 2, c = 3, hh = 5, ww = 6;
    uint8_t *x = random_codes(n * c * hh * ww);
    uint8_t *xt = malloc((size_t)(n * c * hh * ww));
    to_nhwc(x, n, c, hh, ww, xt);
    fq_harness a, b;
    qpool_setup(&a, "QLinearAveragePool", 4, DIMS(n, c, hh, ww), x, 0.02f, 128, 0.03f, 100);
    qpool_setup(&b, "QLinearAveragePool", 4, DIMS(n, hh, ww, c), xt, 0.02f, 128, 0.03f, 100);
    fq_harness_attr_int(&b, "channels_last", 1);
    fq_harness *both[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        fq_harness_attr_ints(both[k], "kernel_shape", 2, DIMS(3, 3));
        fq_harness_attr_ints(both[k], "strides", 2, DIMS(2, 2));
        fq_harness_attr_ints(both[k], "pads", 4, DIMS(1, 1, 1, 1));
        fq_harness_attr_int(both[k], "ceil_mode", 1);
        assert_int_equal(fq_harness_run(both[k]), FQ_OK);
    }
    const fq_shape *sa = &a.outputs[0].shape;
    int64_t oh = sa->dims[2], ow = sa->dims[3];
    uint8_t *expected = malloc((size_t)(n * c * oh * ow));
    to_nhwc(a.outputs[0].data, n, c, oh, ow, expected);
    expect_output(&b, 0, FQ_DTYPE_U8, 4, DIMS(n, oh, ow, c), expected);
    free(expected);
    free(x);
    free(xt);
    fq_harness_free(&a);
    fq_harness_free(&b);
}

static void test_qlinear_average_pool_random_matches_float_reference(void **state)
{
    (void)state;
    fq_test_seed(22);
    const int64_t c = 4, hh = 7, ww = 7;
    const float sx = 0.05f, sy = 0.04f;
    const uint8_t zx = 30, zy = 60;
    uint8_t *x = random_codes(c * hh * ww);
    fq_harness h;
    qpool_setup(&h, "QLinearAveragePool", 4, DIMS(1, c, hh, ww), x, sx, zx, sy, zy);
    fq_harness_attr_ints(&h, "kernel_shape", 2, DIMS(3, 3));
    fq_harness_attr_ints(&h, "pads", 4, DIMS(1, 1, 1, 1));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    int expected[4 * 7 * 7];
    for (int64_t j = 0; j < c; j++)
        for (int64_t oy = 0; oy < hh; oy++)
            for (int64_t ox = 0; ox < ww; ox++) {
                double sum = 0;
                int count = 0;
                for (int64_t y = oy - 1; y <= oy + 1; y++)
                    for (int64_t xx = ox - 1; xx <= ox + 1; xx++)
                        if (y >= 0 && y < hh && xx >= 0 && xx < ww) {
                            sum += (double)sx * (x[(j * hh + y) * ww + xx] - zx);
                            count++;
                        }
                expected[(j * hh + oy) * ww + ox] = requant_double(sum / count / sy, zy);
            }
    expect_within_one(h.outputs[0].data, expected, c * hh * ww);
    free(x);
    fq_harness_free(&h);
}

static void test_qlinear_average_pool_refuses_nhwc_rank_3(void **state)
{
    (void)state;
    fq_harness h;
    qpool_setup(&h, "QLinearAveragePool", 3, DIMS(1, 4, 4), ramp16, 1.0f, 0, 1.0f, 0);
    fq_harness_attr_ints(&h, "kernel_shape", 1, DIMS(2));
    fq_harness_attr_int(&h, "channels_last", 1);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

static void test_qlinear_global_average_pool_nchw_and_nhwc(void **state)
{
    (void)state;
    /* two channels: 1..4 (mean 2.5 -> 2) and 10, 20, 30, 41 (mean 25.25 -> 25) */
    const uint8_t nchw[8] = {1, 2, 3, 4, 10, 20, 30, 41};
    const uint8_t nhwc[8] = {1, 10, 2, 20, 3, 30, 4, 41};
    fq_harness h;
    qpool_setup(&h, "QLinearGlobalAveragePool", 4, DIMS(1, 2, 2, 2), nchw, 1.0f, 0, 1.0f, 0);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 2, 1, 1), U8S(2, 25));
    fq_harness_free(&h);

    qpool_setup(&h, "QLinearGlobalAveragePool", 4, DIMS(1, 2, 2, 2), nhwc, 1.0f, 0, 1.0f, 0);
    fq_harness_attr_int(&h, "channels_last", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 1, 1, 2), U8S(2, 25));
    fq_harness_free(&h);
}

static void test_qlinear_global_average_pool_requantizes(void **state)
{
    (void)state;
    const uint8_t x[4] = {100, 110, 120, 130};
    fq_harness h;
    /* real mean 0.1 * (115 - 100) = 1.5, / 0.5 = 3, + 7 */
    qpool_setup(&h, "QLinearGlobalAveragePool", 4, DIMS(1, 1, 2, 2), x, 0.1f, 100, 0.5f, 7);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 1, 1, 1), U8S(10));
    fq_harness_free(&h);
}

/* ---- QLinearMatMul ---------------------------------------------------------------------- */

static void test_qlinear_matmul_hand_computed(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QLinearMatMul", 10);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(2, 2), U8S(1, 2, 3, 4), false);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 1);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(2, 2), U8S(1, 0, 0, 1), false);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    scalar_f32(&h, 0.5f);
    scalar_u8(&h, 10);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(2, 2), U8S(10, 12, 14, 16));
    fq_harness_free(&h);
}

static void test_qlinear_matmul_i8_operands_and_batch_broadcast(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QLinearMatMul", 10);
    /* a: 2 batches of 1x2, i8; b: one 2x1, i8 zero point -1; y i8 */
    fq_harness_input(&h, FQ_DTYPE_I8, 3, DIMS(2, 1, 2), I8S(-1, 2, 3, -4), false);
    scalar_f32(&h, 1.0f);
    fq_harness_input(&h, FQ_DTYPE_I8, 0, NULL, I8S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I8, 2, DIMS(2, 1), I8S(0, 1), false);
    scalar_f32(&h, 1.0f);
    fq_harness_input(&h, FQ_DTYPE_I8, 0, NULL, I8S(-1), true);
    scalar_f32(&h, 1.0f);
    fq_harness_input(&h, FQ_DTYPE_I8, 0, NULL, I8S(-100), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* (b - zb) = (1, 2): -1 + 4 = 3, 3 - 8 = -5; saturates? -100 + 3 = -97, -100 - 5 = -105 */
    expect_output(&h, 0, FQ_DTYPE_I8, 3, DIMS(2, 1, 1), I8S(-97, -105));
    fq_harness_free(&h);
}

static void test_qlinear_matmul_refuses_1d_operand(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "QLinearMatMul", 10);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(1, 2), false);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(2, 1), U8S(1, 2), false);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    scalar_f32(&h, 1.0f);
    scalar_u8(&h, 0);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qlinear_add_hand_computed_saturates_both_ends),
        cmocka_unit_test(test_qlinear_add_rounds_half_to_even),
        cmocka_unit_test(test_qlinear_add_omitted_zero_points_are_zero),
        cmocka_unit_test(test_qlinear_add_broadcasts_per_channel_operand),
        cmocka_unit_test(test_qlinear_add_broadcasts_both_ways),
        cmocka_unit_test(test_qlinear_add_fused_relu_clamps_at_output_zero_point),
        cmocka_unit_test(test_qlinear_add_refuses_sigmoid_activation_naming_the_node),
        cmocka_unit_test(test_qlinear_add_refuses_i8_input_naming_the_dtype),
        cmocka_unit_test(test_qlinear_add_refuses_per_channel_scale),
        cmocka_unit_test(test_qlinear_add_random_broadcast_matches_double_reference),
        cmocka_unit_test(test_qlinear_add_same_bytes_for_1_2_3_threads_and_broadcast_path),
        cmocka_unit_test(test_qlinear_average_pool_rounds_window_means_half_to_even),
        cmocka_unit_test(test_qlinear_average_pool_requantizes_between_scales),
        cmocka_unit_test(test_qlinear_average_pool_count_include_pad),
        cmocka_unit_test(test_qlinear_average_pool_ceil_mode_adds_partial_window),
        cmocka_unit_test(test_qlinear_average_pool_nhwc_equals_nchw_transposed),
        cmocka_unit_test(test_qlinear_average_pool_random_matches_float_reference),
        cmocka_unit_test(test_qlinear_average_pool_refuses_nhwc_rank_3),
        cmocka_unit_test(test_qlinear_global_average_pool_nchw_and_nhwc),
        cmocka_unit_test(test_qlinear_global_average_pool_requantizes),
        cmocka_unit_test(test_qlinear_matmul_hand_computed),
        cmocka_unit_test(test_qlinear_matmul_i8_operands_and_batch_broadcast),
        cmocka_unit_test(test_qlinear_matmul_refuses_1d_operand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
