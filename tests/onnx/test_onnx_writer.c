/* The ONNX writer: whatever the reader reads, written and read back, is the same graph (values,
 * nodes, attributes, constants byte for byte) and gives the same outputs. */
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

/* ---- Graph comparison -------------------------------------------------------------------- */

static void assert_same_value(const fq_value *a, const fq_value *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(a->is_output, b->is_output);
    if (a->dtype == FQ_DTYPE_UNDEFINED && a->kind == FQ_VALUE_INTERMEDIATE)
        return;
    assert_int_equal(a->shape.rank, b->shape.rank);
    for (int d = 0; d < a->shape.rank; d++) {
        assert_int_equal(a->shape.dims[d], b->shape.dims[d]);
        if (a->dim_param[d] != NULL)
            assert_string_equal(a->dim_param[d], b->dim_param[d]);
        else
            assert_null(b->dim_param[d]);
    }
    if (a->kind != FQ_VALUE_CONSTANT)
        return;
    size_t bytes = (size_t)fq_shape_numel(&a->shape) * fq_dtype_size(a->dtype);
    if (bytes > 0)
        assert_memory_equal(a->data, b->data, bytes);
}

static void assert_same_attr(const fq_graph *ga, const fq_attr *a, const fq_graph *gb,
                             const fq_attr *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case FQ_ATTR_FLOAT: assert_memory_equal(&a->f, &b->f, sizeof(float)); break;
    case FQ_ATTR_INT: assert_int_equal(a->i, b->i); break;
    case FQ_ATTR_STRING:
        assert_int_equal(a->s_len, b->s_len);
        assert_memory_equal(a->s, b->s, a->s_len + 1);
        break;
    case FQ_ATTR_TENSOR:
        assert_same_value(&ga->values[a->tensor], &gb->values[b->tensor]);
        break;
    default:
        assert_int_equal(a->count, b->count);
        for (int i = 0; i < a->count; i++) {
            if (a->type == FQ_ATTR_INTS)
                assert_int_equal(a->ints[i], b->ints[i]);
            else if (a->type == FQ_ATTR_FLOATS)
                assert_memory_equal(&a->floats[i], &b->floats[i], sizeof(float));
            else
                assert_string_equal(a->strings[i], b->strings[i]);
        }
    }
}

static const char *value_name(const fq_graph *g, int value)
{
    return value >= 0 ? g->values[value].name : "";
}

static void assert_same_node(const fq_graph *ga, const fq_node *a, const fq_graph *gb,
                             const fq_node *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->op_type, b->op_type);
    assert_int_equal(a->n_inputs, b->n_inputs);
    assert_int_equal(a->n_outputs, b->n_outputs);
    for (int i = 0; i < a->n_inputs; i++)
        assert_string_equal(value_name(ga, a->inputs[i]), value_name(gb, b->inputs[i]));
    for (int i = 0; i < a->n_outputs; i++)
        assert_string_equal(value_name(ga, a->outputs[i]), value_name(gb, b->outputs[i]));
    assert_int_equal(a->n_attrs, b->n_attrs);
    for (int i = 0; i < a->n_attrs; i++)
        assert_same_attr(ga, &a->attrs[i], gb, &b->attrs[i]);
}

/* Same values (matched by name: a graph built by hand may order them otherwise than a file),
 * same nodes in the same order, same graph inputs and outputs. */
static void assert_same_graph(const fq_graph *a, const fq_graph *b)
{
    assert_int_equal(a->opset, b->opset);
    if (a->ir_version > 0)
        assert_int_equal(a->ir_version, b->ir_version);
    if (a->producer != NULL)
        assert_string_equal(a->producer, b->producer);
    if (a->name != NULL)
        assert_string_equal(a->name, b->name);
    assert_int_equal(a->n_values, b->n_values);
    for (int v = 0; v < a->n_values; v++) {
        int match = fq_graph_find_value(b, a->values[v].name);
        assert_true(match >= 0);
        assert_same_value(&a->values[v], &b->values[match]);
    }
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (int n = 0; n < a->n_nodes; n++)
        assert_same_node(a, &a->nodes[n], b, &b->nodes[n]);
    assert_int_equal(a->n_inputs, b->n_inputs);
    for (int i = 0; i < a->n_inputs; i++)
        assert_string_equal(value_name(a, a->inputs[i]), value_name(b, b->inputs[i]));
    assert_int_equal(a->n_outputs, b->n_outputs);
    for (int i = 0; i < a->n_outputs; i++)
        assert_string_equal(value_name(a, a->outputs[i]), value_name(b, b->outputs[i]));
}

