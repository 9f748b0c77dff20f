/* The agreement of a test model with a reference model over inputs both ran on: per output and
 * overall (every output flattened) cosine, max abs error and SQNR; for detectors the decoded
 * faces' agreement; for recognizers the embedding cosine (the first output's). */
#ifndef FQ_TOOLS_EVAL_EVAL_REPORT_H
#define FQ_TOOLS_EVAL_EVAL_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "eval/agreement.h"
#include "eval/eval_model.h"
#include "eval/face_match.h"

typedef struct fq_eval_report {
    int n_outputs;
    const char **output_names;  /* the reference graph's, borrowed */
    fq_agreement *outputs;
    fq_agreement overall;
    fq_eval_kind kind;          /* the reference's */
    fq_face_agreement faces;
    bool faces_failed;          /* decoding failed once: no face agreement */
    char faces_error[FQ_ERROR_MESSAGE_SIZE];
    bool random_inputs;
} fq_eval_report;

fq_status fq_eval_report_init(fq_eval_report *report, const fq_eval_model *ref,
                              bool random_inputs, fq_error *err);
void fq_eval_report_free(fq_eval_report *report);

/* Adds one input after both models ran on it. */
fq_status fq_eval_report_add(fq_eval_report *report, const fq_eval_model *ref,
                             const fq_eval_model *test, fq_error *err);

/* Whether the report carries faces (the reference is a detector and decoding worked). */
bool fq_eval_report_has_faces(const fq_eval_report *report);

/* The text table on out. */
void fq_eval_report_print(const fq_eval_report *report, FILE *out);

/* The report as a JSON object: inputs, random_inputs, overall {cosine_mean, cosine_min,
 * max_abs_error, sqnr_db}, outputs [{name, ...}], and faces {reference_faces, matched, recall,
 * extra, landmark_error_percent} or embedding_cosine {mean, min} by kind. NULL when out of
 * memory. An SQNR of identical outputs is the string "inf". */
cJSON *fq_eval_report_json(const fq_eval_report *report, bool per_output);

/* SQNR as text: "inf" or "%.1f". */
void fq_eval_format_sqnr(double db, char *out, size_t size);

#endif
