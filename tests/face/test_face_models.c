/* The face service on the shared models and photos, against ONNX Runtime's results
 * (../shared/models/reference, VERIFICATION.txt). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "facequant/alloc.h"
#include "facequant/face.h"
#include "facequant/format.h"
#include "facequant/onnx.h"
#include "facequant/passes.h"
#include "jpeg_decode.h"
#include "test_util.h"

/* Reference faces scored this close to the 0.5 threshold may or may not be found. */
#define BORDERLINE_MARGIN 0.03f
#define MIN_BOX_IOU 0.95f
#define MAX_LANDMARK_ERROR 0.02f /* of the face width */

static fq_model_card read_card(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/cards/%s.card", getenv("FQ_SOURCE_ROOT"), name);
    size_t size = 0;
    char *text = fq_test_read_file(path, &size);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    fq_model_card card;
    fq_error err = {0};
    if (fq_model_card_parse(text, size, &card, &err) != FQ_OK)
        fail_msg("%s: %s", path, err.message);
    free(text);
    return card;
}

/* A service with the detector NAME (and recognizer RECOGNIZER unless NULL), with their cards. */
static fq_face_service *make_service(const char *shared, const char *name,
                                     const char *recognizer)
{
    char det_path[1024], rec_path[1024];
    fq_model_card det_card = read_card(name), rec_card;
    fq_face_service_options opt = {0};
    snprintf(det_path, sizeof(det_path), "%s/models/%s.onnx", shared, name);
    opt.detector_path = det_path;
    opt.detector_card = &det_card;
    if (recognizer != NULL) {
        rec_card = read_card(recognizer);
        snprintf(rec_path, sizeof(rec_path), "%s/models/%s.onnx", shared, recognizer);
        opt.recognizer_path = rec_path;
        opt.recognizer_card = &rec_card;
    }
    fq_face_service *service = NULL;
    fq_error err = {0};
    if (fq_face_service_create(&opt, &service, &err) != FQ_OK)
        fail_msg("service with %s: %s", name, err.message);
    return service;
}

static void read_photo(const char *shared, const char *photo, fq_image *rgb)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/images/%s", shared, photo);
    if (!fq_test_read_jpeg(path, rgb))
        fail_msg("cannot decode %s", path);
}

static fq_face *detect(fq_face_service *service, const fq_image *rgb, int *count)
{
    fq_face *faces = NULL;
    fq_error err = {0};
    if (fq_face_service_detect(service, rgb, NULL, &faces, count, &err) != FQ_OK)
        fail_msg("detect: %s", err.message);
    return faces;
}

static float iou(const float *a, const float *b)
{
    float w = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float h = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    float inter = w > 0 && h > 0 ? w * h : 0.0f;
    float uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

typedef struct ref_face {
    float box[4];
    float score;
    float kps[10];
} ref_face;

static int read_ref_faces(const cJSON *list, ref_face *out, int max)
{
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (n == max)
            fail_msg("more than %d reference faces", max);
        const cJSON *box = cJSON_GetObjectItem(item, "box");
        const cJSON *kps = cJSON_GetObjectItem(item, "kps");
        for (int c = 0; c < 4; c++)
            out[n].box[c] = (float)cJSON_GetArrayItem(box, c)->valuedouble;
        for (int p = 0; p < 5; p++)
            for (int c = 0; c < 2; c++)
                out[n].kps[2 * p + c] =
                    (float)cJSON_GetArrayItem(cJSON_GetArrayItem(kps, p), c)->valuedouble;
        out[n].score = (float)cJSON_GetObjectItem(item, "score")->valuedouble;
        n++;
    }
    return n;
}

static bool borderline(float score)
{
    return fabsf(score - 0.5f) < BORDERLINE_MARGIN;
}

/* Largest landmark distance, relative to the reference face's width. */
static float landmark_error(const fq_face *f, const ref_face *r)
{
    float worst = 0.0f;
    for (int p = 0; p < 5; p++)
        worst = fmaxf(worst, hypotf(f->kps[2 * p] - r->kps[2 * p],
                                    f->kps[2 * p + 1] - r->kps[2 * p + 1]));
    return worst / (r->box[2] - r->box[0]);
}

/* Pairs each reference face with the unused detection overlapping it most; prints one line and
 * returns whether the photo meets the criterion. */
