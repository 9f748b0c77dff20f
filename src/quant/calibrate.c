/* The calibration runner: a session over the caller's inputs, with every non-constant f32 value
 * read right after the node producing it has run, before its memory is reused. */
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/calibrate.h"

typedef struct calib_run {
    const fq_graph *graph;
    fq_calib_stats *stats;
    int *slot;             /* per graph value: its entry in stats, or -1 */
    fq_session *session;
    fq_tensor *inputs;
} calib_run;

static void run_free(calib_run *run)
{
    fq_session_free(run->session);
    fq_free(run->slot);
    fq_free(run->inputs);
}

static bool is_calibrated(const fq_graph *graph, int v, const bool *produced)
{
    const fq_value *value = &graph->values[v];
    return value->kind != FQ_VALUE_CONSTANT && value->dtype == FQ_DTYPE_F32 &&
           (value->kind == FQ_VALUE_INPUT || produced[v]);
}

/* Fills run->slot and returns the number of values calibrated. */
static fq_status assign_slots(calib_run *run, int *count, fq_error *err)
{
    const fq_graph *g = run->graph;
    bool *produced = fq_calloc((size_t)g->n_values + 1, sizeof(bool));
    run->slot = fq_malloc(((size_t)g->n_values + 1) * sizeof(int));
    if (produced == NULL || run->slot == NULL) {
        fq_free(produced);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate the calibration slots");
    }
    for (int n = 0; n < g->n_nodes; n++)
        for (int o = 0; o < g->nodes[n].n_outputs; o++)
            if (g->nodes[n].outputs[o] >= 0 && g->nodes[n].outputs[o] < g->n_values)
                produced[g->nodes[n].outputs[o]] = true;
    *count = 0;
    for (int v = 0; v < g->n_values; v++)
        run->slot[v] = is_calibrated(g, v, produced) ? (*count)++ : -1;
    fq_free(produced);
    return FQ_OK;
}

static fq_status create_stats(calib_run *run, int count, fq_error *err)
{
    const char **names = fq_calloc((size_t)count + 1, sizeof(char *));
    if (names == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate %d value names", count);
    for (int v = 0; v < run->graph->n_values; v++)
        if (run->slot[v] >= 0)
            names[run->slot[v]] = run->graph->values[v].name;
    fq_status status = fq_calib_stats_create(names, count, &run->stats, err);
    fq_free(names);
    return status;
}

/* Statistics passed in to keep accumulating must be those of this graph's values. */
static fq_status check_stats(const calib_run *run, int count, fq_error *err)
{
    if (run->stats->n_values != count)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "the statistics hold %d values, the graph "
                            "has %d to calibrate", run->stats->n_values, count);
    for (int v = 0; v < run->graph->n_values; v++) {
        int s = run->slot[v];
        if (s >= 0 && strcmp(run->stats->values[s].name, run->graph->values[v].name) != 0)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "statistics entry %d is '%s', the "
                                "graph's value is '%s'", s, run->stats->values[s].name,
                                run->graph->values[v].name);
    }
    return FQ_OK;
}

static fq_status bind_inputs(calib_run *run, fq_error *err)
{
    const fq_graph *g = run->graph;
    run->inputs = fq_calloc((size_t)g->n_inputs + 1, sizeof(fq_tensor));
    if (run->inputs == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate the input tensors");
    for (int i = 0; i < g->n_inputs; i++) {
        fq_status status = fq_session_input(run->session, i, &run->inputs[i], err);
        if (status != FQ_OK)
            return status;
        if (run->inputs[i].dtype != FQ_DTYPE_F32)
            return fq_error_set(err, FQ_ERR_UNSUPPORTED, "input '%s' is %s; calibration feeds "
                                "f32 inputs only", g->values[g->inputs[i]].name,
                                fq_dtype_name(run->inputs[i].dtype));
    }
    return FQ_OK;
}

/* The histogram of every value, and the per-channel sums of 4-D ones (read as NCHW). */
static fq_status add_tensor(calib_run *run, int value, const fq_tensor *t, fq_error *err)
{
    int s = value >= 0 && value < run->graph->n_values ? run->slot[value] : -1;
    int64_t numel = fq_shape_numel(&t->shape);
    if (s < 0 || t->data == NULL || t->dtype != FQ_DTYPE_F32 || numel <= 0)
        return FQ_OK;
    fq_value_stats *vs = &run->stats->values[s];
    fq_value_stats_add(vs, t->data, (size_t)numel);
    if (t->shape.rank != 4)
        return FQ_OK;
    const int64_t *d = t->shape.dims;
    return fq_value_stats_add_channels(vs, t->data, d[0], d[1], d[2] * d[3], err);
}

static fq_status observe_node(void *user, int node, const fq_tensor *outputs, int n_outputs,
                              fq_error *err)
{
    calib_run *run = user;
    const fq_node *nd = &run->graph->nodes[node];
    for (int o = 0; o < n_outputs && o < nd->n_outputs; o++) {
        fq_status status = add_tensor(run, nd->outputs[o], &outputs[o], err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

static fq_status run_inputs(calib_run *run, const fq_calibrate_options *options,
                            fq_calib_feed feed, void *user, fq_error *err)
{
    const fq_graph *g = run->graph;
    int runs = 0;
    bool more = true;
    while (options->max_inputs <= 0 || runs < options->max_inputs) {
        fq_status status = feed(user, runs, run->inputs, g->n_inputs, &more, err);
        if (status != FQ_OK)
            return status;
        if (!more)
            break;
        for (int i = 0; i < g->n_inputs && status == FQ_OK; i++)
            status = add_tensor(run, g->inputs[i], &run->inputs[i], err);
        if (status == FQ_OK)
            status = fq_session_run_observed(run->session, observe_node, run, err);
        if (status != FQ_OK)
            return fq_error_prefix(err, status, "calibration input %d", runs);
        run->stats->inputs_seen++;
        runs++;
    }
    if (runs == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "calibration needs at least one input; "
                            "none was given");
    return FQ_OK;
}

fq_status fq_calibrate(const fq_graph *graph, const fq_calibrate_options *options,
                       fq_calib_feed feed, void *user, fq_calib_stats **stats, fq_error *err)
{
    fq_calibrate_options defaults = {fq_session_options_default(), 0};
    const fq_calibrate_options *o = options != NULL ? options : &defaults;
    /* Statistics are taken of every node's output, so none may be left unwritten. */
    fq_session_options session = o->session;
    session.keep_intermediates = true;
    calib_run run = {graph, *stats, NULL, NULL, NULL};
    bool created = *stats == NULL;
    int count = 0;

    fq_status status = assign_slots(&run, &count, err);
    if (status == FQ_OK)
        status = created ? create_stats(&run, count, err) : check_stats(&run, count, err);
    if (status == FQ_OK)
        status = fq_session_create(graph, &session, &run.session, err);
    if (status == FQ_OK)
        status = bind_inputs(&run, err);
    if (status == FQ_OK)
        status = run_inputs(&run, o, feed, user, err);

    if (status == FQ_OK)
        *stats = run.stats;
    else if (created)
        fq_calib_stats_free(run.stats);
    run_free(&run);
    return status;
}
