/* Graph IR -> ONNX ModelProto, encoded on the protobuf wire by hand.
 *
 * Messages are written into one growing buffer. A nested message is opened by writing its tag
 * and remembering where its body starts; when it is closed, the body is moved forward to make
 * room for its length, so every length is known exactly and encoded in the fewest bytes.
 *
 * What is written: ir_version, producer_name, one opset_import for the default domain, and the
 * graph: nodes with their attributes, every constant as an initializer with raw_data (constants
 * that are tensor attributes go inside their attribute instead), graph inputs and outputs with
 * their types and shapes, and a value_info entry for each intermediate value whose type is
 * known. Dead nodes are left out. An activation fused into a node (node->act) is written as a
 * node of its own after it, so any ONNX runtime can read the file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/file_write.h"
#include "facequant/alloc.h"
#include "facequant/onnx.h"

/* ONNX TensorProto.DataType and AttributeProto.AttributeType numbers. */
enum {
    ONNX_FLOAT = 1,
    ONNX_UINT8 = 2,
    ONNX_INT8 = 3,
    ONNX_INT32 = 6,
    ONNX_INT64 = 7,
    ONNX_BOOL = 9,
    ONNX_FLOAT16 = 10,
    ONNX_ATTR_FLOAT = 1,
    ONNX_ATTR_INT = 2,
    ONNX_ATTR_STRING = 3,
    ONNX_ATTR_TENSOR = 4,
    ONNX_ATTR_FLOATS = 6,
    ONNX_ATTR_INTS = 7,
    ONNX_ATTR_STRINGS = 8
};

#define WIRE_VARINT 0u
#define WIRE_LEN 2u
#define WIRE_FIXED32 5u
#define MAX_VARINT 10

typedef struct writer {
    const fq_graph *graph;
    uint8_t *data;
    size_t size;
    size_t cap;
    bool failed;        /* an allocation failed; every later write is a no-op */
    bool *attr_tensor;  /* per value: the tensor of some attribute, not an initializer */
} writer;

/* ---- Wire primitives --------------------------------------------------------------------- */

static bool reserve(writer *w, size_t extra)
{
    if (w->failed)
        return false;
    if (extra <= w->cap - w->size)
        return true;
    size_t cap = w->cap > 0 ? w->cap : 4096;
    while (cap - w->size < extra) {
        if (cap > SIZE_MAX / 2) {
            w->failed = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *grown = fq_realloc(w->data, cap);
    if (grown == NULL) {
        w->failed = true;
        return false;
    }
    w->data = grown;
    w->cap = cap;
    return true;
}

static size_t varint_encode(uint64_t value, uint8_t *out)
{
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    out[n++] = (uint8_t)value;
    return n;
}

static void put_varint(writer *w, uint64_t value)
{
    if (reserve(w, MAX_VARINT))
        w->size += varint_encode(value, w->data + w->size);
}

static void put_tag(writer *w, uint32_t field, uint32_t wire)
{
    put_varint(w, ((uint64_t)field << 3) | wire);
}

static void put_bytes(writer *w, const void *bytes, size_t size)
{
    if (size > 0 && reserve(w, size)) {
        memcpy(w->data + w->size, bytes, size);
        w->size += size;
    }
}

static void field_varint(writer *w, uint32_t field, uint64_t value)
{
    put_tag(w, field, WIRE_VARINT);
    put_varint(w, value);
}

static void field_float(writer *w, uint32_t field, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof(bits));
    uint8_t le[4] = {(uint8_t)bits, (uint8_t)(bits >> 8), (uint8_t)(bits >> 16),
                     (uint8_t)(bits >> 24)};
    put_tag(w, field, WIRE_FIXED32);
    put_bytes(w, le, sizeof(le));
}

static void field_bytes(writer *w, uint32_t field, const void *bytes, size_t size)
{
    put_tag(w, field, WIRE_LEN);
    put_varint(w, size);
    put_bytes(w, bytes, size);
}

static void field_string(writer *w, uint32_t field, const char *text)
{
    field_bytes(w, field, text, strlen(text));
}

/* Opens a length-delimited field; returns where its body starts. */
static size_t begin(writer *w, uint32_t field)
{
    put_tag(w, field, WIRE_LEN);
    return w->size;
}

/* Closes the field opened at start: inserts the body's length in front of it. */
static void end(writer *w, size_t start)
{
    if (w->failed)
        return;
    uint8_t prefix[MAX_VARINT];
    size_t body = w->size - start;
    size_t n = varint_encode(body, prefix);
    if (!reserve(w, n))
        return;
    memmove(w->data + start + n, w->data + start, body);
    memcpy(w->data + start, prefix, n);
    w->size += n;
}

/* ---- Tensors and types ------------------------------------------------------------------- */

static uint64_t onnx_type(fq_dtype dtype)
{
    switch (dtype) {
    case FQ_DTYPE_F32: return ONNX_FLOAT;
    case FQ_DTYPE_F16: return ONNX_FLOAT16;
    case FQ_DTYPE_I8: return ONNX_INT8;
    case FQ_DTYPE_U8: return ONNX_UINT8;
    case FQ_DTYPE_I32: return ONNX_INT32;
    case FQ_DTYPE_I64: return ONNX_INT64;
    case FQ_DTYPE_BOOL: return ONNX_BOOL;
    default: return 0;
    }
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Writes the tensor data as raw_data, which is little-endian on the wire. */
static void put_raw_data(writer *w, const fq_value *v, size_t count)
{
    size_t elem = fq_dtype_size(v->dtype);
    put_tag(w, 9, WIRE_LEN);
    put_varint(w, count * elem);
    if (host_is_little_endian() || elem == 1) {
        put_bytes(w, v->data, count * elem);
        return;
    }
    const uint8_t *src = v->data;
    for (size_t i = 0; i < count; i++) {
        uint8_t swapped[8];
        for (size_t b = 0; b < elem; b++)
            swapped[b] = src[i * elem + elem - 1 - b];
        put_bytes(w, swapped, elem);
    }
}

static fq_status check_tensor(const fq_value *v, int64_t *numel, fq_error *err)
{
    if (onnx_type(v->dtype) == 0)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "constant '%s': data type %s has no ONNX "
                            "form", v->name, fq_dtype_name(v->dtype));
    *numel = fq_shape_numel(&v->shape);
    if (*numel < 0)
        return fq_error_set(err, FQ_ERR_SHAPE, "constant '%s': shape is not known", v->name);
    if (*numel > 0 && v->data == NULL)
        return fq_error_set(err, FQ_ERR_INTERNAL, "constant '%s' has no data", v->name);
    if ((uint64_t)*numel > SIZE_MAX / 8)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "constant '%s' is too large", v->name);
    return FQ_OK;
}

