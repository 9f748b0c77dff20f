/* Resize and Upsample: every coordinate transformation and nearest mode on a small tensor,
 * against values worked out by hand from the ONNX formulas, plus the refusals; u8 in NCHW and
 * NHWC. */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_harness.h"

/* One row of four samples: x = [0, 10, 20, 30] with shape 1x1x1x4. */
static const float row4[4] = {0, 10, 20, 30};
static const float square[4] = {1, 2, 3, 4};

static void resize_row(fq_harness *h, const char *mode, const char *coords, const char *nearest,
                       float scale_w)
{
    fq_harness_init(h, "Resize", 13);
    fq_harness_input(h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 1, 4}, row4, false);
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(h, FQ_DTYPE_F32, 1, (int64_t[]){4}, (float[]){1, 1, 1, scale_w}, true);
    fq_harness_attr_string(h, "mode", mode);
    fq_harness_attr_string(h, "coordinate_transformation_mode", coords);
    if (nearest != NULL)
        fq_harness_attr_string(h, "nearest_mode", nearest);
}

static void expect_row(fq_harness *h, int64_t n, const float *expected)
{
    assert_int_equal(fq_harness_run(h), FQ_OK);
    fq_harness_expect_f32(h, 0, 4, (int64_t[]){1, 1, 1, n}, expected, 1e-5f);
    fq_harness_free(h);
}

/* Downsampling 4 -> 3 (scale 0.75), half_pixel: sources 0.1667, 1.5, 2.8333. */
static void test_resize_nearest_half_pixel_round_prefer_floor(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "half_pixel", "round_prefer_floor", 0.75f);
    expect_row(&h, 3, (float[]){0, 10, 30});
}

static void test_resize_nearest_half_pixel_round_prefer_ceil(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "half_pixel", "round_prefer_ceil", 0.75f);
    expect_row(&h, 3, (float[]){0, 20, 30});
}

static void test_resize_nearest_half_pixel_floor(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "half_pixel", "floor", 0.75f);
    expect_row(&h, 3, (float[]){0, 10, 20});
}

static void test_resize_nearest_half_pixel_ceil(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "half_pixel", "ceil", 0.75f);
    expect_row(&h, 3, (float[]){10, 20, 30});
}

/* asymmetric: sources 0, 1.333, 2.667. */
static void test_resize_nearest_asymmetric(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "asymmetric", "round_prefer_floor", 0.75f);
    expect_row(&h, 3, (float[]){0, 10, 30});
}

/* align_corners: sources x * 3 / 2 = 0, 1.5, 3. */
static void test_resize_nearest_align_corners_round_prefer_ceil(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "align_corners", "round_prefer_ceil", 0.75f);
    expect_row(&h, 3, (float[]){0, 20, 30});
}

/* tf_half_pixel_for_nn: sources (x + 0.5) / 0.75 = 0.667, 2, 3.333. */
static void test_resize_nearest_tf_half_pixel_for_nn(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "tf_half_pixel_for_nn", NULL, 0.75f);
    expect_row(&h, 3, (float[]){10, 20, 30});
    resize_row(&h, "nearest", "tf_half_pixel_for_nearest", NULL, 0.75f);
    expect_row(&h, 3, (float[]){10, 20, 30});
}

/* align_corners with a scale that does not divide: the resized length is 4 * 0.6 = 2.4, so
 * output 1 samples 1 * 3 / 1.4 = 2.1429, between 20 and 30. */
static void test_resize_linear_align_corners_uses_unrounded_length(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "linear", "align_corners", NULL, 0.6f);
    expect_row(&h, 2, (float[]){0, 30.0f / 1.4f});
}

/* One output sample from sizes: pytorch_half_pixel samples 0; half_pixel samples
 * 0.5 * 4 - 0.5 = 1.5, rounded down to 1. */
static void resize_to_one(fq_harness *h, const char *coords)
{
    fq_harness_init(h, "Resize", 13);
    fq_harness_input(h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 1, 4}, row4, false);
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(h, FQ_DTYPE_I64, 1, (int64_t[]){4}, (int64_t[]){1, 1, 1, 1}, true);
    fq_harness_attr_string(h, "coordinate_transformation_mode", coords);
}

