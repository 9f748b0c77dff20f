/* ONNX ModelProto -> graph IR.
 *
 * The GraphProto is read in two steps: first every field is located (node, initializer, input,
 * output and value_info ranges are recorded, nothing is decoded), then the fields are decoded in
 * the order the IR needs them, whatever their order in the file: initializers, inputs, nodes,
 * value_info, outputs. Value names are resolved through a hash table, so loading is linear in the
 * size of the model.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/ops.h"
#include "onnx/name_table.h"
#include "onnx/onnx_internal.h"

typedef struct reader {
    fq_graph *graph;
    fq_name_table names;
    fq_error *err;
    /* GraphProto fields as ranges of the file (fq_pb_cursor), located before decoding. */
    fq_pb_list nodes;
    fq_pb_list initializers;
    fq_pb_list inputs;
    fq_pb_list outputs;
    fq_pb_list value_infos;
    /* Scratch space reused by every node and attribute. */
    fq_pb_list input_names;  /* fq_pb_cursor */
    fq_pb_list output_names; /* fq_pb_cursor */
    fq_pb_list attributes;   /* fq_pb_cursor */
    fq_pb_list input_values; /* int */
    fq_pb_list output_values; /* int */
    fq_pb_list floats;       /* uint32_t */
    fq_pb_list ints;         /* uint64_t */
    fq_pb_list strings;      /* fq_pb_cursor */
} reader;

static void reader_init(reader *r, fq_graph *graph, fq_error *err)
{
    memset(r, 0, sizeof(*r));
    r->graph = graph;
    r->err = err;
    fq_name_table_init(&r->names);
    fq_pb_list *ranges[] = {&r->nodes, &r->initializers, &r->inputs, &r->outputs,
                            &r->value_infos, &r->input_names, &r->output_names, &r->attributes,
                            &r->strings};
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        fq_pb_list_init(ranges[i], sizeof(fq_pb_cursor));
    fq_pb_list_init(&r->input_values, sizeof(int));
    fq_pb_list_init(&r->output_values, sizeof(int));
    fq_pb_list_init(&r->floats, sizeof(uint32_t));
    fq_pb_list_init(&r->ints, sizeof(uint64_t));
}

static void reader_free(reader *r)
{
    fq_pb_list *lists[] = {&r->nodes, &r->initializers, &r->inputs, &r->outputs,
                           &r->value_infos, &r->input_names, &r->output_names, &r->attributes,
                           &r->input_values, &r->output_values, &r->floats, &r->ints,
                           &r->strings};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        fq_pb_list_free(lists[i]);
    fq_name_table_free(&r->names);
}

static fq_status no_memory(reader *r, size_t offset, const char *what)
{
    return fq_error_set(r->err, FQ_ERR_NO_MEMORY, "byte %zu: %s: out of memory", offset, what);
}

/* Records the bytes of a length-delimited field in list. */
static fq_status push_range(reader *r, fq_pb_cursor *c, const fq_pb_field *f, fq_pb_list *list,
                            const char *what)
{
    fq_pb_cursor *slot = fq_pb_list_push(list);
    if (slot == NULL)
        return no_memory(r, f->offset, what);
    return fq_pb_field_bytes(c, f, slot, what, r->err);
}

static bool bytes_equal(const fq_pb_cursor *bytes, const char *text)
{
    size_t len = strlen(text);
    return bytes->size == len && (len == 0 || memcmp(bytes->data, text, len) == 0);
}

/* Length of a name for "%.*s" in messages. */
static int print_len(const fq_pb_cursor *bytes)
{
    return bytes->size > INT_MAX ? INT_MAX : (int)bytes->size;
}

/* ---- ValueInfoProto ---------------------------------------------------------------------- */

typedef struct value_info {
    size_t offset;
    fq_pb_cursor name;
    bool is_tensor;     /* TypeProto.tensor_type is present */
    uint64_t elem_type;
    bool has_shape;
    fq_shape shape;
    fq_pb_cursor dim_params[FQ_MAX_RANK]; /* size 0: none */
} value_info;

static fq_status read_dimension(reader *r, fq_pb_cursor *c, value_info *info)
{
    int d = info->shape.rank;
    info->shape.dims[d] = FQ_DIM_UNKNOWN;
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        uint64_t value;
        status = fq_pb_read_tag(c, &f, "TensorShapeProto.Dimension", r->err);
        if (status != FQ_OK)
            break;
        if (f.number == 1) {
            status = fq_pb_field_varint(c, &f, &value, "Dimension.dim_value", r->err);
            if (status == FQ_OK && (int64_t)value < 0)
                status = fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: Dimension.dim_value: "
                                      "negative size %lld", f.offset, (long long)value);
            info->shape.dims[d] = (int64_t)value;
        } else if (f.number == 2) {
            status = fq_pb_field_bytes(c, &f, &info->dim_params[d], "Dimension.dim_param",
                                       r->err);
            info->shape.dims[d] = FQ_DIM_UNKNOWN;
        } else {
            status = fq_pb_skip(c, &f, "TensorShapeProto.Dimension", r->err);
        }
    }
    info->shape.rank++;
    return status;
}

