/* POST /quantization/convert_model and /quantization/quantize_model: the checks run on the
 * request's thread, the work on a job thread of its own. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fq_common.h"
#include "quant/quantize_tool.h"
#include "serve_models.h"

#ifndef FQ_SOURCE_ROOT
#define FQ_SOURCE_ROOT "."
#endif

#define PACKS_FILE FQ_SOURCE_ROOT "/models/packs.tsv"
#define MAX_PACKS_BYTES (256 * 1024)

static const char *const convert_fields[] = {"model_name", "input_width", "input_height", NULL};
static const char *const quantize_fields[] = {"model_path", "quantization_type",
                                              "calibration_images", NULL};

serve_job *serve_job_new(serve_server *server)
{
    serve_job *job = fq_calloc(1, sizeof(*job));
    if (job != NULL)
        job->server = server;
    return job;
}

void serve_job_free(serve_job *job)
{
    if (job == NULL)
        return;
    if (job->free_params != NULL)
        job->free_params(job->params);
    serve_answer_clear(&job->answer);
    fq_free(job);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* A name of letters, digits, '.', '_', '-' that neither starts with '.' nor holds "..". */
static bool is_plain_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strstr(name, "..") != NULL || strlen(name) > 200)
        return false;
    for (const char *c = name; *c != '\0'; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
            return false;
    return true;
}

/* ---- convert_model ---- */

typedef struct convert_params {
    char detector[FQ_TOOL_PATH_SIZE];   /* ONNX files to convert; empty when not asked */
    char recognizer[FQ_TOOL_PATH_SIZE];
    fq_input_size size;                 /* the detector's; 0x0: the card's, else 640x640 */
} convert_params;

/* The detector and recognizer stems of a pack line "pack source sha files det rec extras". */
static bool pack_models(const char *line, const char *pack, char *det, char *rec, size_t size)
{
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", line);
    char *columns[7] = {0};
    int n = 0;
    for (char *p = copy, *tab; n < 7 && p != NULL; n++, p = tab != NULL ? tab + 1 : NULL) {
        columns[n] = p;
        tab = strchr(p, '\t');
        if (tab != NULL)
            *tab = '\0';
    }
    if (n < 6 || strcmp(columns[0], pack) != 0)
        return false;
    snprintf(det, size, "%.*s", (int)strcspn(columns[4], " "), columns[4]);
    snprintf(rec, size, "%.*s", (int)strcspn(columns[5], " "), columns[5]);
    return det[0] != '\0' || rec[0] != '\0';
}

/* Looks pack up in models/packs.tsv; false when it is no pack. */
static bool find_pack(const char *pack, char *det, char *rec, size_t size)
{
    FILE *f = fopen(PACKS_FILE, "r");
    if (f == NULL)
        return false;
    char line[1024];
    bool found = false;
    size_t read = 0;
    while (!found && read < MAX_PACKS_BYTES && fgets(line, sizeof(line), f) != NULL) {
        read += strlen(line);
        line[strcspn(line, "\r\n")] = '\0';
        found = line[0] != '#' && pack_models(line, pack, det, rec, size);
    }
    fclose(f);
    return found;
}

static bool model_in_models_dir(const serve_server *server, const char *stem, char *path,
                                serve_answer *answer)
{
    char file[300];
    snprintf(file, sizeof(file), "%s.onnx", stem);
    if (fq_tool_join_path(server->models_real, file, path, FQ_TOOL_PATH_SIZE) &&
        fq_tool_is_file(path))
        return true;
    return serve_answer_error(answer, 404, "no model file %s in the models directory (GET "
                              "/models lists the models there)", file);
}

/* The role a model's card gives; a model without a card is taken for a detector. */
static fq_model_role card_role(const char *stem)
{
    fq_model_card card;
    bool found = false;
    if (fq_tool_find_card(stem, &card, &found, NULL) == FQ_OK && found)
        return card.role;
    return FQ_ROLE_DETECTOR;
}

