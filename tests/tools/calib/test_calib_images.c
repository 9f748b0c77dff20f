/* Calibration images: the recursive folder walk (images, other files, subfolders) and the feed
 * that turns photos into model inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "calib/calib_images.h"
#include "facequant/fq.h"
#include "image/image_io.h"

typedef struct tree {
    char root[256];
} tree;

static void path_in(const tree *t, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", t->root, name);
}

static void write_png(const tree *t, const char *name, int width, int height, uint8_t r,
                      uint8_t g, uint8_t b)
{
    fq_image img;
    assert_int_equal(fq_image_alloc(&img, width, height, FQ_PIXEL_RGB, NULL), FQ_OK);
    for (int i = 0; i < width * height; i++) {
        img.data[3 * i] = r;
        img.data[3 * i + 1] = g;
        img.data[3 * i + 2] = b;
    }
    char path[512];
    path_in(t, name, path, sizeof(path));
    fq_error err;
    if (fq_image_write_png(path, &img, &err) != FQ_OK)
        fail_msg("%s", err.message);
    fq_image_free(&img);
}

static void write_bytes(const tree *t, const char *name, const void *data, size_t size)
{
    char path[512];
    path_in(t, name, path, sizeof(path));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    fclose(f);
}

static void make_dir(const tree *t, const char *name)
{
    char path[512];
    path_in(t, name, path, sizeof(path));
    assert_int_equal(mkdir(path, 0777), 0);
}

/* root: a.png (64x48), broken.jpg (JPEG magic, then garbage), notes.txt, .hidden.png,
 *   sub/b.png (112x112), sub/data.bin, sub/deeper/c.png (112x112); empty/ holds a text file. */
static int make_tree(void **state)
{
    tree *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    snprintf(t->root, sizeof(t->root), "/tmp/fq_calib_images_XXXXXX");
    if (mkdtemp(t->root) == NULL)
        return -1;
    make_dir(t, "sub");
    make_dir(t, "sub/deeper");
    make_dir(t, "empty");
    write_png(t, "a.png", 64, 48, 200, 100, 50);
    write_png(t, ".hidden.png", 8, 8, 1, 2, 3);
    write_png(t, "sub/b.png", 112, 112, 10, 20, 30);
    write_png(t, "sub/deeper/c.png", 112, 112, 40, 50, 60);
    const unsigned char broken[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    write_bytes(t, "broken.jpg", broken, sizeof(broken));
    write_bytes(t, "notes.txt", "not an image\n", 13);
    write_bytes(t, "sub/data.bin", "\x00\x01\x02\x03", 4);
    write_bytes(t, "empty/readme.txt", "nothing here\n", 13);
    *state = t;
    return 0;
}

static int remove_tree(void **state)
{
    tree *t = *state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
    int rc = system(cmd);
    free(t);
    return rc == 0 ? 0 : -1;
}

static void scan(const tree *t, const char *sub, fq_calib_image_list *list)
{
    char dir[512];
    path_in(t, sub, dir, sizeof(dir));
    fq_error err;
    if (fq_calib_images_scan(dir, list, &err) != FQ_OK)
        fail_msg("%s", err.message);
}

static const char *base_of(const char *path, const tree *t)
{
    return path + strlen(t->root) + 1;
}

/* A [1, 3, size, size] f32 input tensor. */
typedef struct input {
    fq_tensor tensor;
    float *data;
} input;

static input input_of(int width, int height)
{
    input in;
    in.data = calloc((size_t)3 * width * height, sizeof(float));
    assert_non_null(in.data);
    in.tensor = (fq_tensor){FQ_DTYPE_F32, {.rank = 4, .dims = {1, 3, height, width}}, in.data,
                            NULL};
    return in;
}

static fq_preprocess plain(fq_preprocess_geometry geometry, int size)
{
    fq_preprocess pre = {geometry, size, size, {{0, 0, 0}, {1, 1, 1}, false}};
    return pre;
}

/* Feeds until the source says no more; returns the inputs given. */
/* Feeds from index `first` until the source says no more; returns how many it gave. */
static int feed_from(fq_calib_source *source, input *in, int first)
{
    int given = 0;
    bool more = true;
    while (more) {
        fq_error err;
        if (fq_calib_source_feed(source, first + given, &in->tensor, 1, &more, &err) != FQ_OK)
            fail_msg("%s", err.message);
        given += more;
    }
    return given;
}

static int feed_all(fq_calib_source *source, input *in)
{
    return feed_from(source, in, 0);
}

static void test_scan_finds_images_in_subfolders_and_counts_other_files(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "", &list);
    assert_int_equal(list.count, 4);
    assert_int_equal(list.skipped, 3); /* notes.txt, sub/data.bin, empty/readme.txt */
    assert_string_equal(base_of(list.paths[0], t), "a.png");
    assert_string_equal(base_of(list.paths[1], t), "broken.jpg");
    assert_string_equal(base_of(list.paths[2], t), "sub/b.png");
    assert_string_equal(base_of(list.paths[3], t), "sub/deeper/c.png");
    fq_calib_images_free(&list);
}

