/* The ONNX reader: small ModelProtos encoded by hand, the shared real models, and tensors of
 * ONNX's conformance tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/onnx.h"
#include "onnx/onnx_internal.h"
#include "test_util.h"

/* ---- A tiny protobuf encoder ------------------------------------------------------------- */

typedef struct pb {
    uint8_t *data;
    size_t size;
    size_t cap;
} pb;

static void pb_byte(pb *b, uint8_t byte)
{
    if (b->size == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    b->data[b->size++] = byte;
}

static void pb_raw(pb *b, const void *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        pb_byte(b, ((const uint8_t *)data)[i]);
}

static void pb_varint(pb *b, uint64_t v)
{
    while (v >= 0x80) {
        pb_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    pb_byte(b, (uint8_t)v);
}

static void pb_tag(pb *b, unsigned field, unsigned wire)
{
    pb_varint(b, (uint64_t)field << 3 | wire);
}

static void pb_int(pb *b, unsigned field, int64_t v)
{
    pb_tag(b, field, 0);
    pb_varint(b, (uint64_t)v);
}

static void pb_bytes(pb *b, unsigned field, const void *data, size_t size)
{
    pb_tag(b, field, 2);
    pb_varint(b, size);
    pb_raw(b, data, size);
}

static void pb_str(pb *b, unsigned field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

static void pb_float(pb *b, unsigned field, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    pb_tag(b, field, 5);
    for (int i = 0; i < 4; i++)
        pb_byte(b, (uint8_t)(bits >> (8 * i)));
}

/* Appends sub as a length-delimited field and frees it. */
static void pb_msg(pb *b, unsigned field, pb *sub)
{
    pb_bytes(b, field, sub->data, sub->size);
    free(sub->data);
    memset(sub, 0, sizeof(*sub));
}

/* ---- ONNX messages ----------------------------------------------------------------------- */

enum { T_FLOAT = 1, T_INT8 = 3, T_INT64 = 7, T_FLOAT16 = 10, T_DOUBLE = 11 };

static void dims_of(pb *t, const int64_t *dims, int rank)
{
    for (int i = 0; i < rank; i++)
        pb_int(t, 1, dims[i]);
}

static pb raw_tensor(const char *name, int type, const int64_t *dims, int rank,
                     const void *raw, size_t size)
{
    pb t = {0};
    dims_of(&t, dims, rank);
    pb_int(&t, 2, type);
    if (name != NULL)
        pb_str(&t, 8, name);
    pb_bytes(&t, 9, raw, size);
    return t;
}

/* dims given as strings: a number is a dim_value, anything else a dim_param. */
static pb value_info(const char *name, int elem_type, const char *const *dims, int rank)
{
    pb shape = {0}, tensor = {0}, type = {0}, vi = {0};
    for (int i = 0; i < rank; i++) {
        pb dim = {0};
        char *end;
        long long v = strtoll(dims[i], &end, 10);
        if (*end == '\0')
            pb_int(&dim, 1, v);
        else
            pb_str(&dim, 2, dims[i]);
        pb_msg(&shape, 1, &dim);
    }
    pb_int(&tensor, 1, elem_type);
    if (rank >= 0)
        pb_msg(&tensor, 2, &shape);
    free(shape.data);
    pb_msg(&type, 1, &tensor);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    return vi;
}

/* inputs and outputs are NULL-terminated lists; attrs is appended as is (may be empty). */
static pb node(const char *op, const char *name, const char *const *inputs,
               const char *const *outputs, pb *attrs)
{
    pb n = {0};
    for (int i = 0; inputs[i] != NULL; i++)
        pb_str(&n, 1, inputs[i]);
    for (int i = 0; outputs[i] != NULL; i++)
        pb_str(&n, 2, outputs[i]);
    if (name != NULL)
        pb_str(&n, 3, name);
    pb_str(&n, 4, op);
    if (attrs != NULL) {
        pb_raw(&n, attrs->data, attrs->size);
        free(attrs->data);
        memset(attrs, 0, sizeof(*attrs));
    }
    return n;
}

static pb model(pb *graph, int64_t opset)
{
    pb m = {0};
    pb_int(&m, 1, 7);
    pb_str(&m, 2, "hand");
    pb_msg(&m, 7, graph);
    if (opset > 0) {
        pb op = {0};
        pb_str(&op, 1, "");
        pb_int(&op, 2, opset);
        pb_msg(&m, 8, &op);
    }
    return m;
}

static const char *const dims_1x4[] = {"1", "4"};

/* Graph: x [1,4] f32 -> Relu -> y, with optional extras before the output. */
static pb relu_graph(pb *extra)
{
    pb g = {0}, n, vi;
    const char *const in[] = {"x", NULL}, *const out[] = {"y", NULL};
    n = node("Relu", "relu", in, out, NULL);
    pb_msg(&g, 1, &n);
    pb_str(&g, 2, "tiny");
    if (extra != NULL) {
        pb_raw(&g, extra->data, extra->size);
        free(extra->data);
        memset(extra, 0, sizeof(*extra));
    }
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    vi = value_info("y", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 12, &vi);
    return g;
}

static fq_status decode(pb *m, fq_graph **graph, fq_error *err)
{
    fq_error_clear(err);
    fq_status status = fq_onnx_decode(m->data, m->size, graph, err);
    free(m->data);
    memset(m, 0, sizeof(*m));
    return status;
}

static fq_graph *decode_ok(pb *m)
{
    fq_graph *graph = NULL;
    fq_error err;
    fq_status status = decode(m, &graph, &err);
    if (status != FQ_OK)
        fail_msg("decode failed: %s", err.message);
    return graph;
}

static int value_named(const fq_graph *graph, const char *name)
{
    int v = fq_graph_find_value(graph, name);
    if (v < 0)
        fail_msg("no value named '%s'", name);
    return v;
}

/* ---- Hand-made models -------------------------------------------------------------------- */

static void model_fields_are_copied(void **state)
{
    (void)state;
    pb g = relu_graph(NULL);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);
    assert_int_equal(graph->opset, 13);
    assert_int_equal(graph->ir_version, 7);
    assert_string_equal(graph->producer, "hand");
    assert_string_equal(graph->name, "tiny");
    assert_int_equal(graph->n_nodes, 1);
    assert_string_equal(graph->nodes[0].op_type, "Relu");
    assert_int_equal(graph->nodes[0].op, -1);
    assert_int_equal(fq_graph_validate(graph, NULL), FQ_OK);
    fq_graph_free(graph);
}

static void initializer_raw_data_becomes_constant(void **state)
{
    (void)state;
    const float w[4] = {1.5f, -2.0f, 3.25f, 0.0f};
    const int64_t dims[] = {1, 4};
    pb extra = {0};
    pb t = raw_tensor("w", T_FLOAT, dims, 2, w, sizeof(w));
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const fq_value *v = &graph->values[value_named(graph, "w")];
    assert_int_equal(v->kind, FQ_VALUE_CONSTANT);
    assert_int_equal(v->dtype, FQ_DTYPE_F32);
    assert_int_equal(v->shape.rank, 2);
    assert_int_equal(v->shape.dims[1], 4);
    assert_memory_equal(v->data, w, sizeof(w));
    fq_graph_free(graph);
}

static void initializer_float_data_is_read(void **state)
{
    (void)state;
    pb extra = {0}, t = {0};
    pb_int(&t, 1, 3);
    pb_int(&t, 2, T_FLOAT);
    pb_str(&t, 8, "f");
    pb_float(&t, 4, 0.5f); /* unpacked */
    pb_float(&t, 4, -1.0f);
    pb_float(&t, 4, 8.0f);
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const float *data = graph->values[value_named(graph, "f")].data;
    assert_true(data[0] == 0.5f && data[1] == -1.0f && data[2] == 8.0f);
    fq_graph_free(graph);
}

static void initializer_int64_data_is_read(void **state)
{
    (void)state;
    pb extra = {0}, t = {0}, packed = {0};
    pb_int(&t, 1, 2);
    pb_int(&t, 2, T_INT64);
    pb_str(&t, 8, "shape");
    pb_varint(&packed, (uint64_t)(int64_t)-1);
    pb_varint(&packed, 4);
    pb_msg(&t, 7, &packed);
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const fq_value *v = &graph->values[value_named(graph, "shape")];
    assert_int_equal(v->dtype, FQ_DTYPE_I64);
    assert_int_equal(((const int64_t *)v->data)[0], -1);
    assert_int_equal(((const int64_t *)v->data)[1], 4);
    fq_graph_free(graph);
}

static void float16_typed_data_comes_from_int32_data(void **state)
{
    (void)state;
    pb extra = {0}, t = {0};
    pb_int(&t, 1, 2);
    pb_int(&t, 2, T_FLOAT16);
    pb_str(&t, 8, "h");
    pb_int(&t, 5, 0x3c00);
    pb_int(&t, 5, 0xc000);
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const fq_value *v = &graph->values[value_named(graph, "h")];
    assert_int_equal(v->dtype, FQ_DTYPE_F16);
    assert_int_equal(((const uint16_t *)v->data)[0], 0x3c00);
    assert_int_equal(((const uint16_t *)v->data)[1], 0xc000);
    fq_graph_free(graph);
}

static void graph_inputs_exclude_initializers(void **state)
{
    (void)state;
    const float w[4] = {0};
    const int64_t dims[] = {1, 4};
    pb extra = {0};
    pb t = raw_tensor("w", T_FLOAT, dims, 2, w, sizeof(w));
    pb vi = value_info("w", T_FLOAT, dims_1x4, 2); /* old-style: initializer listed as input */
    pb_msg(&extra, 5, &t);
    pb_msg(&extra, 11, &vi);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    assert_int_equal(graph->n_inputs, 1);
    const fq_value *x = &graph->values[graph->inputs[0]];
    assert_string_equal(x->name, "x");
    assert_int_equal(x->kind, FQ_VALUE_INPUT);
    assert_int_equal(x->dtype, FQ_DTYPE_F32);
    fq_graph_free(graph);
}

static void dim_param_is_kept_for_unknown_dims(void **state)
{
    (void)state;
    const char *const dims[] = {"batch", "3", "height", "640"};
    pb g = {0}, n, vi;
    const char *const in[] = {"x", NULL}, *const out[] = {"y", NULL};
    n = node("Relu", "relu", in, out, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims, 4);
    pb_msg(&g, 11, &vi);
    vi = value_info("y", T_FLOAT, dims, 4);
    pb_msg(&g, 12, &vi);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const fq_value *x = &graph->values[graph->inputs[0]];
    assert_int_equal(x->shape.rank, 4);
    assert_int_equal(x->shape.dims[0], FQ_DIM_UNKNOWN);
    assert_string_equal(x->dim_param[0], "batch");
    assert_int_equal(x->shape.dims[1], 3);
    assert_null(x->dim_param[1]);
    assert_string_equal(x->dim_param[2], "height");
    assert_int_equal(x->shape.dims[3], 640);
    fq_graph_free(graph);
}

static void graph_outputs_keep_their_declared_type(void **state)
{
    (void)state;
    pb g = relu_graph(NULL);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    assert_int_equal(graph->n_outputs, 1);
    const fq_value *y = &graph->values[graph->outputs[0]];
    assert_string_equal(y->name, "y");
    assert_true(y->is_output);
    assert_int_equal(y->dtype, FQ_DTYPE_F32);
    assert_int_equal(y->shape.rank, 2);
    assert_int_equal(y->kind, FQ_VALUE_INTERMEDIATE);
    fq_graph_free(graph);
}

static pb attributes_of_every_type(void)
{
    pb attrs = {0}, a = {0}, packed = {0};
    pb_str(&a, 1, "alpha");
    pb_float(&a, 2, 0.25f);
    pb_int(&a, 20, 1);
    pb_msg(&attrs, 5, &a);
    pb_str(&a, 1, "axis");
    pb_int(&a, 3, -2);
    pb_int(&a, 20, 2);
    pb_msg(&attrs, 5, &a);
    pb_str(&a, 1, "mode");
    pb_str(&a, 4, "nearest");
    pb_int(&a, 20, 3);
    pb_msg(&attrs, 5, &a);
    pb_str(&a, 1, "scales");
    pb_float(&a, 7, 1.0f);
    pb_float(&a, 7, 2.0f);
    pb_int(&a, 20, 6);
    pb_msg(&attrs, 5, &a);
    pb_str(&a, 1, "pads");
    pb_varint(&packed, 0);
    pb_varint(&packed, 1);
    pb_varint(&packed, 2);
    pb_msg(&a, 8, &packed);
    pb_int(&a, 20, 7);
    pb_msg(&attrs, 5, &a);
    pb_str(&a, 1, "names");
    pb_str(&a, 9, "a");
    pb_str(&a, 9, "bc");
    pb_int(&a, 20, 8);
    pb_msg(&attrs, 5, &a);
    return attrs;
}

static void attributes_of_every_type_are_read(void **state)
{
    (void)state;
    pb g = {0}, n, vi, attrs = attributes_of_every_type();
    const char *const in[] = {"x", NULL}, *const out[] = {"y", NULL};
    n = node("Relu", "relu", in, out, &attrs);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    vi = value_info("y", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 12, &vi);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const fq_node *nd = &graph->nodes[0];
    assert_int_equal(nd->n_attrs, 6);
    assert_true(fq_node_attr_float(nd, "alpha", 0) == 0.25f);
    assert_int_equal(fq_node_attr_int(nd, "axis", 0), -2);
    assert_string_equal(fq_node_attr_string(nd, "mode", ""), "nearest");
    const fq_attr *scales = fq_node_attr(nd, "scales");
    assert_int_equal(scales->type, FQ_ATTR_FLOATS);
    assert_int_equal(scales->count, 2);
    assert_true(scales->floats[1] == 2.0f);
    int64_t pads[4];
    assert_int_equal(fq_node_attr_ints(nd, "pads", pads, 4), 3);
    assert_int_equal(pads[2], 2);
    const fq_attr *names = fq_node_attr(nd, "names");
    assert_int_equal(names->type, FQ_ATTR_STRINGS);
    assert_int_equal(names->count, 2);
    assert_string_equal(names->strings[1], "bc");
    fq_graph_free(graph);
}

static void attribute_without_type_field_takes_the_type_of_its_value(void **state)
{
    (void)state;
    pb g = {0}, n, vi, attrs = {0}, a = {0};
    pb_str(&a, 1, "axis");
    pb_int(&a, 3, 3);
    pb_msg(&attrs, 5, &a);
    const char *const in[] = {"x", NULL}, *const out[] = {"y", NULL};
    n = node("Relu", "relu", in, out, &attrs);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    assert_int_equal(graph->nodes[0].attrs[0].type, FQ_ATTR_INT);
    assert_int_equal(graph->nodes[0].attrs[0].i, 3);
    fq_graph_free(graph);
}

static void tensor_attribute_becomes_an_unwired_constant(void **state)
{
    (void)state;
    const int64_t dims[] = {2};
    const float data[2] = {0.0f, 6.0f};
    pb g = {0}, n, vi, attrs = {0}, a = {0};
    pb t = raw_tensor(NULL, T_FLOAT, dims, 1, data, sizeof(data));
    pb_str(&a, 1, "value");
    pb_msg(&a, 5, &t);
    pb_int(&a, 20, 4);
    pb_msg(&attrs, 5, &a);
    const char *const none[] = {NULL}, *const out[] = {"c", NULL};
    n = node("Constant", "const0", none, out, &attrs);
    pb_msg(&g, 1, &n);
    vi = value_info("c", T_FLOAT, NULL, 0);
    pb_msg(&g, 12, &vi);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const fq_attr *value = fq_node_attr(&graph->nodes[0], "value");
    assert_int_equal(value->type, FQ_ATTR_TENSOR);
    assert_true(value->tensor >= 0);
    const fq_value *c = &graph->values[value->tensor];
    assert_int_equal(c->kind, FQ_VALUE_CONSTANT);
    assert_string_equal(c->name, "const0.value");
    assert_memory_equal(c->data, data, sizeof(data));
    assert_int_equal(fq_graph_use_count(graph, value->tensor), 0);
    fq_graph_free(graph);
}

static void unnamed_node_is_named_after_its_op_and_index(void **state)
{
    (void)state;
    pb g = {0}, n, vi;
    const char *const in[] = {"x", NULL}, *const mid[] = {"m", NULL}, *const out[] = {"y", NULL};
    n = node("Relu", "first", in, mid, NULL);
    pb_msg(&g, 1, &n);
    n = node("Sigmoid", NULL, mid, out, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    assert_string_equal(graph->nodes[1].name, "Sigmoid_1");
    fq_graph_free(graph);
}

static void empty_input_name_is_an_omitted_optional_input(void **state)
{
    (void)state;
    pb g = {0}, n, vi;
    const char *const in[] = {"x", "", "x", NULL}, *const out[] = {"y", NULL};
    n = node("Clip", "clip", in, out, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    assert_int_equal(graph->nodes[0].n_inputs, 3);
    assert_int_equal(graph->nodes[0].inputs[1], -1);
    assert_int_equal(graph->nodes[0].inputs[2], graph->inputs[0]);
    fq_graph_free(graph);
}

static void value_info_types_intermediate_values(void **state)
{
    (void)state;
    const char *const dims[] = {"1", "4"};
    pb g = {0}, n, vi;
    const char *const in[] = {"x", NULL}, *const mid[] = {"m", NULL}, *const out[] = {"y", NULL};
    n = node("Relu", "a", in, mid, NULL);
    pb_msg(&g, 1, &n);
    n = node("Relu", "b", mid, out, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims, 2);
    pb_msg(&g, 11, &vi);
    vi = value_info("m", T_FLOAT, dims, 2);
    pb_msg(&g, 13, &vi);
    pb m = model(&g, 13);
    fq_graph *graph = decode_ok(&m);

    const fq_value *mv = &graph->values[value_named(graph, "m")];
    assert_int_equal(mv->dtype, FQ_DTYPE_F32);
    assert_int_equal(mv->shape.rank, 2);
    fq_graph_free(graph);
}

/* ---- Refusals ---------------------------------------------------------------------------- */

static void expect_refusal(pb *m, fq_status expected, const char *fragment)
{
    fq_graph *graph = (fq_graph *)1;
    fq_error err;
    fq_status status = decode(m, &graph, &err);
    if (status != expected)
        fail_msg("expected %s, got %s: %s", fq_status_name(expected), fq_status_name(status),
                 err.message);
    assert_null(graph);
    if (strstr(err.message, fragment) == NULL)
        fail_msg("message '%s' does not mention '%s'", err.message, fragment);
}

static void external_tensor_data_is_refused(void **state)
{
    (void)state;
    pb extra = {0}, t = {0}, entry = {0};
    pb_int(&t, 1, 4);
    pb_int(&t, 2, T_FLOAT);
    pb_str(&t, 8, "w");
    pb_str(&entry, 1, "location");
    pb_str(&entry, 2, "weights.bin");
    pb_msg(&t, 13, &entry);
    pb_int(&t, 14, 1);
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_UNSUPPORTED, "external");
}

static void unknown_domain_is_refused(void **state)
{
    (void)state;
    pb g = {0}, n, vi;
    const char *const in[] = {"x", NULL}, *const out[] = {"y", NULL};
    n = node("FusedConv", "fc", in, out, NULL);
    pb_str(&n, 7, "com.microsoft");
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_UNSUPPORTED, "node 'fc' (FusedConv): domain 'com.microsoft'");
}

static void missing_opset_is_refused(void **state)
{
    (void)state;
    pb g = relu_graph(NULL);
    pb m = model(&g, 0);
    expect_refusal(&m, FQ_ERR_PARSE, "opset_import");
}

static void missing_graph_is_refused(void **state)
{
    (void)state;
    pb m = {0}, op = {0};
    pb_int(&m, 1, 7);
    pb_int(&op, 2, 13);
    pb_msg(&m, 8, &op);
    expect_refusal(&m, FQ_ERR_PARSE, "no graph");
}

static void undefined_input_is_refused(void **state)
{
    (void)state;
    pb g = {0}, n, vi;
    const char *const in[] = {"x", "ghost", NULL}, *const out[] = {"y", NULL};
    n = node("Add", "add", in, out, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_PARSE, "node 'add' (Add): input 'ghost'");
}

static void input_produced_by_a_later_node_is_refused(void **state)
{
    (void)state;
    pb g = {0}, n, vi;
    const char *const x[] = {"x", NULL}, *const m1[] = {"m", NULL}, *const y[] = {"y", NULL};
    n = node("Relu", "uses_m", m1, y, NULL);
    pb_msg(&g, 1, &n);
    n = node("Relu", "makes_m", x, m1, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_PARSE, "topological order");
}

static void output_defined_twice_is_refused(void **state)
{
    (void)state;
    pb g = {0}, n, vi;
    const char *const x[] = {"x", NULL}, *const y[] = {"y", NULL};
    n = node("Relu", "a", x, y, NULL);
    pb_msg(&g, 1, &n);
    n = node("Relu", "b", x, y, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_PARSE, "output 'y' is already defined");
}

static void name_holding_a_nul_byte_is_refused(void **state)
{
    (void)state;
    pb g = {0}, n = {0}, vi;
    pb_str(&n, 1, "x");
    pb_bytes(&n, 2, "y\0z", 3);
    pb_str(&n, 4, "Relu");
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_PARSE, "NUL byte");
}

static void unsupported_data_type_is_refused_naming_the_tensor(void **state)
{
    (void)state;
    const double d[1] = {1.0};
    const int64_t dims[] = {1};
    pb extra = {0};
    pb t = raw_tensor("dbl", T_DOUBLE, dims, 1, d, sizeof(d));
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_UNSUPPORTED, "tensor 'dbl': data type DOUBLE");
}

