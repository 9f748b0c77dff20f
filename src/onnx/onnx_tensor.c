/* TensorProto -> constant value: shape, data type and data (raw_data or the typed field). */
#include <string.h>

#include "facequant/alloc.h"
#include "onnx/onnx_internal.h"

/* ONNX TensorProto.DataType numbers this file refers to. */
enum {
    ONNX_FLOAT = 1,
    ONNX_UINT8 = 2,
    ONNX_INT8 = 3,
    ONNX_INT32 = 6,
    ONNX_INT64 = 7,
    ONNX_BOOL = 9,
    ONNX_FLOAT16 = 10,
    ONNX_DATA_LOCATION_EXTERNAL = 1
};

static const char *const onnx_type_names[] = {
    "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
    "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
    "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
};

const char *fq_onnx_type_name(uint64_t onnx_type)
{
    size_t n = sizeof(onnx_type_names) / sizeof(onnx_type_names[0]);
    return onnx_type < n ? onnx_type_names[onnx_type] : "unknown";
}

fq_dtype fq_onnx_dtype(uint64_t onnx_type)
{
    switch (onnx_type) {
    case ONNX_FLOAT: return FQ_DTYPE_F32;
    case ONNX_UINT8: return FQ_DTYPE_U8;
    case ONNX_INT8: return FQ_DTYPE_I8;
    case ONNX_INT32: return FQ_DTYPE_I32;
    case ONNX_INT64: return FQ_DTYPE_I64;
    case ONNX_BOOL: return FQ_DTYPE_BOOL;
    case ONNX_FLOAT16: return FQ_DTYPE_F16;
    }
    return FQ_DTYPE_UNDEFINED;
}

fq_status fq_onnx_copy_name(const fq_pb_cursor *bytes, char **out, const char *what,
                            fq_error *err)
{
    *out = NULL;
    if (bytes->size > 0 && memchr(bytes->data, '\0', bytes->size) != NULL)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: name holds a NUL byte",
                            bytes->base, what);
    *out = bytes->size > 0 ? fq_strndup((const char *)bytes->data, bytes->size) : fq_strdup("");
    if (*out == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "byte %zu: %s: cannot copy %zu bytes",
                            bytes->base, what, bytes->size);
    return FQ_OK;
}

/* The fields of one TensorProto as read; data ranges point into the file. */
typedef struct tensor_fields {
    size_t offset;
    fq_pb_list dims;   /* uint64_t */
    uint64_t data_type;
    bool has_name;
    fq_pb_cursor name;
    bool has_raw;
    fq_pb_cursor raw;
    fq_pb_list floats; /* uint32_t: float_data */
    fq_pb_list int32s; /* uint64_t: int32_data */
    fq_pb_list int64s; /* uint64_t: int64_data */
    bool external;
} tensor_fields;

static void tensor_fields_init(tensor_fields *t, size_t offset)
{
    memset(t, 0, sizeof(*t));
    t->offset = offset;
    fq_pb_list_init(&t->dims, sizeof(uint64_t));
    fq_pb_list_init(&t->floats, sizeof(uint32_t));
    fq_pb_list_init(&t->int32s, sizeof(uint64_t));
    fq_pb_list_init(&t->int64s, sizeof(uint64_t));
}

static void tensor_fields_free(tensor_fields *t)
{
    fq_pb_list_free(&t->dims);
    fq_pb_list_free(&t->floats);
    fq_pb_list_free(&t->int32s);
    fq_pb_list_free(&t->int64s);
}

static fq_status read_data_location(fq_pb_cursor *c, const fq_pb_field *f, tensor_fields *t,
                                    fq_error *err)
{
    uint64_t location;
    fq_status status = fq_pb_field_varint(c, f, &location, "TensorProto.data_location", err);
    if (status == FQ_OK && location == ONNX_DATA_LOCATION_EXTERNAL)
        t->external = true;
    return status;
}

