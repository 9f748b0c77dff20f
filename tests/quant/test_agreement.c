/* Output agreement of two graphs, per-node sensitivity, and quantization to a target cosine with
 * the fewest nodes kept float. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"
#include "quant_fixture.h"
#include "test_util.h"

#define N 8

/* x [1, 8] -> Add c -> "y" (output) */
static fq_graph *offset_graph(float c)
{
    const int64_t x_dims[] = {1, N}, one[] = {1};
    fq_graph *g = gb_graph(13);
    int add[] = {gb_input(g, "x", 2, x_dims), gb_const_f32(g, "c", 1, one, &c)};
    gb_output(g, gb_node(g, "Add", add, 2, "y"));
    qf_prepare(g);
    return g;
}

static fq_output_agreement agree(const fq_graph *a, const fq_graph *b, qf_feed *feed,
                                 int max_inputs)
{
    fq_output_agreement out;
    fq_session_options session = fq_session_options_default();
    fq_error err;
    if (fq_measure_agreement(a, b, &session, qf_feed_random, feed, max_inputs, &out, &err) !=
        FQ_OK)
        fail_msg("agreement: %s", err.message);
    return out;
}

static void test_a_graph_agrees_with_itself_exactly(void **state)
{
    (void)state;
    fq_graph *g = offset_graph(0.25f);
    qf_feed feed = {3, 1, -1.0f, 1.0f};
    fq_output_agreement a = agree(g, g, &feed, 0);
    assert_int_equal(a.inputs, 3);
    assert_float_equal(a.cosine_mean, 1.0, 1e-12);
    assert_float_equal(a.cosine_min, 1.0, 1e-12);
    assert_float_equal(a.max_abs_error, 0.0, 0.0);
    assert_true(isinf(a.sqnr_db));
    fq_graph_free(g);
}

/* The figures recomputed here from the same inputs the feed gives. */
static void test_agreement_figures_match_a_direct_computation(void **state)
{
    (void)state;
    fq_graph *ref = offset_graph(0.0f);
    fq_graph *test = offset_graph(0.125f);
    qf_feed feed = {4, 2, -1.0f, 1.0f};
    fq_output_agreement a = agree(ref, test, &feed, 0);

    double cos_sum = 0, cos_min = 1, ref_sq = 0, err_sq = 0, max_abs = 0;
    for (int i = 0; i < 4; i++) {
        float x[N];
        fq_tensor t = {FQ_DTYPE_F32, {2, {1, N}}, x, NULL};
        bool more;
        qf_feed_random(&feed, i, &t, 1, &more, NULL);
        double dot = 0, rr = 0, tt = 0;
        for (int k = 0; k < N; k++) {
            double r = x[k] + 0.0f, q = x[k] + 0.125f;
            dot += r * q;
            rr += r * r;
            tt += q * q;
            err_sq += (r - q) * (r - q);
            max_abs = fmax(max_abs, fabs(r - q));
        }
        ref_sq += rr;
        double c = dot / (sqrt(rr) * sqrt(tt));
        cos_sum += c;
        cos_min = fmin(cos_min, c);
    }
    assert_int_equal(a.inputs, 4);
    assert_float_equal(a.cosine_mean, cos_sum / 4, 1e-9);
    assert_float_equal(a.cosine_min, cos_min, 1e-9);
    assert_float_equal(a.max_abs_error, max_abs, 1e-7);
    assert_float_equal(a.sqnr_db, 10 * log10(ref_sq / err_sq), 1e-6);
    fq_graph_free(ref);
    fq_graph_free(test);
}

static void test_max_inputs_limits_the_runs(void **state)
{
    (void)state;
    fq_graph *g = offset_graph(1.0f);
    qf_feed feed = {10, 3, -1.0f, 1.0f};
    assert_int_equal(agree(g, g, &feed, 2).inputs, 2);
    fq_graph_free(g);
}

