/* Equalization of depthwise inputs (src/quant/equalize.c): the float function stays, the
 * narrow channels gain int8 accuracy, and pairs it cannot rescale safely are left alone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"
#include "quant/quantize_internal.h"
#include "quant_fixture.h"
#include "test_util.h"

static const int64_t x_dims[] = {1, 3, 8, 8};
#define X_COUNT (3 * 8 * 8)
#define Y_COUNT (4 * 8 * 8)
#define NARROW 0.02f

/* x -> Conv "pw" (3 -> 4, 1x1) + Relu -> depthwise 3x3 Conv "dw" -> output; channel 1 of pw
 * is NARROW times as wide as the others and dw widens it back, so that its output channel 1 is
 * as wide as the others and shows the error of its input's quantization. With pw_is_output,
 * pw's output is a graph output too. */
static fq_graph *pw_dw(bool pw_is_output)
{
    fq_test_seed(21);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    int pw = qf_conv(g, x, "pw", 3, 4, 1, 1, "Relu");
    gb_output(g, qf_conv(g, pw, "dw", 4, 4, 3, 4, NULL));
    if (pw_is_output)
        gb_output(g, pw);
    qf_prepare(g);
    int w = fq_graph_find_value(g, "pw_w");
    int b = fq_graph_find_value(g, "pw_b");
    assert_true(w >= 0 && b >= 0);
    float *wd = g->values[w].data, *bd = g->values[b].data;
    for (int i = 0; i < 3; i++)
        wd[3 + i] *= NARROW;
    bd[1] = fabsf(bd[1]) * NARROW;
    float *dw = g->values[fq_graph_find_value(g, "dw_w")].data;
    for (int i = 0; i < 9; i++)
        dw[9 + i] /= NARROW;
    return g;
}

/* The statistics entry of the depthwise Conv's input. */
static int dw_input_stats(const fq_graph *g, const fq_calib_stats *stats)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (strcmp(g->nodes[n].name, "dw") == 0)
            return fq_calib_stats_find(stats, g->values[g->nodes[n].inputs[0]].name);
    return -1;
}

static fq_calib_stats *calibrate(const fq_graph *g)
{
    qf_feed feed = {8, 500, -1.0f, 1.0f};
    return qf_calibrate(g, &feed);
}

static void fresh_input(float *x)
{
    fq_test_seed(77);
    for (int i = 0; i < X_COUNT; i++)
        x[i] = fq_test_rand_float(-1.0f, 1.0f);
}