static fq_status read_tensor_field(fq_pb_cursor *c, const fq_pb_field *f, tensor_fields *t,
                                   fq_error *err)
{
    switch (f->number) {
    case 1: return fq_pb_field_repeated(c, f, FQ_PB_VARINT, &t->dims, "TensorProto.dims", err);
    case 2: return fq_pb_field_varint(c, f, &t->data_type, "TensorProto.data_type", err);
    case 3:
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "byte %zu: TensorProto.segment: "
                            "segmented tensors are not supported", f->offset);
    case 4:
        return fq_pb_field_repeated(c, f, FQ_PB_FIXED32, &t->floats, "TensorProto.float_data",
                                    err);
    case 5:
        return fq_pb_field_repeated(c, f, FQ_PB_VARINT, &t->int32s, "TensorProto.int32_data",
                                    err);
    case 6:
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "byte %zu: TensorProto.string_data: "
                            "string tensors are not supported", f->offset);
    case 7:
        return fq_pb_field_repeated(c, f, FQ_PB_VARINT, &t->int64s, "TensorProto.int64_data",
                                    err);
    case 8:
        t->has_name = true;
        return fq_pb_field_bytes(c, f, &t->name, "TensorProto.name", err);
    case 9:
        t->has_raw = true;
        return fq_pb_field_bytes(c, f, &t->raw, "TensorProto.raw_data", err);
    case 13:
        t->external = true;
        return fq_pb_skip(c, f, "TensorProto", err);
    case 14: return read_data_location(c, f, t, err);
    }
    /* double_data (10) and uint64_data (11) carry only DOUBLE, UINT32 and UINT64 tensors,
     * which are refused by data type; doc_string (12) is not kept. */
    return fq_pb_skip(c, f, "TensorProto", err);
}

static fq_status read_tensor_fields(fq_pb_cursor *c, tensor_fields *t, fq_error *err)
{
    fq_status status = FQ_OK;
    while (!fq_pb_at_end(c) && status == FQ_OK) {
        fq_pb_field f;
        status = fq_pb_read_tag(c, &f, "TensorProto", err);
        if (status == FQ_OK)
            status = read_tensor_field(c, &f, t, err);
    }
    return status;
}

static fq_status tensor_shape(const tensor_fields *t, const char *name, fq_shape *shape,
                              fq_error *err)
{
    if (t->dims.count > FQ_MAX_RANK)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "byte %zu: tensor '%s': rank %zu is above "
                            "the supported %d", t->offset, name, t->dims.count, FQ_MAX_RANK);
    const uint64_t *dims = t->dims.items;
    shape->rank = (int)t->dims.count;
    for (int i = 0; i < shape->rank; i++) {
        if ((int64_t)dims[i] < 0)
            return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: tensor '%s': dimension %d is "
                                "negative (%lld)", t->offset, name, i, (long long)dims[i]);
        shape->dims[i] = (int64_t)dims[i];
    }
    if (fq_shape_numel(shape) < 0)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: tensor '%s': element count "
                            "overflows", t->offset, name);
    return FQ_OK;
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* raw_data holds little-endian elements; the value needs them in host order. */
static fq_status set_raw_data(fq_graph *graph, int value, const fq_pb_cursor *raw, size_t elem,
                              fq_error *err)
{
    if (host_is_little_endian() || elem == 1)
        return fq_value_set_data(graph, value, raw->data, false, err);

    uint8_t *data = fq_malloc_aligned(raw->size);
    if (data == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "tensor '%s': cannot allocate %zu bytes",
                            graph->values[value].name, raw->size);
    for (size_t i = 0; i < raw->size; i += elem)
        for (size_t b = 0; b < elem; b++)
            data[i + b] = raw->data[i + elem - 1 - b];
    fq_status status = fq_value_set_data(graph, value, data, true, err);
    if (status != FQ_OK)
        fq_free_aligned(data);
    return status;
}

static fq_status check_raw_size(const tensor_fields *t, const char *name, fq_dtype dtype,
                                const fq_shape *shape, fq_error *err)
{
    size_t elem = fq_dtype_size(dtype);
    uint64_t numel = (uint64_t)fq_shape_numel(shape);
    if (t->floats.count + t->int32s.count + t->int64s.count > 0)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: tensor '%s': has both raw_data and "
                            "a typed data field", t->offset, name);
    if (numel > t->raw.size / elem || numel * elem != t->raw.size)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: tensor '%s': raw_data holds %zu "
                            "bytes, shape needs %llu elements of %zu bytes", t->raw.base,
                            name, t->raw.size, (unsigned long long)numel, elem);
    return FQ_OK;
}

/* Converts typed elements (float_data bits, int32_data or int64_data varints) to dtype. */
static void convert_typed(fq_dtype dtype, const void *items, size_t count, void *out)
{
    const uint64_t *wide = items;
    for (size_t i = 0; i < count; i++) {
        switch (dtype) {
        case FQ_DTYPE_F32: memcpy((float *)out + i, (const uint32_t *)items + i, 4); break;
        case FQ_DTYPE_I64: ((int64_t *)out)[i] = (int64_t)wide[i]; break;
        case FQ_DTYPE_I32: ((int32_t *)out)[i] = (int32_t)wide[i]; break;
        case FQ_DTYPE_F16: ((uint16_t *)out)[i] = (uint16_t)wide[i]; break;
        case FQ_DTYPE_I8: ((int8_t *)out)[i] = (int8_t)wide[i]; break;
        case FQ_DTYPE_U8: ((uint8_t *)out)[i] = (uint8_t)wide[i]; break;
        case FQ_DTYPE_BOOL: ((uint8_t *)out)[i] = wide[i] != 0; break;
        default: break;
        }
    }
}

