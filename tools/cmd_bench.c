/* fq bench: the latency of fq_session_run on a model, after a warm-up, with seeded random
 * inputs; text on stdout, or exactly one JSON object with --json. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facequant/fq.h"
#include "fq_common.h"

typedef struct bench_args {
    const char *model;
    int warmup;
    int runs;
    int threads;
    fq_isa isa;
    fq_input_size size;
    bool json;
    bool profile;
} bench_args;

typedef struct bench_result {
    double load_ms;
    double mean_ms, median_ms, p90_ms, min_ms;
    int threads;
    fq_isa isa;
} bench_result;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq bench MODEL [--warmup N] [--runs N] [--threads T] [--isa X]\n"
            "                [--input-size WxH] [--json | --profile]\n"
            "\n"
            "Times fq_session_run on MODEL with seeded random inputs (uniform in [-1, 1)) after\n"
            "a warm-up, and prints mean, median, p90 and min latency in ms, FPS (1000 / median),\n"
            "the load time (read, passes, session), the threads and the ISA level used.\n"
            "\n"
            "  --warmup N        runs before timing (default 3)\n"
            "  --runs N          timed runs (default 20)\n"
            "  --threads T       kernel threads (default 1)\n"
            "  --isa X           cap the ISA (auto, scalar, sse41, avx2, avx512, ...); $FQ_ISA\n"
            "                    sets it too\n"
            "  --input-size WxH  size of 4-D inputs with a dynamic size (default 640x640)\n"
            "  --json            print one JSON object: median_ms, mean_ms, p90_ms, min_ms, fps,\n"
            "                    load_ms, threads, isa, runs\n"
            "  --profile         then time every node over the same number of runs and print\n"
            "                    each node's and each op type's ms per run and share of the\n"
            "                    total, op types slowest first (not with --json)\n"
            "  -h, --help        show this help\n");
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
        {NULL, 0, NULL, 0},
    };
    *args = (bench_args){.warmup = 3, .runs = 20, .threads = 1, .isa = FQ_ISA_AUTO};
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

/* 4-D inputs with a dynamic size get 640x640 unless --input-size says otherwise. */
static void default_size(const fq_graph *graph, fq_input_size *size)
{
    for (int i = 0; i < graph->n_inputs && size->width == 0; i++) {
        const fq_value *v = &graph->values[graph->inputs[i]];
        if (v->shape.rank == 4 && (v->shape.dims[2] < 0 || v->shape.dims[3] < 0))
            size->width = size->height = 640;
    }
}

