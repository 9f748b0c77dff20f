/* Image buffers, pixel format conversion to RGB and RGB to a normalized NCHW tensor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/image.h"
#include "test_util.h"

static void assert_rgb_equal(const fq_image *rgb, const uint8_t *expected)
{
    assert_int_equal(rgb->format, FQ_PIXEL_RGB);
    for (int y = 0; y < rgb->height; y++) {
        const uint8_t *row = rgb->data + (size_t)y * rgb->stride;
        const uint8_t *want = expected + (size_t)y * (size_t)rgb->width * 3;
        for (int x = 0; x < rgb->width * 3; x++) {
            if (row[x] != want[x])
                fail_msg("pixel (%d, %d) channel %d is %d, expected %d", x / 3, y, x % 3, row[x],
                         want[x]);
        }
    }
}

/* Converts a width x height view of data in format to RGB and compares with expected. */
static void check_conversion(uint8_t *data, int width, int height, fq_pixel_format format,
                             size_t stride, const uint8_t *expected)
{
    fq_image src = fq_image_view(data, width, height, format, stride);
    fq_image rgb;
    fq_error err;
    if (fq_image_to_rgb(&src, &rgb, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(rgb.width, width);
    assert_int_equal(rgb.height, height);
    assert_rgb_equal(&rgb, expected);
    fq_image_free(&rgb);
}

static void test_alloc_gives_zeroed_tight_rows(void **state)
{
    (void)state;
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, 5, 3, FQ_PIXEL_RGBA, NULL), FQ_OK);
    assert_int_equal(image.stride, 20);
    assert_true(image.owned);
    for (size_t i = 0; i < 60; i++)
        assert_int_equal(image.data[i], 0);
    fq_image_free(&image);
    assert_null(image.data);
}

static void test_alloc_of_odd_nv21_rounds_rows_and_chroma_up(void **state)
{
    (void)state;
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, 3, 3, FQ_PIXEL_NV21, NULL), FQ_OK);
    /* Y rows of 3 bytes need a stride of 4 so the V/U row of 2 pairs fits too. */
    assert_int_equal(image.stride, 4);
    fq_image_free(&image);
}

