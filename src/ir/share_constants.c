/* fq_pass_share_constants: one copy of each distinct constant. Quantized graphs repeat the same
 * small tensors many times (the scale and zero point of a value appear at its producer and at
 * every consumer), and each copy costs a value record and an aligned slot in an .fqm file. */
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/passes.h"

static uint64_t hash_bytes(const void *data, size_t size)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t constant_size(const fq_value *v)
{
    return (size_t)fq_shape_numel(&v->shape) * fq_dtype_size(v->dtype);
}

static bool same_quant(const fq_quant *a, const fq_quant *b)
{
    if (a->count != b->count || a->axis != b->axis)
        return false;
    if (a->count == 0)
        return true;
    return memcmp(a->scale, b->scale, (size_t)a->count * sizeof(float)) == 0 &&
           memcmp(a->zero_point, b->zero_point, (size_t)a->count * sizeof(int32_t)) == 0;
}

static bool same_constant(const fq_value *a, const fq_value *b)
{
    return a->dtype == b->dtype && fq_shape_equal(&a->shape, &b->shape) &&
           same_quant(&a->quant, &b->quant) &&
           memcmp(a->data, b->data, constant_size(a)) == 0;
}

static bool shareable(const fq_value *v)
{
    return v->kind == FQ_VALUE_CONSTANT && v->data != NULL && !v->is_output &&
           fq_shape_is_known(&v->shape);
}

fq_status fq_pass_share_constants(fq_graph *graph, fq_error *err)
{
    int n = graph->n_values;
    uint64_t *hashes = fq_malloc(((size_t)n + 1) * sizeof(uint64_t));
    if (hashes == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "share constants: out of memory");
    for (int v = 0; v < n; v++)
        hashes[v] = shareable(&graph->values[v])
                        ? hash_bytes(graph->values[v].data, constant_size(&graph->values[v]))
                        : 0;

    /* Quadratic in the number of constants with equal hashes only: distinct tensors rarely
     * collide, so this stays linear in practice. */
    bool changed = false;
    for (int v = 0; v < n; v++) {
        if (!shareable(&graph->values[v]))
            continue;
        for (int u = 0; u < v; u++) {
            if (hashes[u] != hashes[v] || !shareable(&graph->values[u]) ||
                !same_constant(&graph->values[u], &graph->values[v]))
                continue;
            fq_graph_replace_uses(graph, v, u);
            changed = true;
            break;
        }
    }
    fq_free(hashes);
    return changed ? fq_graph_compact(graph, err) : FQ_OK;
}
