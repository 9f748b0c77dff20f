/* The graph passes: each one's effect on small hand-built graphs, that outputs do not change,
 * and that every pass leaves a valid graph. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"
#include "test_util.h"

#define C 4
#define H 6
#define W 5

static const int64_t x_dims[] = {1, C, H, W};
static const int64_t w_dims[] = {C, C, 3, 3};
static const int64_t c_dims[] = {C};

/* Conv 3x3 pad 1 of x; returns its output value. */
static int add_conv(fq_graph *g, int x, const char *out)
{
    int w = gb_const_f32(g, "w", 4, w_dims, NULL);
    int b = gb_const_f32(g, "b", 1, c_dims, NULL);
    int in[] = {x, w, b};
    int y = gb_node(g, "Conv", in, 3, out);
    int64_t pads[] = {1, 1, 1, 1};
    gb_attr_ints(g, "pads", 4, pads);
    return y;
}

/* Runs g as given (shapes inferred, nothing folded or fused) and after the full pipeline, and
 * checks that output 0 agrees. Returns the optimized graph for further checks. */
static fq_graph *optimize_and_compare(fq_graph *g)
{
    enum { N = C * H * W };
    float input[N], plain[N * 4], optimized[N * 4];
    for (int i = 0; i < N; i++)
        input[i] = fq_test_rand_float(-2.0f, 2.0f);

    fq_graph *reference;
    fq_error err = {0};
    assert_int_equal(fq_graph_clone(g, &reference, NULL), FQ_OK);
    if (fq_pass_infer_shapes(reference, &err) != FQ_OK)
        fail_msg("infer: %s", err.message);
    size_t count = (size_t)fq_shape_numel(&reference->values[reference->outputs[0]].shape);
    assert_true(count <= N * 4);
    gb_run(reference, input, N, 0, plain, count);

    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    assert_int_equal(fq_graph_validate(g, NULL), FQ_OK);
    gb_run(g, input, N, 0, optimized, count);
    for (size_t i = 0; i < count; i++)
        assert_true(fabsf(plain[i] - optimized[i]) <= 1e-5f * (1.0f + fabsf(plain[i])));
    fq_graph_free(reference);
    return g;
}

static void test_fix_input_size_sets_dynamic_dims(void **state)
{
    (void)state;
    int64_t dims[] = {FQ_DIM_UNKNOWN, 3, FQ_DIM_UNKNOWN, FQ_DIM_UNKNOWN};
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, dims);
    fq_input_size size = {.width = 640, .height = 480};
    assert_int_equal(fq_pass_fix_input_size(g, &size, NULL), FQ_OK);
    const fq_shape *s = &g->values[x].shape;
    assert_int_equal(s->dims[0], 1);
    assert_int_equal(s->dims[2], 480);
    assert_int_equal(s->dims[3], 640);
    fq_graph_free(g);
}

static void test_fix_input_size_refuses_a_size_the_model_fixes_otherwise(void **state)
{
    (void)state;
    int64_t dims[] = {1, 3, 640, 640};
    fq_graph *g = gb_graph(11);
    gb_input(g, "input.1", 4, dims);
    fq_input_size size = {.width = 320, .height = 320};
    fq_error err;
    assert_int_equal(fq_pass_fix_input_size(g, &size, &err), FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "input.1"));
    assert_non_null(strstr(err.message, "640"));
    fq_graph_free(g);
}

static void test_fix_input_size_asks_for_a_size_when_none_is_known(void **state)
{
    (void)state;
    int64_t dims[] = {1, 3, FQ_DIM_UNKNOWN, FQ_DIM_UNKNOWN};
    fq_graph *g = gb_graph(11);
    gb_input(g, "input.1", 4, dims);
    fq_error err;
    assert_int_equal(fq_pass_fix_input_size(g, NULL, &err), FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "--input-size"));
    fq_graph_free(g);
}

