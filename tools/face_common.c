/* What the face commands share: model and card lookup, the pipeline, paths, JSON. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "face_common.h"
#include "fq_common.h"

#ifndef FQ_SOURCE_ROOT
#define FQ_SOURCE_ROOT "."
#endif

#define MAX_MODEL_DIRS 6
#define MAX_CARD_BYTES (64 * 1024)

const char fq_tool_model_lookup_help[] =
    "Models are names or .onnx paths. A name NAME is looked for as NAME.onnx, in each folder\n"
    "and its subfolders, in this order: $FQ_MODELS, $FQ_SHARED/models, ../shared/models (from\n"
    "the current folder), " FQ_SOURCE_ROOT "/../shared/models, ~/.cache/facequant/models.\n"
    "A model's card is STEM.card (STEM: the file name without .onnx) in $FQ_CARDS, then in\n"
    FQ_SOURCE_ROOT "/models/cards; without a card the defaults of face.h apply.\n";

typedef struct model_dirs {
    char paths[MAX_MODEL_DIRS][FQ_TOOL_PATH_SIZE];
    int count;
} model_dirs;

static void add_dir(model_dirs *dirs, const char *a, const char *b)
{
    if (a == NULL || a[0] == '\0' || dirs->count == MAX_MODEL_DIRS)
        return;
    if (fq_tool_join_path(a, b, dirs->paths[dirs->count], FQ_TOOL_PATH_SIZE))
        dirs->count++;
}

static void collect_model_dirs(model_dirs *dirs)
{
    dirs->count = 0;
    add_dir(dirs, getenv("FQ_MODELS"), "");
    add_dir(dirs, getenv("FQ_SHARED"), "models");
    add_dir(dirs, "..", "shared/models");
    add_dir(dirs, FQ_SOURCE_ROOT, "../shared/models");
    add_dir(dirs, getenv("HOME"), ".cache/facequant/models");
}

bool fq_tool_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool fq_tool_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool fq_tool_join_path(const char *dir, const char *name, char *out, size_t size)
{
    int n;
    if (dir[0] == '\0' || name[0] == '/')
        n = snprintf(out, size, "%s", name);
    else if (name[0] == '\0')
        n = snprintf(out, size, "%s", dir);
    else
        n = snprintf(out, size, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return n >= 0 && (size_t)n < size;
}

void fq_tool_dirname(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(out, size, ".");
    else if (slash == path)
        snprintf(out, size, "/");
    else
        snprintf(out, size, "%.*s", (int)(slash - path), path);
}

void fq_tool_free_names(char **names, int count)
{
    for (int i = 0; names != NULL && i < count; i++)
        fq_free(names[i]);
    fq_free(names);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static fq_status append_name(char ***names, int *count, int *capacity, const char *name,
                             fq_error *err)
{
    if (*count == *capacity) {
        int grown = *capacity == 0 ? 32 : *capacity * 2;
        char **bigger = fq_realloc(*names, (size_t)grown * sizeof(char *));
        if (bigger == NULL)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d file names", grown);
        *names = bigger;
        *capacity = grown;
    }
    if (((*names)[*count] = fq_strdup(name)) == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for a file name");
    (*count)++;
    return FQ_OK;
}

fq_status fq_tool_list_dir(const char *path, bool dirs, char ***names, int *count,
                           fq_error *err)
{
    *names = NULL;
    *count = 0;
    DIR *dir = opendir(path);
    if (dir == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot open the folder '%s'", path);

    int capacity = 0;
    fq_status status = FQ_OK;
    struct dirent *entry;
    char full[FQ_TOOL_PATH_SIZE];
    while (status == FQ_OK && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' || !fq_tool_join_path(path, entry->d_name, full,
                                                           sizeof(full)))
            continue;
        if (dirs ? fq_tool_is_dir(full) : fq_tool_is_file(full))
            status = append_name(names, count, &capacity, entry->d_name, err);
    }
    closedir(dir);
    if (status != FQ_OK) {
        fq_tool_free_names(*names, *count);
        *names = NULL;
        *count = 0;
        return status;
    }
    if (*count > 0)
        qsort(*names, (size_t)*count, sizeof(char *), compare_names);
    return FQ_OK;
}

void fq_tool_model_stem(const char *name_or_path, char *stem, size_t size)
{
    const char *slash = strrchr(name_or_path, '/');
    const char *base = slash != NULL ? slash + 1 : name_or_path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".onnx") == 0)
        len -= 5;
    /* A converted or quantized model: STEM.fqm, STEM.int8.fqm, STEM.fp16.fqm, ... */
    if (len > 4 && strncmp(base + len - 4, ".fqm", 4) == 0) {
        len -= 4;
        static const char *const precisions[] = {".int8", ".fp16", ".dynamic", ".fp32"};
        for (size_t i = 0; i < sizeof(precisions) / sizeof(precisions[0]); i++) {
            size_t n = strlen(precisions[i]);
            if (len > n && strncmp(base + len - n, precisions[i], n) == 0) {
                len -= n;
                break;
            }
        }
    }
    snprintf(stem, size, "%.*s", (int)len, base);
}

