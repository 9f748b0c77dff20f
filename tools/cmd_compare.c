/* fq compare: model variants side by side: file size, load time, latency, FPS, speed-up and
 * output agreement against the first; a text table, JSON, and an SVG bar chart. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_inputs.h"
#include "eval/eval_model.h"
#include "eval/eval_report.h"
#include "eval/latency.h"
#include "eval/svg_chart.h"
#include "fq_common.h"

#define CMD "compare"
#define MAX_VARIANTS 16
#define RANDOM_INPUTS 3
#define LABEL_SIZE 64

typedef struct compare_args {
    const char *specs[MAX_VARIANTS];
    int n_variants;
    const char *inputs;
    const char *svg;
    fq_input_size size;
    int runs;
    int warmup;
    int threads;
    bool json;
} compare_args;

typedef struct variant {
    char spec_path[FQ_TOOL_PATH_SIZE];
    char label[LABEL_SIZE];
    fq_eval_model model;
    fq_eval_report report;   /* against the first variant; empty for the first */
    fq_latency_stats latency;
    double *times;
} variant;

typedef struct compare_job {
    variant variants[MAX_VARIANTS];
    int count;
    fq_eval_inputs inputs;
    bool have_inputs;
} compare_job;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq compare MODEL[=LABEL] MODEL[=LABEL]... [--inputs DIR] [--input-size WxH]\n"
            "                  [--runs N] [--warmup N] [--threads T] [--json] [--svg FILE]\n"
            "\n"
            "Loads every variant of a model (.onnx or .fqm: fp32, fp16, int8, dynamic, QDQ;\n"
            "the same graph inputs and outputs) and prints them side by side: file size, load\n"
            "time (read, passes, session), median latency, FPS, speed-up against the first,\n"
            "and the agreement of each with the first as fq eval measures it on the inputs of\n"
            "DIR (cosine, SQNR; found faces and landmark error for detectors). Without\n"
            "--inputs the agreement is the output cosine on %d seeded random inputs only, and\n"
            "the table says so. Runs of the variants are interleaved, so machine load falls on\n"
            "all of them alike.\n"
            "\n"
            "  --inputs DIR      photos or .npy files to measure agreement on (see fq eval)\n"
            "  --input-size WxH  input size of ONNX models (default: the card's, else the\n"
            "                    file's, else 640x640)\n"
            "  --runs N          timed runs per variant (default 20)\n"
            "  --warmup N        runs before timing (default 3)\n"
            "  --threads T       kernel threads (default 1)\n"
            "  --json            print one JSON object\n"
            "  --svg FILE        also write a bar chart of latency and size as SVG\n"
            "  -h, --help        show this help\n",
            RANDOM_INPUTS);
}

