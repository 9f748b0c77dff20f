/* Detector output decoding on hand-made output tensors: one strong anchor at a known cell and
 * stride must give exactly the box and landmarks the SCRFD and YuNet formulas say. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/face.h"

#define MAX_OUTPUTS 16

/* A set of zero-filled output tensors, freed by outputs_free. */
typedef struct outputs {
    fq_tensor t[MAX_OUTPUTS];
    int n;
} outputs;

static float *add_output(outputs *o, int64_t rows, int64_t channels, bool batch_dim)
{
    fq_tensor *t = &o->t[o->n++];
    memset(t, 0, sizeof(*t));
    t->dtype = FQ_DTYPE_F32;
    t->shape.rank = batch_dim ? 3 : 2;
    t->shape.dims[0] = 1;
    t->shape.dims[t->shape.rank - 2] = rows;
    t->shape.dims[t->shape.rank - 1] = channels;
    t->data = calloc((size_t)(rows * channels), sizeof(float));
    return t->data;
}

static void outputs_free(outputs *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->t[i].data);
    o->n = 0;
}

/* SCRFD outputs for strides 8 << i: scores, then boxes, then (with kps) landmarks. */
static void make_scrfd(outputs *o, int width, int height, int n_strides, int anchors, bool kps,
                       bool batch_dim)
{
    o->n = 0;
    int per_group[3] = {1, 4, 10};
    for (int g = 0; g < (kps ? 3 : 2); g++)
        for (int i = 0; i < n_strides; i++) {
            int s = 8 << i;
            int64_t cells = (int64_t)((width + s - 1) / s) * ((height + s - 1) / s);
            add_output(o, cells * anchors, per_group[g], batch_dim);
        }
}

static float *data(outputs *o, int i)
{
    return o->t[i].data;
}

static void decode(fq_detector_family family, outputs *o, int width, int height,
                   float threshold, fq_face **faces, int *count)
{
    fq_error err = {0};
    fq_status st = fq_detect_decode(family, o->t, o->n, width, height, threshold, faces, count,
                                    &err);
    if (st != FQ_OK)
        fail_msg("decode failed: %s", err.message);
}

static void assert_refused(fq_detector_family family, outputs *o, int width, int height,
                           fq_status expected, const char *needle)
{
    fq_face *faces = NULL;
    int count = -1;
    fq_error err = {0};
    assert_int_equal(fq_detect_decode(family, o->t, o->n, width, height, 0.5f, &faces, &count,
                                      &err), expected);
    assert_null(faces);
    assert_int_equal(count, 0);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' does not contain '%s'", err.message, needle);
}

static void assert_box(const fq_face *f, float x1, float y1, float x2, float y2)
{
    assert_float_equal(f->box[0], x1, 1e-5f);
    assert_float_equal(f->box[1], y1, 1e-5f);
    assert_float_equal(f->box[2], x2, 1e-5f);
    assert_float_equal(f->box[3], y2, 1e-5f);
}

/* 32x32 input, 2 anchors: stride 16 has a 2x2 grid; the second anchor of cell (col 1, row 0)
 * is row 3. Centre (16, 0). */
static void test_scrfd_strong_anchor_gives_exact_box_and_landmarks(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    data(&o, 1)[3] = 0.9f;
    float *box = data(&o, 4) + 4 * 3;
    box[0] = 1.0f;
    box[1] = 2.0f;
    box[2] = 3.0f;
    box[3] = 4.0f;
    float *kps = data(&o, 7) + 10 * 3;
    for (int p = 0; p < 10; p++)
        kps[p] = 0.25f * (float)(p + 1);

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_SCRFD, &o, 32, 32, 0.5f, &faces, &count);
    assert_int_equal(count, 1);
    assert_float_equal(faces[0].score, 0.9f, 0.0f);
    assert_box(&faces[0], 16.0f - 16.0f, 0.0f - 32.0f, 16.0f + 48.0f, 0.0f + 64.0f);
    assert_true(faces[0].has_kps);
    for (int p = 0; p < 5; p++) {
        assert_float_equal(faces[0].kps[2 * p], 16.0f + 0.25f * (float)(2 * p + 1) * 16.0f, 1e-5f);
        assert_float_equal(faces[0].kps[2 * p + 1], 0.25f * (float)(2 * p + 2) * 16.0f, 1e-5f);
    }
    fq_free(faces);
    outputs_free(&o);
}