static void test_resize_pytorch_half_pixel_single_output_samples_zero(void **state)
{
    (void)state;
    fq_harness h;
    resize_to_one(&h, "pytorch_half_pixel");
    expect_row(&h, 1, (float[]){0});
    resize_to_one(&h, "half_pixel");
    expect_row(&h, 1, (float[]){10});
}

/* Linear 4 -> 8: half_pixel sources x / 2 - 0.25, clamped to [0, 3]. */
static void test_resize_linear_half_pixel(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "linear", "half_pixel", NULL, 2.0f);
    expect_row(&h, 8, (float[]){0, 2.5f, 7.5f, 12.5f, 17.5f, 22.5f, 27.5f, 30});
}

static void test_resize_linear_pytorch_half_pixel(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "linear", "pytorch_half_pixel", NULL, 2.0f);
    expect_row(&h, 8, (float[]){0, 2.5f, 7.5f, 12.5f, 17.5f, 22.5f, 27.5f, 30});
}

static void test_resize_linear_align_corners(void **state)
{
    (void)state;
    float expected[8];
    for (int x = 0; x < 8; x++)
        expected[x] = 30.0f * (float)x / 7.0f;
    fq_harness h;
    resize_row(&h, "linear", "align_corners", NULL, 2.0f);
    expect_row(&h, 8, expected);
}

static void test_resize_linear_asymmetric(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "linear", "asymmetric", NULL, 2.0f);
    expect_row(&h, 8, (float[]){0, 5, 10, 15, 20, 25, 30, 30});
}

static void test_resize_bilinear_2x2_to_4x4_half_pixel(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Resize", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, square, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){0}, (float[]){0}, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){4}, (float[]){1, 1, 2, 2}, true);
    fq_harness_attr_string(&h, "mode", "linear");
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float expected[16] = {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f,
                          2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4};
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 4, 4}, expected, 1e-6f);
    fq_harness_free(&h);
}

static const float square_nearest_x2[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};

static void test_resize_opset10_nearest_is_asymmetric_floor(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Resize", 10);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, square, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){4}, (float[]){1, 1, 2, 2}, true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 4, 4}, square_nearest_x2, 0);
    fq_harness_free(&h);
}

static void test_resize_output_size_is_floor_of_scaled_input(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "nearest", "asymmetric", NULL, 0.6f);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    assert_int_equal(fq_harness_output_value(&h, 0)->shape.dims[3], 2);
    fq_harness_free(&h);
}

static void test_upsample7_scales_attribute(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Upsample", 7);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, square, false);
    fq_harness_attr_floats(&h, "scales", 4, (float[]){1, 1, 2, 2});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 4, 4}, square_nearest_x2, 0);
    fq_harness_free(&h);
}

static void test_upsample9_linear_scales_input(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Upsample", 9);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 1, 4}, row4, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){4}, (float[]){1, 1, 1, 2}, true);
    fq_harness_attr_string(&h, "mode", "linear");
    expect_row(&h, 8, (float[]){0, 5, 10, 15, 20, 25, 30, 30});
}

static void test_resize_refuses_cubic_naming_the_node(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "cubic", "half_pixel", NULL, 2.0f);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "'node'"));
    assert_non_null(strstr(h.err.message, "cubic"));
    fq_harness_free(&h);
}

static void test_resize_refuses_tf_crop_and_resize(void **state)
{
    (void)state;
    fq_harness h;
    resize_row(&h, "linear", "tf_crop_and_resize", NULL, 2.0f);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "tf_crop_and_resize"));
    fq_harness_free(&h);
}

static void test_resize_refuses_resizing_channels(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Resize", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, square, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){4}, (float[]){1, 2, 1, 1}, true);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "axis 1"));
    fq_harness_free(&h);
}

static void test_resize_requires_constant_scales(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Resize", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, square, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){4}, (float[]){1, 1, 2, 2}, false);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "constant"));
    fq_harness_free(&h);
}

/* ---- u8 ---- */

