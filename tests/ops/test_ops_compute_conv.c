/* Conv: hand-computed cases, groups, dilations, pads, auto_pad, fused activations, refusals,
 * and the im2col / pointwise / depthwise paths against a naive direct convolution. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_harness.h"
#include "test_util.h"

typedef struct conv_case {
    int64_t n, c, h, w;        /* input */
    int64_t m, kh, kw;         /* weights: m x (c / group) x kh x kw */
    int64_t sh, sw, dh, dw;
    int64_t pt, pl, pb, pr;    /* pads */
    int64_t group;
} conv_case;

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe)
{
    return (in + pb + pe - (k - 1) * d - 1) / s + 1;
}

/* Direct convolution, summed in double: the independent reference. */
static void naive_conv(const conv_case *t, const float *x, const float *w, const float *bias,
                       float *y)
{
    int64_t oh_n = out_size(t->h, t->kh, t->sh, t->dh, t->pt, t->pb);
    int64_t ow_n = out_size(t->w, t->kw, t->sw, t->dw, t->pl, t->pr);
    int64_t cg = t->c / t->group, mg = t->m / t->group;
    for (int64_t b = 0; b < t->n; b++)
        for (int64_t o = 0; o < t->m; o++)
            for (int64_t oh = 0; oh < oh_n; oh++)
                for (int64_t ow = 0; ow < ow_n; ow++) {
                    double sum = bias != NULL ? bias[o] : 0.0;
                    int64_t g = o / mg;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t kh = 0; kh < t->kh; kh++)
                            for (int64_t kw = 0; kw < t->kw; kw++) {
                                int64_t ih = oh * t->sh - t->pt + kh * t->dh;
                                int64_t iw = ow * t->sw - t->pl + kw * t->dw;
                                if (ih < 0 || ih >= t->h || iw < 0 || iw >= t->w)
                                    continue;
                                sum += (double)x[((b * t->c + g * cg + c) * t->h + ih) * t->w +
                                                 iw] *
                                       w[((o * cg + c) * t->kh + kh) * t->kw + kw];
                            }
                    y[((b * t->m + o) * oh_n + oh) * ow_n + ow] = (float)sum;
                }
}

static float *random_floats(int64_t n)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        v[i] = fq_test_rand_float(-1.0f, 1.0f);
    return v;
}

/* Runs case t through the Conv op (2-D) and compares with naive_conv. */
static void check_against_naive(const conv_case *t, bool with_bias)
{
    int64_t xd[4] = {t->n, t->c, t->h, t->w};
    int64_t wd[4] = {t->m, t->c / t->group, t->kh, t->kw};
    int64_t bd[1] = {t->m};
    float *x = random_floats(t->n * t->c * t->h * t->w);
    float *w = random_floats(wd[0] * wd[1] * wd[2] * wd[3]);
    float *bias = with_bias ? random_floats(t->m) : NULL;
    int64_t yd[4] = {t->n, t->m, out_size(t->h, t->kh, t->sh, t->dh, t->pt, t->pb),
                     out_size(t->w, t->kw, t->sw, t->dw, t->pl, t->pr)};
    float *expected = malloc((size_t)(yd[0] * yd[1] * yd[2] * yd[3]) * sizeof(float));
    naive_conv(t, x, w, bias, expected);

    fq_harness h;
    fq_harness_init(&h, "Conv", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, xd, x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, wd, w, true);
    if (with_bias)
        fq_harness_input(&h, FQ_DTYPE_F32, 1, bd, bias, true);
    fq_harness_attr_ints(&h, "strides", 2, (int64_t[]){t->sh, t->sw});
    fq_harness_attr_ints(&h, "dilations", 2, (int64_t[]){t->dh, t->dw});
    fq_harness_attr_ints(&h, "pads", 4, (int64_t[]){t->pt, t->pl, t->pb, t->pr});
    fq_harness_attr_int(&h, "group", t->group);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float tol = 1e-5f * (float)(t->c / t->group * t->kh * t->kw + 1);
    fq_harness_expect_f32(&h, 0, 4, yd, expected, tol);
    fq_harness_free(&h);
    free(x);
    free(w);
    free(bias);
    free(expected);
}

static const float ramp16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const float ones9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};

