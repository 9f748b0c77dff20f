/* fq bench: the latency of fq_session_run on a model after a warm-up, on seeded random inputs
 * or on real ones (photos or .npy files), with the load time and the peak memory; text on
 * stdout, or exactly one JSON object with --json. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_inputs.h"
#include "eval/eval_model.h"
#include "eval/latency.h"
#include "facequant/fq.h"
#include "fq_common.h"

/* Real inputs kept in memory and cycled through, at most. */
#define MAX_REAL_INPUTS 16

typedef struct bench_args {
    const char *model;
    const char *inputs;
    int warmup;
    int runs;
    int threads;
    fq_isa isa;
    bool fp16_arithmetic;
    fq_input_size size;
    bool json;
    bool profile;
} bench_args;

typedef struct bench_result {
    fq_latency_stats latency;
    int threads;
    fq_isa isa;
    size_t arena_bytes;
    long peak_rss_kib;
    int real_inputs;     /* 0: seeded random inputs */
} bench_result;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq bench MODEL [--warmup N] [--runs N] [--threads T] [--isa X]\n"
            "                [--fp16-arithmetic] [--input-size WxH] [--inputs DIR]\n"
            "                [--json | --profile]\n"
            "\n"
            "Times fq_session_run on MODEL (.onnx or .fqm) after a warm-up, and prints mean,\n"
            "median, p90 and min latency in ms, FPS (1000 / median), the load time (read,\n"
            "passes, session), the peak memory (the session's planned arena and the process's\n"
            "peak RSS), the threads and the ISA level used. Inputs are seeded random values\n"
            "(uniform in [-1, 1)) unless --inputs gives real ones.\n"
            "\n"
            "  --warmup N        runs before timing (default 10)\n"
            "  --runs N          timed runs (default 100)\n"
            "  --threads T       kernel threads (default 1)\n"
            "  --isa X           cap the ISA (auto, scalar, sse41, avx2, avx512, ...); $FQ_ISA\n"
            "                    sets it too\n"
            "  --fp16-arithmetic run an fp16 model's convolutions in fp16 arithmetic where the\n"
            "                    CPU has it (AVX512-FP16, ARMv8.2 fp16); by default they run\n"
            "                    fp32 arithmetic on the fp16 weights, which is faster here\n"
            "  --input-size WxH  size of 4-D inputs with a dynamic size (default: the card's,\n"
            "                    else 640x640)\n"
            "  --inputs DIR      time real inputs: .npy files, or photos preprocessed as the\n"
            "                    .fqm metadata or the model card says (the first %d, cycled)\n"
            "  --json            print one JSON object: median_ms, mean_ms, p90_ms, min_ms, fps,\n"
            "                    load_ms, arena_bytes, peak_rss_kib, threads, isa, runs, ...\n"
            "  --profile         then time every node over the same number of runs and print\n"
            "                    each node's and each op type's ms per run and share of the\n"
            "                    total, op types slowest first (not with --json)\n"
            "  -h, --help        show this help\n",
            MAX_REAL_INPUTS);
}

static bool parse_count(const char *text, int min, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min || v > 1000000)
        return false;
    *out = (int)v;
    return true;
}