static unsigned long long next_random(unsigned long long *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Every f32 input uniform in [-1, 1) from a fixed seed; other dtypes zero. */
static void fill_inputs(fq_session *session, const fq_graph *graph)
{
    unsigned long long state = 0x9e3779b97f4a7c15ull;
    fq_error err = {0};
    for (int i = 0; i < graph->n_inputs; i++) {
        fq_tensor t;
        if (fq_session_input(session, i, &t, &err) != FQ_OK || t.data == NULL)
            continue;
        int64_t n = fq_shape_numel(&t.shape);
        if (t.dtype != FQ_DTYPE_F32) {
            memset(t.data, 0, (size_t)n * fq_dtype_size(t.dtype));
            continue;
        }
        float *data = t.data;
        for (int64_t k = 0; k < n; k++)
            data[k] = (float)((next_random(&state) >> 40) / (double)(1 << 23)) - 1.0f;
    }
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summarize(double *times, int runs, bench_result *r)
{
    double sum = 0.0;
    for (int i = 0; i < runs; i++)
        sum += times[i];
    qsort(times, (size_t)runs, sizeof(double), compare_doubles);
    r->mean_ms = sum / runs;
    r->median_ms = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
    int p90 = (int)(0.9 * (runs - 1) + 0.5);
    r->p90_ms = times[p90];
    r->min_ms = times[0];
}

static fq_status time_runs(fq_session *session, const bench_args *args, bench_result *r,
                           fq_error *err)
{
    double *times = calloc((size_t)args->runs, sizeof(double));
    if (times == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate %d timings", args->runs);
    fq_status status = FQ_OK;
    for (int i = 0; i < args->warmup && status == FQ_OK; i++)
        status = fq_session_run(session, err);
    for (int i = 0; i < args->runs && status == FQ_OK; i++) {
        double t0 = fq_tool_now_ms();
        status = fq_session_run(session, err);
        times[i] = fq_tool_now_ms() - t0;
    }
    if (status == FQ_OK)
        summarize(times, args->runs, r);
    free(times);
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
    printf("  %4s %-32s %-20s %9s %6s\n", "node", "name", "op", "ms", "share");
    for (int n = 0; n < graph->n_nodes; n++)
        printf("  %4d %-32s %-20s %9.3f %5.1f%%\n", n, graph->nodes[n].name,
               graph->nodes[n].op_type, ms[n] / runs, 100.0 * ms[n] / runs / total);

    op_total *ops = calloc((size_t)graph->n_nodes + 1, sizeof(op_total));
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
    free(ops);
}

static fq_status profile_runs(fq_session *session, const fq_graph *graph, int runs,
                              fq_error *err)
{
    node_profile np = {calloc((size_t)graph->n_nodes + 1, sizeof(double)), 0.0};
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
    free(np.ms);
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

static void print_text(const bench_args *args, const bench_result *r)
{
    printf("model      %s\n", args->model);
    printf("isa        %s\n", fq_isa_name(r->isa));
    printf("threads    %d\n", r->threads);
    printf("load       %.1f ms\n", r->load_ms);
    printf("runs       %d (after %d warm-up)\n", args->runs, args->warmup);
    printf("mean       %.3f ms\n", r->mean_ms);
    printf("median     %.3f ms\n", r->median_ms);
    printf("p90        %.3f ms\n", r->p90_ms);
    printf("min        %.3f ms\n", r->min_ms);
    printf("fps        %.1f\n", 1000.0 / r->median_ms);
}

static int print_json(const bench_args *args, const bench_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return FQ_EXIT_FAILURE;
    cJSON_AddStringToObject(o, "model", args->model);
    cJSON_AddNumberToObject(o, "median_ms", r->median_ms);
    cJSON_AddNumberToObject(o, "mean_ms", r->mean_ms);
    cJSON_AddNumberToObject(o, "p90_ms", r->p90_ms);
    cJSON_AddNumberToObject(o, "min_ms", r->min_ms);
    cJSON_AddNumberToObject(o, "fps", 1000.0 / r->median_ms);
    cJSON_AddNumberToObject(o, "load_ms", r->load_ms);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddStringToObject(o, "isa", fq_isa_name(r->isa));
    cJSON_AddNumberToObject(o, "runs", args->runs);
    cJSON_AddNumberToObject(o, "warmup", args->warmup);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return FQ_EXIT_FAILURE;
    printf("%s\n", text);
    cJSON_free(text);
    return FQ_EXIT_OK;
}

int fq_cmd_bench(int argc, char **argv)
{
    bench_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    fq_error err = {0};
    fq_graph *graph = NULL;
    fq_session *session = NULL;
    bench_result r = {0};
    double t0 = fq_tool_now_ms();
    fq_status status = fq_onnx_read_file(args.model, &graph, &err);
    if (status == FQ_OK) {
        default_size(graph, &args.size);
        status = fq_passes_run(graph, &args.size, &err);
    }
    fq_session_options options = fq_session_options_default();
    options.threads = args.threads;
    options.isa = args.isa;
    if (status == FQ_OK)
        status = fq_session_create(graph, &options, &session, &err);
    if (status == FQ_OK) {
        r.load_ms = fq_tool_now_ms() - t0;
        r.threads = fq_session_threads(session);
        r.isa = level_used(fq_session_isa_cap(session));
        fill_inputs(session, graph);
        status = time_runs(session, &args, &r, &err);
    }
    if (status == FQ_OK)
        code = args.json ? print_json(&args, &r) : (print_text(&args, &r), FQ_EXIT_OK);
    if (status == FQ_OK && args.profile)
        status = profile_runs(session, graph, args.runs, &err);
    if (status != FQ_OK) {
        fq_tool_error("bench", &err);
        code = FQ_EXIT_FAILURE;
    }
    fq_session_free(session);
    fq_graph_free(graph);
    return code;
}
