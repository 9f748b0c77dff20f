/* fq verify: a recognizer's accuracy on labelled pairs of photos or aligned crops. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face_common.h"
#include "fq_common.h"
#include "gallery/verify_metrics.h"
#include "image/image_io.h"

#define MAX_LINE 8192

typedef struct verify_args {
    const char *pairs;
    const char *detector;
    const char *recognizer;
    float threshold;        /* < -1: the recognizer card's */
    fq_input_size size;
    bool json;
} verify_args;

/* One pair of the file: indexes into the image table. */
typedef struct pair_entry {
    int a;
    int b;
    bool same;
} pair_entry;

/* Every distinct image of the pairs file, embedded once. */
typedef struct image_table {
    char **paths;
    float *embeddings;      /* count x size */
    signed char *state;     /* 0 not yet embedded, 1 embedded, -1 failed or no face */
    int count;
    int capacity;
    int size;
} image_table;

typedef struct pair_list {
    pair_entry *items;
    int count;
    int capacity;
} pair_list;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq verify PAIRS.tsv [--detector D] [--recognizer R] [--threshold T]\n"
            "                 [--input-size WxH] [--json]\n"
            "\n"
            "Measures how well the recognizer tells people apart. Each line of PAIRS.tsv is\n"
            "A<TAB>B<TAB>SAME: two images (paths relative to the folder of PAIRS.tsv unless\n"
            "absolute) and 1 when they show the same person, 0 when not. Blank lines and lines\n"
            "starting with '#' are ignored, and so is a first line whose third field is not 0\n"
            "or 1 (a header). An image is a photo (its largest face is used) or an aligned crop\n"
            "at the recognizer's input size (112x112). A pair with an image that cannot be read\n"
            "or has no face is skipped. The score of a pair is the cosine similarity of the two\n"
            "embeddings; a pair is predicted 'same' at or above the threshold.\n"
            "\n"
            "Reports the pairs used and skipped, the accuracy at the threshold, the threshold\n"
            "that maximizes accuracy (the midpoint of the gap it falls in), and the ROC AUC\n"
            "(computed exactly from ranks, ties counted half).\n"
            "\n"
            "  --detector D      detector name or .onnx path (default %s)\n"
            "  --recognizer R    recognizer name or .onnx path (default %s)\n"
            "  --threshold T     similarity threshold in [-1, 1] (default: the card's\n"
            "                    match_threshold)\n"
            "  --input-size WxH  detector input size (default: the card's, else 640x640)\n"
            "  --json            print {\"pairs\", \"skipped\", \"same\", \"different\",\n"
            "                    \"threshold\", \"accuracy\", \"best_threshold\",\n"
            "                    \"best_accuracy\", \"auc\", \"same_min\", \"same_mean\",\n"
            "                    \"different_max\", \"different_mean\"} (auc null without\n"
            "                    both kinds of pairs)\n"
            "  -h, --help        show this help\n"
            "\n%s"
            "\nExit status: 0 success, 1 failure (unreadable or malformed file, no usable pair),\n"
            "2 usage error.\n",
            FQ_TOOL_DEFAULT_DETECTOR, FQ_TOOL_DEFAULT_RECOGNIZER, fq_tool_model_lookup_help);
}

