/* Calibration of the real models on the shared photos: det_500m on letterboxed photos,
 * mobilefacenet_128d on face crops cut by det_500m. The statistics take the same memory for 10
 * and for 40 inputs, and count every element of every run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calib/calib_images.h"
#include "facequant/fq.h"
#include "test_util.h"

static void read_card(const char *name, fq_model_card *card)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/cards/%s.card", getenv("FQ_SOURCE_ROOT"), name);
    size_t size;
    char *text = fq_test_read_file(path, &size);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    fq_error err;
    if (fq_model_card_parse(text, size, card, &err) != FQ_OK)
        fail_msg("%s", err.message);
    free(text);
}

static fq_graph *prepared_model(const char *shared, const char *name, const fq_preprocess *pre)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/%s.onnx", shared, name);
    fq_graph *g;
    fq_error err;
    fq_input_size size = {pre->width, pre->height, 1};
    if (fq_onnx_read_file(path, &g, &err) != FQ_OK || fq_passes_run(g, &size, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static fq_calib_stats *calibrate(const fq_graph *g, const fq_calib_image_list *images,
                                 const fq_preprocess *pre, fq_face_service *detector,
                                 int inputs)
{
    fq_calib_source source;
    fq_calib_source_init(&source, images, pre, detector, inputs);
    source.progress = false;
    fq_calib_stats *stats = NULL;
    fq_error err;
    if (fq_calibrate(g, NULL, fq_calib_source_feed, &source, &stats, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(source.given, inputs);
    return stats;
}

/* Runs 10 and 40 inputs and checks what must hold between the two. */
static void check_model(const char *model, fq_face_service *detector)
{
    const char *shared = fq_test_require_shared();
    fq_model_card card;
    read_card(model, &card);
    fq_preprocess pre;
    fq_preprocess_from_card(&card, &pre);
    fq_graph *g = prepared_model(shared, model, &pre);
    fq_calib_image_list images;
    fq_error err;
    if (fq_calib_images_scan(fq_test_path(shared, "images"), &images, &err) != FQ_OK)
        fail_msg("%s", err.message);

    fq_calib_stats *ten = calibrate(g, &images, &pre, detector, 10);
    fq_calib_stats *forty = calibrate(g, &images, &pre, detector, 40);
    size_t ten_bytes = fq_calib_stats_memory_bytes(ten);
    print_message("%s: %d values, statistics memory %zu bytes for 10 inputs, %zu for 40\n",
                  model, ten->n_values, ten_bytes, fq_calib_stats_memory_bytes(forty));
    assert_int_equal(fq_calib_stats_memory_bytes(forty), ten_bytes);
    assert_int_equal(forty->inputs_seen, 40);
    for (int v = 0; v < forty->n_values; v++) {
        assert_true(forty->values[v].count == 4 * ten->values[v].count);
        assert_true(forty->values[v].count > 0);
    }
    /* Inputs are (pixel - 127.5) / 128. */
    const fq_value_stats *in = &forty->values[0];
    assert_true(in->min >= -127.5 / 128 && in->max <= 127.5 / 128 && in->max > 0.9);

    fq_calib_stats_free(ten);
    fq_calib_stats_free(forty);
    fq_calib_images_free(&images);
    fq_graph_free(g);
}

static void test_detector_statistics_memory_does_not_grow_with_inputs(void **state)
{
    (void)state;
    check_model("det_500m", NULL);
}

static void test_recognizer_on_detected_crops_memory_does_not_grow_with_inputs(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char path[1024];
    snprintf(path, sizeof(path), "%s/models/det_500m.onnx", shared);
    fq_model_card det_card;
    read_card("det_500m", &det_card);
    fq_face_service_options options = {.detector_path = path, .detector_card = &det_card};
    fq_face_service *detector;
    fq_error err;
    if (fq_face_service_create(&options, &detector, &err) != FQ_OK)
        fail_msg("%s", err.message);
    check_model("mobilefacenet_128d", detector);
    fq_face_service_free(detector);
}

static void test_every_value_of_det_500m_has_a_threshold_per_method(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_model_card card;
    read_card("det_500m", &card);
    fq_preprocess pre;
    fq_preprocess_from_card(&card, &pre);
    pre.width = pre.height = 320;
    fq_graph *g = prepared_model(shared, "det_500m", &pre);
    fq_calib_image_list images;
    assert_int_equal(fq_calib_images_scan(fq_test_path(shared, "images"), &images, NULL), FQ_OK);
    fq_calib_stats *stats = calibrate(g, &images, &pre, NULL, 5);

    for (int v = 0; v < stats->n_values; v++) {
        const fq_value_stats *vs = &stats->values[v];
        double abs_max = vs->max > -vs->min ? vs->max : -vs->min;
        for (int m = 0; m < FQ_CALIB_METHOD_COUNT; m++) {
            double t;
            fq_error err;
            if (fq_value_stats_threshold(vs, (fq_calib_method)m, 99.99, &t, &err) != FQ_OK)
                fail_msg("%s", err.message);
            assert_true(t >= 0.0 && t <= abs_max);
        }
    }
    fq_calib_stats_free(stats);
    fq_calib_images_free(&images);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detector_statistics_memory_does_not_grow_with_inputs),
        cmocka_unit_test(test_recognizer_on_detected_crops_memory_does_not_grow_with_inputs),
        cmocka_unit_test(test_every_value_of_det_500m_has_a_threshold_per_method),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
