/* The dynamic int8 rewrite of fq_quantize: each Conv becomes an FqDynamicConv with int8
 * weights, the report says so, keep_float is honoured; and, with ../shared, mobilefacenet_128d
 * dynamic against fp32 on the golden inputs (cosine and latency ratio). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/fq.h"
#include "facequant/npy.h"
#include "facequant/quantize.h"
#include "graph_builder.h"
#include "quant/quantize_internal.h"
#include "test_util.h"

enum { SMALL_INPUT = 1 * 3 * 10 * 10, SMALL_OUTPUT = 1 * 5 * 10 * 10 };

/* x [1,3,10,10] -> Conv 3x3 (bias) -> Relu -> Conv 1x1 (no bias) -> y. After the passes the
 * Relu is fused into the first Conv, named "Conv_0"; the second is "Conv_2". */
static fq_graph *small_graph(void)
{
    fq_test_seed(0x5eed);
    fq_graph *g = gb_graph(13);
    int64_t xd[4] = {1, 3, 10, 10}, w1d[4] = {4, 3, 3, 3}, b1d[1] = {4}, w2d[4] = {5, 4, 1, 1};
    int x = gb_input(g, "x", 4, xd);
    int c1_in[3] = {x, gb_const_f32(g, "w1", 4, w1d, NULL), gb_const_f32(g, "b1", 1, b1d, NULL)};
    int c1 = gb_node(g, "Conv", c1_in, 3, "c1");
    int64_t pads[4] = {1, 1, 1, 1};
    gb_attr_ints(g, "pads", 4, pads);
    int r = gb_node(g, "Relu", &c1, 1, "r");
    int c2_in[2] = {r, gb_const_f32(g, "w2", 4, w2d, NULL)};
    gb_output(g, gb_node(g, "Conv", c2_in, 2, "y"));

    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    return g;
}

static fq_graph *quantize_dynamic(const fq_graph *g, const char *const *keep, int n_keep,
                                  fq_quantize_report **report)
{
    fq_quantize_options options = fq_quantize_options_default();
    options.type = FQ_QUANT_DYNAMIC;
    options.keep_float = keep;
    options.n_keep_float = n_keep;
    fq_graph *out = NULL;
    fq_error err = {0};
    if (fq_quantize(g, &options, &out, report, &err) != FQ_OK)
        fail_msg("quantize: %s", err.message);
    return out;
}

static const fq_node *find_node(const fq_graph *g, const char *op_type)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (strcmp(g->nodes[n].op_type, op_type) == 0)
            return &g->nodes[n];
    return NULL;
}

static const fq_quant_node_report *report_entry(const fq_quantize_report *r, const char *node)
{
    for (int i = 0; i < r->n_nodes; i++)
        if (strcmp(r->nodes[i].node, node) == 0)
            return &r->nodes[i];
    return NULL;
}

static void test_rewrite_replaces_every_conv(void **state)
{
    (void)state;
    fq_graph *g = small_graph();
    assert_int_equal(gb_count_op(g, "Conv"), 2);
    fq_quantize_report *report;
    fq_graph *q = quantize_dynamic(g, NULL, 0, &report);
    assert_int_equal(gb_count_op(q, "Conv"), 0);
    assert_int_equal(gb_count_op(q, "FqDynamicConv"), 2);
    assert_int_equal(report->quantized, 2);
    assert_int_equal(report->kept_float, 0);
    for (int i = 0; i < report->n_nodes; i++)
        if (strcmp(report->nodes[i].op_type, "Conv") == 0)
            assert_int_equal(report->nodes[i].precision, FQ_DTYPE_I8);
    assert_true(report->weight_bytes_after < report->weight_bytes_before);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_graph_free(g);
}

/* Inputs X, W i8 per channel, W_scale f32 [M], the float bias unchanged; the fused Relu stays
 * on the node. */
