/* Reading an .fqm image into a graph IR. Every offset, size, count and string reference is
 * checked against the bytes that exist before it is used, and counts are checked against the
 * bytes their records need before anything is allocated for them. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "facequant/alloc.h"
#include "facequant/ops.h"
#include "format/crc32.h"
#include "format/fqm_layout.h"

static const char *const section_names[FQM_SECTION_KNOWN] = {
    "unknown", "STRINGS", "GRAPH", "VALUES", "NODES", "WEIGHTS", "META",
};

typedef struct section {
    uint64_t offset;
    uint64_t size;
    uint32_t crc;
    bool present;
} section;

typedef struct reader {
    const unsigned char *base;
    size_t size;
    unsigned flags;
    section sections[FQM_SECTION_KNOWN];
    uint32_t n_strings;
    const unsigned char *string_index; /* n_strings entries of FQM_STRING_ENTRY bytes */
    const unsigned char *string_bytes;
    uint64_t string_bytes_size;
    uint64_t string_budget; /* bytes of strings that may still be copied out */
    fq_graph *graph;
    fq_error *err;
} reader;

/* Reads one section front to back. After the first failure status is set, the reads return
 * zeros and NULL, and the caller checks status before it uses what it read. */
typedef struct cursor {
    reader *r;
    const char *section;
    uint64_t start;
    uint64_t size;
    uint64_t pos;
    const char *item;  /* what is being read, for messages: "value", "node", ... */
    long item_index;
    fq_status status;
} cursor;

static cursor cursor_open(reader *r, fqm_section_type type)
{
    cursor c = {r, section_names[type], r->sections[type].offset, r->sections[type].size, 0,
                "head", -1, FQ_OK};
    return c;
}

static uint64_t cursor_file_offset(const cursor *c)
{
    return c->start + c->pos;
}

static fq_status cursor_fail(cursor *c, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static fq_status cursor_fail(cursor *c, const char *format, ...)
{
    if (c->status != FQ_OK)
        return c->status;
    char detail[256];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof(detail), format, args);
    va_end(args);
    if (c->item_index >= 0)
        c->status = fq_error_set(c->r->err, FQ_ERR_PARSE, "%s section, %s %ld, byte %llu: %s",
                                 c->section, c->item, c->item_index,
                                 (unsigned long long)cursor_file_offset(c), detail);
    else
        c->status = fq_error_set(c->r->err, FQ_ERR_PARSE, "%s section, byte %llu: %s",
                                 c->section, (unsigned long long)cursor_file_offset(c), detail);
    return c->status;
}

static const unsigned char *cursor_take(cursor *c, uint64_t n, const char *what)
{
    if (c->status != FQ_OK)
        return NULL;
    if (n > c->size - c->pos) {
        cursor_fail(c, "%s needs %llu bytes, the section has %llu left", what,
                    (unsigned long long)n, (unsigned long long)(c->size - c->pos));
        return NULL;
    }
    const unsigned char *p = c->r->base + c->start + c->pos;
    c->pos += n;
    return p;
}

static uint32_t cursor_u32(cursor *c, const char *what)
{
    const unsigned char *p = cursor_take(c, 4, what);
    return p != NULL ? fqm_get_u32(p) : 0;
}

static uint64_t cursor_u64(cursor *c, const char *what)
{
    const unsigned char *p = cursor_take(c, 8, what);
    return p != NULL ? fqm_get_u64(p) : 0;
}

/* A count of records of record_size bytes each that must still fit in the section. */
static uint32_t cursor_count(cursor *c, uint64_t record_size, const char *what)
{
    uint32_t count = cursor_u32(c, what);
    if (c->status == FQ_OK && (uint64_t)count * record_size > c->size - c->pos) {
        uint64_t left = c->size - c->pos;
        c->pos -= 4;
        cursor_fail(c, "%s %" PRIu32 " needs %llu bytes, the section has %llu left", what, count,
                    (unsigned long long)((uint64_t)count * record_size),
                    (unsigned long long)left);
        return 0;
    }
    return c->status == FQ_OK ? count : 0;
}

/* Copies string ref (the u32 just read at file offset at) into a new NUL-terminated buffer;
 * FQM_NO_STRING gives NULL when optional. */
static char *copy_string(cursor *c, uint32_t ref, bool optional, const char *what, size_t *len)
{
    reader *r = c->r;
    if (c->status != FQ_OK)
        return NULL;
    if (ref == FQM_NO_STRING && optional)
        return NULL;
    if (ref >= r->n_strings) {
        cursor_fail(c, "%s refers to string %" PRIu32 " of %" PRIu32 "", what, ref, r->n_strings);
        return NULL;
    }
    const unsigned char *entry = r->string_index + (size_t)ref * FQM_STRING_ENTRY;
    uint64_t offset = fqm_get_u32(entry), length = fqm_get_u32(entry + 4);
    if (offset + length > r->string_bytes_size) {
        cursor_fail(c, "%s: string %" PRIu32 " runs past the end of STRINGS", what, ref);
        return NULL;
    }
    if (length + 1 > r->string_budget) {
        cursor_fail(c, "%s: copying string %" PRIu32 " would exceed the %llu bytes of strings this "
                    "file can justify", what, ref, (unsigned long long)r->string_budget);
        return NULL;
    }
    char *s = fq_malloc((size_t)length + 1);
    if (s == NULL) {
        c->status = fq_error_set(r->err, FQ_ERR_NO_MEMORY, "cannot allocate a string");
        return NULL;
    }
    r->string_budget -= length + 1;
    memcpy(s, r->string_bytes + offset, (size_t)length);
    s[length] = '\0';
    if (len != NULL)
        *len = (size_t)length;
    return s;
}

