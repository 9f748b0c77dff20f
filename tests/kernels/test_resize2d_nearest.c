/* The nearest resize copies (kernels/any_resize2d_nearest.h) against the fp32 and u8 reference
 * resizes, byte for byte, over random sizes, scales, coordinate modes and roundings, with
 * infinities and NaNs among the fp32 inputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "any_resize2d_nearest.h"
#include "ref/qu8_resize2d_ref.h"
#include "test_util.h"

enum { ROUNDS = 300 };

static fq_resize2d_f32_params random_resize(void)
{
    fq_resize2d_f32_params p = {.mode = FQ_RESIZE_NEAREST};
    p.planes = fq_test_rand_int(1, 4);
    p.in_h = fq_test_rand_int(1, 12);
    p.in_w = fq_test_rand_int(1, 12);
    p.out_h = fq_test_rand_int(0, 2) == 0 ? 2 * p.in_h : fq_test_rand_int(1, 30);
    p.out_w = fq_test_rand_int(0, 2) == 0 ? 2 * p.in_w : fq_test_rand_int(1, 30);
    p.scale_h = (float)p.out_h / (float)p.in_h;
    p.scale_w = (float)p.out_w / (float)p.in_w;
    p.length_h = (float)p.out_h;
    p.length_w = (float)p.out_w;
    p.coordinates = (fq_resize_coordinates)fq_test_rand_int(0, 4);
    p.rounding = (fq_resize_rounding)fq_test_rand_int(0, 4);
    return p;
}

static float random_value(void)
{
    int pick = fq_test_rand_int(0, 49);
    if (pick == 0)
        return NAN;
    if (pick == 1)
        return INFINITY;
    return fq_test_rand_float(-3.0f, 3.0f);
}

static void *checked_malloc(size_t bytes)
{
    void *p = malloc(bytes > 0 ? bytes : 1);
    assert_non_null(p);
    return p;
}

/* Runs the copies over all rows, or row by row from the last, into y. */
static void run_nearest(const fq_resize2d_f32_params *p, size_t pixel_bytes, const void *x,
                        void *y, bool row_by_row)
{
    void *workspace = checked_malloc(fq_resize2d_nearest_workspace_size(p));
    fq_resize2d_nearest_plan plan;
    fq_resize2d_nearest_plan_init(p, pixel_bytes, workspace, &plan);
    int64_t rows = p->planes * p->out_h;
    if (!row_by_row)
        fq_resize2d_nearest_rows(&plan, x, y, 0, rows);
    for (int64_t r = rows - 1; row_by_row && r >= 0; r--)
        fq_resize2d_nearest_rows(&plan, x, y, r, r + 1);
    free(workspace);
}

static void check_f32(bool row_by_row)
{
    for (int round = 0; round < ROUNDS; round++) {
        fq_resize2d_f32_params p = random_resize();
        size_t nx = (size_t)(p.planes * p.in_h * p.in_w);
        size_t ny = (size_t)(p.planes * p.out_h * p.out_w);
        float *x = checked_malloc(nx * sizeof(float));
        float *want = checked_malloc(ny * sizeof(float)), *got = checked_malloc(ny * sizeof(float));
        void *workspace = checked_malloc(fq_ref_resize2d_f32_workspace_size(&p));
        for (size_t i = 0; i < nx; i++)
            x[i] = random_value();
        fq_ref_resize2d_f32(&p, x, want, workspace);
        run_nearest(&p, sizeof(float), x, got, row_by_row);
        assert_memory_equal(got, want, ny * sizeof(float));
        free(x), free(want), free(got), free(workspace);
    }
}

static void test_f32_copies_equal_the_reference(void **state)
{
    (void)state;
    fq_test_seed(61);
    check_f32(false);
}

static void test_f32_rows_copied_apart_equal_the_reference(void **state)
{
    (void)state;
    fq_test_seed(62);
    check_f32(true);
}

static void test_u8_nhwc_copies_equal_the_reference(void **state)
{
    (void)state;
    fq_test_seed(63);
    for (int round = 0; round < ROUNDS; round++) {
        fq_resize2d_f32_params p = random_resize();
        int64_t inner = fq_test_rand_int(1, 40);
        size_t nx = (size_t)(p.planes * p.in_h * p.in_w * inner);
        size_t ny = (size_t)(p.planes * p.out_h * p.out_w * inner);
        uint8_t *x = checked_malloc(nx), *want = checked_malloc(ny), *got = checked_malloc(ny);
        void *workspace = checked_malloc(fq_qu8_resize2d_workspace_size(&p));
        for (size_t i = 0; i < nx; i++)
            x[i] = (uint8_t)fq_test_rand_int(0, 255);
        fq_qu8_resize2d_ref(&p, inner, x, want, workspace);
        run_nearest(&p, (size_t)inner, x, got, fq_test_rand_int(0, 1) == 1);
        assert_memory_equal(got, want, ny);
        free(x), free(want), free(got), free(workspace);
    }
}

static void test_upsampling_by_two_is_detected(void **state)
{
    (void)state;
    fq_resize2d_f32_params p = {.mode = FQ_RESIZE_NEAREST, .planes = 1, .in_h = 20,
                                .in_w = 20, .out_h = 40, .out_w = 40, .scale_h = 2.0f,
                                .scale_w = 2.0f, .length_h = 40.0f, .length_w = 40.0f,
                                .coordinates = FQ_RESIZE_ASYMMETRIC,
                                .rounding = FQ_RESIZE_FLOOR};
    int64_t workspace[80];
    fq_resize2d_nearest_plan plan;
    fq_resize2d_nearest_plan_init(&p, 4, workspace, &plan);
    assert_true(plan.doubles_columns);
    p.coordinates = FQ_RESIZE_TF_HALF_PIXEL_FOR_NEAREST;
    p.rounding = FQ_RESIZE_CEIL;
    fq_resize2d_nearest_plan_init(&p, 4, workspace, &plan);
    assert_false(plan.doubles_columns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_copies_equal_the_reference),
        cmocka_unit_test(test_f32_rows_copied_apart_equal_the_reference),
        cmocka_unit_test(test_u8_nhwc_copies_equal_the_reference),
        cmocka_unit_test(test_upsampling_by_two_is_detected),
    };
    return cmocka_run_group_tests_name("resize2d_nearest", tests, NULL, NULL);
}
