/* The fp16 rewrite of fq_quantize: Conv and Gemm weights become fp16, biases and the graph's
 * inputs and outputs stay f32; a weight beyond fp16's range, an activation beyond the safe fp16
 * bound (with statistics) or a keep_float name keeps a node fp32 with the reason in the report;
 * and, with ../shared, mobilefacenet_128d in fp16 against fp32 on the golden ArcFace input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "facequant/npy.h"
#include "facequant/quantize.h"
#include "graph_builder.h"
#include "ref/tensor_cast_ref.h"
#include "test_util.h"

/* x (1x4x6x6) -> Conv 3x3 pad 1 (8 channels, bias) + Relu -> Flatten -> Gemm (288 x 5) -> y. */
static fq_graph *small_graph(float first_weight)
{
    static const int64_t x_dims[] = {1, 4, 6, 6}, w_dims[] = {8, 4, 3, 3}, b_dims[] = {8};
    static const int64_t g_dims[] = {288, 5}, c_dims[] = {5}, pads[] = {1, 1, 1, 1};
    fq_test_seed(5);
    fq_graph *g = gb_graph(13);
    int v = gb_input(g, "x", 4, x_dims);
    int w = gb_const_f32(g, "conv_w", 4, w_dims, NULL);
    if (first_weight != 0.0f)
        ((float *)g->values[w].data)[0] = first_weight;
    int conv[] = {v, w, gb_const_f32(g, "conv_b", 1, b_dims, NULL)};
    v = gb_node(g, "Conv", conv, 3, "conv_y");
    gb_attr_ints(g, "pads", 4, pads);
    v = gb_node(g, "Relu", &v, 1, "relu_y");
    v = gb_node(g, "Flatten", &v, 1, "flat");
    int gemm[] = {v, gb_const_f32(g, "gemm_b", 2, g_dims, NULL),
                  gb_const_f32(g, "gemm_c", 1, c_dims, NULL)};
    v = gb_node(g, "Gemm", gemm, 3, "y");
    gb_output(g, v);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    return g;
}

static fq_quantize_options fp16_options(void)
{
    fq_quantize_options o = fq_quantize_options_default();
    o.type = FQ_QUANT_FP16;
    return o;
}

static const fq_node *node_of(const fq_graph *g, const char *op)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (!g->nodes[n].dead && strcmp(g->nodes[n].op_type, op) == 0)
            return &g->nodes[n];
    fail_msg("no %s node", op);
    return NULL;
}

static const fq_quant_node_report *entry_of(const fq_quantize_report *r, const char *op)
{
    for (int n = 0; n < r->n_nodes; n++)
        if (strcmp(r->nodes[n].op_type, op) == 0)
            return &r->nodes[n];
    fail_msg("no %s in the report", op);
    return NULL;
}

static fq_graph *quantize(const fq_graph *g, const fq_quantize_options *o,
                          fq_quantize_report **report)
{
    fq_graph *q = NULL;
    fq_error err = {0};
    if (fq_quantize(g, o, &q, report, &err) != FQ_OK)
        fail_msg("quantize: %s", err.message);
    return q;
}

static void test_conv_weights_and_bias_and_gemm_weights_become_fp16(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    fq_quantize_options o = fp16_options();
    fq_quantize_report *r = NULL;
    fq_graph *q = quantize(g, &o, &r);
    const fq_node *conv = node_of(q, "Conv"), *gemm = node_of(q, "Gemm");
    assert_int_equal(fq_node_input(q, conv, 1)->dtype, FQ_DTYPE_F16);
    assert_int_equal(fq_node_input(q, conv, 2)->dtype, FQ_DTYPE_F16);
    assert_int_equal(fq_node_input(q, gemm, 1)->dtype, FQ_DTYPE_F16);
    assert_int_equal(fq_node_input(q, gemm, 2)->dtype, FQ_DTYPE_F32);
    assert_int_equal(entry_of(r, "Conv")->precision, FQ_DTYPE_F16);
    assert_int_equal(entry_of(r, "Gemm")->precision, FQ_DTYPE_F16);
    assert_int_equal(r->quantized, 2);
    assert_int_equal(r->kept_float, 0);
    fq_quantize_report_free(r);
    fq_graph_free(q);
    fq_graph_free(g);
}

