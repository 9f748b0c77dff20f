/* QDQ models: import (fq_pass_fuse_qdq) of DequantizeLinear/QuantizeLinear patterns onto the
 * int8 operators, export (fq_qdq_export) of the quantized IR as a standard QDQ graph, the round
 * trip between the two, and the ORT-made anchor models of ../shared/anchors/ort-qdq. */
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
#include "graph_builder.h"
#include "test_util.h"

/* ---- Building quantized graphs ----------------------------------------------------------- */

static int add_const(fq_graph *g, const char *name, fq_dtype dtype, int rank,
                     const int64_t *dims, const void *data)
{
    fq_shape shape = {.rank = rank};
    for (int d = 0; d < rank; d++)
        shape.dims[d] = dims[d];
    fq_error err = {0};
    int v;
    assert_int_equal(fq_graph_add_value(g, name, dtype, &shape, &v, &err), FQ_OK);
    assert_int_equal(fq_value_set_data(g, v, data, false, &err), FQ_OK);
    return v;
}

static int scalar_f32(fq_graph *g, const char *name, float value)
{
    return add_const(g, name, FQ_DTYPE_F32, 0, NULL, &value);
}

static int scalar_u8(fq_graph *g, const char *name, uint8_t value)
{
    return add_const(g, name, FQ_DTYPE_U8, 0, NULL, &value);
}

/* Per-tensor parameters of one activation. */
typedef struct act_params {
    int scale;
    int zero_point;
} act_params;

static act_params act(fq_graph *g, const char *name, float scale, uint8_t zero_point)
{
    char s[64], z[64];
    snprintf(s, sizeof(s), "%s_scale", name);
    snprintf(z, sizeof(z), "%s_zp", name);
    return (act_params){scalar_f32(g, s, scale), scalar_u8(g, z, zero_point)};
}

static int quantize(fq_graph *g, int x, act_params p, const char *out)
{
    return gb_node(g, "QuantizeLinear", (int[]){x, p.scale, p.zero_point}, 3, out);
}

static int dequantize(fq_graph *g, int x, act_params p, const char *out)
{
    return gb_node(g, "DequantizeLinear", (int[]){x, p.scale, p.zero_point}, 3, out);
}

#define M 4
#define C 3

/* Weights, weight scales and an int32 bias of a 3x3 convolution C -> M. */
typedef struct conv_params {
    int w, w_scale, w_zp, bias;
    float ws[M];
    int32_t b[M];
} conv_params;

static conv_params conv_params_make(fq_graph *g, const char *name)
{
    conv_params p;
    int8_t w[M * C * 9];
    int8_t zp[M] = {0};
    for (int i = 0; i < M * C * 9; i++)
        w[i] = (int8_t)fq_test_rand_int(-127, 127);
    for (int j = 0; j < M; j++) {
        p.ws[j] = 0.01f * (float)(j + 1);
        p.b[j] = fq_test_rand_int(-500, 500);
    }
    char n[64];
    int64_t w_dims[4] = {M, C, 3, 3}, m_dims[1] = {M};
    snprintf(n, sizeof(n), "%s_w", name);
    p.w = add_const(g, n, FQ_DTYPE_I8, 4, w_dims, w);
    snprintf(n, sizeof(n), "%s_w_scale", name);
    p.w_scale = add_const(g, n, FQ_DTYPE_F32, 1, m_dims, p.ws);
    snprintf(n, sizeof(n), "%s_w_zp", name);
    p.w_zp = add_const(g, n, FQ_DTYPE_I8, 1, m_dims, zp);
    snprintf(n, sizeof(n), "%s_b", name);
    p.bias = add_const(g, n, FQ_DTYPE_I32, 1, m_dims, p.b);
    return p;
}

static void set_axis0(fq_graph *g)
{
    gb_attr_int(g, "axis", 0);
}

static void conv_attrs(fq_graph *g)
{
    int64_t pads[4] = {1, 1, 1, 1};
    gb_attr_ints(g, "pads", 4, pads);
}

/* DQ(x) -> Conv(DQ(w), DQ(b)) -> [Relu] -> Q: the form of the anchors. Returns Q's output. */
static int qdq_conv(fq_graph *g, int xq, act_params xp, act_params yp, const conv_params *cp,
                    const char *name, const char *act_op)
{
    char n[64];
    snprintf(n, sizeof(n), "%s_x", name);
    int xf = dequantize(g, xq, xp, n);
    snprintf(n, sizeof(n), "%s_wf", name);
    int wf = gb_node(g, "DequantizeLinear", (int[]){cp->w, cp->w_scale, cp->w_zp}, 3, n);
    set_axis0(g);
    float x_scale = ((const float *)g->values[xp.scale].data)[0];
    float bs[M];
    for (int j = 0; j < M; j++)
        bs[j] = x_scale * cp->ws[j];
    int64_t m_dims[1] = {M};
    snprintf(n, sizeof(n), "%s_b_scale", name);
    int b_scale = add_const(g, n, FQ_DTYPE_F32, 1, m_dims, bs);
    snprintf(n, sizeof(n), "%s_bf", name);
    int bf = gb_node(g, "DequantizeLinear", (int[]){cp->bias, b_scale}, 2, n);
    set_axis0(g);
    snprintf(n, sizeof(n), "%s_conv", name);
    int y = gb_node(g, "Conv", (int[]){xf, wf, bf}, 3, n);
    conv_attrs(g);
    if (act_op != NULL) {
        snprintf(n, sizeof(n), "%s_act", name);
        y = gb_node(g, act_op, (int[]){y}, 1, n);
    }
    snprintf(n, sizeof(n), "%s_q", name);
    return quantize(g, y, yp, n);
}

/* x f32 -> Q -> [conv block] -> DQ -> y. */
static fq_graph *qdq_conv_graph(const char *act_op)
{
    fq_graph *g = gb_graph(13);
    int64_t dims[4] = {1, C, 6, 6};
    int x = gb_input(g, "x", 4, dims);
    act_params xp = act(g, "x", 0.02f, 128), yp = act(g, "y", 0.05f, act_op ? 0 : 120);
    conv_params cp = conv_params_make(g, "c0");
    int xq = quantize(g, x, xp, "xq");
    int yq = qdq_conv(g, xq, xp, yp, &cp, "c0", act_op);
    gb_output(g, dequantize(g, yq, yp, "y"));
    return g;
}

