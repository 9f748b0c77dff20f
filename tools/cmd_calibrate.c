/* fq calibrate: statistics of every activation of a model over a folder of photos, written to a
 * file for the quantizer, with a per-value summary of the thresholds each method chooses. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "calib/calib_images.h"
#include "face_common.h"
#include "fq_common.h"

#define CMD "calibrate"

typedef struct calibrate_args {
    const char *model;
    const char *dir;
    const char *detector;
    const char *output;
    fq_calib_method method;
    double percentile;
    fq_input_size size;
    int inputs;
    bool progress;
    const char *mean;
    const char *std;
    const char *color;
    const char *geometry;
} calibrate_args;

static void calibrate_help(FILE *out)
{
    fprintf(out,
            "usage: fq calibrate MODEL --calib DIR -o STATS [--detector D]\n"
            "         [--method minmax|percentile|entropy|mse] [--percentile P]\n"
            "         [--input-size WxH] [--inputs N] [--progress]\n"
            "         [--mean M] [--std S] [--color rgb|bgr]\n"
            "         [--geometry letterbox|resize|aligned]\n"
            "\n"
            "Runs MODEL on the photos of DIR (walked recursively; files that are not images are\n"
            "skipped and counted) and writes the statistics of every activation (min, max and a\n"
            "2048-bin histogram of |x|) to STATS, so quantization can be redone without\n"
            "calibrating again. Detectors get letterboxed photos; recognizers get aligned crops\n"
            "of the largest face found by the detector, and images already at the recognizer's\n"
            "input size are taken as aligned crops. The preprocessing comes from the model's\n"
            "card; the options below override it.\n"
            "\n"
            "  --calib DIR       folder of calibration photos (100 or more recommended)\n"
            "  -o, --output F    statistics file to write\n"
            "  --detector D      detector that cuts face crops for a recognizer (default %s)\n"
            "  --method M        method marked in the summary, whose range and scales are shown\n"
            "                    (default percentile)\n"
            "  --percentile P    percentile of |x| for the percentile method (default %g)\n"
            "  --input-size WxH  model input size (default: the card's, else 640x640 for\n"
            "                    detectors and 112x112 for recognizers)\n"
            "  --inputs N        run N inputs, repeating the photos as needed (default: each\n"
            "                    photo once)\n"
            "  --progress        show progress on stderr even when it is not a terminal\n"
            "  --mean M, --std S one value or three (R,G,B): input = (pixel - mean) / std\n"
            "  --color C         channel order of the model input\n"
            "  --geometry G      letterbox, resize (stretch) or aligned (face crops)\n"
            "  -h, --help        show this help\n"
            "\n%s"
            "\nPrints one line per value on stdout: min, max and the threshold of each method.\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n",
            FQ_TOOL_DEFAULT_DETECTOR, FQ_CALIB_DEFAULT_PERCENTILE, fq_tool_model_lookup_help);
}

static int usage_error(const char *what, const char *value)
{
    fq_tool_fail(CMD, "%s, not '%s' (see --help)", what, value);
    return FQ_EXIT_USAGE;
}

static bool parse_double(const char *text, double *value)
{
    char *end;
    *value = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*value);
}

static int parse_option(int opt, calibrate_args *args)
{
    switch (opt) {
    case 'c': args->dir = optarg; return FQ_EXIT_OK;
    case 'o': args->output = optarg; return FQ_EXIT_OK;
    case 'd': args->detector = optarg; return FQ_EXIT_OK;
    case 'g': args->progress = true; return FQ_EXIT_OK;
    case 'M': args->mean = optarg; return FQ_EXIT_OK;
    case 'S': args->std = optarg; return FQ_EXIT_OK;
    case 'C': args->color = optarg; return FQ_EXIT_OK;
    case 'G': args->geometry = optarg; return FQ_EXIT_OK;
    case 'm':
        return fq_calib_method_parse(optarg, &args->method)
                   ? FQ_EXIT_OK
                   : usage_error("--method takes minmax, percentile, entropy or mse", optarg);
    case 'p':
        return parse_double(optarg, &args->percentile) && args->percentile > 0.0 &&
                       args->percentile <= 100.0
                   ? FQ_EXIT_OK
                   : usage_error("--percentile takes a number in (0, 100]", optarg);
    case 's':
        return fq_tool_parse_size(optarg, &args->size)
                   ? FQ_EXIT_OK
                   : usage_error("--input-size takes WxH, such as 640x480", optarg);
    case 'n': {
        double n;
        if (!parse_double(optarg, &n) || n < 1 || n > 1e9 || n != floor(n))
            return usage_error("--inputs takes a positive whole number", optarg);
        args->inputs = (int)n;
        return FQ_EXIT_OK;
    }
    case 'h': calibrate_help(stdout); return -1;
    default: calibrate_help(stderr); return FQ_EXIT_USAGE;
    }
}

static int parse_calibrate_args(int argc, char **argv, calibrate_args *args)
{
    static const struct option options[] = {
        {"calib", required_argument, NULL, 'c'},      {"output", required_argument, NULL, 'o'},
        {"detector", required_argument, NULL, 'd'},   {"method", required_argument, NULL, 'm'},
        {"percentile", required_argument, NULL, 'p'}, {"input-size", required_argument, NULL, 's'},
        {"inputs", required_argument, NULL, 'n'},     {"progress", no_argument, NULL, 'g'},
        {"mean", required_argument, NULL, 'M'},       {"std", required_argument, NULL, 'S'},
        {"color", required_argument, NULL, 'C'},      {"geometry", required_argument, NULL, 'G'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    memset(args, 0, sizeof(*args));
    args->detector = FQ_TOOL_DEFAULT_DETECTOR;
    args->method = FQ_CALIB_PERCENTILE;
    args->percentile = FQ_CALIB_DEFAULT_PERCENTILE;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        int code = parse_option(opt, args);
        if (code != FQ_EXIT_OK)
            return code;
    }
    if (optind != argc - 1 || args->dir == NULL || args->output == NULL) {
        fq_tool_fail(CMD, "needs MODEL, --calib DIR and -o STATS (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->model = argv[optind];
    return FQ_EXIT_OK;
}

/* "127.5" or "123.7,116.3,103.5" into three values. */
static bool parse_triple(const char *text, float out[3])
{
    double v[3];
    char *end;
    int n = 0;
    const char *p = text;
    while (n < 3) {
        v[n++] = strtod(p, &end);
        if (end == p || !isfinite(v[n - 1]))
            return false;
        if (*end != ',')
            break;
        p = end + 1;
    }
    if (*end != '\0' || (n != 1 && n != 3))
        return false;
    for (int i = 0; i < 3; i++)
        out[i] = (float)v[n == 1 ? 0 : i];
    return true;
}

