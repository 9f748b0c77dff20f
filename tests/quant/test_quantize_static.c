/* The static int8 rewrite: which nodes become which quantized operators, the dtypes, scales and
 * wiring of the result, the report, and (once the quantized operators exist) its numerics on
 * small graphs and on mobilefacenet. */
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
#include "quant/quantize_internal.h"
#include "quant_fixture.h"
#include "test_util.h"

static const int64_t x_dims[] = {1, 3, 6, 6};
static const char *const int8_ops[] = {"QuantizeLinear", "DequantizeLinear", "QLinearConv"};

/* x -> Conv "conv1" (3 -> 4, 3x3, act) -> output. */
static fq_graph *one_conv(const char *act)
{
    fq_test_seed(7);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    gb_output(g, qf_conv(g, x, "conv1", 3, 4, 3, 1, act));
    qf_prepare(g);
    return g;
}

typedef struct quantized {
    fq_graph *flt;
    fq_calib_stats *stats;
    fq_graph *q;
    fq_quantize_report *report;
} quantized;

static quantized quantize_nchw(fq_graph *g, const char *const *keep, int n_keep)
{
    qf_feed feed = {4, 100, -1.0f, 1.0f};
    quantized r = {g, qf_calibrate(g, &feed), NULL, NULL};
    r.q = qf_quantize(g, r.stats, false, keep, n_keep, &r.report);
    return r;
}

static void quantized_free(quantized *r)
{
    fq_graph_free(r->flt);
    fq_graph_free(r->q);
    fq_calib_stats_free(r->stats);
    fq_quantize_report_free(r->report);
}

/* The u8 parameters fq_quantize must derive from the statistics of a value. */
static void expected_params(const fq_calib_stats *stats, const char *name, float *scale,
                            int32_t *zero_point)
{
    int s = fq_calib_stats_find(stats, name);
    assert_true(s >= 0);
    fq_calib_range range;
    assert_int_equal(fq_value_stats_range(&stats->values[s], FQ_CALIB_PERCENTILE,
                                          FQ_CALIB_DEFAULT_PERCENTILE, &range, NULL), FQ_OK);
    fq_calib_params_u8_asymmetric(&range, scale, zero_point);
}

static const fq_value *input_of(const fq_graph *g, int node, int i)
{
    assert_true(node >= 0);
    const fq_value *v = fq_node_input(g, &g->nodes[node], i);
    assert_non_null(v);
    return v;
}

static float scalar_f32(const fq_graph *g, int node, int i)
{
    const fq_value *v = input_of(g, node, i);
    assert_int_equal(v->dtype, FQ_DTYPE_F32);
    assert_true(fq_value_is_constant(v));
    return *(const float *)v->data;
}

static int scalar_u8(const fq_graph *g, int node, int i)
{
    const fq_value *v = input_of(g, node, i);
    assert_int_equal(v->dtype, FQ_DTYPE_U8);
    return *(const uint8_t *)v->data;
}

static void test_conv_becomes_qlinearconv_with_per_channel_i8_weights(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv("Relu"), NULL, 0);
    assert_int_equal(gb_count_op(r.q, "Conv"), 0);
    assert_int_equal(gb_count_op(r.q, "QLinearConv"), 1);
    int n = qf_find_node(r.q, "QLinearConv", 0);
    assert_int_equal(r.q->nodes[n].n_inputs, 9);

    const fq_value *w = input_of(r.q, n, 3);
    assert_int_equal(w->dtype, FQ_DTYPE_I8);
    const fq_value *w_float = &r.flt->values[fq_graph_find_value(r.flt, "conv1_w")];
    int8_t expected[4 * 27];
    float scale[4];
    fq_quant_weights_i8(w_float->data, 4, 27, expected, scale);
    assert_memory_equal(w->data, expected, sizeof(expected));
    assert_memory_equal(input_of(r.q, n, 4)->data, scale, sizeof(scale));
    assert_int_equal(input_of(r.q, n, 5)->dtype, FQ_DTYPE_I8);
    assert_int_equal(fq_shape_numel(&input_of(r.q, n, 5)->shape), 4);
    quantized_free(&r);
}

