/* MaxPool (f32 and u8, NCHW and NHWC), AveragePool, GlobalAveragePool and GlobalMaxPool on small
 * hand-computed cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_harness.h"

static const float ramp16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void pool_on_ramp(fq_harness *h, const char *op, int opset, int64_t k, int64_t s)
{
    fq_harness_init(h, op, opset);
    fq_harness_input(h, FQ_DTYPE_F32, 4, (int64_t[]){1, 1, 4, 4}, ramp16, false);
    fq_harness_attr_ints(h, "kernel_shape", 2, (int64_t[]){k, k});
    fq_harness_attr_ints(h, "strides", 2, (int64_t[]){s, s});
}

static void pool_1d(fq_harness *h, const char *op, const float *x, int64_t n, int64_t k,
                    int64_t s, int64_t pad_begin, int64_t pad_end)
{
    fq_harness_init(h, op, 13);
    fq_harness_input(h, FQ_DTYPE_F32, 3, (int64_t[]){1, 1, n}, x, false);
    fq_harness_attr_ints(h, "kernel_shape", 1, (int64_t[]){k});
    fq_harness_attr_ints(h, "strides", 1, (int64_t[]){s});
    fq_harness_attr_ints(h, "pads", 2, (int64_t[]){pad_begin, pad_end});
}

static void expect_2x2(fq_harness *h, const float *expected)
{
    assert_int_equal(fq_harness_run(h), FQ_OK);
    fq_harness_expect_f32(h, 0, 4, (int64_t[]){1, 1, 2, 2}, expected, 1e-6f);
    fq_harness_free(h);
}

static void test_maxpool_2x2_stride_2(void **state)
{
    (void)state;
    fq_harness h;
    pool_on_ramp(&h, "MaxPool", 12, 2, 2);
    expect_2x2(&h, (float[]){6, 8, 14, 16});
}

static void test_maxpool_dilation_2(void **state)
{
    (void)state;
    fq_harness h;
    pool_on_ramp(&h, "MaxPool", 12, 2, 1);
    fq_harness_attr_ints(&h, "dilations", 2, (int64_t[]){2, 2});
    expect_2x2(&h, (float[]){11, 12, 15, 16});
}

static void test_maxpool_ceil_mode_adds_partial_window(void **state)
{
    (void)state;
    fq_harness h;
    pool_on_ramp(&h, "MaxPool", 12, 3, 2);
    fq_harness_attr_int(&h, "ceil_mode", 1);
    expect_2x2(&h, (float[]){11, 12, 15, 16});

    pool_on_ramp(&h, "MaxPool", 12, 3, 2);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 1, 1}, (float[]){11}, 0);
    fq_harness_free(&h);
}

static void test_maxpool_ceil_mode_drops_window_starting_in_end_padding(void **state)
{
    (void)state;
    fq_harness h;
    /* ceil((3 + 2 - 2) / 2) + 1 = 3 windows, but the third would start at 3, in the padding. */
    pool_1d(&h, "MaxPool", (float[]){1, 2, 3}, 3, 2, 2, 1, 1);
    fq_harness_attr_int(&h, "ceil_mode", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){1, 1, 2}, (float[]){1, 3}, 0);
    fq_harness_free(&h);
}

static void test_maxpool_same_upper(void **state)
{
    (void)state;
    fq_harness h;
    pool_on_ramp(&h, "MaxPool", 12, 2, 1);
    fq_harness_attr_string(&h, "auto_pad", "SAME_UPPER");
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    float expected[16] = {6, 7, 8, 8, 10, 11, 12, 12, 14, 15, 16, 16, 14, 15, 16, 16};
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 1, 4, 4}, expected, 0);
    fq_harness_free(&h);
}

static void test_maxpool_pads_are_ignored_not_zero(void **state)
{
    (void)state;
    fq_harness h;
    pool_1d(&h, "MaxPool", (float[]){-1, -2, -3}, 3, 2, 1, 1, 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){1, 1, 4}, (float[]){-1, -1, -2, -3}, 0);
    fq_harness_free(&h);
}

static void test_maxpool_refuses_indices_output(void **state)
{
    (void)state;
    fq_harness h;
    pool_on_ramp(&h, "MaxPool", 12, 2, 2);
    fq_harness_outputs(&h, 2);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "Indices"));
    assert_non_null(strstr(h.err.message, "'node'"));
    fq_harness_free(&h);
}

static void test_maxpool_refuses_i8_naming_the_dtype(void **state)
{
    (void)state;
    int8_t x[4] = {1, 2, 3, 4};
    fq_harness h;
    fq_harness_init(&h, "MaxPool", 12);
    fq_harness_input(&h, FQ_DTYPE_I8, 4, (int64_t[]){1, 1, 2, 2}, x, false);
    fq_harness_attr_ints(&h, "kernel_shape", 2, (int64_t[]){2, 2});
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "i8"));
    fq_harness_free(&h);
}