static int apply_overrides(const calibrate_args *args, fq_preprocess *pre)
{
    if (args->size.width > 0) {
        pre->width = (int)args->size.width;
        pre->height = (int)args->size.height;
    }
    if (args->mean != NULL && !parse_triple(args->mean, pre->norm.mean))
        return usage_error("--mean takes one number or three separated by commas", args->mean);
    if (args->std != NULL && (!parse_triple(args->std, pre->norm.std) ||
                              pre->norm.std[0] == 0.0f || pre->norm.std[1] == 0.0f ||
                              pre->norm.std[2] == 0.0f))
        return usage_error("--std takes one or three non-zero numbers", args->std);
    if (args->color != NULL) {
        if (strcmp(args->color, "rgb") != 0 && strcmp(args->color, "bgr") != 0)
            return usage_error("--color takes rgb or bgr", args->color);
        pre->norm.bgr = strcmp(args->color, "bgr") == 0;
    }
    if (args->geometry != NULL) {
        static const char *const names[] = {"letterbox", "resize", "aligned"};
        int g = 0;
        while (g < 3 && strcmp(args->geometry, names[g]) != 0)
            g++;
        if (g == 3)
            return usage_error("--geometry takes letterbox, resize or aligned", args->geometry);
        pre->geometry = (fq_preprocess_geometry)g;
    }
    if (pre->geometry == FQ_PREPROCESS_ALIGNED_FACE && pre->width != pre->height) {
        fq_tool_fail(CMD, "aligned face crops are square; %dx%d is not", pre->width,
                     pre->height);
        return FQ_EXIT_USAGE;
    }
    return FQ_EXIT_OK;
}

typedef struct calibrate_job {
    char model_path[FQ_TOOL_PATH_SIZE];
    fq_graph *graph;
    fq_preprocess pre;
    fq_calib_image_list images;
    fq_tool_pipeline detector;
    bool detector_open;
    fq_calib_source source;
    fq_calib_stats *stats;
} calibrate_job;

static void job_free(calibrate_job *job)
{
    fq_calib_stats_free(job->stats);
    if (job->detector_open)
        fq_tool_pipeline_close(&job->detector);
    fq_calib_images_free(&job->images);
    fq_graph_free(job->graph);
}

static int load_model(const calibrate_args *args, calibrate_job *job, fq_error *err)
{
    fq_model_card card;
    fq_status status = fq_tool_find_model(args->model, job->model_path,
                                          sizeof(job->model_path), err);
    if (status == FQ_OK)
        status = fq_onnx_read_file(job->model_path, &job->graph, err);
    if (status == FQ_OK)
        status = fq_tool_model_card(CMD, job->model_path, job->graph, NULL, 0, &card, err);
    if (status != FQ_OK) {
        fq_tool_error(CMD, err);
        return FQ_EXIT_FAILURE;
    }
    fq_preprocess_from_card(&card, &job->pre);
    int code = apply_overrides(args, &job->pre);
    if (code != FQ_EXIT_OK)
        return code;

    fq_input_size size = {job->pre.width, job->pre.height, 1};
    if ((status = fq_passes_run(job->graph, &size, err)) != FQ_OK) {
        fq_error_prefix(err, status, "%s", job->model_path);
        fq_tool_error(CMD, err);
        return FQ_EXIT_FAILURE;
    }
    fprintf(stderr, "fq %s: model %s at %dx%d\n", CMD, job->model_path, job->pre.width,
            job->pre.height);
    return FQ_EXIT_OK;
}

