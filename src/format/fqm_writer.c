/* Writing a graph IR as an .fqm image in memory (the layout is in fqm_layout.h). */
#include <limits.h>

#include "facequant/alloc.h"
#include "format/crc32.h"
#include "format/fqm_layout.h"

/* A growable byte buffer; a failed allocation sets failed and later appends do nothing, so a
 * caller checks once at the end. */
typedef struct byte_buf {
    unsigned char *data;
    size_t size;
    size_t cap;
    bool failed;
} byte_buf;

/* Appends n bytes (zeroed) and returns where they start, or NULL after a failure. */
static unsigned char *buf_extend(byte_buf *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (n > SIZE_MAX / 2 - b->size) {
        b->failed = true;
        return NULL;
    }
    if (b->size + n > b->cap) {
        size_t cap = b->cap < 256 ? 256 : b->cap;
        while (cap < b->size + n)
            cap *= 2;
        unsigned char *grown = fq_realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = true;
            return NULL;
        }
        b->data = grown;
        b->cap = cap;
    }
    unsigned char *p = b->data + b->size;
    memset(p, 0, n);
    b->size += n;
    return p;
}

static void buf_u8(byte_buf *b, uint8_t v)
{
    unsigned char *p = buf_extend(b, 1);
    if (p != NULL)
        p[0] = v;
}

static void buf_u32(byte_buf *b, uint32_t v)
{
    unsigned char *p = buf_extend(b, 4);
    if (p != NULL)
        fqm_put_u32(p, v);
}

static void buf_u64(byte_buf *b, uint64_t v)
{
    unsigned char *p = buf_extend(b, 8);
    if (p != NULL)
        fqm_put_u64(p, v);
}

static void buf_f32(byte_buf *b, float v)
{
    unsigned char *p = buf_extend(b, 4);
    if (p != NULL)
        fqm_put_f32(p, v);
}

static void buf_bytes(byte_buf *b, const void *data, size_t n)
{
    unsigned char *p = buf_extend(b, n);
    if (p != NULL && n > 0)
        memcpy(p, data, n);
}

/* The STRINGS section under construction: each distinct string once, found again by hash. */
typedef struct string_table {
    byte_buf index; /* u32 offset, u32 length per string */
    byte_buf bytes; /* the strings, each followed by a NUL */
    uint32_t count;
    uint32_t *slots; /* open addressing: string number + 1, 0 for empty */
    uint32_t n_slots;
    bool failed;
} string_table;

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static bool string_equals(const string_table *t, uint32_t number, const char *s, size_t n)
{
    const unsigned char *entry = t->index.data + (size_t)number * FQM_STRING_ENTRY;
    uint32_t offset = fqm_get_u32(entry);
    return fqm_get_u32(entry + 4) == n && memcmp(t->bytes.data + offset, s, n) == 0;
}

/* Doubles the hash table and re-inserts every string. */
static bool strings_rehash(string_table *t)
{
    uint32_t n_slots = t->n_slots == 0 ? 1024 : t->n_slots * 2;
    uint32_t *slots = fq_calloc(n_slots, sizeof(uint32_t));
    if (slots == NULL)
        return false;
    for (uint32_t k = 0; k < t->count; k++) {
        const unsigned char *entry = t->index.data + (size_t)k * FQM_STRING_ENTRY;
        const char *s = (const char *)t->bytes.data + fqm_get_u32(entry);
        uint32_t slot = hash_bytes(s, fqm_get_u32(entry + 4)) & (n_slots - 1);
        while (slots[slot] != 0)
            slot = (slot + 1) & (n_slots - 1);
        slots[slot] = k + 1;
    }
    fq_free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    return true;
}