static void test_scan_of_a_folder_without_images_is_an_error(void **state)
{
    const tree *t = *state;
    char dir[512];
    path_in(t, "empty", dir, sizeof(dir));
    fq_calib_image_list list;
    fq_error err;
    assert_int_equal(fq_calib_images_scan(dir, &list, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no image"));
    assert_non_null(strstr(err.message, "1 other files"));
    assert_null(list.paths);
}

static void test_scan_of_a_missing_folder_is_an_io_error(void **state)
{
    const tree *t = *state;
    char dir[512];
    path_in(t, "nowhere", dir, sizeof(dir));
    fq_calib_image_list list;
    assert_int_equal(fq_calib_images_scan(dir, &list, NULL), FQ_ERR_IO);
}

static void test_feed_letterboxes_photos_and_skips_undecodable_ones(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "", &list);
    fq_preprocess pre = plain(FQ_PREPROCESS_LETTERBOX, 32);
    fq_calib_source source;
    fq_calib_source_init(&source, &list, &pre, NULL, 1);
    source.progress = false;
    input in = input_of(32, 32);

    bool more = false;
    assert_int_equal(fq_calib_source_feed(&source, 0, &in.tensor, 1, &more, NULL), FQ_OK);
    assert_true(more);
    /* a.png, 64x48 -> 32x24 at the top, black below; channel planes R, G, B. */
    assert_true(in.data[0] == 200.0f && in.data[32 * 32] == 100.0f);
    assert_true(in.data[2 * 32 * 32] == 50.0f);
    assert_true(in.data[31 * 32] == 0.0f);
    fq_calib_images_free(&list);
    free(in.data);
}

static void test_feed_gives_each_image_once_by_default(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "", &list);
    fq_preprocess pre = plain(FQ_PREPROCESS_RESIZE, 16);
    fq_calib_source source;
    fq_calib_source_init(&source, &list, &pre, NULL, 0);
    source.progress = false;
    input in = input_of(16, 16);
    assert_int_equal(feed_all(&source, &in), 3);
    assert_int_equal(source.undecodable, 1);
    fq_calib_images_free(&list);
    free(in.data);
}

static void test_feed_repeats_images_for_more_inputs(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "", &list);
    fq_preprocess pre = plain(FQ_PREPROCESS_RESIZE, 16);
    fq_calib_source source;
    fq_calib_source_init(&source, &list, &pre, NULL, 7);
    source.progress = false;
    input in = input_of(16, 16);
    assert_int_equal(feed_all(&source, &in), 7);
    assert_int_equal(fq_calib_source_total(&source), 7);
    fq_calib_images_free(&list);
    free(in.data);
}

static void test_feed_takes_images_at_input_size_as_aligned_crops(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "sub", &list);
    fq_preprocess pre = plain(FQ_PREPROCESS_ALIGNED_FACE, 112);
    fq_calib_source source;
    fq_calib_source_init(&source, &list, &pre, NULL, 0);
    source.progress = false;
    input in = input_of(112, 112);
    bool more = false;
    assert_int_equal(fq_calib_source_feed(&source, 0, &in.tensor, 1, &more, NULL), FQ_OK);
    assert_true(more);
    assert_true(in.data[0] == 10.0f && in.data[112 * 112 * 2 + 5] == 30.0f);
    assert_int_equal(feed_from(&source, &in, 1), 1);
    fq_calib_images_free(&list);
    free(in.data);
}

static void test_feed_starts_again_at_index_zero(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "", &list);
    fq_preprocess pre = plain(FQ_PREPROCESS_RESIZE, 16);
    fq_calib_source source;
    fq_calib_source_init(&source, &list, &pre, NULL, 0);
    source.progress = false;
    input in = input_of(16, 16);
    int first = feed_all(&source, &in);
    assert_true(first > 1);
    assert_int_equal(feed_all(&source, &in), first);
    fq_calib_images_free(&list);
    free(in.data);
}

static void test_feed_refuses_photos_for_a_recognizer_without_detector(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "", &list);
    fq_preprocess pre = plain(FQ_PREPROCESS_ALIGNED_FACE, 112);
    fq_calib_source source;
    fq_calib_source_init(&source, &list, &pre, NULL, 0);
    source.progress = false;
    input in = input_of(112, 112);
    bool more = true;
    fq_error err;
    assert_int_equal(fq_calib_source_feed(&source, 0, &in.tensor, 1, &more, &err),
                     FQ_ERR_INVALID_ARG);
    assert_false(more);
    assert_non_null(strstr(err.message, "a.png"));
    assert_non_null(strstr(err.message, "no detector"));
    fq_calib_images_free(&list);
    free(in.data);
}

static void test_feed_refuses_a_model_input_of_another_size(void **state)
{
    const tree *t = *state;
    fq_calib_image_list list;
    scan(t, "", &list);
    fq_preprocess pre = plain(FQ_PREPROCESS_LETTERBOX, 32);
    fq_calib_source source;
    fq_calib_source_init(&source, &list, &pre, NULL, 0);
    source.progress = false;
    input in = input_of(16, 16);
    bool more = true;
    assert_int_equal(fq_calib_source_feed(&source, 0, &in.tensor, 1, &more, NULL), FQ_ERR_SHAPE);
    assert_false(more);
    fq_calib_images_free(&list);
    free(in.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_finds_images_in_subfolders_and_counts_other_files),
        cmocka_unit_test(test_scan_of_a_folder_without_images_is_an_error),
        cmocka_unit_test(test_scan_of_a_missing_folder_is_an_io_error),
        cmocka_unit_test(test_feed_letterboxes_photos_and_skips_undecodable_ones),
        cmocka_unit_test(test_feed_gives_each_image_once_by_default),
        cmocka_unit_test(test_feed_repeats_images_for_more_inputs),
        cmocka_unit_test(test_feed_takes_images_at_input_size_as_aligned_crops),
        cmocka_unit_test(test_feed_starts_again_at_index_zero),
        cmocka_unit_test(test_feed_refuses_photos_for_a_recognizer_without_detector),
        cmocka_unit_test(test_feed_refuses_a_model_input_of_another_size),
    };
    return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