static bool resolve_convert(const serve_server *server, const char *name, convert_params *p,
                            serve_answer *answer)
{
    char det[256] = "", rec[256] = "", stem[256];
    if (!is_plain_name(name))
        return serve_answer_error(answer, 400, "model_name '%.64s' is neither a pack name nor "
                                  "a model file name in the models directory", name);
    if (find_pack(name, det, rec, sizeof(det)))
        return (det[0] == '\0' || model_in_models_dir(server, det, p->detector, answer)) &&
               (rec[0] == '\0' || model_in_models_dir(server, rec, p->recognizer, answer));

    serve_base_stem(name, stem, sizeof(stem), NULL);
    size_t len = strlen(name);
    if (strchr(name, '.') != NULL && !(len > 5 && strcmp(name + len - 5, ".onnx") == 0))
        return serve_answer_error(answer, 400, "model_name '%.64s': convert_model takes an "
                                  ".onnx model or a pack name", name);
    char *path = card_role(stem) == FQ_ROLE_RECOGNIZER ? p->recognizer : p->detector;
    return model_in_models_dir(server, stem, path, answer);
}

static void add_meta(fq_fqm_meta *meta, char (*text)[128], int *n, const char *key,
                     const char *value)
{
    snprintf(text[*n], sizeof(text[0]), "%s", value);
    meta[*n] = (fq_fqm_meta){(char *)key, text[*n]};
    (*n)++;
}

/* Writes graph as output with its source, input size and card as metadata: to a temporary
 * name first, renamed when complete. */
static fq_status write_fqm(const fq_graph *graph, const char *source, const fq_model_card *card,
                           bool card_found, const char *output, fq_error *err)
{
    fq_fqm_meta meta[8];
    char text[8][128];
    int n = 0;
    const fq_value *in = &graph->values[graph->inputs[0]];
    char size[64], mean[96], std[96];
    snprintf(size, sizeof(size), "%lldx%lld", (long long)in->shape.dims[3],
             (long long)in->shape.dims[2]);
    const char *slash = strrchr(source, '/');
    add_meta(meta, text, &n, FQ_FQM_META_SOURCE, slash != NULL ? slash + 1 : source);
    add_meta(meta, text, &n, FQ_FQM_META_INPUT_SIZE, size);
    if (card_found) {
        const fq_normalization *norm = &card->norm;
        snprintf(mean, sizeof(mean), "%g,%g,%g", norm->mean[0], norm->mean[1], norm->mean[2]);
        snprintf(std, sizeof(std), "%g,%g,%g", norm->std[0], norm->std[1], norm->std[2]);
        add_meta(meta, text, &n, FQ_FQM_META_CARD, card->name);
        add_meta(meta, text, &n, FQ_FQM_META_COLOR, norm->bgr ? "bgr" : "rgb");
        add_meta(meta, text, &n, FQ_FQM_META_MEAN, mean);
        add_meta(meta, text, &n, FQ_FQM_META_STD, std);
        add_meta(meta, text, &n, FQ_FQM_META_RESIZE,
                 card->role == FQ_ROLE_DETECTOR ? "letterbox" : "aligned crop");
    }

    char temp[FQ_TOOL_PATH_SIZE + 32];
    snprintf(temp, sizeof(temp), "%s.tmp.%ld.%lx", output, (long)getpid(),
             (unsigned long)pthread_self());
    fq_status status = fq_fqm_write_file(graph, meta, n, temp, err);
    if (status == FQ_OK && rename(temp, output) != 0)
        status = fq_error_set(err, FQ_ERR_IO, "cannot rename %s to %s", temp, output);
    if (status != FQ_OK)
        unlink(temp);
    return status;
}

/* Converts one ONNX file into WORK/STEM.fqm and adds {"path", "size_bytes", "input_size"} to
 * the answer under key. */
