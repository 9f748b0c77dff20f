/* The model registry: variant files, graphs loaded once, sessions leased to requests. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "model_file.h"
#include "serve_models.h"

#define DEFAULT_DETECTOR_SIDE 640
#define DEFAULT_RECOGNIZER_SIDE 112
#define MAX_EMBEDDING 65536

struct serve_registry {
    pthread_mutex_t lock;   /* guards the list and every model's idle sessions and users */
    serve_model *models;
};

static const char *const variant_names[SERVE_VARIANT_COUNT] = {"fp32", "fp16", "int8",
                                                               "dynamic"};

const char *serve_variant_name(serve_variant variant)
{
    return variant >= 0 && variant < SERVE_VARIANT_COUNT ? variant_names[variant] : "?";
}

bool serve_variant_parse(const char *text, serve_variant *variant)
{
    for (int i = 0; i < SERVE_VARIANT_COUNT; i++) {
        if (strcmp(text, variant_names[i]) == 0) {
            *variant = (serve_variant)i;
            return true;
        }
    }
    return false;
}

fq_status serve_registry_create(serve_registry **out, fq_error *err)
{
    serve_registry *registry = fq_calloc(1, sizeof(*registry));
    if (registry == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for the model registry");
    if (pthread_mutex_init(&registry->lock, NULL) != 0) {
        fq_free(registry);
        return fq_error_set(err, FQ_ERR_INTERNAL, "cannot create the registry's mutex");
    }
    *out = registry;
    return FQ_OK;
}

static void model_free(serve_model *model)
{
    for (int i = 0; i < model->n_idle; i++)
        fq_session_free(model->idle[i]);
    fq_graph_free(model->graph);
    fq_free(model);
}

void serve_registry_free(serve_registry *registry)
{
    if (registry == NULL)
        return;
    serve_model *model = registry->models;
    while (model != NULL) {
        serve_model *next = model->next;
        model_free(model);
        model = next;
    }
    pthread_mutex_destroy(&registry->lock);
    fq_free(registry);
}

static bool strip_suffix(char *text, const char *suffix)
{
    size_t n = strlen(text), k = strlen(suffix);
    if (n <= k || strcmp(text + n - k, suffix) != 0)
        return false;
    text[n - k] = '\0';
    return true;
}

void serve_base_stem(const char *path, char *stem, size_t size, serve_variant *variant)
{
    const char *slash = strrchr(path, '/');
    snprintf(stem, size, "%s", slash != NULL ? slash + 1 : path);
    if (variant != NULL)
        *variant = SERVE_FP32;
    if (strip_suffix(stem, ".onnx") || !strip_suffix(stem, ".fqm"))
        return;
    char suffix[16];
    for (int i = 1; i < SERVE_VARIANT_COUNT; i++) {
        snprintf(suffix, sizeof(suffix), ".%s", variant_names[i]);
        if (strip_suffix(stem, suffix)) {
            if (variant != NULL)
                *variant = (serve_variant)i;
            return;
        }
    }
}

static bool file_in(const char *dir, const char *file, char *path, size_t size)
{
    return fq_tool_join_path(dir, file, path, size) && fq_tool_is_file(path);
}

bool serve_variant_path(const serve_server *server, const char *stem, serve_variant variant,
                        char *path, size_t size)
{
    const char *models = server->models_real, *work = server->work_real;
    char file[300];
    if (variant == SERVE_FP32) {
        snprintf(file, sizeof(file), "%s.onnx", stem);
        if (file_in(models, file, path, size))
            return true;
        snprintf(file, sizeof(file), "%s.fqm", stem);
        return file_in(work, file, path, size) || file_in(models, file, path, size);
    }
    snprintf(file, sizeof(file), "%s.%s.fqm", stem, serve_variant_name(variant));
    return file_in(work, file, path, size) || file_in(models, file, path, size);
}

void serve_variant_list(const serve_server *server, const char *stem, char *out, size_t size)
{
    char path[FQ_TOOL_PATH_SIZE];
    out[0] = '\0';
    for (int i = 0; i < SERVE_VARIANT_COUNT; i++) {
        if (!serve_variant_path(server, stem, (serve_variant)i, path, sizeof(path)))
            continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", used > 0 ? ", " : "", variant_names[i]);
    }
    if (out[0] == '\0')
        snprintf(out, size, "none");
}

/* YuNet lists 12 outputs, 6 of them [.., 1]; SCRFD one [.., 1] per stride. */
static fq_detector_family infer_family(const fq_graph *graph)
{
    int ones = 0;
    for (int i = 0; i < graph->n_outputs; i++) {
        const fq_shape *s = &graph->values[graph->outputs[i]].shape;
        ones += s->rank >= 2 && s->dims[s->rank - 1] == 1;
    }
    return graph->n_outputs == 12 && ones == 6 ? FQ_DETECTOR_YUNET : FQ_DETECTOR_SCRFD;
}

/* The stem's card, else the defaults of the role its outputs suggest. */
static fq_status model_card(serve_model *model, fq_error *err)
{
    bool found = false;
    fq_status status = fq_tool_find_card(model->stem, &model->card, &found, err);
    if (status != FQ_OK || found)
        return status;
    fq_model_role role = model->graph->n_outputs == 1 ? FQ_ROLE_RECOGNIZER : FQ_ROLE_DETECTOR;
    fq_model_card_defaults(role, infer_family(model->graph), &model->card);
    snprintf(model->card.name, sizeof(model->card.name), "%.63s", model->stem);
    return FQ_OK;
}

static const fq_value *image_input(const fq_graph *graph)
{
    if (graph->n_inputs != 1)
        return NULL;
    const fq_value *in = &graph->values[graph->inputs[0]];
    if (in->dtype != FQ_DTYPE_F32 || in->shape.rank != 4 || in->shape.dims[1] != 3)
        return NULL;
    return in;
}

/* ONNX files go through the passes at the file's fixed size, else the card's, else the
 * default; .fqm files were passed when they were written. */
static fq_status prepare_graph(serve_model *model, bool is_fqm, fq_error *err)
{
    const fq_value *in = image_input(model->graph);
    if (in == NULL)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: not a face model (one f32 input "
                            "[N, 3, H, W])", model->path);
    if (is_fqm)
        return FQ_OK;

    int64_t width = in->shape.dims[3], height = in->shape.dims[2];
    if (width <= 0 || height <= 0) {
        width = model->card.input_width;
        height = model->card.input_height;
    }
    if (width <= 0 || height <= 0)
        width = height = model->card.role == FQ_ROLE_DETECTOR ? DEFAULT_DETECTOR_SIDE
                                                               : DEFAULT_RECOGNIZER_SIDE;
    fq_input_size size = {width, height, 1};
    return fq_passes_run(model->graph, &size, err);
}

static fq_status check_shapes(serve_model *model, fq_error *err)
{
    const fq_value *in = image_input(model->graph);
    int64_t width = in->shape.dims[3], height = in->shape.dims[2];
    if (width < 1 || height < 1 || width > FQ_IMAGE_MAX_SIDE || height > FQ_IMAGE_MAX_SIDE)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: input size %lldx%lld is not fixed",
                            model->path, (long long)width, (long long)height);
    model->card.input_width = (int)width;
    model->card.input_height = (int)height;
    if (model->card.role == FQ_ROLE_DETECTOR)
        return FQ_OK;

    const fq_value *out = &model->graph->values[model->graph->outputs[0]];
    int64_t n = fq_shape_numel(&out->shape);
    if (model->graph->n_outputs < 1 || out->dtype != FQ_DTYPE_F32 || n < 1 || n > MAX_EMBEDDING)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: the first output is no f32 embedding",
                            model->path);
    if (width != height)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: recognizer input %lldx%lld is not "
                            "square", model->path, (long long)width, (long long)height);
    model->card.embedding_size = (int)n;
    return FQ_OK;
}