static void raw_data_of_the_wrong_size_is_refused(void **state)
{
    (void)state;
    const float w[3] = {0};
    const int64_t dims[] = {1, 4};
    pb extra = {0};
    pb t = raw_tensor("w", T_FLOAT, dims, 2, w, sizeof(w));
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_PARSE, "raw_data holds 12 bytes");
}

static void typed_data_of_the_wrong_count_is_refused(void **state)
{
    (void)state;
    pb extra = {0}, t = {0};
    pb_int(&t, 1, 3);
    pb_int(&t, 2, T_INT8);
    pb_str(&t, 8, "q");
    pb_int(&t, 5, 1);
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_PARSE, "int32_data holds 1 elements, shape needs 3");
}

static void rank_above_the_maximum_is_refused(void **state)
{
    (void)state;
    const int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const float one = 1.0f;
    pb extra = {0};
    pb t = raw_tensor("deep", T_FLOAT, dims, 9, &one, sizeof(one));
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_UNSUPPORTED, "rank 9");
}

static void element_count_overflow_is_refused(void **state)
{
    (void)state;
    const int64_t dims[] = {INT64_C(1) << 40, INT64_C(1) << 40};
    const float one = 1.0f;
    pb extra = {0};
    pb t = raw_tensor("huge", T_FLOAT, dims, 2, &one, sizeof(one));
    pb_msg(&extra, 5, &t);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_PARSE, "overflows");
}