/* NAME.onnx in dir or in one of its subfolders. */
static bool find_in_dir(const char *dir, const char *file, char *path, size_t size)
{
    if (fq_tool_join_path(dir, file, path, size) && fq_tool_is_file(path))
        return true;
    char **subdirs;
    int n;
    if (fq_tool_list_dir(dir, true, &subdirs, &n, NULL) != FQ_OK)
        return false;
    bool found = false;
    char sub[FQ_TOOL_PATH_SIZE];
    for (int i = 0; i < n && !found; i++)
        found = fq_tool_join_path(dir, subdirs[i], sub, sizeof(sub)) &&
                fq_tool_join_path(sub, file, path, size) && fq_tool_is_file(path);
    fq_tool_free_names(subdirs, n);
    return found;
}

/* Appends to list the .onnx stems found in dir (and its subfolders when recurse). */
static void list_models_in(const char *dir, bool recurse, char *list, size_t size)
{
    char **files, **subdirs;
    int n_files, n_dirs;
    if (fq_tool_list_dir(dir, false, &files, &n_files, NULL) == FQ_OK) {
        for (int i = 0; i < n_files; i++) {
            size_t len = strlen(files[i]), used = strlen(list);
            char entry[FQ_TOOL_PATH_SIZE], padded[FQ_ERROR_MESSAGE_SIZE + 2];
            if (len <= 5 || strcmp(files[i] + len - 5, ".onnx") != 0)
                continue;
            snprintf(entry, sizeof(entry), " %.*s ", (int)(len - 5), files[i]);
            /* Each name once, however many folders hold it. */
            snprintf(padded, sizeof(padded), "%s ", list);
            if (strstr(padded, entry) == NULL)
                snprintf(list + used, size - used, "%.*s", (int)strlen(entry) - 1, entry);
        }
        fq_tool_free_names(files, n_files);
    }
    if (!recurse || fq_tool_list_dir(dir, true, &subdirs, &n_dirs, NULL) != FQ_OK)
        return;
    char sub[FQ_TOOL_PATH_SIZE];
    for (int i = 0; i < n_dirs; i++)
        if (fq_tool_join_path(dir, subdirs[i], sub, sizeof(sub)))
            list_models_in(sub, false, list, size);
    fq_tool_free_names(subdirs, n_dirs);
}

static fq_status model_not_found(const char *name, const model_dirs *dirs, fq_error *err)
{
    char list[FQ_ERROR_MESSAGE_SIZE] = "";
    char searched[FQ_ERROR_MESSAGE_SIZE] = "";
    for (int i = 0; i < dirs->count; i++) {
        size_t used = strlen(searched);
        snprintf(searched + used, sizeof(searched) - used, "%s%s", i > 0 ? ", " : "",
                 dirs->paths[i]);
        list_models_in(dirs->paths[i], true, list, sizeof(list));
    }
    return fq_error_set(err, FQ_ERR_IO, "no model '%s' in %s; models there:%s", name,
                        dirs->count > 0 ? searched : "(no folder)",
                        list[0] != '\0' ? list : " none (see models/README.md)");
}

fq_status fq_tool_find_model(const char *name, char *path, size_t size, fq_error *err)
{
    size_t len = strlen(name);
    bool is_path = strchr(name, '/') != NULL ||
                   (len > 5 && strcmp(name + len - 5, ".onnx") == 0) ||
                   (len > 4 && strcmp(name + len - 4, ".fqm") == 0);
    if (is_path) {
        if (!fq_tool_is_file(name))
            return fq_error_set(err, FQ_ERR_IO, "model file '%s' does not exist", name);
        snprintf(path, size, "%s", name);
        return FQ_OK;
    }

    char file[FQ_TOOL_PATH_SIZE];
    snprintf(file, sizeof(file), "%s.onnx", name);
    model_dirs dirs;
    collect_model_dirs(&dirs);
    for (int i = 0; i < dirs.count; i++)
        if (find_in_dir(dirs.paths[i], file, path, size))
            return FQ_OK;
    return model_not_found(name, &dirs, err);
}