static char *cursor_string(cursor *c, bool optional, const char *what, size_t *len)
{
    uint32_t ref = cursor_u32(c, what);
    if (c->status != FQ_OK)
        return NULL;
    c->pos -= 4; /* messages point at the reference */
    char *s = copy_string(c, ref, optional, what, len);
    c->pos += 4;
    return s;
}

/* The header: magic, version, sizes, CRC. */
static fq_status read_header(reader *r, const fq_crc32_table *crc, uint64_t *table_offset,
                             uint32_t *n_sections)
{
    const unsigned char *h = r->base;
    if (r->size < FQ_FQM_MAGIC_SIZE || memcmp(h, FQ_FQM_MAGIC, FQ_FQM_MAGIC_SIZE) != 0)
        return fq_error_set(r->err, FQ_ERR_PARSE, "header, byte 0: no .fqm magic "
                            "(\"FQM1\\r\\n\\x1a\\n\"): not an .fqm file");
    if (r->size < FQM_HEADER_SIZE)
        return fq_error_set(r->err, FQ_ERR_PARSE, "header, byte %zu: the file ends inside the "
                            "%d-byte header", r->size, FQM_HEADER_SIZE);
    unsigned major = fqm_get_u16(h + FQM_HEADER_VERSION_MAJOR);
    unsigned minor = fqm_get_u16(h + FQM_HEADER_VERSION_MINOR);
    if (major > FQ_FQM_VERSION_MAJOR)
        return fq_error_set(r->err, FQ_ERR_UNSUPPORTED, "header, byte %d: format version %u.%u "
                            "is newer than version %d.%d that this reader understands",
                            FQM_HEADER_VERSION_MAJOR, major, minor, FQ_FQM_VERSION_MAJOR,
                            FQ_FQM_VERSION_MINOR);
    if (major < 1)
        return fq_error_set(r->err, FQ_ERR_PARSE, "header, byte %d: format version %u.%u does "
                            "not exist", FQM_HEADER_VERSION_MAJOR, major, minor);

    uint32_t header_size = fqm_get_u32(h + FQM_HEADER_HEADER_SIZE);
    if (header_size < FQM_HEADER_SIZE || header_size > r->size)
        return fq_error_set(r->err, FQ_ERR_PARSE, "header, byte %d: header size %" PRIu32
                            " is outside "
                            "[%d, %zu]", FQM_HEADER_HEADER_SIZE, header_size, FQM_HEADER_SIZE,
                            r->size);
    uint32_t stored = fqm_get_u32(h + FQM_HEADER_HEADER_CRC);
    static const unsigned char zero[4];
    uint32_t actual = fq_crc32(crc, 0, h, FQM_HEADER_HEADER_CRC);
    actual = fq_crc32(crc, actual, zero, 4);
    actual = fq_crc32(crc, actual, h + FQM_HEADER_HEADER_CRC + 4,
                      header_size - FQM_HEADER_HEADER_CRC - 4);
    if (actual != stored)
        return fq_error_set(r->err, FQ_ERR_PARSE, "header, bytes 0..%" PRIu32
                            ": CRC32 is %08" PRIx32 ", the "
                            "header says %08" PRIx32
                            ": the file is damaged", header_size, actual, stored);

    uint64_t file_size = fqm_get_u64(h + FQM_HEADER_FILE_SIZE);
    if (file_size != r->size)
        return fq_error_set(r->err, FQ_ERR_PARSE, "header, byte %d: the file should have %llu "
                            "bytes, it has %zu (truncated or padded)", FQM_HEADER_FILE_SIZE,
                            (unsigned long long)file_size, r->size);
    *table_offset = fqm_get_u64(h + FQM_HEADER_TABLE_OFFSET);
    *n_sections = fqm_get_u32(h + FQM_HEADER_SECTION_COUNT);
    if (*table_offset < header_size || *table_offset > r->size ||
        *n_sections > (r->size - *table_offset) / FQM_ENTRY_BYTES)
        return fq_error_set(r->err, FQ_ERR_PARSE, "header, byte %d: a section table of %" PRIu32 " "
                            "entries at byte %llu does not fit in the %zu-byte file",
                            FQM_HEADER_TABLE_OFFSET, *n_sections,
                            (unsigned long long)*table_offset, r->size);
    uint32_t table_crc = fq_crc32(crc, 0, r->base + *table_offset,
                                  (size_t)*n_sections * FQM_ENTRY_BYTES);
    if (table_crc != fqm_get_u32(h + FQM_HEADER_TABLE_CRC))
        return fq_error_set(r->err, FQ_ERR_PARSE, "section table, byte %llu: CRC32 is %08" PRIx32
                            ", "
                            "the header says %08" PRIx32 ": the file is damaged",
                            (unsigned long long)*table_offset, table_crc,
                            fqm_get_u32(h + FQM_HEADER_TABLE_CRC));
    return FQ_OK;
}

