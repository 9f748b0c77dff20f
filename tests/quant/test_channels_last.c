/* fq_pass_channels_last: which nodes go NHWC, where the Transposes go, the Concat axis and Resize
 * scales, and outputs bit-identical to the NCHW form on small random graphs. */
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
#include "quant_fixture.h"
#include "test_util.h"

static const int64_t x_dims[] = {1, 3, 6, 6};

typedef enum shape_kind {
    CHAIN,        /* conv -> conv */
    RESIDUAL,     /* conv -> conv + conv (QLinearAdd) */
    CONCAT_POOL,  /* conv -> MaxPool, conv -> Concat axis 1 */
    RESIZE,       /* conv -> Resize x2 nearest -> conv */
    HEAD,         /* conv -> Transpose (0, 2, 3, 1) -> Reshape [1, -1, 2] */
    POOLED,       /* conv -> GlobalAveragePool -> Flatten */
    AVERAGED      /* conv -> AveragePool 3x3 pads 1 -> conv */
} shape_kind;

static int conv(fq_graph *g, int x, const char *name, int c_in, int c_out, int k)
{
    return qf_conv(g, x, name, c_in, c_out, k, 1, "Relu");
}

static int add_head(fq_graph *g, int v)
{
    const int64_t perm[] = {0, 2, 3, 1};
    v = gb_node(g, "Transpose", &v, 1, "head_t");
    gb_attr_ints(g, "perm", 4, perm);
    const int64_t three[] = {3};
    const int64_t target[] = {1, -1, 2};
    int reshape[] = {v, gb_const_i64(g, "head_shape", 1, three, target)};
    return gb_node(g, "Reshape", reshape, 2, "head");
}

static int add_resize(fq_graph *g, int v)
{
    const int64_t four[] = {4};
    const float scales[] = {1.0f, 1.0f, 2.0f, 2.0f};
    int inputs[] = {v, -1, gb_const_f32(g, "scales", 1, four, scales)};
    v = gb_node(g, "Resize", inputs, 3, "resized");
    return conv(g, v, "conv2", 4, 4, 3);
}

static fq_graph *build(shape_kind kind, unsigned long long seed)
{
    fq_test_seed(seed);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    int v = conv(g, x, "conv1", 3, 4, 3);
    if (kind == CHAIN) {
        v = conv(g, v, "conv2", 4, 5, 3);
    } else if (kind == RESIDUAL) {
        int add[] = {conv(g, v, "conv2", 4, 4, 3), conv(g, v, "conv3", 4, 4, 1)};
        v = gb_node(g, "Add", add, 2, "sum");
    } else if (kind == CONCAT_POOL) {
        const int64_t k[] = {3, 3}, pads[] = {1, 1, 1, 1};
        int p = gb_node(g, "MaxPool", &v, 1, "pooled");
        gb_attr_ints(g, "kernel_shape", 2, k);
        gb_attr_ints(g, "pads", 4, pads);
        int parts[] = {p, conv(g, x, "conv2", 3, 2, 1)};
        v = gb_node(g, "Concat", parts, 2, "joined");
        gb_attr_int(g, "axis", 1);
    } else if (kind == RESIZE) {
        v = add_resize(g, v);
    } else if (kind == HEAD) {
        v = add_head(g, v);
    } else if (kind == POOLED) {
        v = gb_node(g, "GlobalAveragePool", &v, 1, "gap");
        v = gb_node(g, "Flatten", &v, 1, "flat");
    } else {
        const int64_t k[] = {3, 3}, pads[] = {1, 1, 1, 1};
        v = gb_node(g, "AveragePool", &v, 1, "averaged");
        gb_attr_ints(g, "kernel_shape", 2, k);
        gb_attr_ints(g, "pads", 4, pads);
        v = conv(g, v, "conv2", 4, 3, 1);
    }
    gb_output(g, v);
    qf_prepare(g);
    return g;
}

typedef struct layouts {
    fq_graph *flt;
    fq_calib_stats *stats;
    fq_graph *nchw;
    fq_graph *nhwc;
} layouts;

static layouts quantize_both(shape_kind kind, unsigned long long seed)
{
    layouts l;
    l.flt = build(kind, seed);
    qf_feed feed = {3, seed * 31, -1.0f, 1.0f};
    l.stats = qf_calibrate(l.flt, &feed);
    l.nchw = qf_quantize(l.flt, l.stats, false, NULL, 0, NULL);
    l.nhwc = qf_quantize(l.flt, l.stats, true, NULL, 0, NULL);
    return l;
}