/* With one anchor per cell the row index is the cell index: row 3 at stride 8 on a 32x32 input
 * (4x4 grid) is cell (col 3, row 0); row 5 is (col 1, row 1). */
static void test_scrfd_one_anchor_per_cell_maps_rows_to_cells(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 1, true, false);
    assert_int_equal(o.t[0].shape.dims[0], 16);
    data(&o, 0)[3] = 0.8f;
    data(&o, 0)[5] = 0.7f;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_SCRFD, &o, 32, 32, 0.5f, &faces, &count);
    assert_int_equal(count, 2);
    assert_box(&faces[0], 24.0f, 0.0f, 24.0f, 0.0f);
    assert_box(&faces[1], 8.0f, 8.0f, 8.0f, 8.0f);
    fq_free(faces);
    outputs_free(&o);
}

/* With two anchors both rows of a cell share its centre. */
static void test_scrfd_two_anchors_share_the_cell_centre(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    data(&o, 0)[10] = 0.8f;
    data(&o, 0)[11] = 0.7f;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_SCRFD, &o, 32, 32, 0.5f, &faces, &count);
    assert_int_equal(count, 2);
    /* Rows 10 and 11: cell 5 = (col 1, row 1) at stride 8. */
    assert_box(&faces[0], 8.0f, 8.0f, 8.0f, 8.0f);
    assert_box(&faces[1], 8.0f, 8.0f, 8.0f, 8.0f);
    fq_free(faces);
    outputs_free(&o);
}

/* Five strides on a 128x128 input: 8 .. 128, the last with a single cell. */
static void test_scrfd_five_strides_decode_with_their_own_strides(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 128, 128, 5, 1, false, false);
    assert_int_equal(o.n, 10);
    data(&o, 4)[0] = 0.95f;
    data(&o, 9)[0] = 1.0f;
    data(&o, 3)[3] = 0.6f;
    data(&o, 8)[4 * 3 + 2] = 0.5f;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_SCRFD, &o, 128, 128, 0.5f, &faces, &count);
    assert_int_equal(count, 2);
    /* Stride 64 comes first: row 3 of its 2x2 grid is (col 1, row 1), centre (64, 64). */
    assert_float_equal(faces[0].score, 0.6f, 0.0f);
    assert_box(&faces[0], 64.0f, 64.0f, 64.0f + 32.0f, 64.0f);
    assert_false(faces[0].has_kps);
    assert_float_equal(faces[1].score, 0.95f, 0.0f);
    assert_box(&faces[1], -128.0f, 0.0f, 0.0f, 0.0f);
    fq_free(faces);
    outputs_free(&o);
}

static void test_scrfd_batch_dimension_of_one_is_accepted(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, true);
    data(&o, 2)[1] = 0.9f;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_SCRFD, &o, 32, 32, 0.5f, &faces, &count);
    assert_int_equal(count, 1);
    assert_box(&faces[0], 0.0f, 0.0f, 0.0f, 0.0f);
    fq_free(faces);
    outputs_free(&o);
}

/* A 40x40 input has ceil(40 / 16) = 3 columns at stride 16: row 4 is (col 1, row 1). */
static void test_scrfd_grid_rounds_partial_cells_up(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 40, 40, 3, 1, false, false);
    assert_int_equal(o.t[1].shape.dims[0], 9);
    data(&o, 1)[4] = 0.9f;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_SCRFD, &o, 40, 40, 0.5f, &faces, &count);
    assert_int_equal(count, 1);
    assert_box(&faces[0], 16.0f, 16.0f, 16.0f, 16.0f);
    fq_free(faces);
    outputs_free(&o);
}