static fq_status read_shape(reader *r, fq_pb_cursor *c, value_info *info)
{
    info->has_shape = true;
    info->shape.rank = 0;
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        fq_pb_cursor dim;
        status = fq_pb_read_tag(c, &f, "TensorShapeProto", r->err);
        if (status != FQ_OK)
            break;
        if (f.number != 1) {
            status = fq_pb_skip(c, &f, "TensorShapeProto", r->err);
            continue;
        }
        if (info->shape.rank == FQ_MAX_RANK)
            return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: TensorShapeProto: rank "
                                "above the supported %d", f.offset, FQ_MAX_RANK);
        status = fq_pb_field_bytes(c, &f, &dim, "TensorShapeProto.dim", r->err);
        if (status == FQ_OK)
            status = read_dimension(r, &dim, info);
    }
    return status;
}

static fq_status read_tensor_type(reader *r, fq_pb_cursor *c, value_info *info)
{
    info->is_tensor = true;
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        fq_pb_cursor shape;
        status = fq_pb_read_tag(c, &f, "TypeProto.Tensor", r->err);
        if (status != FQ_OK)
            break;
        if (f.number == 1) {
            status = fq_pb_field_varint(c, &f, &info->elem_type, "TypeProto.Tensor.elem_type",
                                        r->err);
        } else if (f.number == 2) {
            status = fq_pb_field_bytes(c, &f, &shape, "TypeProto.Tensor.shape", r->err);
            if (status == FQ_OK)
                status = read_shape(r, &shape, info);
        } else {
            status = fq_pb_skip(c, &f, "TypeProto.Tensor", r->err);
        }
    }
    return status;
}

/* Types other than tensor_type (sequence, map, optional, sparse) leave is_tensor false. */
static fq_status read_type(reader *r, fq_pb_cursor *c, value_info *info)
{
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        fq_pb_cursor tensor;
        status = fq_pb_read_tag(c, &f, "TypeProto", r->err);
        if (status != FQ_OK)
            break;
        if (f.number == 1) {
            status = fq_pb_field_bytes(c, &f, &tensor, "TypeProto.tensor_type", r->err);
            if (status == FQ_OK)
                status = read_tensor_type(r, &tensor, info);
        } else {
            status = fq_pb_skip(c, &f, "TypeProto", r->err);
        }
    }
    return status;
}

static fq_status read_value_info(reader *r, const fq_pb_cursor *range, value_info *info)
{
    fq_pb_cursor c = *range;
    memset(info, 0, sizeof(*info));
    info->offset = range->base;
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(&c) && status == FQ_OK) {
        fq_pb_field f;
        fq_pb_cursor type;
        status = fq_pb_read_tag(&c, &f, "ValueInfoProto", r->err);
        if (status != FQ_OK)
            break;
        if (f.number == 1) {
            status = fq_pb_field_bytes(&c, &f, &info->name, "ValueInfoProto.name", r->err);
        } else if (f.number == 2) {
            status = fq_pb_field_bytes(&c, &f, &type, "ValueInfoProto.type", r->err);
            if (status == FQ_OK)
                status = read_type(r, &type, info);
        } else {
            status = fq_pb_skip(&c, &f, "ValueInfoProto", r->err);
        }
    }
    if (status == FQ_OK && info->name.size == 0)
        status = fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: ValueInfoProto: value has no "
                              "name", info->offset);
    return status;
}

/* Gives value the dtype, shape and dim_param names declared by info. */
static fq_status apply_value_info(reader *r, int value, const value_info *info, fq_dtype dtype)
{
    fq_value *v = &r->graph->values[value];
    v->dtype = dtype;
    if (!info->has_shape)
        return FQ_OK;
    v->shape = info->shape;
    for (int d = 0; d < FQ_MAX_RANK; d++) {
        fq_free(v->dim_param[d]);
        v->dim_param[d] = NULL;
        if (d >= info->shape.rank || info->dim_params[d].size == 0)
            continue;
        fq_status status = fq_onnx_copy_name(&info->dim_params[d], &v->dim_param[d],
                                             "Dimension.dim_param", r->err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* The dtype a graph input or output declares; `role` is "graph input" or "graph output". */
static fq_status declared_dtype(reader *r, const value_info *info, const char *role,
                                fq_dtype *dtype)
{
    *dtype = FQ_DTYPE_UNDEFINED;
    if (!info->is_tensor || info->elem_type == 0)
        return FQ_OK;
    *dtype = fq_onnx_dtype(info->elem_type);
    if (*dtype == FQ_DTYPE_UNDEFINED)
        return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: %s '%.*s': data type %s "
                            "(%llu) is not supported", info->offset, role,
                            print_len(&info->name), (const char *)info->name.data,
                            fq_onnx_type_name(info->elem_type),
                            (unsigned long long)info->elem_type);
    return FQ_OK;
}

/* ---- Initializers, inputs, outputs ------------------------------------------------------- */

static fq_status add_initializers(reader *r)
{
    const fq_pb_cursor *ranges = r->initializers.items;
    for (size_t i = 0; i < r->initializers.count; i++) {
        fq_pb_cursor c = ranges[i];
        int value;
        fq_status status = fq_onnx_decode_tensor(r->graph, &c, NULL, &value, r->err);
        if (status != FQ_OK)
            return status;

        const char *name = r->graph->values[value].name;
        if (fq_name_table_find(&r->names, r->graph, name, strlen(name)) >= 0)
            return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: initializer '%s' is defined "
                                "twice", ranges[i].base, name);
        if (!fq_name_table_add(&r->names, r->graph, value))
            return no_memory(r, ranges[i].base, "GraphProto.initializer");
    }
    return FQ_OK;
}

static fq_status add_input(reader *r, const value_info *info)
{
    fq_dtype dtype;
    char *name = NULL;
    int value;
    fq_status status = declared_dtype(r, info, "graph input", &dtype);
    if (status == FQ_OK && (!info->is_tensor || dtype == FQ_DTYPE_UNDEFINED))
        status = fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: graph input '%.*s' is "
                              "not a tensor of known data type", info->offset,
                              print_len(&info->name), (const char *)info->name.data);
    if (status == FQ_OK && !info->has_shape)
        status = fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: graph input '%.*s' has "
                              "no shape", info->offset, print_len(&info->name),
                              (const char *)info->name.data);
    if (status == FQ_OK)
        status = fq_onnx_copy_name(&info->name, &name, "ValueInfoProto.name", r->err);
    if (status == FQ_OK)
        status = fq_graph_add_value(r->graph, name, dtype, NULL, &value, r->err);
    fq_free(name);
    if (status != FQ_OK)
        return status;

    r->graph->values[value].kind = FQ_VALUE_INPUT;
    r->graph->inputs[r->graph->n_inputs++] = value;
    if (!fq_name_table_add(&r->names, r->graph, value))
        return no_memory(r, info->offset, "GraphProto.input");
    return apply_value_info(r, value, info, dtype);
}