static void fuse(fq_graph *g)
{
    fq_error err = {0};
    if (fq_pass_fuse_qdq(g, &err) != FQ_OK)
        fail_msg("fuse: %s", err.message);
}

static const fq_node *find_op(const fq_graph *g, const char *op)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (!g->nodes[n].dead && strcmp(g->nodes[n].op_type, op) == 0)
            return &g->nodes[n];
    return NULL;
}

static const char *input_name(const fq_graph *g, const fq_node *node, int i)
{
    return node->inputs[i] >= 0 ? g->values[node->inputs[i]].name : "";
}

/* ---- Import: structure ------------------------------------------------------------------- */

static void test_conv_pattern_becomes_qlinearconv(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph(NULL);
    fuse(g);
    assert_int_equal(gb_count_op(g, "QLinearConv"), 1);
    assert_int_equal(gb_count_op(g, "Conv"), 0);
    assert_int_equal(gb_count_op(g, "DequantizeLinear"), 1);
    assert_int_equal(gb_count_op(g, "QuantizeLinear"), 1);

    const fq_node *q = find_op(g, "QLinearConv");
    assert_int_equal(q->n_inputs, 9);
    const char *expected[8] = {"xq", "x_scale", "x_zp", "c0_w", "c0_w_scale", "c0_w_zp",
                               "y_scale", "y_zp"};
    for (int i = 0; i < 8; i++)
        assert_string_equal(input_name(g, q, i), expected[i]);
    assert_string_equal(g->values[q->outputs[0]].name, "c0_q");
    assert_int_equal(fq_node_attr_ints(q, "pads", (int64_t[4]){0}, 4), 4);
    assert_int_equal(q->act.kind, FQ_ACT_NONE);
    fq_graph_free(g);
}

static void test_conv_bias_with_matching_scale_is_kept_exactly(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph(NULL);
    int32_t b[M];
    memcpy(b, g->values[fq_graph_find_value(g, "c0_b")].data, sizeof(b));
    fuse(g);
    const fq_node *q = find_op(g, "QLinearConv");
    const fq_value *bias = &g->values[q->inputs[8]];
    assert_int_equal(bias->dtype, FQ_DTYPE_I32);
    assert_memory_equal(bias->data, b, sizeof(b));
    fq_graph_free(g);
}

static void test_relu_between_conv_and_quantize_is_fused(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph("Relu");
    fuse(g);
    assert_int_equal(gb_count_op(g, "Relu"), 0);
    assert_int_equal(find_op(g, "QLinearConv")->act.kind, FQ_ACT_RELU);
    fq_graph_free(g);
}

static void test_clip_between_conv_and_quantize_is_fused_with_its_bounds(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph(NULL);
    int lo = scalar_f32(g, "lo", 0.0f), hi = scalar_f32(g, "hi", 6.0f);
    /* Insert a Clip: conv -> clip -> q. */
    int conv_out = fq_graph_find_value(g, "c0_conv");
    int clip = gb_node(g, "Clip", (int[]){conv_out, lo, hi}, 3, "clip");
    fq_node *q = NULL;
    for (int n = 0; n < g->n_nodes; n++)
        if (strcmp(g->nodes[n].op_type, "QuantizeLinear") == 0 &&
            g->nodes[n].inputs[0] == conv_out)
            q = &g->nodes[n];
    assert_non_null(q);
    q->inputs[0] = clip;
    /* The Clip was appended last: move it before its reader. */
    fq_node moved = g->nodes[g->n_nodes - 1];
    int at = (int)(q - g->nodes);
    memmove(&g->nodes[at + 1], &g->nodes[at], (size_t)(g->n_nodes - 1 - at) * sizeof(fq_node));
    g->nodes[at] = moved;
    fuse(g);
    const fq_node *fused = find_op(g, "QLinearConv");
    assert_int_equal(fused->act.kind, FQ_ACT_CLIP);
    assert_true(fused->act.alpha == 0.0f && fused->act.beta == 6.0f);
    assert_int_equal(gb_count_op(g, "Clip"), 0);
    fq_graph_free(g);
}

static void test_conv_whose_float_output_is_also_read_elsewhere_stays_float(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph(NULL);
    gb_output(g, fq_graph_find_value(g, "c0_conv"));
    fuse(g);
    assert_int_equal(gb_count_op(g, "QLinearConv"), 0);
    assert_int_equal(gb_count_op(g, "Conv"), 1);
    fq_graph_free(g);
}

static void test_conv_with_float_weights_stays_float(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int64_t dims[4] = {1, C, 6, 6}, w_dims[4] = {M, C, 3, 3};
    int x = gb_input(g, "x", 4, dims);
    act_params xp = act(g, "x", 0.02f, 128), yp = act(g, "y", 0.05f, 120);
    int w = gb_const_f32(g, "w", 4, w_dims, NULL);
    int xf = dequantize(g, quantize(g, x, xp, "xq"), xp, "xf");
    int y = gb_node(g, "Conv", (int[]){xf, w}, 2, "conv");
    gb_output(g, dequantize(g, quantize(g, y, yp, "yq"), yp, "y"));
    fuse(g);
    assert_int_equal(gb_count_op(g, "QLinearConv"), 0);
    assert_int_equal(gb_count_op(g, "Conv"), 1);
    fq_graph_free(g);
}

static void test_activation_already_fused_into_the_conv_is_kept(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph(NULL);
    int conv = fq_graph_producer(g, fq_graph_find_value(g, "c0_conv"));
    g->nodes[conv].act = (fq_activation){.kind = FQ_ACT_CLIP, .alpha = 0.0f, .beta = 6.0f};
    fuse(g);
    const fq_node *q = find_op(g, "QLinearConv");
    assert_non_null(q);
    assert_int_equal(q->act.kind, FQ_ACT_CLIP);
    assert_true(q->act.beta == 6.0f);
    fq_graph_free(g);
}