/* The typed field that carries a dtype's elements, and its name for messages. */
static const fq_pb_list *typed_list(const tensor_fields *t, fq_dtype dtype, const char **field)
{
    if (dtype == FQ_DTYPE_F32) {
        *field = "float_data";
        return &t->floats;
    }
    if (dtype == FQ_DTYPE_I64) {
        *field = "int64_data";
        return &t->int64s;
    }
    *field = "int32_data";
    return &t->int32s;
}

static fq_status set_typed_data(fq_graph *graph, int value, const tensor_fields *t,
                                fq_error *err)
{
    const fq_value *v = &graph->values[value];
    const char *field;
    const fq_pb_list *list = typed_list(t, v->dtype, &field);
    uint64_t numel = (uint64_t)fq_shape_numel(&v->shape);
    size_t others = t->floats.count + t->int32s.count + t->int64s.count - list->count;

    if (others > 0)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: tensor '%s': data of type %s is in a "
                            "field other than %s", t->offset, v->name, fq_dtype_name(v->dtype),
                            field);
    if (list->count != numel)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: tensor '%s': %s holds %zu elements, "
                            "shape needs %llu", t->offset, v->name, field, list->count,
                            (unsigned long long)numel);

    size_t bytes = list->count * fq_dtype_size(v->dtype);
    void *data = fq_malloc_aligned(bytes);
    if (data == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "tensor '%s': cannot allocate %zu bytes",
                            v->name, bytes);
    convert_typed(v->dtype, list->items, list->count, data);
    fq_status status = fq_value_set_data(graph, value, data, true, err);
    if (status != FQ_OK)
        fq_free_aligned(data);
    return status;
}

static fq_status tensor_name(const tensor_fields *t, const char *fallback, char **name,
                             fq_error *err)
{
    if (t->has_name && t->name.size > 0)
        return fq_onnx_copy_name(&t->name, name, "TensorProto.name", err);
    if (fallback == NULL)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: TensorProto: initializer has no "
                            "name", t->offset);
    *name = fq_strdup(fallback);
    if (*name == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot copy tensor name");
    return FQ_OK;
}

static fq_status check_tensor(const tensor_fields *t, const char *name, fq_dtype *dtype,
                              fq_error *err)
{
    if (t->external)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "byte %zu: tensor '%s': external tensor "
                            "data is not supported", t->offset, name);
    *dtype = fq_onnx_dtype(t->data_type);
    if (*dtype == FQ_DTYPE_UNDEFINED)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "byte %zu: tensor '%s': data type %s "
                            "(%llu) is not supported", t->offset, name,
                            fq_onnx_type_name(t->data_type), (unsigned long long)t->data_type);
    return FQ_OK;
}

static fq_status build_value(fq_graph *graph, const tensor_fields *t, const char *name,
                             int *value, fq_error *err)
{
    fq_dtype dtype;
    fq_shape shape;
    fq_status status = check_tensor(t, name, &dtype, err);
    if (status == FQ_OK)
        status = tensor_shape(t, name, &shape, err);
    if (status == FQ_OK && t->has_raw)
        status = check_raw_size(t, name, dtype, &shape, err);
    if (status == FQ_OK)
        status = fq_graph_add_value(graph, name, dtype, &shape, value, err);
    if (status != FQ_OK)
        return status;

    if (t->has_raw)
        return set_raw_data(graph, *value, &t->raw, fq_dtype_size(dtype), err);
    return set_typed_data(graph, *value, t, err);
}

fq_status fq_onnx_decode_tensor(fq_graph *graph, fq_pb_cursor *c, const char *fallback_name,
                                int *value, fq_error *err)
{
    tensor_fields t;
    char *name = NULL;

    tensor_fields_init(&t, fq_pb_offset(c));
    fq_status status = read_tensor_fields(c, &t, err);
    if (status == FQ_OK)
        status = tensor_name(&t, fallback_name, &name, err);
    if (status == FQ_OK)
        status = build_value(graph, &t, name, value, err);
    fq_free(name);
    tensor_fields_free(&t);
    return status;
}

fq_status fq_onnx_read_tensor(fq_graph *graph, const void *data, size_t size, int *value,
                              fq_error *err)
{
    if (graph == NULL || value == NULL || (data == NULL && size > 0))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_onnx_read_tensor: graph, value and "
                            "data must not be NULL");
    fq_pb_cursor c;
    fq_pb_cursor_init(&c, data, size, 0);
    return fq_onnx_decode_tensor(graph, &c, "tensor", value, err);
}