static void graph_attribute_is_refused(void **state)
{
    (void)state;
    pb g = {0}, n, vi, attrs = {0}, a = {0}, body = {0};
    pb_str(&body, 2, "body");
    pb_str(&a, 1, "then_branch");
    pb_msg(&a, 6, &body);
    pb_int(&a, 20, 5);
    pb_msg(&attrs, 5, &a);
    const char *const in[] = {"x", NULL}, *const out[] = {"y", NULL};
    n = node("If", "if", in, out, &attrs);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_UNSUPPORTED, "graph attributes are not supported");
}

static void sparse_initializer_is_refused(void **state)
{
    (void)state;
    pb extra = {0}, sparse = {0};
    pb_int(&sparse, 3, 4);
    pb_msg(&extra, 15, &sparse);
    pb g = relu_graph(&extra);
    pb m = model(&g, 13);
    expect_refusal(&m, FQ_ERR_UNSUPPORTED, "sparse");
}

static void truncated_model_names_the_byte_offset(void **state)
{
    (void)state;
    pb g = relu_graph(NULL);
    pb m = model(&g, 13);
    m.size -= 3;
    expect_refusal(&m, FQ_ERR_PARSE, "byte ");
}

static void read_memory_refuses_an_unknown_op_naming_it(void **state)
{
    (void)state;
    pb g = {0}, n, vi;
    const char *const in[] = {"x", NULL}, *const out[] = {"y", NULL};
    n = node("NoSuchOp", "mystery", in, out, NULL);
    pb_msg(&g, 1, &n);
    vi = value_info("x", T_FLOAT, dims_1x4, 2);
    pb_msg(&g, 11, &vi);
    pb m = model(&g, 13);

    fq_graph *graph = (fq_graph *)1;
    fq_error err;
    assert_int_equal(fq_onnx_read_memory(m.data, m.size, &graph, &err), FQ_ERR_UNSUPPORTED);
    assert_null(graph);
    assert_non_null(strstr(err.message, "mystery"));
    assert_non_null(strstr(err.message, "NoSuchOp"));
    free(m.data);
}

