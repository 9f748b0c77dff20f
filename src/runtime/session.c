/* Sessions: kernels bound, memory planned, tensors pointing into one arena.
 *
 * Everything a run touches is set up by fq_session_create: each node's input and output tensor
 * descriptors (dtype, shape, data pointer into the arena or the graph's constants) sit in one
 * array, so fq_session_run is a loop over nodes that calls their execution functions and
 * allocates nothing. */
#include <stdint.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/session.h"
#include "runtime/memory_plan.h"

struct fq_session {
    const fq_graph *graph;
    fq_memory_plan plan;
    unsigned char *arena;
    size_t arena_size;
    bool owns_arena;
    fq_tensor *tensors;      /* inputs then outputs of every node, in node order */
    int *first_tensor;       /* per node: index of its first input tensor in `tensors` */
    fq_tensor *graph_inputs;
    fq_tensor *graph_outputs;
};

static fq_status check_graph(const fq_graph *graph, fq_error *err)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        if (fq_op_get(node->op) == NULL)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "node '%s' (%s) is not bound to an op; "
                                "run the passes first", node->name, node->op_type);
    }
    for (int v = 0; v < graph->n_values; v++) {
        const fq_value *value = &graph->values[v];
        if (!fq_shape_is_known(&value->shape) && value->kind != FQ_VALUE_CONSTANT &&
            fq_graph_use_count(graph, v) > 0)
            return fq_error_set(err, FQ_ERR_SHAPE, "value '%s' has an unknown shape; fix the "
                                "input size and run the passes first", value->name);
    }
    return FQ_OK;
}

fq_status fq_session_plan_arena_size(const fq_graph *graph, size_t *size, fq_error *err)
{
    fq_memory_plan plan;
    fq_status status = check_graph(graph, err);
    if (status == FQ_OK)
        status = fq_memory_plan_build(graph, &plan, err);
    if (status != FQ_OK)
        return status;
    *size = plan.stats.arena_bytes;
    fq_memory_plan_free(&plan);
    return FQ_OK;
}

static fq_tensor tensor_of(const fq_session *s, int value)
{
    if (value < 0)
        return (fq_tensor){0};
    const fq_value *v = &s->graph->values[value];
    size_t offset = s->plan.value_offset[value];
    void *data = v->kind == FQ_VALUE_CONSTANT ? v->data
                 : offset == FQ_PLAN_NONE     ? NULL
                                              : s->arena + offset;
    return (fq_tensor){v->dtype, v->shape, data, &v->quant};
}

static fq_status bind_tensors(fq_session *s, fq_error *err)
{
    const fq_graph *g = s->graph;
    size_t count = 0;
    for (int n = 0; n < g->n_nodes; n++)
        count += (size_t)(g->nodes[n].n_inputs + g->nodes[n].n_outputs);
    s->tensors = fq_calloc(count + 1, sizeof(fq_tensor));
    s->first_tensor = fq_calloc((size_t)g->n_nodes + 1, sizeof(int));
    s->graph_inputs = fq_calloc((size_t)g->n_inputs + 1, sizeof(fq_tensor));
    s->graph_outputs = fq_calloc((size_t)g->n_outputs + 1, sizeof(fq_tensor));
    if (s->tensors == NULL || s->first_tensor == NULL || s->graph_inputs == NULL ||
        s->graph_outputs == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate session tensors");

    int k = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        const fq_node *node = &g->nodes[n];
        s->first_tensor[n] = k;
        for (int i = 0; i < node->n_inputs; i++)
            s->tensors[k++] = tensor_of(s, node->inputs[i]);
        for (int o = 0; o < node->n_outputs; o++)
            s->tensors[k++] = tensor_of(s, node->outputs[o]);
    }
    for (int i = 0; i < g->n_inputs; i++)
        s->graph_inputs[i] = tensor_of(s, g->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        s->graph_outputs[i] = tensor_of(s, g->outputs[i]);
    return FQ_OK;
}

static fq_status attach_arena(fq_session *s, const fq_session_options *options, fq_error *err)
{
    size_t need = s->plan.stats.arena_bytes;
    if (options != NULL && options->arena != NULL) {
        if (options->arena_size < need)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "the caller's arena has %zu bytes, the "
                                "plan needs %zu", options->arena_size, need);
        if (((uintptr_t)options->arena & (FQ_ALIGNMENT - 1)) != 0)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "the caller's arena must be aligned to "
                                "%d bytes", FQ_ALIGNMENT);
        s->arena = options->arena;
        s->arena_size = options->arena_size;
        return FQ_OK;
    }
    s->arena = fq_malloc_aligned(need > 0 ? need : 1);
    if (s->arena == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a %zu-byte arena", need);
    s->arena_size = need;
    s->owns_arena = true;
    return FQ_OK;
}

