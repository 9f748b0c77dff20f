/* Protobuf wire-format reader: varints, tags, fixed-width values, length-delimited ranges,
 * skipping and repeated fields, each checked against the bytes left. */
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "onnx/protobuf.h"

void fq_pb_cursor_init(fq_pb_cursor *c, const void *data, size_t size, size_t base)
{
    c->data = data;
    c->size = size;
    c->pos = 0;
    c->base = base;
}

static fq_status truncated(const fq_pb_cursor *c, const char *what, const char *kind,
                           size_t need, fq_error *err)
{
    return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: %s needs %zu bytes, %zu left",
                        fq_pb_offset(c), what, kind, need, fq_pb_left(c));
}

fq_status fq_pb_read_varint(fq_pb_cursor *c, uint64_t *value, const char *what, fq_error *err)
{
    size_t start = fq_pb_offset(c);
    uint64_t result = 0;

    for (int i = 0; i < FQ_PB_MAX_VARINT_BYTES; i++) {
        if (fq_pb_at_end(c))
            return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: varint is cut off after %d "
                                "bytes", start, what, i);
        uint8_t byte = c->data[c->pos++];
        /* The tenth byte holds only the 64th bit. */
        if (i == FQ_PB_MAX_VARINT_BYTES - 1 && byte > 1)
            return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: varint is longer than 10 "
                                "bytes or exceeds 64 bits", start, what);
        result |= (uint64_t)(byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0) {
            *value = result;
            return FQ_OK;
        }
    }
    return FQ_ERR_INTERNAL; /* not reached: the tenth byte either ends the varint or fails */
}

fq_status fq_pb_read_fixed32(fq_pb_cursor *c, uint32_t *value, const char *what, fq_error *err)
{
    if (fq_pb_left(c) < 4)
        return truncated(c, what, "fixed32", 4, err);
    const uint8_t *p = c->data + c->pos;
    *value = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    c->pos += 4;
    return FQ_OK;
}

fq_status fq_pb_read_fixed64(fq_pb_cursor *c, uint64_t *value, const char *what, fq_error *err)
{
    if (fq_pb_left(c) < 8)
        return truncated(c, what, "fixed64", 8, err);
    uint64_t result = 0;
    for (int i = 7; i >= 0; i--)
        result = result << 8 | c->data[c->pos + (size_t)i];
    *value = result;
    c->pos += 8;
    return FQ_OK;
}

fq_status fq_pb_read_length_delimited(fq_pb_cursor *c, fq_pb_cursor *sub, const char *what,
                                      fq_error *err)
{
    uint64_t length;
    fq_status status = fq_pb_read_varint(c, &length, what, err);
    if (status != FQ_OK)
        return status;

    if (length > fq_pb_left(c))
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: length %llu exceeds the %zu "
                            "bytes left", fq_pb_offset(c), what, (unsigned long long)length,
                            fq_pb_left(c));
    fq_pb_cursor_init(sub, c->data + c->pos, (size_t)length, fq_pb_offset(c));
    c->pos += (size_t)length;
    return FQ_OK;
}

fq_status fq_pb_read_tag(fq_pb_cursor *c, fq_pb_field *field, const char *message,
                         fq_error *err)
{
    size_t start = fq_pb_offset(c);
    uint64_t tag;
    fq_status status = fq_pb_read_varint(c, &tag, message, err);
    if (status != FQ_OK)
        return status;

    uint64_t number = tag >> 3;
    unsigned wire = (unsigned)(tag & 7);
    if (number == 0 || number > FQ_PB_MAX_FIELD_NUMBER)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: invalid field number %llu",
                            start, message, (unsigned long long)number);
    if (wire == 3 || wire == 4)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: field %llu uses groups (wire "
                            "type %u), which are not supported", start, message,
                            (unsigned long long)number, wire);
    if (wire == 6 || wire == 7)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: field %llu has invalid wire "
                            "type %u", start, message, (unsigned long long)number, wire);
    field->number = (uint32_t)number;
    field->wire = (fq_pb_wire)wire;
    field->offset = start;
    return FQ_OK;
}

fq_status fq_pb_skip(fq_pb_cursor *c, const fq_pb_field *field, const char *message,
                     fq_error *err)
{
    char what[96];
    uint64_t u64;
    uint32_t u32;
    fq_pb_cursor sub;

    snprintf(what, sizeof(what), "%s field %u", message, (unsigned)field->number);
    switch (field->wire) {
    case FQ_PB_VARINT: return fq_pb_read_varint(c, &u64, what, err);
    case FQ_PB_FIXED64: return fq_pb_read_fixed64(c, &u64, what, err);
    case FQ_PB_LEN: return fq_pb_read_length_delimited(c, &sub, what, err);
    case FQ_PB_FIXED32: return fq_pb_read_fixed32(c, &u32, what, err);
    }
    return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: invalid wire type %d", field->offset,
                        what, (int)field->wire);
}

static const char *wire_name(fq_pb_wire wire)
{
    switch (wire) {
    case FQ_PB_VARINT: return "varint";
    case FQ_PB_FIXED64: return "fixed64";
    case FQ_PB_LEN: return "length-delimited";
    case FQ_PB_FIXED32: return "fixed32";
    }
    return "invalid";
}

static fq_status expect_wire(const fq_pb_field *field, fq_pb_wire wire, const char *what,
                             fq_error *err)
{
    if (field->wire == wire)
        return FQ_OK;
    return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: wire type %s where %s is expected",
                        field->offset, what, wire_name(field->wire), wire_name(wire));
}

