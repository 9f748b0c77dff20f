/* The letterbox of real photos equals the detector inputs the golden outputs were made from
 * (Pillow's antialiased bilinear resize of libjpeg-decoded JPEGs). The photos are decoded here
 * with libjpeg-turbo's default settings (ISLOW DCT, fancy upsampling), as they were for Pillow. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "facequant/image.h"
#include "facequant/npy.h"
#include "test_util.h"

typedef struct jpeg_failure {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
} jpeg_failure;

static void jpeg_fail(j_common_ptr info)
{
    jpeg_failure *failure = (jpeg_failure *)info->err;
    (*info->err->output_message)(info);
    longjmp(failure->jump, 1);
}

/* Decodes a JPEG file into an owned RGB image (fails the test if it cannot). */
static void decode_jpeg(const char *path, fq_image *rgb)
{
    size_t size = 0;
    unsigned char *bytes = fq_test_read_file(path, &size);
    if (bytes == NULL)
        fail_msg("cannot read %s", path);

    struct jpeg_decompress_struct info;
    jpeg_failure failure;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_fail;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&info);
        free(bytes);
        fail_msg("libjpeg could not decode %s", path);
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, bytes, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);

    fq_error err;
    assert_int_equal(fq_image_alloc(rgb, (int)info.output_width, (int)info.output_height,
                                    FQ_PIXEL_RGB, &err), FQ_OK);
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = rgb->data + (size_t)info.output_scanline * rgb->stride;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    free(bytes);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

typedef struct golden_case {
    const char *image;
    const char *golden;
    int out_width;
    int out_height;
    fq_normalization norm;
    float level;  /* one 8-bit step in the tensor's units */
    int batch;    /* images in the golden tensor (0 taken as 1) */
    int index;    /* which of them this photo is */
} golden_case;

/* Letterboxes the photo, normalizes it and compares with the golden tensor. */
static void check_case(const golden_case *c)
{
    const char *shared = fq_test_require_shared();
    char image_path[4096], golden_path[4096];
    snprintf(image_path, sizeof(image_path), "%s/%s", shared, c->image);
    snprintf(golden_path, sizeof(golden_path), "%s/%s", shared, c->golden);

    fq_image photo, boxed;
    fq_letterbox box;
    fq_error err;
    decode_jpeg(image_path, &photo);
    double start = now_ms();
    fq_status st = fq_image_letterbox(&photo, c->out_width, c->out_height, &boxed, &box, &err);
    double elapsed = now_ms() - start;
    if (st != FQ_OK)
        fail_msg("letterbox: %s", err.message);

    fq_npy golden;
    if (fq_npy_read_file(golden_path, &golden, &err) != FQ_OK)
        fail_msg("%s", err.message);
    size_t count = 3 * (size_t)c->out_width * (size_t)c->out_height;
    size_t batch = c->batch > 0 ? (size_t)c->batch : 1;
    assert_int_equal(golden.size, batch * count * sizeof(float));

    float *tensor = malloc(count * sizeof(float));
    assert_int_equal(fq_image_to_tensor(&boxed, &c->norm, tensor, &err), FQ_OK);

    const float *expected = (const float *)golden.data + (size_t)c->index * count;
    double max_diff = 0.0, sum_diff = 0.0;
    size_t differing = 0;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)tensor[i] - (double)expected[i]);
        max_diff = d > max_diff ? d : max_diff;
        sum_diff += d;
        differing += d > 0.0;
    }
    double mean_diff = sum_diff / (double)count;
    print_message("%s [%d]: %d x %d -> content %d x %d (scale %.6f) in %d x %d, letterbox %.2f ms; "
                  "max |diff| %.3g (%.3g levels), mean |diff| %.3g (%.3g levels), %zu of %zu "
                  "values differ\n", c->image, c->index, photo.width, photo.height, box.width,
                  box.height, (double)box.scale, c->out_width, c->out_height, elapsed, max_diff,
                  max_diff / c->level, mean_diff, mean_diff / c->level, differing, count);

    free(tensor);
    fq_npy_free(&golden);
    fq_image_free(&boxed);
    fq_image_free(&photo);
    assert_true(max_diff <= 2.0 * c->level);
    assert_true(mean_diff <= 0.25 * c->level);
}

static const fq_normalization scrfd_norm = {
    .mean = {127.5f, 127.5f, 127.5f}, .std = {128.0f, 128.0f, 128.0f}, .bgr = false};
static const fq_normalization yunet_norm = {
    .mean = {0.0f, 0.0f, 0.0f}, .std = {1.0f, 1.0f, 1.0f}, .bgr = true};

static void test_letterbox_of_t1_equals_scrfd_golden_input(void **state)
{
    (void)state;
    golden_case c = {"images/insightface/t1.jpg", "golden/inputs/scrfd_t1_640.npy", 640, 640,
                     scrfd_norm, 1.0f / 128.0f};
    check_case(&c);
}

static void test_letterbox_of_two_people_equals_scrfd_golden_input(void **state)
{
    (void)state;
    golden_case c = {"images/face_recognition/extra/two_people.jpg",
                     "golden/inputs/scrfd_two_people_480x640.npy", 640, 480, scrfd_norm,
                     1.0f / 128.0f};
    check_case(&c);
}

static void test_letterbox_of_t1_equals_yunet_bgr_golden_input(void **state)
{
    (void)state;
    golden_case c = {"images/insightface/t1.jpg", "golden/inputs/yunet_t1_640.npy", 640, 640,
                     yunet_norm, 1.0f};
    check_case(&c);
}

static void test_letterbox_of_two_people_equals_yunet_320_golden_input(void **state)
{
    (void)state;
    golden_case c = {"images/face_recognition/extra/two_people.jpg",
                     "golden/inputs/yunet_two_people_320.npy", 320, 320, yunet_norm, 1.0f};
    check_case(&c);
}

static void test_letterbox_of_both_photos_equals_the_scrfd_320_batch(void **state)
{
    (void)state;
    golden_case first = {"images/insightface/t1.jpg", "golden/inputs/scrfd_batch2_320.npy", 320,
                         320, scrfd_norm, 1.0f / 128.0f, 2, 0};
    golden_case second = {"images/face_recognition/extra/two_people.jpg",
                          "golden/inputs/scrfd_batch2_320.npy", 320, 320, scrfd_norm,
                          1.0f / 128.0f, 2, 1};
    check_case(&first);
    check_case(&second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_letterbox_of_t1_equals_scrfd_golden_input),
        cmocka_unit_test(test_letterbox_of_two_people_equals_scrfd_golden_input),
        cmocka_unit_test(test_letterbox_of_t1_equals_yunet_bgr_golden_input),
        cmocka_unit_test(test_letterbox_of_two_people_equals_yunet_320_golden_input),
        cmocka_unit_test(test_letterbox_of_both_photos_equals_the_scrfd_320_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
