/* fq recognize: every face of a photo matched against a gallery. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face_common.h"
#include "fq_common.h"
#include "image/image_io.h"

typedef struct recognize_args {
    const char *gallery;
    const char *detector;
    const char *recognizer;  /* NULL: the gallery's own */
    float threshold;         /* <= -2: the recognizer card's */
    fq_detect_options detect;
    fq_input_size size;
    bool json;
    char **images;
    int n_images;
} recognize_args;

/* The best gallery match of one face. */
typedef struct face_match {
    const char *nearest;     /* NULL when the gallery is empty */
    float similarity;
    bool known;              /* similarity at or above the threshold */
} face_match;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq recognize IMG... --gallery G [--threshold T] [--detector D]\n"
            "                    [--recognizer R] [--input-size WxH] [--max-faces N] [--json]\n"
            "\n"
            "Finds every face of each image and names the gallery's person it is most similar\n"
            "to (cosine similarity of embeddings), or 'unknown' below the threshold. An image\n"
            "that already is an aligned crop at the recognizer's input size (112x112) is one\n"
            "face.\n"
            "\n"
            "  --gallery G       the gallery file (made by fq enroll)\n"
            "  --threshold T     similarity in [-1, 1] from which a face is known (default: the\n"
            "                    recognizer card's match_threshold)\n"
            "  --detector D      detector name or .onnx path (default %s)\n"
            "  --recognizer R    recognizer name or .onnx path (default: the one recorded in\n"
            "                    the gallery; another model is refused)\n"
            "  --input-size WxH  detector input size (default: the card's, else 640x640)\n"
            "  --max-faces N     at most the N best faces per image (default: all)\n"
            "  --json            print {\"threshold\", \"images\": [{\"image\", \"width\",\n"
            "                    \"height\", \"faces\": [{\"box\", \"score\", \"kps\",\n"
            "                    \"name\" (null when unknown), \"nearest\", \"similarity\"}]}]}\n"
            "  -h, --help        show this help\n"
            "\n%s"
            "\nExit status: 0 success, 1 failure, 2 usage error.\n",
            FQ_TOOL_DEFAULT_DETECTOR, fq_tool_model_lookup_help);
}

