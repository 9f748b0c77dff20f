/* Antialiased bilinear resize and letterbox, against a direct floating-point implementation of
 * the same filter written here from its definition. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/image.h"
#include "test_util.h"

/* One pass of the filter along an axis: out[i] from in[j * step] (j < in_size). Output pixel i
 * has its centre at c = (i + 0.5) * in / out; the filter is the triangle stretched by
 * s = max(in / out, 1), over the input pixels whose centres lie in [c - s, c + s). */
static double filtered(const uint8_t *in, size_t step, int in_size, int out_size, int i)
{
    double scale = (double)in_size / out_size;
    double stretch = scale > 1.0 ? scale : 1.0;
    double centre = (i + 0.5) * scale;
    double sum = 0.0, weights = 0.0;
    for (int j = 0; j < in_size; j++) {
        double at = j + 0.5;
        if (at < centre - stretch || at >= centre + stretch)
            continue;
        double w = 1.0 - fabs(at - centre) / stretch;
        w = w > 0.0 ? w : 0.0;
        sum += w * in[(size_t)j * step];
        weights += w;
    }
    return sum / weights;
}

static uint8_t to_byte(double v)
{
    v = floor(v + 0.5);
    return (uint8_t)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
}

/* Horizontal pass into an 8-bit buffer, then the vertical pass; tight RGB rows. */
static uint8_t *reference_resize(const fq_image *src, int width, int height)
{
    uint8_t *mid = malloc((size_t)width * 3 * (size_t)src->height);
    uint8_t *out = malloc((size_t)width * 3 * (size_t)height);
    for (int y = 0; y < src->height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < 3; c++)
                mid[((size_t)y * width + x) * 3 + c] = to_byte(
                    filtered(src->data + (size_t)y * src->stride + c, 3, src->width, width, x));
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < 3; c++)
                out[((size_t)y * width + x) * 3 + c] = to_byte(
                    filtered(mid + (size_t)x * 3 + c, (size_t)width * 3, src->height, height, y));
    free(mid);
    return out;
}

static fq_image random_rgb(int width, int height, unsigned long long seed)
{
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, width, height, FQ_PIXEL_RGB, NULL), FQ_OK);
    fq_test_seed(seed);
    for (size_t i = 0; i < image.stride * (size_t)height; i++)
        image.data[i] = (uint8_t)fq_test_rand_int(0, 255);
    return image;
}

/* Resizes a random image and compares every byte with the reference, within one level. */
static void check_against_reference(int in_w, int in_h, int out_w, int out_h)
{
    fq_image src = random_rgb(in_w, in_h, (unsigned long long)(in_w * 7919 + in_h));
    fq_image dst;
    fq_error err;
    if (fq_image_resize(&src, out_w, out_h, &dst, &err) != FQ_OK)
        fail_msg("%s", err.message);
    uint8_t *want = reference_resize(&src, out_w, out_h);

    int worst = 0, differing = 0;
    for (int y = 0; y < out_h; y++) {
        for (int x = 0; x < out_w * 3; x++) {
            int d = abs(dst.data[(size_t)y * dst.stride + x] - want[(size_t)y * out_w * 3 + x]);
            worst = d > worst ? d : worst;
            differing += d != 0;
        }
    }
    print_message("%d x %d -> %d x %d: max diff %d, %d bytes differ\n", in_w, in_h, out_w, out_h,
                  worst, differing);
    free(want);
    fq_image_free(&dst);
    fq_image_free(&src);
    assert_true(worst <= 1);
}

static void test_resize_to_the_same_size_is_a_copy(void **state)
{
    (void)state;
    fq_image src = random_rgb(17, 9, 1);
    fq_image dst;
    assert_int_equal(fq_image_resize(&src, 17, 9, &dst, NULL), FQ_OK);
    for (int y = 0; y < 9; y++)
        assert_memory_equal(dst.data + (size_t)y * dst.stride, src.data + (size_t)y * src.stride,
                            17 * 3);
    fq_image_free(&dst);
    fq_image_free(&src);
}

