/* Galleries: creation, people, model refusals, transactions; and the verification metrics. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "gallery/gallery.h"
#include "gallery/verify_metrics.h"
#include "test_util.h"

#define SIZE 4

static const fq_gallery_model model_a = {"recognizer_a", "fnv1a64:00000000000000aa", SIZE};

typedef struct fixture {
    char dir[256];
    char path[320];
    fq_gallery *gallery;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/fq_gallery_test_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/people.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char path[400];
    fq_gallery_close(f->gallery);
    unlink(f->path);
    snprintf(path, sizeof(path), "%s-journal", f->path);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void open_new(fixture *f)
{
    fq_error err = {0};
    assert_int_equal(fq_gallery_open(f->path, &model_a, &f->gallery, &err), FQ_OK);
}

static void reopen(fixture *f)
{
    fq_error err = {0};
    fq_gallery_close(f->gallery);
    f->gallery = NULL;
    assert_int_equal(fq_gallery_open(f->path, NULL, &f->gallery, &err), FQ_OK);
}

/* count embeddings whose first element is base, base + 1, ... (the rest zero). */
static void fill(float *v, int count, float base)
{
    memset(v, 0, (size_t)count * SIZE * sizeof(float));
    for (int i = 0; i < count; i++)
        v[i * SIZE] = base + (float)i;
}

static void add_person(fixture *f, const char *name, int count, float base)
{
    float v[8 * SIZE];
    fq_error err = {0};
    fill(v, count, base);
    assert_int_equal(fq_gallery_add(f->gallery, name, &model_a, v, count, NULL, &err), FQ_OK);
}

static int embedding_count(fixture *f, const char *name)
{
    fq_gallery_person *people;
    int count, found = -1;
    fq_error err = {0};
    assert_int_equal(fq_gallery_list(f->gallery, &people, &count, &err), FQ_OK);
    for (int i = 0; i < count; i++)
        if (strcmp(people[i].name, name) == 0)
            found = people[i].embeddings;
    fq_gallery_people_free(people, count);
    return found;
}

static int people_count(fixture *f)
{
    fq_gallery_person *people;
    int count;
    fq_error err = {0};
    assert_int_equal(fq_gallery_list(f->gallery, &people, &count, &err), FQ_OK);
    fq_gallery_people_free(people, count);
    return count;
}

static void test_new_gallery_records_its_model(void **state)
{
    fixture *f = *state;
    open_new(f);
    reopen(f);
    const fq_gallery_model *m = fq_gallery_model_of(f->gallery);
    assert_string_equal(m->recognizer, "recognizer_a");
    assert_string_equal(m->checksum, model_a.checksum);
    assert_int_equal(m->embedding_size, SIZE);
    assert_int_equal(strlen(fq_gallery_created(f->gallery)), strlen("2024-01-01T00:00:00Z"));
    assert_int_equal(people_count(f), 0);
}

static void test_opening_a_missing_gallery_without_a_model_fails(void **state)
{
    fixture *f = *state;
    fq_error err = {0};
    assert_int_equal(fq_gallery_open(f->path, NULL, &f->gallery, &err), FQ_ERR_IO);
    assert_non_null(strstr(err.message, "does not exist"));
    assert_null(f->gallery);
}

static void test_a_file_that_is_not_sqlite_is_refused(void **state)
{
    fixture *f = *state;
    FILE *file = fopen(f->path, "wb");
    fputs("this is not a database, just some text that is long enough to be read", file);
    fclose(file);
    fq_error err = {0};
    assert_int_not_equal(fq_gallery_open(f->path, &model_a, &f->gallery, &err), FQ_OK);
    assert_null(f->gallery);
    assert_non_null(strstr(err.message, f->path));
}

static void test_added_people_are_listed_sorted_with_counts(void **state)
{
    fixture *f = *state;
    open_new(f);
    add_person(f, "zoe", 1, 1.0f);
    add_person(f, "adam", 3, 10.0f);
    fq_gallery_person *people;
    int count;
    fq_error err = {0};
    assert_int_equal(fq_gallery_list(f->gallery, &people, &count, &err), FQ_OK);
    assert_int_equal(count, 2);
    assert_string_equal(people[0].name, "adam");
    assert_int_equal(people[0].embeddings, 3);
    assert_string_equal(people[1].name, "zoe");
    assert_int_equal(people[1].embeddings, 1);
    fq_gallery_people_free(people, count);
}

static void test_people_survive_reopening(void **state)
{
    fixture *f = *state;
    open_new(f);
    add_person(f, "adam", 2, 1.0f);
    reopen(f);
    assert_int_equal(embedding_count(f, "adam"), 2);
}