static fq_status read_entry(reader *r, const unsigned char *e, uint64_t at)
{
    uint32_t type = fqm_get_u32(e + FQM_ENTRY_TYPE);
    uint32_t alignment = fqm_get_u32(e + FQM_ENTRY_ALIGNMENT);
    uint64_t offset = fqm_get_u64(e + FQM_ENTRY_OFFSET);
    uint64_t size = fqm_get_u64(e + FQM_ENTRY_SIZE);
    const char *name = type < FQM_SECTION_KNOWN ? section_names[type] : "unknown";
    if (offset > r->size || size > r->size - offset)
        return fq_error_set(r->err, FQ_ERR_PARSE, "section table, byte %llu: %s section "
                            "(type %" PRIu32
                            ") at byte %llu, %llu bytes, lies outside the %zu-byte "
                            "file", (unsigned long long)at, name, type,
                            (unsigned long long)offset, (unsigned long long)size, r->size);
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || offset % alignment != 0)
        return fq_error_set(r->err, FQ_ERR_PARSE, "section table, byte %llu: %s section at "
                            "byte %llu has alignment %" PRIu32 ", not a power of two it meets",
                            (unsigned long long)at, name, (unsigned long long)offset,
                            alignment);
    if (type == 0 || type >= FQM_SECTION_KNOWN)
        return FQ_OK; /* a later minor version's section: skipped */
    if (r->sections[type].present)
        return fq_error_set(r->err, FQ_ERR_PARSE, "section table, byte %llu: a second %s "
                            "section", (unsigned long long)at, name);
    if (type == FQM_SECTION_WEIGHTS && offset % FQ_FQM_WEIGHT_ALIGNMENT != 0)
        return fq_error_set(r->err, FQ_ERR_PARSE, "section table, byte %llu: WEIGHTS at byte "
                            "%llu is not %d-byte aligned", (unsigned long long)at,
                            (unsigned long long)offset, FQ_FQM_WEIGHT_ALIGNMENT);
    r->sections[type] = (section){offset, size, fqm_get_u32(e + FQM_ENTRY_CRC), true};
    return FQ_OK;
}

/* Finds the sections, requires the ones every file has, and verifies their CRCs. */
static fq_status read_sections(reader *r, const fq_crc32_table *crc)
{
    uint64_t table_offset = 0;
    uint32_t n_sections = 0;
    fq_status status = read_header(r, crc, &table_offset, &n_sections);
    for (uint32_t s = 0; s < n_sections && status == FQ_OK; s++) {
        uint64_t at = table_offset + (uint64_t)s * FQM_ENTRY_BYTES;
        status = read_entry(r, r->base + at, at);
    }
    for (int type = FQM_SECTION_STRINGS; type < FQM_SECTION_KNOWN && status == FQ_OK; type++) {
        const section *s = &r->sections[type];
        if (!s->present && type != FQM_SECTION_META)
            return fq_error_set(r->err, FQ_ERR_PARSE, "section table, byte %llu: no %s "
                                "section", (unsigned long long)table_offset,
                                section_names[type]);
        if (!s->present ||
            (type == FQM_SECTION_WEIGHTS && (r->flags & FQ_FQM_READ_SKIP_WEIGHTS_CRC)))
            continue;
        uint32_t actual = fq_crc32(crc, 0, r->base + s->offset, (size_t)s->size);
        if (actual != s->crc)
            return fq_error_set(r->err, FQ_ERR_PARSE, "%s section, bytes %llu..%llu: CRC32 is "
                                "%08" PRIx32 ", the section table says %08" PRIx32
                                ": the file is damaged",
                                section_names[type], (unsigned long long)s->offset,
                                (unsigned long long)(s->offset + s->size), actual, s->crc);
    }
    return status;
}

static fq_status read_strings(reader *r)
{
    cursor c = cursor_open(r, FQM_SECTION_STRINGS);
    r->n_strings = cursor_count(&c, FQM_STRING_ENTRY, "string count");
    cursor_u32(&c, "reserved field");
    r->string_index = cursor_take(&c, (uint64_t)r->n_strings * FQM_STRING_ENTRY,
                                  "string index");
    r->string_bytes = r->base + c.start + c.pos;
    r->string_bytes_size = c.size - c.pos;
    return c.status;
}

static fq_status read_index_list(cursor *c, int **list, int *count, const char *what)
{
    uint32_t n = (uint32_t)*count;
    const unsigned char *p = cursor_take(c, (uint64_t)n * 4, what);
    if (c->status != FQ_OK)
        return c->status;
    *list = fq_malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (*list == NULL)
        return c->status = fq_error_set(c->r->err, FQ_ERR_NO_MEMORY, "cannot allocate %s", what);
    for (uint32_t i = 0; i < n; i++)
        (*list)[i] = (int32_t)fqm_get_u32(p + 4 * (size_t)i);
    return FQ_OK;
}

