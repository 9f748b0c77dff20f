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
#include "runtime/threadpool.h"

/* The kernels chosen for every node: states from the ops' prepare hooks, the workspace each
 * needs, and the step each runs at: node n at step n, except the second node of a fused pair
 * (fq_op_info.fuse_next), which runs inside the first one's step, n - 1. */
typedef struct prepared_nodes {
    void **states;
    size_t *workspace;
    int *step;
    int count;
} prepared_nodes;

struct fq_session {
    const fq_graph *graph;
    fq_kernel_config config;
    fq_threadpool *pool;
    prepared_nodes prepared;
    fq_memory_plan plan;
    unsigned char *arena;
    size_t arena_size;
    bool owns_arena;
    fq_tensor *tensors;      /* inputs then outputs of every node, in node order */
    int *first_tensor;       /* per node: index of its first input tensor in `tensors` */
    char **fused_names;      /* per node: "fused into NAME" for a pair's second node, or NULL */
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

fq_session_options fq_session_options_default(void)
{
    return (fq_session_options){.arena = NULL, .arena_size = 0, .threads = 1,
                                .isa = FQ_ISA_AUTO};
}

static void release_nodes(const fq_graph *graph, prepared_nodes *p)
{
    for (int n = 0; n < p->count; n++) {
        const fq_op_info *info = fq_op_get(graph->nodes[n].op);
        if (p->states[n] != NULL && info->release != NULL)
            info->release(p->states[n]);
    }
    fq_free(p->states);
    fq_free(p->workspace);
    fq_free(p->step);
    p->states = NULL;
    p->workspace = NULL;
    p->step = NULL;
    p->count = 0;
}

/* Runs every op's prepare hook (or asks its reference workspace size). */
static fq_status prepare_nodes(const fq_graph *graph, const fq_kernel_config *config,
                               prepared_nodes *p, fq_error *err)
{
    p->states = fq_calloc((size_t)graph->n_nodes + 1, sizeof(void *));
    p->workspace = fq_calloc((size_t)graph->n_nodes + 1, sizeof(size_t));
    p->step = fq_calloc((size_t)graph->n_nodes + 1, sizeof(int));
    p->count = 0;
    if (p->states == NULL || p->workspace == NULL || p->step == NULL) {
        release_nodes(graph, p);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate kernel states");
    }
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        const fq_op_info *info = fq_op_get(node->op);
        p->count = n + 1;
        p->step[n] = n;
        if (info->prepare != NULL) {
            fq_status status = info->prepare(graph, node, config, &p->states[n],
                                             &p->workspace[n], err);
            if (status != FQ_OK) {
                release_nodes(graph, p);
                return status;
            }
        } else if (info->workspace_size != NULL) {
            p->workspace[n] = info->workspace_size(graph, node);
        }
    }
    return FQ_OK;
}

/* Readers of value among all nodes' inputs (dead ones too: a session runs every node) and the
 * graph outputs. */
static int readers_of(const fq_graph *graph, int value)
{
    int readers = 0;
    for (int n = 0; n < graph->n_nodes; n++)
        for (int i = 0; i < graph->nodes[n].n_inputs; i++)
            readers += graph->nodes[n].inputs[i] == value;
    for (int i = 0; i < graph->n_outputs; i++)
        readers += graph->outputs[i] == value;
    return readers;
}

/* Node n + 1 is the sole reader of node n's only output, which is not a graph output. */
static bool sole_reader_follows(const fq_graph *graph, int n)
{
    const fq_node *node = &graph->nodes[n], *next = &graph->nodes[n + 1];
    if (node->n_outputs != 1 || node->outputs[0] < 0 || node->dead || next->dead)
        return false;
    int value = node->outputs[0];
    if (graph->values[value].is_output || readers_of(graph, value) != 1)
        return false;
    for (int i = 0; i < next->n_inputs; i++)
        if (next->inputs[i] == value)
            return true;
    return false;
}