static void test_score_threshold_keeps_scores_at_or_above_it(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    data(&o, 0)[0] = 0.5f;
    data(&o, 0)[1] = 0.49999f;
    data(&o, 0)[2] = NAN;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_SCRFD, &o, 32, 32, 0.5f, &faces, &count);
    assert_int_equal(count, 1);
    assert_float_equal(faces[0].score, 0.5f, 0.0f);
    fq_free(faces);
    outputs_free(&o);
}

static void test_no_candidate_gives_no_faces(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    fq_face *faces = (fq_face *)&o;
    int count = -1;
    decode(FQ_DETECTOR_SCRFD, &o, 32, 32, 0.5f, &faces, &count);
    assert_int_equal(count, 0);
    assert_null(faces);
    outputs_free(&o);
}

static void test_rows_not_matching_the_input_size_are_refused(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    assert_refused(FQ_DETECTOR_SCRFD, &o, 64, 64, FQ_ERR_SHAPE, "stride 8 scores have 32 rows");
    outputs_free(&o);

    make_scrfd(&o, 32, 32, 3, 3, true, false);
    assert_refused(FQ_DETECTOR_SCRFD, &o, 32, 32, FQ_ERR_SHAPE, "1 or 2 times");
    outputs_free(&o);
}

static void test_box_rows_differing_from_score_rows_are_refused(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    o.t[4].shape.dims[0] = 4;
    assert_refused(FQ_DETECTOR_SCRFD, &o, 32, 32, FQ_ERR_SHAPE, "detector output 4 has 4 rows");
    outputs_free(&o);
}

static void test_four_strides_are_refused(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 64, 64, 4, 1, false, false);
    assert_refused(FQ_DETECTOR_SCRFD, &o, 64, 64, FQ_ERR_SHAPE, "expected 3 or 5");
    outputs_free(&o);
}

static void test_batch_of_two_is_refused(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, true);
    o.t[5].shape.dims[0] = 2;
    assert_refused(FQ_DETECTOR_SCRFD, &o, 32, 32, FQ_ERR_UNSUPPORTED, "batch 2");
    outputs_free(&o);
}

static void test_unknown_last_dimension_is_refused(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    o.t[8].shape.dims[1] = 7;
    assert_refused(FQ_DETECTOR_SCRFD, &o, 32, 32, FQ_ERR_SHAPE, "last dimension 7");
    outputs_free(&o);
}

static void test_non_float_output_is_refused(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    o.t[0].dtype = FQ_DTYPE_F16;
    assert_refused(FQ_DETECTOR_SCRFD, &o, 32, 32, FQ_ERR_UNSUPPORTED, "expected f32");
    outputs_free(&o);
}

/* YuNet outputs: cls, obj (both [1, N, 1]), bbox, kps per stride, 1 anchor per cell. */
static void make_yunet(outputs *o, int width, int height)
{
    o->n = 0;
    int per_group[4] = {1, 1, 4, 10};
    for (int g = 0; g < 4; g++)
        for (int i = 0; i < 3; i++) {
            int s = 8 << i;
            add_output(o, (int64_t)((width + s - 1) / s) * ((height + s - 1) / s), per_group[g],
                       true);
        }
}