/* The reference of n bytes at s, added if new; FQM_NO_STRING for NULL. */
static uint32_t strings_add_bytes(string_table *t, const char *s, size_t n)
{
    if (s == NULL || t->failed)
        return FQM_NO_STRING;
    if ((t->count + 1) * 2 > t->n_slots && !strings_rehash(t)) {
        t->failed = true;
        return FQM_NO_STRING;
    }
    uint32_t slot = hash_bytes(s, n) & (t->n_slots - 1);
    for (; t->slots[slot] != 0; slot = (slot + 1) & (t->n_slots - 1))
        if (string_equals(t, t->slots[slot] - 1, s, n))
            return t->slots[slot] - 1;
    if (n > UINT32_MAX || t->bytes.size + n + 1 > UINT32_MAX || t->count >= UINT32_MAX - 1) {
        t->failed = true;
        return FQM_NO_STRING;
    }

    buf_u32(&t->index, (uint32_t)t->bytes.size);
    buf_u32(&t->index, (uint32_t)n);
    buf_bytes(&t->bytes, s, n);
    buf_u8(&t->bytes, 0);
    t->failed = t->index.failed || t->bytes.failed;
    t->slots[slot] = t->count + 1;
    return t->count++;
}

static uint32_t strings_add(string_table *t, const char *s)
{
    return strings_add_bytes(t, s, s != NULL ? strlen(s) : 0);
}

static void strings_free(string_table *t)
{
    fq_free(t->index.data);
    fq_free(t->bytes.data);
    fq_free(t->slots);
}

/* Everything the sections are built from. */
typedef struct writer {
    const fq_graph *graph;
    string_table strings;
    byte_buf graph_section;
    byte_buf values;
    byte_buf nodes;
    byte_buf meta;
    uint64_t weights_size; /* WEIGHTS bytes laid out so far */
} writer;

/* Checks that the graph is what the format can hold, before anything is laid out. */
static fq_status check_value(const fq_value *v, int index, fq_error *err)
{
    bool has_data = v->data != NULL;
    if (v->name == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: value %d has no name", index);
    if (v->shape.rank < 0 || v->shape.rank > FQ_MAX_RANK || (unsigned)v->dtype >= FQ_DTYPE_COUNT ||
        (unsigned)v->kind > FQ_VALUE_CONSTANT || (has_data && fq_dtype_size(v->dtype) == 0))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: value '%s' has rank %d, dtype "
                            "%d, kind %d", v->name, v->shape.rank, (int)v->dtype, (int)v->kind);
    if (has_data != (v->kind == FQ_VALUE_CONSTANT))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: value '%s' %s", v->name,
                            has_data ? "has data but is not a constant"
                                     : "is a constant without data");
    if (has_data && fq_shape_numel(&v->shape) < 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: constant '%s' has no known "
                            "shape", v->name);
    if (has_data && (uint64_t)fq_shape_numel(&v->shape) > SIZE_MAX / fq_dtype_size(v->dtype))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: constant '%s' is too large",
                            v->name);
    if (v->quant.count < 0 || (v->quant.count > 0 &&
                               (v->quant.scale == NULL || v->quant.zero_point == NULL)))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: value '%s' has %d quantization "
                            "parameters without their arrays", v->name, v->quant.count);
    return FQ_OK;
}

static fq_status check_index(const fq_graph *g, int value, bool optional, const char *where,
                             const char *name, fq_error *err)
{
    if ((optional && value == -1) || (value >= 0 && value < g->n_values))
        return FQ_OK;
    return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: %s '%s' refers to value %d of %d",
                        where, name, value, g->n_values);
}

static fq_status check_node(const fq_graph *g, const fq_node *node, fq_error *err)
{
    fq_status status = FQ_OK;
    if (node->name == NULL || node->op_type == NULL || node->n_inputs < 0 ||
        node->n_outputs < 0 || node->n_attrs < 0 || (unsigned)node->act.kind > FQM_ACT_LAST)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: a node has no name or op type, "
                            "a negative count or an unknown activation");
    for (int i = 0; i < node->n_inputs && status == FQ_OK; i++)
        status = check_index(g, node->inputs[i], true, "node", node->name, err);
    for (int o = 0; o < node->n_outputs && status == FQ_OK; o++)
        status = check_index(g, node->outputs[o], true, "node", node->name, err);
    for (int a = 0; a < node->n_attrs && status == FQ_OK; a++) {
        const fq_attr *attr = &node->attrs[a];
        if (attr->name == NULL || attr->type < FQ_ATTR_FLOAT || attr->type > FQ_ATTR_STRINGS ||
            attr->count < 0)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: node '%s': attribute %d "
                                "has no name, an unknown type or a negative count",
                                node->name, a);
        if (attr->type == FQ_ATTR_TENSOR)
            status = check_index(g, attr->tensor, false, "tensor attribute of node", node->name,
                                 err);
    }
    return status;
}

