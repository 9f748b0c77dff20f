/* Calibration images: the folder walk, the recognition of image files by their first bytes,
 * and the feed that decodes, crops and preprocesses each one for fq_calibrate. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib/calib_images.h"
#include "fq_common.h"
#include "image/image_io.h"

#define PATH_SIZE 4096
#define SNIFF_BYTES 12

typedef struct path_list {
    char **paths;
    int count;
    int capacity;
} path_list;

static fq_status append_path(path_list *list, const char *path, fq_error *err)
{
    if (list->count == list->capacity) {
        int grown = list->capacity == 0 ? 64 : list->capacity * 2;
        char **bigger = fq_realloc(list->paths, (size_t)grown * sizeof(char *));
        if (bigger == NULL)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d file names", grown);
        list->paths = bigger;
        list->capacity = grown;
    }
    if ((list->paths[list->count] = fq_strdup(path)) == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for a file name");
    list->count++;
    return FQ_OK;
}

/* JPEG, PNG, WebP, PPM/PGM by their first bytes, as the decoders of tools/image tell them. */
static bool looks_like_image(const char *path)
{
    unsigned char b[SNIFF_BYTES] = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t n = fread(b, 1, sizeof(b), f);
    fclose(f);
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return true;
    if (n >= 8 && memcmp(b, png, 8) == 0)
        return true;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return true;
    return n >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6');
}

static fq_status walk(const char *dir, int depth, path_list *found, int *skipped,
                      fq_error *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot open the folder '%s'", dir);
    fq_status status = FQ_OK;
    struct dirent *entry;
    char path[PATH_SIZE];
    while (status == FQ_OK && (entry = readdir(d)) != NULL) {
        struct stat st;
        int n = snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
        if (entry->d_name[0] == '.' || n < 0 || (size_t)n >= sizeof(path) ||
            lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < FQ_CALIB_MAX_DEPTH)
                status = walk(path, depth + 1, found, skipped, err);
            continue;
        }
        if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
            continue;
        if (!S_ISREG(st.st_mode))
            continue;
        if (looks_like_image(path))
            status = append_path(found, path, err);
        else
            (*skipped)++;
    }
    closedir(d);
    return status;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void fq_calib_images_free(fq_calib_image_list *list)
{
    for (int i = 0; list->paths != NULL && i < list->count; i++)
        fq_free(list->paths[i]);
    fq_free(list->paths);
    memset(list, 0, sizeof(*list));
}

fq_status fq_calib_images_scan(const char *dir, fq_calib_image_list *list, fq_error *err)
{
    memset(list, 0, sizeof(*list));
    size_t len = strlen(dir);
    char root[PATH_SIZE];
    if (len == 0 || len >= sizeof(root))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "calibration folder name is empty or too "
                            "long");
    memcpy(root, dir, len + 1);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = '\0';

    path_list found = {0};
    fq_status status = walk(root, 0, &found, &list->skipped, err);
    list->paths = found.paths;
    list->count = found.count;
    if (status != FQ_OK) {
        fq_calib_images_free(list);
        return status;
    }
    if (list->count == 0) {
        int skipped = list->skipped;
        fq_calib_images_free(list);
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "no image in '%s' or its subfolders (%d "
                            "other files); calibration needs JPEG, PNG, WebP or PPM photos",
                            dir, skipped);
    }
    qsort(list->paths, (size_t)list->count, sizeof(char *), compare_paths);
    return FQ_OK;
}

void fq_calib_source_init(fq_calib_source *source, const fq_calib_image_list *images,
                          const fq_preprocess *pre, fq_face_service *detector, int inputs)
{
    memset(source, 0, sizeof(*source));
    source->images = images;
    source->pre = *pre;
    source->detector = detector;
    source->inputs = inputs;
    source->progress = isatty(STDERR_FILENO) != 0;
    source->log_prefix = "fq calibrate";
    source->start_ms = fq_tool_now_ms();
}

int fq_calib_source_total(const fq_calib_source *source)
{
    return source->inputs > 0 ? source->inputs : source->images->count;
}

static int largest_face(const fq_face *faces, int count)
{
    int best = -1;
    float best_area = -1.0f;
    for (int i = 0; i < count; i++) {
        float area = (faces[i].box[2] - faces[i].box[0]) * (faces[i].box[3] - faces[i].box[1]);
        if (area > best_area) {
            best_area = area;
            best = i;
        }
    }
    return best;
}