static const uint8_t ramp16_u8[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void expect_u8(const fq_harness *h, int rank, const int64_t *dims, const uint8_t *want)
{
    const fq_tensor *t = &h->outputs[0];
    assert_int_equal(t->dtype, FQ_DTYPE_U8);
    assert_int_equal(t->shape.rank, rank);
    for (int d = 0; d < rank; d++)
        assert_int_equal(t->shape.dims[d], dims[d]);
    assert_memory_equal(t->data, want, (size_t)fq_shape_numel(&t->shape));
}

static void test_maxpool_u8_2x2_stride_2(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "MaxPool", 12);
    fq_harness_input(&h, FQ_DTYPE_U8, 4, (int64_t[]){1, 1, 4, 4}, ramp16_u8, false);
    fq_harness_attr_ints(&h, "kernel_shape", 2, (int64_t[]){2, 2});
    fq_harness_attr_ints(&h, "strides", 2, (int64_t[]){2, 2});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_u8(&h, 4, (int64_t[]){1, 1, 2, 2}, (uint8_t[]){6, 8, 14, 16});
    fq_harness_free(&h);
}

static void test_maxpool_u8_accepted_before_opset_12_and_skips_pads(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "MaxPool", 8);
    fq_harness_input(&h, FQ_DTYPE_U8, 3, (int64_t[]){1, 1, 3}, (uint8_t[]){3, 1, 2}, false);
    fq_harness_attr_ints(&h, "kernel_shape", 1, (int64_t[]){2});
    fq_harness_attr_ints(&h, "strides", 1, (int64_t[]){2});
    fq_harness_attr_ints(&h, "pads", 2, (int64_t[]){1, 1});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_u8(&h, 3, (int64_t[]){1, 1, 2}, (uint8_t[]){3, 2});
    fq_harness_free(&h);
}

static void test_maxpool_u8_nhwc_equals_nchw_transposed(void **state)
{
    (void)state;
    enum { N = 2, C = 3, H = 7, W = 6 };
    uint8_t x[N * C * H * W], xt[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = (uint8_t)((i * 73 + 11) % 256);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < H * W; p++)
                xt[(n * H * W + p) * C + c] = x[(n * C + c) * H * W + p];
    fq_harness a, b;
    fq_harness_init(&a, "MaxPool", 13);
    fq_harness_input(&a, FQ_DTYPE_U8, 4, (int64_t[]){N, C, H, W}, x, false);
    fq_harness_init(&b, "MaxPool", 13);
    fq_harness_input(&b, FQ_DTYPE_U8, 4, (int64_t[]){N, H, W, C}, xt, false);
    fq_harness_attr_int(&b, "channels_last", 1);
    fq_harness *both[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        fq_harness_attr_ints(both[k], "kernel_shape", 2, (int64_t[]){3, 3});
        fq_harness_attr_ints(both[k], "strides", 2, (int64_t[]){2, 2});
        fq_harness_attr_ints(both[k], "pads", 4, (int64_t[]){1, 1, 1, 1});
        fq_harness_attr_int(both[k], "ceil_mode", 1);
        assert_int_equal(fq_harness_run(both[k]), FQ_OK);
    }
    /* ceil((7 + 2 - 3) / 2) + 1 = 4 rows, ceil((6 + 2 - 3) / 2) + 1 = 4 columns */
    enum { OH = 4, OW = 4 };
    const uint8_t *ya = a.outputs[0].data;
    uint8_t expected[N * OH * OW * C];
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < OH * OW; p++)
                expected[(n * OH * OW + p) * C + c] = ya[(n * C + c) * OH * OW + p];
    expect_u8(&b, 4, (int64_t[]){N, OH, OW, C}, expected);
    fq_harness_free(&a);
    fq_harness_free(&b);
}

static void test_maxpool_f32_refuses_channels_last(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "MaxPool", 12);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 4, 4, 1}, ramp16, false);
    fq_harness_attr_ints(&h, "kernel_shape", 2, (int64_t[]){2, 2});
    fq_harness_attr_int(&h, "channels_last", 1);
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "channels_last"));
    fq_harness_free(&h);
}

static void test_maxpool_refuses_3d(void **state)
{
    (void)state;
    float x[8] = {0};
    fq_harness h;
    fq_harness_init(&h, "MaxPool", 12);
    fq_harness_input(&h, FQ_DTYPE_F32, 5, (int64_t[]){1, 1, 2, 2, 2}, x, false);
    fq_harness_attr_ints(&h, "kernel_shape", 3, (int64_t[]){2, 2, 2});
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "3-D"));
    fq_harness_free(&h);
}