/* Graph inputs that name an initializer are skipped: before IR version 4 every initializer
 * is listed among the inputs as well. */
static fq_status add_inputs(reader *r)
{
    r->graph->inputs = fq_malloc((r->inputs.count + 1) * sizeof(int));
    if (r->graph->inputs == NULL)
        return no_memory(r, 0, "GraphProto.input");

    const fq_pb_cursor *ranges = r->inputs.items;
    for (size_t i = 0; i < r->inputs.count; i++) {
        value_info info;
        fq_status status = read_value_info(r, &ranges[i], &info);
        if (status != FQ_OK)
            return status;
        int known = fq_name_table_find(&r->names, r->graph, (const char *)info.name.data,
                                       info.name.size);
        if (known >= 0 && r->graph->values[known].kind == FQ_VALUE_CONSTANT)
            continue;
        if (known >= 0)
            return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: graph input '%s' is listed "
                                "twice", info.offset, r->graph->values[known].name);
        status = add_input(r, &info);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* value_info declares types of intermediate values; entries for other values are ignored, and
 * so are data types facequant does not handle (the op that produces them will be refused). */
static fq_status apply_value_infos(reader *r)
{
    const fq_pb_cursor *ranges = r->value_infos.items;
    for (size_t i = 0; i < r->value_infos.count; i++) {
        value_info info;
        fq_status status = read_value_info(r, &ranges[i], &info);
        if (status != FQ_OK)
            return status;
        int value = fq_name_table_find(&r->names, r->graph, (const char *)info.name.data,
                                       info.name.size);
        fq_dtype dtype = info.is_tensor ? fq_onnx_dtype(info.elem_type) : FQ_DTYPE_UNDEFINED;
        if (value < 0 || r->graph->values[value].kind != FQ_VALUE_INTERMEDIATE ||
            dtype == FQ_DTYPE_UNDEFINED)
            continue;
        status = apply_value_info(r, value, &info, dtype);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

static fq_status add_output(reader *r, const value_info *info)
{
    int value = fq_name_table_find(&r->names, r->graph, (const char *)info->name.data,
                                   info->name.size);
    if (value < 0)
        return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: graph output '%.*s' is not "
                            "produced by any node", info->offset, print_len(&info->name),
                            (const char *)info->name.data);
    fq_dtype dtype;
    fq_status status = declared_dtype(r, info, "graph output", &dtype);
    if (status != FQ_OK)
        return status;

    fq_value *v = &r->graph->values[value];
    v->is_output = true;
    r->graph->outputs[r->graph->n_outputs++] = value;
    if (v->kind != FQ_VALUE_INTERMEDIATE || dtype == FQ_DTYPE_UNDEFINED)
        return FQ_OK;
    return apply_value_info(r, value, info, dtype);
}

static fq_status add_outputs(reader *r)
{
    r->graph->outputs = fq_malloc((r->outputs.count + 1) * sizeof(int));
    if (r->graph->outputs == NULL)
        return no_memory(r, 0, "GraphProto.output");

    const fq_pb_cursor *ranges = r->outputs.items;
    for (size_t i = 0; i < r->outputs.count; i++) {
        value_info info;
        fq_status status = read_value_info(r, &ranges[i], &info);
        if (status == FQ_OK)
            status = add_output(r, &info);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* ---- AttributeProto ---------------------------------------------------------------------- */

enum {
    ONNX_ATTR_FLOAT = 1,
    ONNX_ATTR_INT = 2,
    ONNX_ATTR_STRING = 3,
    ONNX_ATTR_TENSOR = 4,
    ONNX_ATTR_GRAPH = 5,
    ONNX_ATTR_FLOATS = 6,
    ONNX_ATTR_INTS = 7,
    ONNX_ATTR_STRINGS = 8,
    ONNX_ATTR_GRAPHS = 10
};

typedef struct attr_fields {
    size_t offset;
    fq_pb_cursor name;
    uint64_t type;
    bool has_f, has_i, has_s, has_t;
    uint32_t f_bits;
    uint64_t i;
    fq_pb_cursor s;
    fq_pb_cursor t;
} attr_fields;

static fq_status refuse_attr_field(reader *r, const fq_pb_field *f, const char *what)
{
    return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: AttributeProto: %s are not "
                        "supported", f->offset, what);
}

static fq_status read_attr_field(reader *r, fq_pb_cursor *c, const fq_pb_field *f,
                                 attr_fields *a)
{
    switch (f->number) {
    case 1: return fq_pb_field_bytes(c, f, &a->name, "AttributeProto.name", r->err);
    case 2:
        a->has_f = true;
        return fq_pb_field_fixed32(c, f, &a->f_bits, "AttributeProto.f", r->err);
    case 3:
        a->has_i = true;
        return fq_pb_field_varint(c, f, &a->i, "AttributeProto.i", r->err);
    case 4:
        a->has_s = true;
        return fq_pb_field_bytes(c, f, &a->s, "AttributeProto.s", r->err);
    case 5:
        a->has_t = true;
        return fq_pb_field_bytes(c, f, &a->t, "AttributeProto.t", r->err);
    case 6:
    case 11: return refuse_attr_field(r, f, "graph attributes");
    case 7:
        return fq_pb_field_repeated(c, f, FQ_PB_FIXED32, &r->floats, "AttributeProto.floats",
                                    r->err);
    case 8:
        return fq_pb_field_repeated(c, f, FQ_PB_VARINT, &r->ints, "AttributeProto.ints",
                                    r->err);
    case 9: return push_range(r, c, f, &r->strings, "AttributeProto.strings");
    case 10: return refuse_attr_field(r, f, "tensor list attributes");
    case 14:
    case 15: return refuse_attr_field(r, f, "type attributes");
    case 21: return refuse_attr_field(r, f, "references to function attributes");
    case 22:
    case 23: return refuse_attr_field(r, f, "sparse tensor attributes");
    case 20: return fq_pb_field_varint(c, f, &a->type, "AttributeProto.type", r->err);
    }
    return fq_pb_skip(c, f, "AttributeProto", r->err);
}

/* IR version 1 files have no type field: the one value field present says the type. */
static uint64_t implied_attr_type(const reader *r, const attr_fields *a)
{
    int kinds = a->has_f + a->has_i + a->has_s + a->has_t + (r->floats.count > 0) +
                (r->ints.count > 0) + (r->strings.count > 0);
    if (kinds != 1)
        return 0;
    return a->has_f ? ONNX_ATTR_FLOAT : a->has_i ? ONNX_ATTR_INT : a->has_s ? ONNX_ATTR_STRING
         : a->has_t ? ONNX_ATTR_TENSOR : r->floats.count > 0 ? ONNX_ATTR_FLOATS
         : r->ints.count > 0 ? ONNX_ATTR_INTS : ONNX_ATTR_STRINGS;
}

static fq_status attr_type(reader *r, const attr_fields *a, fq_attr_type *type)
{
    uint64_t onnx_type = a->type != 0 ? a->type : implied_attr_type(r, a);
    switch (onnx_type) {
    case ONNX_ATTR_FLOAT: *type = FQ_ATTR_FLOAT; return FQ_OK;
    case ONNX_ATTR_INT: *type = FQ_ATTR_INT; return FQ_OK;
    case ONNX_ATTR_STRING: *type = FQ_ATTR_STRING; return FQ_OK;
    case ONNX_ATTR_TENSOR: *type = FQ_ATTR_TENSOR; return FQ_OK;
    case ONNX_ATTR_FLOATS: *type = FQ_ATTR_FLOATS; return FQ_OK;
    case ONNX_ATTR_INTS: *type = FQ_ATTR_INTS; return FQ_OK;
    case ONNX_ATTR_STRINGS: *type = FQ_ATTR_STRINGS; return FQ_OK;
    case 0:
        return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: attribute '%.*s' has no type and "
                            "not exactly one value", a->offset, print_len(&a->name),
                            (const char *)a->name.data);
    case ONNX_ATTR_GRAPH:
    case ONNX_ATTR_GRAPHS:
        return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: attribute '%.*s': graph "
                            "attributes are not supported", a->offset, print_len(&a->name),
                            (const char *)a->name.data);
    }
    return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: attribute '%.*s': attribute "
                        "type %llu is not supported", a->offset, print_len(&a->name),
                        (const char *)a->name.data, (unsigned long long)onnx_type);
}