static void test_the_fp32_weights_are_dropped_and_the_weight_bytes_nearly_halve(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    fq_quantize_options o = fp16_options();
    fq_quantize_report *r = NULL;
    fq_graph *q = quantize(g, &o, &r);
    /* Weights 288 + 1440 floats, biases 8 (Conv, to fp16) + 5 (Gemm, stays f32) floats. */
    assert_int_equal(r->weight_bytes_before, (288 + 1440 + 13) * 4);
    assert_int_equal(r->weight_bytes_after, (288 + 1440 + 8) * 2 + 5 * 4);
    assert_int_equal(fq_graph_find_value(q, "conv_w"), -1);
    fq_quantize_report_free(r);
    fq_graph_free(q);
    fq_graph_free(g);
}

static void test_graph_inputs_and_outputs_stay_f32_with_their_names(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    fq_quantize_options o = fp16_options();
    fq_graph *q = quantize(g, &o, NULL);
    assert_int_equal(q->n_inputs, 1);
    assert_int_equal(q->n_outputs, 1);
    assert_string_equal(q->values[q->inputs[0]].name, "x");
    assert_string_equal(q->values[q->outputs[0]].name, "y");
    assert_int_equal(q->values[q->inputs[0]].dtype, FQ_DTYPE_F32);
    assert_int_equal(q->values[q->outputs[0]].dtype, FQ_DTYPE_F32);
    fq_graph_free(q);
    fq_graph_free(g);
}

static void round_to_fp16(fq_value *v)
{
    float *data = v->data;
    for (int64_t i = 0; i < fq_shape_numel(&v->shape); i++)
        data[i] = fq_f32_from_f16(fq_f16_from_f32(data[i]));
}

/* Rounds the f32 weights of every Conv and Gemm of g, and the Conv biases, to fp16 values, in
 * place. */
static void round_weights(fq_graph *g)
{
    for (int n = 0; n < g->n_nodes; n++) {
        const fq_node *node = &g->nodes[n];
        bool conv = strcmp(node->op_type, "Conv") == 0;
        if (!conv && strcmp(node->op_type, "Gemm") != 0)
            continue;
        round_to_fp16(&g->values[node->inputs[1]]);
        if (conv && node->n_inputs > 2 && node->inputs[2] >= 0)
            round_to_fp16(&g->values[node->inputs[2]]);
    }
}

static void test_the_fp16_graph_computes_the_float_graph_on_rounded_weights(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    fq_quantize_options o = fp16_options();
    fq_graph *q = quantize(g, &o, NULL);
    round_weights(g);
    float x[144], want[5], got[5];
    fq_test_seed(17);
    for (int i = 0; i < 144; i++)
        x[i] = fq_test_rand_float(-1.0f, 1.0f);
    /* Bit for bit: sessions run fp16 weights in the fp32 arithmetic of the f16w kernels unless
     * they ask for fp16 arithmetic. */
    gb_run(g, x, 144, 0, want, 5);
    gb_run(q, x, 144, 0, got, 5);
    assert_memory_equal(got, want, sizeof(want));
    fq_graph_free(q);
    fq_graph_free(g);
}

static void test_a_weight_beyond_fp16_range_keeps_its_node_f32_with_the_reason(void **state)
{
    (void)state;
    fq_graph *g = small_graph(70000.0f);
    fq_quantize_options o = fp16_options();
    fq_quantize_report *r = NULL;
    fq_graph *q = quantize(g, &o, &r);
    assert_int_equal(fq_node_input(q, node_of(q, "Conv"), 1)->dtype, FQ_DTYPE_F32);
    assert_int_equal(fq_node_input(q, node_of(q, "Gemm"), 1)->dtype, FQ_DTYPE_F16);
    const fq_quant_node_report *e = entry_of(r, "Conv");
    assert_int_equal(e->precision, FQ_DTYPE_F32);
    assert_non_null(e->reason);
    assert_non_null(strstr(e->reason, "conv_w"));
    assert_non_null(strstr(e->reason, "70000"));
    assert_non_null(strstr(e->reason, "65504"));
    assert_int_equal(r->kept_float, 1);
    fq_quantize_report_free(r);
    fq_graph_free(q);
    fq_graph_free(g);
}

