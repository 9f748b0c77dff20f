/* fq detect: faces in photos, as text or JSON, optionally drawn on a copy of each photo. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face_common.h"
#include "fq_common.h"
#include "image/image_io.h"

typedef struct detect_args {
    const char *model;
    fq_detect_options detect;
    fq_input_size size;
    bool json;
    const char *draw;
    char **images;
    int n_images;
} detect_args;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq detect IMG... [--model M] [--threshold T] [--input-size WxH]\n"
            "                 [--max-faces N] [--json] [--draw OUT.png]\n"
            "\n"
            "Detects faces in each image (JPEG, PNG, WebP, PPM/PGM) and prints their boxes\n"
            "(x1 y1 x2 y2), scores and 5 landmarks in the image's own pixels.\n"
            "\n"
            "  --model M         detector name or .onnx path (default %s)\n"
            "  --threshold T     score threshold in (0, 1] (default: the card's)\n"
            "  --input-size WxH  detector input size (default: the card's, else 640x640)\n"
            "  --max-faces N     keep at most the N best faces per image (default: all)\n"
            "  --json            print {\"images\": [{\"image\", \"width\", \"height\",\n"
            "                    \"faces\": [{\"box\", \"score\", \"kps\"}]}]}\n"
            "  --draw OUT        write a copy of the image with boxes (green) and landmarks\n"
            "                    (red) as the PNG file OUT; with several images OUT is a folder\n"
            "                    (created) receiving OUT/STEM.png for each image (STEM: the\n"
            "                    file name without extension; images must have distinct stems)\n"
            "  -h, --help        show this help\n"
            "\n%s"
            "\nExit status: 0 success, 1 an image or model failed, 2 usage error.\n",
            FQ_TOOL_DEFAULT_DETECTOR, fq_tool_model_lookup_help);
}

static bool parse_float(const char *text, float lo, float hi, float *value)
{
    char *end;
    float v = strtof(text, &end);
    if (end == text || *end != '\0' || !(v > lo && v <= hi))
        return false;
    *value = v;
    return true;
}

static bool parse_count(const char *text, int *value)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 0 || v > 100000)
        return false;
    *value = (int)v;
    return true;
}

/* STEM of a path: the file name without folder and extension. */
static void path_stem(const char *path, char *stem, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(stem, size, "%.*s", (int)len, base);
}

static bool stems_distinct(char **images, int n)
{
    char a[FQ_TOOL_PATH_SIZE], b[FQ_TOOL_PATH_SIZE];
    for (int i = 0; i < n; i++) {
        path_stem(images[i], a, sizeof(a));
        for (int k = i + 1; k < n; k++) {
            path_stem(images[k], b, sizeof(b));
            if (strcmp(a, b) == 0) {
                fq_tool_fail("detect", "--draw with several images writes OUT/STEM.png, and "
                             "'%s' and '%s' share the stem '%s'", images[i], images[k], a);
                return false;
            }
        }
    }
    return true;
}