static fq_status fill_list_attr(reader *r, const attr_fields *a, fq_attr *attr)
{
    const fq_pb_list *list = attr->type == FQ_ATTR_FLOATS ? &r->floats
                           : attr->type == FQ_ATTR_INTS ? &r->ints : &r->strings;
    if (list->count > INT_MAX)
        return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: attribute '%s' has too "
                            "many elements", a->offset, attr->name);
    attr->count = (int)list->count;
    if (attr->type == FQ_ATTR_FLOATS) {
        attr->floats = fq_malloc(list->count * sizeof(float));
        if (attr->floats != NULL && list->count > 0)
            memcpy(attr->floats, list->items, list->count * sizeof(float));
        return attr->floats != NULL ? FQ_OK : no_memory(r, a->offset, "AttributeProto.floats");
    }
    if (attr->type == FQ_ATTR_INTS) {
        attr->ints = fq_malloc(list->count * sizeof(int64_t));
        if (attr->ints != NULL && list->count > 0)
            memcpy(attr->ints, list->items, list->count * sizeof(int64_t));
        return attr->ints != NULL ? FQ_OK : no_memory(r, a->offset, "AttributeProto.ints");
    }
    attr->strings = fq_calloc(list->count + 1, sizeof(char *));
    if (attr->strings == NULL)
        return no_memory(r, a->offset, "AttributeProto.strings");
    const fq_pb_cursor *strings = list->items;
    for (size_t i = 0; i < list->count; i++) {
        attr->strings[i] = fq_strndup((const char *)strings[i].data, strings[i].size);
        if (attr->strings[i] == NULL)
            return no_memory(r, a->offset, "AttributeProto.strings");
    }
    return FQ_OK;
}