static void test_resize_of_a_constant_image_stays_constant(void **state)
{
    (void)state;
    const int sizes[][2] = {{5, 3}, {37, 41}, {100, 7}, {1, 1}, {64, 64}};
    for (int s = 0; s < 5; s++) {
        fq_image src;
        assert_int_equal(fq_image_alloc(&src, 50, 30, FQ_PIXEL_RGB, NULL), FQ_OK);
        for (size_t i = 0; i < src.stride * 30; i++)
            src.data[i] = (uint8_t)(i % 3 == 0 ? 200 : i % 3 == 1 ? 17 : 255);
        fq_image dst;
        assert_int_equal(fq_image_resize(&src, sizes[s][0], sizes[s][1], &dst, NULL), FQ_OK);
        for (int y = 0; y < dst.height; y++) {
            const uint8_t *row = dst.data + (size_t)y * dst.stride;
            for (int x = 0; x < dst.width; x++) {
                assert_int_equal(row[3 * x + 0], 200);
                assert_int_equal(row[3 * x + 1], 17);
                assert_int_equal(row[3 * x + 2], 255);
            }
        }
        fq_image_free(&dst);
        fq_image_free(&src);
    }
}

static void test_downscale_matches_the_float_filter(void **state)
{
    (void)state;
    check_against_reference(97, 61, 31, 20);
    check_against_reference(200, 150, 64, 48);
}

static void test_upscale_matches_the_float_filter(void **state)
{
    (void)state;
    check_against_reference(13, 9, 40, 31);
}

static void test_mixed_up_and_down_scale_matches_the_float_filter(void **state)
{
    (void)state;
    check_against_reference(50, 11, 17, 29);
}

static void test_one_axis_only_matches_the_float_filter(void **state)
{
    (void)state;
    check_against_reference(60, 40, 60, 13);
    check_against_reference(60, 40, 23, 40);
}

static void test_downscale_by_two_averages_with_triangle_weights(void **state)
{
    (void)state;
    /* 4 -> 2 pixels, support 2: output 0 (centre 1.0) weighs input pixels 0, 1, 2 (distances
     * 0.5, 0.5, 1.5) by 3/4, 3/4, 1/4; output 1 (centre 3.0) weighs pixels 1, 2, 3 by 1/4, 3/4,
     * 3/4. */
    uint8_t row[] = {0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40};
    fq_image src = fq_image_view(row, 4, 1, FQ_PIXEL_RGB, 12);
    fq_image dst;
    assert_int_equal(fq_image_resize(&src, 2, 1, &dst, NULL), FQ_OK);
    /* (0 * 3 + 100 * 3 + 200 * 1) / 7 = 71.43; (100 * 1 + 200 * 3 + 40 * 3) / 7 = 117.14 */
    assert_int_equal(dst.data[0], 71);
    assert_int_equal(dst.data[3], 117);
    fq_image_free(&dst);
}

static void test_resize_of_gray_keeps_the_format(void **state)
{
    (void)state;
    uint8_t gray[] = {0, 100, 200, 40};
    fq_image src = fq_image_view(gray, 4, 1, FQ_PIXEL_GRAY, 4);
    fq_image dst;
    assert_int_equal(fq_image_resize(&src, 2, 1, &dst, NULL), FQ_OK);
    assert_int_equal(dst.format, FQ_PIXEL_GRAY);
    assert_int_equal(dst.data[0], 71);
    assert_int_equal(dst.data[1], 117);
    fq_image_free(&dst);
}

static void test_resize_refuses_rgba_and_bad_sizes(void **state)
{
    (void)state;
    uint8_t pixels[16] = {0};
    fq_image rgba = fq_image_view(pixels, 2, 2, FQ_PIXEL_RGBA, 8);
    fq_image rgb = fq_image_view(pixels, 2, 2, FQ_PIXEL_RGB, 6);
    fq_image dst;
    fq_error err;
    assert_int_equal(fq_image_resize(&rgba, 1, 1, &dst, &err), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "rgba"));
    assert_int_equal(fq_image_resize(&rgb, 0, 1, &dst, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_image_resize(&rgb, 1, FQ_IMAGE_MAX_SIDE + 1, &dst, &err),
                     FQ_ERR_INVALID_ARG);
}

/* Letterboxes a width x height random image into out_w x out_h and checks the content size,
 * the scale, the black border and that the content is the plain resize. */
