/* POST /quantization/mobile/detect_faces and /recognize_faces: a photo through a leased
 * detector (and recognizer) session. */
#include <math.h>
#include <string.h>

#include "fq_common.h"
#include "image/image_io.h"
#include "serve_models.h"

#define MAX_KNOWN 100000

static const char *const detect_fields[] = {"image", "model_type", "confidence_threshold", NULL};
static const char *const recognize_fields[] = {"image", "model_type", "similarity_threshold",
                                               "known_embeddings", "known_labels", NULL};

/* The people a photo's faces are matched against: count embeddings of size floats. */
typedef struct known_people {
    float *embeddings;
    const cJSON *labels;    /* array of count strings inside the parsed JSON */
    cJSON *labels_json;
    int count;
} known_people;

static bool parse_variant(const serve_form *form, serve_variant *variant, serve_answer *answer)
{
    const char *text;
    *variant = SERVE_FP32;
    if (!serve_text_field(form, "model_type", false, &text, answer))
        return false;
    if (text != NULL && !serve_variant_parse(text, variant))
        return serve_answer_error(answer, 400, "model_type '%.32s' is not one of fp32, fp16, "
                                  "int8, dynamic", text);
    return true;
}

static bool decode_image(const serve_server *server, const serve_form *form, fq_image *rgb,
                         serve_answer *answer)
{
    const serve_field *field;
    if (!serve_file_field(form, "image", &field, answer))
        return false;
    int side = server->config.max_image_side;
    fq_decode_limits limits = {side, (int64_t)side * side, server->config.max_upload_bytes};
    fq_error err = {0};
    fq_status status = fq_image_decode(field->data, field->size, &limits, rgb, &err);
    if (status == FQ_OK)
        return true;
    unsigned code = status == FQ_ERR_NO_MEMORY ? 500 : 400;
    return serve_answer_error(answer, code, "image '%.128s': %s (the server takes JPEG, PNG, "
                              "WebP, PPM up to %d pixels a side)", field->filename,
                              err.message, side);
}

static fq_status run_on(fq_session *session, const fq_model_card *card, const fq_image *rgb,
                        fq_error *err)
{
    fq_tensor input;
    fq_status status = fq_session_input(session, 0, &input, err);
    if (status != FQ_OK)
        return status;
    int64_t want = 3 * (int64_t)card->input_width * card->input_height;
    if (input.dtype != FQ_DTYPE_F32 || fq_shape_numel(&input.shape) != want ||
        rgb->width != card->input_width || rgb->height != card->input_height)
        return fq_error_set(err, FQ_ERR_INTERNAL, "model input is not 1x3x%dx%d f32",
                            card->input_height, card->input_width);
    status = fq_image_to_tensor(rgb, &card->norm, input.data, err);
    return status == FQ_OK ? fq_session_run(session, err) : status;
}

