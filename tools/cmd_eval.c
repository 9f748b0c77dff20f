/* fq eval: how closely model B follows model A on real inputs: output cosine, max error, SQNR,
 * and the decoded faces' or the embeddings' agreement. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval/eval_inputs.h"
#include "eval/eval_model.h"
#include "eval/eval_report.h"
#include "fq_common.h"

#define CMD "eval"

typedef struct eval_args {
    const char *model_a;
    const char *model_b;
    const char *inputs;
    fq_input_size size;
    int threads;
    bool json;
} eval_args;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq eval A B --inputs DIR [--input-size WxH] [--threads T] [--json]\n"
            "\n"
            "Runs models A and B (.onnx or .fqm, with the same graph inputs and outputs) on\n"
            "every input of DIR and reports how closely B follows A, per output and over all\n"
            "outputs: cosine (mean and min over inputs), max abs error and SQNR. For detectors\n"
            "(the card or the .fqm metadata says so, or the outputs look like SCRFD or YuNet\n"
            "heads) the faces are decoded as fq detect does and matched: the share of A's\n"
            "faces B finds at IoU >= 0.5, B's extra faces, and the mean landmark error in %%\n"
            "of the box width. For recognizers the embedding cosine.\n"
            "\n"
            "DIR holds .npy files (one input each) or photos (walked recursively), which are\n"
            "preprocessed as A's .fqm metadata, else its card, says; recognizers get the\n"
            "aligned crop of the largest face %s finds.\n"
            "\n"
            "  --inputs DIR      the inputs (required)\n"
            "  --input-size WxH  input size of ONNX models (default: the card's, else the\n"
            "                    file's, else 640x640)\n"
            "  --threads T       kernel threads (default 1)\n"
            "  --json            print one JSON object\n"
            "  -h, --help        show this help\n",
            FQ_TOOL_DEFAULT_DETECTOR);
}

static bool parse_count(const char *text, int min, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min || v > 1024)
        return false;
    *out = (int)v;
    return true;
}

/* 0 to go on, -1 after --help, else the exit code. */
static int parse_args(int argc, char **argv, eval_args *args)
{
    static const struct option options[] = {
        {"inputs", required_argument, NULL, 'd'}, {"input-size", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    *args = (eval_args){.threads = 1};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'd': args->inputs = optarg; break;
        case 's': ok = fq_tool_parse_size(optarg, &args->size); break;
        case 't': ok = parse_count(optarg, 1, &args->threads); break;
        case 'j': args->json = true; break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
        if (!ok) {
            fq_tool_fail(CMD, "bad value '%s' (see --help)", optarg);
            return FQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 2) {
        fq_tool_fail(CMD, "needs exactly two models, A and B (see --help)");
        return FQ_EXIT_USAGE;
    }
    if (args->inputs == NULL) {
        fq_tool_fail(CMD, "needs --inputs DIR (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->model_a = argv[optind];
    args->model_b = argv[optind + 1];
    return FQ_EXIT_OK;
}

typedef struct eval_job {
    fq_eval_model a;
    fq_eval_model b;
    fq_eval_inputs inputs;
    fq_eval_report report;
} eval_job;

static fq_status load_models(const eval_args *args, eval_job *job, fq_error *err)
{
    fq_eval_load_options options = {CMD, args->size, args->threads, FQ_ISA_AUTO};
    fq_status status = fq_eval_model_load(args->model_a, &options, &job->a, err);
    if (status != FQ_OK)
        return status;
    options.size = (fq_input_size){job->a.pre.width, job->a.pre.height, 0};
    status = fq_eval_model_load(args->model_b, &options, &job->b, err);
    if (status == FQ_OK)
        status = fq_eval_check_same_io(&job->a, &job->b, CMD, err);
    if (status == FQ_OK && job->a.graph->n_inputs != 1)
        status = fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s has %d graph inputs; real inputs "
                              "feed models with one", job->a.path, job->a.graph->n_inputs);
    if (status == FQ_OK)
        fprintf(stderr, "fq %s: A %s, B %s: %s at %dx%d (preprocessing from the %s)\n", CMD,
                job->a.path, job->b.path, fq_eval_kind_name(job->a.kind), job->a.pre.width,
                job->a.pre.height, job->a.descriptor);
    return status;
}

static fq_status evaluate(eval_job *job, fq_error *err)
{
    fq_status status = fq_eval_report_init(&job->report, &job->a, false, err);
    bool more = true;
    while (status == FQ_OK && more) {
        status = fq_eval_inputs_next(&job->inputs, job->a.session, &more, err);
        if (status != FQ_OK || !more)
            break;
        status = fq_eval_copy_inputs(&job->a, &job->b, err);
        if (status == FQ_OK)
            status = fq_session_run(job->a.session, err);
        if (status == FQ_OK)
            status = fq_session_run(job->b.session, err);
        if (status == FQ_OK)
            status = fq_eval_report_add(&job->report, &job->a, &job->b, err);
    }
    if (status == FQ_OK && job->report.overall.inputs == 0)
        status = fq_error_set(err, FQ_ERR_INVALID_ARG, "no usable input in '%s' (photos "
                              "without a face are skipped)", job->inputs.dir);
    return status;
}

static int print_json(const eval_job *job)
{
    cJSON *o = fq_eval_report_json(&job->report, true);
    char size[32];
    snprintf(size, sizeof(size), "%dx%d", job->a.pre.width, job->a.pre.height);
    bool ok = o != NULL && cJSON_AddStringToObject(o, "model_a", job->a.path) &&
              cJSON_AddStringToObject(o, "model_b", job->b.path) &&
              cJSON_AddStringToObject(o, "kind", fq_eval_kind_name(job->a.kind)) &&
              cJSON_AddStringToObject(o, "input_size", size) &&
              cJSON_AddStringToObject(o, "preprocessing", job->a.descriptor);
    ok = ok && fq_tool_print_json(o);
    cJSON_Delete(o);
    return ok ? FQ_EXIT_OK : FQ_EXIT_FAILURE;
}

static void print_text(const eval_job *job)
{
    printf("A          %s\n", job->a.path);
    printf("B          %s\n", job->b.path);
    printf("kind       %s at %dx%d (preprocessing from the %s)\n",
           fq_eval_kind_name(job->a.kind), job->a.pre.width, job->a.pre.height,
           job->a.descriptor);
    fq_eval_report_print(&job->report, stdout);
}

int fq_cmd_eval(int argc, char **argv)
{
    eval_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    eval_job job = {0};
    fq_error err = {0};
    fq_status status = load_models(&args, &job, &err);
    if (status == FQ_OK)
        status = fq_eval_inputs_open(CMD, args.inputs, &job.a.pre, &job.inputs, &err);
    if (status == FQ_OK)
        status = evaluate(&job, &err);
    if (status == FQ_OK && args.json)
        code = print_json(&job);
    else if (status == FQ_OK)
        print_text(&job);
    if (status != FQ_OK) {
        fq_tool_error(CMD, &err);
        code = FQ_EXIT_FAILURE;
    }
    fq_eval_report_free(&job.report);
    fq_eval_inputs_close(&job.inputs);
    fq_eval_model_free(&job.b);
    fq_eval_model_free(&job.a);
    return code;
}