static void test_adding_to_an_existing_person_appends(void **state)
{
    fixture *f = *state;
    open_new(f);
    add_person(f, "adam", 2, 1.0f);
    add_person(f, "adam", 1, 5.0f);
    assert_int_equal(people_count(f), 1);
    assert_int_equal(embedding_count(f, "adam"), 3);
}

static void test_removed_person_is_gone_with_their_embeddings(void **state)
{
    fixture *f = *state;
    fq_error err = {0};
    fq_gallery_set set;
    open_new(f);
    add_person(f, "adam", 2, 1.0f);
    add_person(f, "zoe", 1, 9.0f);
    assert_int_equal(fq_gallery_remove(f->gallery, "adam", &err), FQ_OK);
    reopen(f);
    assert_int_equal(embedding_count(f, "adam"), -1);
    assert_int_equal(fq_gallery_load(f->gallery, &set, &err), FQ_OK);
    assert_int_equal(set.count, 1);
    assert_string_equal(set.names[set.person[0]], "zoe");
    fq_gallery_set_free(&set);
}

static void test_removing_an_unknown_person_fails(void **state)
{
    fixture *f = *state;
    fq_error err = {0};
    open_new(f);
    assert_int_equal(fq_gallery_remove(f->gallery, "nobody", &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "nobody"));
}

static void test_loaded_embeddings_keep_their_values_and_owners(void **state)
{
    fixture *f = *state;
    fq_error err = {0};
    fq_gallery_set set;
    open_new(f);
    add_person(f, "adam", 2, 1.0f);
    add_person(f, "zoe", 1, 0.25f);
    reopen(f);
    assert_int_equal(fq_gallery_load(f->gallery, &set, &err), FQ_OK);
    assert_int_equal(set.count, 3);
    assert_int_equal(set.size, SIZE);
    assert_int_equal(set.n_people, 2);
    for (int i = 0; i < set.count; i++) {
        const char *name = set.names[set.person[i]];
        float first = set.vectors[i * SIZE];
        if (strcmp(name, "zoe") == 0)
            assert_true(first == 0.25f);
        else
            assert_true(first == 1.0f || first == 2.0f);
    }
    fq_gallery_set_free(&set);
}

static void test_embeddings_of_another_size_are_refused(void **state)
{
    fixture *f = *state;
    fq_gallery_model other = model_a;
    other.embedding_size = SIZE * 2;
    snprintf(other.recognizer, sizeof(other.recognizer), "wide_model");
    float v[2 * SIZE] = {0};
    fq_error err = {0};
    open_new(f);
    assert_int_equal(fq_gallery_add(f->gallery, "adam", &other, v, 1, NULL, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, f->path));
    assert_non_null(strstr(err.message, "wide_model"));
    assert_int_equal(people_count(f), 0);
}

static void test_embeddings_of_another_recognizer_are_refused(void **state)
{
    fixture *f = *state;
    fq_gallery_model other = model_a;
    snprintf(other.recognizer, sizeof(other.recognizer), "recognizer_b");
    snprintf(other.checksum, sizeof(other.checksum), "fnv1a64:00000000000000bb");
    float v[SIZE] = {0};
    fq_error err = {0};
    open_new(f);
    assert_int_equal(fq_gallery_add(f->gallery, "adam", &other, v, 1, NULL, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "recognizer_a"));
    assert_non_null(strstr(err.message, "recognizer_b"));
    assert_int_equal(people_count(f), 0);
}

static void test_a_failed_add_leaves_the_gallery_unchanged(void **state)
{
    fixture *f = *state;
    float v[3 * SIZE];
    fq_error err = {0};
    open_new(f);
    add_person(f, "adam", 1, 1.0f);

    /* The third embedding is refused after the person and two embeddings were written. */
    fill(v, 3, 1.0f);
    v[2 * SIZE + 1] = NAN;
    assert_int_equal(fq_gallery_add(f->gallery, "zoe", &model_a, v, 3, NULL, &err),
                     FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_gallery_add(f->gallery, "adam", &model_a, v, 3, NULL, &err),
                     FQ_ERR_INVALID_ARG);
    reopen(f);
    assert_int_equal(people_count(f), 1);
    assert_int_equal(embedding_count(f, "adam"), 1);
    assert_int_equal(embedding_count(f, "zoe"), -1);
}

static void test_a_gallery_from_a_newer_schema_is_refused(void **state)
{
    fixture *f = *state;
    fq_error err = {0};
    open_new(f);
    fq_gallery_close(f->gallery);
    f->gallery = NULL;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(fq_gallery_open(f->path, NULL, &f->gallery, &err), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "99"));
}

static void test_checksum_is_fnv1a64_of_the_bytes(void **state)
{
    (void)state;
    char sum[64];
    fq_gallery_checksum("", 0, sum);
    assert_string_equal(sum, "fnv1a64:cbf29ce484222325");
    fq_gallery_checksum("a", 1, sum);
    assert_string_equal(sum, "fnv1a64:af63dc4c8601ec8c");
}