static void test_conv_with_a_leaky_relu_between_stays_float(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph("LeakyRelu");
    fuse(g);
    assert_int_equal(gb_count_op(g, "QLinearConv"), 0);
    assert_int_equal(gb_count_op(g, "LeakyRelu"), 1);
    fq_graph_free(g);
}

static void test_weight_zero_point_omitted_gets_a_zero_constant(void **state)
{
    (void)state;
    fq_graph *g = qdq_conv_graph(NULL);
    int w_dq = fq_graph_producer(g, fq_graph_find_value(g, "c0_wf"));
    g->nodes[w_dq].n_inputs = 2;
    fuse(g);
    const fq_node *q = find_op(g, "QLinearConv");
    assert_non_null(q);
    const fq_value *zp = &g->values[q->inputs[5]];
    assert_int_equal(zp->dtype, FQ_DTYPE_I8);
    assert_int_equal(((const int8_t *)zp->data)[0], 0);
    fq_graph_free(g);
}

/* x -> Q -> DQ -+-> Add(, DQ(Q(x2))) -> [Relu] -> Q -> DQ -> y */
static fq_graph *qdq_add_graph(bool relu)
{
    fq_graph *g = gb_graph(13);
    int64_t dims[4] = {1, 2, 3, 3};
    int a = gb_input(g, "a", 4, dims);
    act_params ap = act(g, "a", 0.03f, 100), bp = act(g, "b", 0.04f, 7);
    act_params yp = act(g, "y", 0.06f, relu ? 0 : 90);
    int bf_src = gb_node(g, "Neg", (int[]){a}, 1, "neg");
    int af = dequantize(g, quantize(g, a, ap, "aq"), ap, "af");
    int bf = dequantize(g, quantize(g, bf_src, bp, "bq"), bp, "bf");
    int y = gb_node(g, "Add", (int[]){af, bf}, 2, "add");
    if (relu)
        y = gb_node(g, "Relu", (int[]){y}, 1, "relu");
    gb_output(g, dequantize(g, quantize(g, y, yp, "yq"), yp, "y"));
    return g;
}

static void test_add_pattern_becomes_qlinearadd(void **state)
{
    (void)state;
    fq_graph *g = qdq_add_graph(false);
    fuse(g);
    assert_int_equal(gb_count_op(g, "QLinearAdd"), 1);
    assert_int_equal(gb_count_op(g, "Add"), 0);
    const fq_node *q = find_op(g, "QLinearAdd");
    const char *expected[8] = {"aq", "a_scale", "a_zp", "bq", "b_scale", "b_zp", "y_scale",
                               "y_zp"};
    assert_int_equal(q->n_inputs, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(input_name(g, q, i), expected[i]);
    assert_string_equal(g->values[q->outputs[0]].name, "yq");
    fq_graph_free(g);
}

static void test_relu_after_add_is_fused_into_qlinearadd(void **state)
{
    (void)state;
    fq_graph *g = qdq_add_graph(true);
    fuse(g);
    assert_int_equal(gb_count_op(g, "Relu"), 0);
    assert_int_equal(find_op(g, "QLinearAdd")->act.kind, FQ_ACT_RELU);
    fq_graph_free(g);
}

/* x -> Q -> DQ -> pool -> Q(yp) -> DQ -> y */
static fq_graph *qdq_pool_graph(const char *op, bool same_params)
{
    fq_graph *g = gb_graph(13);
    int64_t dims[4] = {1, 2, 4, 4};
    int x = gb_input(g, "x", 4, dims);
    act_params xp = act(g, "x", 0.03f, 100);
    act_params yp = same_params ? xp : act(g, "y", 0.02f, 90);
    int xf = dequantize(g, quantize(g, x, xp, "xq"), xp, "xf");
    int y = gb_node(g, op, (int[]){xf}, 1, "pool");
    if (strcmp(op, "GlobalAveragePool") != 0) {
        int64_t k[2] = {2, 2};
        gb_attr_ints(g, "kernel_shape", 2, k);
        gb_attr_ints(g, "strides", 2, k);
    }
    gb_output(g, dequantize(g, quantize(g, y, yp, "yq"), yp, "y"));
    return g;
}

static void test_maxpool_with_equal_parameters_runs_on_uint8(void **state)
{
    (void)state;
    fq_graph *g = qdq_pool_graph("MaxPool", true);
    fuse(g);
    const fq_node *pool = find_op(g, "MaxPool");
    assert_non_null(pool);
    assert_int_equal(pool->n_inputs, 1);
    assert_string_equal(input_name(g, pool, 0), "xq");
    assert_string_equal(g->values[pool->outputs[0]].name, "yq");
    assert_int_equal(gb_count_op(g, "QuantizeLinear"), 1);
    fq_graph_free(g);
}

static void test_maxpool_with_different_parameters_stays_float(void **state)
{
    (void)state;
    fq_graph *g = qdq_pool_graph("MaxPool", false);
    fuse(g);
    assert_string_equal(input_name(g, find_op(g, "MaxPool"), 0), "xf");
    assert_int_equal(gb_count_op(g, "QuantizeLinear"), 2);
    fq_graph_free(g);
}

static void test_averagepool_becomes_qlinearaveragepool(void **state)
{
    (void)state;
    fq_graph *g = qdq_pool_graph("AveragePool", false);
    fuse(g);
    const fq_node *pool = find_op(g, "QLinearAveragePool");
    assert_non_null(pool);
    assert_int_equal(pool->n_inputs, 5);
    assert_string_equal(input_name(g, pool, 3), "y_scale");
    assert_int_equal(fq_node_attr_ints(pool, "kernel_shape", (int64_t[2]){0}, 2), 2);
    fq_graph_free(g);
}

static void test_global_averagepool_becomes_qlinearglobalaveragepool(void **state)
{
    (void)state;
    fq_graph *g = qdq_pool_graph("GlobalAveragePool", false);
    fuse(g);
    assert_int_equal(gb_count_op(g, "QLinearGlobalAveragePool"), 1);
    assert_int_equal(gb_count_op(g, "GlobalAveragePool"), 0);
    fq_graph_free(g);
}

static void test_requantize_with_equal_parameters_is_folded(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int64_t dims[1] = {4};
    int x = gb_input(g, "x", 1, dims);
    act_params p = act(g, "p", 0.1f, 3);
    int xq = quantize(g, x, p, "xq");
    g->values[xq].dtype = FQ_DTYPE_U8;
    int again = quantize(g, dequantize(g, xq, p, "xf"), p, "again");
    gb_output(g, dequantize(g, again, p, "y"));
    fuse(g);
    assert_int_equal(gb_count_op(g, "QuantizeLinear"), 1);
    assert_int_equal(gb_count_op(g, "DequantizeLinear"), 1);
    assert_string_equal(input_name(g, find_op(g, "DequantizeLinear"), 0), "xq");
    fq_graph_free(g);
}

static void test_requantize_with_other_parameters_is_kept(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int64_t dims[1] = {4};
    int x = gb_input(g, "x", 1, dims);
    act_params p = act(g, "p", 0.1f, 3), r = act(g, "r", 0.2f, 3);
    int xq = quantize(g, x, p, "xq");
    g->values[xq].dtype = FQ_DTYPE_U8;
    int again = quantize(g, dequantize(g, xq, p, "xf"), r, "again");
    gb_output(g, dequantize(g, again, r, "y"));
    fuse(g);
    assert_int_equal(gb_count_op(g, "QuantizeLinear"), 2);
    fq_graph_free(g);
}

static void test_fuse_refuses_null(void **state)
{
    (void)state;
    fq_error err = {0};
    assert_int_equal(fq_pass_fuse_qdq(NULL, &err), FQ_ERR_INVALID_ARG);
}

/* ---- Import: numerics -------------------------------------------------------------------- */

/* Skips (naming the op) when an op a fused graph needs is not in the op table yet. */
static bool ops_missing(const fq_graph *g)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (!g->nodes[n].dead && fq_op_find(g->nodes[n].op_type) < 0) {
            print_message("op %s is not in the op table yet: skipping\n", g->nodes[n].op_type);
            return true;
        }
    return false;
}

