/* The calibration runner on a small hand-built graph: statistics of the input, of every
 * intermediate (some sharing memory) and of the output, checked exactly; the session's
 * observer hook; feeding and stopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"

#define N 6
#define INPUTS 3

/* x [1, 6] -> Mul 2 -> "doubled" -> Relu -> "relu" -> Reshape [2, 3] -> "shaped"
 *   -> Add -1 -> "out" (output). */
static fq_graph *chain_graph(void)
{
    const int64_t x_dims[] = {1, N}, one[] = {1}, two[] = {2};
    const float two_f[] = {2.0f}, minus_one[] = {-1.0f};
    const int64_t target[] = {2, 3};
    fq_graph *g = gb_graph(13);
    int v = gb_input(g, "x", 2, x_dims);
    int mul[] = {v, gb_const_f32(g, "two", 1, one, two_f)};
    v = gb_node(g, "Mul", mul, 2, "doubled");
    v = gb_node(g, "Relu", &v, 1, "relu");
    int reshape[] = {v, gb_const_i64(g, "target", 1, two, target)};
    v = gb_node(g, "Reshape", reshape, 2, "shaped");
    int add[] = {v, gb_const_f32(g, "minus_one", 1, one, minus_one)};
    v = gb_node(g, "Add", add, 2, "out");
    gb_output(g, v);
    fq_error err;
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static const float inputs[INPUTS][N] = {
    {1.0f, -2.0f, 3.0f, 0.5f, -0.25f, 4.0f},
    {-7.0f, 0.0f, 1.5f, 2.0f, 2.5f, -1.0f},
    {0.75f, 6.0f, -3.0f, 1.0f, 1.0f, 1.0f},
};

typedef struct feeder {
    int given;
    int limit;
    bool fail_at_second;
} feeder;

static fq_status feed_rows(void *user, int index, fq_tensor *in, int n_inputs, bool *more,
                           fq_error *err)
{
    feeder *f = user;
    assert_int_equal(n_inputs, 1);
    assert_int_equal(index, f->given);
    if (f->fail_at_second && index == 1)
        return fq_error_set(err, FQ_ERR_IO, "feeder broke");
    *more = f->given < f->limit;
    if (*more)
        memcpy(in[0].data, inputs[f->given++ % INPUTS], sizeof(inputs[0]));
    return FQ_OK;
}

static fq_calib_stats *calibrate_rows(const fq_graph *g, int limit)
{
    feeder f = {0, limit, false};
    fq_calib_stats *stats = NULL;
    fq_error err;
    if (fq_calibrate(g, NULL, feed_rows, &f, &stats, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return stats;
}

static const fq_value_stats *entry(const fq_calib_stats *stats, const char *name)
{
    int i = fq_calib_stats_find(stats, name);
    if (i < 0)
        fail_msg("no statistics for '%s'", name);
    return &stats->values[i];
}

static void check_min_max(const fq_calib_stats *stats, const char *name, double min, double max)
{
    const fq_value_stats *vs = entry(stats, name);
    if (vs->min != min || vs->max != max)
        fail_msg("'%s': min %g max %g, expected %g %g", name, vs->min, vs->max, min, max);
    assert_int_equal(vs->count, INPUTS * N);
}

static void test_runner_keeps_exact_min_max_of_every_value(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    fq_calib_stats *stats = calibrate_rows(g, INPUTS);

    assert_int_equal(stats->n_values, 5);
    assert_int_equal(stats->inputs_seen, INPUTS);
    check_min_max(stats, "x", -7.0, 6.0);
    check_min_max(stats, "doubled", -14.0, 12.0);
    check_min_max(stats, "relu", 0.0, 12.0);
    check_min_max(stats, "shaped", 0.0, 12.0);
    check_min_max(stats, "out", -1.0, 11.0);
    assert_int_equal(fq_calib_stats_find(stats, "two"), -1);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_runner_histogram_counts_the_zeros_of_relu(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    fq_calib_stats *stats = calibrate_rows(g, INPUTS);
    /* Inputs <= 0: -2, -0.25, -7, 0, -1, -3. */
    assert_int_equal(entry(stats, "relu")->hist[0], 6);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_runner_stops_at_max_inputs(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    feeder f = {0, 100, false};
    fq_calibrate_options options = {fq_session_options_default(), 2};
    fq_calib_stats *stats = NULL;
    assert_int_equal(fq_calibrate(g, &options, feed_rows, &f, &stats, NULL), FQ_OK);
    assert_int_equal(stats->inputs_seen, 2);
    assert_true(entry(stats, "x")->min == -7.0 && entry(stats, "x")->max == 4.0);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_runner_accumulates_into_existing_statistics(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    fq_calib_stats *stats = calibrate_rows(g, 1);
    feeder f = {0, 1, false};
    fq_calibrate_options options = {fq_session_options_default(), 0};
    /* The second pass starts at the feeder's first row again: twice row 0. */
    assert_int_equal(fq_calibrate(g, &options, feed_rows, &f, &stats, NULL), FQ_OK);
    assert_int_equal(stats->inputs_seen, 2);
    assert_int_equal(entry(stats, "out")->count, 2 * N);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_runner_refuses_statistics_of_another_graph(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    const char *names[] = {"a", "b", "c", "d", "e"};
    fq_calib_stats *stats;
    assert_int_equal(fq_calib_stats_create(names, 5, &stats, NULL), FQ_OK);
    fq_calib_stats *given = stats;
    feeder f = {0, 1, false};
    fq_error err;
    assert_int_equal(fq_calibrate(g, NULL, feed_rows, &f, &stats, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'a'"));
    assert_ptr_equal(stats, given);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_runner_with_no_input_is_an_error(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    feeder f = {0, 0, false};
    fq_calib_stats *stats = NULL;
    fq_error err;
    assert_int_equal(fq_calibrate(g, NULL, feed_rows, &f, &stats, &err), FQ_ERR_INVALID_ARG);
    assert_null(stats);
    assert_non_null(strstr(err.message, "at least one input"));
    fq_graph_free(g);
}

static void test_runner_passes_on_a_feed_error(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    feeder f = {0, 3, true};
    fq_calib_stats *stats = NULL;
    fq_error err;
    assert_int_equal(fq_calibrate(g, NULL, feed_rows, &f, &stats, &err), FQ_ERR_IO);
    assert_string_equal(err.message, "feeder broke");
    assert_null(stats);
    fq_graph_free(g);
}

typedef struct observed {
    int calls;
    int last_node;
    float out_first;
} observed;

static fq_status record_node(void *user, int node, const fq_tensor *outputs, int n_outputs,
                             fq_error *err)
{
    observed *o = user;
    assert_int_equal(n_outputs, 1);
    assert_true(node == o->last_node + 1);
    o->calls++;
    o->last_node = node;
    o->out_first = ((const float *)outputs[0].data)[0];
    return node == 1 ? fq_error_set(err, FQ_ERR_INTERNAL, "stop here") : FQ_OK;
}

static void test_session_observer_sees_each_node_and_can_stop_the_run(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    fq_session *s;
    /* Every value written, as calibration runs them (a fused Relu would leave the Mul's output
     * without memory). */
    fq_session_options options = fq_session_options_default();
    options.keep_intermediates = true;
    assert_int_equal(fq_session_create(g, &options, &s, NULL), FQ_OK);
    assert_int_equal(fq_session_set_input(s, 0, inputs[0], sizeof(inputs[0]), NULL), FQ_OK);
    observed o = {0, -1, 0.0f};
    fq_error err;
    assert_int_equal(fq_session_run_observed(s, record_node, &o, &err), FQ_ERR_INTERNAL);
    /* Mul then Relu of 1.0: the run stopped after node 1. */
    assert_int_equal(o.calls, 2);
    assert_true(o.out_first == 2.0f);
    assert_int_equal(fq_session_run_observed(s, NULL, NULL, &err), FQ_OK);
    fq_session_free(s);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner_keeps_exact_min_max_of_every_value),
        cmocka_unit_test(test_runner_histogram_counts_the_zeros_of_relu),
        cmocka_unit_test(test_runner_stops_at_max_inputs),
        cmocka_unit_test(test_runner_accumulates_into_existing_statistics),
        cmocka_unit_test(test_runner_refuses_statistics_of_another_graph),
        cmocka_unit_test(test_runner_with_no_input_is_an_error),
        cmocka_unit_test(test_runner_passes_on_a_feed_error),
        cmocka_unit_test(test_session_observer_sees_each_node_and_can_stop_the_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