static void test_conv_bias_is_i32_at_input_times_weight_scale(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv(NULL), NULL, 0);
    int n = qf_find_node(r.q, "QLinearConv", 0);
    const fq_value *b = input_of(r.q, n, 8);
    assert_int_equal(b->dtype, FQ_DTYPE_I32);
    const float *w_scale = input_of(r.q, n, 4)->data;
    float x_scale = scalar_f32(r.q, n, 1);
    const float *b_float = r.flt->values[fq_graph_find_value(r.flt, "conv1_b")].data;
    int32_t expected[4];
    fq_quant_bias_i32(b_float, 4, x_scale, w_scale, expected);
    assert_memory_equal(b->data, expected, sizeof(expected));
    quantized_free(&r);
}

static void test_activation_params_come_from_the_statistics(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv("Clip"), NULL, 0);
    int n = qf_find_node(r.q, "QLinearConv", 0);
    float scale;
    int32_t zp;
    expected_params(r.stats, "x", &scale, &zp);
    assert_float_equal(scalar_f32(r.q, n, 1), scale, 0.0f);
    assert_int_equal(scalar_u8(r.q, n, 2), zp);
    expected_params(r.stats, "conv1", &scale, &zp);
    assert_float_equal(scalar_f32(r.q, n, 6), scale, 0.0f);
    assert_int_equal(scalar_u8(r.q, n, 7), zp);
    assert_int_equal(r.q->nodes[n].act.kind, FQ_ACT_CLIP);
    const fq_value *y = fq_node_output(r.q, &r.q->nodes[n], 0);
    assert_int_equal(y->dtype, FQ_DTYPE_U8);
    assert_float_equal(y->quant.scale[0], scale, 0.0f);
    quantized_free(&r);
}

static void test_graph_input_is_quantized_right_after(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv("Relu"), NULL, 0);
    assert_int_equal(gb_count_op(r.q, "QuantizeLinear"), 1);
    int n = qf_find_node(r.q, "QuantizeLinear", 0);
    assert_int_equal(r.q->nodes[n].inputs[0], r.q->inputs[0]);
    assert_int_equal(r.q->values[r.q->nodes[n].outputs[0]].dtype, FQ_DTYPE_U8);
    quantized_free(&r);
}

static void test_outputs_keep_name_dtype_and_shape(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv("Relu"), NULL, 0);
    assert_int_equal(r.q->n_outputs, 1);
    const fq_value *out = &r.q->values[r.q->outputs[0]];
    assert_string_equal(out->name, "conv1");
    assert_int_equal(out->dtype, FQ_DTYPE_F32);
    assert_true(fq_shape_equal(&out->shape, &r.flt->values[r.flt->outputs[0]].shape));
    int producer = fq_graph_producer(r.q, r.q->outputs[0]);
    assert_string_equal(r.q->nodes[producer].op_type, "DequantizeLinear");
    quantized_free(&r);
}

static void test_report_marks_quantized_nodes_i8(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv("Relu"), NULL, 0);
    const fq_quant_node_report *e = qf_report_entry(r.report, "conv1");
    assert_int_equal(e->precision, FQ_DTYPE_I8);
    assert_null(e->reason);
    assert_int_equal(r.report->quantized, 1);
    assert_int_equal(r.report->kept_float, 0);
    quantized_free(&r);
}

static void test_kept_float_node_stays_conv_with_reason(void **state)
{
    (void)state;
    const char *keep[] = {"conv1"};
    quantized r = quantize_nchw(one_conv("Relu"), keep, 1);
    assert_int_equal(gb_count_op(r.q, "Conv"), 1);
    assert_int_equal(gb_count_op(r.q, "QLinearConv"), 0);
    assert_int_equal(gb_count_op(r.q, "QuantizeLinear"), 0);
    const fq_quant_node_report *e = qf_report_entry(r.report, "conv1");
    assert_int_equal(e->precision, FQ_DTYPE_F32);
    assert_string_equal(e->reason, "kept float by request");
    assert_int_equal(r.report->kept_float, 1);
    quantized_free(&r);
}

static void test_leaky_relu_fused_conv_stays_float(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv("LeakyRelu"), NULL, 0);
    assert_int_equal(gb_count_op(r.q, "QLinearConv"), 0);
    assert_string_equal(qf_report_entry(r.report, "conv1")->reason, "fused LeakyRelu");
    quantized_free(&r);
}