/* Writes g to memory and reads it back. */
static fq_graph *write_and_read(const fq_graph *g)
{
    fq_error err = {0};
    void *data = NULL;
    size_t size = 0;
    if (fq_onnx_write_memory(g, &data, &size, &err) != FQ_OK)
        fail_msg("write: %s", err.message);
    fq_graph *back = NULL;
    fq_status status = fq_onnx_read_memory(data, size, &back, &err);
    fq_free(data);
    if (status != FQ_OK)
        fail_msg("read back: %s", err.message);
    return back;
}

/* ---- Hand-built graphs ------------------------------------------------------------------- */

static fq_graph *conv_graph(void)
{
    fq_graph *g = gb_graph(13);
    int64_t in_dims[4] = {1, 3, 8, 8}, w_dims[4] = {4, 3, 3, 3}, b_dims[1] = {4};
    int x = gb_input(g, "x", 4, in_dims);
    int w = gb_const_f32(g, "w", 4, w_dims, NULL);
    int b = gb_const_f32(g, "b", 1, b_dims, NULL);
    int conv = gb_node(g, "Conv", (int[]){x, w, b}, 3, "conv");
    int64_t pads[4] = {1, 1, 1, 1};
    gb_attr_ints(g, "pads", 4, pads);
    gb_attr_int(g, "group", 1);
    int act = gb_node(g, "LeakyRelu", (int[]){conv}, 1, "act");
    gb_attr_float(g, "alpha", 0.125f);
    gb_output(g, act);
    return g;
}

