/* Greedy NMS: order, overlap, the +1 area convention, max_faces; and unletterboxing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/face.h"

static fq_face face(float x1, float y1, float x2, float y2, float score)
{
    fq_face f;
    memset(&f, 0, sizeof(f));
    f.box[0] = x1;
    f.box[1] = y1;
    f.box[2] = x2;
    f.box[3] = y2;
    f.score = score;
    return f;
}

static void test_overlapping_weaker_face_is_dropped(void **state)
{
    (void)state;
    fq_face faces[] = {
        face(0, 0, 100, 100, 0.7f),
        face(5, 5, 105, 105, 0.9f),
        face(300, 300, 400, 400, 0.6f),
    };
    int kept = fq_nms(faces, 3, 0.4f, false, 0);
    assert_int_equal(kept, 2);
    assert_float_equal(faces[0].score, 0.9f, 0.0f);
    assert_float_equal(faces[0].box[0], 5.0f, 0.0f);
    assert_float_equal(faces[1].score, 0.6f, 0.0f);
}

static void test_overlap_at_the_threshold_is_kept(void **state)
{
    (void)state;
    /* Intersection 50, union 150: IoU exactly 1/3, not above it. */
    fq_face faces[] = {face(0, 0, 10, 10, 0.9f), face(5, 0, 15, 10, 0.8f)};
    assert_int_equal(fq_nms(faces, 2, 1.0f / 3.0f, false, 0), 2);
}

/* (0,0)-(9,9) and (5,0)-(14,9): IoU 36 / 126 = 0.286 without +1, 50 / 150 = 0.333 with it. */
static void test_plus_one_convention_counts_the_last_pixel(void **state)
{
    (void)state;
    fq_face plain[] = {face(0, 0, 9, 9, 0.9f), face(5, 0, 14, 9, 0.8f)};
    fq_face plus[] = {face(0, 0, 9, 9, 0.9f), face(5, 0, 14, 9, 0.8f)};
    assert_int_equal(fq_nms(plain, 2, 0.3f, false, 0), 2);
    assert_int_equal(fq_nms(plus, 2, 0.3f, true, 0), 1);
}

/* A zero-size box has area 1 under the +1 convention and 0 without it. */
static void test_plus_one_gives_point_boxes_an_area(void **state)
{
    (void)state;
    fq_face plain[] = {face(3, 3, 3, 3, 0.9f), face(3, 3, 3, 3, 0.8f)};
    fq_face plus[] = {face(3, 3, 3, 3, 0.9f), face(3, 3, 3, 3, 0.8f)};
    assert_int_equal(fq_nms(plain, 2, 0.5f, false, 0), 2);
    assert_int_equal(fq_nms(plus, 2, 0.5f, true, 0), 1);
}

static void test_max_faces_keeps_the_strongest(void **state)
{
    (void)state;
    fq_face faces[] = {
        face(0, 0, 10, 10, 0.5f),   face(100, 0, 110, 10, 0.9f),
        face(200, 0, 210, 10, 0.7f), face(300, 0, 310, 10, 0.8f),
    };
    assert_int_equal(fq_nms(faces, 4, 0.4f, true, 2), 2);
    assert_float_equal(faces[0].score, 0.9f, 0.0f);
    assert_float_equal(faces[1].score, 0.8f, 0.0f);
}

static void test_faces_come_out_sorted_by_score(void **state)
{
    (void)state;
    fq_face faces[9];
    float scores[9] = {0.3f, 0.9f, 0.1f, 0.5f, 0.7f, 0.2f, 0.8f, 0.4f, 0.6f};
    for (int i = 0; i < 9; i++)
        faces[i] = face(100.0f * i, 0, 100.0f * i + 50, 50, scores[i]);
    assert_int_equal(fq_nms(faces, 9, 0.4f, true, 0), 9);
    for (int i = 1; i < 9; i++)
        assert_true(faces[i - 1].score > faces[i].score);
}

static void test_equal_scores_keep_their_input_order(void **state)
{
    (void)state;
    fq_face faces[6];
    for (int i = 0; i < 6; i++)
        faces[i] = face(100.0f * i, 0, 100.0f * i + 50, 50, i % 2 == 0 ? 0.5f : 0.8f);
    assert_int_equal(fq_nms(faces, 6, 0.4f, false, 0), 6);
    float expected_x[6] = {100, 300, 500, 0, 200, 400};
    for (int i = 0; i < 6; i++)
        assert_float_equal(faces[i].box[0], expected_x[i], 0.0f);
}

/* Of two identical boxes with equal scores, the first one given survives. */
static void test_tie_on_identical_boxes_keeps_the_first(void **state)
{
    (void)state;
    fq_face faces[] = {face(0, 0, 10, 10, 0.8f), face(0, 0, 10, 10, 0.8f)};
    faces[0].kps[0] = 1.0f;
    faces[1].kps[0] = 2.0f;
    assert_int_equal(fq_nms(faces, 2, 0.4f, true, 0), 1);
    assert_float_equal(faces[0].kps[0], 1.0f, 0.0f);
}

static void test_empty_input_keeps_nothing(void **state)
{
    (void)state;
    assert_int_equal(fq_nms(NULL, 0, 0.4f, true, 0), 0);
}

static void test_unletterbox_divides_boxes_and_landmarks_by_the_scale(void **state)
{
    (void)state;
    fq_face f = face(10, 20, 30, 40, 0.9f);
    for (int i = 0; i < 10; i++)
        f.kps[i] = (float)i;
    fq_letterbox lb = {0.5f, 320, 240};
    fq_faces_unletterbox(&f, 1, &lb);
    assert_float_equal(f.box[0], 20.0f, 0.0f);
    assert_float_equal(f.box[3], 80.0f, 0.0f);
    assert_float_equal(f.kps[9], 18.0f, 0.0f);
    assert_float_equal(f.score, 0.9f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlapping_weaker_face_is_dropped),
        cmocka_unit_test(test_overlap_at_the_threshold_is_kept),
        cmocka_unit_test(test_plus_one_convention_counts_the_last_pixel),
        cmocka_unit_test(test_plus_one_gives_point_boxes_an_area),
        cmocka_unit_test(test_max_faces_keeps_the_strongest),
        cmocka_unit_test(test_faces_come_out_sorted_by_score),
        cmocka_unit_test(test_equal_scores_keep_their_input_order),
        cmocka_unit_test(test_tie_on_identical_boxes_keeps_the_first),
        cmocka_unit_test(test_empty_input_keeps_nothing),
        cmocka_unit_test(test_unletterbox_divides_boxes_and_landmarks_by_the_scale),
    };
    return cmocka_run_group_tests_name("face_nms", tests, NULL, NULL);
}