static void test_sigmoid_fused_conv_stays_float(void **state)
{
    (void)state;
    quantized r = quantize_nchw(one_conv("Sigmoid"), NULL, 0);
    assert_int_equal(gb_count_op(r.q, "QLinearConv"), 0);
    assert_string_equal(qf_report_entry(r.report, "conv1")->reason, "fused Sigmoid");
    quantized_free(&r);
}

/* x -> Conv "score" -> Reshape [1, -1] -> Sigmoid -> output, as a detector's score head. */
static quantized quantize_score_head(fq_calib_method method, double percentile)
{
    fq_test_seed(12);
    fq_graph *g = gb_graph(13);
    int v = qf_conv(g, gb_input(g, "x", 4, x_dims), "score", 3, 2, 3, 1, NULL);
    const int64_t two[] = {2}, flat[] = {1, -1};
    int reshape[] = {v, gb_const_i64(g, "flat", 1, two, flat)};
    v = gb_node(g, "Reshape", reshape, 2, "logits");
    gb_output(g, gb_node(g, "Sigmoid", &v, 1, "scores"));
    qf_prepare(g);
    qf_feed feed = {4, 400, -2.0f, 2.0f};
    quantized r = {g, qf_calibrate(g, &feed), NULL, NULL};
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = r.stats;
    o.channels_last = false;
    o.method = method;
    o.percentile = percentile;
    fq_error err;
    if (fq_quantize(g, &o, &r.q, &r.report, &err) != FQ_OK)
        fail_msg("quantize: %s", err.message);
    return r;
}

static void test_score_head_is_quantized_up_to_the_sigmoid(void **state)
{
    (void)state;
    quantized r = quantize_score_head(FQ_CALIB_MINMAX, 0);
    assert_int_equal(gb_count_op(r.q, "QLinearConv"), 1);
    int sigmoid = qf_find_node(r.q, "Sigmoid", 0);
    int producer = fq_graph_producer(r.q, r.q->nodes[sigmoid].inputs[0]);
    assert_string_equal(r.q->nodes[producer].op_type, "DequantizeLinear");
    assert_int_equal(qf_find_node(r.q, "Reshape", 0) >= 0, 1);
    quantized_free(&r);
}

/* The median of the logits as the clipping point cuts every higher score to one value. */
static void test_score_conv_stays_float_when_its_range_clips_the_sigmoid(void **state)
{
    (void)state;
    quantized r = quantize_score_head(FQ_CALIB_PERCENTILE, 50.0);
    assert_int_equal(gb_count_op(r.q, "QLinearConv"), 0);
    const fq_quant_node_report *e = qf_report_entry(r.report, "score");
    assert_int_equal(e->precision, FQ_DTYPE_F32);
    assert_non_null(strstr(e->reason, "feeds a Sigmoid"));
    quantized_free(&r);
}

/* x -> conv1 -> Mul 0.5 -> conv2 -> output */
static void test_float_op_between_int8_nodes_gets_dequantize_and_quantize(void **state)
{
    (void)state;
    fq_test_seed(3);
    fq_graph *g = gb_graph(13);
    int v = qf_conv(g, gb_input(g, "x", 4, x_dims), "conv1", 3, 4, 3, 1, "Relu");
    const float half = 0.5f;
    int mul[] = {v, gb_const_f32(g, "half", 0, NULL, &half)};
    v = gb_node(g, "Mul", mul, 2, "scaled");
    gb_output(g, qf_conv(g, v, "conv2", 4, 4, 3, 1, NULL));
    qf_prepare(g);
    quantized r = quantize_nchw(g, NULL, 0);

    assert_int_equal(gb_count_op(r.q, "QLinearConv"), 2);
    assert_int_equal(gb_count_op(r.q, "QuantizeLinear"), 2);
    assert_int_equal(gb_count_op(r.q, "DequantizeLinear"), 2);
    int m = qf_find_node(r.q, "Mul", 0);
    int before = fq_graph_producer(r.q, r.q->nodes[m].inputs[0]);
    assert_string_equal(r.q->nodes[before].op_type, "DequantizeLinear");
    assert_string_equal(qf_report_entry(r.report, "Mul_2")->reason, "no int8 form for Mul");
    quantized_free(&r);
}