static bool parse_number(const char *text, float lo, float hi, float *value)
{
    char *end;
    float v = strtof(text, &end);
    if (end == text || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *value = v;
    return true;
}

static int parse_option(int opt, recognize_args *args)
{
    float max_faces = 0.0f;
    switch (opt) {
    case 'g': args->gallery = optarg; break;
    case 'd': args->detector = optarg; break;
    case 'r': args->recognizer = optarg; break;
    case 'j': args->json = true; break;
    case 't':
        if (!parse_number(optarg, -1.0f, 1.0f, &args->threshold)) {
            fq_tool_fail("recognize", "--threshold takes a similarity in [-1, 1], not '%s'",
                         optarg);
            return FQ_EXIT_USAGE;
        }
        break;
    case 'n':
        if (!parse_number(optarg, 0.0f, 100000.0f, &max_faces) ||
            max_faces != (float)(int)max_faces) {
            fq_tool_fail("recognize", "--max-faces takes a count >= 0, not '%s'", optarg);
            return FQ_EXIT_USAGE;
        }
        args->detect.max_faces = (int)max_faces;
        break;
    case 's':
        if (!fq_tool_parse_size(optarg, &args->size)) {
            fq_tool_fail("recognize", "--input-size takes WxH, such as 640x480, not '%s'",
                         optarg);
            return FQ_EXIT_USAGE;
        }
        break;
    case 'h': help(stdout); return -1;
    default: help(stderr); return FQ_EXIT_USAGE;
    }
    return FQ_EXIT_OK;
}

static int parse_args(int argc, char **argv, recognize_args *args)
{
    static const struct option options[] = {
        {"gallery", required_argument, NULL, 'g'},    {"threshold", required_argument, NULL, 't'},
        {"detector", required_argument, NULL, 'd'},   {"recognizer", required_argument, NULL, 'r'},
        {"input-size", required_argument, NULL, 's'}, {"max-faces", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},             {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(args, 0, sizeof(*args));
    args->detector = FQ_TOOL_DEFAULT_DETECTOR;
    args->threshold = -3.0f;
    int opt, code;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1)
        if ((code = parse_option(opt, args)) != FQ_EXIT_OK)
            return code;
    if (optind >= argc || args->gallery == NULL) {
        fq_tool_fail("recognize", "needs at least one image and --gallery G (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->images = argv + optind;
    args->n_images = argc - optind;
    return FQ_EXIT_OK;
}

static face_match match_face(const fq_gallery_set *set, const float *embedding, float threshold)
{
    face_match match = {NULL, -1.0f, false};
    int index = -1;
    if (set->count == 0)
        return match;
    /* A threshold below any cosine gives the nearest person even when they are not a match. */
    fq_match_embedding(embedding, set->vectors, set->count, set->size, -2.0f, &index,
                       &match.similarity);
    if (index >= 0 && index < set->count) {
        match.nearest = set->names[set->person[index]];
        match.known = match.similarity >= threshold;
    }
    return match;
}

static void print_match(int i, const fq_face *face, const face_match *m)
{
    printf("  %2d  box %.1f %.1f %.1f %.1f  score %.4f  ", i + 1, face->box[0], face->box[1],
           face->box[2], face->box[3], face->score);
    if (m->known)
        printf("%s  similarity %.4f\n", m->nearest, m->similarity);
    else if (m->nearest != NULL)
        printf("unknown  (nearest %s, similarity %.4f)\n", m->nearest, m->similarity);
    else
        printf("unknown  (empty gallery)\n");
}

static bool add_match_json(cJSON *faces, const fq_face *face, const face_match *m)
{
    cJSON *item = fq_tool_face_json(face);
    if (item == NULL || !cJSON_AddItemToArray(faces, item))
        return false;
    cJSON *name = m->known ? cJSON_CreateString(m->nearest) : cJSON_CreateNull();
    cJSON *nearest = m->nearest != NULL ? cJSON_CreateString(m->nearest) : cJSON_CreateNull();
    return cJSON_AddItemToObject(item, "name", name) &&
           cJSON_AddItemToObject(item, "nearest", nearest) &&
           cJSON_AddItemToObject(item, "similarity", fq_tool_json_number(m->similarity, 4));
}

/* The faces of one image: the whole image when it is an aligned crop, else the detections. */
static fq_status find_faces(fq_tool_pipeline *pipeline, const recognize_args *args,
                            const fq_image *rgb, fq_face **faces, int *count, fq_error *err)
{
    if (!fq_tool_is_aligned_crop(pipeline, rgb))
        return fq_face_service_detect(pipeline->service, rgb, &args->detect, faces, count, err);
    *faces = fq_calloc(1, sizeof(fq_face));
    if (*faces == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for a face");
    **faces = (fq_face){{0.0f, 0.0f, (float)rgb->width, (float)rgb->height}, 1.0f, {0}, false};
    *count = 1;
    return FQ_OK;
}

static cJSON *image_entry(const char *path, const fq_image *rgb, cJSON *images_json)
{
    cJSON *entry = cJSON_CreateObject();
    if (entry == NULL || !cJSON_AddItemToArray(images_json, entry))
        return NULL;
    if (cJSON_AddStringToObject(entry, "image", path) == NULL ||
        cJSON_AddNumberToObject(entry, "width", rgb->width) == NULL ||
        cJSON_AddNumberToObject(entry, "height", rgb->height) == NULL)
        return NULL;
    return cJSON_AddArrayToObject(entry, "faces");
}

static fq_status embed_and_match(fq_tool_pipeline *pipeline, const fq_gallery_set *set,
                                 const fq_image *rgb, const fq_face *face, float threshold,
                                 face_match *match, float *embedding, fq_error *err)
{
    fq_status status = fq_tool_is_aligned_crop(pipeline, rgb)
                           ? fq_face_service_embed_aligned(pipeline->service, rgb, embedding, err)
                           : fq_face_service_embed(pipeline->service, rgb, face, embedding, err);
    if (status == FQ_OK)
        *match = match_face(set, embedding, threshold);
    return status;
}

static fq_status recognize_one(fq_tool_pipeline *pipeline, const recognize_args *args,
                               const fq_gallery_set *set, float threshold, const char *path,
                               cJSON *images_json, fq_error *err)
{
    fq_image rgb = {0};
    fq_face *faces = NULL;
    int count = 0;
    float *embedding = fq_malloc((size_t)set->size * sizeof(float));
    fq_status status = embedding != NULL ? FQ_OK : fq_error_set(err, FQ_ERR_NO_MEMORY, "no "
                                                                "memory for an embedding");
    if (status == FQ_OK)
        status = fq_image_load_file(path, NULL, &rgb, err);
    if (status == FQ_OK)
        status = find_faces(pipeline, args, &rgb, &faces, &count, err);
    cJSON *faces_json = status == FQ_OK && args->json ? image_entry(path, &rgb, images_json)
                                                      : NULL;
    if (status == FQ_OK && args->json && faces_json == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for the JSON of %s", path);
    if (status == FQ_OK && !args->json)
        printf("%s: %dx%d, %d face%s\n", path, rgb.width, rgb.height, count,
               count == 1 ? "" : "s");
    for (int i = 0; status == FQ_OK && i < count; i++) {
        face_match match;
        status = embed_and_match(pipeline, set, &rgb, &faces[i], threshold, &match, embedding,
                                 err);
        if (status == FQ_OK && args->json && !add_match_json(faces_json, &faces[i], &match))
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for the JSON of %s", path);
        else if (status == FQ_OK && !args->json)
            print_match(i, &faces[i], &match);
    }
    fq_free(faces);
    fq_free(embedding);
    fq_image_free(&rgb);
    return status;
}

/* Opens the gallery and loads its embeddings, then the models that fit it. */
static fq_status open_all(const recognize_args *args, fq_gallery **gallery, fq_gallery_set *set,
                          fq_tool_pipeline *pipeline, fq_error *err)
{
    fq_status status = fq_gallery_open(args->gallery, NULL, gallery, err);
    if (status == FQ_OK)
        status = fq_gallery_load(*gallery, set, err);
    if (status != FQ_OK)
        return status;
    const char *recognizer = args->recognizer != NULL
                                 ? args->recognizer
                                 : fq_gallery_model_of(*gallery)->recognizer;
    status = fq_tool_pipeline_open("recognize", args->detector, recognizer, &args->size,
                                   pipeline, err);
    if (status == FQ_OK)
        status = fq_gallery_check_model(*gallery, &pipeline->recognizer, err);
    if (status == FQ_OK && set->count == 0)
        fprintf(stderr, "fq recognize: gallery %s is empty: every face is unknown\n",
                args->gallery);
    return status;
}

int fq_cmd_recognize(int argc, char **argv)
{
    recognize_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    fq_error err = {0};
    fq_gallery *gallery = NULL;
    fq_gallery_set set = {0};
    fq_tool_pipeline pipeline = {0};
    if (open_all(&args, &gallery, &set, &pipeline, &err) != FQ_OK) {
        fq_tool_error("recognize", &err);
        code = FQ_EXIT_FAILURE;
    }
    float threshold = args.threshold >= -1.0f || code != FQ_EXIT_OK
                          ? args.threshold
                          : fq_tool_match_threshold(&pipeline);
    if (code == FQ_EXIT_OK)
        fprintf(stderr, "fq recognize: match threshold %.4f (%s)\n", threshold,
                args.threshold >= -1.0f ? "--threshold" : "recognizer card");
    cJSON *root = args.json && code == FQ_EXIT_OK ? cJSON_CreateObject() : NULL;
    cJSON *images_json = NULL;
    if (root != NULL && cJSON_AddItemToObject(root, "threshold",
                                              fq_tool_json_number(threshold, 4)))
        images_json = cJSON_AddArrayToObject(root, "images");
    if (args.json && code == FQ_EXIT_OK && images_json == NULL) {
        fq_tool_fail("recognize", "no memory for the JSON output");
        code = FQ_EXIT_FAILURE;
    }

    bool failed = code != FQ_EXIT_OK;
    for (int i = 0; !failed && i < args.n_images; i++) {
        if (recognize_one(&pipeline, &args, &set, threshold, args.images[i], images_json,
                          &err) != FQ_OK) {
            fq_tool_error("recognize", &err);
            code = FQ_EXIT_FAILURE;
        }
    }
    if (root != NULL && !failed && !fq_tool_print_json(root)) {
        fq_tool_fail("recognize", "no memory to print the JSON output");
        code = FQ_EXIT_FAILURE;
    }
    cJSON_Delete(root);
    fq_tool_pipeline_close(&pipeline);
    fq_gallery_set_free(&set);
    fq_gallery_close(gallery);
    return code;
}
