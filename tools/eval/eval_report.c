/* Agreement reports. */
#include <math.h>
#include <string.h>

#include "eval/eval_report.h"

fq_status fq_eval_report_init(fq_eval_report *report, const fq_eval_model *ref,
                              bool random_inputs, fq_error *err)
{
    memset(report, 0, sizeof(*report));
    int n = ref->graph->n_outputs;
    report->outputs = fq_calloc((size_t)n + 1, sizeof(fq_agreement));
    report->output_names = fq_calloc((size_t)n + 1, sizeof(const char *));
    if (report->outputs == NULL || report->output_names == NULL) {
        fq_eval_report_free(report);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d outputs", n);
    }
    report->n_outputs = n;
    for (int i = 0; i < n; i++) {
        fq_agreement_init(&report->outputs[i]);
        report->output_names[i] = ref->graph->values[ref->graph->outputs[i]].name;
    }
    fq_agreement_init(&report->overall);
    report->kind = ref->kind;
    report->random_inputs = random_inputs;
    return FQ_OK;
}

void fq_eval_report_free(fq_eval_report *report)
{
    fq_free(report->outputs);
    fq_free(report->output_names);
    memset(report, 0, sizeof(*report));
}

static fq_status add_outputs(fq_eval_report *report, const fq_eval_model *ref,
                             const fq_eval_model *test, fq_error *err)
{
    fq_agreement_input overall = {0};
    for (int i = 0; i < report->n_outputs; i++) {
        fq_tensor a, b;
        fq_status status = fq_session_output(ref->session, i, &a, err);
        if (status == FQ_OK)
            status = fq_session_output(test->session, i, &b, err);
        if (status != FQ_OK)
            return status;
        int64_t n = fq_shape_numel(&a.shape);
        if (a.dtype != FQ_DTYPE_F32 || b.dtype != FQ_DTYPE_F32 || n < 0 ||
            n != fq_shape_numel(&b.shape))
            return fq_error_set(err, FQ_ERR_SHAPE, "output %d ('%s') differs in dtype or size",
                                i, report->output_names[i]);
        fq_agreement_input one = {0};
        fq_agreement_add(&report->outputs[i], &one, a.data, b.data, (size_t)n);
        fq_agreement_end_input(&report->outputs[i], &one);
        fq_agreement_add(&report->overall, &overall, a.data, b.data, (size_t)n);
    }
    fq_agreement_end_input(&report->overall, &overall);
    return FQ_OK;
}

/* A decoding failure is noted once and ends the face agreement, not the evaluation: outputs
 * that only look like detector heads may not decode. */
static fq_status add_faces(fq_eval_report *report, const fq_eval_model *ref,
                           const fq_eval_model *test, fq_error *err)
{
    fq_face *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    fq_error decode_err = {0};
    fq_status status = fq_eval_detect(ref, &a, &na, &decode_err);
    if (status == FQ_OK)
        status = fq_eval_detect(test, &b, &nb, &decode_err);
    if (status != FQ_OK) {
        report->faces_failed = true;
        snprintf(report->faces_error, sizeof(report->faces_error), "%s", decode_err.message);
        status = FQ_OK;
    } else {
        status = fq_face_agreement_add(&report->faces, a, na, b, nb, err);
    }
    fq_free(a);
    fq_free(b);
    return status;
}

fq_status fq_eval_report_add(fq_eval_report *report, const fq_eval_model *ref,
                             const fq_eval_model *test, fq_error *err)
{
    fq_status status = add_outputs(report, ref, test, err);
    if (status == FQ_OK && report->kind == FQ_EVAL_DETECTOR && !report->faces_failed &&
        !report->random_inputs)
        status = add_faces(report, ref, test, err);
    return status;
}

bool fq_eval_report_has_faces(const fq_eval_report *report)
{
    return report->kind == FQ_EVAL_DETECTOR && !report->faces_failed && !report->random_inputs;
}

void fq_eval_format_sqnr(double db, char *out, size_t size)
{
    if (isinf(db))
        snprintf(out, size, "%s", db > 0 ? "inf" : "-inf");
    else
        snprintf(out, size, "%.1f", db);
}

static void print_row(FILE *out, const char *name, const fq_agreement *a)
{
    char sqnr[32];
    fq_eval_format_sqnr(fq_agreement_sqnr_db(a), sqnr, sizeof(sqnr));
    fprintf(out, "  %-28.28s %11.6f %11.6f %13.6g %9s\n", name, fq_agreement_cosine_mean(a),
            a->cosine_min, a->max_abs_error, sqnr);
}

