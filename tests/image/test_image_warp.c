/* Affine warp: destination pixel (x, y) samples the source at M^-1 (x, y), bilinearly, with
 * black outside the source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/image.h"
#include "test_util.h"

#define W 5
#define H 4

/* A W x H RGB image whose pixel (x, y) is (10 x + 1, 10 y + 2, 50 + x + y). */
static fq_image test_image(uint8_t *pixels)
{
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            uint8_t *p = pixels + (y * W + x) * 3;
            p[0] = (uint8_t)(10 * x + 1);
            p[1] = (uint8_t)(10 * y + 2);
            p[2] = (uint8_t)(50 + x + y);
        }
    }
    return fq_image_view(pixels, W, H, FQ_PIXEL_RGB, W * 3);
}

static const uint8_t *pixel_at(const fq_image *image, int x, int y)
{
    return image->data + (size_t)y * image->stride + (size_t)x * 3;
}

static fq_image warp(const fq_image *src, const float m[6], int width, int height)
{
    fq_image dst;
    fq_error err;
    if (fq_image_warp_affine(src, m, width, height, &dst, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return dst;
}

static void assert_black(const fq_image *image, int x, int y)
{
    const uint8_t *p = pixel_at(image, x, y);
    if (p[0] != 0 || p[1] != 0 || p[2] != 0)
        fail_msg("pixel (%d, %d) is (%d, %d, %d), expected black", x, y, p[0], p[1], p[2]);
}

static void test_identity_matrix_copies_the_image(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    const float m[6] = {1, 0, 0, 0, 1, 0};
    fq_image dst = warp(&src, m, W, H);
    for (int y = 0; y < H; y++)
        assert_memory_equal(pixel_at(&dst, 0, y), pixel_at(&src, 0, y), W * 3);
    fq_image_free(&dst);
}

static void test_translation_moves_pixels_and_uncovers_black(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    const float m[6] = {1, 0, 2, 0, 1, 1};
    fq_image dst = warp(&src, m, W, H);
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            if (x < 2 || y < 1)
                assert_black(&dst, x, y);
            else
                assert_memory_equal(pixel_at(&dst, x, y), pixel_at(&src, x - 2, y - 1), 3);
        }
    }
    fq_image_free(&dst);
}

static void test_rotation_by_90_degrees_maps_columns_to_rows(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    /* x' = (H - 1) - y, y' = x: a quarter turn clockwise into an H x W image. */
    const float m[6] = {0, -1, H - 1, 1, 0, 0};
    fq_image dst = warp(&src, m, H, W);
    for (int y = 0; y < W; y++)
        for (int x = 0; x < H; x++)
            assert_memory_equal(pixel_at(&dst, x, y), pixel_at(&src, y, H - 1 - x), 3);
    fq_image_free(&dst);
}

static void test_half_pixel_shift_averages_neighbours_and_fades_at_the_edge(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    const float m[6] = {1, 0, 0.5f, 0, 1, 0};
    fq_image dst = warp(&src, m, W, H);
    /* dst(x, 0) = (src(x - 1, 0) + src(x, 0)) / 2; red is 10 x + 1, so 10 x - 4 inside and
     * half of 1 (0.5, rounded to 1) at x = 0 where src(-1, 0) is black. */
    assert_int_equal(pixel_at(&dst, 0, 0)[0], 1);
    for (int x = 1; x < W; x++)
        assert_int_equal(pixel_at(&dst, x, 0)[0], 10 * x - 4);
    fq_image_free(&dst);
}

static void test_pixels_mapping_outside_the_source_are_black(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    const float m[6] = {1, 0, 1000, 0, 1, -3e9f};
    fq_image dst = warp(&src, m, 8, 8);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
            assert_black(&dst, x, y);
    fq_image_free(&dst);
}

static void test_scaling_down_by_two_samples_every_other_pixel(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    const float m[6] = {0.5f, 0, 0, 0, 0.5f, 0};
    fq_image dst = warp(&src, m, 3, 2);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            assert_memory_equal(pixel_at(&dst, x, y), pixel_at(&src, 2 * x, 2 * y), 3);
    fq_image_free(&dst);
}

static void test_singular_matrix_is_refused(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    const float m[6] = {1, 2, 0, 2, 4, 0};
    fq_image dst;
    fq_error err;
    assert_int_equal(fq_image_warp_affine(&src, m, 4, 4, &dst, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "not invertible"));
}

static void test_warp_refuses_a_missing_matrix_and_bad_sizes(void **state)
{
    (void)state;
    uint8_t pixels[W * H * 3];
    fq_image src = test_image(pixels);
    const float m[6] = {1, 0, 0, 0, 1, 0};
    fq_image dst;
    assert_int_equal(fq_image_warp_affine(&src, NULL, 4, 4, &dst, NULL), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_image_warp_affine(&src, m, 0, 4, &dst, NULL), FQ_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_matrix_copies_the_image),
        cmocka_unit_test(test_translation_moves_pixels_and_uncovers_black),
        cmocka_unit_test(test_rotation_by_90_degrees_maps_columns_to_rows),
        cmocka_unit_test(test_half_pixel_shift_averages_neighbours_and_fades_at_the_edge),
        cmocka_unit_test(test_pixels_mapping_outside_the_source_are_black),
        cmocka_unit_test(test_scaling_down_by_two_samples_every_other_pixel),
        cmocka_unit_test(test_singular_matrix_is_refused),
        cmocka_unit_test(test_warp_refuses_a_missing_matrix_and_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