static void test_add_of_two_activations_becomes_qlinearadd(void **state)
{
    (void)state;
    fq_test_seed(4);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    int add[] = {qf_conv(g, x, "conv1", 3, 4, 3, 1, NULL), qf_conv(g, x, "conv2", 3, 4, 1, 1,
                                                                    "Relu")};
    gb_output(g, gb_node(g, "Add", add, 2, "sum"));
    qf_prepare(g);
    quantized r = quantize_nchw(g, NULL, 0);

    assert_int_equal(gb_count_op(r.q, "Add"), 0);
    int n = qf_find_node(r.q, "QLinearAdd", 0);
    assert_true(n >= 0);
    assert_int_equal(r.q->nodes[n].n_inputs, 8);
    for (int i = 0; i < 2; i++) {
        int producer = fq_graph_producer(r.q, r.q->nodes[n].inputs[3 * i]);
        assert_string_equal(r.q->nodes[producer].op_type, "QLinearConv");
    }
    float scale;
    int32_t zp;
    expected_params(r.stats, "sum", &scale, &zp);
    assert_float_equal(scalar_f32(r.q, n, 6), scale, 0.0f);
    assert_int_equal(scalar_u8(r.q, n, 7), zp);
    quantized_free(&r);
}

static void test_relu_after_an_add_is_fused_into_the_qlinearadd(void **state)
{
    (void)state;
    fq_test_seed(4);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    int add[] = {qf_conv(g, x, "conv1", 3, 4, 3, 1, NULL), qf_conv(g, x, "conv2", 3, 4, 1, 1,
                                                                    NULL)};
    int sum = gb_node(g, "Add", add, 2, "sum");
    gb_output(g, gb_node(g, "Relu", &sum, 1, "out"));
    qf_prepare(g);
    quantized r = quantize_nchw(g, NULL, 0);

    assert_int_equal(gb_count_op(r.q, "Relu"), 0);
    int n = qf_find_node(r.q, "QLinearAdd", 0);
    assert_true(n >= 0);
    assert_int_equal(r.q->nodes[n].act.kind, FQ_ACT_RELU);
    float scale;
    int32_t zp;
    expected_params(r.stats, "out", &scale, &zp); /* the Relu's output statistics */
    assert_float_equal(scalar_f32(r.q, n, 6), scale, 0.0f);
    assert_int_equal(scalar_u8(r.q, n, 7), zp);
    int relu = qf_find_node(r.flt, "Relu", 0);
    assert_true(relu >= 0);
    const fq_quant_node_report *e = qf_report_entry(r.report, r.flt->nodes[relu].name);
    assert_int_equal(e->precision, FQ_DTYPE_I8);
    assert_non_null(strstr(e->reason, "fused into"));
    quantized_free(&r);
}

static fq_graph *concat_graph(bool pool_first)
{
    fq_test_seed(5);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    int a = qf_conv(g, x, "conv1", 3, 4, 3, 1, "Relu");
    if (pool_first) {
        const int64_t one[] = {1, 1};
        a = gb_node(g, "MaxPool", &a, 1, "pooled");
        gb_attr_ints(g, "kernel_shape", 2, one);
    }
    int parts[] = {a, qf_conv(g, x, "conv2", 3, 2, 3, 1, NULL)};
    gb_output(g, gb_node(g, "Concat", parts, 2, "joined"));
    gb_attr_int(g, "axis", 1);
    qf_prepare(g);
    return g;
}

static void test_concat_inputs_are_written_with_the_concat_params(void **state)
{
    (void)state;
    quantized r = quantize_nchw(concat_graph(false), NULL, 0);
    int c = qf_find_node(r.q, "Concat", 0);
    const fq_value *out = fq_node_output(r.q, &r.q->nodes[c], 0);
    assert_int_equal(out->dtype, FQ_DTYPE_U8);
    for (int i = 0; i < 2; i++) {
        const fq_value *in = input_of(r.q, c, i);
        assert_float_equal(in->quant.scale[0], out->quant.scale[0], 0.0f);
        assert_int_equal(in->quant.zero_point[0], out->quant.zero_point[0]);
        int producer = fq_graph_producer(r.q, r.q->nodes[c].inputs[i]);
        assert_string_equal(r.q->nodes[producer].op_type, "QLinearConv");
    }
    quantized_free(&r);
}