static fq_status read_graph_section(reader *r)
{
    fq_graph *g = r->graph;
    cursor c = cursor_open(r, FQM_SECTION_GRAPH);
    g->ir_version = (int64_t)cursor_u64(&c, "ir_version");
    g->opset = (int64_t)cursor_u64(&c, "opset");
    g->name = cursor_string(&c, true, "graph name", NULL);
    g->producer = cursor_string(&c, true, "producer", NULL);
    uint32_t n_inputs = cursor_count(&c, 4, "input count");
    uint32_t n_outputs = cursor_u32(&c, "output count");
    if (c.status == FQ_OK && (uint64_t)n_inputs + n_outputs > (c.size - c.pos) / 4)
        return cursor_fail(&c, "%" PRIu32 " inputs and %" PRIu32
        " outputs do not fit", n_inputs, n_outputs);
    g->n_inputs = (int)n_inputs;
    g->n_outputs = (int)n_outputs;
    read_index_list(&c, &g->inputs, &g->n_inputs, "graph inputs");
    read_index_list(&c, &g->outputs, &g->n_outputs, "graph outputs");
    return c.status;
}

/* A byte range of WEIGHTS named by a value record: offset and size must lie inside it. */
static const unsigned char *weights_range(cursor *c, uint64_t offset, uint64_t size,
                                          uint64_t alignment, const char *what)
{
    const section *w = &c->r->sections[FQM_SECTION_WEIGHTS];
    if (offset > w->size || size > w->size - offset) {
        cursor_fail(c, "%s at WEIGHTS byte %llu, %llu bytes, lies outside the section", what,
                    (unsigned long long)offset, (unsigned long long)size);
        return NULL;
    }
    if (offset % alignment != 0) {
        cursor_fail(c, "%s at WEIGHTS byte %llu is not %llu-byte aligned", what,
                    (unsigned long long)offset, (unsigned long long)alignment);
        return NULL;
    }
    return c->r->base + w->offset + offset;
}

static fq_status read_quant(cursor *c, const unsigned char *rec, fq_value *v)
{
    int32_t axis = (int32_t)fqm_get_u32(rec + FQM_VALUE_QUANT_AXIS);
    uint32_t count = fqm_get_u32(rec + FQM_VALUE_QUANT_COUNT);
    v->quant.axis = axis;
    if (count == 0)
        return FQ_OK;
    bool per_tensor = axis == -1 && count == 1;
    bool per_channel = axis >= 0 && axis < v->shape.rank &&
                       (v->shape.dims[axis] < 0 || (uint64_t)v->shape.dims[axis] == count);
    if (!per_tensor && !per_channel)
        return cursor_fail(c, "%" PRIu32 " quantization parameters on axis %d do not fit the shape",
                           count, (int)axis);
    const unsigned char *scale = weights_range(c, fqm_get_u64(rec + FQM_VALUE_SCALE_OFFSET),
                                               (uint64_t)count * 4, 4, "scale array");
    const unsigned char *zero_point =
        weights_range(c, fqm_get_u64(rec + FQM_VALUE_ZERO_POINT_OFFSET), (uint64_t)count * 4,
                      4, "zero-point array");
    if (c->status != FQ_OK)
        return c->status;

    v->quant.scale = fq_malloc((size_t)count * sizeof(float));
    v->quant.zero_point = fq_malloc((size_t)count * sizeof(int32_t));
    if (v->quant.scale == NULL || v->quant.zero_point == NULL)
        return c->status = fq_error_set(c->r->err, FQ_ERR_NO_MEMORY, "value '%s': cannot "
                                        "allocate %" PRIu32
                                        " quantization parameters", v->name, count);
    v->quant.count = (int)count;
    for (uint32_t k = 0; k < count; k++) {
        v->quant.scale[k] = fqm_get_f32(scale + 4 * (size_t)k);
        v->quant.zero_point[k] = (int32_t)fqm_get_u32(zero_point + 4 * (size_t)k);
    }
    return FQ_OK;
}

static fq_status read_data(cursor *c, const unsigned char *rec, fq_value *v)
{
    bool has_data = rec[FQM_VALUE_FLAGS] & FQM_VALUE_HAS_DATA;
    if (has_data != (v->kind == FQ_VALUE_CONSTANT))
        return cursor_fail(c, "%s (kind %d)", has_data ? "data on a value that is not a "
                           "constant" : "a constant without data", (int)v->kind);
    if (!has_data)
        return FQ_OK;
    int64_t numel = fq_shape_numel(&v->shape);
    size_t elem = fq_dtype_size(v->dtype);
    uint64_t size = fqm_get_u64(rec + FQM_VALUE_DATA_SIZE);
    if (numel < 0 || elem == 0 || (uint64_t)numel > UINT64_MAX / elem ||
        (uint64_t)numel * elem != size)
        return cursor_fail(c, "constant of %llu data bytes: its dtype %s and shape need "
                           "%lld elements", (unsigned long long)size, fq_dtype_name(v->dtype),
                           (long long)numel);
    const unsigned char *data = weights_range(c, fqm_get_u64(rec + FQM_VALUE_DATA_OFFSET), size,
                                              fqm_data_alignment(size), "constant data");
    v->data = (void *)data;
    v->data_borrowed = true;
    return c->status;
}

/* Whether the product of the known dimensions, a zero counted as one (so that every partial
 * product a shape function forms is covered), times the element size exceeds the limit. */
