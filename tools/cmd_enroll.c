/* fq enroll: people from a folder of photos into a gallery; fq gallery: list and remove them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "face_common.h"
#include "fq_common.h"
#include "image/image_io.h"

typedef struct enroll_args {
    const char *dir;
    const char *gallery;
    const char *detector;
    const char *recognizer;
    fq_input_size size;
} enroll_args;

/* What one enrollment run did, for the summary. */
typedef struct enroll_totals {
    int people;
    int already;
    int faces;
    int images;
    int no_face;
    int unreadable;
    int failed;
} enroll_totals;

/* One person's embeddings before they go into the gallery in one transaction. */
typedef struct person_batch {
    float *vectors;
    char **sources;
    int count;
    int capacity;
    int size;
} person_batch;

static void enroll_help(FILE *out)
{
    fprintf(out,
            "usage: fq enroll DIR --gallery G [--detector D] [--recognizer R] [--input-size WxH]\n"
            "\n"
            "Enrolls every person of DIR into the gallery G (an SQLite file, created if missing).\n"
            "DIR holds one folder per person, named for them, with their photos. Each photo\n"
            "gives one embedding: that of its largest face, or, when the photo already is an\n"
            "aligned crop at the recognizer's input size (112x112), of the photo itself.\n"
            "Each person is added in one transaction: an interrupted run loses no one already\n"
            "added, and never leaves part of a person. People already in the gallery are\n"
            "skipped, so running the command again resumes an interrupted enrollment; use\n"
            "'fq gallery remove' first to enroll someone again. A gallery made with another\n"
            "recognizer is refused.\n"
            "\n"
            "  --gallery G       the gallery file\n"
            "  --detector D      detector name or .onnx path (default %s)\n"
            "  --recognizer R    recognizer name or .onnx path (default %s)\n"
            "  --input-size WxH  detector input size (default: the card's, else 640x640)\n"
            "  -h, --help        show this help\n"
            "\n%s"
            "\nPrints a summary: people enrolled, faces, images without a face.\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n",
            FQ_TOOL_DEFAULT_DETECTOR, FQ_TOOL_DEFAULT_RECOGNIZER, fq_tool_model_lookup_help);
}