static void test_accuracy_counts_scores_at_the_threshold_as_same(void **state)
{
    (void)state;
    const float scores[] = {0.9f, 0.5f, 0.2f, 0.5f};
    const bool same[] = {true, true, false, false};
    assert_true(fabs(fq_verify_accuracy(scores, same, 4, 0.5f) - 0.75) < 1e-12);
}

static void test_best_threshold_falls_in_the_gap_of_separable_scores(void **state)
{
    (void)state;
    const float scores[] = {0.8f, 0.1f, 0.7f, 0.3f, 0.2f};
    const bool same[] = {true, false, true, false, false};
    float threshold;
    double accuracy;
    fq_error err = {0};
    assert_int_equal(fq_verify_best_threshold(scores, same, 5, &threshold, &accuracy, &err),
                     FQ_OK);
    assert_true(fabs(threshold - 0.5f) < 1e-6f);
    assert_true(accuracy == 1.0);
}

static void test_best_threshold_maximizes_accuracy_of_overlapping_scores(void **state)
{
    (void)state;
    const float scores[] = {0.9f, 0.6f, 0.4f, 0.5f, 0.3f, 0.1f};
    const bool same[] = {true, true, true, false, false, false};
    float threshold;
    double accuracy;
    fq_error err = {0};
    assert_int_equal(fq_verify_best_threshold(scores, same, 6, &threshold, &accuracy, &err),
                     FQ_OK);
    assert_true(fabs(accuracy - 5.0 / 6.0) < 1e-12);
    assert_true(fabs(fq_verify_accuracy(scores, same, 6, threshold) - accuracy) < 1e-12);
    assert_true(fabs(threshold - 0.35f) < 1e-6f);
}

static void test_auc_is_one_for_separable_and_half_for_ties(void **state)
{
    (void)state;
    const float separable[] = {0.9f, 0.8f, 0.1f, 0.2f};
    const float tied[] = {0.5f, 0.5f, 0.5f, 0.5f};
    const bool same[] = {true, true, false, false};
    double auc;
    fq_error err = {0};
    assert_int_equal(fq_verify_roc_auc(separable, same, 4, &auc, &err), FQ_OK);
    assert_true(auc == 1.0);
    assert_int_equal(fq_verify_roc_auc(tied, same, 4, &auc, &err), FQ_OK);
    assert_true(auc == 0.5);
}

static void test_auc_counts_each_misordered_pair(void **state)
{
    (void)state;
    /* Positives 0.9, 0.4; negatives 0.5, 0.4, 0.1: of 6 (pos, neg) couples 4 are ordered,
     * 1 is tied (0.4, 0.4) and 1 reversed (0.4 < 0.5): AUC = (4 + 0.5) / 6. */
    const float scores[] = {0.9f, 0.4f, 0.5f, 0.4f, 0.1f};
    const bool same[] = {true, true, false, false, false};
    double auc;
    fq_error err = {0};
    assert_int_equal(fq_verify_roc_auc(scores, same, 5, &auc, &err), FQ_OK);
    assert_true(fabs(auc - 4.5 / 6.0) < 1e-12);
}

static void test_auc_needs_both_kinds_of_pairs(void **state)
{
    (void)state;
    const float scores[] = {0.9f, 0.8f};
    const bool same[] = {true, true};
    double auc;
    fq_error err = {0};
    assert_int_equal(fq_verify_roc_auc(scores, same, 2, &auc, &err), FQ_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_gallery_records_its_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_opening_a_missing_gallery_without_a_model_fails,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_file_that_is_not_sqlite_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_added_people_are_listed_sorted_with_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_people_survive_reopening, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adding_to_an_existing_person_appends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_removed_person_is_gone_with_their_embeddings, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_removing_an_unknown_person_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loaded_embeddings_keep_their_values_and_owners,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_embeddings_of_another_size_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_embeddings_of_another_recognizer_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_add_leaves_the_gallery_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_gallery_from_a_newer_schema_is_refused, setup,
                                        teardown),
        cmocka_unit_test(test_checksum_is_fnv1a64_of_the_bytes),
        cmocka_unit_test(test_accuracy_counts_scores_at_the_threshold_as_same),
        cmocka_unit_test(test_best_threshold_falls_in_the_gap_of_separable_scores),
        cmocka_unit_test(test_best_threshold_maximizes_accuracy_of_overlapping_scores),
        cmocka_unit_test(test_auc_is_one_for_separable_and_half_for_ties),
        cmocka_unit_test(test_auc_counts_each_misordered_pair),
        cmocka_unit_test(test_auc_needs_both_kinds_of_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
