/* Helpers of the .fqm tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fqm_test_util.h"
#include "graph_builder.h"
#include "test_util.h"

const char *const fqm_shared_models[] = {
    "det_500m", "det_2.5g", "mobilefacenet_128d", "scrfd_2.5g_bnkps",
    "scrfd_500m_bnkps_640x640", "scrfd_500m_bnkps_namedout", "synthetic_iresnet50_slim",
    "yunet_n_640_640", "yunet_n_dynamic",
};
const int fqm_n_shared_models = (int)(sizeof(fqm_shared_models) / sizeof(fqm_shared_models[0]));

static void assert_strings_equal(const char *a, const char *b, const char *what)
{
    if (a == NULL || b == NULL) {
        if (a != b)
            fail_msg("%s: '%s' against '%s'", what, a != NULL ? a : "(null)",
                     b != NULL ? b : "(null)");
        return;
    }
    if (strcmp(a, b) != 0)
        fail_msg("%s: '%s' against '%s'", what, a, b);
}

static void assert_values_equal(const fq_value *a, const fq_value *b)
{
    assert_strings_equal(a->name, b->name, "value name");
    if (a->kind != b->kind || a->dtype != b->dtype || a->is_output != b->is_output ||
        !fq_shape_equal(&a->shape, &b->shape))
        fail_msg("value '%s': kind, dtype, output flag or shape differ", a->name);
    for (int d = 0; d < a->shape.rank; d++)
        assert_strings_equal(a->dim_param[d], b->dim_param[d], a->name);

    if (a->quant.axis != b->quant.axis || a->quant.count != b->quant.count)
        fail_msg("value '%s': quantization axis or count differ", a->name);
    if (a->quant.count > 0 &&
        (memcmp(a->quant.scale, b->quant.scale, (size_t)a->quant.count * sizeof(float)) != 0 ||
         memcmp(a->quant.zero_point, b->quant.zero_point,
                (size_t)a->quant.count * sizeof(int32_t)) != 0))
        fail_msg("value '%s': scales or zero points differ", a->name);

    if ((a->data == NULL) != (b->data == NULL))
        fail_msg("value '%s': data present in one graph only", a->name);
    size_t bytes = a->data != NULL ? (size_t)fq_shape_numel(&a->shape) * fq_dtype_size(a->dtype)
                                   : 0;
    if (bytes > 0 && memcmp(a->data, b->data, bytes) != 0)
        fail_msg("value '%s': data bytes differ", a->name);
}

static void assert_attrs_equal(const fq_node *node, const fq_attr *a, const fq_attr *b)
{
    assert_strings_equal(a->name, b->name, node->name);
    if (a->type != b->type)
        fail_msg("node '%s', attribute '%s': type differs", node->name, a->name);
    bool same = true;
    switch (a->type) {
    case FQ_ATTR_FLOAT: same = memcmp(&a->f, &b->f, sizeof(float)) == 0; break;
    case FQ_ATTR_INT: same = a->i == b->i; break;
    case FQ_ATTR_STRING:
        same = a->s_len == b->s_len && (a->s == NULL) == (b->s == NULL) &&
               (a->s == NULL || memcmp(a->s, b->s, a->s_len) == 0);
        break;
    case FQ_ATTR_TENSOR: same = a->tensor == b->tensor; break;
    case FQ_ATTR_FLOATS:
        same = a->count == b->count &&
               (a->count == 0 || memcmp(a->floats, b->floats, (size_t)a->count * 4) == 0);
        break;
    case FQ_ATTR_INTS:
        same = a->count == b->count &&
               (a->count == 0 || memcmp(a->ints, b->ints, (size_t)a->count * 8) == 0);
        break;
    case FQ_ATTR_STRINGS:
        same = a->count == b->count;
        for (int k = 0; same && k < a->count; k++)
            same = strcmp(a->strings[k], b->strings[k]) == 0;
        break;
    }
    if (!same)
        fail_msg("node '%s', attribute '%s': contents differ", node->name, a->name);
}

static void assert_nodes_equal(const fq_node *a, const fq_node *b)
{
    assert_strings_equal(a->name, b->name, "node name");
    assert_strings_equal(a->op_type, b->op_type, a->name);
    if (a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs || a->n_attrs != b->n_attrs ||
        a->dead != b->dead || a->op != b->op)
        fail_msg("node '%s': counts, op or dead flag differ", a->name);
    if (memcmp(a->inputs, b->inputs, (size_t)a->n_inputs * sizeof(int)) != 0 ||
        memcmp(a->outputs, b->outputs, (size_t)a->n_outputs * sizeof(int)) != 0)
        fail_msg("node '%s': wiring differs", a->name);
    if (a->act.kind != b->act.kind || memcmp(&a->act.alpha, &b->act.alpha, 4) != 0 ||
        memcmp(&a->act.beta, &b->act.beta, 4) != 0)
        fail_msg("node '%s': fused activation differs", a->name);
    for (int k = 0; k < a->n_attrs; k++)
        assert_attrs_equal(a, &a->attrs[k], &b->attrs[k]);
}

void fqm_assert_graphs_equal(const fq_graph *a, const fq_graph *b)
{
    assert_int_equal(a->ir_version, b->ir_version);
    assert_int_equal(a->opset, b->opset);
    assert_strings_equal(a->name, b->name, "graph name");
    assert_strings_equal(a->producer, b->producer, "producer");
    assert_int_equal(a->n_values, b->n_values);
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_int_equal(a->n_inputs, b->n_inputs);
    assert_int_equal(a->n_outputs, b->n_outputs);
    assert_memory_equal(a->inputs, b->inputs, (size_t)a->n_inputs * sizeof(int));
    assert_memory_equal(a->outputs, b->outputs, (size_t)a->n_outputs * sizeof(int));
    for (int v = 0; v < a->n_values; v++)
        assert_values_equal(&a->values[v], &b->values[v]);
    for (int n = 0; n < a->n_nodes; n++)
        assert_nodes_equal(&a->nodes[n], &b->nodes[n]);
}

void *fqm_write_aligned(const fq_graph *g, size_t *size)
{
    void *data = NULL;
    fq_error err = {0};
    if (fq_fqm_write_memory(g, NULL, 0, &data, size, &err) != FQ_OK)
        fail_msg("write: %s", err.message);
    void *aligned = fq_malloc_aligned(*size);
    assert_non_null(aligned);
    memcpy(aligned, data, *size);
    fq_free(data);
    return aligned;
}

fq_graph *fqm_roundtrip(const fq_graph *g, const fq_fqm_meta *meta, int n_meta, void **image,
                        size_t *size)
{
    void *data = NULL;
    fq_error err = {0};
    if (fq_fqm_write_memory(g, meta, n_meta, &data, size, &err) != FQ_OK)
        fail_msg("write: %s", err.message);
    *image = fq_malloc_aligned(*size);
    assert_non_null(*image);
    memcpy(*image, data, *size);
    fq_free(data);

    fq_graph *back = NULL;
    if (fq_fqm_read_memory(*image, *size, NULL, &back, NULL, NULL, &err) != FQ_OK)
        fail_msg("read: %s", err.message);
    return back;
}

static bool has_dynamic_image_input(const fq_graph *g)
{
    for (int i = 0; i < g->n_inputs; i++) {
        const fq_value *v = &g->values[g->inputs[i]];
        if (v->shape.rank == 4 && (v->shape.dims[2] < 0 || v->shape.dims[3] < 0))
            return true;
    }
    return false;
}

fq_graph *fqm_load_shared_model(const char *name)
{
    const char *shared = fq_test_require_shared();
    char path[4096];
    snprintf(path, sizeof(path), "%s/models/%s.onnx", shared, name);
    fq_graph *g = NULL;
    fq_error err = {0};
    if (fq_onnx_read_file(path, &g, &err) != FQ_OK)
        fail_msg("%s", err.message);
    fq_input_size size = {0, 0, 0};
    if (has_dynamic_image_input(g))
        size = (fq_input_size){640, 640, 1};
    if (fq_passes_run(g, &size, &err) != FQ_OK)
        fail_msg("%s: %s", name, err.message);
    return g;
}

static void infer_shapes(fq_graph *g)
{
    fq_error err = {0};
    if (fq_pass_infer_shapes(g, &err) != FQ_OK)
        fail_msg("%s", err.message);
}

static int add_constant(fq_graph *g, const char *name, fq_dtype dtype, int rank,
                        const int64_t *dims, const void *data)
{
    fq_shape shape = {.rank = rank};
    if (rank > 0)
        memcpy(shape.dims, dims, (size_t)rank * sizeof(int64_t));
    int v;
    assert_int_equal(fq_graph_add_value(g, name, dtype, &shape, &v, NULL), FQ_OK);
    assert_int_equal(fq_value_set_data(g, v, data, false, NULL), FQ_OK);
    return v;
}

static void set_quant(fq_graph *g, int value, int axis, int count, const float *scale,
                      const int32_t *zero_point)
{
    fq_quant *q = &g->values[value].quant;
    q->axis = axis;
    q->count = count;
    q->scale = fq_malloc((size_t)count * sizeof(float));
    q->zero_point = fq_malloc((size_t)count * sizeof(int32_t));
    memcpy(q->scale, scale, (size_t)count * sizeof(float));
    memcpy(q->zero_point, zero_point, (size_t)count * sizeof(int32_t));
}

fq_graph *fqm_build_f16_graph(void)
{
    fq_graph *g = gb_graph(13);
    g->ir_version = 8;
    g->name = fq_strdup("f16 weights");
    g->producer = fq_strdup("fqm tests");
    int x = gb_input(g, "x", 4, (const int64_t[]){1, 3, 8, 8});
    g->values[x].dim_param[0] = fq_strdup("batch");

    uint16_t halves[4 * 3 * 3 * 3];
    fq_test_seed(5);
    for (size_t i = 0; i < sizeof(halves) / sizeof(halves[0]); i++)
        halves[i] = (uint16_t)fq_test_rand();
    int w16 = add_constant(g, "w16", FQ_DTYPE_F16, 4, (const int64_t[]){4, 3, 3, 3}, halves);
    int w = gb_node(g, "Cast", (const int[]){w16}, 1, "w");
    gb_attr_int(g, "to", 1);
    int b = gb_const_f32(g, "b", 1, (const int64_t[]){4}, NULL);
    int y = gb_node(g, "Conv", (const int[]){x, w, b}, 3, "y");
    gb_attr_ints(g, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    gb_attr_ints(g, "kernel_shape", 2, (const int64_t[]){3, 3});
    g->nodes[g->n_nodes - 1].act = (fq_activation){FQ_ACT_CLIP, 0.0f, 6.0f};
    gb_output(g, y);
    infer_shapes(g);
    return g;
}

fq_graph *fqm_build_quant_graph(void)
{
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, (const int64_t[]){1, 3, 4, 4});
    const float x_scale_value = 0.02f;
    const uint8_t x_zp_value = 128;
    int x_scale = add_constant(g, "x_scale", FQ_DTYPE_F32, 0, NULL, &x_scale_value);
    int x_zp = add_constant(g, "x_zp", FQ_DTYPE_U8, 0, NULL, &x_zp_value);
    int q = gb_node(g, "QuantizeLinear", (const int[]){x, x_scale, x_zp}, 3, "x_q");
    set_quant(g, q, -1, 1, &x_scale_value, (const int32_t[]){128});
    int dq = gb_node(g, "DequantizeLinear", (const int[]){q, x_scale, x_zp}, 3, "x_dq");

    const int8_t weights[6] = {-127, 5, 64, 127, -3, 0};
    const float w_scales[2] = {0.01f, 0.03f};
    int w = add_constant(g, "w_i8", FQ_DTYPE_I8, 4, (const int64_t[]){2, 3, 1, 1}, weights);
    set_quant(g, w, 0, 2, w_scales, (const int32_t[]){0, 0});
    int w_scale = add_constant(g, "w_scale", FQ_DTYPE_F32, 1, (const int64_t[]){2}, w_scales);
    int w_zp = add_constant(g, "w_zp", FQ_DTYPE_I8, 1, (const int64_t[]){2},
                            (const int8_t[]){0, 0});
    int wf = gb_node(g, "DequantizeLinear", (const int[]){w, w_scale, w_zp}, 3, "w_f32");
    gb_attr_int(g, "axis", 0);

    const float b_scales[2] = {0.02f * 0.01f, 0.02f * 0.03f};
    int b = add_constant(g, "b_i32", FQ_DTYPE_I32, 1, (const int64_t[]){2},
                         (const int32_t[]){-1000, 70000});
    set_quant(g, b, 0, 2, b_scales, (const int32_t[]){0, 0});
    int b_scale = add_constant(g, "b_scale", FQ_DTYPE_F32, 1, (const int64_t[]){2}, b_scales);
    int b_zp = add_constant(g, "b_zp", FQ_DTYPE_I32, 1, (const int64_t[]){2},
                            (const int32_t[]){0, 0});
    int bf = gb_node(g, "DequantizeLinear", (const int[]){b, b_scale, b_zp}, 3, "b_f32");
    gb_attr_int(g, "axis", 0);

    int y = gb_node(g, "Conv", (const int[]){dq, wf, bf}, 3, "y");
    g->nodes[g->n_nodes - 1].act.kind = FQ_ACT_RELU;
    gb_output(g, y);
    infer_shapes(g);
    return g;
}

static fq_attr *add_attr(fq_graph *g, const char *name, fq_attr_type type)
{
    fq_attr *attr;
    assert_int_equal(fq_node_add_attr(g, g->n_nodes - 1, name, type, &attr, NULL), FQ_OK);
    return attr;
}

/* Attributes of every type on one node (Relu ignores attributes it does not know). */
static void add_every_attr_type(fq_graph *g)
{
    gb_attr_float(g, "a_float", -0.0f);
    gb_attr_int(g, "an_int", INT64_MIN);
    fq_attr *s = add_attr(g, "a_string", FQ_ATTR_STRING);
    s->s = fq_malloc(6);
    memcpy(s->s, "ab\0cd", 6);
    s->s_len = 5;
    fq_attr *floats = add_attr(g, "floats", FQ_ATTR_FLOATS);
    floats->count = 3;
    floats->floats = fq_malloc(3 * sizeof(float));
    memcpy(floats->floats, (const float[]){1.5f, -2.0f, 1e-30f}, 3 * sizeof(float));
    gb_attr_ints(g, "no_ints", 0, (const int64_t[]){0});
    fq_attr *strings = add_attr(g, "strings", FQ_ATTR_STRINGS);
    strings->count = 2;
    strings->strings = fq_malloc(2 * sizeof(char *));
    strings->strings[0] = fq_strdup("first");
    strings->strings[1] = fq_strdup("");
}