static fq_status model_load(const char *path, serve_model **out, fq_error *err)
{
    serve_model *model = fq_calloc(1, sizeof(*model));
    if (model == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to load %s", path);
    snprintf(model->path, sizeof(model->path), "%s", path);
    serve_base_stem(path, model->stem, sizeof(model->stem), NULL);

    struct stat st;
    bool is_fqm = fq_tool_is_fqm_file(path);
    fq_status status = stat(path, &st) == 0 ? FQ_OK
                                             : fq_error_set(err, FQ_ERR_IO, "%s is gone", path);
    if (status == FQ_OK)
        status = fq_tool_read_model(path, &model->graph, NULL, NULL, err);
    if (status == FQ_OK)
        status = model_card(model, err);
    if (status == FQ_OK)
        status = prepare_graph(model, is_fqm, err);
    if (status == FQ_OK)
        status = check_shapes(model, err);
    if (status != FQ_OK) {
        model_free(model);
        return status;
    }
    model->device = st.st_dev;
    model->inode = st.st_ino;
    model->mtime = st.st_mtim;
    model->size = st.st_size;
    fprintf(stderr, "fq serve: loaded %s (%dx%d)\n", path, model->card.input_width,
            model->card.input_height);
    *out = model;
    return FQ_OK;
}

static bool same_file(const serve_model *model, const struct stat *st)
{
    return model->device == st->st_dev && model->inode == st->st_ino &&
           model->size == st->st_size && model->mtime.tv_sec == st->st_mtim.tv_sec &&
           model->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Takes a retired model out of the list; frees it when no request holds it. */
static void retire(serve_registry *registry, serve_model *model)
{
    serve_model **link = &registry->models;
    while (*link != NULL && *link != model)
        link = &(*link)->next;
    if (*link == model)
        *link = model->next;
    model->retired = true;
    if (model->users == 0)
        model_free(model);
}

/* The loaded model of path, loading it when it is new or its file changed. Under the lock. */
static fq_status find_or_load(serve_registry *registry, const char *path, serve_model **out,
                              fq_error *err)
{
    struct stat st;
    bool exists = stat(path, &st) == 0;
    for (serve_model *m = registry->models; m != NULL; m = m->next) {
        if (strcmp(m->path, path) != 0)
            continue;
        if (exists && same_file(m, &st)) {
            *out = m;
            return FQ_OK;
        }
        retire(registry, m);
        break;
    }
    fq_status status = model_load(path, out, err);
    if (status == FQ_OK) {
        (*out)->next = registry->models;
        registry->models = *out;
    }
    return status;
}

static bool lease_session(serve_registry *registry, serve_lease *lease, serve_answer *answer)
{
    serve_model *model = lease->model;
    if (lease->session != NULL)
        return true;
    fq_error err = {0};
    fq_session_options options = fq_session_options_default();
    fq_status status = fq_session_create(model->graph, &options, &lease->session, &err);
    if (status == FQ_OK)
        return true;

    pthread_mutex_lock(&registry->lock);
    model->users--;
    if (model->retired && model->users == 0)
        model_free(model);
    pthread_mutex_unlock(&registry->lock);
    lease->model = NULL;
    return serve_answer_error(answer, 500, "cannot plan a session of %s: %s", model->path,
                              err.message);
}

bool serve_model_lease(serve_server *server, const char *stem, serve_variant variant,
                       fq_model_role role, serve_lease *lease, serve_answer *answer)
{
    char path[FQ_TOOL_PATH_SIZE], list[128];
    lease->model = NULL;
    lease->session = NULL;
    if (!serve_variant_path(server, stem, variant, path, sizeof(path))) {
        serve_variant_list(server, stem, list, sizeof(list));
        return serve_answer_error(answer, 404, "model %s has no %s variant; variants that "
                                  "exist: %s", stem, serve_variant_name(variant), list);
    }

    serve_registry *registry = server->registry;
    fq_error err = {0};
    pthread_mutex_lock(&registry->lock);
    serve_model *model = NULL;
    fq_status status = find_or_load(registry, path, &model, &err);
    bool role_ok = status == FQ_OK && model->card.role == role;
    if (role_ok) {
        model->users++;
        if (model->n_idle > 0)
            lease->session = model->idle[--model->n_idle];
        lease->model = model;
    }
    pthread_mutex_unlock(&registry->lock);

    if (status != FQ_OK)
        return serve_answer_error(answer, serve_status_of(status) == 400 ? 400 : 500,
                                  "cannot load %s: %s", path, err.message);
    if (!role_ok)
        return serve_answer_error(answer, 400, "%s is a %s, not a %s", path,
                                  model->card.role == FQ_ROLE_DETECTOR ? "detector"
                                                                       : "recognizer",
                                  role == FQ_ROLE_DETECTOR ? "detector" : "recognizer");
    return lease_session(registry, lease, answer);
}

void serve_model_return(serve_server *server, serve_lease *lease)
{
    serve_registry *registry = server->registry;
    serve_model *model = lease->model;
    if (model == NULL)
        return;
    pthread_mutex_lock(&registry->lock);
    if (!model->retired && model->n_idle < SERVE_MAX_IDLE_SESSIONS)
        model->idle[model->n_idle++] = lease->session;
    else
        fq_session_free(lease->session);
    model->users--;
    if (model->retired && model->users == 0)
        model_free(model);
    pthread_mutex_unlock(&registry->lock);
    lease->model = NULL;
    lease->session = NULL;
}

/* The entry of stem in list, added (with its role from its card) when new. */
static cJSON *model_entry(cJSON *list, const char *stem)
{
    cJSON *entry;
    cJSON_ArrayForEach(entry, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
        if (cJSON_IsString(name) && strcmp(name->valuestring, stem) == 0)
            return entry;
    }
    entry = cJSON_CreateObject();
    if (entry == NULL)
        return NULL;
    if (!cJSON_AddItemToArray(list, entry)) {
        cJSON_Delete(entry);
        return NULL;
    }

    fq_model_card card;
    bool found = false;
    const char *role = NULL;
    if (fq_tool_find_card(stem, &card, &found, NULL) == FQ_OK && found)
        role = card.role == FQ_ROLE_DETECTOR ? "detector" : "recognizer";
    bool ok = cJSON_AddStringToObject(entry, "name", stem) != NULL &&
              (role != NULL ? cJSON_AddStringToObject(entry, "role", role)
                            : cJSON_AddNullToObject(entry, "role")) != NULL &&
              cJSON_AddObjectToObject(entry, "variants") != NULL;
    return ok ? entry : NULL;
}

/* Adds the model files of dir; false when out of memory. */
static bool add_models_of(const serve_server *server, const char *dir, cJSON *list)
{
    char **files;
    int n;
    if (fq_tool_list_dir(dir, false, &files, &n, NULL) != FQ_OK)
        return true;
    bool ok = true;
    char stem[256], path[FQ_TOOL_PATH_SIZE];
    for (int i = 0; ok && i < n; i++) {
        size_t len = strlen(files[i]);
        bool model = (len > 5 && strcmp(files[i] + len - 5, ".onnx") == 0) ||
                     (len > 4 && strcmp(files[i] + len - 4, ".fqm") == 0);
        serve_variant variant;
        serve_base_stem(files[i], stem, sizeof(stem), &variant);
        /* Listed are the files a lease would take: the first of each variant's lookup. */
        if (!model || !serve_variant_path(server, stem, variant, path, sizeof(path)))
            continue;
        cJSON *entry = model_entry(list, stem);
        cJSON *variants = entry != NULL ? cJSON_GetObjectItem(entry, "variants") : NULL;
        ok = variants != NULL;
        if (ok && cJSON_GetObjectItem(variants, serve_variant_name(variant)) == NULL)
            ok = cJSON_AddStringToObject(variants, serve_variant_name(variant), path) != NULL;
    }
    fq_tool_free_names(files, n);
    return ok;
}

bool serve_models_json(const serve_server *server, cJSON *list)
{
    return add_models_of(server, server->models_real, list) &&
           add_models_of(server, server->work_real, list);
}