fq_status fq_session_create(const fq_graph *graph, const fq_session_options *options,
                            fq_session **out, fq_error *err)
{
    *out = NULL;
    fq_status status = check_graph(graph, err);
    if (status != FQ_OK)
        return status;
    fq_session *s = fq_calloc(1, sizeof(*s));
    if (s == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a session");
    s->graph = graph;

    status = fq_memory_plan_build(graph, &s->plan, err);
    if (status == FQ_OK)
        status = attach_arena(s, options, err);
    if (status == FQ_OK)
        status = bind_tensors(s, err);
    if (status != FQ_OK) {
        fq_session_free(s);
        return status;
    }
    *out = s;
    return FQ_OK;
}

void fq_session_free(fq_session *session)
{
    if (session == NULL)
        return;
    if (session->owns_arena)
        fq_free_aligned(session->arena);
    fq_memory_plan_free(&session->plan);
    fq_free(session->tensors);
    fq_free(session->first_tensor);
    fq_free(session->graph_inputs);
    fq_free(session->graph_outputs);
    fq_free(session);
}

fq_memory_plan_stats fq_session_memory_stats(const fq_session *session)
{
    return session->plan.stats;
}

static int find_by_name(const fq_graph *graph, const int *values, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(graph->values[values[i]].name, name) == 0)
            return i;
    return -1;
}

int fq_session_input_index(const fq_session *session, const char *name)
{
    return find_by_name(session->graph, session->graph->inputs, session->graph->n_inputs, name);
}

int fq_session_output_index(const fq_session *session, const char *name)
{
    return find_by_name(session->graph, session->graph->outputs, session->graph->n_outputs,
                        name);
}

fq_status fq_session_input(fq_session *session, int i, fq_tensor *tensor, fq_error *err)
{
    if (i < 0 || i >= session->graph->n_inputs)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "input %d does not exist (the model has %d)",
                            i, session->graph->n_inputs);
    *tensor = session->graph_inputs[i];
    return FQ_OK;
}

fq_status fq_session_set_input(fq_session *session, int i, const void *data, size_t size,
                               fq_error *err)
{
    fq_tensor t;
    fq_status status = fq_session_input(session, i, &t, err);
    if (status != FQ_OK)
        return status;
    size_t want = (size_t)fq_shape_numel(&t.shape) * fq_dtype_size(t.dtype);
    if (size != want)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "input '%s' takes %zu bytes, %zu were given",
                            session->graph->values[session->graph->inputs[i]].name, want, size);
    if (t.data != NULL && size > 0)
        memcpy(t.data, data, size);
    return FQ_OK;
}

fq_status fq_session_run(fq_session *session, fq_error *err)
{
    const fq_graph *g = session->graph;
    for (int n = 0; n < g->n_nodes; n++) {
        const fq_node *node = &g->nodes[n];
        const fq_op_info *info = fq_op_get(node->op);
        fq_tensor *t = &session->tensors[session->first_tensor[n]];
        size_t ws_offset = session->plan.workspace_offset[n];
        fq_exec_ctx ctx = {
            .graph = g,
            .node = node,
            .n_inputs = node->n_inputs,
            .inputs = t,
            .n_outputs = node->n_outputs,
            .outputs = t + node->n_inputs,
            .workspace = ws_offset == FQ_PLAN_NONE ? NULL : session->arena + ws_offset,
            .workspace_size = session->plan.workspace_size[n],
            .err = err,
        };
        fq_status status = info->exec(&ctx);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

fq_status fq_session_output(const fq_session *session, int i, fq_tensor *tensor, fq_error *err)
{
    if (i < 0 || i >= session->graph->n_outputs)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "output %d does not exist (the model has "
                            "%d)", i, session->graph->n_outputs);
    *tensor = session->graph_outputs[i];
    return FQ_OK;
}