static fq_status fill_attr(reader *r, const attr_fields *a, fq_attr *attr)
{
    switch (attr->type) {
    case FQ_ATTR_FLOAT: memcpy(&attr->f, &a->f_bits, sizeof(float)); return FQ_OK;
    case FQ_ATTR_INT: attr->i = (int64_t)a->i; return FQ_OK;
    case FQ_ATTR_STRING:
        attr->s = a->s.size > 0 ? fq_strndup((const char *)a->s.data, a->s.size)
                                : fq_strdup("");
        attr->s_len = a->s.size;
        return attr->s != NULL ? FQ_OK : no_memory(r, a->offset, "AttributeProto.s");
    case FQ_ATTR_TENSOR: return FQ_OK;
    default: return fill_list_attr(r, a, attr);
    }
}

/* A tensor attribute becomes a constant value wired to no node, named after the tensor or else
 * "<node>.<attribute>". */
static fq_status decode_attr_tensor(reader *r, int node, const char *attr_name,
                                    const attr_fields *a, int *value)
{
    if (!a->has_t)
        return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: tensor attribute '%s' has no "
                            "tensor", a->offset, attr_name);
    char fallback[FQ_ERROR_MESSAGE_SIZE];
    snprintf(fallback, sizeof(fallback), "%s.%s", r->graph->nodes[node].name, attr_name);
    fq_pb_cursor t = a->t;
    return fq_onnx_decode_tensor(r->graph, &t, fallback, value, r->err);
}

static fq_status read_attribute(reader *r, int node, const fq_pb_cursor *range)
{
    attr_fields a = {.offset = range->base};
    fq_pb_cursor c = *range;
    r->floats.count = 0;
    r->ints.count = 0;
    r->strings.count = 0;
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(&c) && status == FQ_OK) {
        fq_pb_field f;
        status = fq_pb_read_tag(&c, &f, "AttributeProto", r->err);
        if (status == FQ_OK)
            status = read_attr_field(r, &c, &f, &a);
    }
    if (status == FQ_OK && a.name.size == 0)
        status = fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: AttributeProto: attribute has "
                              "no name", a.offset);

    fq_attr_type type;
    char *name = NULL;
    int tensor = -1;
    if (status == FQ_OK)
        status = attr_type(r, &a, &type);
    if (status == FQ_OK)
        status = fq_onnx_copy_name(&a.name, &name, "AttributeProto.name", r->err);
    if (status == FQ_OK && type == FQ_ATTR_TENSOR)
        status = decode_attr_tensor(r, node, name, &a, &tensor);

    fq_attr *attr = NULL;
    if (status == FQ_OK)
        status = fq_node_add_attr(r->graph, node, name, type, &attr, r->err);
    fq_free(name);
    if (status != FQ_OK)
        return status;
    attr->tensor = tensor;
    return fill_attr(r, &a, attr);
}

/* ---- NodeProto --------------------------------------------------------------------------- */

typedef struct node_fields {
    size_t offset;
    fq_pb_cursor name;
    fq_pb_cursor op_type;
    fq_pb_cursor domain;
} node_fields;

static fq_status read_node_field(reader *r, fq_pb_cursor *c, const fq_pb_field *f,
                                 node_fields *n)
{
    switch (f->number) {
    case 1: return push_range(r, c, f, &r->input_names, "NodeProto.input");
    case 2: return push_range(r, c, f, &r->output_names, "NodeProto.output");
    case 3: return fq_pb_field_bytes(c, f, &n->name, "NodeProto.name", r->err);
    case 4: return fq_pb_field_bytes(c, f, &n->op_type, "NodeProto.op_type", r->err);
    case 5: return push_range(r, c, f, &r->attributes, "NodeProto.attribute");
    case 7: return fq_pb_field_bytes(c, f, &n->domain, "NodeProto.domain", r->err);
    }
    return fq_pb_skip(c, f, "NodeProto", r->err);
}