static void test_alloc_refuses_sizes_outside_the_limit(void **state)
{
    (void)state;
    fq_image image;
    fq_error err;
    assert_int_equal(fq_image_alloc(&image, 0, 4, FQ_PIXEL_RGB, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_image_alloc(&image, FQ_IMAGE_MAX_SIDE + 1, 4, FQ_PIXEL_RGB, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "16385"));
    assert_int_equal(fq_image_alloc(&image, 4, 4, (fq_pixel_format)42, &err),
                     FQ_ERR_INVALID_ARG);
}

static void test_free_leaves_a_view_alone(void **state)
{
    (void)state;
    uint8_t pixels[12] = {1};
    fq_image view = fq_image_view(pixels, 2, 2, FQ_PIXEL_RGB, 6);
    assert_false(view.owned);
    fq_image_free(&view);
    assert_ptr_equal(view.data, pixels);
    assert_int_equal(view.width, 2);
}

static void test_rgb_is_copied_without_row_padding(void **state)
{
    (void)state;
    uint8_t data[] = {1, 2, 3, 4, 5, 6, 99, 99,
                      7, 8, 9, 10, 11, 12, 99, 99};
    const uint8_t expected[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    check_conversion(data, 2, 2, FQ_PIXEL_RGB, 8, expected);
}

static void test_bgr_is_swapped(void **state)
{
    (void)state;
    uint8_t data[] = {1, 2, 3, 4, 5, 6};
    const uint8_t expected[] = {3, 2, 1, 6, 5, 4};
    check_conversion(data, 2, 1, FQ_PIXEL_BGR, 6, expected);
}

static void test_rgba_drops_alpha(void **state)
{
    (void)state;
    uint8_t data[] = {10, 20, 30, 0, 40, 50, 60, 255};
    const uint8_t expected[] = {10, 20, 30, 40, 50, 60};
    check_conversion(data, 2, 1, FQ_PIXEL_RGBA, 8, expected);
}

static void test_bgra_is_swapped_and_drops_alpha(void **state)
{
    (void)state;
    uint8_t data[] = {10, 20, 30, 7, 40, 50, 60, 8};
    const uint8_t expected[] = {30, 20, 10, 60, 50, 40};
    check_conversion(data, 2, 1, FQ_PIXEL_BGRA, 8, expected);
}

static void test_gray_is_replicated(void **state)
{
    (void)state;
    uint8_t data[] = {0, 128, 0, 255, 7, 0};
    const uint8_t expected[] = {0, 0, 0, 128, 128, 128, 255, 255, 255, 7, 7, 7};
    check_conversion(data, 2, 2, FQ_PIXEL_GRAY, 3, expected);
}

/* Values by hand from R = 1.164 (Y-16) + 1.596 (V-128), G = 1.164 (Y-16) - 0.813 (V-128)
 * - 0.391 (U-128), B = 1.164 (Y-16) + 2.018 (U-128), rounded and clamped:
 * Y 235, V U 128: 254.916 -> 255; Y 100, V 200, U 50: 212.688, 69.738, -59.6;
 * Y 150, V 100, U 180: 111.288, 158.408, 260.912; Y 60, V 140, U 120: 70.368, 44.588, 35.072. */
static void test_nv21_with_odd_sizes_matches_hand_values(void **state)
{
    (void)state;
    uint8_t data[] = {
        16, 235, 100, 0,   /* Y rows, stride 4 */
        235, 16, 100, 0,
        150, 150, 60, 0,
        128, 128, 200, 50, /* V, U pairs for rows 0 and 1 */
        100, 180, 140, 120 /* for row 2 */
    };
    const uint8_t expected[] = {
        0, 0, 0,       255, 255, 255, 213, 70, 0,
        255, 255, 255, 0, 0, 0,       213, 70, 0,
        111, 158, 255, 111, 158, 255, 70, 45, 35,
    };
    check_conversion(data, 3, 3, FQ_PIXEL_NV21, 4, expected);
}

static void test_nv21_even_sizes_share_chroma_over_two_by_two(void **state)
{
    (void)state;
    uint8_t data[] = {60, 60, 60, 60, 140, 120};
    const uint8_t expected[] = {70, 45, 35, 70, 45, 35, 70, 45, 35, 70, 45, 35};
    check_conversion(data, 2, 2, FQ_PIXEL_NV21, 2, expected);
}

static void test_nv21_stride_too_small_for_chroma_is_refused(void **state)
{
    (void)state;
    uint8_t data[32] = {0};
    fq_image src = fq_image_view(data, 3, 3, FQ_PIXEL_NV21, 3);
    fq_image rgb;
    fq_error err;
    assert_int_equal(fq_image_to_rgb(&src, &rgb, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "stride 3"));
}

static void test_to_rgb_refuses_missing_data(void **state)
{
    (void)state;
    fq_image src = fq_image_view(NULL, 2, 2, FQ_PIXEL_RGB, 6);
    fq_image rgb;
    fq_error err;
    assert_int_equal(fq_image_to_rgb(&src, &rgb, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_image_to_rgb(NULL, &rgb, &err), FQ_ERR_INVALID_ARG);
}

static const fq_normalization identity_rgb = {{0, 0, 0}, {1, 1, 1}, false};

/* A 2 x 1 image: pixel 0 = (1, 2, 3), pixel 1 = (4, 5, 6). */
static uint8_t two_pixels[] = {1, 2, 3, 4, 5, 6};

static void test_to_tensor_writes_planes_in_rgb_order(void **state)
{
    (void)state;
    fq_image rgb = fq_image_view(two_pixels, 2, 1, FQ_PIXEL_RGB, 6);
    float out[6];
    assert_int_equal(fq_image_to_tensor(&rgb, &identity_rgb, out, NULL), FQ_OK);
    const float expected[] = {1, 4, 2, 5, 3, 6};
    for (int i = 0; i < 6; i++)
        assert_true(out[i] == expected[i]);
}

static void test_to_tensor_with_bgr_reverses_the_planes(void **state)
{
    (void)state;
    fq_image rgb = fq_image_view(two_pixels, 2, 1, FQ_PIXEL_RGB, 6);
    fq_normalization norm = identity_rgb;
    norm.bgr = true;
    float out[6];
    assert_int_equal(fq_image_to_tensor(&rgb, &norm, out, NULL), FQ_OK);
    const float expected[] = {3, 6, 2, 5, 1, 4};
    for (int i = 0; i < 6; i++)
        assert_true(out[i] == expected[i]);
}

static void test_to_tensor_of_a_bgr_image_still_gives_rgb_planes(void **state)
{
    (void)state;
    uint8_t bgr[] = {3, 2, 1, 6, 5, 4};
    fq_image image = fq_image_view(bgr, 2, 1, FQ_PIXEL_BGR, 6);
    float out[6];
    assert_int_equal(fq_image_to_tensor(&image, &identity_rgb, out, NULL), FQ_OK);
    const float expected[] = {1, 4, 2, 5, 3, 6};
    for (int i = 0; i < 6; i++)
        assert_true(out[i] == expected[i]);
}

static void test_to_tensor_applies_mean_and_std_per_output_channel(void **state)
{
    (void)state;
    uint8_t pixel[] = {255, 0, 128};
    fq_image rgb = fq_image_view(pixel, 1, 1, FQ_PIXEL_RGB, 3);
    fq_normalization norm = {{127.5f, 10.0f, 0.0f}, {128.0f, 2.0f, 0.5f}, false};
    float out[3];
    assert_int_equal(fq_image_to_tensor(&rgb, &norm, out, NULL), FQ_OK);
    assert_true(out[0] == 127.5f / 128.0f);
    assert_true(out[1] == -5.0f);
    assert_true(out[2] == 256.0f);
}

static void test_to_tensor_refuses_a_zero_std(void **state)
{
    (void)state;
    fq_image rgb = fq_image_view(two_pixels, 2, 1, FQ_PIXEL_RGB, 6);
    fq_normalization norm = {{0, 0, 0}, {1, 0, 1}, false};
    float out[6];
    fq_error err;
    assert_int_equal(fq_image_to_tensor(&rgb, &norm, out, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "channel 1"));
}

static void test_to_tensor_refuses_rgba(void **state)
{
    (void)state;
    uint8_t rgba[8] = {0};
    fq_image image = fq_image_view(rgba, 2, 1, FQ_PIXEL_RGBA, 8);
    float out[6];
    assert_int_equal(fq_image_to_tensor(&image, &identity_rgb, out, NULL), FQ_ERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_gives_zeroed_tight_rows),
        cmocka_unit_test(test_alloc_of_odd_nv21_rounds_rows_and_chroma_up),
        cmocka_unit_test(test_alloc_refuses_sizes_outside_the_limit),
        cmocka_unit_test(test_free_leaves_a_view_alone),
        cmocka_unit_test(test_rgb_is_copied_without_row_padding),
        cmocka_unit_test(test_bgr_is_swapped),
        cmocka_unit_test(test_rgba_drops_alpha),
        cmocka_unit_test(test_bgra_is_swapped_and_drops_alpha),
        cmocka_unit_test(test_gray_is_replicated),
        cmocka_unit_test(test_nv21_with_odd_sizes_matches_hand_values),
        cmocka_unit_test(test_nv21_even_sizes_share_chroma_over_two_by_two),
        cmocka_unit_test(test_nv21_stride_too_small_for_chroma_is_refused),
        cmocka_unit_test(test_to_rgb_refuses_missing_data),
        cmocka_unit_test(test_to_tensor_writes_planes_in_rgb_order),
        cmocka_unit_test(test_to_tensor_with_bgr_reverses_the_planes),
        cmocka_unit_test(test_to_tensor_of_a_bgr_image_still_gives_rgb_planes),
        cmocka_unit_test(test_to_tensor_applies_mean_and_std_per_output_channel),
        cmocka_unit_test(test_to_tensor_refuses_a_zero_std),
        cmocka_unit_test(test_to_tensor_refuses_rgba),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
