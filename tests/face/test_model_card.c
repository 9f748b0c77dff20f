/* Model cards: parsing, defaults, errors naming the line, and the cards shipped in models/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/face.h"
#include "test_util.h"

static fq_status parse(const char *text, fq_model_card *card, fq_error *err)
{
    fq_error_clear(err);
    return fq_model_card_parse(text, strlen(text), card, err);
}

static void assert_refused(const char *text, const char *needle)
{
    fq_model_card card;
    fq_error err;
    assert_int_equal(parse(text, &card, &err), FQ_ERR_PARSE);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' does not contain '%s'", err.message, needle);
}

static void test_full_detector_card_is_read(void **state)
{
    (void)state;
    const char *text = "# a comment line\n"
                       "name = my_scrfd\n"
                       "role = detector   # trailing comment\n"
                       "family = scrfd\n"
                       "\n"
                       "input_size = 320x256\n"
                       "mean = 127.5\n"
                       "std = 128\n"
                       "color = rgb\n"
                       "score_threshold = 0.45\n"
                       "nms_threshold = 0.35";
    fq_model_card card;
    fq_error err;
    assert_int_equal(parse(text, &card, &err), FQ_OK);
    assert_string_equal(card.name, "my_scrfd");
    assert_int_equal(card.role, FQ_ROLE_DETECTOR);
    assert_int_equal(card.family, FQ_DETECTOR_SCRFD);
    assert_int_equal(card.input_width, 320);
    assert_int_equal(card.input_height, 256);
    for (int c = 0; c < 3; c++) {
        assert_float_equal(card.norm.mean[c], 127.5f, 0.0f);
        assert_float_equal(card.norm.std[c], 128.0f, 0.0f);
    }
    assert_false(card.norm.bgr);
    assert_float_equal(card.score_threshold, 0.45f, 1e-7f);
    assert_float_equal(card.nms_threshold, 0.35f, 1e-7f);
}

static void test_three_channel_mean_and_std_are_read_in_order(void **state)
{
    (void)state;
    fq_model_card card;
    fq_error err;
    assert_int_equal(parse("role = recognizer\nmean = 1, 2 3\nstd = 4,5,6\ncolor = bgr\n"
                           "embedding_size = 128\nmatch_threshold = -0.25\n", &card, &err),
                     FQ_OK);
    assert_float_equal(card.norm.mean[0], 1.0f, 0.0f);
    assert_float_equal(card.norm.mean[2], 3.0f, 0.0f);
    assert_float_equal(card.norm.std[1], 5.0f, 0.0f);
    assert_true(card.norm.bgr);
    assert_int_equal(card.embedding_size, 128);
    assert_float_equal(card.match_threshold, -0.25f, 0.0f);
}

static void test_missing_keys_take_the_family_defaults(void **state)
{
    (void)state;
    fq_model_card card, expected;
    fq_error err;
    assert_int_equal(parse("family = yunet\n", &card, &err), FQ_OK);
    fq_model_card_defaults(FQ_ROLE_DETECTOR, FQ_DETECTOR_YUNET, &expected);
    assert_string_equal(card.name, expected.name);
    assert_int_equal(card.role, expected.role);
    assert_int_equal(card.input_width, expected.input_width);
    assert_memory_equal(card.norm.mean, expected.norm.mean, sizeof(card.norm.mean));
    assert_memory_equal(card.norm.std, expected.norm.std, sizeof(card.norm.std));
    assert_int_equal(card.norm.bgr, expected.norm.bgr);
    assert_float_equal(card.score_threshold, expected.score_threshold, 0.0f);
    assert_float_equal(card.nms_threshold, expected.nms_threshold, 0.0f);
}

static void test_role_and_family_may_come_after_other_keys(void **state)
{
    (void)state;
    fq_model_card card;
    fq_error err;
    assert_int_equal(parse("score_threshold = 0.7\nfamily = yunet\n", &card, &err), FQ_OK);
    assert_int_equal(card.family, FQ_DETECTOR_YUNET);
    assert_float_equal(card.score_threshold, 0.7f, 1e-7f);
    assert_float_equal(card.nms_threshold, 0.3f, 1e-7f);
    assert_true(card.norm.bgr);
}

static void test_dynamic_input_size_is_zero(void **state)
{
    (void)state;
    fq_model_card card;
    fq_error err;
    assert_int_equal(parse("input_size = dynamic\n", &card, &err), FQ_OK);
    assert_int_equal(card.input_width, 0);
    assert_int_equal(card.input_height, 0);
}

static void test_scrfd_defaults(void **state)
{
    (void)state;
    fq_model_card card;
    fq_model_card_defaults(FQ_ROLE_DETECTOR, FQ_DETECTOR_SCRFD, &card);
    assert_float_equal(card.score_threshold, 0.5f, 0.0f);
    assert_float_equal(card.nms_threshold, 0.4f, 0.0f);
    assert_false(card.norm.bgr);
    assert_float_equal(card.norm.mean[1], 127.5f, 0.0f);
    assert_float_equal(card.norm.std[1], 128.0f, 0.0f);
    assert_int_equal(card.input_width, 0);
}

static void test_yunet_defaults(void **state)
{
    (void)state;
    fq_model_card card;
    fq_model_card_defaults(FQ_ROLE_DETECTOR, FQ_DETECTOR_YUNET, &card);
    assert_float_equal(card.score_threshold, 0.6f, 0.0f);
    assert_float_equal(card.nms_threshold, 0.3f, 0.0f);
    assert_true(card.norm.bgr);
    assert_float_equal(card.norm.mean[0], 0.0f, 0.0f);
    assert_float_equal(card.norm.std[0], 1.0f, 0.0f);
}

static void test_recognizer_defaults_are_arcface(void **state)
{
    (void)state;
    fq_model_card card;
    fq_model_card_defaults(FQ_ROLE_RECOGNIZER, FQ_DETECTOR_SCRFD, &card);
    assert_int_equal(card.role, FQ_ROLE_RECOGNIZER);
    assert_int_equal(card.input_width, 112);
    assert_int_equal(card.input_height, 112);
    assert_float_equal(card.norm.mean[2], 127.5f, 0.0f);
    assert_float_equal(card.norm.std[2], 127.5f, 0.0f);
    assert_false(card.norm.bgr);
}

static void test_unknown_key_is_refused_naming_line_and_key(void **state)
{
    (void)state;
    assert_refused("name = x\n# comment\nthreshold = 0.5\n", "line 3: unknown key 'threshold'");
}

static void test_bad_value_is_refused_naming_the_line(void **state)
{
    (void)state;
    assert_refused("role = detector\nscore_threshold = high\n", "line 2");
    assert_refused("input_size = 640\n", "line 1");
    assert_refused("input_size = 0x640\n", "line 1");
    assert_refused("mean = 1 2\n", "line 1");
    assert_refused("\n\nstd = 1 0 1\n", "line 3");
    assert_refused("color = rgba\n", "line 1");
    assert_refused("role = classifier\n", "line 1");
    assert_refused("nms_threshold = 1.5\n", "line 1");
    assert_refused("role = recognizer\nembedding_size = 12.5\n", "line 2");
}

static void test_line_without_equals_sign_is_refused(void **state)
{
    (void)state;
    assert_refused("role detector\n", "line 1: expected key = value");
}

static void test_key_given_twice_is_refused(void **state)
{
    (void)state;
    assert_refused("name = a\nname = b\n", "line 2: 'name' is already set on line 1");
}

static void test_key_of_the_other_role_is_refused(void **state)
{
    (void)state;
    assert_refused("role = recognizer\nscore_threshold = 0.5\n", "line 2");
    assert_refused("match_threshold = 0.5\n", "line 1");
}

static void test_empty_value_is_refused(void **state)
{
    (void)state;
    assert_refused("name =\n", "line 1");
}

static void test_overlong_name_is_refused(void **state)
{
    (void)state;
    char text[200];
    snprintf(text, sizeof(text), "name = %0100d\n", 7);
    assert_refused(text, "line 1");
}

static void test_nul_byte_is_refused(void **state)
{
    (void)state;
    fq_model_card card;
    fq_error err;
    const char text[] = "name = a\0b\n";
    assert_int_equal(fq_model_card_parse(text, sizeof(text) - 1, &card, &err), FQ_ERR_PARSE);
}

static void test_failed_parse_leaves_card_unchanged(void **state)
{
    (void)state;
    fq_model_card card;
    memset(&card, 0x5a, sizeof(card));
    fq_model_card before;
    memcpy(&before, &card, sizeof(card));
    fq_error err;
    assert_int_equal(parse("name = a\nbogus = 1\n", &card, &err), FQ_ERR_PARSE);
    assert_memory_equal(&card, &before, sizeof(card));
}

/* Every card in models/cards parses, with the role its name implies. */
static void test_shipped_cards_parse(void **state)
{
    (void)state;
    static const char *const names[] = {
        "det_500m",           "det_2.5g",        "scrfd_500m_bnkps_640x640",
        "scrfd_500m_bnkps_namedout", "scrfd_2.5g_bnkps", "yunet_n_640_640",
        "yunet_n_dynamic",    "mobilefacenet_128d", "synthetic_iresnet50_slim",
    };
    const char *root = getenv("FQ_SOURCE_ROOT");
    assert_non_null(root);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/models/cards/%s.card", root, names[i]);
        size_t size = 0;
        char *text = fq_test_read_file(path, &size);
        if (text == NULL)
            fail_msg("cannot read %s", path);
        fq_model_card card;
        fq_error err = {0};
        if (fq_model_card_parse(text, size, &card, &err) != FQ_OK)
            fail_msg("%s: %s", path, err.message);
        free(text);
        assert_string_equal(card.name, names[i]);
        bool recognizer = strstr(names[i], "face") != NULL || strstr(names[i], "iresnet");
        assert_int_equal(card.role, recognizer ? FQ_ROLE_RECOGNIZER : FQ_ROLE_DETECTOR);
        if (!recognizer)
            assert_int_equal(card.family, strstr(names[i], "yunet") != NULL ? FQ_DETECTOR_YUNET
                                                                           : FQ_DETECTOR_SCRFD);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_detector_card_is_read),
        cmocka_unit_test(test_three_channel_mean_and_std_are_read_in_order),
        cmocka_unit_test(test_missing_keys_take_the_family_defaults),
        cmocka_unit_test(test_role_and_family_may_come_after_other_keys),
        cmocka_unit_test(test_dynamic_input_size_is_zero),
        cmocka_unit_test(test_scrfd_defaults),
        cmocka_unit_test(test_yunet_defaults),
        cmocka_unit_test(test_recognizer_defaults_are_arcface),
        cmocka_unit_test(test_unknown_key_is_refused_naming_line_and_key),
        cmocka_unit_test(test_bad_value_is_refused_naming_the_line),
        cmocka_unit_test(test_line_without_equals_sign_is_refused),
        cmocka_unit_test(test_key_given_twice_is_refused),
        cmocka_unit_test(test_key_of_the_other_role_is_refused),
        cmocka_unit_test(test_empty_value_is_refused),
        cmocka_unit_test(test_overlong_name_is_refused),
        cmocka_unit_test(test_nul_byte_is_refused),
        cmocka_unit_test(test_failed_parse_leaves_card_unchanged),
        cmocka_unit_test(test_shipped_cards_parse),
    };
    return cmocka_run_group_tests_name("face_model_card", tests, NULL, NULL);
}
