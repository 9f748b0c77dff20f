/* The prepared kernels of the pooling, Resize and fp32 Add/Mul operators give the bytes of the
 * unprepared run (the reference kernels) under every ISA cap the CPU has and for 1, 2 and 3
 * threads: u8 NHWC MaxPool and QLinearAveragePool, fp32 AveragePool (when its table entry has a
 * prepare hook), u8 NHWC and fp32 nearest Resize, fp32 Add and Mul. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_ops_tensor_util.h"
#include "test_util.h"


/* Runs the harness's node again through prepare and exec under cap with `threads` threads and
 * checks output 0 against the harness's (unprepared) bytes. */
static void expect_prepared_equal(fq_harness *h, fq_isa cap, int threads)
{
    bool planned;
    char kernel[64];
    void *out = fq_harness_run_prepared(h, cap, threads, &planned, kernel, sizeof(kernel));
    const fq_tensor *want = &h->outputs[0];
    assert_memory_equal(out, want->data,
                        (size_t)fq_shape_numel(&want->shape) * fq_dtype_size(want->dtype));
    free(out);
}

static void expect_every_cap_and_thread_count(fq_harness *h)
{
    assert_int_equal(fq_harness_run(h), FQ_OK);
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++) {
        if (cap < FQ_ISA_COUNT && !fq_isa_supported((fq_isa)cap))
            continue;
        for (int threads = 1; threads <= 3; threads++)
            expect_prepared_equal(h, (fq_isa)cap, threads);
    }
}

static void *random_u8(int64_t n)
{
    uint8_t *x = malloc((size_t)n);
    assert_non_null(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (uint8_t)fq_test_rand_int(0, 255);
    return x;
}

static void *random_f32(int64_t n)
{
    float *x = malloc((size_t)n * sizeof(float));
    assert_non_null(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = fq_test_rand_float(-2.0f, 2.0f);
    return x;
}

static void scalar_f32(fq_harness *h, float v)
{
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, &v, true);
}

static void scalar_u8(fq_harness *h, uint8_t v)
{
    fq_harness_input(h, FQ_DTYPE_U8, 0, NULL, &v, true);
}

static void window_3x3_stride_2(fq_harness *h)
{
    fq_harness_attr_ints(h, "kernel_shape", 2, DIMS(3, 3));
    fq_harness_attr_ints(h, "strides", 2, DIMS(2, 2));
    fq_harness_attr_ints(h, "pads", 4, DIMS(1, 1, 1, 1));
}

static void test_u8_nhwc_maxpool_is_the_same_for_every_cap_and_thread_count(void **state)
{
    (void)state;
    fq_test_seed(81);
    uint8_t *x = random_u8(2 * 23 * 19 * 27);
    fq_harness h;
    fq_harness_init(&h, "MaxPool", 12);
    fq_harness_input(&h, FQ_DTYPE_U8, 4, DIMS(2, 23, 19, 27), x, false);
    fq_harness_attr_int(&h, "channels_last", 1);
    window_3x3_stride_2(&h);
    expect_every_cap_and_thread_count(&h);
    fq_harness_free(&h);
    free(x);
}

static void test_u8_nhwc_average_pool_is_the_same_for_every_cap_and_thread_count(void **state)
{
    (void)state;
    fq_test_seed(82);
    uint8_t *x = random_u8(2 * 21 * 17 * 35);
    for (int include_pad = 0; include_pad <= 1; include_pad++) {
        fq_harness h;
        fq_harness_init(&h, "QLinearAveragePool", 13);
        fq_harness_input(&h, FQ_DTYPE_U8, 4, DIMS(2, 21, 17, 35), x, false);
        scalar_f32(&h, 0.037f);
        scalar_u8(&h, 121);
        scalar_f32(&h, 0.029f);
        scalar_u8(&h, 7);
        fq_harness_attr_int(&h, "channels_last", 1);
        fq_harness_attr_int(&h, "count_include_pad", include_pad);
        window_3x3_stride_2(&h);
        expect_every_cap_and_thread_count(&h);
        fq_harness_free(&h);
    }
    free(x);
}

static void test_f32_average_pool_is_the_same_for_every_cap_and_thread_count(void **state)
{
    (void)state;
    if (fq_op_get(fq_op_find("AveragePool"))->prepare == NULL) {
        printf("skipping: AveragePool has no prepare hook in the operator table\n");
        skip();
    }
    fq_test_seed(83);
    float *x = random_f32(2 * 5 * 33 * 41);
    for (int include_pad = 0; include_pad <= 1; include_pad++) {
        fq_harness h;
        fq_harness_init(&h, "AveragePool", 11);
        fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(2, 5, 33, 41), x, false);
        fq_harness_attr_int(&h, "count_include_pad", include_pad);
        window_3x3_stride_2(&h);
        expect_every_cap_and_thread_count(&h);
        fq_harness_free(&h);
    }
    free(x);
}