static void resize_u8(fq_harness *h, int64_t *dims, const uint8_t *x, const float *scales,
                      const char *mode, const char *coords)
{
    fq_harness_init(h, "Resize", 13);
    fq_harness_input(h, FQ_DTYPE_U8, 4, dims, x, false);
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(h, FQ_DTYPE_F32, 1, (int64_t[]){4}, scales, true);
    fq_harness_attr_string(h, "mode", mode);
    fq_harness_attr_string(h, "coordinate_transformation_mode", coords);
}

static void test_resize_u8_nearest_copies_codes(void **state)
{
    (void)state;
    fq_harness h;
    resize_u8(&h, (int64_t[]){1, 1, 2, 2}, (uint8_t[]){1, 2, 3, 250}, (float[]){1, 1, 2, 2},
              "nearest", "asymmetric");
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    const fq_tensor *t = &h.outputs[0];
    assert_int_equal(t->dtype, FQ_DTYPE_U8);
    assert_int_equal(t->shape.dims[2], 4);
    assert_int_equal(t->shape.dims[3], 4);
    static const uint8_t want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 250, 250, 3, 3, 250, 250};
    assert_memory_equal(t->data, want, 16);
    fq_harness_free(&h);
}

static void test_resize_u8_linear_rounds_half_to_even(void **state)
{
    (void)state;
    /* align_corners 2 -> 3 samples the middle at 0.5: 0.5 -> 0 and 1.5 -> 2 */
    static const uint8_t x[4] = {0, 1, 1, 2};
    fq_harness h;
    fq_harness_init(&h, "Resize", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 4, (int64_t[]){1, 2, 1, 2}, x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, (int64_t[]){4}, (int64_t[]){1, 2, 1, 3}, true);
    fq_harness_attr_string(&h, "mode", "linear");
    fq_harness_attr_string(&h, "coordinate_transformation_mode", "align_corners");
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    static const uint8_t want[6] = {0, 0, 1, 1, 2, 2};
    assert_memory_equal(h.outputs[0].data, want, 6);
    fq_harness_free(&h);
}

/* The f32 Resize of the same node on the codes as floats, rounded half to even. */
static void f32_resize_rounded(int64_t *dims, const uint8_t *x, const float *scales,
                               const char *mode, const char *coords, uint8_t *out, int64_t n)
{
    int64_t count = dims[0] * dims[1] * dims[2] * dims[3];
    float xf[1024];
    assert_true(count <= 1024);
    for (int64_t i = 0; i < count; i++)
        xf[i] = x[i];
    fq_harness h;
    fq_harness_init(&h, "Resize", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, dims, xf, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){4}, scales, true);
    fq_harness_attr_string(&h, "mode", mode);
    fq_harness_attr_string(&h, "coordinate_transformation_mode", coords);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    assert_int_equal(fq_shape_numel(&h.outputs[0].shape), n);
    const float *y = h.outputs[0].data;
    for (int64_t i = 0; i < n; i++)
        out[i] = (uint8_t)nearbyintf(y[i]);
    fq_harness_free(&h);
}

static void test_resize_u8_linear_equals_f32_on_codes_rounded(void **state)
{
    (void)state;
    static const char *const coords[4] = {"half_pixel", "align_corners", "asymmetric",
                                          "pytorch_half_pixel"};
    int64_t dims[4] = {1, 2, 5, 7};
    uint8_t x[70];
    for (int i = 0; i < 70; i++)
        x[i] = (uint8_t)((i * 89 + 3) % 256);
    const float scales[4] = {1, 1, 1.7f, 2.3f};
    for (int c = 0; c < 4; c++) {
        fq_harness h;
        resize_u8(&h, dims, x, scales, "linear", coords[c]);
        assert_int_equal(fq_harness_run(&h), FQ_OK);
        int64_t n = fq_shape_numel(&h.outputs[0].shape);
        uint8_t want[512];
        assert_true(n <= 512);
        f32_resize_rounded(dims, x, scales, "linear", coords[c], want, n);
        assert_memory_equal(h.outputs[0].data, want, (size_t)n);
        fq_harness_free(&h);
    }
}

