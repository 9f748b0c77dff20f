/* The ONNX reader on damaged copies of the real models: files cut short must fail with a
 * message naming a byte offset; files with flipped bytes must never crash.
 *
 * FQ_ROBUSTNESS_CUTS and FQ_ROBUSTNESS_FLIPS set how many cuts and mutated copies are tried per
 * model (defaults 1000 and 300), so a sanitizer run can try fewer. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/onnx.h"
#include "onnx/onnx_internal.h"
#include "test_util.h"

#define MAX_MODELS 32
#define STRUCTURE_SPAN 32768

typedef struct model_file {
    char name[256];
    uint8_t *data;
    size_t size;
} model_file;

typedef struct models {
    model_file files[MAX_MODELS];
    int count;
} models;

static int count_from_env(const char *name, int fallback)
{
    const char *text = getenv(name);
    if (text == NULL || text[0] == '\0')
        return fallback;
    return atoi(text);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const model_file *)a)->name, ((const model_file *)b)->name);
}

/* Reads every .onnx file of the shared models folder, in name order. */
static int load_models(void **state)
{
    models *m = calloc(1, sizeof(*m));
    *state = m;
    const char *shared = fq_test_shared_dir();
    if (shared == NULL)
        return 0;
    char dir_path[4096];
    snprintf(dir_path, sizeof(dir_path), "%s/models", shared);
    DIR *dir = opendir(dir_path);
    if (dir == NULL)
        return 0;
    for (struct dirent *e = readdir(dir); e != NULL && m->count < MAX_MODELS; e = readdir(dir)) {
        size_t len = strlen(e->d_name);
        if (len < 5 || len >= sizeof(m->files[0].name) || strcmp(e->d_name + len - 5, ".onnx"))
            continue;
        model_file *f = &m->files[m->count];
        char path[4096 + 256];
        snprintf(path, sizeof(path), "%s/%s", dir_path, e->d_name);
        f->data = fq_test_read_file(path, &f->size);
        if (f->data == NULL)
            continue;
        memcpy(f->name, e->d_name, len + 1);
        m->count++;
    }
    closedir(dir);
    qsort(m->files, (size_t)m->count, sizeof(m->files[0]), compare_names);
    return 0;
}

static int free_models(void **state)
{
    models *m = *state;
    for (int i = 0; i < m->count; i++)
        free(m->files[i].data);
    free(m);
    return 0;
}

static const models *require_models(void **state)
{
    fq_test_require_shared();
    const models *m = *state;
    if (m->count == 0)
        fail_msg("no .onnx file in the shared models folder");
    return m;
}

static void print_statuses(const char *what, const char *model, int runs, const int *counts)
{
    print_message("%s: %d %s:", model, runs, what);
    for (int s = 0; s <= FQ_ERR_INTERNAL; s++)
        if (counts[s] > 0)
            print_message(" %s %d", fq_status_name((fq_status)s), counts[s]);
    print_message("\n");
}

/* Decodes the first cut bytes from an allocation of exactly that size, so a read past the cut
 * is caught by the address sanitizer. */
static void check_cut(const model_file *f, size_t cut, int *counts)
{
    uint8_t *prefix = malloc(cut > 0 ? cut : 1);
    assert_non_null(prefix);
    memcpy(prefix, f->data, cut);
    fq_graph *graph = NULL;
    fq_error err;
    fq_error_clear(&err);
    fq_status status = fq_onnx_decode(prefix, cut, &graph, &err);
    free(prefix);

    counts[status]++;
    if (status != FQ_ERR_PARSE && status != FQ_ERR_UNSUPPORTED)
        fail_msg("%s cut at %zu: %s: %s", f->name, cut, fq_status_name(status), err.message);
    assert_null(graph);
    if (strstr(err.message, "byte ") == NULL)
        fail_msg("%s cut at %zu: message names no byte offset: '%s'", f->name, cut,
                 err.message);
}

static void cut_models_fail_naming_a_byte_offset(void **state)
{
    const models *m = require_models(state);
    int cuts = count_from_env("FQ_ROBUSTNESS_CUTS", 1000);
    fq_test_seed(20240611);
    for (int i = 0; i < m->count; i++) {
        const model_file *f = &m->files[i];
        int counts[FQ_ERR_INTERNAL + 1] = {0};
        for (int k = 0; k < cuts; k++)
            check_cut(f, (size_t)(fq_test_rand() % f->size), counts);
        print_statuses("cuts", f->name, cuts, counts);
    }
}

/* Half the flips land anywhere (mostly in weights), half in the first or last 32 KiB, where
 * the nodes and the graph inputs and outputs are. */
static size_t flip_position(size_t size)
{
    size_t span = size < STRUCTURE_SPAN ? size : STRUCTURE_SPAN;
    switch (fq_test_rand() % 4) {
    case 0: return (size_t)(fq_test_rand() % span);
    case 1: return size - 1 - (size_t)(fq_test_rand() % span);
    default: return (size_t)(fq_test_rand() % size);
    }
}

static void check_flipped(const model_file *f, uint8_t *copy, int *counts)
{
    memcpy(copy, f->data, f->size);
    int flips = fq_test_rand_int(1, 8);
    for (int b = 0; b < flips; b++)
        copy[flip_position(f->size)] ^= (uint8_t)fq_test_rand_int(1, 255);

    fq_graph *graph = NULL;
    fq_error err;
    fq_error_clear(&err);
    fq_status status = fq_onnx_decode(copy, f->size, &graph, &err);
    counts[status]++;
    if (status == FQ_OK) {
        assert_non_null(graph);
        fq_graph_free(graph);
    } else {
        assert_null(graph);
        assert_true(err.message[0] != '\0');
    }
}

static void flipped_models_never_crash(void **state)
{
    const models *m = require_models(state);
    int copies = count_from_env("FQ_ROBUSTNESS_FLIPS", 300);
    fq_test_seed(977);
    for (int i = 0; i < m->count; i++) {
        const model_file *f = &m->files[i];
        uint8_t *copy = malloc(f->size);
        assert_non_null(copy);
        int counts[FQ_ERR_INTERNAL + 1] = {0};
        for (int k = 0; k < copies; k++)
            check_flipped(f, copy, counts);
        free(copy);
        print_statuses("mutated copies", f->name, copies, counts);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cut_models_fail_naming_a_byte_offset),
        cmocka_unit_test(flipped_models_never_crash),
    };
    return cmocka_run_group_tests(tests, load_models, free_models);
}