static fq_status convert_one(serve_server *server, const char *path, const fq_input_size *size,
                             const char *key, cJSON *body, fq_error *err)
{
    char stem[256], file[300], output[FQ_TOOL_PATH_SIZE];
    serve_base_stem(path, stem, sizeof(stem), NULL);
    snprintf(file, sizeof(file), "%s.fqm", stem);
    if (!fq_tool_join_path(server->work_real, file, output, sizeof(output)))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "the output path is too long");

    fq_model_card card;
    bool found = false;
    fq_graph *graph = NULL;
    double t0 = fq_tool_now_ms();
    fq_status status = fq_tool_find_card(stem, &card, &found, err);
    fq_input_size fixed = *size;
    if (status == FQ_OK && fixed.width == 0 && found && card.input_width > 0)
        fixed = (fq_input_size){card.input_width, card.input_height, 1};
    if (status == FQ_OK)
        status = fq_onnx_read_file(path, &graph, err);
    if (status == FQ_OK && fixed.width == 0 && graph->n_inputs == 1 &&
        graph->values[graph->inputs[0]].shape.rank == 4 &&
        graph->values[graph->inputs[0]].shape.dims[3] <= 0)
        fixed = (fq_input_size){640, 640, 1};
    if (status == FQ_OK)
        status = fq_passes_run(graph, &fixed, err);
    if (status == FQ_OK && (graph->n_inputs != 1 ||
                            graph->values[graph->inputs[0]].shape.rank != 4))
        status = fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s has no single image input", path);
    if (status == FQ_OK)
        status = write_fqm(graph, path, &card, found, output, err);
    if (status != FQ_OK) {
        fq_graph_free(graph);
        return fq_error_prefix(err, status, "converting %s", path);
    }

    const fq_shape *in = &graph->values[graph->inputs[0]].shape;
    char size_text[64];
    snprintf(size_text, sizeof(size_text), "%lldx%lld", (long long)in->dims[3],
             (long long)in->dims[2]);
    fq_graph_free(graph);
    cJSON *entry = cJSON_AddObjectToObject(body, key);
    bool ok = entry != NULL && cJSON_AddStringToObject(entry, "path", output) != NULL &&
              cJSON_AddStringToObject(entry, "source", path) != NULL &&
              cJSON_AddNumberToObject(entry, "size_bytes", (double)file_size(output)) != NULL &&
              cJSON_AddStringToObject(entry, "input_size", size_text) != NULL &&
              serve_json_add_number(entry, "seconds", (fq_tool_now_ms() - t0) / 1000.0, 3);
    return ok ? FQ_OK : fq_error_set(err, FQ_ERR_NO_MEMORY, "out of memory");
}

static void convert_run(serve_job *job)
{
    const convert_params *p = job->params;
    serve_answer *answer = &job->answer;
    if (!serve_answer_ok(answer))
        return;
    fq_error err = {0};
    fq_input_size none = {0, 0, 1};
    fq_status status = FQ_OK;
    if (p->detector[0] != '\0')
        status = convert_one(job->server, p->detector, &p->size, "detection_model",
                             answer->body, &err);
    if (status == FQ_OK && p->recognizer[0] != '\0')
        status = convert_one(job->server, p->recognizer, &none, "recognition_model",
                             answer->body, &err);
    if (status != FQ_OK)
        serve_answer_error(answer, serve_status_of(status) == 400 ? 400 : 500, "%s",
                           err.message);
}

bool serve_convert_model(serve_server *server, const serve_form *form, serve_answer *answer,
                         serve_job **job)
{
    const char *name;
    int width = 0, height = 0;
    int side = server->config.max_image_side;
    if (!serve_check_fields(form, "convert_model", convert_fields, NULL, answer) ||
        !serve_text_field(form, "model_name", true, &name, answer) ||
        !serve_int_field(form, "input_width", 32, side, &width, answer) ||
        !serve_int_field(form, "input_height", 32, side, &height, answer))
        return true;
    if ((width == 0) != (height == 0))
        return !serve_answer_error(answer, 400, "input_width and input_height come together");

    convert_params *params = fq_calloc(1, sizeof(*params));
    if (params == NULL)
        return !serve_answer_error(answer, 500, "out of memory");
    params->size = (fq_input_size){width, height, 1};
    if (!resolve_convert(server, name, params, answer)) {
        fq_free(params);
        return true;
    }
    *job = serve_job_new(server);
    if (*job == NULL) {
        fq_free(params);
        return !serve_answer_error(answer, 500, "out of memory");
    }
    (*job)->run = convert_run;
    (*job)->params = params;
    (*job)->free_params = fq_free;
    return false;
}

/* ---- quantize_model ---- */

typedef struct quantize_params {
    char model[FQ_TOOL_PATH_SIZE];
    char output[FQ_TOOL_PATH_SIZE];
    char calib_dir[FQ_TOOL_PATH_SIZE];  /* uploads saved here; empty when none */
    fq_quant_type type;
} quantize_params;

static bool is_inside(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static bool has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
            return true;
    return false;
}

/* model_path, relative to the models directory (then the work directory) or absolute inside
 * one of them; its real path (symbolic links followed) must stay inside too. */
