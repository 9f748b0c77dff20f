/* The shape arithmetic of dynamic exports, folded by the passes with the tensor operators' own
 * execution functions: Shape -> Gather/Slice -> Cast -> Mul/Div -> Unsqueeze -> Concat, ending
 * in a constant Reshape target. */
#include <stdio.h>

#include "graph_builder.h"
#include "test_ops_tensor_util.h"

enum { C = 3, H = 4, W = 6 };

/* A named i64 constant of one element. */
static int const_i64(fq_graph *g, const char *prefix, const char *what, int64_t value)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_%s", prefix, what);
    return gb_const_i64(g, name, 1, DIMS(1), &value);
}

/* shape[index] as a 1-element i64 tensor: Unsqueeze(Gather(shape, index), axes = [0]). */
static int shape_dim(fq_graph *g, int shape, int64_t index, const char *name)
{
    char scalar_name[64];
    snprintf(scalar_name, sizeof(scalar_name), "%s_scalar", name);
    int index_value = gb_const_i64(g, name, 0, NULL, &index);
    int gather_in[] = {shape, index_value};
    int scalar = gb_node(g, "Gather", gather_in, 2, scalar_name);
    gb_attr_int(g, "axis", 0);
    int unsqueeze_in[] = {scalar, const_i64(g, name, "axes", 0)};
    return gb_node(g, "Unsqueeze", unsqueeze_in, 2, name);
}

/* shape[start:end] with Slice's input form (opset 10 and later). */
static int shape_slice(fq_graph *g, int shape, int64_t start, int64_t end, const char *name)
{
    int slice_in[] = {shape, const_i64(g, name, "start", start), const_i64(g, name, "end", end)};
    return gb_node(g, "Slice", slice_in, 3, name);
}

/* target = [N, C * H, i64(f32(W) * 2) / 2], computed the way exporters compute sizes. */
static int build_target(fq_graph *g, int x)
{
    int shape = gb_node(g, "Shape", &x, 1, "shape");
    int n = shape_dim(g, shape, 0, "n");

    int c = shape_slice(g, shape, 1, 2, "c");
    int h = shape_slice(g, shape, -2, -1, "h");
    int ch_in[] = {c, h};
    int c_times_h = gb_node(g, "Mul", ch_in, 2, "c_times_h");

    int w = shape_dim(g, shape, 3, "w");
    int w_float = gb_node(g, "Cast", &w, 1, "w_float");
    gb_attr_int(g, "to", 1);
    int doubled_in[] = {w_float, gb_const_f32(g, "two_f32", 1, DIMS(1), F32S(2.0f))};
    int doubled_float = gb_node(g, "Mul", doubled_in, 2, "doubled_float");
    int doubled = gb_node(g, "Cast", &doubled_float, 1, "doubled");
    gb_attr_int(g, "to", 7);
    int halved_in[] = {doubled, const_i64(g, "two", "i64", 2)};
    int halved = gb_node(g, "Div", halved_in, 2, "halved");

    int concat_in[] = {n, c_times_h, halved};
    int target = gb_node(g, "Concat", concat_in, 3, "target");
    gb_attr_int(g, "axis", 0);
    return target;
}

static void test_export_style_shape_arithmetic_folds_to_a_constant_target(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, DIMS(FQ_DIM_UNKNOWN, C, FQ_DIM_UNKNOWN, FQ_DIM_UNKNOWN));
    int target = build_target(g, x);
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
    assert_int_equal(t->dtype, FQ_DTYPE_I64);
    assert_int_equal(fq_shape_numel(&t->shape), 3);
    const int64_t *dims = t->data;
    assert_int_equal(dims[0], 1);
    assert_int_equal(dims[1], C * H);
    assert_int_equal(dims[2], W);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_style_shape_arithmetic_folds_to_a_constant_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