static void test_set_input_shape_refuses_unknown_names_and_ranks(void **state)
{
    (void)state;
    int64_t dims[] = {FQ_DIM_UNKNOWN, 3, FQ_DIM_UNKNOWN, FQ_DIM_UNKNOWN};
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, dims);
    fq_shape good = {.rank = 4, .dims = {2, 3, 32, 48}};
    fq_shape bad_rank = {.rank = 3, .dims = {3, 32, 48}};
    fq_shape bad_channels = {.rank = 4, .dims = {2, 4, 32, 48}};
    assert_int_equal(fq_pass_set_input_shape(g, "y", &good, NULL), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_pass_set_input_shape(g, "x", &bad_rank, NULL), FQ_ERR_SHAPE);
    assert_int_equal(fq_pass_set_input_shape(g, "x", &bad_channels, NULL), FQ_ERR_SHAPE);
    assert_int_equal(fq_pass_set_input_shape(g, "x", &good, NULL), FQ_OK);
    assert_true(fq_shape_equal(&g->values[x].shape, &good));
    fq_graph_free(g);
}

/* The reshape-target arithmetic of dynamic PyTorch exports: Shape -> Gather -> Unsqueeze ->
 * Concat with -1 -> Reshape. Once the size is fixed it all folds into one constant. */
