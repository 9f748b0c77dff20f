/* Similarity transforms (Umeyama) and face alignment. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/face.h"
#include "test_util.h"

static void apply(const float m[6], const float *src, int n, float *dst)
{
    for (int i = 0; i < n; i++) {
        float x = src[2 * i], y = src[2 * i + 1];
        dst[2 * i] = m[0] * x + m[1] * y + m[2];
        dst[2 * i + 1] = m[3] * x + m[4] * y + m[5];
    }
}

static double residual(const float m[6], const float *src, const float *dst, int n)
{
    double sum = 0.0;
    float mapped[64];
    apply(m, src, n, mapped);
    for (int i = 0; i < 2 * n; i++)
        sum += ((double)mapped[i] - dst[i]) * ((double)mapped[i] - dst[i]);
    return sum;
}

/* The similarity with this scale, angle and translation. */
static void similarity(double scale, double angle, double tx, double ty, float m[6])
{
    double c = scale * cos(angle), s = scale * sin(angle);
    float v[6] = {(float)c, (float)-s, (float)tx, (float)s, (float)c, (float)ty};
    memcpy(m, v, sizeof(v));
}

static void estimate(const float *src, const float *dst, int n, float m[6])
{
    fq_error err = {0};
    if (fq_similarity_transform(src, dst, n, m, &err) != FQ_OK)
        fail_msg("estimate failed: %s", err.message);
}

static void test_known_similarity_is_recovered_exactly(void **state)
{
    (void)state;
    fq_test_seed(11);
    float src[10], dst[10], truth[6], m[6];
    for (int i = 0; i < 10; i++)
        src[i] = fq_test_rand_float(0.0f, 200.0f);
    similarity(0.37, 0.6, 12.5, -40.0, truth);
    apply(truth, src, 5, dst);

    estimate(src, dst, 5, m);
    for (int k = 0; k < 6; k++)
        assert_float_equal(m[k], truth[k], 1e-4f * (k == 2 || k == 5 ? 100.0f : 1.0f));
}

static void test_two_points_determine_the_similarity(void **state)
{
    (void)state;
    float src[4] = {0, 0, 1, 0}, dst[4] = {10, 10, 10, 12}, m[6];
    estimate(src, dst, 2, m);
    /* Scale 2, rotation 90 degrees, translation (10, 10). */
    float expected[6] = {0, -2, 10, 2, 0, 10};
    for (int k = 0; k < 6; k++)
        assert_float_equal(m[k], expected[k], 1e-5f);
}

/* A mirrored point set: the best proper similarity, never a reflection, and no rotation,
 * scale or shift nearby fits better. */
static void test_mirrored_points_get_the_best_rotation_not_a_reflection(void **state)
{
    (void)state;
    float src[10] = {38, 52, 74, 51, 56, 72, 42, 92, 71, 92}, dst[10], m[6];
    for (int i = 0; i < 5; i++) {
        dst[2 * i] = 200.0f - 1.5f * src[2 * i];
        dst[2 * i + 1] = 1.5f * src[2 * i + 1] + 0.3f * src[2 * i];
    }
    estimate(src, dst, 5, m);
    assert_float_equal(m[0], m[4], 1e-6f);
    assert_float_equal(m[1], -m[3], 1e-6f);
    assert_true(m[0] * m[4] - m[1] * m[3] > 0.0f);

    double best = residual(m, src, dst, 5);
    double scale = hypot(m[0], m[3]), angle = atan2(m[3], m[0]);
    for (int d = 0; d < 8; d++) {
        float p[6];
        double ds = d == 0 ? 1.01 : d == 1 ? 0.99 : 1.0;
        double da = d == 2 ? 0.01 : d == 3 ? -0.01 : 0.0;
        similarity(scale * ds, angle + da, m[2] + (d == 4) - (d == 5), m[5] + (d == 6) - (d == 7),
                   p);
        assert_true(residual(p, src, dst, 5) > best);
    }
}

/* The triangle (-1, 0), (1, 0), (0, 1) and its mirror image in x. Umeyama's SVD solution: the
 * covariance is diag(-2/3, 2/9), det < 0, so the smaller singular value is negated: scale
 * (2/3 - 2/9) / (8/9) = 0.5, rotation by 180 degrees, translation (0, 0.5). */
static void test_mirrored_triangle_matches_the_svd_solution(void **state)
{
    (void)state;
    float src[6] = {-1, 0, 1, 0, 0, 1}, dst[6] = {1, 0, -1, 0, 0, 1}, m[6];
    estimate(src, dst, 3, m);
    float expected[6] = {-0.5f, 0, 0, 0, -0.5f, 0.5f};
    for (int k = 0; k < 6; k++)
        assert_float_equal(m[k], expected[k], 1e-6f);
}