static bool parse_count(const char *text, int min, int max, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static int check_variants(int argc, char **argv, compare_args *args)
{
    int n = argc - optind;
    if (n < 2) {
        fq_tool_fail(CMD, "needs at least two models to compare (see --help)");
        return FQ_EXIT_USAGE;
    }
    if (n > MAX_VARIANTS) {
        fq_tool_fail(CMD, "at most %d models, %d given", MAX_VARIANTS, n);
        return FQ_EXIT_USAGE;
    }
    for (int i = 0; i < n; i++)
        args->specs[i] = argv[optind + i];
    args->n_variants = n;
    return FQ_EXIT_OK;
}

/* 0 to go on, -1 after --help, else the exit code. */
static int parse_args(int argc, char **argv, compare_args *args)
{
    static const struct option options[] = {
        {"inputs", required_argument, NULL, 'd'}, {"input-size", required_argument, NULL, 's'},
        {"runs", required_argument, NULL, 'r'},   {"warmup", required_argument, NULL, 'w'},
        {"threads", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"svg", required_argument, NULL, 'g'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *args = (compare_args){.runs = 20, .warmup = 3, .threads = 1};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'd': args->inputs = optarg; break;
        case 's': ok = fq_tool_parse_size(optarg, &args->size); break;
        case 'r': ok = parse_count(optarg, 1, 100000, &args->runs); break;
        case 'w': ok = parse_count(optarg, 0, 100000, &args->warmup); break;
        case 't': ok = parse_count(optarg, 1, 1024, &args->threads); break;
        case 'j': args->json = true; break;
        case 'g': args->svg = optarg; break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
        if (!ok) {
            fq_tool_fail(CMD, "bad value '%s' (see --help)", optarg);
            return FQ_EXIT_USAGE;
        }
    }
    return check_variants(argc, argv, args);
}

/* MODEL=LABEL, or MODEL alone (labelled by its file name); a spec that is an existing file is
 * taken whole even when it holds '='. */
static void split_spec(const char *spec, variant *v)
{
    const char *eq = strrchr(spec, '=');
    if (eq == NULL || fq_tool_is_file(spec)) {
        snprintf(v->spec_path, sizeof(v->spec_path), "%s", spec);
        const char *slash = strrchr(spec, '/');
        snprintf(v->label, sizeof(v->label), "%s", slash != NULL ? slash + 1 : spec);
        return;
    }
    snprintf(v->spec_path, sizeof(v->spec_path), "%.*s", (int)(eq - spec), spec);
    snprintf(v->label, sizeof(v->label), "%s", eq + 1);
}

static fq_status load_variants(const compare_args *args, compare_job *job, fq_error *err)
{
    fq_eval_load_options options = {CMD, args->size, args->threads, FQ_ISA_AUTO};
    for (int i = 0; i < args->n_variants; i++) {
        variant *v = &job->variants[i];
        split_spec(args->specs[i], v);
        fq_status status = fq_eval_model_load(v->spec_path, &options, &v->model, err);
        if (status == FQ_OK && i > 0)
            status = fq_eval_check_same_io(&job->variants[0].model, &v->model, CMD, err);
        if (status != FQ_OK)
            return status;
        job->count++;
        if (i == 0)
            options.size = (fq_input_size){v->model.pre.width, v->model.pre.height, 0};
        fprintf(stderr, "fq %s: %s: %s, %lld bytes, loaded in %.1f ms\n", CMD, v->label,
                v->model.path, v->model.file_bytes, v->model.load_ms);
    }
    return FQ_OK;
}

static fq_status init_reports(compare_job *job, bool random_inputs, fq_error *err)
{
    for (int i = 1; i < job->count; i++) {
        fq_status status = fq_eval_report_init(&job->variants[i].report,
                                               &job->variants[0].model, random_inputs, err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* Runs every variant on the input already in the first one's session. Inputs are copied before
 * any run, since a run may reuse input memory for other values. */
static fq_status run_all_and_compare(compare_job *job, fq_error *err)
{
    const fq_eval_model *ref = &job->variants[0].model;
    fq_status status = FQ_OK;
    for (int i = 1; i < job->count && status == FQ_OK; i++)
        status = fq_eval_copy_inputs(ref, &job->variants[i].model, err);
    if (status == FQ_OK)
        status = fq_session_run(ref->session, err);
    for (int i = 1; i < job->count && status == FQ_OK; i++) {
        variant *v = &job->variants[i];
        status = fq_session_run(v->model.session, err);
        if (status == FQ_OK)
            status = fq_eval_report_add(&v->report, ref, &v->model, err);
    }
    return status;
}

static fq_status agreement_on_inputs(const compare_args *args, compare_job *job, fq_error *err)
{
    fq_eval_model *ref = &job->variants[0].model;
    if (ref->graph->n_inputs != 1)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s has %d graph inputs; real inputs feed "
                            "models with one", ref->path, ref->graph->n_inputs);
    fq_status status = fq_eval_inputs_open(CMD, args->inputs, &ref->pre, &job->inputs, err);
    job->have_inputs = status == FQ_OK;
    if (status == FQ_OK)
        status = init_reports(job, false, err);
    bool more = true;
    int used = 0;
    while (status == FQ_OK && more) {
        status = fq_eval_inputs_next(&job->inputs, ref->session, &more, err);
        if (status == FQ_OK && more) {
            status = run_all_and_compare(job, err);
            used++;
        }
    }
    if (status == FQ_OK && used == 0)
        status = fq_error_set(err, FQ_ERR_INVALID_ARG, "no usable input in '%s' (photos "
                              "without a face are skipped)", args->inputs);
    return status;
}

static fq_status agreement_on_random(compare_job *job, fq_error *err)
{
    fq_status status = init_reports(job, true, err);
    for (int k = 0; k < RANDOM_INPUTS && status == FQ_OK; k++) {
        status = fq_eval_fill_random(&job->variants[0].model, 0x9e3779b97f4a7c15ull + k, err);
        if (status == FQ_OK)
            status = run_all_and_compare(job, err);
    }
    return status;
}

/* The input the variants are timed on: the first real input, else seeded random values. */
static fq_status timing_input(compare_job *job, fq_eval_saved_inputs *saved, fq_error *err)
{
    fq_eval_model *ref = &job->variants[0].model;
    fq_status status = FQ_OK;
    bool more = false;
    if (job->have_inputs) {
        fq_eval_inputs_rewind(&job->inputs);
        status = fq_eval_inputs_next(&job->inputs, ref->session, &more, err);
    }
    if (status == FQ_OK && !more)
        status = fq_eval_fill_random(ref, 0, err);
    return status == FQ_OK ? fq_eval_save_inputs(ref, saved, err) : status;
}

/* One run of each variant in turn, the input written back before each (outside the timing). */
static fq_status timed_round(const fq_eval_saved_inputs *saved, compare_job *job, int r,
                             fq_error *err)
{
    fq_status status = FQ_OK;
    for (int i = 0; i < job->count && status == FQ_OK; i++) {
        variant *v = &job->variants[i];
        status = fq_eval_restore_inputs(saved, &v->model, err);
        double t0 = fq_tool_now_ms();
        if (status == FQ_OK)
            status = fq_session_run(v->model.session, err);
        if (r >= 0)
            v->times[r] = fq_tool_now_ms() - t0;
    }
    return status;
}

static fq_status time_variants(const compare_args *args, compare_job *job, fq_error *err)
{
    fq_eval_saved_inputs saved = {0};
    fq_status status = timing_input(job, &saved, err);
    for (int i = 0; i < job->count && status == FQ_OK; i++) {
        job->variants[i].times = fq_calloc((size_t)args->runs, sizeof(double));
        if (job->variants[i].times == NULL)
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d timings",
                                  args->runs);
    }
    for (int k = 0; k < args->warmup && status == FQ_OK; k++)
        status = timed_round(&saved, job, -1, err);
    for (int r = 0; r < args->runs && status == FQ_OK; r++)
        status = timed_round(&saved, job, r, err);
    for (int i = 0; i < job->count && status == FQ_OK; i++)
        fq_latency_summarize(job->variants[i].times, args->runs, &job->variants[i].latency);
    fq_eval_saved_inputs_free(&saved);
    return status;
}

static double speedup(const compare_job *job, int i)
{
    double median = job->variants[i].latency.median_ms;
    return median > 0.0 ? job->variants[0].latency.median_ms / median : 0.0;
}

static void print_agreement(const variant *v, bool first)
{
    if (first) {
        printf(" %10s %10s %8s %7s %8s\n", "reference", "", "", "", "");
        return;
    }
    const fq_eval_report *r = &v->report;
    char sqnr[32];
    fq_eval_format_sqnr(fq_agreement_sqnr_db(&r->overall), sqnr, sizeof(sqnr));
    printf(" %10.6f %10.6f %8s", fq_agreement_cosine_mean(&r->overall), r->overall.cosine_min,
           sqnr);
    if (fq_eval_report_has_faces(r))
        printf(" %6.1f%% %7.2f%%\n", 100.0 * fq_face_agreement_recall(&r->faces),
               fq_face_agreement_landmark_percent(&r->faces));
    else
        printf(" %7s %8s\n", "-", "-");
}

static void print_text(const compare_args *args, const compare_job *job)
{
    const fq_eval_report *r = &job->variants[1].report;
    printf("%d variants, %d timed runs each (interleaved, after %d warm-up), %d thread%s\n",
           job->count, args->runs, args->warmup, args->threads, args->threads > 1 ? "s" : "");
    if (r->random_inputs)
        printf("agreement: output cosine only, on %d seeded random inputs (no --inputs)\n",
               r->overall.inputs);
    else
        printf("agreement: on %d real inputs from %s\n", r->overall.inputs, args->inputs);
    if (fq_eval_report_has_faces(r))
        printf("faces: share of the %d faces of %s found at IoU >= %.1f; lmk err: mean "
               "landmark error in %% of the box width\n", r->faces.reference_faces,
               job->variants[0].label, FQ_FACE_MATCH_IOU);
    printf("%-20s %10s %9s %10s %8s %8s %10s %10s %8s %7s %8s\n", "variant", "size MB",
           "load ms", "median ms", "fps", "speed-up", "cos mean", "cos min", "SQNR dB", "faces",
           "lmk err");
    for (int i = 0; i < job->count; i++) {
        const variant *v = &job->variants[i];
        printf("%-20.20s %10.3f %9.1f %10.3f %8.1f %7.2fx", v->label, v->model.file_bytes / 1e6,
               v->model.load_ms, v->latency.median_ms, 1000.0 / v->latency.median_ms,
               speedup(job, i));
        print_agreement(v, i == 0);
    }
}

static cJSON *variant_json(const compare_job *job, int i)
{
    const variant *v = &job->variants[i];
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && cJSON_AddStringToObject(o, "label", v->label) &&
              cJSON_AddStringToObject(o, "path", v->model.path) &&
              cJSON_AddStringToObject(o, "kind", fq_eval_kind_name(v->model.kind)) &&
              cJSON_AddNumberToObject(o, "file_bytes", (double)v->model.file_bytes) &&
              cJSON_AddNumberToObject(o, "load_ms", v->model.load_ms) &&
              cJSON_AddNumberToObject(o, "median_ms", v->latency.median_ms) &&
              cJSON_AddNumberToObject(o, "mean_ms", v->latency.mean_ms) &&
              cJSON_AddNumberToObject(o, "p90_ms", v->latency.p90_ms) &&
              cJSON_AddNumberToObject(o, "min_ms", v->latency.min_ms) &&
              cJSON_AddNumberToObject(o, "fps", 1000.0 / v->latency.median_ms) &&
              cJSON_AddNumberToObject(o, "speedup", speedup(job, i));
    if (ok && i == 0)
        ok = cJSON_AddNullToObject(o, "agreement") != NULL;
    else if (ok)
        ok = cJSON_AddItemToObject(o, "agreement", fq_eval_report_json(&v->report, false));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int print_json(const compare_args *args, const compare_job *job)
{
    const fq_eval_report *r = &job->variants[1].report;
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && cJSON_AddNumberToObject(o, "runs", args->runs) &&
              cJSON_AddNumberToObject(o, "warmup", args->warmup) &&
              cJSON_AddNumberToObject(o, "threads", args->threads) &&
              cJSON_AddNumberToObject(o, "inputs", r->overall.inputs) &&
              cJSON_AddBoolToObject(o, "random_inputs", r->random_inputs);
    cJSON *list = ok ? cJSON_AddArrayToObject(o, "variants") : NULL;
    ok = list != NULL;
    for (int i = 0; ok && i < job->count; i++)
        ok = cJSON_AddItemToArray(list, variant_json(job, i));
    ok = ok && fq_tool_print_json(o);
    cJSON_Delete(o);
    return ok ? FQ_EXIT_OK : FQ_EXIT_FAILURE;
}

static fq_status write_svg(const char *path, const compare_job *job, fq_error *err)
{
    const char *labels[MAX_VARIANTS];
    double latency[MAX_VARIANTS], size[MAX_VARIANTS];
    for (int i = 0; i < job->count; i++) {
        labels[i] = job->variants[i].label;
        latency[i] = job->variants[i].latency.median_ms;
        size[i] = job->variants[i].model.file_bytes > 0 ? job->variants[i].model.file_bytes / 1e6
                                                       : 0.0;
    }
    const fq_svg_panel panels[2] = {
        {"median latency", "ms", labels, latency, job->count},
        {"file size", "MB", labels, size, job->count},
    };
    char title[300], stem[256];
    fq_tool_model_stem(job->variants[0].spec_path, stem, sizeof(stem));
    snprintf(title, sizeof(title), "fq compare: %d variants of %s", job->count, stem);
    return fq_svg_save_charts(path, title, panels, 2, err);
}

static void job_free(compare_job *job)
{
    for (int i = 0; i < MAX_VARIANTS; i++) {
        fq_eval_report_free(&job->variants[i].report);
        fq_free(job->variants[i].times);
    }
    for (int i = job->count - 1; i >= 0; i--)
        fq_eval_model_free(&job->variants[i].model);
    if (job->have_inputs)
        fq_eval_inputs_close(&job->inputs);
}

int fq_cmd_compare(int argc, char **argv)
{
    compare_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    compare_job *job = fq_calloc(1, sizeof(*job));
    if (job == NULL) {
        fq_tool_fail(CMD, "out of memory");
        return FQ_EXIT_FAILURE;
    }
    fq_error err = {0};
    fq_status status = load_variants(&args, job, &err);
    if (status == FQ_OK)
        status = args.inputs != NULL ? agreement_on_inputs(&args, job, &err)
                                     : agreement_on_random(job, &err);
    if (status == FQ_OK)
        status = time_variants(&args, job, &err);
    if (status == FQ_OK && args.svg != NULL)
        status = write_svg(args.svg, job, &err);
    if (status == FQ_OK)
        code = args.json ? print_json(&args, job) : (print_text(&args, job), FQ_EXIT_OK);
    if (status != FQ_OK) {
        fq_tool_error(CMD, &err);
        code = FQ_EXIT_FAILURE;
    }
    job_free(job);
    fq_free(job);
    return code;
}