static fq_status read_node_fields(reader *r, const fq_pb_cursor *range, node_fields *n)
{
    fq_pb_cursor c = *range;
    memset(n, 0, sizeof(*n));
    n->offset = range->base;
    r->input_names.count = 0;
    r->output_names.count = 0;
    r->attributes.count = 0;
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(&c) && status == FQ_OK) {
        fq_pb_field f;
        status = fq_pb_read_tag(&c, &f, "NodeProto", r->err);
        if (status == FQ_OK)
            status = read_node_field(r, &c, &f, n);
    }
    if (status == FQ_OK && n->op_type.size == 0)
        status = fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: NodeProto: node has no op_type",
                              n->offset);
    if (status == FQ_OK && (r->input_names.count > INT_MAX || r->output_names.count > INT_MAX))
        status = fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: NodeProto: too many "
                              "inputs or outputs", n->offset);
    return status;
}

/* Whether the NodeProto in range lists name among its outputs; decoding errors count as no
 * (this only refines the message of an error already found). */
static bool node_produces(const fq_pb_cursor *range, const fq_pb_cursor *name)
{
    fq_pb_cursor c = *range;
    while (!fq_pb_at_end(&c)) {
        fq_pb_field f;
        fq_pb_cursor bytes;
        if (fq_pb_read_tag(&c, &f, "NodeProto", NULL) != FQ_OK)
            return false;
        if (f.number != 2) {
            if (fq_pb_skip(&c, &f, "NodeProto", NULL) != FQ_OK)
                return false;
            continue;
        }
        if (fq_pb_field_bytes(&c, &f, &bytes, "NodeProto.output", NULL) != FQ_OK)
            return false;
        if (bytes.size == name->size && memcmp(bytes.data, name->data, name->size) == 0)
            return true;
    }
    return false;
}

static fq_status undefined_input(reader *r, size_t node, const char *node_name,
                                 const char *op_type, const fq_pb_cursor *input)
{
    const fq_pb_cursor *ranges = r->nodes.items;
    for (size_t later = node + 1; later < r->nodes.count; later++)
        if (node_produces(&ranges[later], input))
            return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: node '%s' (%s): input '%.*s' "
                                "is produced by node %zu, which comes later (nodes must be in "
                                "topological order)", ranges[node].base, node_name, op_type,
                                print_len(input), (const char *)input->data, later);
    return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: node '%s' (%s): input '%.*s' is not "
                        "produced by any node and is neither a graph input nor an initializer",
                        ranges[node].base, node_name, op_type, print_len(input),
                        (const char *)input->data);
}

static fq_status resolve_inputs(reader *r, size_t node, const char *node_name,
                                const char *op_type)
{
    const fq_pb_cursor *names = r->input_names.items;
    r->input_values.count = 0;
    if (!fq_pb_list_reserve(&r->input_values, r->input_names.count))
        return no_memory(r, ((const fq_pb_cursor *)r->nodes.items)[node].base, "NodeProto");
    int *values = r->input_values.items;
    for (size_t i = 0; i < r->input_names.count; i++) {
        /* An empty name stands for an omitted optional input. */
        int value = -1;
        if (names[i].size > 0)
            value = fq_name_table_find(&r->names, r->graph, (const char *)names[i].data,
                                       names[i].size);
        if (names[i].size > 0 && value < 0)
            return undefined_input(r, node, node_name, op_type, &names[i]);
        values[r->input_values.count++] = value;
    }
    return FQ_OK;
}

static fq_status add_output_value(reader *r, size_t offset, const char *node_name,
                                  const char *op_type, const fq_pb_cursor *name, int *value)
{
    *value = -1;
    if (name->size == 0)
        return FQ_OK;
    if (fq_name_table_find(&r->names, r->graph, (const char *)name->data, name->size) >= 0)
        return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: node '%s' (%s): output '%.*s' is "
                            "already defined", offset, node_name, op_type, print_len(name),
                            (const char *)name->data);
    char *copy = NULL;
    fq_status status = fq_onnx_copy_name(name, &copy, "NodeProto.output", r->err);
    if (status == FQ_OK)
        status = fq_graph_add_value(r->graph, copy, FQ_DTYPE_UNDEFINED, NULL, value, r->err);
    fq_free(copy);
    if (status == FQ_OK && !fq_name_table_add(&r->names, r->graph, *value))
        status = no_memory(r, offset, "NodeProto.output");
    return status;
}

static fq_status add_output_values(reader *r, size_t offset, const char *node_name,
                                   const char *op_type)
{
    const fq_pb_cursor *names = r->output_names.items;
    r->output_values.count = 0;
    if (!fq_pb_list_reserve(&r->output_values, r->output_names.count))
        return no_memory(r, offset, "NodeProto");
    int *values = r->output_values.items;
    for (size_t i = 0; i < r->output_names.count; i++) {
        fq_status status = add_output_value(r, offset, node_name, op_type, &names[i],
                                            &values[i]);
        if (status != FQ_OK)
            return status;
        r->output_values.count++;
    }
    return FQ_OK;
}

static fq_status check_domain(reader *r, const node_fields *n, const char *node_name,
                              const char *op_type)
{
    if (n->domain.size == 0 || bytes_equal(&n->domain, "ai.onnx"))
        return FQ_OK;
    return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: node '%s' (%s): domain '%.*s' "
                        "is not supported (only the default ai.onnx domain is)", n->offset,
                        node_name, op_type, print_len(&n->domain), (const char *)n->domain.data);
}