static void read_file_messages_start_with_the_path(void **state)
{
    (void)state;
    fq_graph *graph;
    fq_error err;
    const char *missing = "/nonexistent/facequant/model.onnx";
    assert_int_equal(fq_onnx_read_file(missing, &graph, &err), FQ_ERR_IO);
    assert_true(strncmp(err.message, missing, strlen(missing)) == 0);

    char path[] = "/tmp/fq_reader_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fputs("\x0a\x7f not a model", f);
    fclose(f);
    assert_int_equal(fq_onnx_read_file(path, &graph, &err), FQ_ERR_PARSE);
    assert_true(strncmp(err.message, path, strlen(path)) == 0);
    remove(path);
}

/* ---- Real models ------------------------------------------------------------------------- */

typedef struct model_case {
    const char *file;
    int nodes;
    const char *ops; /* "Op:count,..." sorted by op name */
    const char *input;
    const char *dims[4]; /* numbers are dim_value, anything else dim_param */
} model_case;

/* From /work/shared/models/MODEL_INFO.txt and MANIFEST.tsv (onnx 1.12). */
static const model_case models[] = {
    {"det_500m.onnx", 146, "Add:4,Concat:2,Conv:60,Gather:4,Relu:41,Reshape:9,Resize:2,"
     "Shape:6,Sigmoid:3,Slice:2,Transpose:9,Unsqueeze:4", "input.1", {"1", "3", "?", "?"}},
    {"scrfd_500m_bnkps_640x640.onnx", 128, "Add:4,Conv:60,Relu:41,Reshape:9,Resize:2,"
     "Sigmoid:3,Transpose:9", "input.1", {"1", "3", "640", "640"}},
    {"scrfd_500m_bnkps_namedout.onnx", 191, "Add:4,Cast:2,Concat:13,Constant:17,Conv:60,"
     "Gather:7,Relu:41,Reshape:9,Resize:2,Shape:9,Sigmoid:3,Slice:2,Transpose:9,Unsqueeze:13",
     "input.1", {"?", "3", "?", "?"}},
    {"det_2.5g.onnx", 157, "Add:17,AveragePool:3,Concat:2,Conv:57,Gather:4,MaxPool:1,Mul:3,"
     "Relu:35,Reshape:9,Resize:2,Shape:6,Sigmoid:3,Slice:2,Transpose:9,Unsqueeze:4",
     "input.1", {"1", "3", "?", "?"}},
    {"scrfd_2.5g_bnkps.onnx", 157, "Add:17,AveragePool:3,Concat:2,Conv:57,Gather:4,MaxPool:1,"
     "Mul:3,Relu:35,Reshape:9,Resize:2,Shape:6,Sigmoid:3,Slice:2,Transpose:9,Unsqueeze:4",
     "input.1", {"1", "3", "?", "?"}},
    {"mobilefacenet_128d.onnx", 163, "Add:12,Clip:32,Constant:65,Conv:51,Relu:2,Reshape:1",
     "input", {"1", "3", "112", "112"}},
    {"yunet_n_640_640.onnx", 115, "Add:2,Conv:59,MaxPool:4,Relu:18,Reshape:12,Resize:2,"
     "Sigmoid:6,Transpose:12", "input", {"1", "3", "640", "640"}},
    {"yunet_n_dynamic.onnx", 163, "Add:2,Concat:12,Conv:59,Gather:12,MaxPool:4,Relu:18,"
     "Reshape:12,Resize:2,Shape:12,Sigmoid:6,Transpose:12,Unsqueeze:12", "input",
     {"batch", "3", "height", "width"}},
    {"synthetic_iresnet50_slim.onnx", 183, "Add:24,BatchNormalization:79,Conv:53,Flatten:1,"
     "Gemm:1,PRelu:25", "input.1", {"1", "3", "112", "112"}},
};

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes "Op:count,..." for the graph's nodes, sorted by op name. */
static void op_counts(const fq_graph *graph, char *out, size_t size)
{
    const char **ops = malloc((size_t)graph->n_nodes * sizeof(char *));
    for (int n = 0; n < graph->n_nodes; n++)
        ops[n] = graph->nodes[n].op_type;
    qsort(ops, (size_t)graph->n_nodes, sizeof(char *), compare_strings);
    size_t used = 0;
    out[0] = '\0';
    for (int n = 0; n < graph->n_nodes;) {
        int same = 1;
        while (n + same < graph->n_nodes && strcmp(ops[n + same], ops[n]) == 0)
            same++;
        used += (size_t)snprintf(out + used, size - used, "%s%s:%d", used ? "," : "", ops[n],
                                 same);
        n += same;
    }
    free(ops);
}

