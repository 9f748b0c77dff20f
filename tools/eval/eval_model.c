/* Loading the models fq bench, fq eval and fq compare measure. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/eval_model.h"
#include "fq_common.h"
#include "model_file.h"

#define DEFAULT_SIZE 640
#define EMBEDDING_MIN 16
#define EMBEDDING_MAX 65536

const char *fq_eval_kind_name(fq_eval_kind kind)
{
    switch (kind) {
    case FQ_EVAL_DETECTOR: return "detector";
    case FQ_EVAL_RECOGNIZER: return "recognizer";
    default: return "other";
    }
}

void fq_eval_model_free(fq_eval_model *model)
{
    fq_session_free(model->session);
    fq_graph_free(model->graph);
    memset(model, 0, sizeof(*model));
}

/* The file name without its folder and without .onnx or .fqm. */
static void model_stem(const char *path, char *stem, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && (strcmp(base + len - 5, ".onnx") == 0))
        len -= 5;
    else if (len > 4 && strcmp(base + len - 4, ".fqm") == 0)
        len -= 4;
    snprintf(stem, size, "%.*s", (int)len, base);
}

static bool last_dims_are(const fq_graph *graph, int from, int to, const int64_t *allowed,
                          int n_allowed)
{
    for (int i = from; i < to; i++) {
        const fq_shape *s = &graph->values[graph->outputs[i]].shape;
        bool ok = false;
        for (int k = 0; s->rank >= 2 && k < n_allowed; k++)
            ok = ok || s->dims[s->rank - 1] == allowed[k];
        if (!ok)
            return false;
    }
    return true;
}

/* SCRFD heads: 6 or 9 outputs ending in 1, 4 or 10; YuNet: 12 outputs, 6 of them ending in 1;
 * a recognizer: one output of EMBEDDING_MIN or more values. */
static fq_eval_kind infer_kind(const fq_graph *graph, fq_detector_family *family)
{
    static const int64_t scrfd_dims[] = {1, 4, 10};
    static const int64_t one[] = {1};
    int n = graph->n_outputs;
    *family = FQ_DETECTOR_SCRFD;
    if ((n == 6 || n == 9) && last_dims_are(graph, 0, n, scrfd_dims, 3))
        return FQ_EVAL_DETECTOR;
    int ones = 0;
    for (int i = 0; i < n; i++)
        ones += last_dims_are(graph, i, i + 1, one, 1);
    if (n == 12 && ones == 6) {
        *family = FQ_DETECTOR_YUNET;
        return FQ_EVAL_DETECTOR;
    }
    if (n == 1) {
        int64_t numel = fq_shape_numel(&graph->values[graph->outputs[0]].shape);
        if (numel >= EMBEDDING_MIN && numel <= EMBEDDING_MAX)
            return FQ_EVAL_RECOGNIZER;
    }
    return FQ_EVAL_OTHER;
}

/* "a,b,c" or "a" into three floats. */
static bool parse_triple(const char *text, float out[3])
{
    char tail;
    if (sscanf(text, "%f,%f,%f%c", &out[0], &out[1], &out[2], &tail) == 3)
        return true;
    if (sscanf(text, "%f%c", &out[0], &tail) != 1)
        return false;
    out[1] = out[2] = out[0];
    return true;
}

/* Overrides the card with the preprocessing keys the metadata holds; true when it held any. */
static bool apply_meta(fq_eval_model *m, const fq_fqm_meta *meta, int n)
{
    const char *role = fq_fqm_meta_find(meta, n, "role");
    const char *family = fq_fqm_meta_find(meta, n, "family");
    const char *color = fq_fqm_meta_find(meta, n, FQ_FQM_META_COLOR);
    const char *mean = fq_fqm_meta_find(meta, n, FQ_FQM_META_MEAN);
    const char *std = fq_fqm_meta_find(meta, n, FQ_FQM_META_STD);
    if (role != NULL && strcmp(role, "detector") == 0)
        m->kind = FQ_EVAL_DETECTOR;
    else if (role != NULL && strcmp(role, "recognizer") == 0)
        m->kind = FQ_EVAL_RECOGNIZER;
    if (family != NULL)
        m->card.family = strcmp(family, "yunet") == 0 ? FQ_DETECTOR_YUNET : FQ_DETECTOR_SCRFD;
    if (color != NULL)
        m->card.norm.bgr = strcmp(color, "bgr") == 0;
    float values[3];
    if (mean != NULL && parse_triple(mean, values))
        memcpy(m->card.norm.mean, values, sizeof(values));
    if (std != NULL && parse_triple(std, values))
        memcpy(m->card.norm.std, values, sizeof(values));
    return color != NULL || mean != NULL || std != NULL;
}