static bool resolve_model_path(const serve_server *server, const char *text, char *real,
                               serve_answer *answer)
{
    char joined[FQ_TOOL_PATH_SIZE];
    if (text[0] == '\0')
        return serve_answer_error(answer, 400, "model_path is empty");
    if (has_dotdot(text))
        return serve_answer_error(answer, 400, "model_path '%.128s' holds '..'; paths stay "
                                  "inside the models and work directories", text);
    if (text[0] == '/' && !is_inside(text, server->models_real) &&
        !is_inside(text, server->work_real) && !is_inside(text, server->config.models_dir) &&
        !is_inside(text, server->config.work_dir))
        return serve_answer_error(answer, 400, "model_path '%.128s' is outside the models and "
                                  "work directories", text);

    bool found = false;
    const char *roots[2] = {server->models_real, server->work_real};
    for (int i = 0; i < 2 && !found; i++)
        found = fq_tool_join_path(roots[i], text, joined, sizeof(joined)) &&
                realpath(joined, real) != NULL;
    if (!found)
        return serve_answer_error(answer, 404, "no model file '%.128s' in the models or work "
                                  "directory (GET /models lists them)", text);
    if (!is_inside(real, server->models_real) && !is_inside(real, server->work_real))
        return serve_answer_error(answer, 400, "model_path '%.128s' leads outside the models "
                                  "and work directories", text);
    if (!fq_tool_is_file(real))
        return serve_answer_error(answer, 400, "model_path '%.128s' is not a file", text);
    return true;
}

static bool parse_quant_type(const char *text, fq_quant_type *type, serve_answer *answer)
{
    static const char *const names[] = {"int8", "fp16", "dynamic"};
    static const fq_quant_type types[] = {FQ_QUANT_INT8, FQ_QUANT_FP16, FQ_QUANT_DYNAMIC};
    for (int i = 0; i < 3; i++) {
        if (strcmp(text, names[i]) == 0) {
            *type = types[i];
            return true;
        }
    }
    return serve_answer_error(answer, 400, "quantization_type '%.32s' is not one of int8, "
                              "fp16, dynamic", text);
}

static const char *quant_type_name(fq_quant_type type)
{
    return type == FQ_QUANT_INT8 ? "int8" : type == FQ_QUANT_FP16 ? "fp16" : "dynamic";
}

static void remove_calib_dir(const char *dir)
{
    char **files;
    int n;
    char path[FQ_TOOL_PATH_SIZE];
    if (dir[0] == '\0' || fq_tool_list_dir(dir, false, &files, &n, NULL) != FQ_OK)
        return;
    for (int i = 0; i < n; i++)
        if (fq_tool_join_path(dir, files[i], path, sizeof(path)))
            unlink(path);
    fq_tool_free_names(files, n);
    rmdir(dir);
}

static void quantize_params_free(void *params)
{
    quantize_params *p = params;
    if (p != NULL)
        remove_calib_dir(p->calib_dir);
    fq_free(p);
}

static bool write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return false;
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* Saves the calibration_images uploads as WORK/upload-XXXXXX/image-NNNN. */
static bool save_uploads(const serve_server *server, const serve_form *form, quantize_params *p,
                         serve_answer *answer)
{
    if (serve_form_count(form, "calibration_images") == 0)
        return true;
    if (!fq_tool_join_path(server->work_real, "upload-XXXXXX", p->calib_dir,
                           sizeof(p->calib_dir)) || mkdtemp(p->calib_dir) == NULL) {
        p->calib_dir[0] = '\0';
        return serve_answer_error(answer, 500, "cannot create a folder for the uploads in %s",
                                  server->work_real);
    }
    char name[32], path[FQ_TOOL_PATH_SIZE];
    for (int i = 0, k = 0; i < form->count; i++) {
        const serve_field *field = &form->fields[i];
        if (strcmp(field->name, "calibration_images") != 0)
            continue;
        if (field->filename == NULL)
            return serve_answer_error(answer, 400, "calibration_images must be file uploads "
                                      "(-F calibration_images=@FILE)");
        snprintf(name, sizeof(name), "image-%04d", k++);
        if (!fq_tool_join_path(p->calib_dir, name, path, sizeof(path)) ||
            !write_file(path, field->data, field->size))
            return serve_answer_error(answer, 500, "cannot save upload %s", field->filename);
    }
    return true;
}

static bool add_accuracy(cJSON *body, const fq_tool_quantize_result *result)
{
    cJSON *accuracy = cJSON_AddObjectToObject(body, "accuracy");
    if (accuracy == NULL || cJSON_AddBoolToObject(accuracy, "measured", result->measured) == NULL)
        return false;
    if (!result->measured)
        return cJSON_AddStringToObject(accuracy, "note", "give calibration_images to measure "
                                       "the agreement with the float model") != NULL;
    const fq_output_agreement *a = &result->agreement;
    return serve_json_add_number(accuracy, "cosine_mean", a->cosine_mean, 6) &&
           serve_json_add_number(accuracy, "cosine_min", a->cosine_min, 6) &&
           serve_json_add_number(accuracy, "max_abs_error", a->max_abs_error, 6) &&
           serve_json_add_number(accuracy, "sqnr_db", a->sqnr_db, 2) &&
           cJSON_AddNumberToObject(accuracy, "inputs", a->inputs) != NULL;
}

