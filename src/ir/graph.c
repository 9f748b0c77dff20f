/* Graph construction, look-up, compaction and validation. */
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/ir.h"

static const struct {
    const char *name;
    size_t size;
} dtype_table[FQ_DTYPE_COUNT] = {
    [FQ_DTYPE_UNDEFINED] = {"undefined", 0}, [FQ_DTYPE_F32] = {"f32", 4},
    [FQ_DTYPE_F16] = {"f16", 2},             [FQ_DTYPE_I8] = {"i8", 1},
    [FQ_DTYPE_U8] = {"u8", 1},               [FQ_DTYPE_I32] = {"i32", 4},
    [FQ_DTYPE_I64] = {"i64", 8},             [FQ_DTYPE_BOOL] = {"bool", 1},
};

size_t fq_dtype_size(fq_dtype dtype)
{
    return (unsigned)dtype < FQ_DTYPE_COUNT ? dtype_table[dtype].size : 0;
}

const char *fq_dtype_name(fq_dtype dtype)
{
    return (unsigned)dtype < FQ_DTYPE_COUNT ? dtype_table[dtype].name : "invalid";
}

int64_t fq_shape_numel(const fq_shape *shape)
{
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) {
        int64_t d = shape->dims[i];
        if (d < 0)
            return -1;
        if (d != 0 && n > INT64_MAX / d)
            return -1;
        n *= d;
    }
    return n;
}

bool fq_shape_is_known(const fq_shape *shape)
{
    for (int i = 0; i < shape->rank; i++)
        if (shape->dims[i] < 0)
            return false;
    return true;
}