static fq_status decode_faces(const serve_lease *lease, float threshold, fq_face **faces,
                              int *count, fq_error *err)
{
    const fq_model_card *card = &lease->model->card;
    int n = lease->model->graph->n_outputs;
    fq_tensor *outputs = fq_calloc((size_t)n, sizeof(fq_tensor));
    if (outputs == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d detector outputs", n);
    fq_status status = FQ_OK;
    for (int i = 0; i < n && status == FQ_OK; i++)
        status = fq_session_output(lease->session, i, &outputs[i], err);
    if (status == FQ_OK)
        status = fq_detect_decode(card->family, outputs, n, card->input_width,
                                  card->input_height, threshold, faces, count, err);
    fq_free(outputs);
    return status;
}

/* Faces of rgb in its own pixels, sorted by score; threshold <= 0 takes the card's. */
static fq_status detect(const serve_lease *lease, const fq_image *rgb, float threshold,
                        fq_face **faces, int *count, fq_error *err)
{
    const fq_model_card *card = &lease->model->card;
    fq_image boxed = {0};
    fq_letterbox info;
    *faces = NULL;
    *count = 0;
    if (threshold <= 0.0f)
        threshold = card->score_threshold;
    fq_status status = fq_image_letterbox(rgb, card->input_width, card->input_height, &boxed,
                                          &info, err);
    if (status == FQ_OK)
        status = run_on(lease->session, card, &boxed, err);
    fq_image_free(&boxed);
    if (status == FQ_OK)
        status = decode_faces(lease, threshold, faces, count, err);
    if (status != FQ_OK) {
        fq_free(*faces);
        *faces = NULL;
        *count = 0;
        return status;
    }
    *count = fq_nms(*faces, *count, card->nms_threshold, card->family == FQ_DETECTOR_SCRFD, 0);
    fq_faces_unletterbox(*faces, *count, &info);
    return FQ_OK;
}

static bool add_faces(cJSON *body, const fq_face *faces, int count)
{
    cJSON *list = cJSON_AddArrayToObject(body, "faces");
    for (int i = 0; list != NULL && i < count; i++)
        if (!cJSON_AddItemToArray(list, fq_tool_face_json(&faces[i])))
            return false;
    return list != NULL;
}

static bool detect_answer(serve_answer *answer, const char *stem, serve_variant variant,
                          const fq_face *faces, int count, double ms)
{
    if (!serve_answer_ok(answer))
        return true;
    cJSON *body = answer->body;
    bool ok = cJSON_AddStringToObject(body, "model", stem) != NULL &&
              cJSON_AddStringToObject(body, "model_type", serve_variant_name(variant)) != NULL &&
              add_faces(body, faces, count) && serve_json_add_number(body, "inference_ms", ms, 2);
    if (!ok)
        serve_answer_error(answer, 500, "out of memory writing the answer");
    return true;
}

bool serve_detect_faces(serve_server *server, const serve_form *form, serve_answer *answer,
                        serve_job **job)
{
    (void)job;
    serve_variant variant;
    float threshold = 0.0f;
    if (!serve_check_fields(form, "detect_faces", detect_fields, NULL, answer) ||
        !parse_variant(form, &variant, answer) ||
        !serve_float_field(form, "confidence_threshold", 0.001, 1.0, &threshold, answer))
        return true;
    fq_image rgb = {0};
    if (!decode_image(server, form, &rgb, answer))
        return true;

    serve_lease lease;
    const char *stem = server->config.detector;
    if (serve_model_lease(server, stem, variant, FQ_ROLE_DETECTOR, &lease, answer)) {
        fq_face *faces;
        int count;
        fq_error err = {0};
        double t0 = fq_tool_now_ms();
        fq_status status = detect(&lease, &rgb, threshold, &faces, &count, &err);
        double ms = fq_tool_now_ms() - t0;
        serve_model_return(server, &lease);
        if (status == FQ_OK)
            detect_answer(answer, stem, variant, faces, count, ms);
        else
            serve_answer_error(answer, 500, "detection failed: %s", err.message);
        fq_free(faces);
    }
    fq_image_free(&rgb);
    return true;
}

/* ---- recognize_faces ---- */

static void known_free(known_people *known)
{
    fq_free(known->embeddings);
    cJSON_Delete(known->labels_json);
    memset(known, 0, sizeof(*known));
}

static bool parse_embedding(const cJSON *row, int index, int size, const char *model,
                            float *out, serve_answer *answer)
{
    if (!cJSON_IsArray(row))
        return serve_answer_error(answer, 400, "known_embeddings[%d] is not an array of "
                                  "numbers", index);
    int n = cJSON_GetArraySize(row);
    if (n != size)
        return serve_answer_error(answer, 400, "known_embeddings[%d] has %d numbers; the "
                                  "recognizer %s gives embeddings of %d", index, n, model, size);
    int k = 0;
    const cJSON *value;
    cJSON_ArrayForEach(value, row) {
        if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble))
            return serve_answer_error(answer, 400, "known_embeddings[%d][%d] is not a finite "
                                      "number", index, k);
        out[k++] = (float)value->valuedouble;
    }
    fq_l2_normalize(out, size);
    return true;
}