/* TensorProto: dims (1), data_type (2), name (8), raw_data (9). */
static fq_status put_tensor(writer *w, uint32_t field, const fq_value *v, fq_error *err)
{
    int64_t numel = 0;
    fq_status status = check_tensor(v, &numel, err);
    if (status != FQ_OK)
        return status;

    size_t start = begin(w, field);
    for (int d = 0; d < v->shape.rank; d++)
        field_varint(w, 1, (uint64_t)v->shape.dims[d]);
    field_varint(w, 2, onnx_type(v->dtype));
    field_string(w, 8, v->name);
    if (numel > 0)
        put_raw_data(w, v, (size_t)numel);
    end(w, start);
    return FQ_OK;
}

static void put_shape(writer *w, const fq_value *v)
{
    size_t shape = begin(w, 2);
    for (int d = 0; d < v->shape.rank; d++) {
        size_t dim = begin(w, 1);
        if (v->shape.dims[d] >= 0)
            field_varint(w, 1, (uint64_t)v->shape.dims[d]);
        else if (v->dim_param[d] != NULL)
            field_string(w, 2, v->dim_param[d]);
        end(w, dim);
    }
    end(w, shape);
}

/* ValueInfoProto: name (1), type (2) = TypeProto { tensor_type (1) = { elem_type (1),
 * shape (2) = TensorShapeProto { dim (1) = { dim_value (1) | dim_param (2) } } } }.
 * The IR does not tell a scalar from a value whose shape is not inferred yet, so the shape of
 * a rank-0 value other than a graph input is left out; readers infer it. */
static void put_value_info(writer *w, uint32_t field, const fq_value *v)
{
    bool shape_known = v->shape.rank > 0 || v->kind == FQ_VALUE_INPUT;
    size_t info = begin(w, field);
    field_string(w, 1, v->name);
    if (onnx_type(v->dtype) != 0) {
        size_t type = begin(w, 2);
        size_t tensor = begin(w, 1);
        field_varint(w, 1, onnx_type(v->dtype));
        if (shape_known)
            put_shape(w, v);
        end(w, tensor);
        end(w, type);
    }
    end(w, info);
}