/* 64x64 input: stride 16 has a 4x4 grid; row 6 is (col 2, row 1). */
static void test_yunet_strong_anchor_gives_exact_box_and_landmarks(void **state)
{
    (void)state;
    outputs o;
    make_yunet(&o, 64, 64);
    data(&o, 1)[6] = 0.81f;
    data(&o, 4)[6] = 0.64f;
    float *box = data(&o, 7) + 4 * 6;
    box[0] = 0.5f;
    box[1] = -0.25f;
    box[2] = logf(2.0f);
    box[3] = logf(3.0f);
    float *kps = data(&o, 10) + 10 * 6;
    for (int p = 0; p < 10; p++)
        kps[p] = 0.1f * (float)p;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_YUNET, &o, 64, 64, 0.6f, &faces, &count);
    assert_int_equal(count, 1);
    assert_float_equal(faces[0].score, sqrtf(0.81f * 0.64f), 1e-6f);
    float cx = (2.0f + 0.5f) * 16.0f, cy = (1.0f - 0.25f) * 16.0f;
    float w = 2.0f * 16.0f, h = 3.0f * 16.0f;
    assert_box(&faces[0], cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
    for (int p = 0; p < 5; p++) {
        assert_float_equal(faces[0].kps[2 * p], (2.0f + 0.2f * (float)p) * 16.0f, 1e-4f);
        assert_float_equal(faces[0].kps[2 * p + 1], (1.0f + 0.1f * (float)(2 * p + 1)) * 16.0f,
                           1e-4f);
    }
    fq_free(faces);
    outputs_free(&o);
}

/* Scores outside [0, 1] are clamped before the geometric mean. */
static void test_yunet_clamps_cls_and_obj(void **state)
{
    (void)state;
    outputs o;
    make_yunet(&o, 64, 64);
    data(&o, 0)[0] = 1.5f;
    data(&o, 3)[0] = 0.49f;
    data(&o, 0)[1] = -0.5f;
    data(&o, 3)[1] = -0.5f;

    fq_face *faces;
    int count;
    decode(FQ_DETECTOR_YUNET, &o, 64, 64, 0.6f, &faces, &count);
    assert_int_equal(count, 1);
    assert_float_equal(faces[0].score, 0.7f, 1e-6f);
    fq_free(faces);
    outputs_free(&o);
}

static void test_yunet_with_two_anchor_rows_is_refused(void **state)
{
    (void)state;
    outputs o;
    make_yunet(&o, 64, 64);
    for (int i = 0; i < o.n; i += 3)
        o.t[i].shape.dims[1] = 128;
    assert_refused(FQ_DETECTOR_YUNET, &o, 64, 64, FQ_ERR_SHAPE, "as many as");
    outputs_free(&o);
}

static void test_yunet_family_on_scrfd_outputs_is_refused(void **state)
{
    (void)state;
    outputs o;
    make_scrfd(&o, 32, 32, 3, 2, true, false);
    assert_refused(FQ_DETECTOR_YUNET, &o, 32, 32, FQ_ERR_SHAPE, "YuNet outputs");
    outputs_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrfd_strong_anchor_gives_exact_box_and_landmarks),
        cmocka_unit_test(test_scrfd_one_anchor_per_cell_maps_rows_to_cells),
        cmocka_unit_test(test_scrfd_two_anchors_share_the_cell_centre),
        cmocka_unit_test(test_scrfd_five_strides_decode_with_their_own_strides),
        cmocka_unit_test(test_scrfd_batch_dimension_of_one_is_accepted),
        cmocka_unit_test(test_scrfd_grid_rounds_partial_cells_up),
        cmocka_unit_test(test_score_threshold_keeps_scores_at_or_above_it),
        cmocka_unit_test(test_no_candidate_gives_no_faces),
        cmocka_unit_test(test_rows_not_matching_the_input_size_are_refused),
        cmocka_unit_test(test_box_rows_differing_from_score_rows_are_refused),
        cmocka_unit_test(test_four_strides_are_refused),
        cmocka_unit_test(test_batch_of_two_is_refused),
        cmocka_unit_test(test_unknown_last_dimension_is_refused),
        cmocka_unit_test(test_non_float_output_is_refused),
        cmocka_unit_test(test_yunet_strong_anchor_gives_exact_box_and_landmarks),
        cmocka_unit_test(test_yunet_clamps_cls_and_obj),
        cmocka_unit_test(test_yunet_with_two_anchor_rows_is_refused),
        cmocka_unit_test(test_yunet_family_on_scrfd_outputs_is_refused),
    };
    return cmocka_run_group_tests_name("face_detect_decode", tests, NULL, NULL);
}