static bool shape_too_large(const fq_value *v)
{
    uint64_t bytes = fq_dtype_size(v->dtype) > 0 ? fq_dtype_size(v->dtype) : 1;
    for (int d = 0; d < v->shape.rank; d++) {
        uint64_t dim = v->shape.dims[d] > 1 ? (uint64_t)v->shape.dims[d] : 1;
        if (dim > FQM_MAX_VALUE_BYTES / bytes)
            return true;
        bytes *= dim;
    }
    return false;
}

/* The cursor stands at the record: messages name its offset. */
static fq_status read_value(cursor *c, const unsigned char *rec, fq_value *v)
{
    v->quant.axis = -1;
    v->name = copy_string(c, fqm_get_u32(rec + FQM_VALUE_NAME), false, "name", NULL);
    v->kind = (fq_value_kind)rec[FQM_VALUE_KIND];
    v->is_output = rec[FQM_VALUE_FLAGS] & FQM_VALUE_IS_OUTPUT;
    int rank = rec[FQM_VALUE_RANK];
    if (c->status == FQ_OK && (rec[FQM_VALUE_KIND] > FQ_VALUE_CONSTANT ||
                               !fqm_dtype_from_code(rec[FQM_VALUE_DTYPE], &v->dtype) ||
                               rank > FQ_MAX_RANK))
        cursor_fail(c, "kind %d, dtype code %d or rank %d is out of range",
                    rec[FQM_VALUE_KIND], rec[FQM_VALUE_DTYPE], rank);
    v->shape.rank = c->status == FQ_OK ? rank : 0;
    for (int d = 0; d < v->shape.rank && c->status == FQ_OK; d++) {
        v->shape.dims[d] = (int64_t)fqm_get_u64(rec + FQM_VALUE_DIMS + 8 * d);
        if (v->shape.dims[d] < FQ_DIM_UNKNOWN)
            cursor_fail(c, "dimension %d is %lld", d, (long long)v->shape.dims[d]);
        v->dim_param[d] = copy_string(c, fqm_get_u32(rec + FQM_VALUE_DIM_PARAMS + 4 * d), true,
                                      "dim_param", NULL);
    }
    if (c->status == FQ_OK && shape_too_large(v))
        cursor_fail(c, "the shape holds more than %llu bytes", FQM_MAX_VALUE_BYTES);
    if (c->status == FQ_OK)
        read_quant(c, rec, v);
    if (c->status == FQ_OK)
        read_data(c, rec, v);
    return c->status;
}

static fq_status read_values(reader *r)
{
    fq_graph *g = r->graph;
    cursor c = cursor_open(r, FQM_SECTION_VALUES);
    uint32_t count = cursor_u32(&c, "value count");
    uint32_t record_size = cursor_u32(&c, "record size");
    if (c.status == FQ_OK && record_size < FQM_VALUE_RECORD)
        return cursor_fail(&c, "record size %" PRIu32
        " is below %d", record_size, FQM_VALUE_RECORD);
    if (c.status == FQ_OK && (uint64_t)count * record_size > c.size - c.pos)
        return cursor_fail(&c, "%" PRIu32
        " value records need more than the %llu bytes left", count,
                           (unsigned long long)(c.size - c.pos));
    if (c.status != FQ_OK || count > INT_MAX)
        return cursor_fail(&c, "value count %" PRIu32 " is too large", count);

    g->values = fq_calloc(count > 0 ? count : 1, sizeof(fq_value));
    if (g->values == NULL)
        return fq_error_set(r->err, FQ_ERR_NO_MEMORY, "cannot allocate %" PRIu32 " values", count);
    g->cap_values = (int)count;
    c.item = "value";
    for (uint32_t i = 0; i < count && c.status == FQ_OK; i++) {
        c.item_index = (long)i;
        const unsigned char *rec = c.r->base + c.start + c.pos;
        g->n_values = (int)i + 1;
        read_value(&c, rec, &g->values[i]);
        c.pos += record_size;
    }
    return c.status;
}

static void read_int_array(const unsigned char *p, int64_t *out, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        out[k] = (int64_t)fqm_get_u64(p + 8 * (size_t)k);
}

static fq_status attr_no_memory(cursor *c)
{
    return c->status = fq_error_set(c->r->err, FQ_ERR_NO_MEMORY, "cannot allocate an attribute");
}

static fq_status read_attr_list(cursor *c, fq_attr *a)
{
    static const uint64_t elem_size[] = {
        [FQ_ATTR_FLOATS] = 4, [FQ_ATTR_INTS] = 8, [FQ_ATTR_STRINGS] = 4};
    uint32_t n = cursor_count(c, elem_size[a->type], "element count");
    const unsigned char *p = cursor_take(c, elem_size[a->type] * n, "elements");
    if (c->status != FQ_OK)
        return c->status;
    if (n > INT_MAX)
        return cursor_fail(c, "element count %" PRIu32 " is too large", n);
    size_t bytes = (size_t)(n > 0 ? n : 1);
    if (a->type == FQ_ATTR_FLOATS && (a->floats = fq_malloc(bytes * sizeof(float))) == NULL)
        return attr_no_memory(c);
    if (a->type == FQ_ATTR_INTS && (a->ints = fq_malloc(bytes * sizeof(int64_t))) == NULL)
        return attr_no_memory(c);
    if (a->type == FQ_ATTR_STRINGS && (a->strings = fq_calloc(bytes, sizeof(char *))) == NULL)
        return attr_no_memory(c);
    a->count = (int)n;
    if (a->type == FQ_ATTR_INTS)
        read_int_array(p, a->ints, n);
    for (uint32_t k = 0; k < n && a->type == FQ_ATTR_FLOATS; k++)
        a->floats[k] = fqm_get_f32(p + 4 * (size_t)k);
    for (uint32_t k = 0; k < n && a->type == FQ_ATTR_STRINGS && c->status == FQ_OK; k++) {
        c->pos -= 4 * (uint64_t)(n - k);
        a->strings[k] = copy_string(c, fqm_get_u32(p + 4 * (size_t)k), false, "string", NULL);
        c->pos += 4 * (uint64_t)(n - k);
    }
    return c->status;
}