static bool compare_photo(const char *photo, const fq_face *faces, int count,
                          const ref_face *refs, int n_refs)
{
    bool used[64] = {false}, ok = count <= 64;
    float worst_iou = 1.0f, worst_kps = 0.0f;
    for (int r = 0; r < n_refs && ok; r++) {
        int best = -1;
        for (int i = 0; i < count; i++)
            if (!used[i] && (best < 0 || iou(faces[i].box, refs[r].box) >
                                             iou(faces[best].box, refs[r].box)))
                best = i;
        if (best < 0 || iou(faces[best].box, refs[r].box) < 0.5f) {
            ok = ok && borderline(refs[r].score);
            continue;
        }
        used[best] = true;
        worst_iou = fminf(worst_iou, iou(faces[best].box, refs[r].box));
        worst_kps = fmaxf(worst_kps, landmark_error(&faces[best], &refs[r]));
    }
    for (int i = 0; i < count && ok; i++)
        ok = used[i] || borderline(faces[i].score);
    ok = ok && worst_iou >= MIN_BOX_IOU && worst_kps <= MAX_LANDMARK_ERROR;
    printf("  %-58s ref %d ours %d  worst IoU %.4f  worst landmark %.2f%% of width  %s\n", photo,
           n_refs, count, worst_iou, 100.0f * worst_kps, ok ? "ok" : "MISMATCH");
    return ok;
}

static void test_det_500m_matches_onnx_runtime_on_every_reference_photo(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/reference/det_500m_ort_detections.json", shared);
    size_t size = 0;
    char *text = fq_test_read_file(path, &size);
    assert_non_null(text);
    cJSON *json = cJSON_ParseWithLength(text, size);
    free(text);
    assert_non_null(json);
    const cJSON *results = cJSON_GetObjectItem(json, "results");
    assert_non_null(results);

    fq_face_service *service = make_service(shared, "det_500m", NULL);
    int photos = 0, failed = 0;
    const cJSON *entry;
    printf("det_500m against ONNX Runtime (IoU >= %.2f, landmarks within %.0f%% of width):\n",
           MIN_BOX_IOU, 100.0f * MAX_LANDMARK_ERROR);
    cJSON_ArrayForEach(entry, results) {
        ref_face refs[64];
        int n_refs = read_ref_faces(entry, refs, 64), count = 0;
        fq_image rgb;
        read_photo(shared, entry->string, &rgb);
        fq_face *faces = detect(service, &rgb, &count);
        failed += !compare_photo(entry->string, faces, count, refs, n_refs);
        photos++;
        fq_free(faces);
        fq_image_free(&rgb);
    }
    fq_face_service_free(service);
    cJSON_Delete(json);
    assert_true(photos >= 20);
    if (failed > 0)
        fail_msg("%d of %d photos differ from ONNX Runtime", failed, photos);
}

static int faces_in(const char *shared, const char *model, const char *photo)
{
    fq_face_service *service = make_service(shared, model, NULL);
    fq_image rgb;
    read_photo(shared, photo, &rgb);
    int count = 0;
    fq_face *faces = detect(service, &rgb, &count);
    printf("  %-26s %-42s %d faces, scores %.3f .. %.3f\n", model, photo, count,
           count > 0 ? faces[0].score : 0.0f, count > 0 ? faces[count - 1].score : 0.0f);
    fq_free(faces);
    fq_image_free(&rgb);
    fq_face_service_free(service);
    return count;
}

static void test_yunet_finds_six_faces_in_t1(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    assert_int_equal(faces_in(shared, "yunet_n_640_640", "insightface/t1.jpg"), 6);
    assert_int_equal(faces_in(shared, "yunet_n_dynamic", "insightface/t1.jpg"), 6);
}

/* VERIFICATION.txt: YuNet finds 4 faces in obama_and_biden.jpg and 1 in Rob_Lowe_0001.jpg. */
static void test_yunet_face_counts_match_onnx_runtime(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    const char *pair = "face_recognition/test/obama_and_biden.jpg";
    assert_int_equal(faces_in(shared, "yunet_n_640_640", pair), 4);
    assert_int_equal(faces_in(shared, "yunet_n_640_640", "lfw/Rob_Lowe/Rob_Lowe_0001.jpg"), 1);
}

static void test_every_scrfd_detector_finds_six_faces_in_t1(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    static const char *const models[] = {"det_2.5g", "scrfd_2.5g_bnkps",
                                         "scrfd_500m_bnkps_640x640", "scrfd_500m_bnkps_namedout"};
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        assert_int_equal(faces_in(shared, models[i], "insightface/t1.jpg"), 6);
}

static void test_detector_family_is_inferred_without_a_card(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    static const char *const models[] = {"yunet_n_640_640", "det_500m"};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/models/%s.onnx", shared, models[i]);
        fq_face_service_options opt = {.detector_path = path};
        fq_face_service *service = NULL;
        fq_error err = {0};
        if (fq_face_service_create(&opt, &service, &err) != FQ_OK)
            fail_msg("%s: %s", path, err.message);
        const fq_model_card *card = fq_face_service_detector_card(service);
        assert_int_equal(card->family, i == 0 ? FQ_DETECTOR_YUNET : FQ_DETECTOR_SCRFD);
        assert_int_equal(card->input_width, 640);
        fq_face_service_free(service);
    }
}