static int parse_args(int argc, char **argv, bench_args *args)
{
    static const struct option options[] = {
        {"warmup", required_argument, NULL, 'w'},     {"runs", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'},    {"isa", required_argument, NULL, 'i'},
        {"input-size", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"profile", no_argument, NULL, 'p'},          {"help", no_argument, NULL, 'h'},
        {"inputs", required_argument, NULL, 'd'},     {"fp16-arithmetic", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    *args = (bench_args){.warmup = 10, .runs = 100, .threads = 1, .isa = FQ_ISA_AUTO};
    fq_error err = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'w': ok = parse_count(optarg, 0, &args->warmup); break;
        case 'r': ok = parse_count(optarg, 1, &args->runs); break;
        case 't': ok = parse_count(optarg, 1, &args->threads); break;
        case 'i': ok = fq_isa_parse(optarg, &args->isa, &err) == FQ_OK; break;
        case 's': ok = fq_tool_parse_size(optarg, &args->size); break;
        case 'j': args->json = true; break;
        case 'p': args->profile = true; break;
        case 'f': args->fp16_arithmetic = true; break;
        case 'd': args->inputs = optarg; break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
        if (!ok && opt == 'i') {
            fq_tool_error("bench", &err);
            return FQ_EXIT_USAGE;
        }
        if (!ok) {
            fq_tool_fail("bench", "bad value '%s' (see --help)", optarg);
            return FQ_EXIT_USAGE;
        }
    }
    if (args->json && args->profile) {
        fq_tool_fail("bench", "--profile prints text; it does not combine with --json");
        return FQ_EXIT_USAGE;
    }
    if (optind != argc - 1) {
        fq_tool_fail("bench", "needs exactly one MODEL (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->model = argv[optind];
    return FQ_EXIT_OK;
}

/* The inputs the runs cycle through: up to MAX_REAL_INPUTS real ones, else one of seeded random
 * values. Each is written back before its run (a run may reuse input memory). */
typedef struct bench_inputs {
    fq_eval_saved_inputs saved[MAX_REAL_INPUTS];
    int count;
    bool real;
} bench_inputs;

static void bench_inputs_free(bench_inputs *in)
{
    for (int i = 0; i < in->count; i++)
        fq_eval_saved_inputs_free(&in->saved[i]);
    in->count = 0;
}

static fq_status read_real_inputs(const char *dir, fq_eval_model *model, bench_inputs *in,
                                  fq_error *err)
{
    if (model->graph->n_inputs != 1)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s has %d graph inputs; --inputs feeds "
                            "models with one", model->path, model->graph->n_inputs);
    fq_eval_inputs source;
    fq_status status = fq_eval_inputs_open("bench", dir, &model->pre, &source, err);
    bool more = status == FQ_OK;
    while (status == FQ_OK && more && in->count < MAX_REAL_INPUTS) {
        status = fq_eval_inputs_next(&source, model->session, &more, err);
        if (status == FQ_OK && more)
            status = fq_eval_save_inputs(model, &in->saved[in->count], err);
        in->count += status == FQ_OK && more;
    }
    if (status == FQ_OK && in->count == 0)
        status = fq_error_set(err, FQ_ERR_INVALID_ARG, "no usable input in '%s' (photos "
                              "without a face are skipped)", dir);
    fq_eval_inputs_close(&source);
    in->real = true;
    return status;
}

static fq_status prepare_inputs(const bench_args *args, fq_eval_model *model, bench_inputs *in,
                                fq_error *err)
{
    if (args->inputs != NULL)
        return read_real_inputs(args->inputs, model, in, err);
    fq_status status = fq_eval_fill_random(model, 0, err);
    if (status == FQ_OK)
        status = fq_eval_save_inputs(model, &in->saved[0], err);
    in->count = status == FQ_OK;
    return status;
}

static fq_status time_runs(fq_eval_model *model, const bench_args *args, const bench_inputs *in,
                           bench_result *r, fq_error *err)
{
    double *times = fq_calloc((size_t)args->runs, sizeof(double));
    if (times == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate %d timings", args->runs);
    fq_status status = FQ_OK;
    for (int i = 0; i < args->warmup + args->runs && status == FQ_OK; i++) {
        status = fq_eval_restore_inputs(&in->saved[i % in->count], model, err);
        double t0 = fq_tool_now_ms();
        if (status == FQ_OK)
            status = fq_session_run(model->session, err);
        if (i >= args->warmup)
            times[i - args->warmup] = fq_tool_now_ms() - t0;
    }
    if (status == FQ_OK)
        fq_latency_summarize(times, args->runs, &r->latency);
    fq_free(times);
    return status;
}

/* Per-node time of observed runs: each node's share is the time from the previous node's end
 * (or the run's start) to its own. */
typedef struct node_profile {
    double *ms;        /* per node, summed over runs */
    double last;
} node_profile;

static fq_status profile_node(void *user, int node, const fq_tensor *outputs, int n_outputs,
                              fq_error *err)
{
    (void)outputs, (void)n_outputs, (void)err;
    node_profile *np = user;
    double now = fq_tool_now_ms();
    np->ms[node] += now - np->last;
    np->last = now;
    return FQ_OK;
}

typedef struct op_total {
    const char *op;
    double ms;
    int nodes;
} op_total;

static int compare_totals(const void *a, const void *b)
{
    double x = ((const op_total *)a)->ms, y = ((const op_total *)b)->ms;
    return x > y ? -1 : x < y;
}

static void print_profile(const fq_graph *graph, const double *ms, int runs)
{
    double total = 0.0;
    for (int n = 0; n < graph->n_nodes; n++)
        total += ms[n] / runs;
    total = total > 0.0 ? total : 1.0;
    printf("\nprofile (ms per run over %d runs)\n", runs);
    printf("  a fused pair (`fq cpu MODEL` says \"fused into NAME\" for its second node) is "
           "timed\n  on its first node, NAME; the second one shows about 0\n");
    printf("  %4s %-32s %-20s %9s %6s\n", "node", "name", "op", "ms", "share");
    for (int n = 0; n < graph->n_nodes; n++)
        printf("  %4d %-32s %-20s %9.3f %5.1f%%\n", n, graph->nodes[n].name,
               graph->nodes[n].op_type, ms[n] / runs, 100.0 * ms[n] / runs / total);

    /* the three nodes that take the most time */
    int top[3] = {-1, -1, -1};
    for (int n = 0; n < graph->n_nodes; n++) {
        for (int k = 0; k < 3; k++) {
            if (top[k] < 0 || ms[n] > ms[top[k]]) {
                for (int j = 2; j > k; j--)
                    top[j] = top[j - 1];
                top[k] = n;
                break;
            }
        }
    }
    printf("\n  most expensive nodes:\n");
    for (int k = 0; k < 3 && top[k] >= 0; k++)
        printf("  %d. %s (%s): %.3f ms, %.1f%%\n", k + 1, graph->nodes[top[k]].name,
               graph->nodes[top[k]].op_type, ms[top[k]] / runs,
               100.0 * ms[top[k]] / runs / total);

    op_total *ops = fq_calloc((size_t)graph->n_nodes + 1, sizeof(op_total));
    if (ops == NULL)
        return;
    int count = 0;
    for (int n = 0; n < graph->n_nodes; n++) {
        int i = 0;
        while (i < count && strcmp(ops[i].op, graph->nodes[n].op_type) != 0)
            i++;
        if (i == count)
            ops[count++].op = graph->nodes[n].op_type;
        ops[i].ms += ms[n] / runs;
        ops[i].nodes++;
    }
    qsort(ops, (size_t)count, sizeof(op_total), compare_totals);
    printf("\n  %-20s %5s %9s %6s\n", "op", "nodes", "ms", "share");
    for (int i = 0; i < count; i++)
        printf("  %-20s %5d %9.3f %5.1f%%\n", ops[i].op, ops[i].nodes, ops[i].ms,
               100.0 * ops[i].ms / total);
    printf("  %-20s %5d %9.3f\n", "total", graph->n_nodes, total);
    fq_free(ops);
}

static fq_status profile_runs(fq_session *session, const fq_graph *graph, int runs,
                              fq_error *err)
{
    node_profile np = {fq_calloc((size_t)graph->n_nodes + 1, sizeof(double)), 0.0};
    if (np.ms == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate %d node timings",
                            graph->n_nodes);
    fq_status status = FQ_OK;
    for (int i = 0; i < runs && status == FQ_OK; i++) {
        np.last = fq_tool_now_ms();
        status = fq_session_run_observed(session, profile_node, &np, err);
    }
    if (status == FQ_OK)
        print_profile(graph, np.ms, runs);
    fq_free(np.ms);
    return status;
}

/* The highest ISA level a kernel may use under the session's cap. */
static fq_isa level_used(fq_isa cap)
{
    for (int isa = FQ_ISA_COUNT - 1; isa > FQ_ISA_SCALAR; isa--)
        if (fq_isa_allowed((fq_isa)isa, cap))
            return (fq_isa)isa;
    return FQ_ISA_SCALAR;
}

static void print_text(const bench_args *args, const fq_eval_model *model,
                       const bench_result *r)
{
    const fq_latency_stats *l = &r->latency;
    printf("model      %s\n", model->path);
    printf("input      %dx%d, %s\n", model->pre.width, model->pre.height,
           r->real_inputs > 0 ? "real inputs" : "seeded random values");
    if (r->real_inputs > 0)
        printf("inputs     %d from %s, cycled\n", r->real_inputs, args->inputs);
    printf("isa        %s\n", fq_isa_name(r->isa));
    printf("threads    %d\n", r->threads);
    printf("load       %.1f ms (read %.1f ms)\n", model->load_ms, model->read_ms);
    printf("arena      %.2f MB\n", r->arena_bytes / 1e6);
    if (r->peak_rss_kib >= 0)
        printf("peak RSS   %.2f MB\n", r->peak_rss_kib / 1024.0);
    printf("runs       %d (after %d warm-up)\n", args->runs, args->warmup);
    printf("mean       %.3f ms\n", l->mean_ms);
    printf("median     %.3f ms\n", l->median_ms);
    printf("p90        %.3f ms\n", l->p90_ms);
    printf("min        %.3f ms\n", l->min_ms);
    printf("fps        %.1f\n", 1000.0 / l->median_ms);
}

static int print_json(const bench_args *args, const fq_eval_model *model,
                      const bench_result *r)
{
    const fq_latency_stats *l = &r->latency;
    cJSON *o = cJSON_CreateObject();
    char size[32];
    snprintf(size, sizeof(size), "%dx%d", model->pre.width, model->pre.height);
    bool ok = o != NULL && cJSON_AddStringToObject(o, "model", model->path) &&
              cJSON_AddNumberToObject(o, "median_ms", l->median_ms) &&
              cJSON_AddNumberToObject(o, "mean_ms", l->mean_ms) &&
              cJSON_AddNumberToObject(o, "p90_ms", l->p90_ms) &&
              cJSON_AddNumberToObject(o, "min_ms", l->min_ms) &&
              cJSON_AddNumberToObject(o, "fps", 1000.0 / l->median_ms) &&
              cJSON_AddNumberToObject(o, "load_ms", model->load_ms) &&
              cJSON_AddNumberToObject(o, "read_ms", model->read_ms) &&
              cJSON_AddNumberToObject(o, "arena_bytes", (double)r->arena_bytes) &&
              cJSON_AddNumberToObject(o, "peak_rss_kib", (double)r->peak_rss_kib) &&
              cJSON_AddNumberToObject(o, "threads", r->threads) &&
              cJSON_AddStringToObject(o, "isa", fq_isa_name(r->isa)) &&
              cJSON_AddNumberToObject(o, "runs", args->runs) &&
              cJSON_AddNumberToObject(o, "warmup", args->warmup) &&
              cJSON_AddStringToObject(o, "input_size", size) &&
              cJSON_AddStringToObject(o, "inputs", r->real_inputs > 0 ? "real" : "random") &&
              cJSON_AddNumberToObject(o, "real_inputs", r->real_inputs);
    char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (text == NULL)
        return FQ_EXIT_FAILURE;
    printf("%s\n", text);
    cJSON_free(text);
    return FQ_EXIT_OK;
}

static fq_status bench_model(const bench_args *args, fq_eval_model *model, bench_result *r,
                             fq_error *err)
{
    fq_eval_load_options options = {"bench", args->size, args->threads, args->isa,
                                    args->fp16_arithmetic};
    fq_status status = fq_eval_model_load(args->model, &options, model, err);
    if (status != FQ_OK)
        return status;
    r->threads = fq_session_threads(model->session);
    r->isa = level_used(fq_session_isa_cap(model->session));
    r->arena_bytes = fq_session_memory_stats(model->session).arena_bytes;

    bench_inputs inputs = {.count = 0};
    status = prepare_inputs(args, model, &inputs, err);
    r->real_inputs = inputs.real ? inputs.count : 0;
    if (status == FQ_OK)
        status = time_runs(model, args, &inputs, r, err);
    if (status == FQ_OK && args->profile)
        status = fq_eval_restore_inputs(&inputs.saved[0], model, err);
    bench_inputs_free(&inputs);
    r->peak_rss_kib = fq_tool_peak_rss_kib();
    return status;
}

int fq_cmd_bench(int argc, char **argv)
{
    bench_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    fq_error err = {0};
    fq_eval_model model;
    bench_result r = {0};
    fq_status status = bench_model(&args, &model, &r, &err);
    if (status == FQ_OK)
        code = args.json ? print_json(&args, &model, &r)
                         : (print_text(&args, &model, &r), FQ_EXIT_OK);
    if (status == FQ_OK && args.profile)
        status = profile_runs(model.session, model.graph, args.runs, &err);
    if (status != FQ_OK) {
        fq_tool_error("bench", &err);
        code = FQ_EXIT_FAILURE;
    }
    fq_eval_model_free(&model);
    return code;
}