/* Runs g (prepared with the passes at its own input size) on input; output 0 into out. */
static void run_prepared(fq_graph *g, const float *input, size_t n_in, float *out, size_t count)
{
    fq_error err = {0};
    if (fq_passes_run_unfused(g, NULL, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    gb_run(g, input, n_in, 0, out, count);
}

/* The fused conv differs from the float Q/DQ reference by rounding only: at most one step of
 * the output quantizer (0.05 here). */
static void test_fused_conv_agrees_with_the_float_qdq_reference(void **state)
{
    (void)state;
    fq_graph *ref = qdq_conv_graph("Relu");
    fq_graph *fused = NULL;
    assert_int_equal(fq_graph_clone(ref, &fused, NULL), FQ_OK);
    fuse(fused);
    if (ops_missing(fused)) {
        fq_graph_free(ref);
        fq_graph_free(fused);
        skip();
    }
    float input[C * 36], a[M * 36], b[M * 36];
    for (int i = 0; i < C * 36; i++)
        input[i] = fq_test_rand_float(-2.5f, 2.5f);
    run_prepared(ref, input, C * 36, a, M * 36);
    run_prepared(fused, input, C * 36, b, M * 36);
    float worst = 0;
    for (int i = 0; i < M * 36; i++)
        worst = fmaxf(worst, fabsf(a[i] - b[i]));
    print_message("fused conv: max |diff| %g (one output step 0.05)\n", worst);
    assert_true(worst <= 0.05f * 1.001f);
    fq_graph_free(ref);
    fq_graph_free(fused);
}

/* ---- Export ------------------------------------------------------------------------------ */

/* The quantized IR of docs/QUANTIZATION.md: x -> Q -> QLinearConv (Relu) -> QLinearAdd (with
 * itself) -> QLinearGlobalAveragePool -> DQ -> y. */
static fq_graph *quantized_graph(void)
{
    fq_graph *g = gb_graph(13);
    int64_t dims[4] = {1, C, 6, 6};
    int x = gb_input(g, "x", 4, dims);
    act_params xp = act(g, "x", 0.02f, 128), yp = act(g, "y", 0.05f, 0);
    act_params sp = act(g, "s", 0.08f, 0), pp = act(g, "p", 0.04f, 0);
    conv_params cp = conv_params_make(g, "c0");
    int xq = quantize(g, x, xp, "xq");
    int y = gb_node(g, "QLinearConv", (int[]){xq, xp.scale, xp.zero_point, cp.w, cp.w_scale,
                                               cp.w_zp, yp.scale, yp.zero_point, cp.bias}, 9,
                    "c0_y");
    conv_attrs(g);
    g->nodes[g->n_nodes - 1].act.kind = FQ_ACT_RELU;
    int s = gb_node(g, "QLinearAdd", (int[]){y, yp.scale, yp.zero_point, y, yp.scale,
                                              yp.zero_point, sp.scale, sp.zero_point}, 8, "sum");
    int p = gb_node(g, "QLinearGlobalAveragePool", (int[]){s, sp.scale, sp.zero_point, pp.scale,
                                                            pp.zero_point}, 5, "pooled");
    gb_output(g, dequantize(g, p, pp, "y"));
    return g;
}

static fq_graph *export_graph(const fq_graph *g)
{
    fq_graph *qdq = NULL;
    fq_error err = {0};
    if (fq_qdq_export(g, &qdq, &err) != FQ_OK)
        fail_msg("export: %s", err.message);
    return qdq;
}

static void test_export_turns_qlinearconv_into_dq_conv_q(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    fq_graph *qdq = export_graph(g);
    assert_int_equal(gb_count_op(qdq, "QLinearConv"), 0);
    assert_int_equal(gb_count_op(qdq, "QLinearAdd"), 0);
    assert_int_equal(gb_count_op(qdq, "QLinearGlobalAveragePool"), 0);
    assert_int_equal(gb_count_op(qdq, "Conv"), 1);
    assert_int_equal(gb_count_op(qdq, "Add"), 1);
    assert_int_equal(gb_count_op(qdq, "GlobalAveragePool"), 1);
    /* conv: x, w, B; add: 2; pool: 1; and the output's. */
    assert_int_equal(gb_count_op(qdq, "DequantizeLinear"), 7);
    assert_int_equal(gb_count_op(qdq, "QuantizeLinear"), 4);

    const fq_node *conv = find_op(qdq, "Conv");
    assert_int_equal(conv->act.kind, FQ_ACT_RELU);
    assert_int_equal(conv->n_inputs, 3);
    int w_dq = fq_graph_producer(qdq, conv->inputs[1]);
    assert_int_equal(fq_node_attr_int(&qdq->nodes[w_dq], "axis", 1), 0);
    fq_error err = {0};
    assert_int_equal(fq_graph_validate(qdq, &err), FQ_OK);
    fq_graph_free(qdq);
    fq_graph_free(g);
}

static void test_export_gives_the_bias_the_scale_x_times_w(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    fq_graph *qdq = export_graph(g);
    const fq_node *conv = find_op(qdq, "Conv");
    const fq_node *b_dq = &qdq->nodes[fq_graph_producer(qdq, conv->inputs[2])];
    const fq_value *bs = &qdq->values[b_dq->inputs[1]];
    const float *ws = qdq->values[fq_graph_find_value(qdq, "c0_w_scale")].data;
    assert_int_equal(fq_shape_numel(&bs->shape), M);
    for (int j = 0; j < M; j++)
        assert_true(((const float *)bs->data)[j] == 0.02f * ws[j]);
    fq_graph_free(qdq);
    fq_graph_free(g);
}

static void test_export_of_a_per_tensor_weight_scale_has_no_axis(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    fq_node *conv = &g->nodes[1];
    float one = 0.02f;
    fq_error err = {0};
    int scale;
    fq_shape scalar = {0};
    assert_int_equal(fq_graph_add_value(g, "w_scale_1", FQ_DTYPE_F32, &scalar, &scale, &err),
                     FQ_OK);
    assert_int_equal(fq_value_set_data(g, scale, &one, false, &err), FQ_OK);
    conv = &g->nodes[1];
    conv->inputs[4] = scale;
    fq_graph *qdq = export_graph(g);
    const fq_node *fconv = find_op(qdq, "Conv");
    const fq_node *w_dq = &qdq->nodes[fq_graph_producer(qdq, fconv->inputs[1])];
    assert_null(fq_node_attr(w_dq, "axis"));
    const fq_node *b_dq = &qdq->nodes[fq_graph_producer(qdq, fconv->inputs[2])];
    assert_int_equal(fq_shape_numel(&qdq->values[b_dq->inputs[1]].shape), 1);
    fq_graph_free(qdq);
    fq_graph_free(g);
}

static void test_export_refuses_a_weight_scale_count_other_than_one_or_m(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    float two[2] = {0.1f, 0.2f};
    int64_t dims[1] = {2};
    int scale = add_const(g, "w_scale_2", FQ_DTYPE_F32, 1, dims, two);
    g->nodes[1].inputs[4] = scale;
    fq_error err = {0};
    fq_graph *qdq = NULL;
    assert_int_equal(fq_qdq_export(g, &qdq, &err), FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "w_scale"));
    assert_null(qdq);
    fq_graph_free(g);
}

static void test_export_refuses_the_channels_last_form(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    fq_error err = {0};
    fq_attr *a;
    assert_int_equal(fq_node_add_attr(g, 1, "channels_last", FQ_ATTR_INT, &a, &err), FQ_OK);
    a->i = 1;
    fq_graph *qdq = NULL;
    assert_int_equal(fq_qdq_export(g, &qdq, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "NCHW"));
    assert_null(qdq);
    fq_graph_free(g);
}

static void test_export_strips_channels_last_zero(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    fq_error err = {0};
    fq_attr *a;
    assert_int_equal(fq_node_add_attr(g, 1, "channels_last", FQ_ATTR_INT, &a, &err), FQ_OK);
    a->i = 0;
    fq_graph *qdq = export_graph(g);
    assert_null(fq_node_attr(find_op(qdq, "Conv"), "channels_last"));
    fq_graph_free(qdq);
    fq_graph_free(g);
}

static void test_export_moves_unsqueeze_axes_to_an_input_at_opset_13(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(11);
    int64_t dims[1] = {4}, axes[1] = {0};
    int x = gb_input(g, "x", 1, dims);
    gb_output(g, gb_node(g, "Unsqueeze", (int[]){x}, 1, "y"));
    gb_attr_ints(g, "axes", 1, axes);
    fq_graph *qdq = export_graph(g);
    assert_int_equal(qdq->opset, 13);
    const fq_node *u = find_op(qdq, "Unsqueeze");
    assert_null(fq_node_attr(u, "axes"));
    assert_int_equal(u->n_inputs, 2);
    assert_int_equal(((const int64_t *)qdq->values[u->inputs[1]].data)[0], 0);
    fq_graph_free(qdq);
    fq_graph_free(g);
}

static void test_exported_graph_runs_in_the_float_reference(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    fq_graph *qdq = export_graph(g);
    float input[C * 36], y[M];
    for (int i = 0; i < C * 36; i++)
        input[i] = fq_test_rand_float(-2.5f, 2.5f);
    run_prepared(qdq, input, C * 36, y, M);
    for (int j = 0; j < M; j++)
        assert_true(y[j] >= 0.0f && y[j] <= 0.04f * 255.0f);
    fq_graph_free(qdq);
    fq_graph_free(g);
}

/* Export, write, read, fuse: the same quantized graph comes back. */
static void test_export_then_import_gives_back_the_quantized_graph(void **state)
{
    (void)state;
    fq_graph *g = quantized_graph();
    fq_graph *qdq = export_graph(g);
    fq_error err = {0};
    void *data = NULL;
    size_t size = 0;
    assert_int_equal(fq_onnx_write_memory(qdq, &data, &size, &err), FQ_OK);
    fq_graph *back = NULL;
    fq_status status = fq_onnx_read_memory(data, size, &back, &err);
    fq_free(data);
    if (status != FQ_OK)
        fail_msg("read: %s", err.message);
    fuse(back);

    const char *ops[] = {"QuantizeLinear", "QLinearConv", "QLinearAdd",
                         "QLinearGlobalAveragePool", "DequantizeLinear"};
    assert_int_equal(back->n_nodes, 5);
    for (int n = 0; n < 5; n++)
        assert_string_equal(back->nodes[n].op_type, ops[n]);
    const fq_node *conv = &back->nodes[1];
    assert_int_equal(conv->act.kind, FQ_ACT_RELU);
    const fq_node *orig = &g->nodes[1];
    for (int i = 0; i < 9; i++) {
        const fq_value *a = &g->values[orig->inputs[i]], *b = &back->values[conv->inputs[i]];
        assert_int_equal(a->dtype, b->dtype);
        size_t bytes = (size_t)fq_shape_numel(&a->shape) * fq_dtype_size(a->dtype);
        assert_memory_equal(a->data, b->data, bytes);
    }
    fq_graph_free(back);
    fq_graph_free(qdq);
    fq_graph_free(g);
}

/* ---- The ORT-made anchors ---------------------------------------------------------------- */

static const char *const anchors[] = {
    "scrfd_500m_bnkps_640x640", "det_2.5g", "mobilefacenet_128d", "yunet_n_640_640",
};

static fq_graph *read_anchor(const char *shared, const char *name)
{
    char dir[1024], file[256];
    snprintf(dir, sizeof(dir), "%s", fq_test_path(shared, "anchors/ort-qdq"));
    snprintf(file, sizeof(file), "%s.qdq.onnx", name);
    fq_graph *g = NULL;
    fq_error err = {0};
    if (fq_onnx_read_file(fq_test_path(dir, file), &g, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static void test_fuse_leaves_a_float_model_alone(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", fq_test_path(shared, "models"));
    fq_graph *g = NULL;
    fq_error err = {0};
    assert_int_equal(fq_onnx_read_file(fq_test_path(dir, "mobilefacenet_128d.onnx"), &g, &err),
                     FQ_OK);
    int nodes = g->n_nodes, values = g->n_values;
    fuse(g);
    assert_int_equal(g->n_nodes, nodes);
    assert_int_equal(g->n_values, values);
    fq_graph_free(g);
}

static void test_every_conv_of_the_anchors_fuses(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++) {
        fq_graph *g = read_anchor(shared, anchors[i]);
        int convs = gb_count_op(g, "Conv");
        fuse(g);
        print_message("%s: %d Conv -> %d QLinearConv, %d QLinearAdd, %d QLinearAveragePool, "
                      "%d MaxPool, %d DequantizeLinear, %d QuantizeLinear left\n", anchors[i],
                      convs, gb_count_op(g, "QLinearConv"), gb_count_op(g, "QLinearAdd"),
                      gb_count_op(g, "QLinearAveragePool"), gb_count_op(g, "MaxPool"),
                      gb_count_op(g, "DequantizeLinear"), gb_count_op(g, "QuantizeLinear"));
        assert_true(convs > 0);
        assert_int_equal(gb_count_op(g, "QLinearConv"), convs);
        assert_int_equal(gb_count_op(g, "Conv"), 0);
        fq_graph_free(g);
    }
}

static const char *const anchor_inputs[] = {
    "scrfd_t1_640", "scrfd_t1_640", "arcface_hanks_112", "yunet_t1_640",
};

/* Runs g on the golden input; returns the outputs (malloc'd, count each in counts). */
static float **run_golden(fq_graph *g, const fq_npy *input, int64_t *counts)
{
    fq_error err = {0};
    fq_input_size size = {.width = input->shape.dims[3], .height = input->shape.dims[2],
                          .batch = 1};
    if (fq_passes_run_unfused(g, &size, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    fq_session *s = NULL;
    if (fq_session_create(g, NULL, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    assert_int_equal(fq_session_set_input(s, 0, input->data, input->size, &err), FQ_OK);
    if (fq_session_run(s, &err) != FQ_OK)
        fail_msg("run: %s", err.message);
    float **out = calloc((size_t)g->n_outputs, sizeof(float *));
    for (int o = 0; o < g->n_outputs; o++) {
        fq_tensor t;
        assert_int_equal(fq_session_output(s, o, &t, &err), FQ_OK);
        counts[o] = fq_shape_numel(&t.shape);
        out[o] = malloc((size_t)counts[o] * sizeof(float));
        memcpy(out[o], t.data, (size_t)counts[o] * sizeof(float));
    }
    fq_session_free(s);
    return out;
}

static fq_npy read_golden_input(const char *shared, int i)
{
    char dir[1024], file[256];
    snprintf(dir, sizeof(dir), "%s", fq_test_path(shared, "golden/inputs"));
    snprintf(file, sizeof(file), "%s.npy", anchor_inputs[i]);
    fq_npy input;
    fq_error err = {0};
    assert_int_equal(fq_npy_read_file(fq_test_path(dir, file), &input, &err), FQ_OK);
    return input;
}

/* Fused int8 against the same QDQ model run unfused through the reference QuantizeLinear,
 * DequantizeLinear and float Conv (what ORT computes, up to rounding). Every fused layer may
 * land one step of its output quantizer away from the reference where float rounding and the
 * exact int32 sum disagree, and such a step propagates through the layers after it; the bound
 * held is max |diff| <= 0.15 * max(1, max |reference|) per output, and the figures are
 * printed. */
static void compare_anchor(const char *shared, int i)
{
    fq_graph *ref = read_anchor(shared, anchors[i]);
    fq_graph *fused = read_anchor(shared, anchors[i]);
    fuse(fused);
    if (ops_missing(fused)) {
        fq_graph_free(ref);
        fq_graph_free(fused);
        skip();
    }
    fq_npy input = read_golden_input(shared, i);
    int64_t counts_a[16], counts_b[16];
    assert_true(ref->n_outputs <= 16);
    float **a = run_golden(ref, &input, counts_a);
    float **b = run_golden(fused, &input, counts_b);
    for (int o = 0; o < ref->n_outputs; o++) {
        assert_int_equal(counts_a[o], counts_b[o]);
        float worst = 0, peak = 0;
        for (int64_t k = 0; k < counts_a[o]; k++) {
            worst = fmaxf(worst, fabsf(a[o][k] - b[o][k]));
            peak = fmaxf(peak, fabsf(a[o][k]));
        }
        print_message("%s %s: max |fused - reference| %.4g, max |reference| %.3g\n",
                      anchors[i], ref->values[ref->outputs[o]].name, worst, peak);
        assert_true(worst <= 0.15f * fmaxf(1.0f, peak));
        free(a[o]);
        free(b[o]);
    }
    free(a);
    free(b);
    fq_npy_free(&input);
    fq_graph_free(ref);
    fq_graph_free(fused);
}

static void test_fused_scrfd_500m_agrees_with_the_unfused_qdq_model(void **state)
{
    (void)state;
    compare_anchor(fq_test_require_shared(), 0);
}

static void test_fused_det_2_5g_agrees_with_the_unfused_qdq_model(void **state)
{
    (void)state;
    compare_anchor(fq_test_require_shared(), 1);
}

static void test_fused_mobilefacenet_agrees_with_the_unfused_qdq_model(void **state)
{
    (void)state;
    compare_anchor(fq_test_require_shared(), 2);
}

static void test_fused_yunet_agrees_with_the_unfused_qdq_model(void **state)
{
    (void)state;
    compare_anchor(fq_test_require_shared(), 3);
}

/* Graph outputs of a run as one buffer each (outputs are f32). */
static void free_outputs(float **out, int n)
{
    for (int o = 0; o < n; o++)
        free(out[o]);
    free(out);
}

static void assert_same_run(fq_graph *a, fq_graph *b, const fq_npy *input)
{
    int64_t ca[16], cb[16];
    assert_true(a->n_outputs <= 16);
    float **ya = run_golden(a, input, ca);
    float **yb = run_golden(b, input, cb);
    for (int o = 0; o < a->n_outputs; o++) {
        assert_int_equal(ca[o], cb[o]);
        assert_memory_equal(ya[o], yb[o], (size_t)ca[o] * sizeof(float));
    }
    free_outputs(ya, a->n_outputs);
    free_outputs(yb, b->n_outputs);
}

/* fq_passes_run_unfused folds DequantizeLinear(weights) into float weights; the fusion takes
 * them back to int8 exactly, so fusing before or after the passes runs the same model. */
static void test_fusing_after_the_passes_gives_the_same_model(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_graph *before = read_anchor(shared, anchors[2]);
    fq_graph *after = read_anchor(shared, anchors[2]);
    fuse(before);
    fq_error err = {0};
    assert_int_equal(fq_passes_run_unfused(after, NULL, &err), FQ_OK);
    fuse(after);
    assert_int_equal(gb_count_op(after, "QLinearConv"), 51);
    assert_int_equal(gb_count_op(after, "Conv"), 0);
    if (ops_missing(after)) {
        fq_graph_free(before);
        fq_graph_free(after);
        skip();
    }
    fq_npy input = read_golden_input(shared, 2);
    assert_same_run(before, after, &input);
    fq_npy_free(&input);
    fq_graph_free(before);
    fq_graph_free(after);
}

/* The standard pipeline runs a QDQ model on the int8 operators, its int8 region in NHWC, with
 * the outputs of the fused model run in NCHW. */
static void test_passes_run_fuses_qdq_models_and_moves_them_to_nhwc(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_graph *standard = read_anchor(shared, anchors[2]);
    fq_graph *nchw = read_anchor(shared, anchors[2]);
    fuse(nchw);
    fq_error err = {0};
    assert_int_equal(fq_passes_run(standard, NULL, &err), FQ_OK);
    assert_int_equal(gb_count_op(standard, "QLinearConv"), 51);
    assert_int_equal(gb_count_op(standard, "Conv"), 0);
    const fq_node *conv = find_op(standard, "QLinearConv");
    assert_int_equal(fq_node_attr_int(conv, "channels_last", 0), 1);
    if (ops_missing(standard)) {
        fq_graph_free(standard);
        fq_graph_free(nchw);
        skip();
    }
    fq_npy input = read_golden_input(shared, 2);
    assert_same_run(nchw, standard, &input);
    fq_npy_free(&input);
    fq_graph_free(standard);
    fq_graph_free(nchw);
}

/* Import, export, write, read, import again: the same int8 model, the same outputs bit for
 * bit. */
static void test_anchor_export_then_import_gives_the_same_int8_model(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    for (int i = 0; i < 4; i += 3) {
        fq_graph *g = read_anchor(shared, anchors[i]);
        fuse(g);
        fq_graph *qdq = export_graph(g);
        fq_error err = {0};
        void *data = NULL;
        size_t size = 0;
        assert_int_equal(fq_onnx_write_memory(qdq, &data, &size, &err), FQ_OK);
        fq_graph *back = NULL;
        fq_status status = fq_onnx_read_memory(data, size, &back, &err);
        fq_free(data);
        if (status != FQ_OK)
            fail_msg("read: %s", err.message);
        fuse(back);
        const char *ops[] = {"QLinearConv", "QLinearAdd", "MaxPool", "QuantizeLinear",
                             "DequantizeLinear", "Conv"};
        for (int k = 0; k < 6; k++)
            assert_int_equal(gb_count_op(back, ops[k]), gb_count_op(g, ops[k]));
        if (!ops_missing(g)) {
            fq_npy input = read_golden_input(shared, i);
            assert_same_run(g, back, &input);
            fq_npy_free(&input);
        }
        fq_graph_free(back);
        fq_graph_free(qdq);
        fq_graph_free(g);
    }
}

/* The observer of a run: the uint8 output of the first node writing value `name`. */
typedef struct capture {
    const fq_graph *g;
    const char *name;
    uint8_t *data;
    int64_t count;
} capture;

static fq_status capture_output(void *user, int node, const fq_tensor *outputs, int n_outputs,
                                fq_error *err)
{
    (void)err;
    capture *c = user;
    const fq_node *n = &c->g->nodes[node];
    if (n_outputs < 1 || c->data != NULL || outputs[0].dtype != FQ_DTYPE_U8 ||
        strcmp(c->g->values[n->outputs[0]].name, c->name) != 0)
        return FQ_OK;
    c->count = fq_shape_numel(&outputs[0].shape);
    c->data = malloc((size_t)c->count);
    memcpy(c->data, outputs[0].data, (size_t)c->count);
    return FQ_OK;
}

static capture run_capturing(fq_graph *g, const fq_npy *input, const char *name)
{
    fq_error err = {0};
    fq_input_size size = {.width = input->shape.dims[3], .height = input->shape.dims[2]};
    if (fq_passes_run_unfused(g, &size, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    fq_session *s = NULL;
    fq_session_options options = fq_session_options_default();
    options.keep_intermediates = true;
    if (fq_session_create(g, &options, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    assert_int_equal(fq_session_set_input(s, 0, input->data, input->size, &err), FQ_OK);
    capture c = {.g = g, .name = name};
    assert_int_equal(fq_session_run_observed(s, capture_output, &c, &err), FQ_OK);
    fq_session_free(s);
    assert_non_null(c.data);
    return c;
}

/* The first fused convolution of each anchor sees the same uint8 input in both runs, so it
 * lands within one step of its output quantizer of the float Q/DQ reference. */
static void test_first_fused_conv_is_within_one_step_of_the_reference(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    for (int i = 0; i < 4; i++) {
        fq_graph *ref = read_anchor(shared, anchors[i]);
        fq_graph *fused = read_anchor(shared, anchors[i]);
        fuse(fused);
        if (ops_missing(fused)) {
            fq_graph_free(ref);
            fq_graph_free(fused);
            skip();
        }
        const fq_node *first = find_op(fused, "QLinearConv");
        char name[256];
        snprintf(name, sizeof(name), "%s", fused->values[first->outputs[0]].name);
        fq_npy input = read_golden_input(shared, i);
        capture a = run_capturing(ref, &input, name);
        capture b = run_capturing(fused, &input, name);
        assert_int_equal(a.count, b.count);
        int64_t differ = 0;
        for (int64_t k = 0; k < a.count; k++) {
            assert_true(abs((int)a.data[k] - (int)b.data[k]) <= 1);
            differ += a.data[k] != b.data[k];
        }
        print_message("%s: first QLinearConv '%s': %lld of %lld outputs one step off\n",
                      anchors[i], name, (long long)differ, (long long)a.count);
        free(a.data);
        free(b.data);
        fq_npy_free(&input);
        fq_graph_free(ref);
        fq_graph_free(fused);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_pattern_becomes_qlinearconv),
        cmocka_unit_test(test_conv_bias_with_matching_scale_is_kept_exactly),
        cmocka_unit_test(test_relu_between_conv_and_quantize_is_fused),
        cmocka_unit_test(test_clip_between_conv_and_quantize_is_fused_with_its_bounds),
        cmocka_unit_test(test_conv_whose_float_output_is_also_read_elsewhere_stays_float),
        cmocka_unit_test(test_conv_with_float_weights_stays_float),
        cmocka_unit_test(test_activation_already_fused_into_the_conv_is_kept),
        cmocka_unit_test(test_conv_with_a_leaky_relu_between_stays_float),
        cmocka_unit_test(test_weight_zero_point_omitted_gets_a_zero_constant),
        cmocka_unit_test(test_add_pattern_becomes_qlinearadd),
        cmocka_unit_test(test_relu_after_add_is_fused_into_qlinearadd),
        cmocka_unit_test(test_maxpool_with_equal_parameters_runs_on_uint8),
        cmocka_unit_test(test_maxpool_with_different_parameters_stays_float),
        cmocka_unit_test(test_averagepool_becomes_qlinearaveragepool),
        cmocka_unit_test(test_global_averagepool_becomes_qlinearglobalaveragepool),
        cmocka_unit_test(test_requantize_with_equal_parameters_is_folded),
        cmocka_unit_test(test_requantize_with_other_parameters_is_kept),
        cmocka_unit_test(test_fuse_refuses_null),
        cmocka_unit_test(test_fused_conv_agrees_with_the_float_qdq_reference),
        cmocka_unit_test(test_export_turns_qlinearconv_into_dq_conv_q),
        cmocka_unit_test(test_export_gives_the_bias_the_scale_x_times_w),
        cmocka_unit_test(test_export_of_a_per_tensor_weight_scale_has_no_axis),
        cmocka_unit_test(test_export_refuses_a_weight_scale_count_other_than_one_or_m),
        cmocka_unit_test(test_export_refuses_the_channels_last_form),
        cmocka_unit_test(test_export_strips_channels_last_zero),
        cmocka_unit_test(test_export_moves_unsqueeze_axes_to_an_input_at_opset_13),
        cmocka_unit_test(test_exported_graph_runs_in_the_float_reference),
        cmocka_unit_test(test_export_then_import_gives_back_the_quantized_graph),
        cmocka_unit_test(test_fuse_leaves_a_float_model_alone),
        cmocka_unit_test(test_every_conv_of_the_anchors_fuses),
        cmocka_unit_test(test_fused_scrfd_500m_agrees_with_the_unfused_qdq_model),
        cmocka_unit_test(test_fused_det_2_5g_agrees_with_the_unfused_qdq_model),
        cmocka_unit_test(test_fused_mobilefacenet_agrees_with_the_unfused_qdq_model),
        cmocka_unit_test(test_fused_yunet_agrees_with_the_unfused_qdq_model),
        cmocka_unit_test(test_fusing_after_the_passes_gives_the_same_model),
        cmocka_unit_test(test_passes_run_fuses_qdq_models_and_moves_them_to_nhwc),
        cmocka_unit_test(test_anchor_export_then_import_gives_the_same_int8_model),
        cmocka_unit_test(test_first_fused_conv_is_within_one_step_of_the_reference),
    };
    fq_test_seed(3);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
