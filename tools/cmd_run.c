/* fq run: a model on .npy inputs, outputs written as .npy files, optionally checked against
 * reference outputs (such as ONNX Runtime's). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facequant/fq.h"
#include "facequant/npy.h"
#include "fq_common.h"
#include "model_file.h"

#define MAX_INPUTS 16

typedef struct run_args {
    const char *model;
    const char *names[MAX_INPUTS];
    const char *files[MAX_INPUTS];
    int n_inputs;
    fq_input_size size;
    const char *output_dir;
    const char *check_dir;
    double tolerance;
    int threads;
    fq_isa isa;
    bool fp16_arithmetic;
} run_args;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq run MODEL --input NAME=FILE.npy [--input NAME=FILE.npy ...]\n"
            "              [--input-size WxH] --output-dir DIR [--check REFDIR]\n"
            "              [--threads N] [--isa X] [--fp16-arithmetic]\n"
            "\n"
            "Runs MODEL on the given inputs and writes each output as DIR/NAME.npy, with every\n"
            "character of NAME other than letters, digits, '.', '_' and '-' replaced by '_'.\n"
            "The input size comes from the .npy shapes unless --input-size is given.\n"
            "\n"
            "  --input NAME=FILE  a graph input and the .npy file holding it; for a model with\n"
            "                     one input, FILE alone is enough\n"
            "  --input-size WxH   width x height for 4-D image inputs\n"
            "  --output-dir DIR   where the outputs go (created with its parents)\n"
            "  --check REFDIR     compare every output with REFDIR/NAME.npy and fail when the\n"
            "                     max abs difference exceeds TOL * max(1, max |reference|)\n"
            "  --tolerance TOL    relative tolerance of --check (default 1e-4)\n"
            "  --threads N        kernel threads (default 1); outputs do not depend on it\n"
            "  --isa X            cap the kernels' ISA (auto, scalar, sse41, avx2, avx512, ...);\n"
            "                     $FQ_ISA sets it too\n"
            "  --fp16-arithmetic  run an fp16 model's convolutions in fp16 arithmetic where the\n"
            "                     CPU has it (AVX512-FP16, ARMv8.2 fp16), not fp32 arithmetic\n"
            "                     on the fp16 weights (the default, faster here)\n"
            "  -h, --help         show this help\n");
}

static int parse_args(int argc, char **argv, run_args *args)
{
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},      {"input-size", required_argument, NULL, 's'},
        {"output-dir", required_argument, NULL, 'o'}, {"check", required_argument, NULL, 'c'},
        {"tolerance", required_argument, NULL, 't'},  {"threads", required_argument, NULL, 'n'},
        {"isa", required_argument, NULL, 'a'},        {"help", no_argument, NULL, 'h'},
        {"fp16-arithmetic", no_argument, NULL, 'f'},  {NULL, 0, NULL, 0},
    };
    memset(args, 0, sizeof(*args));
    args->tolerance = 1e-4;
    args->threads = 1;
    args->isa = FQ_ISA_AUTO;
    fq_error err = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'i': {
            if (args->n_inputs == MAX_INPUTS) {
                fq_tool_fail("run", "at most %d inputs", MAX_INPUTS);
                return FQ_EXIT_USAGE;
            }
            char *eq = strchr(optarg, '=');
            args->names[args->n_inputs] = eq != NULL ? optarg : NULL;
            args->files[args->n_inputs] = eq != NULL ? eq + 1 : optarg;
            if (eq != NULL)
                *eq = '\0';
            args->n_inputs++;
            break;
        }
        case 's':
            if (!fq_tool_parse_size(optarg, &args->size)) {
                fq_tool_fail("run", "--input-size takes WxH, such as 640x480, not '%s'", optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'o': args->output_dir = optarg; break;
        case 'c': args->check_dir = optarg; break;
        case 't': args->tolerance = atof(optarg); break;
        case 'n':
            args->threads = atoi(optarg);
            if (args->threads < 1 || args->threads > 1024) {
                fq_tool_fail("run", "--threads takes a count from 1 to 1024, not '%s'", optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'a':
            if (fq_isa_parse(optarg, &args->isa, &err) != FQ_OK) {
                fq_tool_error("run", &err);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'f': args->fp16_arithmetic = true; break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || args->n_inputs == 0 || args->output_dir == NULL) {
        fq_tool_fail("run", "needs MODEL, at least one --input and --output-dir (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->model = argv[optind];
    return FQ_EXIT_OK;
}

/* Reads the inputs, gives the graph their shapes, and resolves bare FILE arguments. */
static fq_status read_inputs(fq_graph *graph, run_args *args, fq_npy *npys, fq_error *err)
{
    for (int i = 0; i < args->n_inputs; i++) {
        if (args->names[i] == NULL) {
            if (graph->n_inputs != 1)
                return fq_error_set(err, FQ_ERR_INVALID_ARG, "the model has %d inputs: name "
                                    "each one with --input NAME=FILE", graph->n_inputs);
            args->names[i] = graph->values[graph->inputs[0]].name;
        }
        fq_status status = fq_npy_read_file(args->files[i], &npys[i], err);
        if (status == FQ_OK)
            status = fq_pass_set_input_shape(graph, args->names[i], &npys[i].shape, err);
        if (status != FQ_OK)
            return status;
    }
    for (int i = 0; i < graph->n_inputs; i++) {
        const char *name = graph->values[graph->inputs[i]].name;
        bool given = false;
        for (int k = 0; k < args->n_inputs; k++)
            given = given || strcmp(args->names[k], name) == 0;
        if (!given)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "input '%s' is not given: add "
                                "--input %s=FILE.npy", name, name);
    }
    return FQ_OK;
}

