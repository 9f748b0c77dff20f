/* Greedy arena placement of values and workspaces by lifetime. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/ops.h"
#include "runtime/memory_plan.h"

typedef struct block {
    size_t size;
    int first;       /* first step alive; -1 = before the first node */
    int last;        /* last step alive */
    size_t offset;
    bool used;
} block;

static size_t align_up(size_t n)
{
    return (n + FQ_ALIGNMENT - 1) & ~(size_t)(FQ_ALIGNMENT - 1);
}

static size_t value_bytes(const fq_value *v)
{
    int64_t numel = fq_shape_numel(&v->shape);
    return numel > 0 ? (size_t)numel * fq_dtype_size(v->dtype) : 0;
}

/* Follows view links to the value that owns the buffer. */
static int root_of(const int *alias, int v)
{
    while (alias[v] != v)
        v = alias[v];
    return v;
}

static void extend(block *b, int step)
{
    if (!b->used) {
        b->used = true;
        b->first = step;
        b->last = step;
        return;
    }
    if (step < b->first)
        b->first = step;
    if (step > b->last)
        b->last = step;
}

static bool needs_buffer(const fq_value *v)
{
    return v->kind != FQ_VALUE_CONSTANT;
}

/* A view output may share its input's buffer when both need one and have the same size. */
static void link_views(const fq_graph *graph, int *alias)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        const fq_op_info *info = fq_op_get(node->op);
        if (info == NULL || !info->is_view || node->n_inputs < 1 || node->inputs[0] < 0)
            continue;
        const fq_value *in = &graph->values[node->inputs[0]];
        const fq_value *out = &graph->values[node->outputs[0]];
        if (needs_buffer(in) && needs_buffer(out) && value_bytes(in) == value_bytes(out))
            alias[node->outputs[0]] = root_of(alias, node->inputs[0]);
    }
}

/* Node n runs in a fused step and is not its last node: its outputs are never written. */
static bool is_pair_first(const fq_graph *graph, const int *step, int n)
{
    return step != NULL && n + 1 < graph->n_nodes && step[n + 1] == step[n];
}

static void measure_lifetimes(const fq_graph *graph, const int *alias, const int *step,
                              block *blocks)
{
    for (int i = 0; i < graph->n_inputs; i++)
        extend(&blocks[root_of(alias, graph->inputs[i])], -1);
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        int at = step != NULL ? step[n] : n;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0 && needs_buffer(&graph->values[node->inputs[i]]))
                extend(&blocks[root_of(alias, node->inputs[i])], at);
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] >= 0 && needs_buffer(&graph->values[node->outputs[o]]))
                extend(&blocks[root_of(alias, node->outputs[o])], at);
    }
    for (int n = 0; n < graph->n_nodes; n++)
        for (int o = 0; is_pair_first(graph, step, n) && o < graph->nodes[n].n_outputs; o++)
            if (graph->nodes[n].outputs[o] >= 0)
                blocks[root_of(alias, graph->nodes[n].outputs[o])].used = false;
    for (int i = 0; i < graph->n_outputs; i++)
        if (needs_buffer(&graph->values[graph->outputs[i]]))
            extend(&blocks[root_of(alias, graph->outputs[i])], graph->n_nodes);
}

typedef struct sort_key {
    size_t size;
    int index;
} sort_key;

static int by_size_desc(const void *a, const void *b)
{
    const sort_key *x = a;
    const sort_key *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->index - y->index;
}

/* Places blocks largest first at the lowest offset clear of every placed block alive at the
 * same time; returns the arena size. */
static size_t place_blocks(block *blocks, int count, sort_key *keys, int *order)
{
    int n_order = 0;
    for (int i = 0; i < count; i++)
        if (blocks[i].used && blocks[i].size > 0)
            keys[n_order++] = (sort_key){blocks[i].size, i};
    qsort(keys, (size_t)n_order, sizeof(sort_key), by_size_desc);
    for (int k = 0; k < n_order; k++)
        order[k] = keys[k].index;

    size_t arena = 0;
    for (int k = 0; k < n_order; k++) {
        block *b = &blocks[order[k]];
        size_t offset = 0;
        bool moved = true;
        while (moved) {
            moved = false;
            for (int j = 0; j < k; j++) {
                const block *p = &blocks[order[j]];
                bool overlap_time = p->first <= b->last && b->first <= p->last;
                bool overlap_space = p->offset < offset + b->size && offset < p->offset + p->size;
                if (overlap_time && overlap_space) {
                    offset = p->offset + p->size;
                    moved = true;
                }
            }
        }
        b->offset = offset;
        if (offset + b->size > arena)
            arena = offset + b->size;
    }
    return arena;
}