/* Resize-13 by scales 2 (nearest, asymmetric, floor: the detectors' upsampling). */
static void resize_by_two(fq_harness *h, fq_dtype dtype, const int64_t *dims, const void *x,
                          const float *scales)
{
    fq_harness_init(h, "Resize", 13);
    fq_harness_input(h, dtype, 4, dims, x, false);
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, NULL, true);
    fq_harness_input(h, FQ_DTYPE_F32, 1, DIMS(4), scales, true);
    fq_harness_attr_string(h, "mode", "nearest");
    fq_harness_attr_string(h, "coordinate_transformation_mode", "asymmetric");
    fq_harness_attr_string(h, "nearest_mode", "floor");
}

static void test_nearest_resize_is_the_same_for_every_thread_count(void **state)
{
    (void)state;
    fq_test_seed(84);
    float *xf = random_f32(2 * 7 * 9 * 11);
    fq_harness h;
    resize_by_two(&h, FQ_DTYPE_F32, DIMS(2, 7, 9, 11), xf, (float[]){1, 1, 2, 2});
    expect_every_cap_and_thread_count(&h);
    fq_harness_free(&h);

    uint8_t *xu = random_u8(2 * 9 * 11 * 13);
    resize_by_two(&h, FQ_DTYPE_U8, DIMS(2, 9, 11, 13), xu, (float[]){1, 2, 2, 1});
    expect_every_cap_and_thread_count(&h);
    fq_harness_free(&h);
    free(xf);
    free(xu);
}

/* Same shapes, a per-channel operand, and rows longer than one task. */
static void test_f32_add_and_mul_are_the_same_for_every_thread_count(void **state)
{
    (void)state;
    fq_test_seed(85);
    const char *ops[] = {"Add", "Mul", "Sub"};
    float *a = random_f32(3 * 7 * 150 * 150), *b = random_f32(3 * 7 * 150 * 150);
    for (int k = 0; k < 3; k++) {
        fq_harness h;
        fq_harness_init(&h, ops[k], 13);
        fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(3, 7, 150, 150), a, false);
        fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(3, 7, 150, 150), b, false);
        expect_every_cap_and_thread_count(&h);
        fq_harness_free(&h);

        fq_harness_init(&h, ops[k], 13);
        fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(3, 7, 15, 13), a, false);
        fq_harness_input(&h, FQ_DTYPE_F32, 4, DIMS(1, 7, 1, 1), b, false);
        expect_every_cap_and_thread_count(&h);
        fq_harness_free(&h);
    }
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u8_nhwc_maxpool_is_the_same_for_every_cap_and_thread_count),
        cmocka_unit_test(test_u8_nhwc_average_pool_is_the_same_for_every_cap_and_thread_count),
        cmocka_unit_test(test_f32_average_pool_is_the_same_for_every_cap_and_thread_count),
        cmocka_unit_test(test_nearest_resize_is_the_same_for_every_thread_count),
        cmocka_unit_test(test_f32_add_and_mul_are_the_same_for_every_thread_count),
    };
    return cmocka_run_group_tests_name("pool_fast_paths", tests, NULL, NULL);
}