static fq_status read_attr(cursor *c, fq_attr *a)
{
    a->tensor = -1;
    a->name = cursor_string(c, false, "attribute name", NULL);
    uint32_t type = cursor_u32(c, "attribute type");
    if (c->status == FQ_OK && (type < FQ_ATTR_FLOAT || type > FQ_ATTR_STRINGS))
        return cursor_fail(c, "attribute type %" PRIu32 " is unknown", type);
    a->type = (fq_attr_type)type;
    switch (a->type) {
    case FQ_ATTR_FLOAT: {
        const unsigned char *p = cursor_take(c, 4, "float");
        a->f = p != NULL ? fqm_get_f32(p) : 0.0f;
        break;
    }
    case FQ_ATTR_INT: a->i = (int64_t)cursor_u64(c, "int"); break;
    case FQ_ATTR_STRING: a->s = cursor_string(c, true, "string", &a->s_len); break;
    case FQ_ATTR_TENSOR: a->tensor = (int32_t)cursor_u32(c, "tensor"); break;
    default: read_attr_list(c, a); break;
    }
    return c->status;
}

static fq_status read_node(cursor *c, fq_node *node)
{
    node->op = -1;
    const unsigned char *rec = cursor_take(c, FQM_NODE_RECORD, "record");
    if (rec == NULL)
        return c->status;
    c->pos -= FQM_NODE_RECORD;
    node->name = copy_string(c, fqm_get_u32(rec + FQM_NODE_NAME), false, "name", NULL);
    node->op_type = copy_string(c, fqm_get_u32(rec + FQM_NODE_OP_TYPE), false, "op type", NULL);
    c->pos += FQM_NODE_RECORD;
    uint32_t n_inputs = fqm_get_u32(rec + FQM_NODE_N_INPUTS);
    uint32_t n_outputs = fqm_get_u32(rec + FQM_NODE_N_OUTPUTS);
    uint32_t n_attrs = fqm_get_u32(rec + FQM_NODE_N_ATTRS);
    if (c->status == FQ_OK && rec[FQM_NODE_ACT_KIND] > FQM_ACT_LAST)
        return cursor_fail(c, "activation %d is unknown", rec[FQM_NODE_ACT_KIND]);
    node->act.kind = (fq_activation_kind)rec[FQM_NODE_ACT_KIND];
    node->act.alpha = fqm_get_f32(rec + FQM_NODE_ACT_ALPHA);
    node->act.beta = fqm_get_f32(rec + FQM_NODE_ACT_BETA);
    node->dead = rec[FQM_NODE_FLAGS] & FQM_NODE_DEAD;
    uint64_t left = c->size - c->pos;
    if (c->status == FQ_OK && ((uint64_t)n_inputs + n_outputs > left / 4 ||
                               n_attrs > (left - 4 * ((uint64_t)n_inputs + n_outputs)) /
                                             FQM_ATTR_HEAD))
        return cursor_fail(c, "%" PRIu32 " inputs, %" PRIu32 " outputs and %" PRIu32
        " attributes do not fit in the "
                           "section", n_inputs, n_outputs, n_attrs);

    node->n_inputs = (int)n_inputs;
    node->n_outputs = (int)n_outputs;
    if (read_index_list(c, &node->inputs, &node->n_inputs, "inputs") != FQ_OK ||
        read_index_list(c, &node->outputs, &node->n_outputs, "outputs") != FQ_OK)
        return c->status;
    node->attrs = fq_calloc(n_attrs > 0 ? n_attrs : 1, sizeof(fq_attr));
    if (node->attrs == NULL)
        return attr_no_memory(c);
    for (uint32_t a = 0; a < n_attrs && c->status == FQ_OK; a++) {
        node->n_attrs = (int)a + 1;
        read_attr(c, &node->attrs[a]);
    }
    return c->status;
}

static fq_status read_nodes(reader *r)
{
    fq_graph *g = r->graph;
    cursor c = cursor_open(r, FQM_SECTION_NODES);
    uint32_t count = cursor_count(&c, FQM_NODE_RECORD, "node count");
    if (c.status != FQ_OK)
        return c.status;
    g->nodes = fq_calloc(count > 0 ? count : 1, sizeof(fq_node));
    if (g->nodes == NULL)
        return fq_error_set(r->err, FQ_ERR_NO_MEMORY, "cannot allocate %" PRIu32 " nodes", count);
    g->cap_nodes = (int)count;
    c.item = "node";
    for (uint32_t n = 0; n < count && c.status == FQ_OK; n++) {
        c.item_index = (long)n;
        g->n_nodes = (int)n + 1;
        read_node(&c, &g->nodes[n]);
    }
    return c.status;
}

