/* Preprocessing descriptors: inferred from model cards, applied to RGB images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"

static fq_model_card card_of(const char *text)
{
    fq_model_card card;
    fq_error err;
    if (fq_model_card_parse(text, strlen(text), &card, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return card;
}

static void test_dynamic_detector_card_letterboxes_to_640(void **state)
{
    (void)state;
    fq_model_card card = card_of("name = d\nrole = detector\nfamily = scrfd\n"
                                 "input_size = dynamic\nmean = 127.5\nstd = 128\ncolor = rgb\n");
    fq_preprocess pre;
    fq_preprocess_from_card(&card, &pre);
    assert_int_equal(pre.geometry, FQ_PREPROCESS_LETTERBOX);
    assert_int_equal(pre.width, 640);
    assert_int_equal(pre.height, 640);
    assert_true(pre.norm.mean[1] == 127.5f && pre.norm.std[2] == 128.0f && !pre.norm.bgr);
}

static void test_yunet_card_keeps_its_size_and_bgr_order(void **state)
{
    (void)state;
    fq_model_card card = card_of("name = y\nrole = detector\nfamily = yunet\n"
                                 "input_size = 320x240\n");
    fq_preprocess pre;
    fq_preprocess_from_card(&card, &pre);
    assert_int_equal(pre.geometry, FQ_PREPROCESS_LETTERBOX);
    assert_int_equal(pre.width, 320);
    assert_int_equal(pre.height, 240);
    assert_true(pre.norm.bgr);
}

static void test_recognizer_card_takes_aligned_112_crops(void **state)
{
    (void)state;
    fq_model_card card = card_of("name = r\nrole = recognizer\n");
    fq_preprocess pre;
    fq_preprocess_from_card(&card, &pre);
    assert_int_equal(pre.geometry, FQ_PREPROCESS_ALIGNED_FACE);
    assert_int_equal(pre.width, 112);
    assert_int_equal(pre.height, 112);
}

static void test_preprocess_letterboxes_and_normalizes(void **state)
{
    (void)state;
    fq_image img;
    assert_int_equal(fq_image_alloc(&img, 8, 4, FQ_PIXEL_RGB, NULL), FQ_OK);
    memset(img.data, 255, img.stride * 4);
    fq_preprocess pre = {FQ_PREPROCESS_LETTERBOX, 4, 4, {{127.5f, 127.5f, 127.5f},
                                                         {127.5f, 127.5f, 127.5f}, false}};
    float out[3 * 4 * 4];
    assert_int_equal(fq_preprocess_image(&pre, &img, out, NULL), FQ_OK);
    /* 8x4 -> 4x2 at the top (white -> 1), black padding below (-> -1). */
    assert_float_equal(out[0], 1.0f, 1e-6f);
    assert_float_equal(out[3 * 4], -1.0f, 1e-6f);
    fq_image_free(&img);
}

static void test_preprocess_refuses_a_gray_image(void **state)
{
    (void)state;
    fq_image img;
    assert_int_equal(fq_image_alloc(&img, 4, 4, FQ_PIXEL_GRAY, NULL), FQ_OK);
    fq_preprocess pre = {FQ_PREPROCESS_RESIZE, 4, 4, {{0, 0, 0}, {1, 1, 1}, false}};
    float out[48];
    assert_int_equal(fq_preprocess_image(&pre, &img, out, NULL), FQ_ERR_INVALID_ARG);
    fq_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamic_detector_card_letterboxes_to_640),
        cmocka_unit_test(test_yunet_card_keeps_its_size_and_bgr_order),
        cmocka_unit_test(test_recognizer_card_takes_aligned_112_crops),
        cmocka_unit_test(test_preprocess_letterboxes_and_normalizes),
        cmocka_unit_test(test_preprocess_refuses_a_gray_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
