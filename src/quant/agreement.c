/* What quantization costs, measured: output agreement of a quantized graph with its float graph,
 * per-node sensitivity, and quantization to a target output cosine with the fewest nodes kept
 * float. */
#include <math.h>
#include <string.h>

#include "facequant/alloc.h"
#include "quant/quantize_internal.h"

typedef struct pair_run {
    fq_session *reference;
    fq_session *test;
    fq_tensor *inputs;  /* the reference session's inputs, which the feed fills */
    int n_inputs;
    int *test_input;    /* per reference input: the test session's input of that name */
    int *test_output;   /* per reference output: the test session's output of that name */
} pair_run;

static void pair_free(pair_run *run)
{
    fq_session_free(run->reference);
    fq_session_free(run->test);
    fq_free(run->inputs);
    fq_free(run->test_input);
    fq_free(run->test_output);
}

static fq_status match_names(pair_run *run, const fq_graph *reference, fq_error *err)
{
    run->n_inputs = reference->n_inputs;
    run->inputs = fq_calloc((size_t)reference->n_inputs + 1, sizeof(fq_tensor));
    run->test_input = fq_calloc((size_t)reference->n_inputs + 1, sizeof(int));
    run->test_output = fq_calloc((size_t)reference->n_outputs + 1, sizeof(int));
    if (run->inputs == NULL || run->test_input == NULL || run->test_output == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "agreement: out of memory");
    for (int i = 0; i < reference->n_inputs; i++) {
        const char *name = reference->values[reference->inputs[i]].name;
        run->test_input[i] = fq_session_input_index(run->test, name);
        if (run->test_input[i] < 0)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "agreement: the test graph has no "
                                "input '%s'", name);
        fq_status status = fq_session_input(run->reference, i, &run->inputs[i], err);
        if (status != FQ_OK)
            return status;
    }
    for (int i = 0; i < reference->n_outputs; i++) {
        const char *name = reference->values[reference->outputs[i]].name;
        run->test_output[i] = fq_session_output_index(run->test, name);
        if (run->test_output[i] < 0)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "agreement: the test graph has no "
                                "output '%s'", name);
    }
    return FQ_OK;
}

static fq_status copy_inputs(pair_run *run, fq_error *err)
{
    for (int i = 0; i < run->n_inputs; i++) {
        const fq_tensor *t = &run->inputs[i];
        size_t bytes = (size_t)fq_shape_numel(&t->shape) * fq_dtype_size(t->dtype);
        fq_status status = fq_session_set_input(run->test, run->test_input[i], t->data, bytes,
                                                err);
        if (status != FQ_OK)
            return fq_error_prefix(err, status, "agreement: input %d", i);
    }
    return FQ_OK;
}

/* Sums over the outputs of one input. */
typedef struct output_sums {
    double dot;
    double ref_sq;
    double test_sq;
    double err_sq;
    double max_abs;
} output_sums;

static fq_status compare_output(const pair_run *run, const fq_graph *reference, int i,
                                output_sums *sums, fq_error *err)
{
    fq_tensor ref, test;
    fq_status status = fq_session_output(run->reference, i, &ref, err);
    if (status == FQ_OK)
        status = fq_session_output(run->test, run->test_output[i], &test, err);
    if (status != FQ_OK)
        return status;
    const char *name = reference->values[reference->outputs[i]].name;
    int64_t count = fq_shape_numel(&ref.shape);
    if (ref.dtype != FQ_DTYPE_F32 || test.dtype != FQ_DTYPE_F32 ||
        count != fq_shape_numel(&test.shape) || count < 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "agreement: output '%s' differs in dtype "
                            "or size between the graphs, or is not f32", name);
    const float *r = ref.data;
    const float *t = test.data;
    for (int64_t k = 0; k < count; k++) {
        double d = (double)r[k] - (double)t[k];
        sums->dot += (double)r[k] * t[k];
        sums->ref_sq += (double)r[k] * r[k];
        sums->test_sq += (double)t[k] * t[k];
        sums->err_sq += d * d;
        sums->max_abs = fmax(sums->max_abs, fabs(d));
    }
    return FQ_OK;
}