static void test_a_test_graph_missing_an_output_is_refused_naming_it(void **state)
{
    (void)state;
    fq_graph *ref = offset_graph(0.0f);
    fq_graph *test = offset_graph(0.0f);
    fq_free(test->values[test->outputs[0]].name);
    test->values[test->outputs[0]].name = fq_strdup("z");
    qf_feed feed = {1, 4, -1.0f, 1.0f};
    fq_output_agreement a;
    fq_session_options session = fq_session_options_default();
    fq_error err;
    assert_int_equal(fq_measure_agreement(ref, test, &session, qf_feed_random, &feed, 0, &a,
                                          &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'y'"));
    fq_graph_free(ref);
    fq_graph_free(test);
}

/* ---- sensitivity and targets ---- */

static const int64_t image_dims[] = {1, 3, 6, 6};

static float *weight_of(fq_graph *g, const char *name)
{
    int v = fq_graph_find_value(g, name);
    assert_true(v >= 0);
    return g->values[v].data;
}

/* x -> conv1 (3 -> 4, Relu) -> conv2 (4 -> 4) -> conv3 (4 -> 4) -> output. Channel 0 of conv1
 * is dead (bias -100, so Relu makes it 0); conv2's output channel 0 reads it through a weight
 * of 100, which per-channel int8 keeps, while the rest of that channel's weights round to a
 * step of 100 / 127: quantizing conv2 ruins its channel 0 and nothing else helps. */
static fq_graph *outlier_graph(void)
{
    fq_test_seed(21);
    fq_graph *g = gb_graph(13);
    int v = qf_conv(g, gb_input(g, "x", 4, image_dims), "conv1", 3, 4, 3, 1, "Relu");
    v = qf_conv(g, v, "conv2", 4, 4, 3, 1, NULL);
    gb_output(g, qf_conv(g, v, "conv3", 4, 4, 1, 1, NULL));
    weight_of(g, "conv1_b")[0] = -100.0f;
    weight_of(g, "conv2_w")[4] = 100.0f; /* output 0, input 0, centre tap */
    qf_prepare(g);
    return g;
}

typedef struct calibrated {
    fq_graph *g;
    fq_calib_stats *stats;
    fq_quantize_options options;
    qf_feed feed;
} calibrated;

static calibrated calibrate_outliers(void)
{
    calibrated c;
    c.g = outlier_graph();
    c.feed = (qf_feed){4, 50, -1.0f, 1.0f};
    c.stats = qf_calibrate(c.g, &c.feed);
    c.options = fq_quantize_options_default();
    c.options.stats = c.stats;
    return c;
}

static void calibrated_free(calibrated *c)
{
    fq_graph_free(c->g);
    fq_calib_stats_free(c->stats);
}

static const char *const int8_ops[] = {"QuantizeLinear", "DequantizeLinear", "QLinearConv"};

static void test_sensitivity_lists_each_conv_in_graph_order(void **state)
{
    (void)state;
    qf_require_ops(int8_ops, 3);
    calibrated c = calibrate_outliers();
    fq_session_options session = fq_session_options_default();
    fq_sensitivity *s = NULL;
    fq_error err;
    if (fq_quantize_sensitivity(c.g, &c.options, &session, qf_feed_random, &c.feed, 0, &s,
                                &err) != FQ_OK)
        fail_msg("sensitivity: %s", err.message);
    assert_int_equal(s->n_entries, 3);
    assert_string_equal(s->entries[0].node, "conv1");
    assert_string_equal(s->entries[1].node, "conv2");
    assert_string_equal(s->entries[2].node, "conv3");
    for (int i = 0; i < 3; i++)
        print_message("%s alone in int8: cosine %.6f\n", s->entries[i].node,
                      s->entries[i].agreement.cosine_mean);
    assert_true(s->entries[1].agreement.cosine_mean < s->entries[0].agreement.cosine_mean);
    assert_true(s->entries[1].agreement.cosine_mean < s->entries[2].agreement.cosine_mean);
    assert_int_equal(s->entries[1].agreement.inputs, 4);
    fq_sensitivity_free(s);
    calibrated_free(&c);
}

static void test_sensitivity_leaves_out_nodes_without_an_int8_form(void **state)
{
    (void)state;
    qf_require_ops(int8_ops, 3);
    fq_test_seed(22);
    fq_graph *g = gb_graph(13);
    int v = qf_conv(g, gb_input(g, "x", 4, image_dims), "conv1", 3, 4, 3, 1, "Relu");
    gb_output(g, qf_conv(g, v, "leaky", 4, 4, 3, 1, "LeakyRelu"));
    qf_prepare(g);
    qf_feed feed = {2, 60, -1.0f, 1.0f};
    fq_calib_stats *stats = qf_calibrate(g, &feed);
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    fq_session_options session = fq_session_options_default();
    fq_sensitivity *s = NULL;
    fq_error err;
    if (fq_quantize_sensitivity(g, &o, &session, qf_feed_random, &feed, 0, &s, &err) != FQ_OK)
        fail_msg("sensitivity: %s", err.message);
    assert_int_equal(s->n_entries, 1);
    assert_string_equal(s->entries[0].node, "conv1");
    fq_sensitivity_free(s);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static double full_int8_cosine(calibrated *c, const char *const *keep, int n_keep)
{
    fq_quantize_options o = c->options;
    o.keep_float = keep;
    o.n_keep_float = n_keep;
    fq_graph *q = NULL;
    assert_int_equal(fq_quantize(c->g, &o, &q, NULL, NULL), FQ_OK);
    double cosine = agree(c->g, q, &c->feed, 0).cosine_mean;
    fq_graph_free(q);
    return cosine;
}

static void test_to_target_keeps_only_the_sensitive_layer_float(void **state)
{
    (void)state;
    qf_require_ops(int8_ops, 3);
    calibrated c = calibrate_outliers();
    const double target = 0.999;
    const char *conv2[] = {"conv2"};
    double all = full_int8_cosine(&c, NULL, 0);
    double without = full_int8_cosine(&c, conv2, 1);
    print_message("all int8: cosine %.6f; conv2 float: %.6f\n", all, without);
    assert_true(all < target);
    assert_true(without >= target);

    fq_session_options session = fq_session_options_default();
    fq_graph *q = NULL;
    fq_quantize_report *report = NULL;
    int kept = -1;
    fq_error err;
    if (fq_quantize_to_target(c.g, &c.options, &session, qf_feed_random, &c.feed, 0, target, &q,
                              &report, &kept, &err) != FQ_OK)
        fail_msg("to target: %s", err.message);
    assert_int_equal(kept, 1);
    assert_int_equal(gb_count_op(q, "Conv"), 1);
    assert_int_equal(gb_count_op(q, "QLinearConv"), 2);
    assert_int_equal(qf_report_entry(report, "conv2")->precision, FQ_DTYPE_F32);
    assert_int_equal(qf_report_entry(report, "conv1")->precision, FQ_DTYPE_I8);
    assert_true(agree(c.g, q, &c.feed, 0).cosine_mean >= target);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    calibrated_free(&c);
}

static void test_an_unreachable_target_is_refused(void **state)
{
    (void)state;
    qf_require_ops(int8_ops, 3);
    calibrated c = calibrate_outliers();
    fq_session_options session = fq_session_options_default();
    fq_graph *q = NULL;
    int kept = -1;
    fq_error err;
    assert_int_equal(fq_quantize_to_target(c.g, &c.options, &session, qf_feed_random, &c.feed, 0,
                                           1.5, &q, NULL, &kept, &err), FQ_ERR_INVALID_ARG);
    assert_null(q);
    calibrated_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_graph_agrees_with_itself_exactly),
        cmocka_unit_test(test_agreement_figures_match_a_direct_computation),
        cmocka_unit_test(test_max_inputs_limits_the_runs),
        cmocka_unit_test(test_a_test_graph_missing_an_output_is_refused_naming_it),
        cmocka_unit_test(test_sensitivity_lists_each_conv_in_graph_order),
        cmocka_unit_test(test_sensitivity_leaves_out_nodes_without_an_int8_form),
        cmocka_unit_test(test_to_target_keeps_only_the_sensitive_layer_float),
        cmocka_unit_test(test_an_unreachable_target_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
