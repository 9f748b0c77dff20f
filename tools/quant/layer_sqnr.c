/* Per-layer SQNR: the float activations of one run are kept (one buffer per compared value),
 * then the quantized run's u8 values are dequantized and compared as they are produced. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quant/layer_sqnr.h"

typedef struct layer {
    int fvalue;           /* value index in the float graph */
    int qvalue;           /* in the quantized graph */
    bool nhwc;            /* the quantized value is N, H, W, C of an N, C, H, W float value */
    int64_t numel;
    float *ref;           /* the float run's data */
    double signal;
    double noise;
} layer;

typedef struct sqnr_run {
    const fq_graph *fgraph;
    const fq_graph *qgraph;
    layer *layers;
    int n_layers;
    int *layer_of_f;      /* per float value: layer index or -1 */
    int *layer_of_q;
} sqnr_run;

static bool is_nhwc_of(const fq_shape *q, const fq_shape *f)
{
    return q->rank == 4 && f->rank == 4 && q->dims[0] == f->dims[0] &&
           q->dims[1] == f->dims[2] && q->dims[2] == f->dims[3] && q->dims[3] == f->dims[1];
}

/* The float value a quantized one stands for: the same name, or the name the quantizer gave it
 * with "_quantized" appended. */
static int float_twin(const fq_graph *f, const char *name)
{
    static const char suffix[] = "_quantized";
    int v = fq_graph_find_value(f, name);
    size_t len = strlen(name), n = sizeof(suffix) - 1;
    if (v >= 0 || len <= n || strcmp(name + len - n, suffix) != 0)
        return v;
    char base[512];
    if (len - n >= sizeof(base))
        return -1;
    memcpy(base, name, len - n);
    base[len - n] = '\0';
    return fq_graph_find_value(f, base);
}

static fq_status find_layers(sqnr_run *run, fq_error *err)
{
    const fq_graph *f = run->fgraph, *q = run->qgraph;
    run->layers = fq_calloc((size_t)q->n_values + 1, sizeof(layer));
    run->layer_of_f = fq_malloc(((size_t)f->n_values + 1) * sizeof(int));
    run->layer_of_q = fq_malloc(((size_t)q->n_values + 1) * sizeof(int));
    if (run->layers == NULL || run->layer_of_f == NULL || run->layer_of_q == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "layer SQNR: out of memory");
    for (int v = 0; v < f->n_values; v++)
        run->layer_of_f[v] = -1;
    for (int n = 0; n < q->n_nodes; n++) {
        for (int o = 0; o < q->nodes[n].n_outputs; o++) {
            int qv = q->nodes[n].outputs[o];
            run->layer_of_q[qv] = -1;
            const fq_value *value = &q->values[qv];
            if (value->dtype != FQ_DTYPE_U8 || value->quant.count != 1)
                continue;
            int fv = float_twin(f, value->name);
            /* the float run's values are seen as their nodes produce them */
            if (fv < 0 || f->values[fv].dtype != FQ_DTYPE_F32 || run->layer_of_f[fv] >= 0 ||
                fq_graph_producer(f, fv) < 0)
                continue;
            const fq_shape *fs = &f->values[fv].shape;
            bool same = fq_shape_equal(&value->shape, fs);
            if (!same && !is_nhwc_of(&value->shape, fs))
                continue;
            layer *l = &run->layers[run->n_layers];
            l->fvalue = fv;
            l->qvalue = qv;
            l->nhwc = !same;
            l->numel = fq_shape_numel(fs);
            l->ref = fq_malloc((size_t)l->numel * sizeof(float));
            if (l->ref == NULL)
                return fq_error_set(err, FQ_ERR_NO_MEMORY, "layer SQNR: out of memory for '%s'",
                                    value->name);
            run->layer_of_f[fv] = run->n_layers;
            run->layer_of_q[qv] = run->n_layers;
            run->n_layers++;
        }
    }
    return FQ_OK;
}

static fq_status observe_float(void *user, int node, const fq_tensor *outputs, int n_outputs,
                               fq_error *err)
{
    (void)err;
    sqnr_run *run = user;
    const fq_node *n = &run->fgraph->nodes[node];
    for (int o = 0; o < n_outputs && o < n->n_outputs; o++) {
        int l = run->layer_of_f[n->outputs[o]];
        if (l >= 0)
            memcpy(run->layers[l].ref, outputs[o].data,
                   (size_t)run->layers[l].numel * sizeof(float));
    }
    return FQ_OK;
}