static double cosine_of(const output_sums *s)
{
    if (s->ref_sq == 0.0 && s->test_sq == 0.0)
        return 1.0;
    if (s->ref_sq == 0.0 || s->test_sq == 0.0)
        return 0.0;
    return s->dot / (sqrt(s->ref_sq) * sqrt(s->test_sq));
}

static fq_status run_pairs(pair_run *run, const fq_graph *reference, fq_calib_feed feed,
                           void *user, int max_inputs, fq_output_agreement *out, fq_error *err)
{
    double cosine_sum = 0.0, ref_total = 0.0, err_total = 0.0;
    out->cosine_min = 1.0;
    bool more = true;
    while (max_inputs <= 0 || out->inputs < max_inputs) {
        fq_status status = feed(user, out->inputs, run->inputs, run->n_inputs, &more, err);
        if (status == FQ_OK && more)
            status = copy_inputs(run, err);
        if (status == FQ_OK && more)
            status = fq_session_run(run->reference, err);
        if (status == FQ_OK && more)
            status = fq_session_run(run->test, err);
        if (status != FQ_OK)
            return status;
        if (!more)
            break;
        output_sums sums = {0};
        for (int i = 0; i < reference->n_outputs && status == FQ_OK; i++)
            status = compare_output(run, reference, i, &sums, err);
        if (status != FQ_OK)
            return status;
        double cosine = cosine_of(&sums);
        cosine_sum += cosine;
        out->cosine_min = fmin(out->cosine_min, cosine);
        out->max_abs_error = fmax(out->max_abs_error, sums.max_abs);
        ref_total += sums.ref_sq;
        err_total += sums.err_sq;
        out->inputs++;
    }
    if (out->inputs == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "agreement: the feed gave no input (a "
                            "feed must give input 0, 1, ... again on every pass)");
    out->cosine_mean = cosine_sum / out->inputs;
    out->sqnr_db = err_total > 0.0 ? 10.0 * log10(ref_total / err_total) : INFINITY;
    return FQ_OK;
}

fq_status fq_measure_agreement(const fq_graph *reference, const fq_graph *test,
                               const fq_session_options *session, fq_calib_feed feed, void *user,
                               int max_inputs, fq_output_agreement *out, fq_error *err)
{
    memset(out, 0, sizeof(*out));
    pair_run run;
    memset(&run, 0, sizeof(run));
    fq_status status = fq_session_create(reference, session, &run.reference, err);
    if (status == FQ_OK)
        status = fq_session_create(test, session, &run.test, err);
    if (status == FQ_OK)
        status = match_names(&run, reference, err);
    if (status == FQ_OK)
        status = run_pairs(&run, reference, feed, user, max_inputs, out, err);
    pair_free(&run);
    return status;
}

/* ---- sensitivity ---- */

void fq_sensitivity_free(fq_sensitivity *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->n_entries; i++)
        fq_free(s->entries[i].node);
    fq_free(s->entries);
    fq_free(s);
}

/* The nodes a sensitivity run quantizes one at a time: the op types with an int8 form of their
 * own (a node of them that the rewrite keeps float even alone gets no entry). */
static bool is_candidate(const fq_node *node)
{
    static const char *const ops[] = {"Conv", "Add", "AveragePool", "GlobalAveragePool"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(node->op_type, ops[i]) == 0)
            return true;
    return false;
}

/* Names: the caller's keep_float list followed by room for the candidates. */
typedef struct keep_list {
    const char **names;
    int n_fixed;
    int n;
} keep_list;

static fq_status keep_list_init(keep_list *k, const fq_graph *graph,
                                const fq_quantize_options *options, fq_error *err)
{
    memset(k, 0, sizeof(*k));
    k->names = fq_calloc((size_t)options->n_keep_float + (size_t)graph->n_nodes + 1,
                         sizeof(char *));
    if (k->names == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "sensitivity: out of memory");
    for (int i = 0; i < options->n_keep_float; i++)
        k->names[i] = options->keep_float[i];
    k->n_fixed = options->n_keep_float;
    k->n = k->n_fixed;
    return FQ_OK;
}