/* Conv of the 4x4 ramp 1..16 with a 3x3 all-ones kernel, pads 1, stride 2, and extra setup. */
static void ramp_conv(fq_harness *h, int opset)
{
    fq_harness_init(h, "Conv", opset);
    fq_harness_input(h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 4, 4}, ramp16, false);
    fq_harness_input(h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 3, 3}, ones9, true);
}

static void test_conv_3x3_stride2_pads1_matches_hand_sums(void **state)
{
    (void)state;
    fq_harness h;
    ramp_conv(&h, 11);
    fq_harness_attr_ints(&h, "strides", 2, (int64_t[]){2, 2});
    fq_harness_attr_ints(&h, "pads", 4, (int64_t[]){1, 1, 1, 1});
    fq_harness_attr_ints(&h, "kernel_shape", 2, (int64_t[]){3, 3});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* (0,0): 1+2+5+6; (0,1): 2+3+4+6+7+8; (1,0): 5+6+9+10+13+14; (1,1): 6+7+8+10+...+16. */
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 2, 2}, (float[]){14, 30, 57, 99}, 0);
    fq_harness_free(&h);
}

static void test_conv_asymmetric_pads_shift_the_window(void **state)
{
    (void)state;
    fq_harness h;
    ramp_conv(&h, 11);
    fq_harness_attr_ints(&h, "strides", 2, (int64_t[]){2, 2});
    fq_harness_attr_ints(&h, "pads", 4, (int64_t[]){0, 1, 1, 0});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* rows: out_h = (4+1-3)/2+1 = 2 starting at rows 0 and 2; cols: (4+1-3)/2+1 = 2 starting
     * at -1 and 1. (0,0): rows 0..2, cols 0..1 = 1+2+5+6+9+10 = 33; (0,1): rows 0..2, cols
     * 1..3 = 2+3+4+6+7+8+10+11+12 = 63; (1,0): rows 2..3 (4 is padding), cols 0..1 = 9+10+13+
     * 14 = 46; (1,1): rows 2..3, cols 1..3 = 10+11+12+14+15+16 = 78. */
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 2, 2}, (float[]){33, 63, 46, 78}, 0);
    fq_harness_free(&h);
}

static void test_conv_dilation_2_skips_taps(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 4, 4}, ramp16, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, (float[]){1, 1, 1, 1},
                     true);
    fq_harness_attr_ints(&h, "dilations", 2, (int64_t[]){2, 2});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* taps (0,0),(0,2),(2,0),(2,2) relative: (0,0): 1+3+9+11 = 24, then +1 per column and +4
     * per row. */
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 2, 2}, (float[]){24, 28, 40, 44}, 0);
    fq_harness_free(&h);
}

static void test_conv_auto_pad_same_upper_keeps_size_and_pads_end(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 4, 4}, ramp16, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, (float[]){1, 1, 1, 1},
                     true);
    fq_harness_attr_string(&h, "auto_pad", "SAME_UPPER");
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* Total pad 1 per axis, at the end: the last row and column see padding. */
    float expected[16] = {14, 18, 22, 12, 30, 34, 38, 20, 46, 50, 54, 28, 27, 29, 31, 16};
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 4, 4}, expected, 0);
    fq_harness_free(&h);
}

static void test_conv_auto_pad_same_lower_pads_begin(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 4, 4}, ramp16, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, (float[]){1, 1, 1, 1},
                     true);
    fq_harness_attr_string(&h, "auto_pad", "SAME_LOWER");
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float expected[16] = {1, 3, 5, 7, 6, 14, 18, 22, 14, 30, 34, 38, 22, 46, 50, 54};
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 4, 4}, expected, 0);
    fq_harness_free(&h);
}

static void test_conv_auto_pad_valid_ignores_pads(void **state)
{
    (void)state;
    fq_harness h;
    ramp_conv(&h, 11);
    fq_harness_attr_string(&h, "auto_pad", "VALID");
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 2, 2}, (float[]){54, 63, 90, 99}, 0);
    fq_harness_free(&h);
}

