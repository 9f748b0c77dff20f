/* Deep copy of a graph. */
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/ir.h"

static bool copy_block(void **dst, const void *src, size_t bytes)
{
    *dst = NULL;
    if (src == NULL)
        return true;
    *dst = fq_malloc(bytes);
    if (*dst != NULL)
        memcpy(*dst, src, bytes);
    return *dst != NULL;
}

static bool copy_string(char **dst, const char *src)
{
    *dst = src != NULL ? fq_strdup(src) : NULL;
    return src == NULL || *dst != NULL;
}

static bool clone_value(fq_value *dst, const fq_value *src)
{
    *dst = *src;
    dst->data = NULL;
    dst->data_borrowed = false; /* a clone owns copies of everything */
    dst->name = NULL;
    dst->quant.scale = NULL;
    dst->quant.zero_point = NULL;
    memset(dst->dim_param, 0, sizeof(dst->dim_param));
    bool ok = copy_string(&dst->name, src->name);
    for (int d = 0; d < FQ_MAX_RANK; d++)
        ok = ok && copy_string(&dst->dim_param[d], src->dim_param[d]);
    size_t count = (size_t)src->quant.count;
    ok = ok && copy_block((void **)&dst->quant.scale, src->quant.scale, count * sizeof(float));
    ok = ok && copy_block((void **)&dst->quant.zero_point, src->quant.zero_point,
                          count * sizeof(int32_t));
    if (ok && src->data != NULL) {
        size_t bytes = (size_t)fq_shape_numel(&src->shape) * fq_dtype_size(src->dtype);
        dst->data = fq_malloc_aligned(bytes);
        ok = dst->data != NULL;
        if (ok && bytes > 0)
            memcpy(dst->data, src->data, bytes);
    }
    return ok;
}

static bool clone_attr(fq_attr *dst, const fq_attr *src)
{
    *dst = *src;
    dst->name = NULL;
    dst->s = NULL;
    dst->ints = NULL;
    dst->floats = NULL;
    dst->strings = NULL;
    bool ok = copy_string(&dst->name, src->name);
    ok = ok && copy_block((void **)&dst->s, src->s, src->s_len + 1);
    ok = ok && copy_block((void **)&dst->ints, src->ints, (size_t)src->count * sizeof(int64_t));
    ok = ok && copy_block((void **)&dst->floats, src->floats, (size_t)src->count * sizeof(float));
    if (ok && src->strings != NULL) {
        dst->strings = fq_calloc((size_t)src->count + 1, sizeof(char *));
        ok = dst->strings != NULL;
        for (int i = 0; ok && i < src->count; i++)
            ok = copy_string(&dst->strings[i], src->strings[i]);
    }
    return ok;
}

static bool clone_node(fq_graph *graph, const fq_node *src)
{
    int node;
    if (fq_graph_add_node(graph, src->name, src->op_type, src->inputs, src->n_inputs,
                          src->outputs, src->n_outputs, &node, NULL) != FQ_OK)
        return false;
    fq_node *dst = &graph->nodes[node];
    dst->op = src->op;
    dst->act = src->act;
    dst->dead = src->dead;
    if (src->n_attrs == 0)
        return true;
    dst->attrs = fq_calloc((size_t)src->n_attrs, sizeof(fq_attr));
    if (dst->attrs == NULL)
        return false;
    for (int a = 0; a < src->n_attrs; a++) {
        dst->n_attrs = a + 1;
        if (!clone_attr(&dst->attrs[a], &src->attrs[a]))
            return false;
    }
    return true;
}

fq_status fq_graph_clone(const fq_graph *graph, fq_graph **out, fq_error *err)
{
    fq_graph *copy;
    fq_status status = fq_graph_create(&copy, err);
    if (status != FQ_OK)
        return status;
    bool ok = copy_string(&copy->name, graph->name) &&
              copy_string(&copy->producer, graph->producer);
    copy->opset = graph->opset;
    copy->ir_version = graph->ir_version;
    copy->values = fq_calloc((size_t)graph->n_values + 1, sizeof(fq_value));
    ok = ok && copy->values != NULL;
    if (ok)
        copy->cap_values = graph->n_values + 1;
    for (int v = 0; ok && v < graph->n_values; v++) {
        copy->n_values = v + 1;
        ok = clone_value(&copy->values[v], &graph->values[v]);
    }
    for (int n = 0; ok && n < graph->n_nodes; n++)
        ok = clone_node(copy, &graph->nodes[n]);
    ok = ok && copy_block((void **)&copy->inputs, graph->inputs,
                          (size_t)graph->n_inputs * sizeof(int));
    ok = ok && copy_block((void **)&copy->outputs, graph->outputs,
                          (size_t)graph->n_outputs * sizeof(int));
    copy->n_inputs = graph->n_inputs;
    copy->n_outputs = graph->n_outputs;
    if (!ok) {
        fq_graph_free(copy);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot copy the graph");
    }
    *out = copy;
    return FQ_OK;
}