static fq_status quantize_and_measure(const fq_graph *graph, const fq_quantize_options *options,
                                      const keep_list *keep, const fq_session_options *session,
                                      fq_calib_feed feed, void *user, int max_inputs,
                                      fq_output_agreement *agreement, fq_graph **kept_graph,
                                      fq_quantize_report **report, fq_error *err)
{
    fq_quantize_options o = *options;
    o.keep_float = keep->names;
    o.n_keep_float = keep->n;
    fq_graph *q = NULL;
    fq_quantize_report *r = NULL;
    fq_status status = fq_quantize(graph, &o, &q, report != NULL ? &r : NULL, err);
    if (status == FQ_OK)
        status = fq_measure_agreement(graph, q, session, feed, user, max_inputs, agreement, err);
    if (status == FQ_OK && kept_graph != NULL) {
        *kept_graph = q;
        q = NULL;
    }
    if (status == FQ_OK && report != NULL) {
        *report = r;
        r = NULL;
    }
    fq_graph_free(q);
    fq_quantize_report_free(r);
    return status;
}

static bool report_says_i8(const fq_quantize_report *report, const char *node)
{
    for (int i = 0; i < report->n_nodes; i++)
        if (strcmp(report->nodes[i].node, node) == 0)
            return report->nodes[i].precision == FQ_DTYPE_I8;
    return false;
}

/* Quantizes with every candidate but `node` kept float and measures the result, unless `node`
 * has no int8 form even alone (an Add of a constant, a Conv with a fused PRelu):
 * *quantized then stays false and nothing is run. */
static fq_status measure_alone(const fq_graph *graph, const fq_quantize_options *options,
                               const keep_list *keep, const char *node,
                               const fq_session_options *session, fq_calib_feed feed,
                               void *user, int max_inputs, fq_output_agreement *agreement,
                               bool *quantized, fq_error *err)
{
    fq_quantize_options o = *options;
    o.keep_float = keep->names;
    o.n_keep_float = keep->n;
    fq_graph *q = NULL;
    fq_quantize_report *r = NULL;
    fq_status status = fq_quantize(graph, &o, &q, &r, err);
    *quantized = status == FQ_OK && report_says_i8(r, node);
    if (*quantized)
        status = fq_measure_agreement(graph, q, session, feed, user, max_inputs, agreement, err);
    fq_graph_free(q);
    fq_quantize_report_free(r);
    return status;
}

static int count_candidates(const fq_graph *graph, const fq_quantize_options *options)
{
    int count = 0;
    for (int n = 0; n < graph->n_nodes; n++)
        if (is_candidate(&graph->nodes[n]) && !fq_quant_keep_float(options, graph->nodes[n].name))
            count++;
    return count;
}

/* Fills keep with every candidate but `alone` (a node index, or -1 for all of them). */
static void keep_all_candidates_but(keep_list *keep, const fq_graph *graph,
                                    const fq_quantize_options *options, int alone)
{
    keep->n = keep->n_fixed;
    for (int n = 0; n < graph->n_nodes; n++)
        if (n != alone && is_candidate(&graph->nodes[n]) &&
            !fq_quant_keep_float(options, graph->nodes[n].name))
            keep->names[keep->n++] = graph->nodes[n].name;
}