static void test_concat_requantizes_an_input_whose_producer_keeps_its_params(void **state)
{
    (void)state;
    quantized r = quantize_nchw(concat_graph(true), NULL, 0);
    int c = qf_find_node(r.q, "Concat", 0);
    int producer = fq_graph_producer(r.q, r.q->nodes[c].inputs[0]);
    assert_string_equal(r.q->nodes[producer].op_type, "QuantizeLinear");
    int dq = fq_graph_producer(r.q, r.q->nodes[producer].inputs[0]);
    assert_string_equal(r.q->nodes[dq].op_type, "DequantizeLinear");
    int pool = fq_graph_producer(r.q, r.q->nodes[dq].inputs[0]);
    assert_string_equal(r.q->nodes[pool].op_type, "MaxPool");
    quantized_free(&r);
}

static void test_maxpool_runs_on_u8_with_its_input_params(void **state)
{
    (void)state;
    quantized r = quantize_nchw(concat_graph(true), NULL, 0);
    int p = qf_find_node(r.q, "MaxPool", 0);
    const fq_value *in = input_of(r.q, p, 0);
    const fq_value *out = fq_node_output(r.q, &r.q->nodes[p], 0);
    assert_int_equal(in->dtype, FQ_DTYPE_U8);
    assert_int_equal(out->dtype, FQ_DTYPE_U8);
    assert_float_equal(in->quant.scale[0], out->quant.scale[0], 0.0f);
    assert_int_equal(in->quant.zero_point[0], out->quant.zero_point[0]);
    assert_int_equal(qf_report_entry(r.report, "MaxPool_2")->precision, FQ_DTYPE_I8);
    quantized_free(&r);
}

static void test_global_average_pool_becomes_qlinear(void **state)
{
    (void)state;
    fq_test_seed(6);
    fq_graph *g = gb_graph(13);
    int v = qf_conv(g, gb_input(g, "x", 4, x_dims), "conv1", 3, 4, 3, 1, "Relu");
    gb_output(g, gb_node(g, "GlobalAveragePool", &v, 1, "pooled"));
    qf_prepare(g);
    quantized r = quantize_nchw(g, NULL, 0);
    int n = qf_find_node(r.q, "QLinearGlobalAveragePool", 0);
    assert_true(n >= 0);
    assert_int_equal(r.q->nodes[n].n_inputs, 5);
    assert_int_equal(gb_count_op(r.q, "GlobalAveragePool"), 0);
    quantized_free(&r);
}