static bool quantize_answer(serve_answer *answer, const quantize_params *p,
                            const fq_tool_quantize_result *result)
{
    if (!serve_answer_ok(answer))
        return false;
    cJSON *body = answer->body;
    const fq_quantize_report *report = result->report;
    bool ok = cJSON_AddStringToObject(body, "output_path", p->output) != NULL &&
              cJSON_AddStringToObject(body, "model_path", p->model) != NULL &&
              cJSON_AddStringToObject(body, "quantization_type", quant_type_name(p->type)) &&
              cJSON_AddNumberToObject(body, "size_bytes", (double)result->output_bytes) &&
              cJSON_AddNumberToObject(body, "input_bytes", (double)result->input_bytes) &&
              serve_json_add_number(body, "seconds", result->seconds, 3) &&
              add_accuracy(body, result);
    if (ok && report != NULL)
        ok = cJSON_AddNumberToObject(body, "quantized_nodes", report->quantized) != NULL &&
             cJSON_AddNumberToObject(body, "kept_float_nodes", report->kept_float) != NULL;
    return ok || serve_answer_error(answer, 500, "out of memory writing the answer");
}

static void quantize_run(serve_job *job)
{
    const quantize_params *p = job->params;
    fq_tool_quantize_request request = {
        .model_path = p->model,
        .type = p->type,
        .calib_dir = p->calib_dir[0] != '\0' ? p->calib_dir : NULL,
        .method = FQ_CALIB_PERCENTILE,
        .output_path = p->output,
        .threads = 1,
        .progress = false,
        .log_prefix = "fq serve",
    };
    fq_tool_quantize_result result;
    memset(&result, 0, sizeof(result));
    fq_error err = {0};
    fq_status status = fq_tool_quantize(&request, &result, &err);
    if (status == FQ_OK)
        quantize_answer(&job->answer, p, &result);
    else
        serve_answer_error(&job->answer, serve_status_of(status) == 400 ? 400 : 500,
                           "quantizing %s: %s", p->model, err.message);
    fq_tool_quantize_result_free(&result);
}

static bool quantize_output(const serve_server *server, quantize_params *p,
                            serve_answer *answer)
{
    char stem[256], file[300];
    serve_base_stem(p->model, stem, sizeof(stem), NULL);
    snprintf(file, sizeof(file), "%s.%s.fqm", stem, quant_type_name(p->type));
    if (!fq_tool_join_path(server->work_real, file, p->output, sizeof(p->output)))
        return serve_answer_error(answer, 400, "the output path is too long");
    if (strcmp(p->output, p->model) == 0)
        return serve_answer_error(answer, 400, "%s is already a %s model", p->model,
                                  quant_type_name(p->type));
    return true;
}

bool serve_quantize_model(serve_server *server, const serve_form *form, serve_answer *answer,
                          serve_job **job)
{
    const char *path, *type_text;
    if (!serve_check_fields(form, "quantize_model", quantize_fields, "calibration_images",
                            answer) ||
        !serve_text_field(form, "model_path", true, &path, answer) ||
        !serve_text_field(form, "quantization_type", true, &type_text, answer))
        return true;

    quantize_params *p = fq_calloc(1, sizeof(*p));
    if (p == NULL)
        return !serve_answer_error(answer, 500, "out of memory");
    bool ok = parse_quant_type(type_text, &p->type, answer) &&
              resolve_model_path(server, path, p->model, answer) &&
              quantize_output(server, p, answer);
    if (ok && p->type == FQ_QUANT_INT8 && serve_form_count(form, "calibration_images") == 0)
        ok = serve_answer_error(answer, 400, "int8 needs calibration_images (photos: -F "
                                "calibration_images=@a.jpg -F calibration_images=@b.jpg)");
    ok = ok && save_uploads(server, form, p, answer);
    if (ok && (*job = serve_job_new(server)) == NULL)
        ok = serve_answer_error(answer, 500, "out of memory");
    if (!ok) {
        quantize_params_free(p);
        return true;
    }
    (*job)->run = quantize_run;
    (*job)->params = p;
    (*job)->free_params = quantize_params_free;
    return false;
}