static int parse_enroll_args(int argc, char **argv, enroll_args *args)
{
    static const struct option options[] = {
        {"gallery", required_argument, NULL, 'g'},    {"detector", required_argument, NULL, 'd'},
        {"recognizer", required_argument, NULL, 'r'}, {"input-size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    memset(args, 0, sizeof(*args));
    args->detector = FQ_TOOL_DEFAULT_DETECTOR;
    args->recognizer = FQ_TOOL_DEFAULT_RECOGNIZER;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'g': args->gallery = optarg; break;
        case 'd': args->detector = optarg; break;
        case 'r': args->recognizer = optarg; break;
        case 's':
            if (!fq_tool_parse_size(optarg, &args->size)) {
                fq_tool_fail("enroll", "--input-size takes WxH, such as 640x480, not '%s'",
                             optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'h': enroll_help(stdout); return -1;
        default: enroll_help(stderr); return FQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || args->gallery == NULL) {
        fq_tool_fail("enroll", "needs DIR and --gallery G (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->dir = argv[optind];
    return FQ_EXIT_OK;
}

static void batch_free(person_batch *batch)
{
    fq_tool_free_names(batch->sources, batch->count);
    fq_free(batch->vectors);
    memset(batch, 0, sizeof(*batch));
}

/* Room for one more embedding at batch->vectors + count * size. */
static fq_status batch_reserve(person_batch *batch, fq_error *err)
{
    if (batch->count < batch->capacity)
        return FQ_OK;
    int grown = batch->capacity == 0 ? 8 : batch->capacity * 2;
    float *vectors = fq_realloc(batch->vectors, (size_t)grown * batch->size * sizeof(float));
    if (vectors != NULL)
        batch->vectors = vectors;
    char **sources = vectors != NULL ? fq_realloc(batch->sources, grown * sizeof(char *)) : NULL;
    if (sources == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d embeddings", grown);
    batch->sources = sources;
    batch->capacity = grown;
    return FQ_OK;
}

/* Adds the embedding of one photo to the batch; a photo that cannot be read or has no face is
 * counted and reported, not an error. */
static fq_status enroll_photo(fq_tool_pipeline *pipeline, const char *path, person_batch *batch,
                              enroll_totals *totals, fq_error *err)
{
    fq_image rgb = {0};
    fq_error load_err = {0};
    totals->images++;
    if (fq_image_load_file(path, NULL, &rgb, &load_err) != FQ_OK) {
        fprintf(stderr, "fq enroll: skipped %s: %s\n", path, load_err.message);
        totals->unreadable++;
        return FQ_OK;
    }
    bool found = false;
    fq_status status = batch_reserve(batch, err);
    if (status == FQ_OK)
        status = fq_tool_embed_photo(pipeline, &rgb, batch->vectors +
                                     (size_t)batch->count * batch->size, &found, NULL, err);
    fq_image_free(&rgb);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);
    if (!found) {
        fprintf(stderr, "fq enroll: no face in %s\n", path);
        totals->no_face++;
        return FQ_OK;
    }
    if ((batch->sources[batch->count] = fq_strdup(path)) == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for a path");
    batch->count++;
    totals->faces++;
    return FQ_OK;
}

static fq_status collect_person(fq_tool_pipeline *pipeline, const char *person_dir,
                                person_batch *batch, enroll_totals *totals, fq_error *err)
{
    char **files;
    int n_files;
    fq_status status = fq_tool_list_dir(person_dir, false, &files, &n_files, err);
    char path[FQ_TOOL_PATH_SIZE];
    for (int i = 0; status == FQ_OK && i < n_files; i++) {
        if (!fq_tool_join_path(person_dir, files[i], path, sizeof(path)))
            status = fq_error_set(err, FQ_ERR_INVALID_ARG, "path too long: %s/%s", person_dir,
                                  files[i]);
        else
            status = enroll_photo(pipeline, path, batch, totals, err);
    }
    fq_tool_free_names(files, n_files);
    return status;
}

static fq_status enroll_person(fq_tool_pipeline *pipeline, fq_gallery *gallery,
                               const char *dir, const char *name, enroll_totals *totals,
                               fq_error *err)
{
    int exists = 0;
    fq_status status = fq_gallery_has_person(gallery, name, &exists, err);
    if (status != FQ_OK || exists) {
        if (exists)
            fprintf(stderr, "fq enroll: %s is already in the gallery: skipped\n", name);
        totals->already += exists;
        return status;
    }
    char person_dir[FQ_TOOL_PATH_SIZE];
    if (!fq_tool_join_path(dir, name, person_dir, sizeof(person_dir)))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "path too long: %s/%s", dir, name);

    person_batch batch = {.size = pipeline->recognizer.embedding_size};
    status = collect_person(pipeline, person_dir, &batch, totals, err);
    if (status == FQ_OK && batch.count == 0)
        fprintf(stderr, "fq enroll: no face found for %s: not enrolled\n", name);
    if (status == FQ_OK && batch.count > 0)
        status = fq_gallery_add(gallery, name, &pipeline->recognizer, batch.vectors, batch.count,
                                (const char *const *)batch.sources, err);
    if (status == FQ_OK && batch.count > 0) {
        fprintf(stderr, "fq enroll: %s: %d face%s\n", name, batch.count,
                batch.count == 1 ? "" : "s");
        totals->people++;
    }
    batch_free(&batch);
    return status;
}

static void print_summary(const enroll_args *args, const enroll_totals *t)
{
    printf("enrolled %d %s into %s: %d face%s from %d image%s", t->people,
           t->people == 1 ? "person" : "people", args->gallery, t->faces, t->faces == 1 ? "" : "s",
           t->images, t->images == 1 ? "" : "s");
    printf("; %d image%s without a face", t->no_face, t->no_face == 1 ? "" : "s");
    if (t->unreadable > 0)
        printf(", %d unreadable", t->unreadable);
    if (t->already > 0)
        printf("; %d already enrolled (skipped)", t->already);
    printf("\n");
}

static fq_status open_gallery_for(const enroll_args *args, const fq_tool_pipeline *pipeline,
                                  fq_gallery **gallery, fq_error *err)
{
    fq_status status = fq_gallery_open(args->gallery, &pipeline->recognizer, gallery, err);
    if (status == FQ_OK)
        status = fq_gallery_check_model(*gallery, &pipeline->recognizer, err);
    if (status != FQ_OK) {
        fq_gallery_close(*gallery);
        *gallery = NULL;
    }
    return status;
}

int fq_cmd_enroll(int argc, char **argv)
{
    enroll_args args;
    int code = parse_enroll_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    fq_error err = {0};
    char **people = NULL;
    int n_people = 0;
    fq_tool_pipeline pipeline = {0};
    fq_gallery *gallery = NULL;
    fq_status status = fq_tool_list_dir(args.dir, true, &people, &n_people, &err);
    if (status == FQ_OK && n_people == 0)
        status = fq_error_set(&err, FQ_ERR_INVALID_ARG, "'%s' has no folders: it should hold "
                              "one folder of photos per person", args.dir);
    if (status == FQ_OK)
        status = fq_tool_pipeline_open("enroll", args.detector, args.recognizer, &args.size,
                                       &pipeline, &err);
    if (status == FQ_OK)
        status = open_gallery_for(&args, &pipeline, &gallery, &err);

    enroll_totals totals = {0};
    for (int i = 0; status == FQ_OK && i < n_people; i++)
        status = enroll_person(&pipeline, gallery, args.dir, people[i], &totals, &err);
    if (gallery != NULL)
        print_summary(&args, &totals);
    if (status != FQ_OK)
        fq_tool_error("enroll", &err);

    fq_gallery_close(gallery);
    fq_tool_pipeline_close(&pipeline);
    fq_tool_free_names(people, n_people);
    return status == FQ_OK ? FQ_EXIT_OK : FQ_EXIT_FAILURE;
}

static void gallery_help(FILE *out)
{
    fprintf(out,
            "usage: fq gallery list G [--json]\n"
            "       fq gallery remove G NAME\n"
            "\n"
            "list    prints the gallery's recognizer, embedding size and creation time (lines\n"
            "        starting with '#'), then one line per person: NAME<TAB>EMBEDDINGS\n"
            "remove  removes the person NAME and all their embeddings (one transaction)\n"
            "\n"
            "  --json      (list) print {\"gallery\", \"recognizer\", \"checksum\",\n"
            "              \"embedding_size\", \"created\",\n"
            "              \"people\": [{\"name\", \"embeddings\"}]}\n"
            "  -h, --help  show this help\n"
            "\nExit status: 0 success, 1 failure (no such gallery or person), 2 usage error.\n");
}

static cJSON *gallery_json(const char *path, const fq_gallery *gallery,
                           const fq_gallery_person *people, int count)
{
    const fq_gallery_model *model = fq_gallery_model_of(gallery);
    cJSON *root = cJSON_CreateObject();
    cJSON *list = root != NULL ? cJSON_CreateArray() : NULL;
    bool ok = list != NULL && cJSON_AddStringToObject(root, "gallery", path) != NULL &&
              cJSON_AddStringToObject(root, "recognizer", model->recognizer) != NULL &&
              cJSON_AddStringToObject(root, "checksum", model->checksum) != NULL &&
              cJSON_AddNumberToObject(root, "embedding_size", model->embedding_size) != NULL &&
              cJSON_AddStringToObject(root, "created", fq_gallery_created(gallery)) != NULL &&
              cJSON_AddItemToObject(root, "people", list);
    if (!ok)
        cJSON_Delete(list);
    for (int i = 0; ok && i < count; i++) {
        cJSON *person = cJSON_CreateObject();
        ok = person != NULL && cJSON_AddItemToArray(list, person) &&
             cJSON_AddStringToObject(person, "name", people[i].name) != NULL &&
             cJSON_AddNumberToObject(person, "embeddings", people[i].embeddings) != NULL;
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static void print_people(const char *path, const fq_gallery *gallery,
                         const fq_gallery_person *people, int count)
{
    const fq_gallery_model *model = fq_gallery_model_of(gallery);
    int total = 0;
    printf("# gallery %s: recognizer %s (%s), %d floats per embedding, created %s\n", path,
           model->recognizer, model->checksum, model->embedding_size,
           fq_gallery_created(gallery));
    for (int i = 0; i < count; i++) {
        printf("%s\t%d\n", people[i].name, people[i].embeddings);
        total += people[i].embeddings;
    }
    printf("# %d %s, %d embedding%s\n", count, count == 1 ? "person" : "people", total,
           total == 1 ? "" : "s");
}

static int gallery_list(const char *path, bool json)
{
    fq_error err = {0};
    fq_gallery *gallery = NULL;
    fq_gallery_person *people = NULL;
    int count = 0, code = FQ_EXIT_OK;
    fq_status status = fq_gallery_open(path, NULL, &gallery, &err);
    if (status == FQ_OK)
        status = fq_gallery_list(gallery, &people, &count, &err);
    if (status != FQ_OK) {
        fq_tool_error("gallery", &err);
        code = FQ_EXIT_FAILURE;
    } else if (json) {
        cJSON *root = gallery_json(path, gallery, people, count);
        if (root == NULL || !fq_tool_print_json(root)) {
            fq_tool_fail("gallery", "no memory for the JSON output");
            code = FQ_EXIT_FAILURE;
        }
        cJSON_Delete(root);
    } else {
        print_people(path, gallery, people, count);
    }
    fq_gallery_people_free(people, count);
    fq_gallery_close(gallery);
    return code;
}

static int gallery_remove(const char *path, const char *name)
{
    fq_error err = {0};
    fq_gallery *gallery = NULL;
    fq_status status = fq_gallery_open(path, NULL, &gallery, &err);
    if (status == FQ_OK)
        status = fq_gallery_remove(gallery, name, &err);
    fq_gallery_close(gallery);
    if (status != FQ_OK) {
        fq_tool_error("gallery", &err);
        return FQ_EXIT_FAILURE;
    }
    printf("removed %s from %s\n", name, path);
    return FQ_EXIT_OK;
}

int fq_cmd_gallery(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'j': json = true; break;
        case 'h': gallery_help(stdout); return FQ_EXIT_OK;
        default: gallery_help(stderr); return FQ_EXIT_USAGE;
        }
    }
    int n = argc - optind;
    const char *action = n > 0 ? argv[optind] : "";
    if (strcmp(action, "list") == 0 && n == 2)
        return gallery_list(argv[optind + 1], json);
    if (strcmp(action, "remove") == 0 && n == 3 && !json)
        return gallery_remove(argv[optind + 1], argv[optind + 2]);
    fq_tool_fail("gallery", "needs 'list G' or 'remove G NAME' (see --help)");
    return FQ_EXIT_USAGE;
}