static void check_input_dims(const fq_value *input, const model_case *mc)
{
    assert_string_equal(input->name, mc->input);
    assert_int_equal(input->shape.rank, 4);
    for (int d = 0; d < 4; d++) {
        char *end;
        long long v = strtoll(mc->dims[d], &end, 10);
        if (*end == '\0') {
            assert_int_equal(input->shape.dims[d], v);
            continue;
        }
        assert_int_equal(input->shape.dims[d], FQ_DIM_UNKNOWN);
        assert_non_null(input->dim_param[d]);
        assert_string_equal(input->dim_param[d], mc->dims[d]);
    }
}

static void shared_model_decodes_as_listed(void **state)
{
    const model_case *mc = *state;
    const char *shared = fq_test_require_shared();
    char path[4096];
    snprintf(path, sizeof(path), "%s/models/%s", shared, mc->file);
    size_t size;
    void *data = fq_test_read_file(path, &size);
    if (data == NULL)
        fail_msg("cannot read %s", path);

    fq_graph *graph;
    fq_error err;
    if (fq_onnx_decode(data, size, &graph, &err) != FQ_OK)
        fail_msg("%s: %s", mc->file, err.message);
    free(data);

    char ops[1024];
    op_counts(graph, ops, sizeof(ops));
    assert_int_equal(graph->n_nodes, mc->nodes);
    assert_string_equal(ops, mc->ops);
    assert_int_equal(graph->opset, 11);
    assert_int_equal(graph->n_inputs, 1);
    check_input_dims(&graph->values[graph->inputs[0]], mc);
    assert_int_equal(fq_graph_validate(graph, &err), FQ_OK);
    fq_graph_free(graph);
}