/* The metadata as one allocation: the array, then the strings it points to. */
static fq_status read_meta(reader *r, fq_fqm_meta **meta, int *n_meta)
{
    *meta = NULL;
    *n_meta = 0;
    if (!r->sections[FQM_SECTION_META].present)
        return FQ_OK;
    cursor c = cursor_open(r, FQM_SECTION_META);
    uint32_t count = cursor_count(&c, 8, "entry count");
    if (c.status != FQ_OK || count == 0)
        return c.status;
    if (count > INT_MAX / 2)
        return cursor_fail(&c, "entry count %" PRIu32 " is too large", count);

    char **strings = fq_calloc((size_t)count * 2, sizeof(char *));
    size_t lengths_total = 0;
    if (strings == NULL)
        return fq_error_set(r->err, FQ_ERR_NO_MEMORY, "cannot read %" PRIu32
                            " metadata entries", count);
    c.item = "entry";
    for (uint32_t k = 0; k < count * 2 && c.status == FQ_OK; k++) {
        size_t len = 0;
        c.item_index = (long)(k / 2);
        strings[k] = cursor_string(&c, false, k % 2 == 0 ? "key" : "value", &len);
        lengths_total += len + 1;
    }

    fq_fqm_meta *block = NULL;
    if (c.status == FQ_OK) {
        block = fq_malloc((size_t)count * sizeof(fq_fqm_meta) + lengths_total);
        if (block == NULL)
            c.status = fq_error_set(r->err, FQ_ERR_NO_MEMORY, "cannot allocate the metadata");
    }
    char *text = block != NULL ? (char *)(block + count) : NULL;
    for (uint32_t k = 0; k < count * 2 && block != NULL; k++) {
        size_t len = strlen(strings[k]) + 1;
        memcpy(text, strings[k], len);
        *(k % 2 == 0 ? &block[k / 2].key : &block[k / 2].value) = text;
        text += len;
    }
    for (uint32_t k = 0; k < count * 2; k++)
        fq_free(strings[k]);
    fq_free(strings);
    *meta = block;
    *n_meta = block != NULL ? (int)count : 0;
    return c.status;
}

/* References between records: graph inputs must be inputs, tensor attributes constants. */
static fq_status check_references(const reader *r)
{
    const fq_graph *g = r->graph;
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        if (v < 0 || v >= g->n_values || g->values[v].kind != FQ_VALUE_INPUT)
            return fq_error_set(r->err, FQ_ERR_PARSE, "GRAPH section, byte %llu: graph input "
                                "%d is value %d, not an input value",
                                (unsigned long long)r->sections[FQM_SECTION_GRAPH].offset, i, v);
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] < 0 || g->outputs[i] >= g->n_values)
            return fq_error_set(r->err, FQ_ERR_PARSE, "GRAPH section, byte %llu: graph output "
                                "%d is value %d of %d",
                                (unsigned long long)r->sections[FQM_SECTION_GRAPH].offset, i,
                                g->outputs[i], g->n_values);
    for (int n = 0; n < g->n_nodes; n++)
        for (int a = 0; a < g->nodes[n].n_attrs; a++) {
            const fq_attr *attr = &g->nodes[n].attrs[a];
            if (attr->type == FQ_ATTR_TENSOR &&
                (attr->tensor < 0 || attr->tensor >= g->n_values ||
                 !fq_value_is_constant(&g->values[attr->tensor])))
                return fq_error_set(r->err, FQ_ERR_PARSE, "NODES section: node '%s', attribute "
                                    "'%s' refers to value %d, not a constant", g->nodes[n].name,
                                    attr->name, attr->tensor);
        }
    return FQ_OK;
}

/* Runs each node's shape function and requires it to give the dtypes and shapes the file
 * holds, so that a session never sees a shape its kernels would not accept. Nodes with an
 * input of unknown shape (a graph written before the passes) are left as they are. */
static bool inputs_known(const fq_graph *g, const fq_node *node)
{
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *in = fq_node_input(g, node, i);
        if (in != NULL && !fq_shape_is_known(&in->shape))
            return false;
    }
    return true;
}

static fq_status check_node_shapes(fq_graph *g, int index, fq_value *saved, fq_error *err)
{
    const fq_node *node = &g->nodes[index];
    for (int o = 0; o < node->n_outputs; o++)
        if (node->outputs[o] >= 0)
            saved[o] = g->values[node->outputs[o]];
    fq_status status = fq_node_infer(g, index, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, FQ_ERR_PARSE, "NODES section: shapes do not fit the ops");
    for (int o = 0; o < node->n_outputs; o++) {
        if (node->outputs[o] < 0)
            continue;
        fq_value *v = &g->values[node->outputs[o]];
        bool same = v->dtype == saved[o].dtype && fq_shape_equal(&v->shape, &saved[o].shape);
        char file_shape[96], op_shape[96];
        if (!same)
            return fq_error_set(err, FQ_ERR_PARSE, "VALUES section: value '%s' is %s %s in the "
                                "file, node '%s' (%s) makes it %s %s", v->name,
                                fq_dtype_name(saved[o].dtype),
                                fq_shape_format(&saved[o].shape, file_shape, sizeof(file_shape)),
                                node->name, node->op_type, fq_dtype_name(v->dtype),
                                fq_shape_format(&v->shape, op_shape, sizeof(op_shape)));
    }
    return FQ_OK;
}