static int open_images(const calibrate_args *args, calibrate_job *job, fq_error *err)
{
    fq_status status = fq_calib_images_scan(args->dir, &job->images, err);
    if (status != FQ_OK) {
        fq_tool_error(CMD, err);
        return FQ_EXIT_FAILURE;
    }
    fprintf(stderr, "fq %s: %d images in %s (%d other files skipped)\n", CMD, job->images.count,
            args->dir, job->images.skipped);
    if (job->images.count < FQ_CALIB_FEW_IMAGES)
        fprintf(stderr, "fq %s: warning: more calibration images give better scales: %d "
                "given\n", CMD, job->images.count);
    if (job->pre.geometry == FQ_PREPROCESS_ALIGNED_FACE) {
        status = fq_tool_pipeline_open(CMD, args->detector, NULL, NULL, &job->detector, err);
        if (status != FQ_OK) {
            fq_tool_error(CMD, err);
            return FQ_EXIT_FAILURE;
        }
        job->detector_open = true;
    }
    fq_calib_source_init(&job->source, &job->images, &job->pre,
                         job->detector_open ? job->detector.service : NULL, args->inputs);
    job->source.progress = job->source.progress || args->progress;
    return FQ_EXIT_OK;
}

static void print_threshold(const fq_value_stats *vs, fq_calib_method method, double percentile)
{
    double t;
    if (fq_value_stats_threshold(vs, method, percentile, &t, NULL) == FQ_OK)
        printf(" %11.5g", t);
    else
        printf(" %11s", "-");
}

static void print_summary(const calibrate_args *args, const fq_calib_stats *stats)
{
    char pct[32];
    snprintf(pct, sizeof(pct), "p%g", args->percentile);
    const char *heads[FQ_CALIB_METHOD_COUNT] = {"minmax", pct, "entropy", "mse"};
    printf("%-28s %11s %11s", "value", "min", "max");
    for (int m = 0; m < FQ_CALIB_METHOD_COUNT; m++)
        printf(" %10s%c", heads[m], m == (int)args->method ? '*' : ' ');
    printf("  %s range, i8 scale, u8 scale/zero point\n", fq_calib_method_name(args->method));

    for (int v = 0; v < stats->n_values; v++) {
        const fq_value_stats *vs = &stats->values[v];
        printf("%-28s %11.5g %11.5g", vs->name, vs->count > 0 ? vs->min : NAN,
               vs->count > 0 ? vs->max : NAN);
        for (int m = 0; m < FQ_CALIB_METHOD_COUNT; m++)
            print_threshold(vs, (fq_calib_method)m, args->percentile);
        fq_calib_range r;
        float s8, s_u8;
        int32_t zp8, zp_u8;
        if (fq_value_stats_range(vs, args->method, args->percentile, &r, NULL) == FQ_OK) {
            fq_calib_params_i8_symmetric(&r, &s8, &zp8);
            fq_calib_params_u8_asymmetric(&r, &s_u8, &zp_u8);
            printf("  [%.5g, %.5g] %.5g %.5g/%d", r.lo, r.hi, s8, s_u8, (int)zp_u8);
        }
        printf("\n");
    }
}

static long peak_rss_kib(void)
{
    struct rusage usage;
    return getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : -1;
}

static int run_calibration(const calibrate_args *args, calibrate_job *job, fq_error *err)
{
    fq_calibrate_options options = {fq_session_options_default(), 0};
    fq_status status = fq_calibrate(job->graph, &options, fq_calib_source_feed, &job->source,
                                    &job->stats, err);
    const fq_calib_source *s = &job->source;
    if (s->progress && s->given != fq_calib_source_total(s))
        fputc('\n', stderr);
    if (status == FQ_OK)
        status = fq_calib_stats_save(job->stats, args->output, err);
    if (status != FQ_OK) {
        fq_tool_error(CMD, err);
        return FQ_EXIT_FAILURE;
    }
    print_summary(args, job->stats);
    fprintf(stderr, "fq %s: %d inputs from %d images (%d undecodable, %d without a face); "
            "%d values, statistics memory %zu bytes, peak RSS %ld KiB; wrote %s\n", CMD,
            s->given, job->images.count, s->undecodable, s->no_face, job->stats->n_values,
            fq_calib_stats_memory_bytes(job->stats), peak_rss_kib(), args->output);
    return FQ_EXIT_OK;
}

int fq_cmd_calibrate(int argc, char **argv)
{
    calibrate_args args;
    int code = parse_calibrate_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    calibrate_job job;
    memset(&job, 0, sizeof(job));
    fq_error err;
    code = load_model(&args, &job, &err);
    if (code == FQ_EXIT_OK)
        code = open_images(&args, &job, &err);
    if (code == FQ_EXIT_OK)
        code = run_calibration(&args, &job, &err);
    job_free(&job);
    return code;
}