static void test_conv_1d_with_bias(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, (int64_t[]){1, 1, 5}, (float[]){1, 2, 3, 4, 5}, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, (int64_t[]){2, 1, 2}, (float[]){1, -1, 2, 0}, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){2}, (float[]){10, 0}, true);
    fq_harness_attr_ints(&h, "pads", 2, (int64_t[]){1, 0});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* channel 0: x[i-1] - x[i] + 10; channel 1: 2 * x[i-1]. */
    float expected[10] = {9, 9, 9, 9, 9, 0, 2, 4, 6, 8};
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){1, 2, 5}, expected, 0);
    fq_harness_free(&h);
}

static void test_conv_depthwise_uses_each_channel_alone(void **state)
{
    (void)state;
    float x[8] = {1, 2, 3, 4, 10, 20, 30, 40};
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 2, 2, 2}, x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){2, 1, 1, 1}, (float[]){2, -1}, true);
    fq_harness_attr_int(&h, "group", 2);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float expected[8] = {2, 4, 6, 8, -10, -20, -30, -40};
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 2, 2, 2}, expected, 0);
    fq_harness_free(&h);
}

static void test_conv_groups_split_channels(void **state)
{
    (void)state;
    conv_case t = {1, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2};
    fq_test_seed(7);
    check_against_naive(&t, true);
}

/* Runs a 1x1 conv on [-2, -1, 0.5, 3] (plus bias 0) with activation act. */
static void run_activation(fq_activation act, const float *slopes, int64_t slope_rank,
                           const int64_t *slope_dims, const float *expected)
{
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 2, 1, 2}, (float[]){-2, -1, 0.5f, 3},
                     false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){2, 2, 1, 1}, (float[]){1, 0, 0, 1}, true);
    if (slopes != NULL) {
        fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
        fq_harness_input(&h, FQ_DTYPE_F32, (int)slope_rank, slope_dims, slopes, true);
    }
    fq_harness_activation(&h, act);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 2, 1, 2}, expected, 1e-6f);
    fq_harness_free(&h);
}

static void test_conv_fused_relu(void **state)
{
    (void)state;
    run_activation((fq_activation){FQ_ACT_RELU, 0, 0}, NULL, 0, NULL,
                   (float[]){0, 0, 0.5f, 3});
}

static void test_conv_fused_clip_uses_alpha_and_beta(void **state)
{
    (void)state;
    run_activation((fq_activation){FQ_ACT_CLIP, -1.5f, 1}, NULL, 0, NULL,
                   (float[]){-1.5f, -1, 0.5f, 1});
}

static void test_conv_fused_leaky_relu(void **state)
{
    (void)state;
    run_activation((fq_activation){FQ_ACT_LEAKY_RELU, 0.1f, 0}, NULL, 0, NULL,
                   (float[]){-0.2f, -0.1f, 0.5f, 3});
}

static void test_conv_fused_sigmoid(void **state)
{
    (void)state;
    float expected[4];
    float x[4] = {-2, -1, 0.5f, 3};
    for (int i = 0; i < 4; i++)
        expected[i] = (float)(1.0 / (1.0 + exp(-x[i])));
    run_activation((fq_activation){FQ_ACT_SIGMOID, 0, 0}, NULL, 0, NULL, expected);
}

static void test_conv_fused_prelu_per_channel_after_omitted_bias(void **state)
{
    (void)state;
    run_activation((fq_activation){FQ_ACT_PRELU, 0, 0}, (float[]){0.5f, 2}, 3,
                   (int64_t[]){2, 1, 1}, (float[]){-1, -0.5f, 0.5f, 3});
}

static void test_conv_fused_prelu_single_slope(void **state)
{
    (void)state;
    run_activation((fq_activation){FQ_ACT_PRELU, 0, 0}, (float[]){0.25f}, 1, (int64_t[]){1},
                   (float[]){-0.5f, -0.25f, 0.5f, 3});
}

static void test_conv_refuses_3d_naming_the_node(void **state)
{
    (void)state;
    float x[8] = {0}, w[1] = {1};
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 5, (int64_t[]){1, 1, 2, 2, 2}, x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 5, (int64_t[]){1, 1, 1, 1, 1}, w, true);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "'node'"));
    assert_non_null(strstr(h.err.message, "3-D"));
    fq_harness_free(&h);
}

