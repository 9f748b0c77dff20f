/* The measuring code of fq bench, fq eval and fq compare: latency statistics, output agreement,
 * face matching and the SVG chart writer. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/agreement.h"
#include "eval/face_match.h"
#include "eval/latency.h"
#include "eval/svg_chart.h"
#include "test_util.h"

static void latency_median_of_odd_runs_is_the_middle_time(void **state)
{
    (void)state;
    double times[] = {5.0, 1.0, 3.0, 9.0, 7.0};
    fq_latency_stats s;
    fq_latency_summarize(times, 5, &s);
    assert_true(s.median_ms == 5.0);
    assert_true(s.min_ms == 1.0);
    assert_true(s.mean_ms == 5.0);
    assert_true(s.p90_ms == 9.0);
    assert_int_equal(s.runs, 5);
}

static void latency_median_of_even_runs_averages_the_middle_two(void **state)
{
    (void)state;
    double times[] = {4.0, 1.0, 2.0, 3.0};
    fq_latency_stats s;
    fq_latency_summarize(times, 4, &s);
    assert_true(s.median_ms == 2.5);
    assert_true(s.p90_ms == 4.0);
}

static void peak_rss_is_reported_on_linux(void **state)
{
    (void)state;
    assert_true(fq_tool_peak_rss_kib() > 0);
}

static void agree_one(fq_agreement *a, const float *ref, const float *test, size_t n)
{
    fq_agreement_input in = {0};
    fq_agreement_add(a, &in, ref, test, n);
    fq_agreement_end_input(a, &in);
}

static void identical_outputs_have_cosine_one_and_infinite_sqnr(void **state)
{
    (void)state;
    const float x[] = {0.5f, -2.0f, 3.0f};
    fq_agreement a;
    fq_agreement_init(&a);
    agree_one(&a, x, x, 3);
    assert_true(fabs(fq_agreement_cosine_mean(&a) - 1.0) < 1e-12);
    assert_true(a.max_abs_error == 0.0);
    assert_true(isinf(fq_agreement_sqnr_db(&a)) && fq_agreement_sqnr_db(&a) > 0);
}

static void orthogonal_outputs_have_cosine_zero(void **state)
{
    (void)state;
    const float ref[] = {1.0f, 0.0f}, test[] = {0.0f, 1.0f};
    fq_agreement a;
    fq_agreement_init(&a);
    agree_one(&a, ref, test, 2);
    assert_true(fabs(fq_agreement_cosine_mean(&a)) < 1e-12);
    assert_true(a.max_abs_error == 1.0);
}

static void sqnr_is_signal_over_noise_in_decibels(void **state)
{
    (void)state;
    /* signal 100, noise 1: 20 dB; the scaled copy keeps cosine 1. */
    const float ref[] = {10.0f, 0.0f}, test[] = {9.0f, 0.0f};
    fq_agreement a;
    fq_agreement_init(&a);
    agree_one(&a, ref, test, 2);
    assert_true(fabs(fq_agreement_sqnr_db(&a) - 20.0) < 1e-9);
    assert_true(fabs(fq_agreement_cosine_mean(&a) - 1.0) < 1e-12);
}

static void cosine_min_and_mean_are_over_inputs(void **state)
{
    (void)state;
    const float ref[] = {1.0f, 0.0f}, same[] = {2.0f, 0.0f}, other[] = {0.0f, 1.0f};
    fq_agreement a;
    fq_agreement_init(&a);
    agree_one(&a, ref, same, 2);
    agree_one(&a, ref, other, 2);
    assert_int_equal(a.inputs, 2);
    assert_true(fabs(fq_agreement_cosine_mean(&a) - 0.5) < 1e-12);
    assert_true(fabs(a.cosine_min) < 1e-12);
}

static void non_finite_elements_are_counted_and_left_out(void **state)
{
    (void)state;
    const float ref[] = {1.0f, 2.0f}, test[] = {1.0f, NAN};
    fq_agreement a;
    fq_agreement_init(&a);
    agree_one(&a, ref, test, 2);
    assert_int_equal(a.non_finite, 1);
    assert_true(a.max_abs_error == 0.0);
}

static fq_face make_face(float x1, float y1, float x2, float y2)
{
    fq_face f = {{x1, y1, x2, y2}, 0.9f, {0}, true};
    for (int k = 0; k < 5; k++) {
        f.kps[2 * k] = x1 + (x2 - x1) * (0.2f + 0.15f * k);
        f.kps[2 * k + 1] = y1 + (y2 - y1) * 0.5f;
    }
    return f;
}

static void iou_of_half_overlapping_boxes_is_one_third(void **state)
{
    (void)state;
    fq_face a = make_face(0, 0, 10, 10), b = make_face(5, 0, 15, 10);
    assert_true(fabsf(fq_face_iou(&a, &b) - 1.0f / 3.0f) < 1e-6f);
    fq_face far = make_face(20, 20, 30, 30);
    assert_true(fq_face_iou(&a, &far) == 0.0f);
}

static void identical_faces_all_match_with_zero_landmark_error(void **state)
{
    (void)state;
    fq_face faces[2] = {make_face(0, 0, 10, 10), make_face(50, 50, 80, 90)};
    fq_face_agreement fa = {0};
    assert_int_equal(fq_face_agreement_add(&fa, faces, 2, faces, 2, NULL), FQ_OK);
    assert_int_equal(fa.matched, 2);
    assert_int_equal(fa.extra, 0);
    assert_true(fq_face_agreement_recall(&fa) == 1.0);
    assert_true(fq_face_agreement_landmark_percent(&fa) == 0.0);
}