static int parse_args(int argc, char **argv, detect_args *args)
{
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},     {"threshold", required_argument, NULL, 't'},
        {"input-size", required_argument, NULL, 's'}, {"max-faces", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},            {"draw", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    memset(args, 0, sizeof(*args));
    args->model = FQ_TOOL_DEFAULT_DETECTOR;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'm': args->model = optarg; break;
        case 't':
            if (!parse_float(optarg, 0.0f, 1.0f, &args->detect.score_threshold)) {
                fq_tool_fail("detect", "--threshold takes a score in (0, 1], not '%s'", optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 's':
            if (!fq_tool_parse_size(optarg, &args->size)) {
                fq_tool_fail("detect", "--input-size takes WxH, such as 640x480, not '%s'",
                             optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'n':
            if (!parse_count(optarg, &args->detect.max_faces)) {
                fq_tool_fail("detect", "--max-faces takes a count >= 0, not '%s'", optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'j': args->json = true; break;
        case 'd': args->draw = optarg; break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fq_tool_fail("detect", "needs at least one image (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->images = argv + optind;
    args->n_images = argc - optind;
    if (args->draw != NULL && args->n_images > 1 && !stems_distinct(args->images, args->n_images))
        return FQ_EXIT_USAGE;
    return FQ_EXIT_OK;
}

static void print_faces(const char *path, const fq_image *rgb, const fq_face *faces, int count)
{
    printf("%s: %dx%d, %d face%s\n", path, rgb->width, rgb->height, count, count == 1 ? "" : "s");
    for (int i = 0; i < count; i++) {
        const fq_face *f = &faces[i];
        printf("  %2d  box %.1f %.1f %.1f %.1f  score %.4f", i + 1, f->box[0], f->box[1],
               f->box[2], f->box[3], f->score);
        if (f->has_kps) {
            printf("  kps");
            for (int k = 0; k < 5; k++)
                printf(" %.1f,%.1f", f->kps[2 * k], f->kps[2 * k + 1]);
        }
        printf("\n");
    }
}

static cJSON *image_json(const char *path, const fq_image *rgb, const fq_face *faces, int count)
{
    cJSON *entry = cJSON_CreateObject();
    cJSON *list = entry != NULL ? cJSON_CreateArray() : NULL;
    bool ok = list != NULL && cJSON_AddStringToObject(entry, "image", path) != NULL &&
              cJSON_AddNumberToObject(entry, "width", rgb->width) != NULL &&
              cJSON_AddNumberToObject(entry, "height", rgb->height) != NULL &&
              cJSON_AddItemToObject(entry, "faces", list);
    if (!ok)
        cJSON_Delete(list);
    for (int i = 0; ok && i < count; i++)
        ok = cJSON_AddItemToArray(list, fq_tool_face_json(&faces[i]));
    if (!ok) {
        cJSON_Delete(entry);
        return NULL;
    }
    return entry;
}

static fq_status draw_faces(const detect_args *args, const char *path, fq_image *rgb,
                            const fq_face *faces, int count, fq_error *err)
{
    char out[FQ_TOOL_PATH_SIZE], stem[FQ_TOOL_PATH_SIZE], file[FQ_TOOL_PATH_SIZE + 8];
    if (args->n_images == 1) {
        snprintf(out, sizeof(out), "%s", args->draw);
    } else {
        path_stem(path, stem, sizeof(stem));
        snprintf(file, sizeof(file), "%s.png", stem);
        if (!fq_tool_join_path(args->draw, file, out, sizeof(out)))
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "the path %s/%s is too long",
                                args->draw, file);
    }
    int thickness = rgb->width > 1000 || rgb->height > 1000 ? 3 : 2;
    for (int i = 0; i < count; i++) {
        fq_draw_box(rgb, faces[i].box, 0, 255, 0, thickness);
        for (int k = 0; faces[i].has_kps && k < 5; k++)
            fq_draw_point(rgb, faces[i].kps[2 * k], faces[i].kps[2 * k + 1], thickness, 255, 0,
                          0);
    }
    fq_status status = fq_image_write_png(out, rgb, err);
    if (status == FQ_OK)
        fprintf(stderr, "fq detect: drew %d face%s on %s\n", count, count == 1 ? "" : "s", out);
    return status;
}

/* Detects the faces of one image; prints them or appends them to images_json. */
static fq_status detect_one(fq_tool_pipeline *pipeline, const detect_args *args,
                            const char *path, cJSON *images_json, fq_error *err)
{
    fq_image rgb = {0};
    fq_face *faces = NULL;
    int count = 0;
    fq_status status = fq_image_load_file(path, NULL, &rgb, err);
    if (status == FQ_OK)
        status = fq_face_service_detect(pipeline->service, &rgb, &args->detect, &faces, &count,
                                        err);
    if (status == FQ_OK && args->json) {
        if (!cJSON_AddItemToArray(images_json, image_json(path, &rgb, faces, count)))
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for the JSON of %s", path);
    } else if (status == FQ_OK) {
        print_faces(path, &rgb, faces, count);
    }
    if (status == FQ_OK && args->draw != NULL)
        status = draw_faces(args, path, &rgb, faces, count, err);
    fq_free(faces);
    fq_image_free(&rgb);
    return status;
}

int fq_cmd_detect(int argc, char **argv)
{
    detect_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    if (args.draw != NULL && args.n_images > 1 && !fq_tool_mkdirs(args.draw)) {
        fq_tool_fail("detect", "cannot create the folder '%s' for --draw", args.draw);
        return FQ_EXIT_FAILURE;
    }
    fq_error err = {0};
    fq_tool_pipeline pipeline;
    if (fq_tool_pipeline_open("detect", args.model, NULL, &args.size, &pipeline, &err) != FQ_OK) {
        fq_tool_error("detect", &err);
        return FQ_EXIT_FAILURE;
    }

    cJSON *root = args.json ? cJSON_CreateObject() : NULL;
    cJSON *images_json = root != NULL ? cJSON_AddArrayToObject(root, "images") : NULL;
    if (args.json && images_json == NULL) {
        fq_tool_fail("detect", "no memory for the JSON output");
        cJSON_Delete(root);
        fq_tool_pipeline_close(&pipeline);
        return FQ_EXIT_FAILURE;
    }
    /* An image that fails is reported and skipped; the others are still detected. */
    for (int i = 0; i < args.n_images; i++) {
        if (detect_one(&pipeline, &args, args.images[i], images_json, &err) != FQ_OK) {
            fq_tool_error("detect", &err);
            code = FQ_EXIT_FAILURE;
        }
    }
    if (root != NULL && !fq_tool_print_json(root)) {
        fq_tool_fail("detect", "no memory to print the JSON output");
        code = FQ_EXIT_FAILURE;
    }
    cJSON_Delete(root);
    fq_tool_pipeline_close(&pipeline);
    return code;
}
