/* fq quantize: a float model to static int8, dynamic int8 or fp16, as an .fqm file, with what
 * it cost: sizes, the layers kept in float and why, and the output agreement. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "face_common.h"
#include "fq_common.h"
#include "quant/quantize_tool.h"
#include "quant/report_html.h"

#define CMD "quantize"
#define MAX_KEEP 256

typedef struct quantize_args {
    fq_tool_quantize_request req;
    const char *report_path;
    bool verbose;
    bool json;
    char *keep_text;          /* the --keep-float argument, split in place */
    const char *keep[MAX_KEEP];
} quantize_args;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq quantize MODEL --type int8|fp16|dynamic -o OUT.fqm\n"
            "         [--calib DIR] [--stats FILE] [--method minmax|percentile|entropy|mse]\n"
            "         [--percentile P] [--detector D] [--input-size WxH] [--inputs N]\n"
            "         [--keep-float NODE,...] [--target-cosine C] [--sensitivity]\n"
            "         [--qdq OUT.onnx] [--report report.html] [--threads N] [--progress]\n"
            "         [--verbose] [--json]\n"
            "\n"
            "Rewrites MODEL (.onnx or a converted .fqm) to the precision of --type and writes\n"
            "it as an .fqm file that fq run, fq bench, fq detect and fq recognize load like\n"
            "the float model: same inputs and outputs.\n"
            "  int8     static: int8 weights per output channel, uint8 activations with scales\n"
            "           from calibration photos (--calib DIR, 100 or more recommended, or\n"
            "           --stats from fq calibrate)\n"
            "  fp16     fp16 weights (half the size); with --calib, activations whose range\n"
            "           does not fit fp16 keep their layer in fp32\n"
            "  dynamic  int8 weights; activations quantized on each run from their range\n"
            "\n"
            "  --calib DIR          calibration photos (walked recursively); also used to\n"
            "                       measure the agreement with the float model\n"
            "  --stats FILE         statistics written by fq calibrate, instead of calibrating\n"
            "  --method M           how int8 ranges are chosen (default percentile)\n"
            "  --percentile P       for --method percentile (default %g)\n"
            "  --detector D         detector that cuts face crops for a recognizer (default %s)\n"
            "  --input-size WxH     input size of an ONNX model with a dynamic size\n"
            "  --inputs N           calibration inputs, repeating photos as needed\n"
            "  --keep-float LIST    node names (comma-separated) to leave in float\n"
            "  --target-cosine C    keep the fewest sensitive layers in float that reach a mean\n"
            "                       output cosine of C against the float model (needs --calib)\n"
            "  --sensitivity        quantize each layer alone and print its effect on the output\n"
            "  --qdq F              int8: also write a QDQ ONNX model other runtimes load\n"
            "  --report F           an HTML report: per-layer SQNR, float layers and why, sizes,\n"
            "                       output errors, with a chart\n"
            "  --threads N          threads for calibration and measurement\n"
            "  --verbose            list every node with its precision\n"
            "  --json               print the summary as one JSON object\n"
            "  -h, --help           show this help\n"
            "\n%s"
            "\nExit status: 0 success, 1 failure, 2 usage error.\n",
            FQ_CALIB_DEFAULT_PERCENTILE, FQ_TOOL_DEFAULT_DETECTOR, fq_tool_model_lookup_help);
}

static int usage_error(const char *what, const char *value)
{
    fq_tool_fail(CMD, "%s, not '%s' (see --help)", what, value);
    return FQ_EXIT_USAGE;
}

static bool parse_number(const char *text, double lo, double hi, double *value)
{
    char *end;
    *value = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*value) && *value >= lo && *value <= hi;
}

static int split_keep(quantize_args *args, char *text)
{
    args->keep_text = text;
    int n = 0;
    for (char *tok = strtok(text, ","); tok != NULL; tok = strtok(NULL, ",")) {
        if (n == MAX_KEEP)
            return usage_error("--keep-float takes at most 256 names", "...");
        args->keep[n++] = tok;
    }
    args->req.keep_float = args->keep;
    args->req.n_keep_float = n;
    return FQ_EXIT_OK;
}