static void a_face_below_the_iou_threshold_is_missed_and_counted_extra(void **state)
{
    (void)state;
    fq_face ref = make_face(0, 0, 10, 10), test = make_face(5, 0, 15, 10);
    fq_face_agreement fa = {0};
    assert_int_equal(fq_face_agreement_add(&fa, &ref, 1, &test, 1, NULL), FQ_OK);
    assert_int_equal(fa.matched, 0);
    assert_int_equal(fa.extra, 1);
    assert_true(fq_face_agreement_recall(&fa) == 0.0);
}

static void landmark_error_is_a_share_of_the_box_width(void **state)
{
    (void)state;
    fq_face ref = make_face(0, 0, 100, 100), test = ref;
    for (int k = 0; k < 5; k++)
        test.kps[2 * k] += 2.0f;
    fq_face_agreement fa = {0};
    assert_int_equal(fq_face_agreement_add(&fa, &ref, 1, &test, 1, NULL), FQ_OK);
    assert_int_equal(fa.matched, 1);
    assert_true(fabs(fq_face_agreement_landmark_percent(&fa) - 2.0) < 1e-4);
}

static void each_test_face_matches_one_reference_face_only(void **state)
{
    (void)state;
    fq_face refs[2] = {make_face(0, 0, 10, 10), make_face(0, 0, 10, 11)};
    fq_face test = make_face(0, 0, 10, 10);
    fq_face_agreement fa = {0};
    assert_int_equal(fq_face_agreement_add(&fa, refs, 2, &test, 1, NULL), FQ_OK);
    assert_int_equal(fa.reference_faces, 2);
    assert_int_equal(fa.matched, 1);
    assert_int_equal(fa.extra, 0);
}

static char *chart_text(const fq_svg_panel *panels, int n, const char *title, fq_status *status)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    *status = fq_svg_write_charts(out, title, panels, n, NULL);
    fclose(out);
    return text;
}

static void svg_chart_has_one_bar_and_label_per_value(void **state)
{
    (void)state;
    const char *labels[] = {"fp32", "int8"};
    const double values[] = {30.0, 12.5};
    fq_svg_panel panel = {"median latency", "ms", labels, values, 2};
    fq_status status;
    char *text = chart_text(&panel, 1, "chart", &status);
    assert_int_equal(status, FQ_OK);
    assert_non_null(strstr(text, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(text, ">fp32</text>"));
    assert_non_null(strstr(text, ">int8</text>"));
    int rects = 0;
    for (const char *p = text; (p = strstr(p, "<rect x=")) != NULL; p++)
        rects++;
    assert_int_equal(rects, 2);
    assert_non_null(strstr(text, "</svg>"));
    free(text);
}

static void svg_chart_escapes_labels_for_xml(void **state)
{
    (void)state;
    const char *labels[] = {"a<b&\"c\""};
    const double values[] = {1.0};
    fq_svg_panel panel = {"size", "MB", labels, values, 1};
    fq_status status;
    char *text = chart_text(&panel, 1, "t&t", &status);
    assert_int_equal(status, FQ_OK);
    assert_non_null(strstr(text, "a&lt;b&amp;&quot;c&quot;"));
    assert_non_null(strstr(text, "t&amp;t"));
    assert_null(strstr(text, "a<b"));
    free(text);
}

static void svg_chart_refuses_negative_or_non_finite_values(void **state)
{
    (void)state;
    const char *labels[] = {"x"};
    const double negative[] = {-1.0}, nan_value[] = {NAN};
    fq_svg_panel panel = {"size", "MB", labels, negative, 1};
    fq_error err = {0};
    assert_int_equal(fq_svg_write_charts(stdout, "t", &panel, 1, &err), FQ_ERR_INVALID_ARG);
    panel.values = nan_value;
    assert_int_equal(fq_svg_write_charts(stdout, "t", &panel, 1, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_svg_write_charts(stdout, "t", NULL, 0, &err), FQ_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(latency_median_of_odd_runs_is_the_middle_time),
        cmocka_unit_test(latency_median_of_even_runs_averages_the_middle_two),
        cmocka_unit_test(peak_rss_is_reported_on_linux),
        cmocka_unit_test(identical_outputs_have_cosine_one_and_infinite_sqnr),
        cmocka_unit_test(orthogonal_outputs_have_cosine_zero),
        cmocka_unit_test(sqnr_is_signal_over_noise_in_decibels),
        cmocka_unit_test(cosine_min_and_mean_are_over_inputs),
        cmocka_unit_test(non_finite_elements_are_counted_and_left_out),
        cmocka_unit_test(iou_of_half_overlapping_boxes_is_one_third),
        cmocka_unit_test(identical_faces_all_match_with_zero_landmark_error),
        cmocka_unit_test(a_face_below_the_iou_threshold_is_missed_and_counted_extra),
        cmocka_unit_test(landmark_error_is_a_share_of_the_box_width),
        cmocka_unit_test(each_test_face_matches_one_reference_face_only),
        cmocka_unit_test(svg_chart_has_one_bar_and_label_per_value),
        cmocka_unit_test(svg_chart_escapes_labels_for_xml),
        cmocka_unit_test(svg_chart_refuses_negative_or_non_finite_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