static void test_resize_u8_nhwc_equals_nchw_transposed(void **state)
{
    (void)state;
    static const char *const modes[2] = {"nearest", "linear"};
    enum { C = 3, H = 4, W = 5 };
    uint8_t x[C * H * W], xt[C * H * W];
    for (int i = 0; i < C * H * W; i++)
        x[i] = (uint8_t)((i * 151 + 7) % 256);
    for (int c = 0; c < C; c++)
        for (int p = 0; p < H * W; p++)
            xt[p * C + c] = x[c * H * W + p];
    for (int m = 0; m < 2; m++) {
        fq_harness a, b;
        resize_u8(&a, (int64_t[]){1, C, H, W}, x, (float[]){1, 1, 2, 1.5f}, modes[m],
                  "half_pixel");
        resize_u8(&b, (int64_t[]){1, H, W, C}, xt, (float[]){1, 2, 1.5f, 1}, modes[m],
                  "half_pixel");
        assert_int_equal(fq_harness_run(&a), FQ_OK);
        assert_int_equal(fq_harness_run(&b), FQ_OK);
        enum { OH = 8, OW = 7 }; /* floor(5 * 1.5) */
        assert_int_equal(b.outputs[0].shape.dims[1], OH);
        assert_int_equal(b.outputs[0].shape.dims[2], OW);
        assert_int_equal(b.outputs[0].shape.dims[3], C);
        const uint8_t *ya = a.outputs[0].data;
        uint8_t expected[C * OH * OW];
        for (int c = 0; c < C; c++)
            for (int p = 0; p < OH * OW; p++)
                expected[p * C + c] = ya[c * OH * OW + p];
        assert_memory_equal(b.outputs[0].data, expected, sizeof(expected));
        fq_harness_free(&a);
        fq_harness_free(&b);
    }
}

static void test_resize_f32_refuses_nhwc_axes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Resize", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 2, 2, 1}, square, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, (int64_t[]){4}, (float[]){1, 2, 2, 1}, true);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "axis 1 of f32"));
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_nearest_half_pixel_round_prefer_floor),
        cmocka_unit_test(test_resize_nearest_half_pixel_round_prefer_ceil),
        cmocka_unit_test(test_resize_nearest_half_pixel_floor),
        cmocka_unit_test(test_resize_nearest_half_pixel_ceil),
        cmocka_unit_test(test_resize_nearest_asymmetric),
        cmocka_unit_test(test_resize_nearest_align_corners_round_prefer_ceil),
        cmocka_unit_test(test_resize_nearest_tf_half_pixel_for_nn),
        cmocka_unit_test(test_resize_linear_align_corners_uses_unrounded_length),
        cmocka_unit_test(test_resize_pytorch_half_pixel_single_output_samples_zero),
        cmocka_unit_test(test_resize_linear_half_pixel),
        cmocka_unit_test(test_resize_linear_pytorch_half_pixel),
        cmocka_unit_test(test_resize_linear_align_corners),
        cmocka_unit_test(test_resize_linear_asymmetric),
        cmocka_unit_test(test_resize_bilinear_2x2_to_4x4_half_pixel),
        cmocka_unit_test(test_resize_opset10_nearest_is_asymmetric_floor),
        cmocka_unit_test(test_resize_output_size_is_floor_of_scaled_input),
        cmocka_unit_test(test_upsample7_scales_attribute),
        cmocka_unit_test(test_upsample9_linear_scales_input),
        cmocka_unit_test(test_resize_refuses_cubic_naming_the_node),
        cmocka_unit_test(test_resize_refuses_tf_crop_and_resize),
        cmocka_unit_test(test_resize_refuses_resizing_channels),
        cmocka_unit_test(test_resize_requires_constant_scales),
        cmocka_unit_test(test_resize_u8_nearest_copies_codes),
        cmocka_unit_test(test_resize_u8_linear_rounds_half_to_even),
        cmocka_unit_test(test_resize_u8_linear_equals_f32_on_codes_rounded),
        cmocka_unit_test(test_resize_u8_nhwc_equals_nchw_transposed),
        cmocka_unit_test(test_resize_f32_refuses_nhwc_axes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