static int parse_option(int opt, quantize_args *args)
{
    fq_tool_quantize_request *req = &args->req;
    double v;
    switch (opt) {
    case 't':
        return fq_quant_type_parse(optarg, &req->type)
                   ? FQ_EXIT_OK
                   : usage_error("--type takes int8, fp16 or dynamic", optarg);
    case 'o': req->output_path = optarg; return FQ_EXIT_OK;
    case 'c': req->calib_dir = optarg; return FQ_EXIT_OK;
    case 'S': req->stats_path = optarg; return FQ_EXIT_OK;
    case 'd': req->detector = optarg; return FQ_EXIT_OK;
    case 'q': req->qdq_path = optarg; return FQ_EXIT_OK;
    case 'r': args->report_path = optarg; return FQ_EXIT_OK;
    case 'g': req->progress = true; return FQ_EXIT_OK;
    case 'v': args->verbose = true; return FQ_EXIT_OK;
    case 'j': args->json = true; return FQ_EXIT_OK;
    case 'k': return split_keep(args, optarg);
    case 'e': req->sensitivity = true; return FQ_EXIT_OK;
    case 'm':
        return fq_calib_method_parse(optarg, &req->method)
                   ? FQ_EXIT_OK
                   : usage_error("--method takes minmax, percentile, entropy or mse", optarg);
    case 'p':
        if (!parse_number(optarg, 1e-9, 100.0, &req->percentile))
            return usage_error("--percentile takes a number in (0, 100]", optarg);
        return FQ_EXIT_OK;
    case 'C':
        if (!parse_number(optarg, 1e-9, 1.0, &req->target_cosine))
            return usage_error("--target-cosine takes a number in (0, 1]", optarg);
        return FQ_EXIT_OK;
    case 's':
        return fq_tool_parse_size(optarg, &req->size)
                   ? FQ_EXIT_OK
                   : usage_error("--input-size takes WxH, such as 640x480", optarg);
    case 'n':
        if (!parse_number(optarg, 1, 1e6, &v) || v != floor(v))
            return usage_error("--inputs takes a positive whole number", optarg);
        req->max_inputs = (int)v;
        return FQ_EXIT_OK;
    case 'T':
        if (!parse_number(optarg, 1, 256, &v) || v != floor(v))
            return usage_error("--threads takes a whole number from 1 to 256", optarg);
        req->threads = (int)v;
        return FQ_EXIT_OK;
    case 'h': help(stdout); return -1;
    default: help(stderr); return FQ_EXIT_USAGE;
    }
}