static void test_hand_built_graph_round_trips(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    fq_graph *back = write_and_read(g);
    assert_same_graph(g, back);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_dim_params_and_unknown_dims_round_trip(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int64_t dims[4] = {FQ_DIM_UNKNOWN, 3, FQ_DIM_UNKNOWN, 8};
    int x = gb_input(g, "x", 4, dims);
    g->values[x].dim_param[0] = fq_strdup("batch");
    int y = gb_node(g, "Relu", (int[]){x}, 1, "y");
    gb_output(g, y);
    fq_graph *back = write_and_read(g);
    assert_same_graph(g, back);
    assert_string_equal(back->values[back->inputs[0]].dim_param[0], "batch");
    assert_int_equal(back->values[back->inputs[0]].shape.dims[2], FQ_DIM_UNKNOWN);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void add_string_attrs(fq_graph *g, int node)
{
    fq_attr *a;
    fq_error err = {0};
    assert_int_equal(fq_node_add_attr(g, node, "mode", FQ_ATTR_STRING, &a, &err), FQ_OK);
    a->s = fq_strdup("nearest");
    a->s_len = 7;
    assert_int_equal(fq_node_add_attr(g, node, "names", FQ_ATTR_STRINGS, &a, &err), FQ_OK);
    a->count = 2;
    a->strings = fq_calloc(3, sizeof(char *));
    a->strings[0] = fq_strdup("one");
    a->strings[1] = fq_strdup("");
    assert_int_equal(fq_node_add_attr(g, node, "scales", FQ_ATTR_FLOATS, &a, &err), FQ_OK);
    a->count = 2;
    a->floats = fq_malloc(2 * sizeof(float));
    a->floats[0] = -1.5f;
    a->floats[1] = 3e-8f;
}

static void test_every_attribute_type_round_trips(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    add_string_attrs(g, 1);

    /* A Constant node whose tensor is an attribute, not an initializer. */
    fq_error err = {0};
    fq_shape shape = {.rank = 1, .dims = {3}};
    int t, out, node;
    const int64_t values[3] = {-1, 0, 1LL << 40};
    assert_int_equal(fq_graph_add_value(g, "k.value", FQ_DTYPE_I64, &shape, &t, &err), FQ_OK);
    assert_int_equal(fq_value_set_data(g, t, values, false, &err), FQ_OK);
    assert_int_equal(fq_graph_add_value(g, "k", FQ_DTYPE_UNDEFINED, NULL, &out, &err), FQ_OK);
    assert_int_equal(fq_graph_add_node(g, "k", "Constant", NULL, 0, &out, 1, &node, &err), FQ_OK);
    fq_attr *a;
    assert_int_equal(fq_node_add_attr(g, node, "value", FQ_ATTR_TENSOR, &a, &err), FQ_OK);
    a->tensor = t;
    gb_output(g, out);

    fq_graph *back = write_and_read(g);
    assert_int_equal(back->n_nodes, 3);
    assert_same_node(g, &g->nodes[1], back, &back->nodes[1]);
    assert_same_attr(g, &g->nodes[2].attrs[0], back, &back->nodes[2].attrs[0]);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_integer_constants_round_trip_byte_for_byte(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    fq_error err = {0};
    int64_t x_dims[1] = {4};
    int x = gb_input(g, "x", 1, x_dims);
    const fq_dtype types[] = {FQ_DTYPE_U8, FQ_DTYPE_I8, FQ_DTYPE_I32, FQ_DTYPE_F16,
                              FQ_DTYPE_BOOL};
    const uint8_t bytes[16] = {0, 1, 127, 128, 255, 7, 9, 200, 3, 4, 5, 6, 7, 8, 9, 10};
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%d", i);
        fq_shape shape = {.rank = 1, .dims = {(int64_t)(16 / fq_dtype_size(types[i]))}};
        int v;
        assert_int_equal(fq_graph_add_value(g, name, types[i], &shape, &v, &err), FQ_OK);
        assert_int_equal(fq_value_set_data(g, v, bytes, false, &err), FQ_OK);
    }
    gb_output(g, gb_node(g, "Relu", (int[]){x}, 1, "y"));
    fq_graph *back = write_and_read(g);
    assert_same_graph(g, back);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_fused_activation_is_written_as_its_own_node(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    fq_error err = {0};
    assert_int_equal(fq_passes_run(g, NULL, &err), FQ_OK);
    assert_int_equal(gb_count_op(g, "LeakyRelu"), 0);

    fq_graph *back = write_and_read(g);
    assert_int_equal(gb_count_op(back, "LeakyRelu"), 1);
    assert_true(fq_node_attr_float(&back->nodes[1], "alpha", 0) == 0.125f);
    assert_int_equal(fq_passes_run(back, NULL, &err), FQ_OK);

    float input[192], a[256], b[256];
    for (int i = 0; i < 192; i++)
        input[i] = fq_test_rand_float(-2, 2);
    gb_run(g, input, 192, 0, a, 256);
    gb_run(back, input, 192, 0, b, 256);
    assert_memory_equal(a, b, sizeof(a));
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_fused_clip_gets_bound_inputs(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    g->nodes[1].dead = true;
    g->nodes[0].act = (fq_activation){.kind = FQ_ACT_CLIP, .alpha = 0.0f, .beta = 6.0f};
    fq_error err = {0};
    g->values[g->nodes[0].outputs[0]].is_output = true;
    g->outputs[0] = g->nodes[0].outputs[0];
    assert_int_equal(fq_graph_compact(g, &err), FQ_OK);

    fq_graph *back = write_and_read(g);
    assert_int_equal(gb_count_op(back, "Clip"), 1);
    const fq_node *clip = &back->nodes[1];
    assert_int_equal(clip->n_inputs, 3);
    assert_true(((const float *)back->values[clip->inputs[2]].data)[0] == 6.0f);
    assert_string_equal(back->values[clip->outputs[0]].name, "conv");
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_fused_activation_of_a_quantized_node_is_refused(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    fq_free(g->nodes[0].op_type);
    g->nodes[0].op_type = fq_strdup("QLinearConv");
    g->nodes[0].act.kind = FQ_ACT_RELU;
    fq_error err = {0};
    void *data = NULL;
    size_t size;
    assert_int_equal(fq_onnx_write_memory(g, &data, &size, &err), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "fq_qdq_export"));
    assert_null(data);
    fq_graph_free(g);
}

static void test_dead_nodes_are_left_out(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    int extra = gb_node(g, "Relu", (int[]){g->inputs[0]}, 1, "unused");
    (void)extra;
    g->nodes[g->n_nodes - 1].dead = true;
    fq_graph *back = write_and_read(g);
    assert_int_equal(back->n_nodes, 2);
    assert_int_equal(gb_count_op(back, "Relu"), 0);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_write_refuses_null_arguments(void **state)
{
    (void)state;
    fq_error err = {0};
    void *data;
    size_t size;
    assert_int_equal(fq_onnx_write_memory(NULL, &data, &size, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "fq_onnx_write_memory"));
}

static void test_write_refuses_an_output_index_out_of_range(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    g->outputs[0] = 999;
    fq_error err = {0};
    void *data = NULL;
    size_t size;
    assert_int_equal(fq_onnx_write_memory(g, &data, &size, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "graph output 0"));
    assert_null(data);
    fq_graph_free(g);
}

static void test_write_file_leaves_no_temporary_behind(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    fq_error err = {0};
    const char *path = fq_test_tmp_path("conv.onnx");
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", path);
    assert_int_equal(fq_onnx_write_file(g, copy, &err), FQ_OK);
    fq_graph *back = NULL;
    assert_int_equal(fq_onnx_read_file(copy, &back, &err), FQ_OK);
    assert_same_graph(g, back);

    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp.", copy);
    size_t size;
    void *none = fq_test_read_file(tmp, &size);
    assert_null(none);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_write_file_names_the_path_on_failure(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    fq_error err = {0};
    assert_int_equal(fq_onnx_write_file(g, "/nonexistent-dir/x.onnx", &err), FQ_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent-dir/x.onnx"));
    fq_graph_free(g);
}

/* ---- The shared models ------------------------------------------------------------------- */

static const char *const shared_models[] = {
    "det_2.5g.onnx", "det_500m.onnx", "mobilefacenet_128d.onnx", "scrfd_2.5g_bnkps.onnx",
    "scrfd_500m_bnkps_640x640.onnx", "scrfd_500m_bnkps_namedout.onnx",
    "synthetic_iresnet50_slim.onnx", "yunet_n_640_640.onnx", "yunet_n_dynamic.onnx",
};

static fq_graph *read_shared_model(const char *shared, const char *name)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", fq_test_path(shared, "models"));
    fq_graph *g = NULL;
    fq_error err = {0};
    if (fq_onnx_read_file(fq_test_path(dir, name), &g, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static void test_shared_models_round_trip(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    for (size_t i = 0; i < sizeof(shared_models) / sizeof(shared_models[0]); i++) {
        fq_graph *g = read_shared_model(shared, shared_models[i]);
        fq_graph *back = write_and_read(g);
        assert_same_graph(g, back);
        fq_graph_free(back);
        fq_graph_free(g);
    }
}

/* Both graphs prepared by the passes and run on the same input give identical outputs. */
static void assert_same_outputs(fq_graph *a, fq_graph *b, int64_t side)
{
    fq_error err = {0};
    fq_input_size size = {.width = side, .height = side, .batch = 1};
    assert_int_equal(fq_passes_run(a, &size, &err), FQ_OK);
    assert_int_equal(fq_passes_run(b, &size, &err), FQ_OK);
    size_t n_in = (size_t)(3 * side * side);
    float *input = malloc(n_in * sizeof(float));
    for (size_t i = 0; i < n_in; i++)
        input[i] = fq_test_rand_float(-1, 1);
    for (int o = 0; o < a->n_outputs; o++) {
        size_t count = (size_t)fq_shape_numel(&a->values[a->outputs[o]].shape);
        float *ya = malloc(count * sizeof(float)), *yb = malloc(count * sizeof(float));
        gb_run(a, input, n_in, o, ya, count);
        gb_run(b, input, n_in, o, yb, count);
        assert_memory_equal(ya, yb, count * sizeof(float));
        free(ya);
        free(yb);
    }
    free(input);
}

static void test_shared_model_written_and_read_gives_the_same_outputs(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_graph *g = read_shared_model(shared, "mobilefacenet_128d.onnx");
    fq_graph *back = write_and_read(g);
    fq_test_seed(7);
    assert_same_outputs(g, back, 112);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void test_prepared_model_written_and_read_gives_the_same_outputs(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_graph *g = read_shared_model(shared, "yunet_n_dynamic.onnx");
    fq_error err = {0};
    fq_input_size size = {.width = 160, .height = 160, .batch = 1};
    assert_int_equal(fq_passes_run(g, &size, &err), FQ_OK);
    fq_graph *back = write_and_read(g);
    fq_test_seed(11);
    assert_same_outputs(g, back, 160);
    fq_graph_free(back);
    fq_graph_free(g);
}

static int setup(void **state)
{
    (void)state;
    fq_test_seed(1);
    return fq_test_tmp_dir_create("fq_onnx_writer");
}

static int teardown(void **state)
{
    (void)state;
    return fq_test_tmp_dir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_built_graph_round_trips),
        cmocka_unit_test(test_dim_params_and_unknown_dims_round_trip),
        cmocka_unit_test(test_every_attribute_type_round_trips),
        cmocka_unit_test(test_integer_constants_round_trip_byte_for_byte),
        cmocka_unit_test(test_fused_activation_is_written_as_its_own_node),
        cmocka_unit_test(test_fused_clip_gets_bound_inputs),
        cmocka_unit_test(test_fused_activation_of_a_quantized_node_is_refused),
        cmocka_unit_test(test_dead_nodes_are_left_out),
        cmocka_unit_test(test_write_refuses_null_arguments),
        cmocka_unit_test(test_write_refuses_an_output_index_out_of_range),
        cmocka_unit_test(test_write_file_leaves_no_temporary_behind),
        cmocka_unit_test(test_write_file_names_the_path_on_failure),
        cmocka_unit_test(test_shared_models_round_trip),
        cmocka_unit_test(test_shared_model_written_and_read_gives_the_same_outputs),
        cmocka_unit_test(test_prepared_model_written_and_read_gives_the_same_outputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