/* The photos of one person each in the face_recognition set, with the identity. */
static const char *const identity_photos[][2] = {
    {"face_recognition/train/alex_lacamoire/img1.jpg", "alex_lacamoire"},
    {"face_recognition/test/alex_lacamoire1.jpg", "alex_lacamoire"},
    {"face_recognition/train/biden/biden.jpg", "biden"},
    {"face_recognition/train/biden/biden2.jpg", "biden"},
    {"face_recognition/train/kit_harington/john1.jpeg", "kit_harington"},
    {"face_recognition/train/kit_harington/john2.jpeg", "kit_harington"},
    {"face_recognition/test/johnsnow_test1.jpg", "kit_harington"},
    {"face_recognition/train/obama/obama.jpg", "obama"},
    {"face_recognition/train/obama/obama2.jpg", "obama"},
    {"face_recognition/test/obama1.jpg", "obama"},
    {"face_recognition/train/rose_leslie/img1.jpg", "rose_leslie"},
    {"face_recognition/train/rose_leslie/img2.jpg", "rose_leslie"},
};

#define N_IDENTITY_PHOTOS ((int)(sizeof(identity_photos) / sizeof(identity_photos[0])))

static float box_area(const fq_face *f)
{
    return (f->box[2] - f->box[0]) * (f->box[3] - f->box[1]);
}

/* Embedding of the largest face in the photo. */
static void embed_largest(fq_face_service *service, const char *shared, const char *photo,
                          float *embedding)
{
    fq_image rgb;
    read_photo(shared, photo, &rgb);
    int count = 0;
    fq_face *faces = detect(service, &rgb, &count);
    if (count == 0)
        fail_msg("no face in %s", photo);
    int largest = 0;
    for (int i = 1; i < count; i++)
        largest = box_area(&faces[i]) > box_area(&faces[largest]) ? i : largest;
    fq_error err = {0};
    if (fq_face_service_embed(service, &rgb, &faces[largest], embedding, &err) != FQ_OK)
        fail_msg("embed %s: %s", photo, err.message);
    fq_free(faces);
    fq_image_free(&rgb);
}

static void test_same_person_pairs_score_higher_than_different_people(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_face_service *service = make_service(shared, "det_500m", "mobilefacenet_128d");
    assert_int_equal(fq_face_service_embedding_size(service), 128);
    static float embeddings[N_IDENTITY_PHOTOS][128];
    for (int i = 0; i < N_IDENTITY_PHOTOS; i++)
        embed_largest(service, shared, identity_photos[i][0], embeddings[i]);

    double same = 0, diff = 0, same_min = 1, diff_max = -1;
    int n_same = 0, n_diff = 0;
    for (int i = 0; i < N_IDENTITY_PHOTOS; i++)
        for (int j = i + 1; j < N_IDENTITY_PHOTOS; j++) {
            double s = fq_cosine_similarity(embeddings[i], embeddings[j], 128);
            if (strcmp(identity_photos[i][1], identity_photos[j][1]) == 0) {
                same += s;
                same_min = fmin(same_min, s);
                n_same++;
            } else {
                diff += s;
                diff_max = fmax(diff_max, s);
                n_diff++;
            }
        }
    same /= n_same;
    diff /= n_diff;
    printf("  mobilefacenet_128d: same person mean %.3f (min %.3f, %d pairs), different people "
           "mean %.3f (max %.3f, %d pairs); ONNX Runtime: 0.715 and -0.003\n", same, same_min,
           n_same, diff, diff_max, n_diff);
    fq_face_service_free(service);
    assert_true(same > diff + 0.5);
    assert_true(same_min > diff_max);
}

static void test_aligned_crops_of_the_same_person_are_similar(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_face_service *service = make_service(shared, "det_500m", "mobilefacenet_128d");
    double sum = 0;
    for (int pair = 0; pair < 10; pair++) {
        float e[2][128];
        for (int k = 0; k < 2; k++) {
            char photo[128];
            snprintf(photo, sizeof(photo), "insightface_small_lfw_aligned112/pair%02d_%c.jpg",
                     pair, "ab"[k]);
            fq_image rgb;
            read_photo(shared, photo, &rgb);
            fq_error err = {0};
            if (fq_face_service_embed_aligned(service, &rgb, e[k], &err) != FQ_OK)
                fail_msg("%s: %s", photo, err.message);
            fq_image_free(&rgb);
        }
        sum += fq_cosine_similarity(e[0], e[1], 128);
    }
    printf("  aligned LFW pairs: mean cosine %.3f (ONNX Runtime: 0.704)\n", sum / 10);
    fq_face_service_free(service);
    assert_true(sum / 10 > 0.6);
}