static bool parse_embeddings(const char *text, int size, const char *model, known_people *known,
                             serve_answer *answer)
{
    cJSON *root = cJSON_Parse(text);
    bool ok = cJSON_IsArray(root);
    if (!ok)
        serve_answer_error(answer, 400, "known_embeddings is not a JSON array of arrays");
    int count = ok ? cJSON_GetArraySize(root) : 0;
    if (ok && count > MAX_KNOWN)
        ok = serve_answer_error(answer, 400, "known_embeddings has %d entries; the limit is %d",
                                count, MAX_KNOWN);
    if (ok && count > 0 && (known->embeddings = fq_malloc((size_t)count * (size_t)size *
                                                          sizeof(float))) == NULL)
        ok = serve_answer_error(answer, 500, "no memory for %d known embeddings", count);
    int index = 0;
    const cJSON *rows = ok ? root : NULL, *row;
    cJSON_ArrayForEach(row, rows) {
        ok = parse_embedding(row, index, size, model, known->embeddings + (size_t)index * size,
                             answer);
        if (!ok)
            break;
        index++;
    }
    known->count = ok ? count : 0;
    cJSON_Delete(root);
    return ok;
}

static bool parse_labels(const char *text, known_people *known, serve_answer *answer)
{
    known->labels_json = cJSON_Parse(text);
    if (!cJSON_IsArray(known->labels_json))
        return serve_answer_error(answer, 400, "known_labels is not a JSON array of strings");
    int n = cJSON_GetArraySize(known->labels_json);
    if (n != known->count)
        return serve_answer_error(answer, 400, "known_labels has %d entries, known_embeddings "
                                  "%d", n, known->count);
    int i = 0;
    const cJSON *label;
    cJSON_ArrayForEach(label, known->labels_json) {
        if (!cJSON_IsString(label))
            return serve_answer_error(answer, 400, "known_labels[%d] is not a string", i);
        i++;
    }
    known->labels = known->labels_json;
    return true;
}

/* known_embeddings and known_labels come together, or neither. */
static bool parse_known(const serve_form *form, const serve_model *recognizer,
                        known_people *known, serve_answer *answer)
{
    const char *embeddings, *labels;
    if (!serve_text_field(form, "known_embeddings", false, &embeddings, answer) ||
        !serve_text_field(form, "known_labels", false, &labels, answer))
        return false;
    if ((embeddings == NULL) != (labels == NULL))
        return serve_answer_error(answer, 400, "known_embeddings and known_labels come "
                                  "together: missing field '%s'",
                                  embeddings == NULL ? "known_embeddings" : "known_labels");
    if (embeddings == NULL)
        return true;
    return parse_embeddings(embeddings, recognizer->card.embedding_size, recognizer->stem, known,
                            answer) &&
           parse_labels(labels, known, answer);
}

static fq_status embed(const serve_lease *lease, const fq_image *rgb, const fq_face *face,
                       float *embedding, fq_error *err)
{
    const fq_model_card *card = &lease->model->card;
    fq_image crop = {0};
    fq_status status = fq_face_align(rgb, face->kps, card->input_width, &crop, err);
    if (status == FQ_OK)
        status = run_on(lease->session, card, &crop, err);
    fq_image_free(&crop);
    fq_tensor out;
    if (status == FQ_OK)
        status = fq_session_output(lease->session, 0, &out, err);
    if (status != FQ_OK)
        return status;
    memcpy(embedding, out.data, (size_t)card->embedding_size * sizeof(float));
    fq_l2_normalize(embedding, card->embedding_size);
    return FQ_OK;
}

static bool add_embedding(cJSON *object, const float *embedding, int size)
{
    cJSON *list = cJSON_AddArrayToObject(object, "embedding");
    for (int i = 0; list != NULL && i < size; i++)
        if (!cJSON_AddItemToArray(list, fq_tool_json_number(embedding[i], 6)))
            return false;
    return list != NULL;
}

/* Adds label, similarity and embedding to a face's JSON (null without landmarks). */
static fq_status recognize_one(const serve_lease *recognizer, const known_people *known,
                               float threshold, const fq_image *rgb, const fq_face *face,
                               float *embedding, cJSON *json, fq_error *err)
{
    int size = recognizer->model->card.embedding_size;
    if (!face->has_kps) {
        bool ok = cJSON_AddNullToObject(json, "label") && cJSON_AddNullToObject(json,
                                                                                "similarity");
        return ok ? FQ_OK : fq_error_set(err, FQ_ERR_NO_MEMORY, "out of memory");
    }
    fq_status status = embed(recognizer, rgb, face, embedding, err);
    if (status != FQ_OK)
        return status;
    int index = -1;
    float similarity = NAN;
    if (known->count > 0)
        fq_match_embedding(embedding, known->embeddings, known->count, size, threshold, &index,
                           &similarity);
    const cJSON *label = index >= 0 ? cJSON_GetArrayItem(known->labels, index) : NULL;
    bool ok = (label != NULL ? cJSON_AddStringToObject(json, "label", label->valuestring)
                             : cJSON_AddNullToObject(json, "label")) != NULL &&
              serve_json_add_number(json, "similarity", similarity, 4) &&
              add_embedding(json, embedding, size);
    return ok ? FQ_OK : fq_error_set(err, FQ_ERR_NO_MEMORY, "out of memory");
}