static void test_statistics_missing_a_value_are_refused_naming_it(void **state)
{
    (void)state;
    fq_graph *g = one_conv("Relu");
    const char *names[] = {"x"};
    fq_calib_stats *stats = NULL;
    assert_int_equal(fq_calib_stats_create(names, 1, &stats, NULL), FQ_OK);
    const float some[] = {-1.0f, 0.5f, 1.0f};
    fq_value_stats_add(&stats->values[0], some, 3);
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    fq_graph *q = NULL;
    fq_error err;
    assert_int_equal(fq_quantize(g, &o, &q, NULL, &err), FQ_ERR_INVALID_ARG);
    assert_null(q);
    assert_non_null(strstr(err.message, "'conv1'"));
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_saturated_biases_are_counted(void **state)
{
    (void)state;
    fq_graph *g = one_conv(NULL);
    float *w = g->values[fq_graph_find_value(g, "conv1_w")].data;
    for (int i = 0; i < 4 * 27; i++)
        w[i] *= 1e-3f;
    float *b = g->values[fq_graph_find_value(g, "conv1_b")].data;
    for (int i = 0; i < 4; i++)
        b[i] = 1.0f;
    qf_feed feed = {2, 9, 0.0f, 1e-3f};
    fq_calib_stats *stats = qf_calibrate(g, &feed);
    fq_quantize_report *report = NULL;
    fq_graph *q = qf_quantize(g, stats, false, NULL, 0, &report);
    assert_int_equal(report->saturated_biases, 4);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

/* x -> depthwise 3x3 Conv "dw" (pads 1) -> output. */
static fq_graph *depthwise(const char *act)
{
    fq_test_seed(8);
    fq_graph *g = gb_graph(13);
    gb_output(g, qf_conv(g, gb_input(g, "x", 4, x_dims), "dw", 3, 3, 3, 3, act));
    qf_prepare(g);
    return g;
}

/* Inputs with a mean far from 0, so that weight rounding shifts the output mean. */
static quantized quantize_depthwise(bool bias_correction, bool keep_means)
{
    fq_graph *g = depthwise(NULL);
    qf_feed feed = {4, 300, 0.5f, 2.0f};
    quantized r = {g, qf_calibrate(g, &feed), NULL, NULL};
    if (!keep_means) {
        for (int v = 0; v < r.stats->n_values; v++) {
            fq_value_stats *vs = &r.stats->values[v];
            fq_free(vs->channel_sum);
            fq_free(vs->channel_count);
            vs->channel_sum = NULL;
            vs->channel_count = NULL;
            vs->channels = 0;
        }
    }
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = r.stats;
    o.channels_last = false;
    o.bias_correction = bias_correction;
    fq_error err;
    if (fq_quantize(g, &o, &r.q, &r.report, &err) != FQ_OK)
        fail_msg("quantize: %s", err.message);
    return r;
}

static void test_depthwise_bias_correction_without_means_is_reported(void **state)
{
    (void)state;
    quantized r = quantize_depthwise(true, false);
    const fq_quant_node_report *e = qf_report_entry(r.report, "dw");
    assert_int_equal(e->precision, FQ_DTYPE_I8);
    assert_non_null(e->reason);
    assert_non_null(strstr(e->reason, "bias correction skipped"));
    quantized_free(&r);
}

/* b'[c] = b[c] - mean_c sum_ij (q s - w)[c][i][j] cover_i cover_j; on a 6x6 input with pads 1
 * the outer taps of a 3-tap axis see the input at 5 of 6 output positions. */
static void test_depthwise_bias_is_corrected_from_the_input_means(void **state)
{
    (void)state;
    quantized r = quantize_depthwise(true, true);
    assert_null(qf_report_entry(r.report, "dw")->reason);
    int n = qf_find_node(r.q, "QLinearConv", 0);
    const int8_t *q = input_of(r.q, n, 3)->data;
    const float *s = input_of(r.q, n, 4)->data;
    float x_scale = scalar_f32(r.q, n, 1);
    const float *w = r.flt->values[fq_graph_find_value(r.flt, "dw_w")].data;
    const float *b = r.flt->values[fq_graph_find_value(r.flt, "dw_b")].data;
    const fq_value_stats *xs = &r.stats->values[fq_calib_stats_find(r.stats, "x")];
    const double cover[3] = {5.0 / 6.0, 1.0, 5.0 / 6.0};
    float corrected[3];
    for (int c = 0; c < 3; c++) {
        double mean, shift = 0;
        assert_true(fq_value_stats_channel_mean(xs, c, &mean));
        for (int k = 0; k < 9; k++)
            shift += ((double)q[c * 9 + k] * s[c] - w[c * 9 + k]) * cover[k / 3] * cover[k % 3];
        corrected[c] = (float)(b[c] - mean * shift);
    }
    int32_t expected[3];
    fq_quant_bias_i32(corrected, 3, x_scale, s, expected);
    const int32_t *got = input_of(r.q, n, 8)->data;
    for (int c = 0; c < 3; c++)
        assert_true(got[c] >= expected[c] - 1 && got[c] <= expected[c] + 1);
    quantized_free(&r);
}

/* Mean over the output of int8 minus float, per channel, on one fresh input. */
static void channel_mean_errors(const quantized *r, double *errors)
{
    float x[108], ref[108], got[108];
    fq_test_seed(901);
    for (int i = 0; i < 108; i++)
        x[i] = fq_test_rand_float(0.5f, 2.0f);
    gb_run(r->flt, x, 108, 0, ref, 108);
    gb_run(r->q, x, 108, 0, got, 108);
    for (int c = 0; c < 3; c++) {
        errors[c] = 0;
        for (int i = 0; i < 36; i++)
            errors[c] += (double)got[c * 36 + i] - ref[c * 36 + i];
        errors[c] /= 36;
    }
}

static void test_bias_correction_reduces_the_mean_output_error(void **state)
{
    (void)state;
    qf_require_ops(int8_ops, 3);
    quantized on = quantize_depthwise(true, true);
    quantized off = quantize_depthwise(false, true);
    double e_on[3], e_off[3], sum_on = 0, sum_off = 0;
    channel_mean_errors(&on, e_on);
    channel_mean_errors(&off, e_off);
    for (int c = 0; c < 3; c++) {
        sum_on += fabs(e_on[c]);
        sum_off += fabs(e_off[c]);
    }
    print_message("depthwise mean |error| per channel: %.6f corrected, %.6f not\n", sum_on / 3,
                  sum_off / 3);
    assert_true(sum_on < sum_off);
    quantized_free(&on);
    quantized_free(&off);
}

/* ---- numerics, once the operators exist ---- */

static double cosine(const float *a, const float *b, size_t n)
{
    double dot = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        dot += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return dot / (sqrt(aa) * sqrt(bb));
}

static void test_quantized_conv_chain_follows_the_float_graph(void **state)
{
    (void)state;
    qf_require_ops(int8_ops, 3);
    fq_test_seed(11);
    fq_graph *g = gb_graph(13);
    int v = qf_conv(g, gb_input(g, "x", 4, x_dims), "conv1", 3, 8, 3, 1, "Relu");
    gb_output(g, qf_conv(g, v, "conv2", 8, 4, 3, 1, NULL));
    qf_prepare(g);
    quantized r = quantize_nchw(g, NULL, 0);
    float x[108], ref[144], got[144];
    fq_test_seed(100);
    for (int i = 0; i < 108; i++)
        x[i] = fq_test_rand_float(-1.0f, 1.0f);
    gb_run(r.flt, x, 108, 0, ref, 144);
    gb_run(r.q, x, 108, 0, got, 144);
    double c = cosine(ref, got, 144);
    print_message("two-conv chain: output cosine int8 vs f32 %.6f\n", c);
    assert_true(c >= 0.995);
    quantized_free(&r);
}

/* ---- mobilefacenet on the golden inputs ---- */

typedef struct npy_feed {
    const fq_npy *inputs;
    int count;
} npy_feed;

static fq_status feed_npy(void *user, int index, fq_tensor *inputs, int n_inputs, bool *more,
                          fq_error *err)
{
    npy_feed *feed = user;
    *more = index < feed->count;
    if (!*more)
        return FQ_OK;
    size_t bytes = (size_t)fq_shape_numel(&inputs[0].shape) * sizeof(float);
    if (n_inputs != 1 || feed->inputs[index].size != bytes)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "golden input %d does not fit", index);
    memcpy(inputs[0].data, feed->inputs[index].data, bytes);
    return FQ_OK;
}

static fq_graph *load_model(const char *shared, const char *file, int64_t size)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/%s", shared, file);
    fq_graph *g = NULL;
    fq_error err;
    if (fq_onnx_read_file(path, &g, &err) != FQ_OK)
        fail_msg("%s: %s", path, err.message);
    fq_input_size request = {size, size, 0};
    if (fq_passes_run(g, &request, &err) != FQ_OK)
        fail_msg("%s: %s", path, err.message);
    return g;
}