static void test_synthetic_recognizer_gives_unit_512_embeddings(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/synthetic_iresnet50_slim.onnx", shared);
    fq_model_card card = read_card("synthetic_iresnet50_slim");
    fq_face_service_options opt = {.recognizer_path = path, .recognizer_card = &card};
    fq_face_service *service = NULL;
    fq_error err = {0};
    if (fq_face_service_create(&opt, &service, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(fq_face_service_embedding_size(service), 512);

    fq_image crop;
    assert_int_equal(fq_image_alloc(&crop, 112, 112, FQ_PIXEL_RGB, &err), FQ_OK);
    for (size_t i = 0; i < crop.stride * 112; i++)
        crop.data[i] = (uint8_t)(i * 31);
    float e[512];
    assert_int_equal(fq_face_service_embed_aligned(service, &crop, e, &err), FQ_OK);
    assert_float_equal(fq_cosine_similarity(e, e, 512), 1.0f, 1e-5f);
    double norm = 0;
    for (int i = 0; i < 512; i++)
        norm += (double)e[i] * e[i];
    assert_float_equal(norm, 1.0, 1e-5);
    fq_image_free(&crop);
    fq_face_service_free(service);
}

static void test_detector_size_not_a_multiple_of_32_is_refused_with_sizes_that_work(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/det_2.5g.onnx", shared);
    fq_face_service_options opt = {.detector_path = path, .detector_width = 641,
                                   .detector_height = 480};
    fq_face_service *service = NULL;
    fq_error err = {0};
    assert_int_equal(fq_face_service_create(&opt, &service, &err), FQ_ERR_INVALID_ARG);
    assert_null(service);
    assert_non_null(strstr(err.message, "641x480"));
    assert_non_null(strstr(err.message, "multiples of 32"));
    assert_non_null(strstr(err.message, "640x480"));
}

static void test_detector_runs_from_an_fqm_file(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char onnx[1024], fqm[1024];
    snprintf(onnx, sizeof(onnx), "%s/models/det_500m.onnx", shared);
    fq_graph *graph = NULL;
    fq_error err = {0};
    fq_input_size size = {640, 640, 1};
    assert_int_equal(fq_onnx_read_file(onnx, &graph, &err), FQ_OK);
    assert_int_equal(fq_passes_run(graph, &size, &err), FQ_OK);
    assert_int_equal(fq_test_tmp_dir_create("face_fqm"), 0);
    snprintf(fqm, sizeof(fqm), "%s/det_500m.fqm", fq_test_tmp_dir());
    assert_int_equal(fq_fqm_write_file(graph, NULL, 0, fqm, &err), FQ_OK);
    fq_graph_free(graph);

    fq_model_card card = read_card("det_500m");
    fq_face_service_options opt = {.detector_path = fqm, .detector_card = &card};
    fq_face_service *service = NULL;
    if (fq_face_service_create(&opt, &service, &err) != FQ_OK)
        fail_msg("%s", err.message);
    fq_image rgb;
    read_photo(shared, "insightface/t1.jpg", &rgb);
    int count = 0;
    fq_face *faces = detect(service, &rgb, &count);
    assert_int_equal(count, 6);
    fq_free(faces);
    fq_image_free(&rgb);
    fq_face_service_free(service);

    opt.detector_width = opt.detector_height = 320;
    assert_int_equal(fq_face_service_create(&opt, &service, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "converted at 640x640"));
    fq_test_tmp_dir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_det_500m_matches_onnx_runtime_on_every_reference_photo),
        cmocka_unit_test(test_yunet_finds_six_faces_in_t1),
        cmocka_unit_test(test_yunet_face_counts_match_onnx_runtime),
        cmocka_unit_test(test_every_scrfd_detector_finds_six_faces_in_t1),
        cmocka_unit_test(test_detector_family_is_inferred_without_a_card),
        cmocka_unit_test(test_same_person_pairs_score_higher_than_different_people),
        cmocka_unit_test(test_aligned_crops_of_the_same_person_are_similar),
        cmocka_unit_test(test_synthetic_recognizer_gives_unit_512_embeddings),
        cmocka_unit_test(test_detector_size_not_a_multiple_of_32_is_refused_with_sizes_that_work),
        cmocka_unit_test(test_detector_runs_from_an_fqm_file),
    };
    return cmocka_run_group_tests_name("face_models", tests, NULL, NULL);
}