/* ---- Nodes ------------------------------------------------------------------------------- */

static uint64_t onnx_attr_type(fq_attr_type type)
{
    switch (type) {
    case FQ_ATTR_FLOAT: return ONNX_ATTR_FLOAT;
    case FQ_ATTR_INT: return ONNX_ATTR_INT;
    case FQ_ATTR_STRING: return ONNX_ATTR_STRING;
    case FQ_ATTR_TENSOR: return ONNX_ATTR_TENSOR;
    case FQ_ATTR_FLOATS: return ONNX_ATTR_FLOATS;
    case FQ_ATTR_INTS: return ONNX_ATTR_INTS;
    case FQ_ATTR_STRINGS: return ONNX_ATTR_STRINGS;
    }
    return 0;
}

static fq_status put_attr_tensor(writer *w, const fq_node *node, const fq_attr *a,
                                 fq_error *err)
{
    if (a->tensor < 0 || a->tensor >= w->graph->n_values)
        return fq_error_set(err, FQ_ERR_INTERNAL, "node '%s' (%s): attribute '%s' names no "
                            "tensor", node->name, node->op_type, a->name);
    return put_tensor(w, 5, &w->graph->values[a->tensor], err);
}

/* AttributeProto: name (1), f (2), i (3), s (4), t (5), floats (7), ints (8), strings (9),
 * type (20). Repeated numbers are written one element per field, which every reader takes. */
static fq_status put_attr(writer *w, const fq_node *node, const fq_attr *a, fq_error *err)
{
    fq_status status = FQ_OK;
    size_t start = begin(w, 5);
    field_string(w, 1, a->name);
    switch (a->type) {
    case FQ_ATTR_FLOAT: field_float(w, 2, a->f); break;
    case FQ_ATTR_INT: field_varint(w, 3, (uint64_t)a->i); break;
    case FQ_ATTR_STRING: field_bytes(w, 4, a->s, a->s_len); break;
    case FQ_ATTR_TENSOR: status = put_attr_tensor(w, node, a, err); break;
    case FQ_ATTR_FLOATS:
        for (int i = 0; i < a->count; i++)
            field_float(w, 7, a->floats[i]);
        break;
    case FQ_ATTR_INTS:
        for (int i = 0; i < a->count; i++)
            field_varint(w, 8, (uint64_t)a->ints[i]);
        break;
    case FQ_ATTR_STRINGS:
        for (int i = 0; i < a->count; i++)
            field_string(w, 9, a->strings[i]);
        break;
    }
    field_varint(w, 20, onnx_attr_type(a->type));
    end(w, start);
    return status;
}

static const char *value_name(const writer *w, int value)
{
    return value >= 0 && value < w->graph->n_values ? w->graph->values[value].name : "";
}

/* Name of the value between a node and its separately written activation. Such made-up names
 * are not checked against the graph's: a clash gives a file the reader refuses (an output
 * defined twice), never a wrong model. */
static void preact_name(const writer *w, const fq_node *node, char *buf, size_t size)
{
    snprintf(buf, size, "%s_preact", value_name(w, node->outputs[0]));
}

static bool has_act(const fq_node *node)
{
    return node->act.kind != FQ_ACT_NONE && node->n_outputs >= 1;
}

/* NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). The PRelu slopes of
 * a fused PRelu are the node's last input and go to the PRelu node instead. */
static fq_status put_node(writer *w, const fq_node *node, fq_error *err)
{
    int n_inputs = node->n_inputs;
    if (node->act.kind == FQ_ACT_PRELU && n_inputs > 0)
        n_inputs--;

    size_t start = begin(w, 1);
    for (int i = 0; i < n_inputs; i++)
        field_string(w, 1, value_name(w, node->inputs[i]));
    for (int i = 0; i < node->n_outputs; i++) {
        char preact[FQ_ERROR_MESSAGE_SIZE];
        preact_name(w, node, preact, sizeof(preact));
        field_string(w, 2, i == 0 && has_act(node) ? preact : value_name(w, node->outputs[i]));
    }
    field_string(w, 3, node->name);
    field_string(w, 4, node->op_type);
    fq_status status = FQ_OK;
    for (int a = 0; a < node->n_attrs && status == FQ_OK; a++)
        status = put_attr(w, node, &node->attrs[a], err);
    end(w, start);
    return status;
}