static fq_status recognize(const serve_lease *detector, const serve_lease *recognizer,
                           const known_people *known, float threshold, const fq_image *rgb,
                           cJSON *list, fq_error *err)
{
    fq_face *faces;
    int count;
    fq_status status = detect(detector, rgb, 0.0f, &faces, &count, err);
    float *embedding = NULL;
    if (status == FQ_OK && count > 0) {
        embedding = fq_malloc((size_t)recognizer->model->card.embedding_size * sizeof(float));
        if (embedding == NULL)
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for an embedding");
    }
    for (int i = 0; status == FQ_OK && i < count; i++) {
        cJSON *json = fq_tool_face_json(&faces[i]);
        if (json == NULL || !cJSON_AddItemToArray(list, json)) {
            cJSON_Delete(json);
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "out of memory");
            break;
        }
        status = recognize_one(recognizer, known, threshold, rgb, &faces[i], embedding, json,
                               err);
    }
    fq_free(embedding);
    fq_free(faces);
    return status;
}

static bool recognize_answer(serve_server *server, const serve_lease *detector,
                             const serve_lease *recognizer, const known_people *known,
                             float threshold, const fq_image *rgb, serve_answer *answer)
{
    if (!serve_answer_ok(answer))
        return true;
    cJSON *body = answer->body;
    cJSON *list = cJSON_AddArrayToObject(body, "faces");
    fq_error err = {0};
    double t0 = fq_tool_now_ms();
    fq_status status = list != NULL ? recognize(detector, recognizer, known, threshold, rgb,
                                                list, &err)
                                    : fq_error_set(&err, FQ_ERR_NO_MEMORY, "out of memory");
    double ms = fq_tool_now_ms() - t0;
    bool ok = status == FQ_OK &&
              cJSON_AddStringToObject(body, "detector", server->config.detector) != NULL &&
              cJSON_AddStringToObject(body, "recognizer", server->config.recognizer) != NULL &&
              serve_json_add_number(body, "similarity_threshold", threshold, 4) &&
              serve_json_add_number(body, "inference_ms", ms, 2);
    if (!ok)
        serve_answer_error(answer, 500, "recognition failed: %s",
                           status != FQ_OK ? err.message : "out of memory");
    return true;
}

bool serve_recognize_faces(serve_server *server, const serve_form *form, serve_answer *answer,
                           serve_job **job)
{
    (void)job;
    serve_variant variant;
    float threshold = NAN;
    if (!serve_check_fields(form, "recognize_faces", recognize_fields, NULL, answer) ||
        !parse_variant(form, &variant, answer) ||
        !serve_float_field(form, "similarity_threshold", -1.0, 1.0, &threshold, answer))
        return true;

    serve_lease detector = {0}, recognizer = {0};
    known_people known = {0};
    fq_image rgb = {0};
    bool ok = serve_model_lease(server, server->config.detector, variant, FQ_ROLE_DETECTOR,
                                &detector, answer) &&
              serve_model_lease(server, server->config.recognizer, variant, FQ_ROLE_RECOGNIZER,
                                &recognizer, answer) &&
              parse_known(form, recognizer.model, &known, answer) &&
              decode_image(server, form, &rgb, answer);
    if (ok && isnan(threshold))
        threshold = recognizer.model->card.match_threshold;
    if (ok)
        recognize_answer(server, &detector, &recognizer, &known, threshold, &rgb, answer);
    fq_image_free(&rgb);
    known_free(&known);
    serve_model_return(server, &recognizer);
    serve_model_return(server, &detector);
    return true;
}