static void test_rewritten_node_has_int8_weights_and_float_bias(void **state)
{
    (void)state;
    fq_graph *g = small_graph();
    const fq_node *conv = find_node(g, "Conv");
    assert_int_equal(conv->act.kind, FQ_ACT_RELU);
    const fq_value *w = fq_node_input(g, conv, 1), *b = fq_node_input(g, conv, 2);
    float expected_scale[4];
    int8_t expected_q[4 * 27];
    fq_quant_weights_i8(w->data, 4, 27, expected_q, expected_scale);

    fq_graph *q = quantize_dynamic(g, NULL, 0, NULL);
    const fq_node *dyn = find_node(q, "FqDynamicConv");
    assert_int_equal(dyn->n_inputs, 4);
    assert_int_equal(dyn->act.kind, FQ_ACT_RELU);
    const fq_value *wq = fq_node_input(q, dyn, 1), *ws = fq_node_input(q, dyn, 2);
    const fq_value *bq = fq_node_input(q, dyn, 3);
    assert_int_equal(wq->dtype, FQ_DTYPE_I8);
    assert_memory_equal(wq->data, expected_q, sizeof(expected_q));
    assert_int_equal(ws->dtype, FQ_DTYPE_F32);
    assert_int_equal(ws->shape.rank, 1);
    assert_memory_equal(ws->data, expected_scale, sizeof(expected_scale));
    assert_int_equal(bq->dtype, FQ_DTYPE_F32);
    assert_memory_equal(bq->data, b->data, 4 * sizeof(float));
    fq_graph_free(q);
    fq_graph_free(g);
}

static double cosine(const float *a, const float *b, size_t n)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

static void test_rewritten_graph_stays_close_to_float(void **state)
{
    (void)state;
    fq_graph *g = small_graph();
    fq_graph *q = quantize_dynamic(g, NULL, 0, NULL);
    float x[SMALL_INPUT], y_ref[SMALL_OUTPUT], y[SMALL_OUTPUT];
    for (int i = 0; i < SMALL_INPUT; i++)
        x[i] = fq_test_rand_float(-1.0f, 1.0f);
    gb_run(g, x, SMALL_INPUT, 0, y_ref, SMALL_OUTPUT);
    gb_run(q, x, SMALL_INPUT, 0, y, SMALL_OUTPUT);
    double c = cosine(y_ref, y, SMALL_OUTPUT);
    printf("small graph: cosine %.6f\n", c);
    assert_true(c > 0.999);
    fq_graph_free(q);
    fq_graph_free(g);
}

static void test_keep_float_leaves_the_named_conv(void **state)
{
    (void)state;
    fq_graph *g = small_graph();
    const char *first = find_node(g, "Conv")->name;
    const char *keep[1] = {first};
    fq_quantize_report *report;
    fq_graph *q = quantize_dynamic(g, keep, 1, &report);
    assert_int_equal(gb_count_op(q, "Conv"), 1);
    assert_int_equal(gb_count_op(q, "FqDynamicConv"), 1);
    assert_string_equal(find_node(q, "Conv")->name, first);
    const fq_quant_node_report *entry = report_entry(report, first);
    assert_non_null(entry);
    assert_int_equal(entry->precision, FQ_DTYPE_F32);
    assert_non_null(entry->reason);
    assert_int_equal(report->kept_float, 1);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_graph_free(g);
}

/* A Conv whose weights are a runtime input has no int8 form: it stays, with the reason. */
static void test_conv_with_runtime_weights_stays_float(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {3, 2, 1, 1};
    int in[2] = {gb_input(g, "x", 4, xd), gb_input(g, "w", 4, wd)};
    gb_output(g, gb_node(g, "Conv", in, 2, "y"));
    fq_error err = {0};
    assert_int_equal(fq_passes_run(g, NULL, &err), FQ_OK);
    fq_quantize_report *report;
    fq_graph *q = quantize_dynamic(g, NULL, 0, &report);
    assert_int_equal(gb_count_op(q, "Conv"), 1);
    assert_non_null(strstr(report->nodes[0].reason, "not constant"));
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_graph_free(g);
}

static void test_other_ops_are_reported_float_with_a_reason(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {3, 2, 1, 1};
    int in[2] = {gb_input(g, "x", 4, xd), gb_const_f32(g, "w", 4, wd, NULL)};
    int c = gb_node(g, "Conv", in, 2, "c");
    gb_output(g, gb_node(g, "GlobalAveragePool", &c, 1, "y"));
    fq_error err = {0};
    assert_int_equal(fq_passes_run(g, NULL, &err), FQ_OK);
    fq_quantize_report *report;
    fq_graph *q = quantize_dynamic(g, NULL, 0, &report);
    const fq_quant_node_report *pool = report_entry(report, "GlobalAveragePool_1");
    assert_non_null(pool);
    assert_int_equal(pool->precision, FQ_DTYPE_F32);
    assert_non_null(pool->reason);
    assert_non_null(strstr(pool->reason, "Conv only"));
    assert_int_equal(report->quantized, 1);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_graph_free(g);
}