/* Offers every pair of consecutive nodes to the first one's fuse_next hook, and once it takes
 * the second, the node after that too (up to FQ_SESSION_MAX_FUSED nodes a step); a node is in
 * one fused step at most. */
static void pair_nodes(const fq_graph *graph, prepared_nodes *p)
{
    for (int n = 0; n + 1 < graph->n_nodes; n++) {
        const fq_op_info *info = fq_op_get(graph->nodes[n].op);
        if (info->fuse_next == NULL || p->states[n] == NULL)
            continue;
        int last = n;
        while (last + 1 < graph->n_nodes && last - n + 2 <= FQ_SESSION_MAX_FUSED &&
               sole_reader_follows(graph, last) &&
               info->fuse_next(graph, &graph->nodes[n], p->states[n], &graph->nodes[last + 1],
                               p->states[last + 1], &p->workspace[n])) {
            last++;
            p->step[last] = n;
            p->workspace[last] = 0; /* its exec is skipped */
        }
        n = last;
    }
}

static bool fuses(const fq_session_options *options)
{
    return options == NULL || !options->keep_intermediates;
}

/* Kernels for every node, paired where the options allow. */
static fq_status choose_kernels(const fq_graph *graph, const fq_session_options *options,
                                const fq_kernel_config *config, prepared_nodes *p,
                                fq_error *err)
{
    fq_status status = prepare_nodes(graph, config, p, err);
    if (status == FQ_OK && fuses(options))
        pair_nodes(graph, p);
    return status;
}

static fq_kernel_config config_of(const fq_session_options *options)
{
    fq_session_options defaults = fq_session_options_default();
    const fq_session_options *o = options != NULL ? options : &defaults;
    return (fq_kernel_config){.isa_cap = fq_isa_resolve_cap(o->isa), .pool = NULL,
                              .fp16_arithmetic = o->fp16_arithmetic};
}