static void every_shared_model_decodes(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char dir_path[4096];
    snprintf(dir_path, sizeof(dir_path), "%s/models", shared);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int decoded = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".onnx") != 0)
            continue;
        char path[4096 + 256];
        snprintf(path, sizeof(path), "%s/%s", dir_path, e->d_name);
        size_t size;
        void *data = fq_test_read_file(path, &size);
        assert_non_null(data);
        fq_graph *graph;
        fq_error err;
        if (fq_onnx_decode(data, size, &graph, &err) != FQ_OK)
            fail_msg("%s: %s", e->d_name, err.message);
        free(data);
        fq_graph_free(graph);
        decoded++;
    }
    closedir(dir);
    print_message("decoded %d models\n", decoded);
    assert_true(decoded >= 1);
}

/* ---- Conformance tensors ----------------------------------------------------------------- */

#define CONFORMANCE_DIR "/usr/share/libonnx-testdata/data/node"

static void *read_conformance(const char *relative, size_t *size)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", CONFORMANCE_DIR, relative);
    void *data = fq_test_read_file(path, size);
    if (data == NULL) {
        print_message("skipped: %s is missing (Debian package libonnx-testdata)\n", path);
        skip();
    }
    return data;
}

typedef struct tensor_case {
    const char *file;
    const char *name;
    fq_dtype dtype;
    int rank;
    int64_t dims[4];
} tensor_case;