static void test_equalized_graph_computes_the_same_float_function(void **state)
{
    (void)state;
    fq_graph *g = pw_dw(false);
    fq_calib_stats *stats = calibrate(g);
    fq_graph *e;
    assert_int_equal(fq_graph_clone(g, &e, NULL), FQ_OK);
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    int pairs = -1;
    assert_int_equal(fq_quant_equalize_depthwise(e, &o, stats, &pairs, NULL), FQ_OK);
    assert_int_equal(pairs, 1);

    const float *w0 = g->values[fq_graph_find_value(g, "pw_w")].data;
    const float *w1 = e->values[fq_graph_find_value(e, "pw_w")].data;
    assert_true(fabsf(w1[3] / w0[3]) > 4.0f); /* the narrow row was scaled up */

    float x[X_COUNT], ref[Y_COUNT], got[Y_COUNT];
    fresh_input(x);
    gb_run(g, x, X_COUNT, 0, ref, Y_COUNT);
    gb_run(e, x, X_COUNT, 0, got, Y_COUNT);
    for (int i = 0; i < Y_COUNT; i++)
        assert_float_equal(got[i], ref[i], 1e-5 * (1.0 + fabs(ref[i])));
    fq_graph_free(e);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

/* Mean |int8 - float| over output channel 1, the one fed by the narrow channel. */
static double narrow_channel_error(bool equalize)
{
    fq_graph *g = pw_dw(false);
    fq_calib_stats *stats = calibrate(g);
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    o.channels_last = false;
    o.equalize = equalize;
    fq_graph *q;
    fq_quantize_report *report;
    fq_error err;
    if (fq_quantize(g, &o, &q, &report, &err) != FQ_OK)
        fail_msg("quantize: %s", err.message);
    assert_int_equal(report->equalized, equalize ? 1 : 0);

    float x[X_COUNT], ref[Y_COUNT], got[Y_COUNT];
    fresh_input(x);
    gb_run(g, x, X_COUNT, 0, ref, Y_COUNT);
    gb_run(q, x, X_COUNT, 0, got, Y_COUNT);
    double error = 0;
    for (int i = 64; i < 128; i++)
        error += fabs((double)got[i] - ref[i]);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
    return error / 64;
}

static void test_equalization_lowers_the_error_of_a_narrow_channel(void **state)
{
    (void)state;
    const char *const ops[] = {"QuantizeLinear", "DequantizeLinear", "QLinearConv"};
    qf_require_ops(ops, 3);
    double on = narrow_channel_error(true);
    double off = narrow_channel_error(false);
    print_message("narrow channel mean |error|: %.6f equalized, %.6f not\n", on, off);
    assert_true(on < 0.5 * off);
}

static void test_producer_with_another_reader_is_left_alone(void **state)
{
    (void)state;
    fq_graph *g = pw_dw(true);
    fq_calib_stats *stats = calibrate(g);
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    int pairs = -1;
    assert_int_equal(fq_quant_equalize_depthwise(g, &o, stats, &pairs, NULL), FQ_OK);
    assert_int_equal(pairs, 0);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_statistics_without_channel_ranges_leave_the_pair_alone(void **state)
{
    (void)state;
    fq_graph *g = pw_dw(false);
    fq_calib_stats *stats = calibrate(g);
    for (int v = 0; v < stats->n_values; v++) {
        fq_value_stats *vs = &stats->values[v];
        fq_free(vs->channel_min);
        fq_free(vs->channel_max);
        vs->channel_min = NULL;
        vs->channel_max = NULL;
    }
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    int pairs = -1;
    assert_int_equal(fq_quant_equalize_depthwise(g, &o, stats, &pairs, NULL), FQ_OK);
    assert_int_equal(pairs, 0);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

/* The statistics follow the rescaling: the narrow channel's range grows by its gain, the sums
 * (bias correction's means) with it. */
static void test_channel_statistics_are_scaled_with_the_channel(void **state)
{
    (void)state;
    fq_graph *g = pw_dw(false);
    fq_calib_stats *stats = calibrate(g);
    int s = dw_input_stats(g, stats);
    assert_true(s >= 0);
    double lo0, hi0, lo1, hi1, mean0, mean1;
    assert_true(fq_value_stats_channel_range(&stats->values[s], 1, &lo0, &hi0));
    assert_true(fq_value_stats_channel_mean(&stats->values[s], 1, &mean0));
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    int pairs = 0;
    assert_int_equal(fq_quant_equalize_depthwise(g, &o, stats, &pairs, NULL), FQ_OK);
    assert_true(fq_value_stats_channel_range(&stats->values[s], 1, &lo1, &hi1));
    assert_true(fq_value_stats_channel_mean(&stats->values[s], 1, &mean1));
    double gain = hi1 / hi0;
    assert_true(gain > 4.0);
    assert_float_equal(mean1, mean0 * gain, 1e-9 * (1 + fabs(mean1)));
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equalized_graph_computes_the_same_float_function),
        cmocka_unit_test(test_equalization_lowers_the_error_of_a_narrow_channel),
        cmocka_unit_test(test_producer_with_another_reader_is_left_alone),
        cmocka_unit_test(test_statistics_without_channel_ranges_leave_the_pair_alone),
        cmocka_unit_test(test_channel_statistics_are_scaled_with_the_channel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