static fq_status check_shapes(fq_graph *g, fq_error *err)
{
    int max_outputs = 1;
    for (int n = 0; n < g->n_nodes; n++)
        max_outputs = g->nodes[n].n_outputs > max_outputs ? g->nodes[n].n_outputs : max_outputs;
    fq_value *saved = fq_malloc((size_t)max_outputs * sizeof(fq_value));
    if (saved == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot check the shapes");
    fq_status status = FQ_OK;
    for (int n = 0; n < g->n_nodes && status == FQ_OK; n++)
        if (!g->nodes[n].dead && inputs_known(g, &g->nodes[n]))
            status = check_node_shapes(g, n, saved, err);
    fq_free(saved);
    return status;
}

static fq_status decode(reader *r, fq_fqm_meta **meta, int *n_meta)
{
    fq_crc32_table *crc = fq_malloc(sizeof(*crc));
    if (crc == NULL)
        return fq_error_set(r->err, FQ_ERR_NO_MEMORY, "cannot allocate the CRC table");
    fq_crc32_table_init(crc);
    fq_status status = read_sections(r, crc);
    fq_free(crc);

    r->string_budget = 8 * (uint64_t)r->size;
    if (status == FQ_OK)
        status = read_strings(r);
    if (status == FQ_OK)
        status = read_graph_section(r);
    if (status == FQ_OK)
        status = read_values(r);
    if (status == FQ_OK)
        status = read_nodes(r);
    if (status == FQ_OK)
        status = check_references(r);
    if (status == FQ_OK && fq_graph_validate(r->graph, r->err) != FQ_OK)
        status = fq_error_prefix(r->err, FQ_ERR_PARSE, "NODES section");
    if (status == FQ_OK)
        status = fq_graph_bind_ops(r->graph, r->err);
    if (status == FQ_OK)
        status = check_shapes(r->graph, r->err);
    if (status == FQ_OK && meta != NULL)
        status = read_meta(r, meta, n_meta);
    return status;
}

bool fq_fqm_is_fqm(const void *data, size_t size)
{
    return data != NULL && size >= FQ_FQM_MAGIC_SIZE &&
           memcmp(data, FQ_FQM_MAGIC, FQ_FQM_MAGIC_SIZE) == 0;
}

fq_status fq_fqm_decode(const void *data, size_t size, unsigned flags, fq_graph **out,
                        fq_fqm_meta **meta, int *n_meta, fq_error *err)
{
    if (!fqm_host_is_little_endian())
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "fqm read: big-endian hosts are not "
                            "supported");
    reader r;
    memset(&r, 0, sizeof(r));
    r.base = data;
    r.size = size;
    r.flags = flags;
    r.err = err;
    fq_status status = fq_graph_create(&r.graph, err);
    if (status != FQ_OK)
        return status;
    fq_fqm_meta *meta_read = NULL;
    int n_read = 0;
    status = decode(&r, meta != NULL ? &meta_read : NULL, &n_read);
    if (status != FQ_OK) {
        fq_graph_free(r.graph);
        return status;
    }
    *out = r.graph;
    if (meta != NULL)
        *meta = meta_read;
    if (n_meta != NULL)
        *n_meta = n_read;
    return FQ_OK;
}

fq_status fq_fqm_read_memory(const void *data, size_t size, const fq_fqm_read_options *options,
                             fq_graph **out, fq_fqm_meta **meta, int *n_meta, fq_error *err)
{
    if (out == NULL || (data == NULL && size > 0))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_fqm_read_memory: out must not be "
                            "NULL, data only when size is 0");
    *out = NULL;
    if (meta != NULL)
        *meta = NULL;
    if (n_meta != NULL)
        *n_meta = 0;
    unsigned flags = options != NULL ? options->flags : 0;
    if (!(flags & FQ_FQM_READ_COPY)) {
        if ((uintptr_t)data % FQ_FQM_WEIGHT_ALIGNMENT != 0)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_fqm_read_memory: the buffer is "
                                "not %d-byte aligned; align it or pass FQ_FQM_READ_COPY",
                                FQ_FQM_WEIGHT_ALIGNMENT);
        return fq_fqm_decode(data, size, flags, out, meta, n_meta, err);
    }

    void *copy = fq_malloc_aligned(size);
    if (copy == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "fq_fqm_read_memory: cannot copy %zu bytes",
                            size);
    if (size > 0)
        memcpy(copy, data, size);
    fq_status status = fq_fqm_decode(copy, size, flags, out, meta, n_meta, err);
    if (status != FQ_OK) {
        fq_free_aligned(copy);
        return status;
    }
    (*out)->backing = copy;
    (*out)->backing_release = fq_free_aligned;
    return FQ_OK;
}

const char *fq_fqm_meta_find(const fq_fqm_meta *meta, int n, const char *key)
{
    for (int i = 0; meta != NULL && key != NULL && i < n; i++)
        if (strcmp(meta[i].key, key) == 0)
            return meta[i].value;
    return NULL;
}

void fq_fqm_meta_free(fq_fqm_meta *meta)
{
    fq_free(meta);
}