/* A scalar f32 initializer holding a Clip bound (opset 11 and later take them as inputs). */
static void put_scalar_initializer(writer *w, const char *name, float value)
{
    size_t start = begin(w, 5);
    field_varint(w, 2, ONNX_FLOAT);
    field_string(w, 8, name);
    uint32_t bits;
    memcpy(&bits, &value, sizeof(bits));
    uint8_t le[4] = {(uint8_t)bits, (uint8_t)(bits >> 8), (uint8_t)(bits >> 16),
                     (uint8_t)(bits >> 24)};
    field_bytes(w, 9, le, sizeof(le));
    end(w, start);
}

static void clip_bound_names(const fq_node *node, char *min, char *max, size_t size)
{
    snprintf(min, size, "%s_act_min", node->name);
    snprintf(max, size, "%s_act_max", node->name);
}

static void put_act_attr_float(writer *w, const char *name, float value)
{
    size_t start = begin(w, 5);
    field_string(w, 1, name);
    field_float(w, 2, value);
    field_varint(w, 20, ONNX_ATTR_FLOAT);
    end(w, start);
}

static const char *act_op(fq_activation_kind kind)
{
    switch (kind) {
    case FQ_ACT_RELU: return "Relu";
    case FQ_ACT_CLIP: return "Clip";
    case FQ_ACT_LEAKY_RELU: return "LeakyRelu";
    case FQ_ACT_PRELU: return "PRelu";
    case FQ_ACT_SIGMOID: return "Sigmoid";
    default: return NULL;
    }
}

/* The node of a fused activation: reads "<output>_preact", writes the node's output. The
 * activation of a quantized node clamps its integer output and has no node of its own in ONNX;
 * fq_qdq_export turns such nodes into float ones first. */
static fq_status put_act_node(writer *w, const fq_node *node, fq_error *err)
{
    const char *op = act_op(node->act.kind);
    if (strncmp(node->op_type, "QLinear", 7) == 0)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "node '%s' (%s): a fused activation of a "
                            "quantized node has no ONNX form; write the graph through "
                            "fq_qdq_export", node->name, node->op_type);
    if (op == NULL)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "node '%s' (%s): fused activation %d has "
                            "no ONNX form", node->name, node->op_type, (int)node->act.kind);
    bool clip_inputs = node->act.kind == FQ_ACT_CLIP && w->graph->opset >= 11;
    char preact[FQ_ERROR_MESSAGE_SIZE], name[FQ_ERROR_MESSAGE_SIZE];
    char min[FQ_ERROR_MESSAGE_SIZE], max[FQ_ERROR_MESSAGE_SIZE];
    preact_name(w, node, preact, sizeof(preact));
    snprintf(name, sizeof(name), "%s_act", node->name);
    clip_bound_names(node, min, max, sizeof(min));

    size_t start = begin(w, 1);
    field_string(w, 1, preact);
    if (clip_inputs) {
        field_string(w, 1, min);
        field_string(w, 1, max);
    }
    if (node->act.kind == FQ_ACT_PRELU)
        field_string(w, 1, value_name(w, node->inputs[node->n_inputs - 1]));
    field_string(w, 2, value_name(w, node->outputs[0]));
    field_string(w, 3, name);
    field_string(w, 4, op);
    if (node->act.kind == FQ_ACT_LEAKY_RELU)
        put_act_attr_float(w, "alpha", node->act.alpha);
    if (node->act.kind == FQ_ACT_CLIP && !clip_inputs) {
        put_act_attr_float(w, "min", node->act.alpha);
        put_act_attr_float(w, "max", node->act.beta);
    }
    end(w, start);
    return FQ_OK;
}

/* ---- Graph and model --------------------------------------------------------------------- */