/* Statistics for every non-constant f32 value of g, each with range [-1, 1] and one element,
 * except `big`, whose maximum is peak. */
static fq_calib_stats *stats_for(const fq_graph *g, const char *skip, const char *big, double peak)
{
    const char *names[64];
    int count = 0;
    for (int v = 0; v < g->n_values && count < 64; v++) {
        const fq_value *value = &g->values[v];
        if (value->kind != FQ_VALUE_CONSTANT && (skip == NULL || strcmp(value->name, skip) != 0))
            names[count++] = value->name;
    }
    fq_calib_stats *s = NULL;
    assert_int_equal(fq_calib_stats_create(names, count, &s, NULL), FQ_OK);
    for (int i = 0; i < s->n_values; i++) {
        fq_value_stats *vs = &s->values[i];
        vs->min = -1.0;
        vs->max = big != NULL && strcmp(vs->name, big) == 0 ? peak : 1.0;
        vs->count = 1;
    }
    return s;
}

/* The name of the Conv's output (after the fusion of the Relu). */
static const char *conv_output(const fq_graph *g)
{
    return g->values[node_of(g, "Conv")->outputs[0]].name;
}

static void test_an_activation_beyond_the_safe_fp16_bound_keeps_its_node_f32(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    fq_calib_stats *stats = stats_for(g, NULL, conv_output(g), 40000.0);
    fq_quantize_options o = fp16_options();
    o.stats = stats;
    fq_quantize_report *r = NULL;
    fq_graph *q = quantize(g, &o, &r);
    assert_int_equal(fq_node_input(q, node_of(q, "Conv"), 1)->dtype, FQ_DTYPE_F32);
    const fq_quant_node_report *e = entry_of(r, "Conv");
    assert_int_equal(e->precision, FQ_DTYPE_F32);
    assert_non_null(strstr(e->reason, conv_output(g)));
    assert_non_null(strstr(e->reason, "40000"));
    assert_non_null(strstr(e->reason, "32752"));
    assert_int_equal(entry_of(r, "Gemm")->precision, FQ_DTYPE_F16);
    fq_quantize_report_free(r);
    fq_graph_free(q);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_an_activation_within_the_safe_bound_converts(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    fq_calib_stats *stats = stats_for(g, NULL, conv_output(g), 32000.0);
    fq_quantize_options o = fp16_options();
    o.stats = stats;
    fq_quantize_report *r = NULL;
    fq_graph *q = quantize(g, &o, &r);
    assert_int_equal(entry_of(r, "Conv")->precision, FQ_DTYPE_F16);
    fq_quantize_report_free(r);
    fq_graph_free(q);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_statistics_missing_a_checked_value_are_refused_naming_it(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    fq_calib_stats *stats = stats_for(g, "x", NULL, 0.0);
    fq_quantize_options o = fp16_options();
    o.stats = stats;
    fq_graph *q = NULL;
    fq_error err = {0};
    assert_int_equal(fq_quantize(g, &o, &q, NULL, &err), FQ_ERR_INVALID_ARG);
    assert_null(q);
    assert_non_null(strstr(err.message, "'x'"));
    fq_calib_stats_free(stats);
    fq_graph_free(g);
}

static void test_keep_float_leaves_the_named_node_f32(void **state)
{
    (void)state;
    fq_graph *g = small_graph(0.0f);
    const char *keep[] = {node_of(g, "Gemm")->name};
    fq_quantize_options o = fp16_options();
    o.keep_float = keep;
    o.n_keep_float = 1;
    fq_quantize_report *r = NULL;
    fq_graph *q = quantize(g, &o, &r);
    assert_int_equal(fq_node_input(q, node_of(q, "Gemm"), 1)->dtype, FQ_DTYPE_F32);
    assert_int_equal(fq_node_input(q, node_of(q, "Conv"), 1)->dtype, FQ_DTYPE_F16);
    assert_non_null(strstr(entry_of(r, "Gemm")->reason, "request"));
    fq_quantize_report_free(r);
    fq_graph_free(q);
    fq_graph_free(g);
}

/* ---- mobilefacenet_128d on the golden ArcFace input (needs ../shared) ---- */

static void embedding(const fq_graph *g, const fq_npy *input, float *out, size_t count)
{
    gb_run(g, input->data, input->size / sizeof(float), 0, out, count);
}

static double cosine(const float *a, const float *b, size_t n)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

static void test_mobilefacenet_fp16_matches_fp32_and_halves_the_file(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char model[4096], input_path[4096];
    snprintf(model, sizeof(model), "%s/models/mobilefacenet_128d.onnx", shared);
    snprintf(input_path, sizeof(input_path), "%s/golden/inputs/arcface_hanks_112.npy", shared);
    fq_graph *g = NULL;
    fq_error err = {0};
    fq_npy input = {0};
    assert_int_equal(fq_npy_read_file(input_path, &input, &err), FQ_OK);
    assert_int_equal(fq_onnx_read_file(model, &g, &err), FQ_OK);
    fq_input_size size = {.width = 112, .height = 112, .batch = 1};
    if (fq_passes_run(g, &size, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);

    fq_quantize_options o = fp16_options();
    fq_quantize_report *r = NULL;
    fq_graph *q = quantize(g, &o, &r);
    assert_true(r->quantized > 0);
    float want[128], got[128];
    embedding(g, &input, want, 128);
    embedding(q, &input, got, 128);
    double cos = cosine(want, got, 128);
    printf("# mobilefacenet_128d fp16: %d nodes fp16, %d kept fp32, embedding cosine %.7f\n",
           r->quantized, r->kept_float, cos);
    assert_true(cos >= 0.9995);

    size_t onnx_size = 0;
    void *onnx = fq_test_read_file(model, &onnx_size);
    assert_non_null(onnx);
    void *fqm = NULL;
    size_t fqm_size = 0;
    assert_int_equal(fq_fqm_write_memory(q, NULL, 0, &fqm, &fqm_size, &err), FQ_OK);
    printf("# mobilefacenet_128d: fp16 .fqm %zu bytes, ONNX %zu bytes (%.1f%%)\n", fqm_size,
           onnx_size, 100.0 * (double)fqm_size / (double)onnx_size);
    assert_true((double)fqm_size <= 0.52 * (double)onnx_size);
    fq_free(fqm);
    free(onnx);
    fq_quantize_report_free(r);
    fq_graph_free(q);
    fq_graph_free(g);
    fq_npy_free(&input);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_weights_and_bias_and_gemm_weights_become_fp16),
        cmocka_unit_test(test_the_fp32_weights_are_dropped_and_the_weight_bytes_nearly_halve),
        cmocka_unit_test(test_graph_inputs_and_outputs_stay_f32_with_their_names),
        cmocka_unit_test(test_the_fp16_graph_computes_the_float_graph_on_rounded_weights),
        cmocka_unit_test(test_a_weight_beyond_fp16_range_keeps_its_node_f32_with_the_reason),
        cmocka_unit_test(test_an_activation_beyond_the_safe_fp16_bound_keeps_its_node_f32),
        cmocka_unit_test(test_an_activation_within_the_safe_bound_converts),
        cmocka_unit_test(test_statistics_missing_a_checked_value_are_refused_naming_it),
        cmocka_unit_test(test_keep_float_leaves_the_named_node_f32),
        cmocka_unit_test(test_mobilefacenet_fp16_matches_fp32_and_halves_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