static fq_status check_graph(const fq_graph *g, fq_error *err)
{
    fq_status status = FQ_OK;
    if (g->n_values < 0 || g->n_nodes < 0 || g->n_inputs < 0 || g->n_outputs < 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fqm write: negative counts in the graph");
    for (int v = 0; v < g->n_values && status == FQ_OK; v++)
        status = check_value(&g->values[v], v, err);
    for (int n = 0; n < g->n_nodes && status == FQ_OK; n++)
        status = check_node(g, &g->nodes[n], err);
    for (int i = 0; i < g->n_inputs && status == FQ_OK; i++)
        status = check_index(g, g->inputs[i], false, "graph input", "", err);
    for (int i = 0; i < g->n_outputs && status == FQ_OK; i++)
        status = check_index(g, g->outputs[i], false, "graph output", "", err);
    return status;
}

/* Where a value's quantization arrays and data go in WEIGHTS; the writer lays values out in
 * index order, first the scales, then the zero points, then the data. */
typedef struct weight_place {
    uint64_t scale;
    uint64_t zero_point;
    uint64_t data;
    uint64_t data_size;
} weight_place;

static weight_place place_weights(const fq_value *v, uint64_t *cursor)
{
    weight_place place = {FQM_NO_OFFSET, FQM_NO_OFFSET, FQM_NO_OFFSET, 0};
    if (v->quant.count > 0) {
        uint64_t bytes = (uint64_t)v->quant.count * 4;
        place.scale = fqm_align_up(*cursor, FQM_QUANT_ALIGNMENT);
        place.zero_point = fqm_align_up(place.scale + bytes, FQM_QUANT_ALIGNMENT);
        *cursor = place.zero_point + bytes;
    }
    if (v->data != NULL) {
        place.data_size = (uint64_t)fq_shape_numel(&v->shape) * fq_dtype_size(v->dtype);
        place.data = fqm_align_up(*cursor, fqm_data_alignment(place.data_size));
        *cursor = place.data + place.data_size;
    }
    return place;
}

static void emit_graph(writer *w)
{
    const fq_graph *g = w->graph;
    byte_buf *b = &w->graph_section;
    buf_u64(b, (uint64_t)g->ir_version);
    buf_u64(b, (uint64_t)g->opset);
    buf_u32(b, strings_add(&w->strings, g->name));
    buf_u32(b, strings_add(&w->strings, g->producer));
    buf_u32(b, (uint32_t)g->n_inputs);
    buf_u32(b, (uint32_t)g->n_outputs);
    for (int i = 0; i < g->n_inputs; i++)
        buf_u32(b, (uint32_t)g->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        buf_u32(b, (uint32_t)g->outputs[i]);
}

static void emit_value(writer *w, const fq_value *v)
{
    unsigned char *r = buf_extend(&w->values, FQM_VALUE_RECORD);
    uint32_t name = strings_add(&w->strings, v->name);
    uint32_t dim_params[FQ_MAX_RANK];
    for (int d = 0; d < FQ_MAX_RANK; d++)
        dim_params[d] = strings_add(&w->strings, d < v->shape.rank ? v->dim_param[d] : NULL);
    weight_place place = place_weights(v, &w->weights_size);
    if (r == NULL)
        return;

    fqm_put_u32(r + FQM_VALUE_NAME, name);
    r[FQM_VALUE_KIND] = (unsigned char)v->kind;
    r[FQM_VALUE_DTYPE] = fqm_dtype_code(v->dtype);
    r[FQM_VALUE_RANK] = (unsigned char)v->shape.rank;
    r[FQM_VALUE_FLAGS] = (unsigned char)((v->is_output ? FQM_VALUE_IS_OUTPUT : 0) |
                                         (v->data != NULL ? FQM_VALUE_HAS_DATA : 0));
    for (int d = 0; d < FQ_MAX_RANK; d++) {
        int64_t dim = d < v->shape.rank ? v->shape.dims[d] : 0;
        fqm_put_u64(r + FQM_VALUE_DIMS + 8 * d, (uint64_t)dim);
        fqm_put_u32(r + FQM_VALUE_DIM_PARAMS + 4 * d, dim_params[d]);
    }
    fqm_put_u32(r + FQM_VALUE_QUANT_AXIS, (uint32_t)v->quant.axis);
    fqm_put_u32(r + FQM_VALUE_QUANT_COUNT, (uint32_t)v->quant.count);
    fqm_put_u64(r + FQM_VALUE_SCALE_OFFSET, place.scale);
    fqm_put_u64(r + FQM_VALUE_ZERO_POINT_OFFSET, place.zero_point);
    fqm_put_u64(r + FQM_VALUE_DATA_OFFSET, place.data);
    fqm_put_u64(r + FQM_VALUE_DATA_SIZE, place.data_size);
}

static void emit_attr(writer *w, const fq_attr *a)
{
    byte_buf *b = &w->nodes;
    buf_u32(b, strings_add(&w->strings, a->name));
    buf_u32(b, (uint32_t)a->type);
    switch (a->type) {
    case FQ_ATTR_FLOAT: buf_f32(b, a->f); break;
    case FQ_ATTR_INT: buf_u64(b, (uint64_t)a->i); break;
    case FQ_ATTR_STRING: buf_u32(b, strings_add_bytes(&w->strings, a->s, a->s_len)); break;
    case FQ_ATTR_TENSOR: buf_u32(b, (uint32_t)a->tensor); break;
    case FQ_ATTR_FLOATS:
        buf_u32(b, (uint32_t)a->count);
        for (int k = 0; k < a->count; k++)
            buf_f32(b, a->floats[k]);
        break;
    case FQ_ATTR_INTS:
        buf_u32(b, (uint32_t)a->count);
        for (int k = 0; k < a->count; k++)
            buf_u64(b, (uint64_t)a->ints[k]);
        break;
    case FQ_ATTR_STRINGS:
        buf_u32(b, (uint32_t)a->count);
        for (int k = 0; k < a->count; k++)
            buf_u32(b, strings_add(&w->strings, a->strings[k]));
        break;
    }
}

static void emit_node(writer *w, const fq_node *node)
{
    uint32_t name = strings_add(&w->strings, node->name);
    uint32_t op_type = strings_add(&w->strings, node->op_type);
    unsigned char *r = buf_extend(&w->nodes, FQM_NODE_RECORD);
    if (r == NULL)
        return;
    fqm_put_u32(r + FQM_NODE_NAME, name);
    fqm_put_u32(r + FQM_NODE_OP_TYPE, op_type);
    fqm_put_u32(r + FQM_NODE_N_INPUTS, (uint32_t)node->n_inputs);
    fqm_put_u32(r + FQM_NODE_N_OUTPUTS, (uint32_t)node->n_outputs);
    fqm_put_u32(r + FQM_NODE_N_ATTRS, (uint32_t)node->n_attrs);
    r[FQM_NODE_ACT_KIND] = (unsigned char)node->act.kind;
    r[FQM_NODE_FLAGS] = node->dead ? FQM_NODE_DEAD : 0;
    fqm_put_f32(r + FQM_NODE_ACT_ALPHA, node->act.alpha);
    fqm_put_f32(r + FQM_NODE_ACT_BETA, node->act.beta);

    for (int i = 0; i < node->n_inputs; i++)
        buf_u32(&w->nodes, (uint32_t)node->inputs[i]);
    for (int o = 0; o < node->n_outputs; o++)
        buf_u32(&w->nodes, (uint32_t)node->outputs[o]);
    for (int a = 0; a < node->n_attrs; a++)
        emit_attr(w, &node->attrs[a]);
}

static void emit_meta(writer *w, const fq_fqm_meta *meta, int n_meta)
{
    buf_u32(&w->meta, (uint32_t)n_meta);
    for (int i = 0; i < n_meta; i++) {
        buf_u32(&w->meta, strings_add(&w->strings, meta[i].key != NULL ? meta[i].key : ""));
        buf_u32(&w->meta, strings_add(&w->strings, meta[i].value != NULL ? meta[i].value : ""));
    }
}

static void emit_sections(writer *w, const fq_fqm_meta *meta, int n_meta)
{
    const fq_graph *g = w->graph;
    emit_graph(w);
    buf_u32(&w->values, (uint32_t)g->n_values);
    buf_u32(&w->values, FQM_VALUE_RECORD);
    for (int v = 0; v < g->n_values; v++)
        emit_value(w, &g->values[v]);
    buf_u32(&w->nodes, (uint32_t)g->n_nodes);
    for (int n = 0; n < g->n_nodes; n++)
        emit_node(w, &g->nodes[n]);
    emit_meta(w, meta, n_meta);
}

static bool writer_failed(const writer *w)
{
    return w->strings.failed || w->strings.index.failed || w->strings.bytes.failed ||
           w->graph_section.failed || w->values.failed || w->nodes.failed || w->meta.failed;
}

static void writer_free(writer *w)
{
    strings_free(&w->strings);
    fq_free(w->graph_section.data);
    fq_free(w->values.data);
    fq_free(w->nodes.data);
    fq_free(w->meta.data);
}

/* One section of the image being assembled. */
typedef struct section_plan {
    uint32_t type;
    uint32_t alignment;
    uint64_t offset;
    uint64_t size;
} section_plan;

enum { N_WRITTEN_SECTIONS = 6 };

/* Offsets of the sections after the header and the table, in the order they are listed. */
static uint64_t plan_sections(const writer *w, section_plan *plan)
{
    uint64_t strings_size = FQM_STRINGS_HEAD + w->strings.index.size + w->strings.bytes.size;
    section_plan order[N_WRITTEN_SECTIONS] = {
        {FQM_SECTION_STRINGS, 8, 0, strings_size},
        {FQM_SECTION_GRAPH, 8, 0, w->graph_section.size},
        {FQM_SECTION_VALUES, 8, 0, w->values.size},
        {FQM_SECTION_NODES, 8, 0, w->nodes.size},
        {FQM_SECTION_META, 8, 0, w->meta.size},
        {FQM_SECTION_WEIGHTS, FQ_FQM_WEIGHT_ALIGNMENT, 0, w->weights_size},
    };
    uint64_t cursor = FQM_HEADER_SIZE + (uint64_t)N_WRITTEN_SECTIONS * FQM_ENTRY_BYTES;
    for (int s = 0; s < N_WRITTEN_SECTIONS; s++) {
        plan[s] = order[s];
        plan[s].offset = fqm_align_up(cursor, plan[s].alignment);
        cursor = plan[s].offset + plan[s].size;
    }
    return cursor;
}

static void copy_weights(const fq_graph *g, unsigned char *weights)
{
    uint64_t cursor = 0;
    for (int v = 0; v < g->n_values; v++) {
        const fq_value *value = &g->values[v];
        weight_place place = place_weights(value, &cursor);
        if (value->quant.count > 0) {
            for (int k = 0; k < value->quant.count; k++) {
                fqm_put_f32(weights + place.scale + 4 * (size_t)k, value->quant.scale[k]);
                fqm_put_u32(weights + place.zero_point + 4 * (size_t)k,
                            (uint32_t)value->quant.zero_point[k]);
            }
        }
        if (place.data_size > 0)
            memcpy(weights + place.data, value->data, place.data_size);
    }
}

static void write_header(unsigned char *image, uint64_t size, const section_plan *plan,
                         const fq_crc32_table *crc)
{
    unsigned char *table = image + FQM_HEADER_SIZE;
    for (int s = 0; s < N_WRITTEN_SECTIONS; s++) {
        unsigned char *entry = table + (size_t)s * FQM_ENTRY_BYTES;
        fqm_put_u32(entry + FQM_ENTRY_TYPE, plan[s].type);
        fqm_put_u32(entry + FQM_ENTRY_ALIGNMENT, plan[s].alignment);
        fqm_put_u64(entry + FQM_ENTRY_OFFSET, plan[s].offset);
        fqm_put_u64(entry + FQM_ENTRY_SIZE, plan[s].size);
        fqm_put_u32(entry + FQM_ENTRY_CRC,
                    fq_crc32(crc, 0, image + plan[s].offset, (size_t)plan[s].size));
    }

    memcpy(image + FQM_HEADER_MAGIC, FQ_FQM_MAGIC, FQ_FQM_MAGIC_SIZE);
    fqm_put_u16(image + FQM_HEADER_VERSION_MAJOR, FQ_FQM_VERSION_MAJOR);
    fqm_put_u16(image + FQM_HEADER_VERSION_MINOR, FQ_FQM_VERSION_MINOR);
    fqm_put_u32(image + FQM_HEADER_HEADER_SIZE, FQM_HEADER_SIZE);
    fqm_put_u32(image + FQM_HEADER_SECTION_COUNT, N_WRITTEN_SECTIONS);
    fqm_put_u64(image + FQM_HEADER_TABLE_OFFSET, FQM_HEADER_SIZE);
    fqm_put_u64(image + FQM_HEADER_FILE_SIZE, size);
    fqm_put_u32(image + FQM_HEADER_TABLE_CRC,
                fq_crc32(crc, 0, table, (size_t)N_WRITTEN_SECTIONS * FQM_ENTRY_BYTES));
    fqm_put_u32(image + FQM_HEADER_HEADER_CRC, fq_crc32(crc, 0, image, FQM_HEADER_SIZE));
}

/* Lays the sections out in one zeroed buffer and fills in the table and the header. */
static fq_status assemble(const writer *w, void **data, size_t *size, fq_error *err)
{
    section_plan plan[N_WRITTEN_SECTIONS];
    uint64_t total = plan_sections(w, plan);
    if (total > SIZE_MAX)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "fqm write: %llu bytes do not fit in memory",
                            (unsigned long long)total);
    unsigned char *image = fq_calloc(1, (size_t)total);
    fq_crc32_table *crc = fq_malloc(sizeof(*crc));
    if (image == NULL || crc == NULL) {
        fq_free(image);
        fq_free(crc);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "fqm write: cannot allocate %llu bytes",
                            (unsigned long long)total);
    }

    unsigned char *strings = image + plan[0].offset;
    fqm_put_u32(strings, w->strings.count);
    memcpy(strings + FQM_STRINGS_HEAD, w->strings.index.data, w->strings.index.size);
    memcpy(strings + FQM_STRINGS_HEAD + w->strings.index.size, w->strings.bytes.data,
           w->strings.bytes.size);
    memcpy(image + plan[1].offset, w->graph_section.data, w->graph_section.size);
    memcpy(image + plan[2].offset, w->values.data, w->values.size);
    memcpy(image + plan[3].offset, w->nodes.data, w->nodes.size);
    memcpy(image + plan[4].offset, w->meta.data, w->meta.size);
    copy_weights(w->graph, image + plan[5].offset);

    fq_crc32_table_init(crc);
    write_header(image, total, plan, crc);
    fq_free(crc);
    *data = image;
    *size = (size_t)total;
    return FQ_OK;
}

fq_status fq_fqm_write_memory(const fq_graph *graph, const fq_fqm_meta *meta, int n_meta,
                              void **data, size_t *size, fq_error *err)
{
    if (graph == NULL || data == NULL || size == NULL || n_meta < 0 ||
        (n_meta > 0 && meta == NULL))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_fqm_write_memory: graph, data and size "
                            "must not be NULL, meta must hold n_meta entries");
    *data = NULL;
    *size = 0;
    if (!fqm_host_is_little_endian())
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "fqm write: big-endian hosts are not "
                            "supported");
    fq_status status = check_graph(graph, err);
    if (status != FQ_OK)
        return status;

    writer w;
    memset(&w, 0, sizeof(w));
    w.graph = graph;
    emit_sections(&w, meta, n_meta);
    if (writer_failed(&w))
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "fqm write: out of memory building the "
                              "sections (or over 4 GiB of strings)");
    else
        status = assemble(&w, data, size, err);
    writer_free(&w);
    return status;
}