static void read_golden_input(const char *shared, const char *name, fq_npy *npy)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/golden/inputs/%s.npy", shared, name);
    fq_error err;
    if (fq_npy_read_file(path, npy, &err) != FQ_OK)
        fail_msg("%s: %s", path, err.message);
}

static void count_precisions(const fq_quantize_report *report, const fq_graph *q,
                             const char *model)
{
    int i8 = 0, f32 = 0;
    for (int i = 0; i < report->n_nodes; i++) {
        const fq_quant_node_report *e = &report->nodes[i];
        e->precision == FQ_DTYPE_I8 ? i8++ : f32++;
        if (e->precision != FQ_DTYPE_I8)
            print_message("  float: %s (%s): %s\n", e->node, e->op_type,
                          e->reason != NULL ? e->reason : "-");
    }
    print_message("%s: float graph %d nodes: %d int8, %d float (%d compute nodes kept float), "
                  "%d saturated biases; quantized graph %d nodes (%d QLinearConv, %d Q, %d DQ, "
                  "%d Transpose)\n", model, report->n_nodes, i8, f32, report->kept_float,
                  report->saturated_biases, q->n_nodes, gb_count_op(q, "QLinearConv"),
                  gb_count_op(q, "QuantizeLinear"), gb_count_op(q, "DequantizeLinear"),
                  gb_count_op(q, "Transpose"));
}

/* Quantizes a model with statistics of the given golden inputs and returns the mean output
 * cosine against the float model on them. */