bool fq_shape_equal(const fq_shape *a, const fq_shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

char *fq_shape_format(const fq_shape *shape, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (shape->rank == 0) {
        snprintf(buf, size, "scalar");
        return buf;
    }
    for (int i = 0; i < shape->rank && used < size; i++) {
        const char *sep = i == 0 ? "" : "x";
        int n = shape->dims[i] < 0 ? snprintf(buf + used, size - used, "%s?", sep)
                                   : snprintf(buf + used, size - used, "%s%lld", sep,
                                              (long long)shape->dims[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

fq_status fq_graph_create(fq_graph **out, fq_error *err)
{
    fq_graph *graph = fq_calloc(1, sizeof(*graph));
    if (graph == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a graph");
    *out = graph;
    return FQ_OK;
}

static void quant_free(fq_quant *quant)
{
    fq_free(quant->scale);
    fq_free(quant->zero_point);
    memset(quant, 0, sizeof(*quant));
}

static void value_free(fq_value *value)
{
    fq_free(value->name);
    for (int i = 0; i < FQ_MAX_RANK; i++)
        fq_free(value->dim_param[i]);
    if (!value->data_borrowed)
        fq_free_aligned(value->data);
    quant_free(&value->quant);
}

static void attr_free(fq_attr *attr)
{
    fq_free(attr->name);
    fq_free(attr->s);
    fq_free(attr->ints);
    fq_free(attr->floats);
    if (attr->strings != NULL)
        for (int i = 0; i < attr->count; i++)
            fq_free(attr->strings[i]);
    fq_free(attr->strings);
}

static void node_free(fq_node *node)
{
    fq_free(node->name);
    fq_free(node->op_type);
    fq_free(node->inputs);
    fq_free(node->outputs);
    for (int i = 0; i < node->n_attrs; i++)
        attr_free(&node->attrs[i]);
    fq_free(node->attrs);
}

void fq_graph_free(fq_graph *graph)
{
    if (graph == NULL)
        return;
    for (int i = 0; i < graph->n_values; i++)
        value_free(&graph->values[i]);
    for (int i = 0; i < graph->n_nodes; i++)
        node_free(&graph->nodes[i]);
    fq_free(graph->values);
    fq_free(graph->nodes);
    fq_free(graph->inputs);
    fq_free(graph->outputs);
    fq_free(graph->name);
    fq_free(graph->producer);
    if (graph->backing != NULL && graph->backing_release != NULL)
        graph->backing_release(graph->backing);
    fq_free(graph);
}

/* Grows an array of elements of elem bytes so that it holds at least need entries. */
static bool grow(void **array, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return true;
    int new_cap = *cap < 16 ? 16 : *cap;
    while (new_cap < need) {
        if (new_cap > (1 << 28))
            return false;
        new_cap *= 2;
    }
    void *grown = fq_realloc(*array, (size_t)new_cap * elem);
    if (grown == NULL)
        return false;
    memset((char *)grown + (size_t)*cap * elem, 0, (size_t)(new_cap - *cap) * elem);
    *array = grown;
    *cap = new_cap;
    return true;
}

fq_status fq_graph_add_value(fq_graph *graph, const char *name, fq_dtype dtype,
                             const fq_shape *shape, int *index, fq_error *err)
{
    if (!grow((void **)&graph->values, &graph->cap_values, graph->n_values + 1,
              sizeof(fq_value)))
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot grow the value list");
    fq_value *value = &graph->values[graph->n_values];
    memset(value, 0, sizeof(*value));
    value->name = fq_strdup(name != NULL ? name : "");
    if (value->name == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot copy value name");
    value->dtype = dtype;
    value->quant.axis = -1;
    if (shape != NULL)
        value->shape = *shape;
    *index = graph->n_values++;
    return FQ_OK;
}

fq_status fq_value_set_data(fq_graph *graph, int index, const void *data, bool take,
                            fq_error *err)
{
    fq_value *value = &graph->values[index];
    int64_t numel = fq_shape_numel(&value->shape);
    size_t elem = fq_dtype_size(value->dtype);
    if (numel < 0 || elem == 0)
        return fq_error_set(err, FQ_ERR_SHAPE, "value '%s': constant needs a known shape and dtype",
                            value->name);
    void *copy = (void *)data;
    if (!take) {
        size_t bytes = (size_t)numel * elem;
        copy = fq_malloc_aligned(bytes);
        if (copy == NULL)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "value '%s': cannot allocate %zu bytes",
                                value->name, bytes);
        if (bytes > 0)
            memcpy(copy, data, bytes);
    }
    if (!value->data_borrowed)
        fq_free_aligned(value->data);
    value->data = copy;
    value->data_borrowed = false;
    value->kind = FQ_VALUE_CONSTANT;
    return FQ_OK;
}

int fq_graph_find_value(const fq_graph *graph, const char *name)
{
    for (int i = 0; i < graph->n_values; i++)
        if (strcmp(graph->values[i].name, name) == 0)
            return i;
    return -1;
}

static int *copy_ints(const int *src, int n)
{
    int *dst = fq_malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (dst != NULL && n > 0)
        memcpy(dst, src, (size_t)n * sizeof(int));
    return dst;
}

fq_status fq_graph_add_node(fq_graph *graph, const char *name, const char *op_type,
                            const int *inputs, int n_inputs, const int *outputs, int n_outputs,
                            int *index, fq_error *err)
{
    if (!grow((void **)&graph->nodes, &graph->cap_nodes, graph->n_nodes + 1, sizeof(fq_node)))
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot grow the node list");
    fq_node *node = &graph->nodes[graph->n_nodes];
    memset(node, 0, sizeof(*node));
    node->op = -1;
    node->name = fq_strdup(name);
    node->op_type = fq_strdup(op_type);
    node->inputs = copy_ints(inputs, n_inputs);
    node->outputs = copy_ints(outputs, n_outputs);
    if (node->name == NULL || node->op_type == NULL || node->inputs == NULL ||
        node->outputs == NULL) {
        node_free(node);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate node '%s'", name);
    }
    node->n_inputs = n_inputs;
    node->n_outputs = n_outputs;
    if (index != NULL)
        *index = graph->n_nodes;
    graph->n_nodes++;
    return FQ_OK;
}

fq_status fq_node_add_attr(fq_graph *graph, int index, const char *name, fq_attr_type type,
                           fq_attr **attr, fq_error *err)
{
    fq_node *node = &graph->nodes[index];
    fq_attr *grown = fq_realloc(node->attrs, (size_t)(node->n_attrs + 1) * sizeof(fq_attr));
    if (grown == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot add attribute", node->name);
    node->attrs = grown;
    fq_attr *a = &node->attrs[node->n_attrs];
    memset(a, 0, sizeof(*a));
    a->name = fq_strdup(name);
    if (a->name == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot add attribute", node->name);
    a->type = type;
    a->tensor = -1;
    node->n_attrs++;
    *attr = a;
    return FQ_OK;
}

fq_status fq_node_append_input(fq_graph *graph, int index, int value, fq_error *err)
{
    fq_node *node = &graph->nodes[index];
    int *grown = fq_realloc(node->inputs, (size_t)(node->n_inputs + 1) * sizeof(int));
    if (grown == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot add input", node->name);
    grown[node->n_inputs++] = value;
    node->inputs = grown;
    return FQ_OK;
}

const fq_attr *fq_node_attr(const fq_node *node, const char *name)
{
    for (int i = 0; i < node->n_attrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0)
            return &node->attrs[i];
    return NULL;
}

int64_t fq_node_attr_int(const fq_node *node, const char *name, int64_t fallback)
{
    const fq_attr *a = fq_node_attr(node, name);
    return a != NULL && a->type == FQ_ATTR_INT ? a->i : fallback;
}

float fq_node_attr_float(const fq_node *node, const char *name, float fallback)
{
    const fq_attr *a = fq_node_attr(node, name);
    return a != NULL && a->type == FQ_ATTR_FLOAT ? a->f : fallback;
}

const char *fq_node_attr_string(const fq_node *node, const char *name, const char *fallback)
{
    const fq_attr *a = fq_node_attr(node, name);
    return a != NULL && a->type == FQ_ATTR_STRING ? a->s : fallback;
}

int fq_node_attr_ints(const fq_node *node, const char *name, int64_t *out, int max)
{
    const fq_attr *a = fq_node_attr(node, name);
    if (a == NULL || a->type != FQ_ATTR_INTS)
        return -1;
    if (a->count > max)
        return -2;
    for (int i = 0; i < a->count; i++)
        out[i] = a->ints[i];
    return a->count;
}

const fq_value *fq_node_input(const fq_graph *graph, const fq_node *node, int i)
{
    if (i < 0 || i >= node->n_inputs || node->inputs[i] < 0)
        return NULL;
    return &graph->values[node->inputs[i]];
}

fq_value *fq_node_output(fq_graph *graph, const fq_node *node, int i)
{
    if (i < 0 || i >= node->n_outputs || node->outputs[i] < 0)
        return NULL;
    return &graph->values[node->outputs[i]];
}

bool fq_value_is_constant(const fq_value *value)
{
    return value != NULL && value->kind == FQ_VALUE_CONSTANT && value->data != NULL;
}

int fq_graph_producer(const fq_graph *graph, int value)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        if (node->dead)
            continue;
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] == value)
                return n;
    }
    return -1;
}

int fq_graph_use_count(const fq_graph *graph, int value)
{
    int uses = 0;
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        if (node->dead)
            continue;
        for (int i = 0; i < node->n_inputs; i++)
            uses += node->inputs[i] == value;
    }
    for (int i = 0; i < graph->n_outputs; i++)
        uses += graph->outputs[i] == value;
    return uses;
}

void fq_graph_replace_uses(fq_graph *graph, int from, int to)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        fq_node *node = &graph->nodes[n];
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] == from)
                node->inputs[i] = to;
    }
    for (int i = 0; i < graph->n_outputs; i++)
        if (graph->outputs[i] == from)
            graph->outputs[i] = to;
}