/* Copies the node's name, or makes one ("<op_type>_<index>") for an unnamed node. */
static fq_status node_name(reader *r, const node_fields *n, const char *op_type, size_t index,
                           char **name)
{
    if (n->name.size > 0)
        return fq_onnx_copy_name(&n->name, name, "NodeProto.name", r->err);
    char made[FQ_ERROR_MESSAGE_SIZE];
    snprintf(made, sizeof(made), "%s_%zu", op_type, index);
    *name = fq_strdup(made);
    return *name != NULL ? FQ_OK : no_memory(r, n->offset, "NodeProto.name");
}

static fq_status add_node_with_names(reader *r, size_t index, const node_fields *n,
                                     const char *name, const char *op_type)
{
    int node = -1;
    fq_status status = check_domain(r, n, name, op_type);
    if (status == FQ_OK)
        status = resolve_inputs(r, index, name, op_type);
    if (status == FQ_OK)
        status = add_output_values(r, n->offset, name, op_type);
    if (status == FQ_OK)
        status = fq_graph_add_node(r->graph, name, op_type, r->input_values.items,
                                   (int)r->input_values.count, r->output_values.items,
                                   (int)r->output_values.count, &node, r->err);

    const fq_pb_cursor *attrs = r->attributes.items;
    for (size_t a = 0; a < r->attributes.count && status == FQ_OK; a++)
        status = read_attribute(r, node, &attrs[a]);
    return status;
}

static fq_status add_node(reader *r, size_t index)
{
    node_fields n;
    char *op_type = NULL;
    char *name = NULL;
    fq_status status = read_node_fields(r, &((const fq_pb_cursor *)r->nodes.items)[index], &n);
    if (status == FQ_OK)
        status = fq_onnx_copy_name(&n.op_type, &op_type, "NodeProto.op_type", r->err);
    if (status == FQ_OK)
        status = node_name(r, &n, op_type, index, &name);
    if (status == FQ_OK)
        status = add_node_with_names(r, index, &n, name, op_type);
    fq_free(name);
    fq_free(op_type);
    return status;
}

/* ---- GraphProto and ModelProto ----------------------------------------------------------- */

static fq_status locate_graph_field(reader *r, fq_pb_cursor *c, const fq_pb_field *f)
{
    fq_pb_cursor name;
    fq_status status;
    switch (f->number) {
    case 1: return push_range(r, c, f, &r->nodes, "GraphProto.node");
    case 2:
        status = fq_pb_field_bytes(c, f, &name, "GraphProto.name", r->err);
        if (status != FQ_OK)
            return status;
        fq_free(r->graph->name);
        r->graph->name = NULL;
        return fq_onnx_copy_name(&name, &r->graph->name, "GraphProto.name", r->err);
    case 5: return push_range(r, c, f, &r->initializers, "GraphProto.initializer");
    case 11: return push_range(r, c, f, &r->inputs, "GraphProto.input");
    case 12: return push_range(r, c, f, &r->outputs, "GraphProto.output");
    case 13: return push_range(r, c, f, &r->value_infos, "GraphProto.value_info");
    case 15:
        return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: GraphProto.sparse_initializer: "
                            "sparse initializers are not supported", f->offset);
    }
    return fq_pb_skip(c, f, "GraphProto", r->err);
}

static fq_status read_graph(reader *r, fq_pb_cursor *c)
{
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        status = fq_pb_read_tag(c, &f, "GraphProto", r->err);
        if (status == FQ_OK)
            status = locate_graph_field(r, c, &f);
    }
    if (status == FQ_OK && r->nodes.count > INT_MAX / 2)
        status = fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: GraphProto: too many "
                              "nodes", c->base);

    if (status == FQ_OK)
        status = add_initializers(r);
    if (status == FQ_OK)
        status = add_inputs(r);
    for (size_t n = 0; n < r->nodes.count && status == FQ_OK; n++)
        status = add_node(r, n);
    if (status == FQ_OK)
        status = apply_value_infos(r);
    if (status == FQ_OK)
        status = add_outputs(r);
    return status;
}

/* OperatorSetIdProto: sets *version when the domain is the default one. */
static fq_status read_opset(reader *r, fq_pb_cursor *c, bool *is_default, int64_t *version)
{
    fq_pb_cursor domain = {0};
    uint64_t v = 0;
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        status = fq_pb_read_tag(c, &f, "OperatorSetIdProto", r->err);
        if (status != FQ_OK)
            break;
        if (f.number == 1)
            status = fq_pb_field_bytes(c, &f, &domain, "OperatorSetIdProto.domain", r->err);
        else if (f.number == 2)
            status = fq_pb_field_varint(c, &f, &v, "OperatorSetIdProto.version", r->err);
        else
            status = fq_pb_skip(c, &f, "OperatorSetIdProto", r->err);
    }
    *is_default = domain.size == 0 || bytes_equal(&domain, "ai.onnx");
    *version = (int64_t)v;
    return status;
}

typedef struct model_fields {
    bool has_graph;
    fq_pb_cursor graph;
    bool has_opset;       /* an opset_import of the default domain */
    bool has_other_opset; /* an opset_import of another domain */
} model_fields;