static int parse_args(int argc, char **argv, quantize_args *args)
{
    static const struct option options[] = {
        {"type", required_argument, NULL, 't'},       {"output", required_argument, NULL, 'o'},
        {"calib", required_argument, NULL, 'c'},      {"stats", required_argument, NULL, 'S'},
        {"method", required_argument, NULL, 'm'},     {"percentile", required_argument, NULL, 'p'},
        {"detector", required_argument, NULL, 'd'},   {"input-size", required_argument, NULL, 's'},
        {"inputs", required_argument, NULL, 'n'},     {"keep-float", required_argument, NULL, 'k'},
        {"target-cosine", required_argument, NULL, 'C'},
        {"sensitivity", no_argument, NULL, 'e'},      {"qdq", required_argument, NULL, 'q'},
        {"report", required_argument, NULL, 'r'},     {"threads", required_argument, NULL, 'T'},
        {"progress", no_argument, NULL, 'g'},         {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, 'j'},             {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(args, 0, sizeof(*args));
    args->req.type = FQ_QUANT_TYPE_COUNT;
    args->req.method = FQ_CALIB_PERCENTILE;
    args->req.log_prefix = "fq " CMD;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        int code = parse_option(opt, args);
        if (code != FQ_EXIT_OK)
            return code;
    }
    if (optind != argc - 1 || args->req.output_path == NULL ||
        args->req.type == FQ_QUANT_TYPE_COUNT) {
        fq_tool_fail(CMD, "needs MODEL, --type int8|fp16|dynamic and -o OUT.fqm (see --help)");
        return FQ_EXIT_USAGE;
    }
    bool needs_photos = args->req.target_cosine > 0.0 || args->req.sensitivity;
    if (needs_photos && args->req.calib_dir == NULL) {
        fq_tool_fail(CMD, "--target-cosine and --sensitivity measure on photos: give --calib DIR");
        return FQ_EXIT_USAGE;
    }
    if (args->req.qdq_path != NULL && args->req.type != FQ_QUANT_INT8) {
        fq_tool_fail(CMD, "--qdq writes static int8 models only (--type int8)");
        return FQ_EXIT_USAGE;
    }
    args->req.layer_sqnr = args->report_path != NULL;
    args->req.model_path = argv[optind];
    return FQ_EXIT_OK;
}

static const char *precision_name(fq_dtype precision)
{
    switch (precision) {
    case FQ_DTYPE_I8: return "int8";
    case FQ_DTYPE_F16: return "fp16";
    default: return "fp32";
    }
}

static void print_text(const quantize_args *args, const fq_tool_quantize_result *r)
{
    const fq_quantize_report *rep = r->report;
    if (args->verbose)
        for (int n = 0; n < rep->n_nodes; n++)
            printf("  %-40s %-20s %-5s %s\n", rep->nodes[n].node, rep->nodes[n].op_type,
                   precision_name(rep->nodes[n].precision),
                   rep->nodes[n].reason != NULL ? rep->nodes[n].reason : "");
    for (int n = 0; n < rep->n_nodes && !args->verbose; n++)
        if (rep->nodes[n].reason != NULL)
            printf("  %s: %s (%s): %s\n", precision_name(rep->nodes[n].precision),
                   rep->nodes[n].node, rep->nodes[n].op_type, rep->nodes[n].reason);
    if (r->sensitivity != NULL) {
        printf("sensitivity (each layer quantized alone)\n  %-40s %10s %10s %10s\n", "node",
               "cos mean", "cos min", "SQNR dB");
        for (int i = 0; i < r->sensitivity->n_entries; i++) {
            const fq_sensitivity_entry *e = &r->sensitivity->entries[i];
            printf("  %-40s %10.6f %10.6f %10.2f\n", e->node, e->agreement.cosine_mean,
                   e->agreement.cosine_min, e->agreement.sqnr_db);
        }
    }
    printf("%s: %s, %zu bytes (model file %zu bytes, %.1f%%); weights %zu -> %zu bytes\n",
           args->req.output_path, fq_quant_type_name(rep->type), r->output_bytes,
           r->input_bytes, r->input_bytes > 0 ? 100.0 * (double)r->output_bytes /
                                                    (double)r->input_bytes : 0.0,
           rep->weight_bytes_before, rep->weight_bytes_after);
    printf("nodes: %d quantized, %d compute nodes kept float", rep->quantized, rep->kept_float);
    if (args->req.target_cosine > 0.0)
        printf(" (%d kept for --target-cosine %g)", r->kept_for_target,
               args->req.target_cosine);
    printf(", %d saturated biases", rep->saturated_biases);
    if (rep->type == FQ_QUANT_INT8)
        printf(", %d depthwise inputs equalized", rep->equalized);
    printf("\n");
    if (r->measured)
        printf("agreement with the float model over %d inputs: cosine mean %.6f min %.6f, "
               "max |error| %.4g, SQNR %.2f dB\n", r->agreement.inputs, r->agreement.cosine_mean,
               r->agreement.cosine_min, r->agreement.max_abs_error, r->agreement.sqnr_db);
    else
        printf("agreement not measured (give --calib DIR to measure it on photos)\n");
}

static void print_json(const quantize_args *args, const fq_tool_quantize_result *r)
{
    const fq_quantize_report *rep = r->report;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "output", args->req.output_path);
    cJSON_AddStringToObject(root, "type", fq_quant_type_name(rep->type));
    cJSON_AddNumberToObject(root, "size_bytes", (double)r->output_bytes);
    cJSON_AddNumberToObject(root, "input_bytes", (double)r->input_bytes);
    cJSON_AddNumberToObject(root, "weight_bytes_before", (double)rep->weight_bytes_before);
    cJSON_AddNumberToObject(root, "weight_bytes_after", (double)rep->weight_bytes_after);
    cJSON_AddNumberToObject(root, "quantized_nodes", rep->quantized);
    cJSON_AddNumberToObject(root, "float_compute_nodes", rep->kept_float);
    cJSON_AddNumberToObject(root, "saturated_biases", rep->saturated_biases);
    cJSON_AddNumberToObject(root, "equalized_depthwise_inputs", rep->equalized);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    if (r->measured) {
        cJSON *acc = cJSON_AddObjectToObject(root, "accuracy");
        cJSON_AddNumberToObject(acc, "inputs", r->agreement.inputs);
        cJSON_AddNumberToObject(acc, "cosine_mean", r->agreement.cosine_mean);
        cJSON_AddNumberToObject(acc, "cosine_min", r->agreement.cosine_min);
        cJSON_AddNumberToObject(acc, "max_abs_error", r->agreement.max_abs_error);
        cJSON_AddNumberToObject(acc, "sqnr_db", r->agreement.sqnr_db);
    }
    cJSON *floats = cJSON_AddArrayToObject(root, "float_nodes");
    for (int n = 0; n < rep->n_nodes; n++) {
        if (rep->nodes[n].reason == NULL)
            continue;
        cJSON *node = cJSON_CreateObject();
        cJSON_AddStringToObject(node, "node", rep->nodes[n].node);
        cJSON_AddStringToObject(node, "op", rep->nodes[n].op_type);
        cJSON_AddStringToObject(node, "reason", rep->nodes[n].reason);
        cJSON_AddItemToArray(floats, node);
    }
    char *text = cJSON_PrintUnformatted(root);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    cJSON_Delete(root);
}

int fq_cmd_quantize(int argc, char **argv)
{
    quantize_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    fq_error err = {0};
    fq_tool_quantize_result result;
    if (fq_tool_quantize(&args.req, &result, &err) != FQ_OK) {
        fq_tool_error(CMD, &err);
        return FQ_EXIT_FAILURE;
    }
    code = FQ_EXIT_OK;
    if (args.report_path != NULL &&
        fq_tool_write_report_html(args.report_path, &args.req, &result, &err) != FQ_OK) {
        fq_tool_error(CMD, &err);
        code = FQ_EXIT_FAILURE;
    }
    if (args.json)
        print_json(&args, &result);
    else
        print_text(&args, &result);
    if (args.report_path != NULL && code == FQ_EXIT_OK)
        fprintf(stderr, "fq %s: report written to %s\n", CMD, args.report_path);
    fq_tool_quantize_result_free(&result);
    return code;
}