static fq_status mark_attr_tensors(writer *w, fq_error *err)
{
    const fq_graph *g = w->graph;
    w->attr_tensor = fq_calloc((size_t)g->n_values + 1, sizeof(bool));
    if (w->attr_tensor == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate %d flags", g->n_values);
    for (int n = 0; n < g->n_nodes; n++)
        for (int a = 0; a < g->nodes[n].n_attrs; a++) {
            int t = g->nodes[n].attrs[a].tensor;
            if (g->nodes[n].attrs[a].type == FQ_ATTR_TENSOR && t >= 0 && t < g->n_values)
                w->attr_tensor[t] = true;
        }
    return FQ_OK;
}

static fq_status put_nodes(writer *w, fq_error *err)
{
    fq_status status = FQ_OK;
    for (int n = 0; n < w->graph->n_nodes && status == FQ_OK; n++) {
        const fq_node *node = &w->graph->nodes[n];
        if (node->dead)
            continue;
        status = put_node(w, node, err);
        if (status == FQ_OK && has_act(node))
            status = put_act_node(w, node, err);
    }
    return status;
}

static fq_status put_initializers(writer *w, fq_error *err)
{
    const fq_graph *g = w->graph;
    fq_status status = FQ_OK;
    for (int v = 0; v < g->n_values && status == FQ_OK; v++)
        if (g->values[v].kind == FQ_VALUE_CONSTANT && !w->attr_tensor[v])
            status = put_tensor(w, 5, &g->values[v], err);

    for (int n = 0; n < g->n_nodes; n++) {
        const fq_node *node = &g->nodes[n];
        if (node->dead || node->act.kind != FQ_ACT_CLIP || g->opset < 11 || !has_act(node))
            continue;
        char min[FQ_ERROR_MESSAGE_SIZE], max[FQ_ERROR_MESSAGE_SIZE];
        clip_bound_names(node, min, max, sizeof(min));
        put_scalar_initializer(w, min, node->act.alpha);
        put_scalar_initializer(w, max, node->act.beta);
    }
    return status;
}

static fq_status check_io(const fq_graph *g, fq_error *err)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] < 0 || g->inputs[i] >= g->n_values)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "graph input %d: value index %d is out "
                                "of range", i, g->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] < 0 || g->outputs[i] >= g->n_values)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "graph output %d: value index %d is "
                                "out of range", i, g->outputs[i]);
    return FQ_OK;
}

/* GraphProto: node (1), name (2), initializer (5), input (11), output (12), value_info (13). */
static fq_status put_graph(writer *w, fq_error *err)
{
    const fq_graph *g = w->graph;
    size_t start = begin(w, 7);
    fq_status status = put_nodes(w, err);
    field_string(w, 2, g->name != NULL ? g->name : "facequant");
    if (status == FQ_OK)
        status = put_initializers(w, err);
    for (int i = 0; i < g->n_inputs; i++)
        put_value_info(w, 11, &g->values[g->inputs[i]]);
    for (int i = 0; i < g->n_outputs; i++)
        put_value_info(w, 12, &g->values[g->outputs[i]]);
    for (int v = 0; v < g->n_values; v++) {
        const fq_value *value = &g->values[v];
        if (value->kind == FQ_VALUE_INTERMEDIATE && !value->is_output &&
            onnx_type(value->dtype) != 0 && fq_graph_producer(g, v) >= 0)
            put_value_info(w, 13, value);
    }
    end(w, start);
    return status;
}

/* ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8). */
static fq_status put_model(writer *w, fq_error *err)
{
    const fq_graph *g = w->graph;
    int64_t opset = g->opset > 0 ? g->opset : 13;
    int64_t ir_version = g->ir_version > 0 ? g->ir_version : 7;
    field_varint(w, 1, (uint64_t)ir_version);
    field_string(w, 2, g->producer != NULL ? g->producer : "facequant");
    fq_status status = put_graph(w, err);
    size_t start = begin(w, 8);
    field_string(w, 1, "");
    field_varint(w, 2, (uint64_t)opset);
    end(w, start);
    return status;
}

fq_status fq_onnx_write_memory(const fq_graph *graph, void **data, size_t *size, fq_error *err)
{
    if (graph == NULL || data == NULL || size == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_onnx_write_memory: graph, data and "
                            "size must not be NULL");
    *data = NULL;
    *size = 0;
    fq_status status = check_io(graph, err);
    if (status != FQ_OK)
        return status;

    writer w = {.graph = graph};
    status = mark_attr_tensors(&w, err);
    if (status == FQ_OK)
        status = put_model(&w, err);
    if (status == FQ_OK && w.failed)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "ONNX writer: out of memory after %zu "
                              "bytes", w.size);
    fq_free(w.attr_tensor);
    if (status != FQ_OK) {
        fq_free(w.data);
        return status;
    }
    *data = w.data;
    *size = w.size;
    return FQ_OK;
}

#if defined(FQ_HAVE_FILES)
fq_status fq_onnx_write_file(const fq_graph *graph, const char *path, fq_error *err)
{
    if (path == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_onnx_write_file: path is NULL");
    void *data = NULL;
    size_t size = 0;
    fq_status status = fq_onnx_write_memory(graph, &data, &size, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);

    status = fq_write_file_atomic(path, data, size, err);
    fq_free(data);
    return status;
}
#endif