fq_status fq_quantize_sensitivity(const fq_graph *graph, const fq_quantize_options *options,
                                  const fq_session_options *session, fq_calib_feed feed,
                                  void *user, int max_inputs, fq_sensitivity **out,
                                  fq_error *err)
{
    *out = NULL;
    keep_list keep;
    fq_status status = keep_list_init(&keep, graph, options, err);
    if (status != FQ_OK)
        return status;
    fq_sensitivity *s = fq_calloc(1, sizeof(*s));
    int count = count_candidates(graph, options);
    if (s != NULL)
        s->entries = fq_calloc((size_t)count + 1, sizeof(*s->entries));
    if (s == NULL || s->entries == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "sensitivity: out of memory");

    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++) {
        const fq_node *node = &graph->nodes[n];
        if (!is_candidate(node) || fq_quant_keep_float(options, node->name))
            continue;
        fq_sensitivity_entry *entry = &s->entries[s->n_entries];
        bool quantized = false;
        keep_all_candidates_but(&keep, graph, options, n);
        status = measure_alone(graph, options, &keep, node->name, session, feed, user,
                               max_inputs, &entry->agreement, &quantized, err);
        if (status != FQ_OK) {
            status = fq_error_prefix(err, status, "sensitivity of node '%s'", node->name);
            break;
        }
        if (!quantized)
            continue;
        entry->node = fq_strdup(node->name);
        s->n_entries++;
        if (entry->node == NULL)
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "sensitivity: out of memory");
    }
    fq_free(keep.names);
    if (status != FQ_OK) {
        fq_sensitivity_free(s);
        return status;
    }
    *out = s;
    return FQ_OK;
}

/* ---- to a target ---- */

/* Entry indices, most sensitive (lowest mean cosine) first, graph order among equals
 * (insertion sort: the lists are a model's layers). */
static fq_status sensitivity_order(const fq_sensitivity *s, int **order, fq_error *err)
{
    int *o = fq_malloc(((size_t)s->n_entries + 1) * sizeof(int));
    if (o == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize to target: out of memory");
    for (int i = 0; i < s->n_entries; i++) {
        double cosine = s->entries[i].agreement.cosine_mean;
        int j = i;
        while (j > 0 && s->entries[o[j - 1]].agreement.cosine_mean > cosine) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = i;
    }
    *order = o;
    return FQ_OK;
}

/* Tries 0, 1, 2, ... of the most sensitive nodes kept float until the target holds. */
static fq_status search_kept(const fq_graph *graph, const fq_quantize_options *options,
                             const fq_session_options *session, fq_calib_feed feed, void *user,
                             int max_inputs, double target, const fq_sensitivity *s,
                             const int *order, fq_graph **out, fq_quantize_report **report,
                             int *kept, fq_error *err)
{
    keep_list keep;
    fq_status status = keep_list_init(&keep, graph, options, err);
    for (int k = 0; k < s->n_entries && status == FQ_OK; k++) {
        keep.n = keep.n_fixed + k;
        if (k > 0)
            keep.names[keep.n - 1] = s->entries[order[k - 1]].node;
        fq_output_agreement agreement;
        fq_graph *q = NULL;
        fq_quantize_report *r = NULL;
        status = quantize_and_measure(graph, options, &keep, session, feed, user, max_inputs,
                                      &agreement, &q, &r, err);
        if (status == FQ_OK && agreement.cosine_mean >= target) {
            *out = q;
            *kept = k;
            if (report != NULL)
                *report = r;
            else
                fq_quantize_report_free(r);
            fq_free(keep.names);
            return FQ_OK;
        }
        fq_graph_free(q);
        fq_quantize_report_free(r);
    }
    fq_free(keep.names);
    if (status != FQ_OK)
        return status;
    return fq_error_set(err, FQ_ERR_INVALID_ARG, "quantize to target: a mean output cosine of "
                        "%.6f needs every one of the %d quantizable nodes kept float", target,
                        s->n_entries);
}

fq_status fq_quantize_to_target(const fq_graph *graph, const fq_quantize_options *options,
                                const fq_session_options *session, fq_calib_feed feed,
                                void *user, int max_inputs, double target_cosine,
                                fq_graph **out, fq_quantize_report **report, int *kept,
                                fq_error *err)
{
    *out = NULL;
    if (report != NULL)
        *report = NULL;
    *kept = 0;
    fq_sensitivity *s = NULL;
    int *order = NULL;
    fq_status status = fq_quantize_sensitivity(graph, options, session, feed, user, max_inputs,
                                               &s, err);
    if (status == FQ_OK)
        status = sensitivity_order(s, &order, err);
    if (status == FQ_OK)
        status = search_kept(graph, options, session, feed, user, max_inputs, target_cosine, s,
                             order, out, report, kept, err);
    fq_free(order);
    fq_sensitivity_free(s);
    return status;
}