static void layouts_free(layouts *l)
{
    fq_graph_free(l->flt);
    fq_calib_stats_free(l->stats);
    fq_graph_free(l->nchw);
    fq_graph_free(l->nhwc);
}

static const fq_node *node_of(const fq_graph *g, const char *op, int k)
{
    int n = qf_find_node(g, op, k);
    assert_true(n >= 0);
    return &g->nodes[n];
}

static void assert_perm(const fq_node *node, int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t perm[4];
    assert_int_equal(fq_node_attr_ints(node, "perm", perm, 4), 4);
    assert_true(perm[0] == a && perm[1] == b && perm[2] == c && perm[3] == d);
}

static void test_qlinearconv_gets_channels_last_and_nhwc_shapes(void **state)
{
    (void)state;
    layouts l = quantize_both(CHAIN, 1);
    const fq_node *c = node_of(l.nhwc, "QLinearConv", 0);
    assert_int_equal(fq_node_attr_int(c, "channels_last", 0), 1);
    const fq_value *y = &l.nhwc->values[c->outputs[0]];
    const int64_t nhwc[] = {1, 6, 6, 4};
    assert_int_equal(y->shape.rank, 4);
    assert_memory_equal(y->shape.dims, nhwc, sizeof(nhwc));
    assert_int_equal(fq_node_attr_int(node_of(l.nchw, "QLinearConv", 0), "channels_last", 0),
                     0);
    layouts_free(&l);
}

/* The entry Transpose is fused into the QuantizeLinear (channels_last = 1). */
static void test_the_quantize_enters_the_region_and_one_transpose_leaves(void **state)
{
    (void)state;
    layouts l = quantize_both(CHAIN, 2);
    assert_int_equal(gb_count_op(l.nhwc, "Transpose"), 1);
    const fq_node *out = node_of(l.nhwc, "Transpose", 0);
    assert_perm(out, 0, 3, 1, 2);
    const fq_node *in = node_of(l.nhwc, "QuantizeLinear", 0);
    assert_int_equal(fq_node_attr_int(in, "channels_last", 0), 1);
    int conv = fq_graph_producer(l.nhwc, out->inputs[0]);
    assert_string_equal(l.nhwc->nodes[conv].op_type, "QLinearConv");
    assert_int_equal(l.nhwc->values[out->inputs[0]].dtype, FQ_DTYPE_U8);
    layouts_free(&l);
}

static void test_concat_axis_moves_to_3(void **state)
{
    (void)state;
    layouts l = quantize_both(CONCAT_POOL, 3);
    assert_int_equal(fq_node_attr_int(node_of(l.nhwc, "Concat", 0), "axis", -1), 3);
    assert_int_equal(fq_node_attr_int(node_of(l.nhwc, "MaxPool", 0), "channels_last", 0), 1);
    layouts_free(&l);
}

static void test_quantized_pools_get_channels_last(void **state)
{
    (void)state;
    layouts a = quantize_both(AVERAGED, 6);
    layouts g = quantize_both(POOLED, 7);
    assert_int_equal(fq_node_attr_int(node_of(a.nhwc, "QLinearAveragePool", 0),
                                      "channels_last", 0), 1);
    assert_int_equal(fq_node_attr_int(node_of(g.nhwc, "QLinearGlobalAveragePool", 0),
                                      "channels_last", 0), 1);
    layouts_free(&a);
    layouts_free(&g);
}

static void test_resize_scales_are_permuted_into_a_new_constant(void **state)
{
    (void)state;
    layouts l = quantize_both(RESIZE, 4);
    const fq_node *r = node_of(l.nhwc, "Resize", 0);
    const fq_value *scales = fq_node_input(l.nhwc, r, 2);
    const float expected[] = {1.0f, 2.0f, 2.0f, 1.0f};
    assert_memory_equal(scales->data, expected, sizeof(expected));
    const fq_node *before = node_of(l.nchw, "Resize", 0);
    const float original[] = {1.0f, 1.0f, 2.0f, 2.0f};
    assert_memory_equal(fq_node_input(l.nchw, before, 2)->data, original, sizeof(original));
    layouts_free(&l);
}