fq_status fq_session_plan_arena_size(const fq_graph *graph, const fq_session_options *options,
                                     size_t *size, fq_error *err)
{
    fq_memory_plan plan;
    prepared_nodes prepared = {0};
    fq_kernel_config config = config_of(options);
    fq_status status = check_graph(graph, err);
    if (status != FQ_OK)
        return status;
    /* Kernels size their workspace for the threads of the pool they are given, so the plan
     * is made with a pool as large as the session's will be. */
    int threads = options != NULL && options->threads > 1 ? options->threads : 1;
    fq_threadpool *pool = NULL;
    status = fq_threadpool_create(threads, &pool, err);
    config.pool = pool;
    if (status == FQ_OK)
        status = choose_kernels(graph, options, &config, &prepared, err);
    if (status == FQ_OK) {
        status = fq_memory_plan_build_steps(graph, prepared.workspace, prepared.step, &plan,
                                            err);
        release_nodes(graph, &prepared);
    }
    fq_threadpool_free(pool);
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

static bool is_fused_second(const fq_session *s, int n)
{
    return s->prepared.step[n] != n;
}

/* Nodes after n that run in n's step (0: n runs alone). */
static int fused_after(const fq_session *s, int n)
{
    int count = 0;
    while (n + count + 1 < s->graph->n_nodes && s->prepared.step[n + count + 1] == n)
        count++;
    return count;
}

/* "fused into NAME" for the second node of every pair, for fq_session_kernel_name. */
static fq_status name_fused_nodes(fq_session *s, fq_error *err)
{
    const fq_graph *g = s->graph;
    s->fused_names = fq_calloc((size_t)g->n_nodes + 1, sizeof(char *));
    if (s->fused_names == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate kernel names");
    static const char prefix[] = "fused into ";
    for (int n = 0; n < g->n_nodes; n++) {
        if (!is_fused_second(s, n))
            continue;
        const char *first = g->nodes[s->prepared.step[n]].name;
        size_t size = sizeof(prefix) + strlen(first);
        s->fused_names[n] = fq_malloc(size);
        if (s->fused_names[n] == NULL)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate kernel names");
        memcpy(s->fused_names[n], prefix, sizeof(prefix) - 1);
        memcpy(s->fused_names[n] + sizeof(prefix) - 1, first, strlen(first) + 1);
    }
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
    s->config = config_of(options);

    int threads = options != NULL && options->threads > 1 ? options->threads : 1;
    status = fq_threadpool_create(threads, &s->pool, err);
    s->config.pool = s->pool;
    if (status == FQ_OK)
        status = choose_kernels(graph, options, &s->config, &s->prepared, err);
    if (status == FQ_OK)
        status = fq_memory_plan_build_steps(graph, s->prepared.workspace, s->prepared.step,
                                            &s->plan, err);
    if (status == FQ_OK)
        status = name_fused_nodes(s, err);
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
    for (int n = 0; session->fused_names != NULL && n < session->graph->n_nodes; n++)
        fq_free(session->fused_names[n]);
    fq_free(session->fused_names);
    release_nodes(session->graph, &session->prepared);
    fq_threadpool_free(session->pool);
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

fq_isa fq_session_isa_cap(const fq_session *session)
{
    return session->config.isa_cap;
}

int fq_session_threads(const fq_session *session)
{
    return fq_threadpool_size(session->pool);
}

const char *fq_session_kernel_name(const fq_session *session, int node)
{
    if (node < 0 || node >= session->graph->n_nodes)
        return "none";
    if (is_fused_second(session, node))
        return session->fused_names[node];
    const fq_op_info *info = fq_op_get(session->graph->nodes[node].op);
    const void *state = session->prepared.states[node];
    if (info->kernel_name != NULL && state != NULL)
        return info->kernel_name(state);
    return "reference";
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
    return fq_session_run_observed(session, NULL, NULL, err);
}

static fq_exec_ctx context_of(fq_session *session, int n, fq_error *err)
{
    const fq_node *node = &session->graph->nodes[n];
    fq_tensor *t = &session->tensors[session->first_tensor[n]];
    size_t ws_offset = session->plan.workspace_offset[n];
    return (fq_exec_ctx){
        .graph = session->graph,
        .node = node,
        .n_inputs = node->n_inputs,
        .inputs = t,
        .n_outputs = node->n_outputs,
        .outputs = t + node->n_inputs,
        .workspace = ws_offset == FQ_PLAN_NONE ? NULL : session->arena + ws_offset,
        .workspace_size = session->plan.workspace_size[n],
        .err = err,
        .state = session->prepared.states[n],
        .pool = session->pool,
    };
}

/* Runs node n, with the nodes fused into its step (each context's next points to the
 * following one); returns the nodes it ran. */
static int run_step(fq_session *session, int n, fq_session_observer observer, void *user,
                    fq_status *status, fq_error *err)
{
    fq_exec_ctx ctx[FQ_SESSION_MAX_FUSED];
    int count = 1 + fused_after(session, n);
    for (int i = 0; i < count; i++)
        ctx[i] = context_of(session, n + i, err);
    for (int i = 0; i + 1 < count; i++)
        ctx[i].next = &ctx[i + 1];
    *status = fq_op_get(ctx[0].node->op)->exec(&ctx[0]);
    for (int i = 0; i < count && *status == FQ_OK && observer != NULL; i++)
        *status = observer(user, n + i, ctx[i].outputs, ctx[i].n_outputs, err);
    return count;
}

fq_status fq_session_run_observed(fq_session *session, fq_session_observer observer, void *user,
                                  fq_error *err)
{
    fq_status status = FQ_OK;
    for (int n = 0; n < session->graph->n_nodes && status == FQ_OK;)
        n += run_step(session, n, observer, user, &status, err);
    return status;
}

fq_status fq_session_output(const fq_session *session, int i, fq_tensor *tensor, fq_error *err)
{
    if (i < 0 || i >= session->graph->n_outputs)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "output %d does not exist (the model has "
                            "%d)", i, session->graph->n_outputs);
    *tensor = session->graph_outputs[i];
    return FQ_OK;
}