static void test_conv_refuses_non_f32_naming_the_dtype(void **state)
{
    (void)state;
    uint8_t x[4] = {0};
    float w[1] = {1};
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_U8, 4, (int64_t[]){1, 1, 2, 2}, x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 1, 1}, w, true);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "u8"));
    fq_harness_free(&h);
}

static void test_conv_rejects_channel_mismatch(void **state)
{
    (void)state;
    float x[8] = {0}, w[3] = {1, 1, 1};
    fq_harness h;
    fq_harness_init(&h, "Conv", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 2, 2, 2}, x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 3, 1, 1}, w, true);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_conv_random_shapes_match_naive_convolution(void **state)
{
    (void)state;
    fq_test_seed(12345);
    for (int trial = 0; trial < 120; trial++) {
        conv_case t;
        t.group = fq_test_rand_int(1, 3);
        t.c = t.group * fq_test_rand_int(1, 17 / t.group);
        t.m = t.group * fq_test_rand_int(1, 6);
        t.kh = fq_test_rand_int(1, 5);
        t.kw = fq_test_rand_int(1, 5);
        t.sh = fq_test_rand_int(1, 3);
        t.sw = fq_test_rand_int(1, 3);
        t.dh = fq_test_rand_int(1, 2);
        t.dw = fq_test_rand_int(1, 2);
        t.pt = fq_test_rand_int(0, 2);
        t.pl = fq_test_rand_int(0, 2);
        t.pb = fq_test_rand_int(0, 2);
        t.pr = fq_test_rand_int(0, 2);
        t.n = fq_test_rand_int(1, 2);
        t.h = (t.kh - 1) * t.dh + fq_test_rand_int(1, 12);
        t.w = (t.kw - 1) * t.dw + fq_test_rand_int(1, 12);
        check_against_naive(&t, trial % 2 == 0);
    }
}

static void test_conv_random_pointwise_and_depthwise_match_naive(void **state)
{
    (void)state;
    fq_test_seed(99);
    for (int trial = 0; trial < 40; trial++) {
        int64_t c = fq_test_rand_int(1, 17);
        int64_t h = fq_test_rand_int(1, 20), w = fq_test_rand_int(1, 20);
        conv_case pointwise = {1, c, h, w, fq_test_rand_int(1, 17), 1, 1, 1, 1, 1, 1,
                               0, 0, 0, 0, 1};
        check_against_naive(&pointwise, true);
        int64_t k = fq_test_rand_int(1, 5);
        int64_t s = fq_test_rand_int(1, 3), p = fq_test_rand_int(0, 2);
        conv_case depthwise = {1, c, h + k, w + k, c, k, k, s, s, 1, 1, p, p, p, p, c};
        check_against_naive(&depthwise, trial % 2 == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_3x3_stride2_pads1_matches_hand_sums),
        cmocka_unit_test(test_conv_asymmetric_pads_shift_the_window),
        cmocka_unit_test(test_conv_dilation_2_skips_taps),
        cmocka_unit_test(test_conv_auto_pad_same_upper_keeps_size_and_pads_end),
        cmocka_unit_test(test_conv_auto_pad_same_lower_pads_begin),
        cmocka_unit_test(test_conv_auto_pad_valid_ignores_pads),
        cmocka_unit_test(test_conv_1d_with_bias),
        cmocka_unit_test(test_conv_depthwise_uses_each_channel_alone),
        cmocka_unit_test(test_conv_groups_split_channels),
        cmocka_unit_test(test_conv_fused_relu),
        cmocka_unit_test(test_conv_fused_clip_uses_alpha_and_beta),
        cmocka_unit_test(test_conv_fused_leaky_relu),
        cmocka_unit_test(test_conv_fused_sigmoid),
        cmocka_unit_test(test_conv_fused_prelu_per_channel_after_omitted_bias),
        cmocka_unit_test(test_conv_fused_prelu_single_slope),
        cmocka_unit_test(test_conv_refuses_3d_naming_the_node),
        cmocka_unit_test(test_conv_refuses_non_f32_naming_the_dtype),
        cmocka_unit_test(test_conv_rejects_channel_mismatch),
        cmocka_unit_test(test_conv_random_shapes_match_naive_convolution),
        cmocka_unit_test(test_conv_random_pointwise_and_depthwise_match_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