static void mark_used(const fq_graph *graph, bool *used)
{
    for (int i = 0; i < graph->n_inputs; i++)
        used[graph->inputs[i]] = true;
    for (int i = 0; i < graph->n_outputs; i++)
        used[graph->outputs[i]] = true;
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        if (node->dead)
            continue;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0)
                used[node->inputs[i]] = true;
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] >= 0)
                used[node->outputs[o]] = true;
        for (int a = 0; a < node->n_attrs; a++)
            if (node->attrs[a].type == FQ_ATTR_TENSOR && node->attrs[a].tensor >= 0)
                used[node->attrs[a].tensor] = true;
    }
}

static void remap(int *ref, const int *new_index)
{
    if (*ref >= 0)
        *ref = new_index[*ref];
}

fq_status fq_graph_compact(fq_graph *graph, fq_error *err)
{
    int live_nodes = 0;
    for (int n = 0; n < graph->n_nodes; n++) {
        if (graph->nodes[n].dead)
            node_free(&graph->nodes[n]);
        else
            graph->nodes[live_nodes++] = graph->nodes[n];
    }
    graph->n_nodes = live_nodes;

    bool *used = fq_calloc((size_t)graph->n_values + 1, sizeof(bool));
    int *new_index = fq_malloc(((size_t)graph->n_values + 1) * sizeof(int));
    if (used == NULL || new_index == NULL) {
        fq_free(used);
        fq_free(new_index);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot compact graph");
    }
    mark_used(graph, used);
    int live_values = 0;
    for (int v = 0; v < graph->n_values; v++) {
        if (used[v]) {
            new_index[v] = live_values;
            graph->values[live_values++] = graph->values[v];
        } else {
            new_index[v] = -1;
            value_free(&graph->values[v]);
        }
    }
    graph->n_values = live_values;

    for (int i = 0; i < graph->n_inputs; i++)
        remap(&graph->inputs[i], new_index);
    for (int i = 0; i < graph->n_outputs; i++)
        remap(&graph->outputs[i], new_index);
    for (int n = 0; n < graph->n_nodes; n++) {
        fq_node *node = &graph->nodes[n];
        for (int i = 0; i < node->n_inputs; i++)
            remap(&node->inputs[i], new_index);
        for (int o = 0; o < node->n_outputs; o++)
            remap(&node->outputs[o], new_index);
        for (int a = 0; a < node->n_attrs; a++)
            if (node->attrs[a].type == FQ_ATTR_TENSOR)
                remap(&node->attrs[a].tensor, new_index);
    }
    fq_free(used);
    fq_free(new_index);
    return FQ_OK;
}