static int parse_args(int argc, char **argv, verify_args *args)
{
    static const struct option options[] = {
        {"detector", required_argument, NULL, 'd'},   {"recognizer", required_argument, NULL, 'r'},
        {"threshold", required_argument, NULL, 't'},  {"input-size", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},             {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(args, 0, sizeof(*args));
    args->detector = FQ_TOOL_DEFAULT_DETECTOR;
    args->recognizer = FQ_TOOL_DEFAULT_RECOGNIZER;
    args->threshold = -3.0f;
    int opt;
    char *end;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'd': args->detector = optarg; break;
        case 'r': args->recognizer = optarg; break;
        case 'j': args->json = true; break;
        case 't':
            args->threshold = strtof(optarg, &end);
            if (end == optarg || *end != '\0' || !(args->threshold >= -1.0f &&
                                                   args->threshold <= 1.0f)) {
                fq_tool_fail("verify", "--threshold takes a similarity in [-1, 1], not '%s'",
                             optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 's':
            if (!fq_tool_parse_size(optarg, &args->size)) {
                fq_tool_fail("verify", "--input-size takes WxH, such as 640x480, not '%s'",
                             optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fq_tool_fail("verify", "needs one PAIRS.tsv file (see --help)");
        return FQ_EXIT_USAGE;
    }
    args->pairs = argv[optind];
    return FQ_EXIT_OK;
}

static void table_free(image_table *table)
{
    fq_tool_free_names(table->paths, table->count);
    fq_free(table->embeddings);
    fq_free(table->state);
    memset(table, 0, sizeof(*table));
}

static fq_status table_grow(image_table *table, fq_error *err)
{
    int grown = table->capacity == 0 ? 64 : table->capacity * 2;
    char **paths = fq_realloc(table->paths, (size_t)grown * sizeof(char *));
    if (paths != NULL)
        table->paths = paths;
    signed char *state = paths != NULL ? fq_realloc(table->state, (size_t)grown) : NULL;
    if (state != NULL)
        table->state = state;
    if (paths == NULL || state == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d images", grown);
    table->capacity = grown;
    return FQ_OK;
}

/* Index of path in the table, adding it when new. */
static fq_status table_index(image_table *table, const char *path, int *index, fq_error *err)
{
    for (int i = 0; i < table->count; i++) {
        if (strcmp(table->paths[i], path) == 0) {
            *index = i;
            return FQ_OK;
        }
    }
    fq_status status = table->count < table->capacity ? FQ_OK : table_grow(table, err);
    if (status != FQ_OK)
        return status;
    if ((table->paths[table->count] = fq_strdup(path)) == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for a path");
    table->state[table->count] = 0;
    *index = table->count++;
    return FQ_OK;
}

static fq_status pairs_append(pair_list *list, pair_entry entry, fq_error *err)
{
    if (list->count == list->capacity) {
        int grown = list->capacity == 0 ? 256 : list->capacity * 2;
        pair_entry *items = fq_realloc(list->items, (size_t)grown * sizeof(*items));
        if (items == NULL)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d pairs", grown);
        list->items = items;
        list->capacity = grown;
    }
    list->items[list->count++] = entry;
    return FQ_OK;
}

/* Splits "a\tb\tsame" in place; false when the line has another shape or SAME is not 0/1. */
static bool split_pair_line(char *line, char **a, char **b, bool *same)
{
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 != NULL ? strchr(tab1 + 1, '\t') : NULL;
    if (tab2 == NULL || strchr(tab2 + 1, '\t') != NULL)
        return false;
    *tab1 = '\0';
    *tab2 = '\0';
    const char *label = tab2 + 1;
    if (line[0] == '\0' || tab1[1] == '\0' || (strcmp(label, "0") != 0 && strcmp(label, "1")))
        return false;
    *a = line;
    *b = tab1 + 1;
    *same = label[0] == '1';
    return true;
}

static fq_status add_pair_line(const char *folder, char *line, image_table *table,
                               pair_list *list, bool *parsed, fq_error *err)
{
    char *a, *b, path_a[FQ_TOOL_PATH_SIZE], path_b[FQ_TOOL_PATH_SIZE];
    pair_entry entry;
    *parsed = split_pair_line(line, &a, &b, &entry.same);
    if (!*parsed)
        return FQ_OK;
    if (!fq_tool_join_path(folder, a, path_a, sizeof(path_a)) ||
        !fq_tool_join_path(folder, b, path_b, sizeof(path_b)))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "a path is too long");
    fq_status status = table_index(table, path_a, &entry.a, err);
    if (status == FQ_OK)
        status = table_index(table, path_b, &entry.b, err);
    return status == FQ_OK ? pairs_append(list, entry, err) : status;
}

static void strip_line_end(char *line)
{
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
}

static fq_status read_pairs(const char *file, image_table *table, pair_list *list,
                            fq_error *err)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot open the pairs file '%s'", file);
    char folder[FQ_TOOL_PATH_SIZE], line[MAX_LINE];
    fq_tool_dirname(file, folder, sizeof(folder));

    fq_status status = FQ_OK;
    int line_no = 0, data_lines = 0;
    while (status == FQ_OK && fgets(line, sizeof(line), f) != NULL) {
        line_no++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            status = fq_error_set(err, FQ_ERR_PARSE, "%s:%d: line longer than %d bytes", file,
                                  line_no, MAX_LINE - 2);
            break;
        }
        strip_line_end(line);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        bool parsed;
        status = add_pair_line(folder, line, table, list, &parsed, err);
        if (status == FQ_OK && !parsed && data_lines > 0)
            status = fq_error_set(err, FQ_ERR_PARSE, "%s:%d: expected A<TAB>B<TAB>1 or 0",
                                  file, line_no);
        data_lines++;
    }
    fclose(f);
    if (status == FQ_OK && list->count == 0)
        status = fq_error_set(err, FQ_ERR_PARSE, "%s holds no pairs", file);
    return status;
}

/* Embeds image i once; a failure or a missing face marks it unusable with a message. */
static fq_status embed_image(fq_tool_pipeline *pipeline, image_table *table, int i,
                             fq_error *err)
{
    if (table->state[i] != 0)
        return FQ_OK;
    fq_image rgb = {0};
    fq_error load_err = {0};
    table->state[i] = -1;
    if (fq_image_load_file(table->paths[i], NULL, &rgb, &load_err) != FQ_OK) {
        fprintf(stderr, "fq verify: skipping pairs of %s: %s\n", table->paths[i],
                load_err.message);
        return FQ_OK;
    }
    bool found;
    fq_status status = fq_tool_embed_photo(pipeline, &rgb, table->embeddings +
                                           (size_t)i * table->size, &found, NULL, err);
    fq_image_free(&rgb);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", table->paths[i]);
    if (!found)
        fprintf(stderr, "fq verify: no face in %s: skipping its pairs\n", table->paths[i]);
    table->state[i] = found ? 1 : -1;
    return FQ_OK;
}

/* Scores of the usable pairs; *used of them, the rest skipped. */
static fq_status score_pairs(fq_tool_pipeline *pipeline, image_table *table,
                             const pair_list *list, float *scores, bool *same, int *used,
                             fq_error *err)
{
    table->size = pipeline->recognizer.embedding_size;
    table->embeddings = fq_malloc((size_t)table->count * table->size * sizeof(float));
    if (table->embeddings == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d embeddings", table->count);
    *used = 0;
    for (int p = 0; p < list->count; p++) {
        const pair_entry *e = &list->items[p];
        fq_status status = embed_image(pipeline, table, e->a, err);
        if (status == FQ_OK)
            status = embed_image(pipeline, table, e->b, err);
        if (status != FQ_OK)
            return status;
        if (table->state[e->a] != 1 || table->state[e->b] != 1)
            continue;
        scores[*used] = fq_cosine_similarity(table->embeddings + (size_t)e->a * table->size,
                                             table->embeddings + (size_t)e->b * table->size,
                                             table->size);
        same[*used] = e->same;
        (*used)++;
    }
    return FQ_OK;
}

typedef struct verify_report {
    int used;
    int skipped;
    int same;
    float threshold;
    const char *threshold_source;
    double accuracy;
    float best_threshold;
    double best_accuracy;
    double auc;
    bool has_auc;
    /* Score spread per kind, for choosing a card's match_threshold. */
    float same_min, same_mean, different_max, different_mean;
} verify_report;

static void score_spread(const float *scores, const bool *same, verify_report *r)
{
    double sums[2] = {0.0, 0.0};
    r->same_min = 2.0f;
    r->different_max = -2.0f;
    for (int i = 0; i < r->used; i++) {
        sums[same[i]] += scores[i];
        if (same[i] && scores[i] < r->same_min)
            r->same_min = scores[i];
        if (!same[i] && scores[i] > r->different_max)
            r->different_max = scores[i];
    }
    int different = r->used - r->same;
    r->same_mean = r->same > 0 ? (float)(sums[1] / r->same) : 0.0f;
    r->different_mean = different > 0 ? (float)(sums[0] / different) : 0.0f;
}

static fq_status measure(const float *scores, const bool *same, verify_report *r, fq_error *err)
{
    if (r->used == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "no pair is usable (%d skipped)",
                            r->skipped);
    r->same = 0;
    for (int i = 0; i < r->used; i++)
        r->same += same[i];
    score_spread(scores, same, r);
    r->accuracy = fq_verify_accuracy(scores, same, r->used, r->threshold);
    fq_status status = fq_verify_best_threshold(scores, same, r->used, &r->best_threshold,
                                                &r->best_accuracy, err);
    r->has_auc = r->same > 0 && r->same < r->used;
    if (status == FQ_OK && r->has_auc)
        status = fq_verify_roc_auc(scores, same, r->used, &r->auc, err);
    return status;
}

static void print_report(const verify_report *r)
{
    printf("pairs: %d used (%d same, %d different), %d skipped\n", r->used, r->same,
           r->used - r->same, r->skipped);
    if (r->same > 0)
        printf("same pairs: similarity min %.4f, mean %.4f\n", r->same_min, r->same_mean);
    if (r->used > r->same)
        printf("different pairs: similarity max %.4f, mean %.4f\n", r->different_max,
               r->different_mean);
    printf("accuracy at threshold %.4f (%s): %.4f\n", r->threshold, r->threshold_source,
           r->accuracy);
    printf("best threshold: %.4f (accuracy %.4f)\n", r->best_threshold, r->best_accuracy);
    if (r->has_auc)
        printf("ROC AUC: %.6f\n", r->auc);
    else
        printf("ROC AUC: n/a (needs both same and different pairs)\n");
}

static bool print_report_json(const verify_report *r)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL && cJSON_AddNumberToObject(root, "pairs", r->used) != NULL &&
              cJSON_AddNumberToObject(root, "skipped", r->skipped) != NULL &&
              cJSON_AddNumberToObject(root, "same", r->same) != NULL &&
              cJSON_AddNumberToObject(root, "different", r->used - r->same) != NULL &&
              cJSON_AddItemToObject(root, "threshold", fq_tool_json_number(r->threshold, 4)) &&
              cJSON_AddItemToObject(root, "accuracy", fq_tool_json_number(r->accuracy, 6)) &&
              cJSON_AddItemToObject(root, "best_threshold",
                                    fq_tool_json_number(r->best_threshold, 4)) &&
              cJSON_AddItemToObject(root, "best_accuracy",
                                    fq_tool_json_number(r->best_accuracy, 6)) &&
              cJSON_AddItemToObject(root, "auc", r->has_auc ? fq_tool_json_number(r->auc, 6)
                                                            : cJSON_CreateNull());
    ok = ok && (r->same == 0 ||
                (cJSON_AddItemToObject(root, "same_min", fq_tool_json_number(r->same_min, 4)) &&
                 cJSON_AddItemToObject(root, "same_mean", fq_tool_json_number(r->same_mean, 4))));
    ok = ok && (r->used == r->same ||
                (cJSON_AddItemToObject(root, "different_max",
                                       fq_tool_json_number(r->different_max, 4)) &&
                 cJSON_AddItemToObject(root, "different_mean",
                                       fq_tool_json_number(r->different_mean, 4))));
    ok = ok && fq_tool_print_json(root);
    cJSON_Delete(root);
    return ok;
}

static fq_status run_verify(const verify_args *args, fq_tool_pipeline *pipeline,
                            image_table *table, const pair_list *list, fq_error *err)
{
    float *scores = fq_malloc((size_t)list->count * sizeof(float));
    bool *same = fq_malloc((size_t)list->count * sizeof(bool));
    verify_report report = {0};
    fq_status status = scores != NULL && same != NULL
                           ? score_pairs(pipeline, table, list, scores, same, &report.used, err)
                           : fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d pairs",
                                          list->count);
    report.skipped = list->count - report.used;
    report.threshold = args->threshold >= -1.0f ? args->threshold
                                                : fq_tool_match_threshold(pipeline);
    report.threshold_source = args->threshold >= -1.0f ? "--threshold" : "recognizer card";
    if (status == FQ_OK)
        status = measure(scores, same, &report, err);
    if (status == FQ_OK && args->json && !print_report_json(&report))
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to print the JSON output");
    else if (status == FQ_OK && !args->json)
        print_report(&report);
    fq_free(scores);
    fq_free(same);
    return status;
}

int fq_cmd_verify(int argc, char **argv)
{
    verify_args args;
    int code = parse_args(argc, argv, &args);
    if (code != FQ_EXIT_OK)
        return code < 0 ? FQ_EXIT_OK : code;

    fq_error err = {0};
    image_table table = {0};
    pair_list list = {0};
    fq_tool_pipeline pipeline = {0};
    fq_status status = read_pairs(args.pairs, &table, &list, &err);
    if (status == FQ_OK)
        fprintf(stderr, "fq verify: %d pairs over %d images\n", list.count, table.count);
    if (status == FQ_OK)
        status = fq_tool_pipeline_open("verify", args.detector, args.recognizer, &args.size,
                                       &pipeline, &err);
    if (status == FQ_OK)
        status = run_verify(&args, &pipeline, &table, &list, &err);
    if (status != FQ_OK)
        fq_tool_error("verify", &err);

    fq_tool_pipeline_close(&pipeline);
    fq_free(list.items);
    table_free(&table);
    return status == FQ_OK ? FQ_EXIT_OK : FQ_EXIT_FAILURE;
}