/* The aligned crop of the largest face; *found false when there is none. */
static fq_status cut_face(fq_calib_source *s, const char *path, const fq_image *rgb,
                          fq_image *crop, bool *found, fq_error *err)
{
    *found = false;
    if (s->detector == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s is %dx%d, not an aligned %dx%d crop, "
                            "and no detector is open to cut one", path, rgb->width,
                            rgb->height, s->pre.width, s->pre.height);
    fq_face *faces = NULL;
    int count = 0;
    fq_status status = fq_face_service_detect(s->detector, rgb, NULL, &faces, &count, err);
    int best = status == FQ_OK ? largest_face(faces, count) : -1;
    if (best >= 0 && !faces[best].has_kps)
        status = fq_error_set(err, FQ_ERR_UNSUPPORTED, "the detector gives no landmarks: it "
                              "cannot cut aligned crops");
    else if (best >= 0)
        status = fq_face_align(rgb, faces[best].kps, s->pre.width, crop, err);
    *found = status == FQ_OK && best >= 0;
    fq_free(faces);
    return status == FQ_OK ? FQ_OK : fq_error_prefix(err, status, "%s", path);
}

/* Writes the input of one image; *used false when it was skipped (undecodable, no face). */
static fq_status image_input(fq_calib_source *s, const char *path, float *out, bool *used,
                             fq_error *err)
{
    fq_image rgb = {0}, crop = {0};
    fq_error load_err = {0};
    *used = false;
    if (fq_image_load_file(path, NULL, &rgb, &load_err) != FQ_OK) {
        fprintf(stderr, "%s%s: skipped %s\n", s->progress ? "\n" : "", s->log_prefix,
                load_err.message);
        s->undecodable++;
        return FQ_OK;
    }
    bool is_crop = rgb.width == s->pre.width && rgb.height == s->pre.height;
    bool have = true;
    fq_status status = FQ_OK;
    if (s->pre.geometry == FQ_PREPROCESS_ALIGNED_FACE && !is_crop)
        status = cut_face(s, path, &rgb, &crop, &have, err);
    if (status == FQ_OK && have)
        status = fq_preprocess_image(&s->pre, crop.data != NULL ? &crop : &rgb, out, err);
    if (status == FQ_OK && !have)
        s->no_face++;
    *used = status == FQ_OK && have;
    fq_image_free(&crop);
    fq_image_free(&rgb);
    return status;
}

static void show_progress(const fq_calib_source *s)
{
    int total = fq_calib_source_total(s);
    double seconds = (fq_tool_now_ms() - s->start_ms) / 1000.0;
    double rate = seconds > 0.0 ? s->given / seconds : 0.0;
    int left = rate > 0.0 ? (int)((total - s->given) / rate + 0.5) : 0;
    fprintf(stderr, "\r%s: %d/%d images, %.1f images/s, %d:%02d left ", s->log_prefix, s->given,
            total, rate, left / 60, left % 60);
    if (s->given == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static fq_status check_input(const fq_calib_source *s, const fq_tensor *inputs, int n_inputs,
                             fq_error *err)
{
    const fq_shape *shape = &inputs[0].shape;
    if (n_inputs != 1 || shape->rank != 4 || shape->dims[0] != 1 || shape->dims[1] != 3 ||
        shape->dims[2] != s->pre.height || shape->dims[3] != s->pre.width)
        return fq_error_set(err, FQ_ERR_SHAPE, "the model takes %d input(s), the first of rank "
                            "%d; calibration images give one [1, 3, %d, %d]", n_inputs,
                            shape->rank, s->pre.height, s->pre.width);
    return FQ_OK;
}

fq_status fq_calib_source_feed(void *user, int index, fq_tensor *inputs, int n_inputs,
                               bool *more, fq_error *err)
{
    fq_calib_source *s = user;
    /* Index 0 starts a new pass over the images (sensitivity runs one pass per layer). */
    if (index == 0) {
        s->next = 0;
        s->given = 0;
        s->failed_in_a_row = 0;
        s->undecodable = 0;
        s->no_face = 0;
    }
    fq_status status = check_input(s, inputs, n_inputs, err);
    int total = fq_calib_source_total(s);
    int limit = s->inputs > 0 ? INT32_MAX : s->images->count;
    bool used = false;
    while (status == FQ_OK && !used && s->given < total && s->next < limit &&
           s->failed_in_a_row < s->images->count) {
        const char *path = s->images->paths[s->next++ % s->images->count];
        status = image_input(s, path, inputs[0].data, &used, err);
        s->failed_in_a_row = used ? 0 : s->failed_in_a_row + 1;
    }
    *more = status == FQ_OK && used;
    if (*more) {
        s->given++;
        if (s->progress)
            show_progress(s);
    }
    return status;
}