fq_status fq_graph_validate(const fq_graph *graph, fq_error *err)
{
    fq_status status = FQ_OK;
    /* 0: not available yet, 1: available (input, constant or produced) */
    unsigned char *ready = fq_calloc((size_t)graph->n_values + 1, 1);
    if (ready == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot validate graph");
    for (int v = 0; v < graph->n_values; v++)
        if (graph->values[v].kind != FQ_VALUE_INTERMEDIATE)
            ready[v] = 1;

    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++) {
        const fq_node *node = &graph->nodes[n];
        if (node->dead)
            continue;
        for (int i = 0; i < node->n_inputs && status == FQ_OK; i++) {
            int v = node->inputs[i];
            if (v < -1 || v >= graph->n_values)
                status = fq_error_set(err, FQ_ERR_INTERNAL, "node '%s': input %d out of range",
                                      node->name, i);
            else if (v >= 0 && !ready[v])
                status = fq_error_set(err, FQ_ERR_INTERNAL,
                                      "node '%s' (%s): input '%s' is used before it is produced",
                                      node->name, node->op_type, graph->values[v].name);
        }
        for (int o = 0; o < node->n_outputs && status == FQ_OK; o++) {
            int v = node->outputs[o];
            if (v < -1 || v >= graph->n_values)
                status = fq_error_set(err, FQ_ERR_INTERNAL, "node '%s': output %d out of range",
                                      node->name, o);
            else if (v >= 0 && ready[v])
                status = fq_error_set(err, FQ_ERR_INTERNAL,
                                      "node '%s' (%s): output '%s' has another producer",
                                      node->name, node->op_type, graph->values[v].name);
            else if (v >= 0)
                ready[v] = 1;
        }
    }
    for (int i = 0; i < graph->n_outputs && status == FQ_OK; i++) {
        int v = graph->outputs[i];
        if (v < 0 || v >= graph->n_values || !ready[v])
            status = fq_error_set(err, FQ_ERR_INTERNAL, "graph output %d is never produced", i);
    }
    fq_free(ready);
    return status;
}