/* The card named by the metadata, else the card of the file's stem, else the defaults. */
static fq_status describe(fq_eval_model *m, const fq_fqm_meta *meta, int n_meta,
                          bool *card_found, fq_error *err)
{
    const char *named = fq_fqm_meta_find(meta, n_meta, FQ_FQM_META_CARD);
    char stem[256];
    model_stem(m->path, stem, sizeof(stem));
    fq_status status = FQ_OK;
    *card_found = false;
    if (named != NULL)
        status = fq_tool_find_card(named, &m->card, card_found, err);
    if (status == FQ_OK && !*card_found)
        status = fq_tool_find_card(stem, &m->card, card_found, err);
    if (status != FQ_OK)
        return status;

    fq_detector_family family;
    fq_eval_kind inferred = infer_kind(m->graph, &family);
    if (*card_found) {
        m->kind = m->card.role == FQ_ROLE_RECOGNIZER ? FQ_EVAL_RECOGNIZER : FQ_EVAL_DETECTOR;
        m->descriptor = "card";
    } else {
        m->kind = inferred;
        fq_model_card_defaults(inferred == FQ_EVAL_RECOGNIZER ? FQ_ROLE_RECOGNIZER
                                                              : FQ_ROLE_DETECTOR,
                               family, &m->card);
        m->descriptor = "defaults";
    }
    if (apply_meta(m, meta, n_meta))
        m->descriptor = "metadata";
    return FQ_OK;
}

static const fq_value *image_input(const fq_graph *graph)
{
    for (int i = 0; i < graph->n_inputs; i++) {
        const fq_value *v = &graph->values[graph->inputs[i]];
        if (v->shape.rank == 4)
            return v;
    }
    return NULL;
}

/* The size the passes fix an ONNX model at. */
static fq_input_size onnx_size(const fq_eval_model *m, const fq_input_size *asked,
                               bool card_found)
{
    if (asked->width > 0)
        return *asked;
    if (card_found && m->card.input_width > 0)
        return (fq_input_size){m->card.input_width, m->card.input_height, 1};
    const fq_value *in = image_input(m->graph);
    if (in != NULL && (in->shape.dims[2] < 0 || in->shape.dims[3] < 0))
        return (fq_input_size){DEFAULT_SIZE, DEFAULT_SIZE, 1};
    return (fq_input_size){0, 0, 0};
}

/* An .fqm graph is stored after the passes, at a fixed size. */
static fq_status check_fqm_size(const fq_eval_model *m, const fq_input_size *asked,
                                fq_error *err)
{
    const fq_value *in = image_input(m->graph);
    if (asked->width == 0 || in == NULL)
        return FQ_OK;
    if (in->shape.dims[3] != asked->width || in->shape.dims[2] != asked->height)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s is fixed at %lldx%lld; it cannot run "
                            "at %lldx%lld (convert the ONNX file again with --input-size)",
                            m->path, (long long)in->shape.dims[3], (long long)in->shape.dims[2],
                            (long long)asked->width, (long long)asked->height);
    return FQ_OK;
}

static void set_preprocess(fq_eval_model *m, const fq_fqm_meta *meta, int n_meta)
{
    fq_preprocess_from_card(&m->card, &m->pre);
    if (m->kind != FQ_EVAL_RECOGNIZER && m->pre.geometry == FQ_PREPROCESS_ALIGNED_FACE)
        m->pre.geometry = FQ_PREPROCESS_LETTERBOX;
    const char *resize = fq_fqm_meta_find(meta, n_meta, FQ_FQM_META_RESIZE);
    if (resize != NULL && strcmp(resize, "stretch") == 0)
        m->pre.geometry = FQ_PREPROCESS_RESIZE;
    const fq_value *in = image_input(m->graph);
    if (in != NULL) {
        m->pre.width = (int)in->shape.dims[3];
        m->pre.height = (int)in->shape.dims[2];
    }
    m->card.input_width = m->pre.width;
    m->card.input_height = m->pre.height;
}