static fq_status feed_inputs(fq_session *session, const run_args *args, const fq_npy *npys,
                             fq_error *err)
{
    for (int i = 0; i < args->n_inputs; i++) {
        int index = fq_session_input_index(session, args->names[i]);
        fq_tensor t;
        fq_status status = fq_session_input(session, index, &t, err);
        if (status != FQ_OK)
            return status;
        if (t.dtype != npys[i].dtype)
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "input '%s' is %s, %s holds %s",
                                args->names[i], fq_dtype_name(t.dtype), args->files[i],
                                fq_dtype_name(npys[i].dtype));
        status = fq_session_set_input(session, index, npys[i].data, npys[i].size, err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* Compares an f32 output with DIR/NAME.npy; prints one line and returns whether it is within
 * tolerance. */
static bool check_output(const char *dir, const char *file_name, const char *name,
                         const fq_tensor *t, double tolerance)
{
    char path[4096];
    fq_npy ref;
    fq_error err = {0};
    snprintf(path, sizeof(path), "%s/%s.npy", dir, file_name);
    if (fq_npy_read_file(path, &ref, &err) != FQ_OK) {
        printf("  %-20s no reference: %s\n", name, err.message);
        return false;
    }
    int64_t n = fq_shape_numel(&t->shape);
    bool ok = ref.dtype == FQ_DTYPE_F32 && t->dtype == FQ_DTYPE_F32 &&
              fq_shape_numel(&ref.shape) == n;
    double max_diff = 0.0, max_ref = 0.0;
    for (int64_t k = 0; ok && k < n; k++) {
        double a = ((const float *)t->data)[k];
        double b = ((const float *)ref.data)[k];
        double d = fabs(a - b);
        max_diff = d > max_diff || isnan(d) ? d : max_diff;
        max_ref = fabs(b) > max_ref ? fabs(b) : max_ref;
    }
    double limit = tolerance * (max_ref > 1.0 ? max_ref : 1.0);
    if (!ok)
        printf("  %-20s differs in dtype or element count from %s\n", name, path);
    else
        printf("  %-20s max|diff| %.3g  max|ref| %.3g  ratio %.3g  %s\n", name, max_diff, max_ref,
               max_diff / (max_ref > 1.0 ? max_ref : 1.0), max_diff <= limit ? "ok" : "MISMATCH");
    fq_npy_free(&ref);
    return ok && max_diff <= limit;
}

static int write_outputs(const fq_session *session, const fq_graph *graph, const run_args *args)
{
    fq_error err = {0};
    bool all_ok = true;
    if (args->check_dir != NULL)
        printf("agreement with %s (tolerance %.0e relative to max(1, max|ref|)):\n",
               args->check_dir, args->tolerance);
    for (int i = 0; i < graph->n_outputs; i++) {
        fq_tensor t;
        char file_name[1024], path[4096], shape[128];
        const char *name = graph->values[graph->outputs[i]].name;
        fq_session_output(session, i, &t, &err);
        fq_tool_sanitize_name(name, file_name, sizeof(file_name));
        snprintf(path, sizeof(path), "%s/%s.npy", args->output_dir, file_name);
        if (fq_npy_write_file(path, t.dtype, &t.shape, t.data, &err) != FQ_OK) {
            fq_tool_error("run", &err);
            return FQ_EXIT_FAILURE;
        }
        if (args->check_dir != NULL)
            all_ok = check_output(args->check_dir, file_name, name, &t, args->tolerance) &&
                     all_ok;
        else
            printf("%s  %s %s\n", path, fq_dtype_name(t.dtype),
                   fq_shape_format(&t.shape, shape, sizeof(shape)));
    }
    return all_ok ? FQ_EXIT_OK : FQ_EXIT_FAILURE;
}

int fq_cmd_run(int argc, char **argv)
{
    run_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    fq_error err = {0};
    fq_graph *graph = NULL;
    fq_session *session = NULL;
    fq_npy npys[MAX_INPUTS];
    memset(npys, 0, sizeof(npys));
    double t0 = fq_tool_now_ms(), t1 = t0, t2 = t0;

    fq_status status = fq_tool_read_model(args.model, &graph, NULL, NULL, &err);
    if (status == FQ_OK)
        status = read_inputs(graph, &args, npys, &err);
    if (status == FQ_OK)
        status = fq_passes_run(graph, &args.size, &err);
    fq_session_options options = fq_session_options_default();
    options.threads = args.threads;
    options.isa = args.isa;
    options.fp16_arithmetic = args.fp16_arithmetic;
    if (status == FQ_OK)
        status = fq_session_create(graph, &options, &session, &err);
    if (status == FQ_OK)
        status = feed_inputs(session, &args, npys, &err);
    if (status == FQ_OK) {
        t1 = fq_tool_now_ms();
        status = fq_session_run(session, &err);
        t2 = fq_tool_now_ms();
    }
    if (status == FQ_OK && !fq_tool_mkdirs(args.output_dir)) {
        fq_tool_fail("run", "cannot create the output directory '%s'", args.output_dir);
        code = FQ_EXIT_FAILURE;
    } else if (status == FQ_OK) {
        fprintf(stderr, "fq run: loaded in %.1f ms, ran in %.1f ms\n", t1 - t0, t2 - t1);
        code = write_outputs(session, graph, &args);
    } else {
        fq_tool_error("run", &err);
        code = FQ_EXIT_FAILURE;
    }

    for (int i = 0; i < args.n_inputs; i++)
        fq_npy_free(&npys[i]);
    fq_session_free(session);
    fq_graph_free(graph);
    return code;
}