static void compare(layer *l, const fq_value *qvalue, const uint8_t *q)
{
    float scale = qvalue->quant.scale[0];
    int32_t zp = qvalue->quant.zero_point[0];
    const fq_shape *s = &qvalue->shape;
    int64_t hw = l->nhwc ? s->dims[1] * s->dims[2] : 1, c = l->nhwc ? s->dims[3] : 1;
    for (int64_t i = 0; i < l->numel; i++) {
        int64_t j = i;
        if (l->nhwc) {
            /* element i of NCHW (n, ch, pixel) is NHWC (n, pixel, ch) */
            int64_t n = i / (c * hw), ch = (i / hw) % c, p = i % hw;
            j = (n * hw + p) * c + ch;
        }
        double dq = (double)scale * ((int32_t)q[j] - zp);
        double d = (double)l->ref[i] - dq;
        l->signal += (double)l->ref[i] * l->ref[i];
        l->noise += d * d;
    }
}

static fq_status observe_quantized(void *user, int node, const fq_tensor *outputs,
                                   int n_outputs, fq_error *err)
{
    (void)err;
    sqnr_run *run = user;
    const fq_node *n = &run->qgraph->nodes[node];
    for (int o = 0; o < n_outputs && o < n->n_outputs; o++) {
        int l = run->layer_of_q[n->outputs[o]];
        if (l >= 0)
            compare(&run->layers[l], &run->qgraph->values[n->outputs[o]], outputs[o].data);
    }
    return FQ_OK;
}

/* One input through both sessions. */
static fq_status run_one(sqnr_run *run, fq_session *fs, fq_session *qs, fq_calib_feed feed,
                         void *user, int index, bool *more, fq_error *err)
{
    int n_inputs = run->fgraph->n_inputs;
    fq_tensor inputs[8];
    if (n_inputs > 8)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "layer SQNR: more than 8 graph inputs");
    fq_status status = FQ_OK;
    for (int i = 0; i < n_inputs && status == FQ_OK; i++)
        status = fq_session_input(fs, i, &inputs[i], err);
    if (status == FQ_OK)
        status = feed(user, index, inputs, n_inputs, more, err);
    if (status != FQ_OK || !*more)
        return status;
    for (int i = 0; i < n_inputs && status == FQ_OK; i++) {
        size_t bytes = (size_t)fq_shape_numel(&inputs[i].shape) * fq_dtype_size(inputs[i].dtype);
        status = fq_session_set_input(qs, i, inputs[i].data, bytes, err);
    }
    if (status == FQ_OK)
        status = fq_session_run_observed(fs, observe_float, run, err);
    if (status == FQ_OK)
        status = fq_session_run_observed(qs, observe_quantized, run, err);
    return status;
}

static fq_status collect(sqnr_run *run, fq_layer_sqnr *out, fq_error *err)
{
    out->names = fq_calloc((size_t)run->n_layers + 1, sizeof(*out->names));
    out->sqnr_db = fq_calloc((size_t)run->n_layers + 1, sizeof(double));
    if (out->names == NULL || out->sqnr_db == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "layer SQNR: out of memory");
    for (int i = 0; i < run->n_layers; i++) {
        const layer *l = &run->layers[i];
        snprintf(out->names[i], sizeof(out->names[i]), "%s", run->fgraph->values[l->fvalue].name);
        out->sqnr_db[i] = l->noise > 0.0 ? 10.0 * log10(l->signal / l->noise) : 200.0;
    }
    out->n_layers = run->n_layers;
    return FQ_OK;
}

fq_status fq_tool_layer_sqnr(const fq_graph *reference, const fq_graph *quantized,
                             const fq_session_options *options, fq_calib_feed feed, void *user,
                             int max_inputs, fq_layer_sqnr *out, fq_error *err)
{
    memset(out, 0, sizeof(*out));
    sqnr_run run = {reference, quantized, NULL, 0, NULL, NULL};
    fq_session *fs = NULL, *qs = NULL;
    /* The observers read every layer's output, so no node may leave its output unwritten. */
    fq_session_options observed = options != NULL ? *options : fq_session_options_default();
    observed.keep_intermediates = true;
    fq_status status = find_layers(&run, err);
    if (status == FQ_OK)
        status = fq_session_create(reference, &observed, &fs, err);
    if (status == FQ_OK)
        status = fq_session_create(quantized, &observed, &qs, err);
    bool more = true;
    for (int i = 0; status == FQ_OK && more && (max_inputs <= 0 || i < max_inputs); i++)
        status = run_one(&run, fs, qs, feed, user, i, &more, err);
    if (status == FQ_OK)
        status = collect(&run, out, err);
    fq_session_free(qs);
    fq_session_free(fs);
    for (int i = 0; i < run.n_layers; i++)
        fq_free(run.layers[i].ref);
    fq_free(run.layers);
    fq_free(run.layer_of_f);
    fq_free(run.layer_of_q);
    if (status != FQ_OK)
        fq_tool_layer_sqnr_free(out);
    return status;
}

void fq_tool_layer_sqnr_free(fq_layer_sqnr *s)
{
    fq_free(s->names);
    fq_free(s->sqnr_db);
    memset(s, 0, sizeof(*s));
}