static void test_averagepool_ceil_mode_divides_by_taps_inside(void **state)
{
    (void)state;
    fq_harness h;
    pool_on_ramp(&h, "AveragePool", 11, 3, 2);
    fq_harness_attr_int(&h, "ceil_mode", 1);
    expect_2x2(&h, (float[]){6, 7.5f, 12, 13.5f});
}

static void test_averagepool_excludes_pads_by_default(void **state)
{
    (void)state;
    fq_harness h;
    pool_1d(&h, "AveragePool", (float[]){1, 2, 3}, 3, 3, 1, 1, 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){1, 1, 3}, (float[]){1.5f, 2, 2.5f}, 1e-6f);
    fq_harness_free(&h);
}

static void test_averagepool_count_include_pad_counts_pads(void **state)
{
    (void)state;
    fq_harness h;
    pool_1d(&h, "AveragePool", (float[]){1, 2, 3}, 3, 3, 1, 1, 1);
    fq_harness_attr_int(&h, "count_include_pad", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){1, 1, 3}, (float[]){1, 2, 5.0f / 3}, 1e-6f);
    fq_harness_free(&h);
}

static void test_averagepool_count_include_pad_stops_at_padded_end(void **state)
{
    (void)state;
    fq_harness h;
    /* The ceil-mode window [2, 5) reaches past the (unpadded) end: only taps 2 and 3 count. */
    pool_1d(&h, "AveragePool", (float[]){1, 2, 3, 4}, 4, 3, 2, 0, 0);
    fq_harness_attr_int(&h, "ceil_mode", 1);
    fq_harness_attr_int(&h, "count_include_pad", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){1, 1, 2}, (float[]){2, 3.5f}, 1e-6f);
    fq_harness_free(&h);
}

static void test_averagepool_refuses_dilations(void **state)
{
    (void)state;
    fq_harness h;
    pool_on_ramp(&h, "AveragePool", 11, 2, 1);
    fq_harness_attr_ints(&h, "dilations", 2, (int64_t[]){2, 2});
    assert_int_equal(fq_harness_run(&h), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "dilations"));
    fq_harness_free(&h);
}

static void test_global_average_pool_per_channel(void **state)
{
    (void)state;
    float x[8] = {1, 2, 3, 4, -1, -2, -3, -6};
    fq_harness h;
    fq_harness_init(&h, "GlobalAveragePool", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 4, (int64_t[]){1, 2, 2, 2}, x, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 4, (int64_t[]){1, 2, 1, 1}, (float[]){2.5f, -3}, 1e-6f);
    fq_harness_free(&h);
}

static void test_global_max_pool_rank_3(void **state)
{
    (void)state;
    float x[6] = {1, 5, 3, -4, -2, -9};
    fq_harness h;
    fq_harness_init(&h, "GlobalMaxPool", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, (int64_t[]){1, 2, 3}, x, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, (int64_t[]){1, 2, 1}, (float[]){5, -2}, 0);
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxpool_2x2_stride_2),
        cmocka_unit_test(test_maxpool_dilation_2),
        cmocka_unit_test(test_maxpool_ceil_mode_adds_partial_window),
        cmocka_unit_test(test_maxpool_ceil_mode_drops_window_starting_in_end_padding),
        cmocka_unit_test(test_maxpool_same_upper),
        cmocka_unit_test(test_maxpool_pads_are_ignored_not_zero),
        cmocka_unit_test(test_maxpool_refuses_indices_output),
        cmocka_unit_test(test_maxpool_refuses_i8_naming_the_dtype),
        cmocka_unit_test(test_maxpool_u8_2x2_stride_2),
        cmocka_unit_test(test_maxpool_u8_accepted_before_opset_12_and_skips_pads),
        cmocka_unit_test(test_maxpool_u8_nhwc_equals_nchw_transposed),
        cmocka_unit_test(test_maxpool_f32_refuses_channels_last),
        cmocka_unit_test(test_maxpool_refuses_3d),
        cmocka_unit_test(test_averagepool_ceil_mode_divides_by_taps_inside),
        cmocka_unit_test(test_averagepool_excludes_pads_by_default),
        cmocka_unit_test(test_averagepool_count_include_pad_counts_pads),
        cmocka_unit_test(test_averagepool_count_include_pad_stops_at_padded_end),
        cmocka_unit_test(test_averagepool_refuses_dilations),
        cmocka_unit_test(test_global_average_pool_per_channel),
        cmocka_unit_test(test_global_max_pool_rank_3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