static void check_letterbox(int width, int height, int out_w, int out_h, int content_w,
                            int content_h)
{
    fq_image src = random_rgb(width, height, 5);
    fq_image boxed, resized;
    fq_letterbox box;
    assert_int_equal(fq_image_letterbox(&src, out_w, out_h, &boxed, &box, NULL), FQ_OK);
    assert_int_equal(boxed.width, out_w);
    assert_int_equal(boxed.height, out_h);
    assert_int_equal(box.width, content_w);
    assert_int_equal(box.height, content_h);
    assert_true(fabsf(box.scale - (float)content_h / (float)height) < 1e-6f);

    assert_int_equal(fq_image_resize(&src, content_w, content_h, &resized, NULL), FQ_OK);
    for (int y = 0; y < out_h; y++) {
        const uint8_t *row = boxed.data + (size_t)y * boxed.stride;
        for (int x = 0; x < out_w * 3; x++) {
            bool inside = y < content_h && x < content_w * 3;
            int want = inside ? resized.data[(size_t)y * resized.stride + x] : 0;
            if (row[x] != want)
                fail_msg("letterbox byte (%d, %d) is %d, expected %d", x, y, row[x], want);
        }
    }
    fq_image_free(&resized);
    fq_image_free(&boxed);
    fq_image_free(&src);
}

static void test_letterbox_of_a_wide_image_fills_the_width(void **state)
{
    (void)state;
    /* 30 / 70 = 0.4286 < 1: width 64, height int(64 * 0.4286) = 27 */
    check_letterbox(70, 30, 64, 64, 64, 27);
}

static void test_letterbox_of_a_tall_image_fills_the_height(void **state)
{
    (void)state;
    /* 50 / 20 = 2.5 > 48 / 64: height 48, width int(48 / 2.5) = 19 */
    check_letterbox(20, 50, 64, 48, 19, 48);
}

static void test_letterbox_of_a_matching_aspect_fills_the_output(void **state)
{
    (void)state;
    check_letterbox(40, 30, 32, 24, 32, 24);
}

static void test_letterbox_converts_other_formats_to_rgb(void **state)
{
    (void)state;
    uint8_t bgr[] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3};
    fq_image src = fq_image_view(bgr, 2, 2, FQ_PIXEL_BGR, 6);
    fq_image boxed;
    assert_int_equal(fq_image_letterbox(&src, 4, 2, &boxed, NULL, NULL), FQ_OK);
    assert_int_equal(boxed.format, FQ_PIXEL_RGB);
    assert_int_equal(boxed.data[0], 3);
    assert_int_equal(boxed.data[2], 1);
    assert_int_equal(boxed.data[2 * 3], 0);
    assert_int_equal(boxed.data[3 * 3 + 2], 0);
    fq_image_free(&boxed);
}

static void test_letterbox_refuses_content_of_zero_pixels(void **state)
{
    (void)state;
    fq_image src = random_rgb(1000, 1, 3);
    fq_image boxed;
    fq_error err;
    assert_int_equal(fq_image_letterbox(&src, 64, 64, &boxed, NULL, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "64 x 0"));
    fq_image_free(&src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_to_the_same_size_is_a_copy),
        cmocka_unit_test(test_resize_of_a_constant_image_stays_constant),
        cmocka_unit_test(test_downscale_matches_the_float_filter),
        cmocka_unit_test(test_upscale_matches_the_float_filter),
        cmocka_unit_test(test_mixed_up_and_down_scale_matches_the_float_filter),
        cmocka_unit_test(test_one_axis_only_matches_the_float_filter),
        cmocka_unit_test(test_downscale_by_two_averages_with_triangle_weights),
        cmocka_unit_test(test_resize_of_gray_keeps_the_format),
        cmocka_unit_test(test_resize_refuses_rgba_and_bad_sizes),
        cmocka_unit_test(test_letterbox_of_a_wide_image_fills_the_width),
        cmocka_unit_test(test_letterbox_of_a_tall_image_fills_the_height),
        cmocka_unit_test(test_letterbox_of_a_matching_aspect_fills_the_output),
        cmocka_unit_test(test_letterbox_converts_other_formats_to_rgb),
        cmocka_unit_test(test_letterbox_refuses_content_of_zero_pixels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