/* ---- mobilefacenet_128d with ../shared ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { TIMED_RUNS = 7 };

/* Runs g on input (copying output 0 into *out, fq_malloc'd) and returns the median time of
 * TIMED_RUNS runs on one thread. */
static double run_timed(const fq_graph *g, const fq_npy *input, float **out, size_t *count)
{
    fq_session_options options = fq_session_options_default();
    options.threads = 1;
    fq_session *s;
    fq_error err = {0};
    if (fq_session_create(g, &options, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    double times[TIMED_RUNS];
    for (int r = 0; r < TIMED_RUNS; r++) {
        /* A run may reuse the input's arena memory: fill it before each. */
        assert_int_equal(fq_session_set_input(s, 0, input->data, input->size, &err), FQ_OK);
        double t0 = now_seconds();
        if (fq_session_run(s, &err) != FQ_OK)
            fail_msg("run: %s", err.message);
        times[r] = now_seconds() - t0;
    }
    fq_tensor t;
    assert_int_equal(fq_session_output(s, 0, &t, &err), FQ_OK);
    *count = (size_t)fq_shape_numel(&t.shape);
    *out = fq_malloc(*count * sizeof(float));
    memcpy(*out, t.data, *count * sizeof(float));
    fq_session_free(s);
    qsort(times, TIMED_RUNS, sizeof(times[0]), compare_doubles);
    return times[TIMED_RUNS / 2];
}

static void test_mobilefacenet_dynamic_agrees_with_fp32(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char model[1024], shared_copy[900];
    snprintf(shared_copy, sizeof(shared_copy), "%s", shared);
    snprintf(model, sizeof(model), "%s/models/mobilefacenet_128d.onnx", shared_copy);
    fq_graph *g;
    fq_error err = {0};
    if (fq_onnx_read_file(model, &g, &err) != FQ_OK)
        fail_msg("reading %s: %s", model, err.message);
    fq_input_size size = {.width = 112, .height = 112, .batch = 1};
    assert_int_equal(fq_passes_run(g, &size, &err), FQ_OK);
    fq_quantize_report *report;
    fq_graph *q = quantize_dynamic(g, NULL, 0, &report);
    printf("mobilefacenet_128d: %d nodes dynamic int8, %d compute nodes float, weights %zu -> "
           "%zu bytes\n", report->quantized, report->kept_float, report->weight_bytes_before,
           report->weight_bytes_after);

    const char *inputs[] = {"arcface_hanks_112", "randn_112"};
    double sum = 0.0;
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/golden/inputs/%s.npy", shared_copy, inputs[i]);
        fq_npy x;
        if (fq_npy_read_file(path, &x, &err) != FQ_OK)
            fail_msg("reading %s: %s", path, err.message);
        float *y_ref, *y;
        size_t n_ref, n;
        double t_ref = run_timed(g, &x, &y_ref, &n_ref);
        double t_dyn = run_timed(q, &x, &y, &n);
        assert_int_equal(n, n_ref);
        double c = cosine(y_ref, y, n);
        printf("mobilefacenet_128d on %s: cosine %.5f; median of %d runs, 1 thread: fp32 %.2f "
               "ms, dynamic %.2f ms, ratio %.2f\n", inputs[i], c, TIMED_RUNS, t_ref * 1e3,
               t_dyn * 1e3, t_dyn / t_ref);
        if (i == 0)
            assert_true(c >= 0.99);
        sum += c;
        fq_free(y_ref);
        fq_free(y);
        fq_npy_free(&x);
    }
    printf("mobilefacenet_128d: mean cosine %.5f\n", sum / 2);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite_replaces_every_conv),
        cmocka_unit_test(test_rewritten_node_has_int8_weights_and_float_bias),
        cmocka_unit_test(test_rewritten_graph_stays_close_to_float),
        cmocka_unit_test(test_keep_float_leaves_the_named_conv),
        cmocka_unit_test(test_conv_with_runtime_weights_stays_float),
        cmocka_unit_test(test_other_ops_are_reported_float_with_a_reason),
        cmocka_unit_test(test_mobilefacenet_dynamic_agrees_with_fp32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