static const tensor_case tensors[] = {
    {"test_conv_with_strides_padding/test_data_set_0/input_0.pb", "x", FQ_DTYPE_F32, 4,
     {1, 1, 7, 5}},
    {"test_gather_0/test_data_set_0/input_1.pb", "indices", FQ_DTYPE_I64, 1, {3}},
    {"test_and2d/test_data_set_0/input_0.pb", "x", FQ_DTYPE_BOOL, 2, {3, 4}},
    {"test_cast_FLOAT_to_FLOAT16/test_data_set_0/output_0.pb", "output", FQ_DTYPE_F16, 2,
     {3, 4}},
    {"test_clip_default_int8_inbounds/test_data_set_0/input_0.pb", "x", FQ_DTYPE_I8, 1, {3}},
};

static void conformance_tensors_read_with_shape_and_dtype(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(tensors) / sizeof(tensors[0]); i++) {
        const tensor_case *tc = &tensors[i];
        size_t size;
        void *data = read_conformance(tc->file, &size);
        fq_graph *graph;
        fq_error err;
        int value;
        assert_int_equal(fq_graph_create(&graph, NULL), FQ_OK);
        if (fq_onnx_read_tensor(graph, data, size, &value, &err) != FQ_OK)
            fail_msg("%s: %s", tc->file, err.message);
        const fq_value *v = &graph->values[value];
        assert_string_equal(v->name, tc->name);
        assert_int_equal(v->dtype, tc->dtype);
        assert_int_equal(v->shape.rank, tc->rank);
        for (int d = 0; d < tc->rank; d++)
            assert_int_equal(v->shape.dims[d], tc->dims[d]);
        assert_true(fq_value_is_constant(v));
        fq_graph_free(graph);
        free(data);
    }
}