static double golden_cosine(const char *file, int64_t size, const char *const *inputs,
                            int n_inputs)
{
    const char *shared = fq_test_require_shared();
    qf_require_ops(int8_ops, 3);
    fq_graph *g = load_model(shared, file, size);
    fq_npy npy[4];
    for (int i = 0; i < n_inputs; i++)
        read_golden_input(shared, inputs[i], &npy[i]);
    npy_feed feed = {npy, n_inputs};
    fq_calib_stats *stats = NULL;
    fq_error err;
    if (fq_calibrate(g, NULL, feed_npy, &feed, &stats, &err) != FQ_OK)
        fail_msg("calibrate: %s", err.message);
    fq_quantize_report *report = NULL;
    fq_graph *q = qf_quantize(g, stats, true, NULL, 0, &report);
    count_precisions(report, q, file);
    fq_session_options session = fq_session_options_default();
    fq_output_agreement a;
    if (fq_measure_agreement(g, q, &session, feed_npy, &feed, 0, &a, &err) != FQ_OK)
        fail_msg("agreement: %s", err.message);
    print_message("%s: output cosine int8 vs f32 mean %.6f min %.6f, SQNR %.2f dB\n", file,
                  a.cosine_mean, a.cosine_min, a.sqnr_db);
    for (int i = 0; i < n_inputs; i++)
        fq_npy_free(&npy[i]);
    fq_quantize_report_free(report);
    fq_graph_free(q);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
    return a.cosine_min;
}

static void test_mobilefacenet_int8_keeps_output_cosine_above_0_99(void **state)
{
    (void)state;
    const char *inputs[] = {"arcface_hanks_112"};
    assert_true(golden_cosine("mobilefacenet_128d.onnx", 112, inputs, 1) >= 0.99);
}

/* SCRFD-500M: the figure is reported; int8 detectors are judged on detections elsewhere. */
static void test_det_500m_int8_output_cosine_is_measured(void **state)
{
    (void)state;
    const char *inputs[] = {"scrfd_t1_640"};
    assert_true(golden_cosine("det_500m.onnx", 640, inputs, 1) >= 0.9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_becomes_qlinearconv_with_per_channel_i8_weights),
        cmocka_unit_test(test_conv_bias_is_i32_at_input_times_weight_scale),
        cmocka_unit_test(test_activation_params_come_from_the_statistics),
        cmocka_unit_test(test_graph_input_is_quantized_right_after),
        cmocka_unit_test(test_outputs_keep_name_dtype_and_shape),
        cmocka_unit_test(test_report_marks_quantized_nodes_i8),
        cmocka_unit_test(test_kept_float_node_stays_conv_with_reason),
        cmocka_unit_test(test_leaky_relu_fused_conv_stays_float),
        cmocka_unit_test(test_sigmoid_fused_conv_stays_float),
        cmocka_unit_test(test_score_head_is_quantized_up_to_the_sigmoid),
        cmocka_unit_test(test_score_conv_stays_float_when_its_range_clips_the_sigmoid),
        cmocka_unit_test(test_float_op_between_int8_nodes_gets_dequantize_and_quantize),
        cmocka_unit_test(test_add_of_two_activations_becomes_qlinearadd),
        cmocka_unit_test(test_relu_after_an_add_is_fused_into_the_qlinearadd),
        cmocka_unit_test(test_concat_inputs_are_written_with_the_concat_params),
        cmocka_unit_test(test_concat_requantizes_an_input_whose_producer_keeps_its_params),
        cmocka_unit_test(test_maxpool_runs_on_u8_with_its_input_params),
        cmocka_unit_test(test_global_average_pool_becomes_qlinear),
        cmocka_unit_test(test_statistics_missing_a_value_are_refused_naming_it),
        cmocka_unit_test(test_saturated_biases_are_counted),
        cmocka_unit_test(test_depthwise_bias_correction_without_means_is_reported),
        cmocka_unit_test(test_depthwise_bias_is_corrected_from_the_input_means),
        cmocka_unit_test(test_bias_correction_reduces_the_mean_output_error),
        cmocka_unit_test(test_quantized_conv_chain_follows_the_float_graph),
        cmocka_unit_test(test_mobilefacenet_int8_keeps_output_cosine_above_0_99),
        cmocka_unit_test(test_det_500m_int8_output_cosine_is_measured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