static void test_head_transpose_reads_nhwc_with_composed_perm(void **state)
{
    (void)state;
    layouts l = quantize_both(HEAD, 5);
    assert_int_equal(gb_count_op(l.nhwc, "Transpose"), 1);
    const fq_node *head = node_of(l.nhwc, "Transpose", 0);
    assert_perm(head, 0, 1, 2, 3);
    int producer = fq_graph_producer(l.nhwc, head->inputs[0]);
    assert_string_equal(l.nhwc->nodes[producer].op_type, "QLinearConv");
    layouts_free(&l);
}

static void test_a_second_run_changes_nothing(void **state)
{
    (void)state;
    layouts l = quantize_both(CONCAT_POOL, 8);
    int nodes = l.nhwc->n_nodes, values = l.nhwc->n_values;
    assert_int_equal(fq_pass_channels_last(l.nhwc, NULL), FQ_OK);
    assert_int_equal(l.nhwc->n_nodes, nodes);
    assert_int_equal(l.nhwc->n_values, values);
    assert_int_equal(fq_node_attr_int(node_of(l.nhwc, "Concat", 0), "axis", -1), 3);
    layouts_free(&l);
}

/* The pass's shapes are the ones the operators' shape functions compute. */
static void test_shapes_agree_with_shape_inference(void **state)
{
    (void)state;
    for (shape_kind kind = CHAIN; kind <= AVERAGED; kind++) {
        layouts l = quantize_both(kind, 10 + kind);
        fq_graph *copy = NULL;
        fq_error err;
        assert_int_equal(fq_graph_clone(l.nhwc, &copy, NULL), FQ_OK);
        if (fq_pass_infer_shapes(copy, &err) != FQ_OK)
            fail_msg("graph %d: %s", (int)kind, err.message);
        for (int v = 0; v < copy->n_values; v++)
            if (!fq_shape_equal(&copy->values[v].shape, &l.nhwc->values[v].shape))
                fail_msg("graph %d: value '%s' has another shape after inference", (int)kind,
                         copy->values[v].name);
        fq_graph_free(copy);
        layouts_free(&l);
    }
}

static void run_output(const fq_graph *g, const float *x, float *out, size_t count)
{
    gb_run(g, x, 108, 0, out, count);
}

static size_t output_count(const fq_graph *g)
{
    return (size_t)fq_shape_numel(&g->values[g->outputs[0]].shape);
}

static void test_outputs_are_bit_identical_to_nchw(void **state)
{
    (void)state;
    static const char *const ops[] = {"QLinearConv", "QLinearAdd", "QLinearGlobalAveragePool",
                                      "QLinearAveragePool"};
    qf_require_ops(ops, 4);
    for (shape_kind kind = CHAIN; kind <= AVERAGED; kind++) {
        for (unsigned long long seed = 1; seed <= 3; seed++) {
            layouts l = quantize_both(kind, 100 * kind + seed);
            size_t count = output_count(l.nchw);
            assert_int_equal(count, output_count(l.nhwc));
            float x[108];
            fq_test_seed(seed + 7);
            for (int i = 0; i < 108; i++)
                x[i] = fq_test_rand_float(-1.5f, 1.5f);
            float *a = malloc(count * sizeof(float));
            float *b = malloc(count * sizeof(float));
            run_output(l.nchw, x, a, count);
            run_output(l.nhwc, x, b, count);
            if (memcmp(a, b, count * sizeof(float)) != 0)
                fail_msg("graph %d seed %llu: NHWC outputs differ from NCHW", (int)kind, seed);
            free(a);
            free(b);
            layouts_free(&l);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qlinearconv_gets_channels_last_and_nhwc_shapes),
        cmocka_unit_test(test_the_quantize_enters_the_region_and_one_transpose_leaves),
        cmocka_unit_test(test_concat_axis_moves_to_3),
        cmocka_unit_test(test_quantized_pools_get_channels_last),
        cmocka_unit_test(test_resize_scales_are_permuted_into_a_new_constant),
        cmocka_unit_test(test_head_transpose_reads_nhwc_with_composed_perm),
        cmocka_unit_test(test_a_second_run_changes_nothing),
        cmocka_unit_test(test_shapes_agree_with_shape_inference),
        cmocka_unit_test(test_outputs_are_bit_identical_to_nchw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