static void test_shape_arithmetic_folds_into_a_constant_reshape_target(void **state)
{
    (void)state;
    int64_t dims[] = {FQ_DIM_UNKNOWN, C, FQ_DIM_UNKNOWN, FQ_DIM_UNKNOWN};
    int64_t scalar_dims[] = {1};
    int64_t zero = 0, minus_one = -1;
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, dims);
    int shape = gb_node(g, "Shape", &x, 1, "shape");
    int index = gb_const_i64(g, "index", 0, NULL, &zero);
    int gather_in[] = {shape, index};
    int batch = gb_node(g, "Gather", gather_in, 2, "batch");
    gb_attr_int(g, "axis", 0);
    int batch1 = gb_node(g, "Unsqueeze", &batch, 1, "batch1");
    gb_attr_ints(g, "axes", 1, &zero);
    int rest = gb_const_i64(g, "rest", 1, scalar_dims, &minus_one);
    int concat_in[] = {batch1, rest};
    int target = gb_node(g, "Concat", concat_in, 2, "target");
    gb_attr_int(g, "axis", 0);
    int reshape_in[] = {x, target};
    int y = gb_node(g, "Reshape", reshape_in, 2, "y");
    gb_output(g, y);

    fq_input_size size = {.width = W, .height = H};
    fq_error err = {0};
    if (fq_passes_run(g, &size, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(g->n_nodes, 1);
    assert_string_equal(g->nodes[0].op_type, "Reshape");
    const fq_value *t = fq_node_input(g, &g->nodes[0], 1);
    assert_true(fq_value_is_constant(t));
    const fq_shape *out = &g->values[g->outputs[0]].shape;
    assert_int_equal(out->rank, 2);
    assert_int_equal(out->dims[0], 1);
    assert_int_equal(out->dims[1], C * H * W);
    fq_graph_free(g);
}

static void test_batchnorm_folds_into_the_conv_before_it(void **state)
{
    (void)state;
    fq_test_seed(3);
    float var[C] = {0.5f, 1.0f, 2.0f, 0.25f};
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int y = add_conv(g, x, "conv");
    int bn_in[] = {y, gb_const_f32(g, "gamma", 1, c_dims, NULL),
                   gb_const_f32(g, "beta", 1, c_dims, NULL),
                   gb_const_f32(g, "mean", 1, c_dims, NULL),
                   gb_const_f32(g, "var", 1, c_dims, var)};
    int z = gb_node(g, "BatchNormalization", bn_in, 5, "z");
    gb_attr_float(g, "epsilon", 1e-3f);
    gb_output(g, z);

    optimize_and_compare(g);
    assert_int_equal(gb_count_op(g, "BatchNormalization"), 0);
    assert_int_equal(gb_count_op(g, "Conv"), 1);
    assert_string_equal(g->values[g->outputs[0]].name, "z");
    fq_graph_free(g);
}

/* Conv followed by op (inputs beyond X given in extra); checks the fused kind. */
static void check_fusion(const char *op, const int *extra, int n_extra, fq_activation_kind kind,
                         fq_graph *g, int conv_out)
{
    int in[4] = {conv_out};
    for (int i = 0; i < n_extra; i++)
        in[1 + i] = extra[i];
    int y = gb_node(g, op, in, 1 + n_extra, "act");
    gb_output(g, y);
    optimize_and_compare(g);
    assert_int_equal(g->n_nodes, 1);
    assert_string_equal(g->nodes[0].op_type, "Conv");
    assert_int_equal(g->nodes[0].act.kind, kind);
    assert_string_equal(g->values[g->outputs[0]].name, "act");
}

static void test_relu_fuses_into_conv(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    check_fusion("Relu", NULL, 0, FQ_ACT_RELU, g, add_conv(g, x, "conv"));
    fq_graph_free(g);
}

static void test_clip_with_constant_bounds_fuses_into_conv(void **state)
{
    (void)state;
    float lo = 0.0f, hi = 0.5f;
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int conv = add_conv(g, x, "conv");
    int bounds[] = {gb_const_f32(g, "lo", 0, NULL, &lo), gb_const_f32(g, "hi", 0, NULL, &hi)};
    check_fusion("Clip", bounds, 2, FQ_ACT_CLIP, g, conv);
    assert_true(g->nodes[0].act.alpha == 0.0f && g->nodes[0].act.beta == 0.5f);
    fq_graph_free(g);
}

static void test_prelu_with_per_channel_slopes_fuses_into_conv(void **state)
{
    (void)state;
    int64_t slope_dims[] = {C, 1, 1};
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int conv = add_conv(g, x, "conv");
    int slope = gb_const_f32(g, "slope", 3, slope_dims, NULL);
    check_fusion("PRelu", &slope, 1, FQ_ACT_PRELU, g, conv);
    fq_graph_free(g);
}

static void test_leaky_relu_fuses_into_conv(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int conv = add_conv(g, x, "conv");
    int y = gb_node(g, "LeakyRelu", &conv, 1, "act");
    gb_attr_float(g, "alpha", 0.2f);
    gb_output(g, y);
    optimize_and_compare(g);
    assert_int_equal(g->n_nodes, 1);
    assert_int_equal(g->nodes[0].act.kind, FQ_ACT_LEAKY_RELU);
    assert_true(g->nodes[0].act.alpha == 0.2f);
    fq_graph_free(g);
}

static void test_activation_is_not_fused_when_the_conv_output_has_other_readers(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int conv = add_conv(g, x, "conv");
    int r = gb_node(g, "Relu", &conv, 1, "r");
    int sum_in[] = {r, conv};
    int y = gb_node(g, "Add", sum_in, 2, "y");
    gb_output(g, y);
    optimize_and_compare(g);
    assert_int_equal(gb_count_op(g, "Relu"), 1);
    assert_int_equal(g->nodes[0].act.kind, FQ_ACT_NONE);
    fq_graph_free(g);
}

static void test_identity_and_dropout_are_removed_keeping_output_names(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int a = gb_node(g, "Identity", &x, 1, "a");
    int b = gb_node(g, "Sigmoid", &a, 1, "b");
    int c = gb_node(g, "Dropout", &b, 1, "c");
    int d = gb_node(g, "Identity", &c, 1, "d");
    gb_output(g, d);
    optimize_and_compare(g);
    assert_int_equal(g->n_nodes, 1);
    assert_string_equal(g->nodes[0].op_type, "Sigmoid");
    assert_string_equal(g->values[g->outputs[0]].name, "d");
    fq_graph_free(g);
}

static void test_dead_nodes_are_removed(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int unused = gb_node(g, "Relu", &x, 1, "unused");
    gb_node(g, "Sigmoid", &unused, 1, "unused2");
    int y = gb_node(g, "Sigmoid", &x, 1, "y");
    gb_output(g, y);
    optimize_and_compare(g);
    assert_int_equal(g->n_nodes, 1);
    assert_int_equal(gb_count_op(g, "Relu"), 0);
    assert_int_equal(fq_graph_find_value(g, "unused"), -1);
    fq_graph_free(g);
}

static void test_nodes_with_only_constant_inputs_are_folded(void **state)
{
    (void)state;
    float two[C] = {2.0f, 2.0f, 2.0f, 2.0f};
    int64_t per_channel[] = {C, 1, 1};
    fq_graph *g = gb_graph(11);
    int x = gb_input(g, "x", 4, x_dims);
    int a = gb_const_f32(g, "a", 3, per_channel, two);
    int aa[] = {a, a};
    int four = gb_node(g, "Mul", aa, 2, "four");
    int in[] = {x, four};
    int y = gb_node(g, "Add", in, 2, "y");
    gb_output(g, y);
    optimize_and_compare(g);
    assert_int_equal(g->n_nodes, 1);
    const fq_value *folded = fq_node_input(g, &g->nodes[0], 1);
    assert_true(fq_value_is_constant(folded));
    assert_true(((const float *)folded->data)[0] == 4.0f);
    fq_graph_free(g);
}

static void test_equal_constants_are_shared_and_outputs_do_not_change(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    float ones[C] = {1, 2, 3, 4}, other[C] = {1, 2, 3, 5};
    int a = gb_const_f32(g, "a", 1, c_dims, ones);
    int b = gb_const_f32(g, "b", 1, c_dims, ones);
    int c = gb_const_f32(g, "c", 1, c_dims, other);
    int64_t dims[] = {1, C, 1, 1};
    int shape = gb_const_i64(g, "shape", 1, (int64_t[]){4}, dims);
    int in1[] = {a, shape}, in2[] = {b, shape}, in3[] = {c, shape};
    int ra = gb_node(g, "Reshape", in1, 2, "ra");
    int rb = gb_node(g, "Reshape", in2, 2, "rb");
    int rc = gb_node(g, "Reshape", in3, 2, "rc");
    int s1[] = {x, ra}, s2[] = {s1[0], rb};
    int y1 = gb_node(g, "Mul", s1, 2, "y1");
    s2[0] = y1;
    int y2 = gb_node(g, "Add", s2, 2, "y2");
    int s3[] = {y2, rc};
    gb_output(g, gb_node(g, "Sub", s3, 2, "y"));
    fq_error err = {0};
    assert_int_equal(fq_pass_infer_shapes(g, &err), FQ_OK);

    enum { N = C * H * W };
    float input[N], before[N], after[N];
    for (int i = 0; i < N; i++)
        input[i] = fq_test_rand_float(-2.0f, 2.0f);
    gb_run(g, input, N, 0, before, N);
    int constants_before = 0, constants_after = 0;
    for (int v = 0; v < g->n_values; v++)
        constants_before += g->values[v].kind == FQ_VALUE_CONSTANT;

    assert_int_equal(fq_pass_share_constants(g, &err), FQ_OK);
    assert_int_equal(fq_graph_validate(g, NULL), FQ_OK);
    for (int v = 0; v < g->n_values; v++)
        constants_after += g->values[v].kind == FQ_VALUE_CONSTANT;
    assert_int_equal(constants_after, constants_before - 1); /* b was a copy of a; c differs */
    assert_true(fq_graph_find_value(g, "c") >= 0);
    gb_run(g, input, N, 0, after, N);
    assert_memory_equal(before, after, sizeof(before));
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fix_input_size_sets_dynamic_dims),
        cmocka_unit_test(test_fix_input_size_refuses_a_size_the_model_fixes_otherwise),
        cmocka_unit_test(test_fix_input_size_asks_for_a_size_when_none_is_known),
        cmocka_unit_test(test_set_input_shape_refuses_unknown_names_and_ranks),
        cmocka_unit_test(test_shape_arithmetic_folds_into_a_constant_reshape_target),
        cmocka_unit_test(test_batchnorm_folds_into_the_conv_before_it),
        cmocka_unit_test(test_relu_fuses_into_conv),
        cmocka_unit_test(test_clip_with_constant_bounds_fuses_into_conv),
        cmocka_unit_test(test_prelu_with_per_channel_slopes_fuses_into_conv),
        cmocka_unit_test(test_leaky_relu_fuses_into_conv),
        cmocka_unit_test(test_activation_is_not_fused_when_the_conv_output_has_other_readers),
        cmocka_unit_test(test_identity_and_dropout_are_removed_keeping_output_names),
        cmocka_unit_test(test_dead_nodes_are_removed),
        cmocka_unit_test(test_nodes_with_only_constant_inputs_are_folded),
        cmocka_unit_test(test_equal_constants_are_shared_and_outputs_do_not_change),
    };
    return cmocka_run_group_tests_name("ir_passes", tests, NULL, NULL);
}