static fq_status read_card_file(const char *path, fq_model_card *card, fq_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot open the card '%s'", path);
    char *text = fq_malloc(MAX_CARD_BYTES);
    size_t n = text != NULL ? fread(text, 1, MAX_CARD_BYTES, f) : 0;
    bool too_long = text != NULL && n == MAX_CARD_BYTES;
    fclose(f);
    fq_status status;
    if (text == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to read '%s'", path);
    else if (too_long)
        status = fq_error_set(err, FQ_ERR_PARSE, "card '%s' is over %d bytes", path,
                              MAX_CARD_BYTES);
    else
        status = fq_model_card_parse(text, n, card, err);
    if (status != FQ_OK && text != NULL && !too_long)
        fq_error_prefix(err, status, "card '%s'", path);
    fq_free(text);
    return status;
}

fq_status fq_tool_find_card(const char *stem, fq_model_card *card, bool *found, fq_error *err)
{
    char file[FQ_TOOL_PATH_SIZE], path[FQ_TOOL_PATH_SIZE];
    snprintf(file, sizeof(file), "%s.card", stem);
    const char *env = getenv("FQ_CARDS");
    *found = false;
    if (env != NULL && env[0] != '\0' && fq_tool_join_path(env, file, path, sizeof(path)) &&
        fq_tool_is_file(path))
        *found = true;
    if (!*found && fq_tool_join_path(FQ_SOURCE_ROOT "/models/cards", file, path, sizeof(path)) &&
        fq_tool_is_file(path))
        *found = true;
    return *found ? read_card_file(path, card, err) : FQ_OK;
}

fq_status fq_tool_model_card(const char *cmd, const char *path, const fq_graph *graph,
                             const fq_fqm_meta *meta, int n_meta, fq_model_card *card,
                             fq_error *err)
{
    char stem[256];
    bool found = false;
    const char *named = meta != NULL ? fq_fqm_meta_find(meta, n_meta, FQ_FQM_META_CARD) : NULL;
    if (named != NULL)
        snprintf(stem, sizeof(stem), "%s", named);
    else
        fq_tool_model_stem(path, stem, sizeof(stem));
    fq_status status = fq_tool_find_card(stem, card, &found, err);
    if (status != FQ_OK || found)
        return status;
    fq_model_role role = graph->n_outputs == 1 ? FQ_ROLE_RECOGNIZER : FQ_ROLE_DETECTOR;
    fq_model_card_defaults(role, FQ_DETECTOR_SCRFD, card);
    fprintf(stderr, "fq %s: no card for %s: %s defaults apply\n", cmd, stem,
            role == FQ_ROLE_RECOGNIZER ? "recognizer" : "detector");
    return FQ_OK;
}

/* Finds a model and its card; card_found tells whether card was filled. */
static fq_status resolve_model(const char *cmd, const char *name, const char *role, char *path,
                               fq_model_card *card, bool *card_found, fq_error *err)
{
    fq_status status = fq_tool_find_model(name, path, FQ_TOOL_PATH_SIZE, err);
    char stem[256];
    fq_tool_model_stem(path, stem, sizeof(stem));
    if (status == FQ_OK)
        status = fq_tool_find_card(stem, card, card_found, err);
    if (status != FQ_OK)
        return status;
    fprintf(stderr, "fq %s: %s %s%s\n", cmd, role, path,
            *card_found ? "" : " (no card: defaults apply)");
    return FQ_OK;
}

static fq_status describe_recognizer(fq_tool_pipeline *p, fq_error *err)
{
    fq_gallery_model *model = &p->recognizer;
    fq_tool_model_stem(p->recognizer_path, model->recognizer, sizeof(model->recognizer));
    model->embedding_size = fq_face_service_embedding_size(p->service);
    return fq_gallery_checksum_file(p->recognizer_path, model->checksum, err);
}

fq_status fq_tool_pipeline_open(const char *cmd, const char *detector, const char *recognizer,
                                const fq_input_size *size, fq_tool_pipeline *pipeline,
                                fq_error *err)
{
    memset(pipeline, 0, sizeof(*pipeline));
    fq_model_card det_card, rec_card;
    fq_face_service_options options = {0};
    fq_status status = FQ_OK;
    if (detector != NULL) {
        status = resolve_model(cmd, detector, "detector", pipeline->detector_path, &det_card,
                               &pipeline->detector_card_found, err);
        options.detector_path = pipeline->detector_path;
        options.detector_card = pipeline->detector_card_found ? &det_card : NULL;
    }
    if (status == FQ_OK && recognizer != NULL) {
        status = resolve_model(cmd, recognizer, "recognizer", pipeline->recognizer_path,
                               &rec_card, &pipeline->recognizer_card_found, err);
        options.recognizer_path = pipeline->recognizer_path;
        options.recognizer_card = pipeline->recognizer_card_found ? &rec_card : NULL;
    }
    if (status == FQ_OK && size != NULL) {
        options.detector_width = (int)size->width;
        options.detector_height = (int)size->height;
    }
    if (status == FQ_OK)
        status = fq_face_service_create(&options, &pipeline->service, err);
    if (status == FQ_OK && recognizer != NULL)
        status = describe_recognizer(pipeline, err);
    if (status != FQ_OK)
        fq_tool_pipeline_close(pipeline);
    return status;
}

void fq_tool_pipeline_close(fq_tool_pipeline *pipeline)
{
    fq_face_service_free(pipeline->service);
    pipeline->service = NULL;
}

float fq_tool_match_threshold(const fq_tool_pipeline *pipeline)
{
    const fq_model_card *card = fq_face_service_recognizer_card(pipeline->service);
    if (card != NULL)
        return card->match_threshold;
    fq_model_card defaults;
    fq_model_card_defaults(FQ_ROLE_RECOGNIZER, FQ_DETECTOR_SCRFD, &defaults);
    return defaults.match_threshold;
}

bool fq_tool_is_aligned_crop(const fq_tool_pipeline *pipeline, const fq_image *rgb)
{
    const fq_model_card *card = fq_face_service_recognizer_card(pipeline->service);
    int width = card != NULL && card->input_width > 0 ? card->input_width : 112;
    int height = card != NULL && card->input_height > 0 ? card->input_height : 112;
    return rgb->width == width && rgb->height == height;
}

int fq_tool_largest_face(const fq_face *faces, int count)
{
    int best = -1;
    float best_area = -1.0f;
    for (int i = 0; i < count; i++) {
        float area = (faces[i].box[2] - faces[i].box[0]) * (faces[i].box[3] - faces[i].box[1]);
        if (area > best_area) {
            best_area = area;
            best = i;
        }
    }
    return best;
}

fq_status fq_tool_embed_photo(fq_tool_pipeline *pipeline, const fq_image *rgb, float *embedding,
                              bool *found, fq_face *face, fq_error *err)
{
    *found = false;
    if (fq_tool_is_aligned_crop(pipeline, rgb)) {
        *found = true;
        if (face != NULL)
            *face = (fq_face){{0.0f, 0.0f, (float)rgb->width, (float)rgb->height}, 1.0f, {0},
                              false};
        return fq_face_service_embed_aligned(pipeline->service, rgb, embedding, err);
    }

    fq_face *faces = NULL;
    int count = 0;
    fq_status status = fq_face_service_detect(pipeline->service, rgb, NULL, &faces, &count, err);
    int best = status == FQ_OK ? fq_tool_largest_face(faces, count) : -1;
    if (best >= 0) {
        *found = true;
        if (face != NULL)
            *face = faces[best];
        status = fq_face_service_embed(pipeline->service, rgb, &faces[best], embedding, err);
    }
    fq_free(faces);
    return status;
}

cJSON *fq_tool_json_number(double value, int decimals)
{
    double scale = pow(10.0, decimals);
    return cJSON_CreateNumber(round(value * scale) / scale);
}

static bool add_point_list(cJSON *object, const char *key, const float *values, int count,
                           int per_item)
{
    cJSON *list = cJSON_AddArrayToObject(object, key);
    if (list == NULL)
        return false;
    for (int i = 0; i < count; i++) {
        cJSON *item = per_item == 1 ? fq_tool_json_number(values[i], 2) : cJSON_CreateArray();
        if (item == NULL || !cJSON_AddItemToArray(list, item))
            return false;
        for (int k = 0; per_item > 1 && k < per_item; k++)
            if (!cJSON_AddItemToArray(item, fq_tool_json_number(values[i * per_item + k], 2)))
                return false;
    }
    return true;
}

cJSON *fq_tool_face_json(const fq_face *face)
{
    cJSON *object = cJSON_CreateObject();
    bool ok = object != NULL && add_point_list(object, "box", face->box, 4, 1) &&
              cJSON_AddItemToObject(object, "score", fq_tool_json_number(face->score, 4)) &&
              (!face->has_kps || add_point_list(object, "kps", face->kps, 5, 2));
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

bool fq_tool_print_json(const cJSON *root)
{
    char *text = cJSON_Print(root);
    if (text == NULL)
        return false;
    fputs(text, stdout);
    fputc('\n', stdout);
    cJSON_free(text);
    return true;
}