static fq_status read_model_field(reader *r, fq_pb_cursor *c, const fq_pb_field *f,
                                  model_fields *m)
{
    fq_pb_cursor bytes;
    uint64_t ir_version;
    bool is_default;
    int64_t version;
    fq_status status;
    switch (f->number) {
    case 1:
        status = fq_pb_field_varint(c, f, &ir_version, "ModelProto.ir_version", r->err);
        r->graph->ir_version = (int64_t)ir_version;
        return status;
    case 2:
        status = fq_pb_field_bytes(c, f, &bytes, "ModelProto.producer_name", r->err);
        if (status != FQ_OK)
            return status;
        fq_free(r->graph->producer);
        r->graph->producer = NULL;
        return fq_onnx_copy_name(&bytes, &r->graph->producer, "ModelProto.producer_name",
                                 r->err);
    case 7:
        if (m->has_graph)
            return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: ModelProto.graph appears "
                                "twice", f->offset);
        m->has_graph = true;
        return fq_pb_field_bytes(c, f, &m->graph, "ModelProto.graph", r->err);
    case 8:
        status = fq_pb_field_bytes(c, f, &bytes, "ModelProto.opset_import", r->err);
        if (status == FQ_OK)
            status = read_opset(r, &bytes, &is_default, &version);
        if (status == FQ_OK && is_default) {
            r->graph->opset = version;
            m->has_opset = true;
        }
        m->has_other_opset |= status == FQ_OK && !is_default;
        return status;
    }
    return fq_pb_skip(c, f, "ModelProto", r->err);
}

static fq_status read_model(reader *r, fq_pb_cursor *c)
{
    model_fields m = {0};
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        status = fq_pb_read_tag(c, &f, "ModelProto", r->err);
        if (status == FQ_OK)
            status = read_model_field(r, c, &f, &m);
    }
    if (status != FQ_OK)
        return status;

    if (!m.has_graph)
        return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: ModelProto: no graph",
                            fq_pb_offset(c));
    if (!m.has_opset && m.has_other_opset)
        return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "byte %zu: ModelProto: imports opsets "
                            "of other domains only, none of ai.onnx", fq_pb_offset(c));
    if (!m.has_opset)
        return fq_error_set(r->err, FQ_ERR_PARSE, "byte %zu: ModelProto: no opset_import for "
                            "the ai.onnx domain", fq_pb_offset(c));
    return read_graph(r, &m.graph);
}

fq_status fq_onnx_decode(const void *data, size_t size, fq_graph **out, fq_error *err)
{
    if (out == NULL || (data == NULL && size > 0))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_onnx_decode: data and out must not "
                            "be NULL");
    *out = NULL;
    if (size > FQ_ONNX_MAX_FILE_SIZE)
        return fq_error_set(err, FQ_ERR_PARSE, "byte 0: ModelProto: %zu bytes exceed the "
                            "protobuf limit of %zu", size, FQ_ONNX_MAX_FILE_SIZE);

    fq_graph *graph;
    fq_status status = fq_graph_create(&graph, err);
    if (status != FQ_OK)
        return status;
    reader r;
    fq_pb_cursor c;
    reader_init(&r, graph, err);
    fq_pb_cursor_init(&c, data, size, 0);
    status = read_model(&r, &c);
    reader_free(&r);
    if (status != FQ_OK) {
        fq_graph_free(graph);
        return status;
    }
    *out = graph;
    return FQ_OK;
}

fq_status fq_onnx_read_memory(const void *data, size_t size, fq_graph **out, fq_error *err)
{
    if (out == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_onnx_read_memory: out must not be NULL");
    *out = NULL;
    fq_graph *graph;
    fq_status status = fq_onnx_decode(data, size, &graph, err);
    if (status != FQ_OK)
        return status;
    status = fq_graph_bind_ops(graph, err);
    if (status != FQ_OK) {
        fq_graph_free(graph);
        return status;
    }
    *out = graph;
    return FQ_OK;
}

/* The file reader uses stdio; a build with -Dfiles=false reads from memory only. */
#if defined(FQ_HAVE_FILES)
/* Reads a whole file into an fq_malloc buffer. */
static fq_status read_whole_file(const char *path, void **data, size_t *size, fq_error *err)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    long length = -1;
    if (fseek(file, 0, SEEK_END) == 0)
        length = ftell(file);
    if (length < 0 || fseek(file, 0, SEEK_SET) != 0) {
        fclose(file);
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot find the file size", path);
    }
    if ((unsigned long)length > FQ_ONNX_MAX_FILE_SIZE) {
        fclose(file);
        return fq_error_set(err, FQ_ERR_PARSE, "%s: %ld bytes exceed the protobuf limit of %zu",
                            path, length, FQ_ONNX_MAX_FILE_SIZE);
    }

    *size = (size_t)length;
    *data = fq_malloc(*size);
    if (*data == NULL) {
        fclose(file);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes", path, *size);
    }
    size_t got = fread(*data, 1, *size, file);
    fclose(file);
    if (got != *size) {
        fq_free(*data);
        return fq_error_set(err, FQ_ERR_IO, "%s: read %zu of %zu bytes", path, got, *size);
    }
    return FQ_OK;
}

fq_status fq_onnx_read_file(const char *path, fq_graph **out, fq_error *err)
{
    if (path == NULL || out == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_onnx_read_file: path and out must not "
                            "be NULL");
    void *data = NULL;
    size_t size = 0;
    fq_status status = read_whole_file(path, &data, &size, err);
    if (status != FQ_OK)
        return status;
    status = fq_onnx_read_memory(data, size, out, err);
    fq_free(data);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);
    return FQ_OK;
}
#endif
