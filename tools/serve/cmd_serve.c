/* fq serve: the HTTP API (convert, quantize, detect, recognize) on a port. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fq_common.h"
#include "serve_models.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq serve --models DIR --work-dir DIR [--port N] [--bind ADDR]\n"
            "                [--detector NAME] [--recognizer NAME] [--threads N]\n"
            "                [--max-upload-mb N] [--max-image-side N] [--max-jobs N]\n"
            "\n"
            "Answers HTTP requests with JSON (docs/HTTP_API.md):\n"
            "  GET  /health, GET /models\n"
            "  POST /quantization/convert_model        model_name, input_width, input_height\n"
            "  POST /quantization/quantize_model       model_path, quantization_type,\n"
            "                                          calibration_images\n"
            "  POST /quantization/mobile/detect_faces  image, model_type, confidence_threshold\n"
            "  POST /quantization/mobile/recognize_faces  image, model_type,\n"
            "       similarity_threshold, known_embeddings, known_labels\n"
            "\n"
            "  --models DIR        the models it may use (NAME.onnx, NAME.VARIANT.fqm)\n"
            "  --work-dir DIR      where conversions and quantizations go (created)\n"
            "  --port N            TCP port (default %d; 0: any free port, printed)\n"
            "  --bind ADDR         IPv4 address to listen on (default 127.0.0.1; 0.0.0.0: all)\n"
            "  --detector NAME     detector stem (default %s)\n"
            "  --recognizer NAME   recognizer stem (default %s)\n"
            "  --threads N         HTTP worker threads (default %d)\n"
            "  --max-upload-mb N   largest request body in MiB (default %d; over it: 413)\n"
            "  --max-image-side N  largest image width or height (default %d; over it: 400)\n"
            "  --max-jobs N        conversions and quantizations at once (default %d)\n"
            "  -h, --help          show this help\n"
            "\nStops on SIGINT or SIGTERM after the running jobs finish.\n",
            SERVE_DEFAULT_PORT, FQ_TOOL_DEFAULT_DETECTOR, FQ_TOOL_DEFAULT_RECOGNIZER,
            SERVE_DEFAULT_THREADS, SERVE_DEFAULT_MAX_UPLOAD_MB, SERVE_DEFAULT_MAX_IMAGE_SIDE,
            SERVE_DEFAULT_MAX_JOBS);
}

static bool parse_int(const char *text, int lo, int hi, int *value)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < lo || v > hi)
        return false;
    *value = (int)v;
    return true;
}

static bool is_stem(const char *name)
{
    return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL &&
           strlen(name) < 200;
}

static int parse_option(int opt, serve_config *config)
{
    int mb = 0;
    switch (opt) {
    case 'p': return parse_int(optarg, 0, 65535, &config->port) ? 0 : opt;
    case 'b': config->bind = optarg; return 0;
    case 'm': config->models_dir = optarg; return 0;
    case 'w': config->work_dir = optarg; return 0;
    case 'd': config->detector = optarg; return is_stem(optarg) ? 0 : opt;
    case 'r': config->recognizer = optarg; return is_stem(optarg) ? 0 : opt;
    case 't': return parse_int(optarg, 1, 64, &config->threads) ? 0 : opt;
    case 'u':
        if (!parse_int(optarg, 1, 1024, &mb))
            return opt;
        config->max_upload_bytes = (size_t)mb << 20;
        return 0;
    case 's': return parse_int(optarg, 32, FQ_IMAGE_MAX_SIDE, &config->max_image_side) ? 0
                                                                                       : opt;
    case 'j': return parse_int(optarg, 1, 16, &config->max_jobs) ? 0 : opt;
    }
    return opt;
}

static int parse_args(int argc, char **argv, serve_config *config)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},       {"bind", required_argument, NULL, 'b'},
        {"models", required_argument, NULL, 'm'},     {"work-dir", required_argument, NULL, 'w'},
        {"detector", required_argument, NULL, 'd'},   {"recognizer", required_argument, NULL,
                                                       'r'},
        {"threads", required_argument, NULL, 't'},    {"max-upload-mb", required_argument,
                                                       NULL, 'u'},
        {"max-image-side", required_argument, NULL, 's'},
        {"max-jobs", required_argument, NULL, 'j'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *config = (serve_config){"127.0.0.1", SERVE_DEFAULT_PORT, NULL, NULL,
                             FQ_TOOL_DEFAULT_DETECTOR, FQ_TOOL_DEFAULT_RECOGNIZER,
                             SERVE_DEFAULT_THREADS, (size_t)SERVE_DEFAULT_MAX_UPLOAD_MB << 20,
                             SERVE_DEFAULT_MAX_IMAGE_SIDE, SERVE_DEFAULT_MAX_JOBS};
    int opt, index = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, &index)) != -1) {
        if (opt == 'h') {
            help(stdout);
            return -1;
        }
        if (opt == '?' || parse_option(opt, config) != 0) {
            if (opt != '?')
                fq_tool_fail("serve", "bad value '%s' for --%s (see --help)", optarg,
                             options[index].name);
            return FQ_EXIT_USAGE;
        }
    }
    if (optind < argc || config->models_dir == NULL || config->work_dir == NULL) {
        fq_tool_fail("serve", "needs --models DIR and --work-dir DIR, and no other argument");
        return FQ_EXIT_USAGE;
    }
    return FQ_EXIT_OK;
}

static bool resolve_dirs(serve_server *server)
{
    const serve_config *c = &server->config;
    if (!fq_tool_is_dir(c->models_dir)) {
        fq_tool_fail("serve", "--models %s is not a folder", c->models_dir);
        return false;
    }
    if (!fq_tool_mkdirs(c->work_dir)) {
        fq_tool_fail("serve", "cannot create the work folder %s", c->work_dir);
        return false;
    }
    if (realpath(c->models_dir, server->models_real) == NULL ||
        realpath(c->work_dir, server->work_real) == NULL) {
        fq_tool_fail("serve", "cannot resolve the folders %s and %s", c->models_dir,
                     c->work_dir);
        return false;
    }
    return true;
}

/* Loads the fp32 models now, so the first request does not wait for them. */
static void preload(serve_server *server, const char *stem, fq_model_role role)
{
    serve_lease lease;
    serve_answer answer = {0, NULL};
    if (serve_model_lease(server, stem, SERVE_FP32, role, &lease, &answer))
        serve_model_return(server, &lease);
    else
        fprintf(stderr, "fq serve: warning: %s: %s\n", stem,
                cJSON_GetStringValue(cJSON_GetObjectItem(answer.body, "error")));
    serve_answer_clear(&answer);
}

static int serve_with(serve_server *server)
{
    fq_error err = {0};
    if (!resolve_dirs(server))
        return FQ_EXIT_FAILURE;
    if (serve_registry_create(&server->registry, &err) != FQ_OK) {
        fq_tool_error("serve", &err);
        return FQ_EXIT_FAILURE;
    }
    preload(server, server->config.detector, FQ_ROLE_DETECTOR);
    preload(server, server->config.recognizer, FQ_ROLE_RECOGNIZER);
    int code = serve_run(server);
    serve_registry_free(server->registry);
    return code;
}

int fq_cmd_serve(int argc, char **argv)
{
    static serve_server server;
    int code = parse_args(argc, argv, &server.config);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    server.start_ms = fq_tool_now_ms();
    if (pthread_mutex_init(&server.lock, NULL) != 0 ||
        pthread_cond_init(&server.jobs_done, NULL) != 0) {
        fq_tool_fail("serve", "cannot create the server's mutex");
        return FQ_EXIT_FAILURE;
    }
    code = serve_with(&server);
    pthread_cond_destroy(&server.jobs_done);
    pthread_mutex_destroy(&server.lock);
    return code;
}