static fq_status resolve_path(const char *name, fq_eval_model *m, fq_error *err)
{
    if (fq_tool_is_file(name)) {
        if (snprintf(m->path, sizeof(m->path), "%s", name) >= (int)sizeof(m->path))
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "model path too long");
    } else {
        fq_status status = fq_tool_find_model(name, m->path, sizeof(m->path), err);
        if (status != FQ_OK)
            return status;
    }
    struct stat st;
    m->file_bytes = stat(m->path, &st) == 0 ? (long long)st.st_size : -1;
    m->is_fqm = fq_tool_is_fqm_file(m->path);
    return FQ_OK;
}

static fq_status prepare(fq_eval_model *m, const fq_eval_load_options *opt,
                         const fq_fqm_meta *meta, int n_meta, fq_error *err)
{
    bool card_found;
    fq_status status = describe(m, meta, n_meta, &card_found, err);
    if (status == FQ_OK && m->is_fqm)
        status = check_fqm_size(m, &opt->size, err);
    fq_input_size size = onnx_size(m, &opt->size, card_found);
    if (status == FQ_OK && !m->is_fqm)
        status = fq_passes_run(m->graph, size.width > 0 ? &size : NULL, err);
    fq_session_options session = fq_session_options_default();
    session.threads = opt->threads;
    session.isa = opt->isa;
    session.fp16_arithmetic = opt->fp16_arithmetic;
    if (status == FQ_OK)
        status = fq_session_create(m->graph, &session, &m->session, err);
    if (status == FQ_OK)
        set_preprocess(m, meta, n_meta);
    return status;
}

fq_status fq_eval_model_load(const char *path_or_name, const fq_eval_load_options *options,
                             fq_eval_model *model, fq_error *err)
{
    memset(model, 0, sizeof(*model));
    fq_status status = resolve_path(path_or_name, model, err);
    if (status != FQ_OK)
        return status;

    fq_fqm_meta *meta = NULL;
    int n_meta = 0;
    double t0 = fq_tool_now_ms();
    status = fq_tool_read_model(model->path, &model->graph, &meta, &n_meta, err);
    model->read_ms = fq_tool_now_ms() - t0;
    if (status == FQ_OK)
        status = prepare(model, options, meta, n_meta, err);
    model->load_ms = fq_tool_now_ms() - t0;
    fq_fqm_meta_free(meta);
    if (status != FQ_OK) {
        char path[FQ_TOOL_PATH_SIZE];
        snprintf(path, sizeof(path), "%s", model->path);
        fq_eval_model_free(model);
        return fq_error_prefix(err, status, "%s", path);
    }
    return FQ_OK;
}

static fq_status check_values(const fq_eval_model *ref, const fq_eval_model *test,
                              const int *ref_ids, const int *test_ids, int n, const char *what,
                              const char *cmd, fq_error *err)
{
    for (int i = 0; i < n; i++) {
        const fq_value *a = &ref->graph->values[ref_ids[i]];
        const fq_value *b = &test->graph->values[test_ids[i]];
        if (a->dtype != b->dtype || !fq_shape_equal(&a->shape, &b->shape))
            return fq_error_set(err, FQ_ERR_SHAPE, "%s %d ('%s' of %s, '%s' of %s) differs in "
                                "dtype or shape", what, i, a->name, ref->path, b->name,
                                test->path);
        if (strcmp(what, "output") == 0 && a->dtype != FQ_DTYPE_F32)
            return fq_error_set(err, FQ_ERR_UNSUPPORTED, "output '%s' of %s is %s; only f32 "
                                "outputs are compared", a->name, ref->path,
                                fq_dtype_name(a->dtype));
        if (strcmp(a->name, b->name) != 0)
            fprintf(stderr, "fq %s: note: %s %d is '%s' in %s and '%s' in %s\n", cmd, what, i,
                    a->name, ref->path, b->name, test->path);
    }
    return FQ_OK;
}

fq_status fq_eval_check_same_io(const fq_eval_model *ref, const fq_eval_model *test,
                                const char *cmd, fq_error *err)
{
    const fq_graph *a = ref->graph, *b = test->graph;
    if (a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs)
        return fq_error_set(err, FQ_ERR_SHAPE, "%s has %d inputs and %d outputs, %s %d and %d; "
                            "the models must have the same graph inputs and outputs", ref->path,
                            a->n_inputs, a->n_outputs, test->path, b->n_inputs, b->n_outputs);
    fq_status status = check_values(ref, test, a->inputs, b->inputs, a->n_inputs, "input", cmd,
                                    err);
    if (status == FQ_OK)
        status = check_values(ref, test, a->outputs, b->outputs, a->n_outputs, "output", cmd,
                              err);
    return status;
}