fq_status fq_pb_field_varint(fq_pb_cursor *c, const fq_pb_field *field, uint64_t *value,
                             const char *what, fq_error *err)
{
    fq_status status = expect_wire(field, FQ_PB_VARINT, what, err);
    return status != FQ_OK ? status : fq_pb_read_varint(c, value, what, err);
}

fq_status fq_pb_field_fixed32(fq_pb_cursor *c, const fq_pb_field *field, uint32_t *value,
                              const char *what, fq_error *err)
{
    fq_status status = expect_wire(field, FQ_PB_FIXED32, what, err);
    return status != FQ_OK ? status : fq_pb_read_fixed32(c, value, what, err);
}

fq_status fq_pb_field_bytes(fq_pb_cursor *c, const fq_pb_field *field, fq_pb_cursor *sub,
                            const char *what, fq_error *err)
{
    fq_status status = expect_wire(field, FQ_PB_LEN, what, err);
    return status != FQ_OK ? status : fq_pb_read_length_delimited(c, sub, what, err);
}

/* Reads one element of a repeated field into list (already reserved). */
static fq_status read_element(fq_pb_cursor *c, fq_pb_wire element, fq_pb_list *list,
                              const char *what, fq_error *err)
{
    fq_status status;
    if (element == FQ_PB_FIXED32) {
        uint32_t value;
        status = fq_pb_read_fixed32(c, &value, what, err);
        if (status == FQ_OK)
            ((uint32_t *)list->items)[list->count++] = value;
        return status;
    }
    uint64_t value;
    status = element == FQ_PB_VARINT ? fq_pb_read_varint(c, &value, what, err)
                                     : fq_pb_read_fixed64(c, &value, what, err);
    if (status == FQ_OK)
        ((uint64_t *)list->items)[list->count++] = value;
    return status;
}

/* Elements in a packed run: fixed-width runs must divide evenly; varints end at each byte below
 * 0x80, and a run whose last byte continues is cut off. */
static fq_status packed_count(const fq_pb_cursor *run, fq_pb_wire element, size_t *count,
                              const char *what, fq_error *err)
{
    if (element != FQ_PB_VARINT) {
        size_t width = element == FQ_PB_FIXED32 ? 4 : 8;
        if (run->size % width != 0)
            return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: packed %s run of %zu bytes "
                                "is not a multiple of %zu", run->base, what,
                                wire_name(element), run->size, width);
        *count = run->size / width;
        return FQ_OK;
    }
    size_t ends = 0;
    for (size_t i = 0; i < run->size; i++)
        ends += run->data[i] < 0x80;
    if (run->size > 0 && run->data[run->size - 1] >= 0x80)
        return fq_error_set(err, FQ_ERR_PARSE, "byte %zu: %s: packed varint run ends inside a "
                            "varint", run->base + run->size - 1, what);
    *count = ends;
    return FQ_OK;
}

static fq_status read_packed(fq_pb_cursor *c, fq_pb_wire element, fq_pb_list *list,
                             const char *what, fq_error *err)
{
    fq_pb_cursor run;
    size_t count = 0;
    fq_status status = fq_pb_read_length_delimited(c, &run, what, err);
    if (status == FQ_OK)
        status = packed_count(&run, element, &count, what, err);
    if (status != FQ_OK)
        return status;

    if (!fq_pb_list_reserve(list, count))
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "byte %zu: %s: cannot allocate %zu "
                            "elements", run.base, what, count);
    while (!fq_pb_at_end(&run) && status == FQ_OK)
        status = read_element(&run, element, list, what, err);
    return status;
}

fq_status fq_pb_field_repeated(fq_pb_cursor *c, const fq_pb_field *field, fq_pb_wire element,
                               fq_pb_list *list, const char *what, fq_error *err)
{
    size_t width = element == FQ_PB_FIXED32 ? 4 : 8;
    if (element == FQ_PB_LEN || list->elem_size != width)
        return fq_error_set(err, FQ_ERR_INTERNAL, "%s: list of %zu-byte elements cannot hold "
                            "%s values", what, list->elem_size, wire_name(element));

    if (field->wire == FQ_PB_LEN)
        return read_packed(c, element, list, what, err);
    fq_status status = expect_wire(field, element, what, err);
    if (status != FQ_OK)
        return status;
    if (!fq_pb_list_reserve(list, 1))
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "byte %zu: %s: cannot grow the list",
                            field->offset, what);
    return read_element(c, element, list, what, err);
}

void fq_pb_list_init(fq_pb_list *list, size_t elem_size)
{
    list->items = NULL;
    list->count = 0;
    list->cap = 0;
    list->elem_size = elem_size;
}

bool fq_pb_list_reserve(fq_pb_list *list, size_t extra)
{
    if (extra <= list->cap - list->count)
        return true;
    if (extra > SIZE_MAX / list->elem_size - list->count)
        return false;
    size_t need = list->count + extra;
    size_t cap = list->cap < 8 ? 8 : list->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / list->elem_size)
        cap = need;
    void *grown = fq_realloc(list->items, cap * list->elem_size);
    if (grown == NULL)
        return false;
    list->items = grown;
    list->cap = cap;
    return true;
}

void *fq_pb_list_push(fq_pb_list *list)
{
    if (!fq_pb_list_reserve(list, 1))
        return NULL;
    void *slot = (char *)list->items + list->count * list->elem_size;
    memset(slot, 0, list->elem_size);
    list->count++;
    return slot;
}

void fq_pb_list_free(fq_pb_list *list)
{
    fq_free(list->items);
    fq_pb_list_init(list, list->elem_size);
}