static void conformance_double_tensor_is_refused(void **state)
{
    (void)state;
    size_t size;
    void *data = read_conformance("test_cast_FLOAT_to_DOUBLE/test_data_set_0/output_0.pb",
                                  &size);
    fq_graph *graph;
    fq_error err;
    int value;
    assert_int_equal(fq_graph_create(&graph, NULL), FQ_OK);
    assert_int_equal(fq_onnx_read_tensor(graph, data, size, &value, &err), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "'output'"));
    assert_non_null(strstr(err.message, "DOUBLE"));
    fq_graph_free(graph);
    free(data);
}

/* Valid files may be refused as unsupported (subgraphs, sequences, doubles), never as
 * malformed. */
static void conformance_models_decode_or_are_refused_as_unsupported(void **state)
{
    (void)state;
    DIR *dir = opendir(CONFORMANCE_DIR);
    if (dir == NULL) {
        print_message("skipped: %s is missing\n", CONFORMANCE_DIR);
        skip();
    }
    int counts[FQ_ERR_INTERNAL + 1] = {0};
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s/model.onnx", CONFORMANCE_DIR, e->d_name);
        size_t size;
        void *data = fq_test_read_file(path, &size);
        if (data == NULL)
            continue;
        fq_graph *graph = NULL;
        fq_error err;
        fq_status status = fq_onnx_decode(data, size, &graph, &err);
        free(data);
        fq_graph_free(graph);
        if (status != FQ_OK && status != FQ_ERR_UNSUPPORTED)
            fail_msg("%s: %s: %s", e->d_name, fq_status_name(status), err.message);
        counts[status]++;
    }
    closedir(dir);
    print_message("conformance models: %d decoded, %d refused as unsupported\n", counts[FQ_OK],
                  counts[FQ_ERR_UNSUPPORTED]);
    assert_true(counts[FQ_OK] > 0);
}

#define MODEL_TEST(i) \
    cmocka_unit_test_prestate(shared_model_decodes_as_listed, (void *)&models[i])

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_fields_are_copied),
        cmocka_unit_test(initializer_raw_data_becomes_constant),
        cmocka_unit_test(initializer_float_data_is_read),
        cmocka_unit_test(initializer_int64_data_is_read),
        cmocka_unit_test(float16_typed_data_comes_from_int32_data),
        cmocka_unit_test(graph_inputs_exclude_initializers),
        cmocka_unit_test(dim_param_is_kept_for_unknown_dims),
        cmocka_unit_test(graph_outputs_keep_their_declared_type),
        cmocka_unit_test(attributes_of_every_type_are_read),
        cmocka_unit_test(attribute_without_type_field_takes_the_type_of_its_value),
        cmocka_unit_test(tensor_attribute_becomes_an_unwired_constant),
        cmocka_unit_test(unnamed_node_is_named_after_its_op_and_index),
        cmocka_unit_test(empty_input_name_is_an_omitted_optional_input),
        cmocka_unit_test(value_info_types_intermediate_values),
        cmocka_unit_test(external_tensor_data_is_refused),
        cmocka_unit_test(unknown_domain_is_refused),
        cmocka_unit_test(missing_opset_is_refused),
        cmocka_unit_test(missing_graph_is_refused),
        cmocka_unit_test(undefined_input_is_refused),
        cmocka_unit_test(input_produced_by_a_later_node_is_refused),
        cmocka_unit_test(output_defined_twice_is_refused),
        cmocka_unit_test(name_holding_a_nul_byte_is_refused),
        cmocka_unit_test(unsupported_data_type_is_refused_naming_the_tensor),
        cmocka_unit_test(raw_data_of_the_wrong_size_is_refused),
        cmocka_unit_test(typed_data_of_the_wrong_count_is_refused),
        cmocka_unit_test(rank_above_the_maximum_is_refused),
        cmocka_unit_test(element_count_overflow_is_refused),
        cmocka_unit_test(graph_attribute_is_refused),
        cmocka_unit_test(sparse_initializer_is_refused),
        cmocka_unit_test(truncated_model_names_the_byte_offset),
        cmocka_unit_test(read_memory_refuses_an_unknown_op_naming_it),
        cmocka_unit_test(read_file_messages_start_with_the_path),
        MODEL_TEST(0), MODEL_TEST(1), MODEL_TEST(2), MODEL_TEST(3), MODEL_TEST(4),
        MODEL_TEST(5), MODEL_TEST(6), MODEL_TEST(7), MODEL_TEST(8),
        cmocka_unit_test(every_shared_model_decodes),
        cmocka_unit_test(conformance_tensors_read_with_shape_and_dtype),
        cmocka_unit_test(conformance_double_tensor_is_refused),
        cmocka_unit_test(conformance_models_decode_or_are_refused_as_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