static unsigned long long next_random(unsigned long long *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

fq_status fq_eval_fill_random(fq_eval_model *model, unsigned long long seed, fq_error *err)
{
    unsigned long long state = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < model->graph->n_inputs; i++) {
        fq_tensor t;
        fq_status status = fq_session_input(model->session, i, &t, err);
        if (status != FQ_OK)
            return status;
        int64_t n = fq_shape_numel(&t.shape);
        if (t.data == NULL || n < 0)
            return fq_error_set(err, FQ_ERR_INTERNAL, "input %d has no buffer", i);
        if (t.dtype != FQ_DTYPE_F32) {
            memset(t.data, 0, (size_t)n * fq_dtype_size(t.dtype));
            continue;
        }
        float *data = t.data;
        for (int64_t k = 0; k < n; k++)
            data[k] = (float)((next_random(&state) >> 40) / (double)(1 << 23)) - 1.0f;
    }
    return FQ_OK;
}

fq_status fq_eval_copy_inputs(const fq_eval_model *src, fq_eval_model *dst, fq_error *err)
{
    for (int i = 0; i < src->graph->n_inputs; i++) {
        fq_tensor t;
        fq_status status = fq_session_input(src->session, i, &t, err);
        int64_t n = fq_shape_numel(&t.shape);
        if (status == FQ_OK)
            status = fq_session_set_input(dst->session, i, t.data,
                                          (size_t)n * fq_dtype_size(t.dtype), err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

void fq_eval_saved_inputs_free(fq_eval_saved_inputs *saved)
{
    for (int i = 0; saved->data != NULL && i < saved->count; i++)
        fq_free(saved->data[i]);
    fq_free(saved->data);
    fq_free(saved->bytes);
    memset(saved, 0, sizeof(*saved));
}

fq_status fq_eval_save_inputs(const fq_eval_model *model, fq_eval_saved_inputs *saved,
                              fq_error *err)
{
    int n = model->graph->n_inputs;
    memset(saved, 0, sizeof(*saved));
    saved->data = fq_calloc((size_t)n + 1, sizeof(void *));
    saved->bytes = fq_calloc((size_t)n + 1, sizeof(size_t));
    if (saved->data == NULL || saved->bytes == NULL) {
        fq_eval_saved_inputs_free(saved);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to keep %d inputs", n);
    }
    saved->count = n;
    for (int i = 0; i < n; i++) {
        fq_tensor t;
        fq_status status = fq_session_input(model->session, i, &t, err);
        size_t bytes = (size_t)fq_shape_numel(&t.shape) * fq_dtype_size(t.dtype);
        if (status == FQ_OK && (saved->data[i] = fq_malloc(bytes + 1)) == NULL)
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to keep input %d", i);
        if (status != FQ_OK) {
            fq_eval_saved_inputs_free(saved);
            return status;
        }
        memcpy(saved->data[i], t.data, bytes);
        saved->bytes[i] = bytes;
    }
    return FQ_OK;
}

fq_status fq_eval_restore_inputs(const fq_eval_saved_inputs *saved, fq_eval_model *model,
                                 fq_error *err)
{
    if (saved->count != model->graph->n_inputs)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%d saved inputs for a model with %d",
                            saved->count, model->graph->n_inputs);
    for (int i = 0; i < saved->count; i++) {
        fq_status status = fq_session_set_input(model->session, i, saved->data[i],
                                                saved->bytes[i], err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

fq_status fq_eval_detect(const fq_eval_model *model, fq_face **faces, int *count,
                         fq_error *err)
{
    int n = model->graph->n_outputs;
    *faces = NULL;
    *count = 0;
    fq_tensor *outputs = fq_calloc((size_t)n + 1, sizeof(fq_tensor));
    if (outputs == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d outputs", n);
    fq_status status = FQ_OK;
    for (int i = 0; i < n && status == FQ_OK; i++)
        status = fq_session_output(model->session, i, &outputs[i], err);

    const fq_model_card *card = &model->card;
    if (status == FQ_OK)
        status = fq_detect_decode(card->family, outputs, n, model->pre.width, model->pre.height,
                                  card->score_threshold, faces, count, err);
    fq_free(outputs);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s: decoding the faces", model->path);
    *count = fq_nms(*faces, *count, card->nms_threshold, card->family == FQ_DETECTOR_SCRFD, 0);
    return FQ_OK;
}