static void test_template_mapped_onto_itself_is_the_identity(void **state)
{
    (void)state;
    float m[6];
    estimate(fq_arcface_template, fq_arcface_template, 5, m);
    float identity[6] = {1, 0, 0, 0, 1, 0};
    for (int k = 0; k < 6; k++)
        assert_float_equal(m[k], identity[k], 1e-5f);
}

static void test_coincident_source_points_are_refused(void **state)
{
    (void)state;
    float src[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, m[6];
    fq_error err = {0};
    assert_int_equal(fq_similarity_transform(src, fq_arcface_template, 5, m, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "degenerate"));
}

static void test_coincident_destination_points_are_refused(void **state)
{
    (void)state;
    float dst[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, m[6];
    fq_error err = {0};
    assert_int_equal(fq_similarity_transform(fq_arcface_template, dst, 5, m, &err),
                     FQ_ERR_INVALID_ARG);
}

static void test_fewer_than_two_points_are_refused(void **state)
{
    (void)state;
    float p[2] = {1, 2}, m[6];
    assert_int_equal(fq_similarity_transform(p, p, 1, m, NULL), FQ_ERR_INVALID_ARG);
}

static void test_non_finite_points_are_refused(void **state)
{
    (void)state;
    float src[10];
    memcpy(src, fq_arcface_template, sizeof(src));
    src[3] = NAN;
    float m[6];
    assert_int_equal(fq_similarity_transform(src, fq_arcface_template, 5, m, NULL),
                     FQ_ERR_INVALID_ARG);
}

/* An image whose landmarks already sit on the template is cut unchanged. */
static void test_align_of_a_template_face_is_the_image_itself(void **state)
{
    (void)state;
    fq_image img, crop = {0};
    fq_error err = {0};
    assert_int_equal(fq_image_alloc(&img, 112, 112, FQ_PIXEL_RGB, &err), FQ_OK);
    for (int y = 0; y < 112; y++)
        for (int x = 0; x < 112 * 3; x++)
            img.data[y * img.stride + x] = (uint8_t)((x * 7 + y * 3) & 0xff);

    if (fq_face_align(&img, fq_arcface_template, 112, &crop, &err) != FQ_OK)
        fail_msg("align failed: %s", err.message);
    assert_int_equal(crop.width, 112);
    assert_int_equal(crop.height, 112);
    int worst = 0;
    for (int y = 0; y < 112; y++)
        for (int x = 0; x < 112 * 3; x++) {
            int d = abs((int)crop.data[y * crop.stride + x] - img.data[y * img.stride + x]);
            worst = d > worst ? d : worst;
        }
    assert_true(worst <= 1);
    fq_image_free(&crop);
    fq_image_free(&img);
}

/* Landmarks at twice the template, cut at size 224: the template is scaled by 224 / 112, so the
 * crop is the image itself. */
static void test_align_scales_the_template_with_the_crop_size(void **state)
{
    (void)state;
    fq_image img, crop = {0};
    fq_error err = {0};
    assert_int_equal(fq_image_alloc(&img, 224, 224, FQ_PIXEL_RGB, &err), FQ_OK);
    for (int y = 0; y < 224; y++)
        for (int x = 0; x < 224 * 3; x++)
            img.data[y * img.stride + x] = (uint8_t)(y);
    float kps[10];
    for (int i = 0; i < 10; i++)
        kps[i] = 2.0f * fq_arcface_template[i];

    assert_int_equal(fq_face_align(&img, kps, 224, &crop, &err), FQ_OK);
    assert_int_equal(crop.width, 224);
    assert_true(abs((int)crop.data[100 * crop.stride + 30] - 100) <= 1);
    fq_image_free(&crop);
    fq_image_free(&img);
}

static void test_align_refuses_non_rgb_images(void **state)
{
    (void)state;
    fq_image img, crop = {0};
    fq_error err = {0};
    assert_int_equal(fq_image_alloc(&img, 16, 16, FQ_PIXEL_BGR, &err), FQ_OK);
    assert_int_equal(fq_face_align(&img, fq_arcface_template, 112, &crop, &err),
                     FQ_ERR_INVALID_ARG);
    fq_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_similarity_is_recovered_exactly),
        cmocka_unit_test(test_two_points_determine_the_similarity),
        cmocka_unit_test(test_mirrored_points_get_the_best_rotation_not_a_reflection),
        cmocka_unit_test(test_mirrored_triangle_matches_the_svd_solution),
        cmocka_unit_test(test_template_mapped_onto_itself_is_the_identity),
        cmocka_unit_test(test_coincident_source_points_are_refused),
        cmocka_unit_test(test_coincident_destination_points_are_refused),
        cmocka_unit_test(test_fewer_than_two_points_are_refused),
        cmocka_unit_test(test_non_finite_points_are_refused),
        cmocka_unit_test(test_align_of_a_template_face_is_the_image_itself),
        cmocka_unit_test(test_align_scales_the_template_with_the_crop_size),
        cmocka_unit_test(test_align_refuses_non_rgb_images),
    };
    return cmocka_run_group_tests_name("face_align", tests, NULL, NULL);
}