fq_graph *fqm_build_i64_graph(void)
{
    fq_graph *g = gb_graph(17);
    int x = gb_input(g, "x", 3, (const int64_t[]){2, 3, 4});
    int extra = gb_input(g, "unused", 2, (const int64_t[]){FQ_DIM_UNKNOWN, 4});
    g->values[extra].dim_param[0] = fq_strdup("n");

    int target = gb_const_i64(g, "target", 1, (const int64_t[]){2}, (const int64_t[]){6, 4});
    int flat = gb_node(g, "Reshape", (const int[]){x, target}, 2, "flat");
    int tensor = gb_const_i64(g, "attr_tensor", 2, (const int64_t[]){1, 2},
                              (const int64_t[]){INT64_MAX, -1});
    int from_attr = gb_node(g, "Constant", NULL, 0, "from_attr");
    add_attr(g, "value", FQ_ATTR_TENSOR)->tensor = tensor;
    int indices = gb_const_i64(g, "indices", 1, (const int64_t[]){3},
                               (const int64_t[]){0, 5, -2});
    int picked = gb_node(g, "Gather", (const int[]){flat, indices}, 2, "picked");
    gb_attr_int(g, "axis", 0);
    int y = gb_node(g, "Relu", (const int[]){picked}, 1, "y");
    add_every_attr_type(g);
    gb_output(g, y);
    gb_output(g, from_attr);

    const bool mask[3] = {true, false, true};
    add_constant(g, "mask", FQ_DTYPE_BOOL, 1, (const int64_t[]){3}, mask);
    infer_shapes(g);
    return g;
}