static void collect_stats(const fq_graph *graph, const block *blocks, fq_memory_plan *plan)
{
    for (int v = 0; v < graph->n_values; v++) {
        const fq_value *value = &graph->values[v];
        if (value->kind == FQ_VALUE_CONSTANT)
            plan->stats.constant_bytes += value_bytes(value);
        else if (blocks[v].used || plan->value_offset[v] != FQ_PLAN_NONE)
            plan->stats.values_bytes += value_bytes(value);
    }
    for (int n = 0; n < graph->n_nodes; n++)
        if (plan->workspace_size[n] > plan->stats.workspace_bytes)
            plan->stats.workspace_bytes = plan->workspace_size[n];
}

fq_status fq_memory_plan_build(const fq_graph *graph, const size_t *workspace,
                               fq_memory_plan *plan, fq_error *err)
{
    return fq_memory_plan_build_steps(graph, workspace, NULL, plan, err);
}

fq_status fq_memory_plan_build_steps(const fq_graph *graph, const size_t *workspace,
                                     const int *step, fq_memory_plan *plan, fq_error *err)
{
    int nv = graph->n_values;
    int nn = graph->n_nodes;
    memset(plan, 0, sizeof(*plan));
    plan->value_offset = fq_malloc(((size_t)nv + 1) * sizeof(size_t));
    plan->workspace_offset = fq_malloc(((size_t)nn + 1) * sizeof(size_t));
    plan->workspace_size = fq_calloc((size_t)nn + 1, sizeof(size_t));
    int *alias = fq_malloc(((size_t)nv + 1) * sizeof(int));
    int *order = fq_malloc(((size_t)(nv + nn) + 1) * sizeof(int));
    sort_key *keys = fq_malloc(((size_t)(nv + nn) + 1) * sizeof(sort_key));
    block *blocks = fq_calloc((size_t)(nv + nn) + 1, sizeof(block));
    if (plan->value_offset == NULL || plan->workspace_offset == NULL ||
        plan->workspace_size == NULL || alias == NULL || order == NULL || keys == NULL ||
        blocks == NULL) {
        fq_free(keys);
        fq_free(alias);
        fq_free(order);
        fq_free(blocks);
        fq_memory_plan_free(plan);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate the memory plan");
    }

    for (int v = 0; v < nv; v++)
        alias[v] = v;
    link_views(graph, alias);
    for (int v = 0; v < nv; v++)
        blocks[v].size = align_up(value_bytes(&graph->values[v]));
    measure_lifetimes(graph, alias, step, blocks);
    for (int n = 0; n < nn; n++) {
        const fq_node *node = &graph->nodes[n];
        const fq_op_info *info = fq_op_get(node->op);
        size_t ws = workspace != NULL ? workspace[n]
                    : info != NULL && info->workspace_size != NULL
                        ? info->workspace_size(graph, node) : 0;
        plan->workspace_size[n] = ws;
        int at = step != NULL ? step[n] : n;
        blocks[nv + n] = (block){align_up(ws), at, at, 0, ws > 0};
    }

    plan->stats.arena_bytes = place_blocks(blocks, nv + nn, keys, order);
    for (int v = 0; v < nv; v++) {
        int root = root_of(alias, v);
        bool placed = blocks[root].used && needs_buffer(&graph->values[v]);
        plan->value_offset[v] = placed ? blocks[root].offset : FQ_PLAN_NONE;
    }
    for (int n = 0; n < nn; n++)
        plan->workspace_offset[n] = blocks[nv + n].used ? blocks[nv + n].offset : FQ_PLAN_NONE;
    collect_stats(graph, blocks, plan);

    fq_free(keys);
    fq_free(alias);
    fq_free(order);
    fq_free(blocks);
    return FQ_OK;
}

void fq_memory_plan_free(fq_memory_plan *plan)
{
    fq_free(plan->value_offset);
    fq_free(plan->workspace_offset);
    fq_free(plan->workspace_size);
    memset(plan, 0, sizeof(*plan));
}