void fq_eval_report_print(const fq_eval_report *report, FILE *out)
{
    fprintf(out, "inputs     %d%s\n", report->overall.inputs,
            report->random_inputs ? " (seeded random inputs: output cosine only)" : "");
    fprintf(out, "  %-28s %11s %11s %13s %9s\n", "output", "cosine mean", "cosine min",
            "max abs err", "SQNR dB");
    for (int i = 0; i < report->n_outputs; i++)
        print_row(out, report->output_names[i], &report->outputs[i]);
    print_row(out, "(all outputs)", &report->overall);
    if (report->overall.non_finite > 0)
        fprintf(out, "non-finite %lld elements (NaN or inf) left out\n",
                (long long)report->overall.non_finite);

    if (report->kind == FQ_EVAL_RECOGNIZER && report->n_outputs > 0)
        fprintf(out, "embedding  cosine mean %.6f, min %.6f\n",
                fq_agreement_cosine_mean(&report->outputs[0]), report->outputs[0].cosine_min);
    if (fq_eval_report_has_faces(report)) {
        const fq_face_agreement *f = &report->faces;
        fprintf(out, "faces      %d of %d found (%.1f%%) at IoU >= %.1f, %d extra, landmark "
                "error %.2f%% of the box width\n", f->matched, f->reference_faces,
                100.0 * fq_face_agreement_recall(f), FQ_FACE_MATCH_IOU, f->extra,
                fq_face_agreement_landmark_percent(f));
    }
    if (report->kind == FQ_EVAL_DETECTOR && report->faces_failed)
        fprintf(out, "faces      not compared: %s\n", report->faces_error);
}

static cJSON *sqnr_json(double db)
{
    return isinf(db) ? cJSON_CreateString(db > 0 ? "inf" : "-inf") : cJSON_CreateNumber(db);
}

static cJSON *agreement_json(const fq_agreement *a, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    bool ok = (name == NULL || cJSON_AddStringToObject(o, "name", name) != NULL) &&
              cJSON_AddNumberToObject(o, "cosine_mean", fq_agreement_cosine_mean(a)) &&
              cJSON_AddNumberToObject(o, "cosine_min", a->cosine_min) &&
              cJSON_AddNumberToObject(o, "max_abs_error", a->max_abs_error) &&
              cJSON_AddItemToObject(o, "sqnr_db", sqnr_json(fq_agreement_sqnr_db(a))) &&
              cJSON_AddNumberToObject(o, "non_finite", (double)a->non_finite);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool add_faces_json(cJSON *o, const fq_face_agreement *f)
{
    cJSON *faces = cJSON_AddObjectToObject(o, "faces");
    return faces != NULL && cJSON_AddNumberToObject(faces, "reference_faces", f->reference_faces)
           && cJSON_AddNumberToObject(faces, "matched", f->matched) &&
           cJSON_AddNumberToObject(faces, "recall", fq_face_agreement_recall(f)) &&
           cJSON_AddNumberToObject(faces, "extra", f->extra) &&
           cJSON_AddNumberToObject(faces, "landmark_error_percent",
                                   fq_face_agreement_landmark_percent(f)) &&
           cJSON_AddNumberToObject(faces, "iou", FQ_FACE_MATCH_IOU);
}

static bool add_kind_json(cJSON *o, const fq_eval_report *report)
{
    if (report->kind == FQ_EVAL_RECOGNIZER && report->n_outputs > 0) {
        cJSON *e = cJSON_AddObjectToObject(o, "embedding_cosine");
        return e != NULL &&
               cJSON_AddNumberToObject(e, "mean", fq_agreement_cosine_mean(&report->outputs[0]))
               && cJSON_AddNumberToObject(e, "min", report->outputs[0].cosine_min);
    }
    if (fq_eval_report_has_faces(report))
        return add_faces_json(o, &report->faces);
    if (report->kind == FQ_EVAL_DETECTOR && report->faces_failed)
        return cJSON_AddStringToObject(o, "faces_error", report->faces_error) != NULL;
    return true;
}

cJSON *fq_eval_report_json(const fq_eval_report *report, bool per_output)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && cJSON_AddNumberToObject(o, "inputs", report->overall.inputs) &&
              cJSON_AddBoolToObject(o, "random_inputs", report->random_inputs) &&
              cJSON_AddItemToObject(o, "overall", agreement_json(&report->overall, NULL));
    cJSON *list = ok && per_output ? cJSON_AddArrayToObject(o, "outputs") : NULL;
    ok = ok && (!per_output || list != NULL);
    for (int i = 0; ok && per_output && i < report->n_outputs; i++)
        ok = cJSON_AddItemToArray(list, agreement_json(&report->outputs[i],
                                                       report->output_names[i]));
    ok = ok && add_kind_json(o, report);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
