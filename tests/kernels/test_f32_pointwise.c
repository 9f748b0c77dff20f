/* The fp32 pointwise driver (kernels/f32_pointwise.h) against the reference convolution:
 * random shapes, every activation, PRELU per channel and shared, fp32 and fp16 weights, one
 * and two threads, under every ISA cap this CPU has; and the convolution plans that take it.
 *
 * Bound: |fast - ref| <= 1e-5 * (sum over terms of |w * x| + |bias|) + 1e-6 per element, the
 * rounding error any summation order (and FMA) may add; a wrong index, tail or block edge gives
 * errors of the order of the terms themselves. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_conv.h"
#include "f32_pointwise.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "ref/f32_conv2d_ref.h"
#include "ref/tensor_cast_ref.h"
#include "runtime/threadpool.h"
#include "test_util.h"

#define TOLERANCE 1e-5

static const fq_epilogue_f32_kind kinds[] = {
    FQ_EPILOGUE_F32_NONE, FQ_EPILOGUE_F32_RELU, FQ_EPILOGUE_F32_CLIP,
    FQ_EPILOGUE_F32_LEAKY_RELU, FQ_EPILOGUE_F32_PRELU, FQ_EPILOGUE_F32_SIGMOID,
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

static const fq_isa caps[] = {FQ_ISA_SCALAR, FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512};
#define N_CAPS ((int)(sizeof(caps) / sizeof(caps[0])))

/* One pointwise case: the convolution, its operands and the slopes its PRELU reads. */
typedef struct pointwise_case {
    fq_conv2d_f32_params p;
    float *x, *w, *bias, *slopes;
    int64_t nx, ny, nw;
} pointwise_case;

static float *random_floats(int64_t n)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = fq_test_rand_float(-1.0f, 1.0f);
    return v;
}

static fq_epilogue_f32 act_of(fq_epilogue_f32_kind kind, const float *slopes, int64_t channels)
{
    fq_epilogue_f32 act = {.kind = kind, .alpha = -0.25f, .beta = 0.5f};
    if (kind == FQ_EPILOGUE_F32_LEAKY_RELU)
        act.alpha = 0.1f;
    if (kind == FQ_EPILOGUE_F32_PRELU) {
        act.slopes = slopes;
        act.slope_count = fq_test_rand_int(0, 1) ? channels : 1;
    }
    return act;
}

static pointwise_case make_case(int64_t cin, int64_t cout, int64_t h, int64_t w,
                                fq_epilogue_f32_kind kind)
{
    pointwise_case c = {.p = {.batch = 1, .in_channels = cin, .in_h = h, .in_w = w,
                              .out_channels = cout, .out_h = h, .out_w = w, .kernel_h = 1,
                              .kernel_w = 1, .stride_h = 1, .stride_w = 1, .dilation_h = 1,
                              .dilation_w = 1, .groups = 1}};
    c.nx = cin * h * w;
    c.ny = cout * h * w;
    c.nw = cout * cin;
    c.x = random_floats(c.nx);
    c.w = random_floats(c.nw);
    c.bias = random_floats(cout);
    c.slopes = random_floats(cout);
    c.p.act = act_of(kind, c.slopes, cout);
    return c;
}

static pointwise_case random_case(int64_t max_side)
{
    int64_t side = fq_test_rand_int(1, (int)max_side);
    int64_t other = fq_test_rand_int(0, 1) ? side : fq_test_rand_int(1, (int)max_side);
    return make_case(fq_test_rand_int(1, 67), fq_test_rand_int(1, 67), side, other,
                     kinds[fq_test_rand_int(0, N_KINDS - 1)]);
}

static void free_case(pointwise_case *c)
{
    free(c->x), free(c->w), free(c->bias), free(c->slopes);
}

/* Runs c's plan (fp16 weights when w16 is set) with `threads` threads into a new buffer. */
static float *run_plan(const pointwise_case *c, const uint16_t *w16, fq_isa cap, int threads,
                       char *name, size_t name_size)
{
    fq_threadpool *pool;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(threads, &pool, &err), FQ_OK);
    fq_f32_conv_plan *plan;
    fq_status status = w16 != NULL
        ? fq_f32_conv_plan_create_f16(&c->p, w16, c->bias, cap, threads, &plan, &err)
        : fq_f32_conv_plan_create(&c->p, c->w, c->bias, cap, threads, &plan, &err);
    assert_int_equal(status, FQ_OK);
    assert_non_null(strstr(plan->name, "+blocks"));
    float *y = calloc((size_t)c->ny, sizeof(float));
    void *ws = fq_malloc_aligned(plan->workspace + 64);
    assert_non_null(y);
    assert_non_null(ws);
    fq_f32_conv_run(plan, c->x, c->p.act.slopes, c->p.act.slope_count, y, ws, pool);
    snprintf(name, name_size, "%s", plan->name);
    fq_free_aligned(ws);
    fq_f32_conv_plan_free(plan);
    fq_threadpool_free(pool);
    return y;
}

/* Runs the driver itself on c with cap's kernel for c's rows (fp16 weights when w16 is set)
 * and `threads` threads, into a new buffer. */
static float *run_driver(const pointwise_case *c, const uint16_t *w16, fq_isa cap, int threads,
                         char *name, size_t name_size)
{
    fq_threadpool *pool;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(threads, &pool, &err), FQ_OK);
    int64_t m = c->p.out_channels, k = c->p.in_channels, pixels = c->p.in_h * c->p.in_w;
    const fq_f32_gemm_kernel *kernel = w16 != NULL ? fq_f32_gemm_select_rows_f16w(cap, m)
                                                   : fq_f32_gemm_select_rows(cap, m);
    fq_f32_gemm_packed packed;
    fq_status status = w16 != NULL
        ? fq_f32_gemm_pack_f16(kernel, m, k, w16, k, c->bias, &packed, &err)
        : fq_f32_gemm_pack(kernel, m, k, c->w, k, c->bias, 1.0f, &packed, &err);
    assert_int_equal(status, FQ_OK);
    float *y = calloc((size_t)c->ny, sizeof(float));
    void *ws = fq_malloc_aligned(fq_f32_pointwise_workspace_size(kernel, k, threads) + 64);
    assert_non_null(y);
    assert_non_null(ws);
    fq_f32_pointwise_run(kernel, &packed, pixels, c->x, y, &c->p.act, ws, threads, pool);
    snprintf(name, name_size, "%s", w16 != NULL ? kernel->name_f16w : kernel->name);
    fq_free_aligned(ws);
    fq_f32_gemm_packed_free(&packed);
    fq_threadpool_free(pool);
    return y;
}

/* The reference output with weights w, and each element's error bound. */
static void reference(const pointwise_case *c, const float *w, float *want, float *bound)
{
    fq_conv2d_f32_params a = c->p;
    fq_ref_conv2d_f32(&c->p, c->x, w, c->bias, want, NULL);
    a.act.kind = FQ_EPILOGUE_F32_NONE;
    float *ax = malloc((size_t)c->nx * 4), *aw = malloc((size_t)c->nw * 4);
    float *ab = malloc((size_t)c->p.out_channels * 4);
    for (int64_t i = 0; i < c->nx; i++)
        ax[i] = fabsf(c->x[i]);
    for (int64_t i = 0; i < c->nw; i++)
        aw[i] = fabsf(w[i]);
    for (int64_t i = 0; i < c->p.out_channels; i++)
        ab[i] = fabsf(c->bias[i]);
    fq_ref_conv2d_f32(&a, ax, aw, ab, bound, NULL);
    free(ax), free(aw), free(ab);
}

static void expect_close(const pointwise_case *c, const float *got, const float *w,
                         const char *name)
{
    float *want = malloc((size_t)c->ny * 4), *bound = malloc((size_t)c->ny * 4);
    reference(c, w, want, bound);
    for (int64_t i = 0; i < c->ny; i++) {
        double limit = TOLERANCE * bound[i] + 1e-6;
        if (!(fabs((double)got[i] - want[i]) <= limit))
            fail_msg("%s: %lld -> %lld channels at %lldx%lld, act %d: element %lld is %.9g, "
                     "the reference %.9g (bound %.3g)", name, (long long)c->p.in_channels,
                     (long long)c->p.out_channels, (long long)c->p.in_h, (long long)c->p.in_w,
                     c->p.act.kind, (long long)i, got[i], want[i], limit);
    }
    free(want), free(bound);
}

static void test_pointwise_driver_matches_the_reference_on_random_shapes(void **state)
{
    (void)state;
    fq_test_seed(61);
    for (int i = 0; i < N_CAPS; i++) {
        if (!fq_isa_supported(caps[i])) {
            printf("skipping cap %s: this CPU lacks it\n", fq_isa_name(caps[i]));
            continue;
        }
        for (int t = 0; t < fq_test_cases(40); t++) {
            pointwise_case c = random_case(67);
            char name[64];
            float *y = run_driver(&c, NULL, caps[i], 1, name, sizeof(name));
            expect_close(&c, y, c.w, name);
            free(y);
            free_case(&c);
        }
    }
}

/* A plane this large takes the driver in a convolution plan, with the plan's workspace. */
static void test_pointwise_plan_on_a_160x160_plane_uses_the_driver_and_matches(void **state)
{
    (void)state;
    fq_test_seed(62);
    pointwise_case c = make_case(16, 24, 160, 160, FQ_EPILOGUE_F32_PRELU);
    c.p.act.slope_count = c.p.out_channels;
    char name[64];
    float *one = run_plan(&c, NULL, FQ_ISA_AVX512, 1, name, sizeof(name));
    float *two = run_plan(&c, NULL, FQ_ISA_AVX512, 2, name, sizeof(name));
    expect_close(&c, one, c.w, name);
    assert_memory_equal(one, two, (size_t)c.ny * sizeof(float));
    free(one), free(two);
    free_case(&c);
}

static void test_pointwise_plan_on_a_small_plane_reads_the_input_in_place(void **state)
{
    (void)state;
    fq_test_seed(66);
    pointwise_case c = make_case(16, 24, 40, 40, FQ_EPILOGUE_F32_RELU);
    fq_f32_conv_plan *plan;
    fq_error err = {0};
    assert_int_equal(fq_f32_conv_plan_create(&c.p, c.w, c.bias, FQ_ISA_AVX512, 1, &plan, &err),
                     FQ_OK);
    assert_null(strstr(plan->name, "+blocks"));
    fq_f32_conv_plan_free(plan);
    free_case(&c);
}

/* 300 input channels: more than one depth block of every kernel (kc 256). */
static void test_pointwise_driver_sums_depth_blocks_in_order(void **state)
{
    (void)state;
    fq_test_seed(63);
    pointwise_case c = make_case(300, 20, 9, 37, FQ_EPILOGUE_F32_RELU);
    char name[64];
    float *y = run_driver(&c, NULL, FQ_ISA_AVX512, 1, name, sizeof(name));
    expect_close(&c, y, c.w, name);
    free(y);
    free_case(&c);
}

static void test_pointwise_driver_outputs_are_identical_for_one_and_two_threads(void **state)
{
    (void)state;
    fq_test_seed(64);
    for (int t = 0; t < fq_test_cases(12); t++) {
        pointwise_case c = t == 0 ? make_case(16, 16, 67, 67, FQ_EPILOGUE_F32_RELU)
                                  : random_case(67);
        char name[64];
        float *one = run_driver(&c, NULL, FQ_ISA_AVX512, 1, name, sizeof(name));
        float *two = run_driver(&c, NULL, FQ_ISA_AVX512, 2, name, sizeof(name));
        if (memcmp(one, two, (size_t)c.ny * sizeof(float)) != 0)
            fail_msg("%s: %lld -> %lld at %lldx%lld differs between 1 and 2 threads", name,
                     (long long)c.p.in_channels, (long long)c.p.out_channels,
                     (long long)c.p.in_h, (long long)c.p.in_w);
        free(one), free(two);
        free_case(&c);
    }
}

/* fp16 weights: the result is that of the fp32 reference on the fp16-rounded weights. */
static void test_pointwise_driver_with_fp16_weights_matches_the_rounded_reference(void **state)
{
    (void)state;
    fq_test_seed(65);
    for (int i = 0; i < N_CAPS; i++) {
        if (!fq_isa_supported(caps[i]))
            continue;
        for (int t = 0; t < fq_test_cases(10); t++) {
            pointwise_case c = random_case(67);
            uint16_t *w16 = malloc((size_t)c.nw * sizeof(uint16_t));
            float *rounded = malloc((size_t)c.nw * sizeof(float));
            for (int64_t j = 0; j < c.nw; j++) {
                w16[j] = fq_f16_from_f32(c.w[j]);
                rounded[j] = fq_f32_from_f16(w16[j]);
            }
            char name[64];
            float *y = run_driver(&c, w16, caps[i], 1, name, sizeof(name));
            expect_close(&c, y, rounded, name);
            free(y), free(w16), free(rounded);
            free_case(&c);
        }
    }
}

static void test_pointwise_blocks_are_whole_tiles_of_every_kernel(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    for (int i = 0; i < count; i++)
        for (int64_t k = 1; k <= 1024; k += 37) {
            int64_t block = fq_f32_pointwise_block(all[i], k);
            assert_true(block >= all[i]->nr);
            assert_int_equal(block % all[i]->nr, 0);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pointwise_driver_matches_the_reference_on_random_shapes),
        cmocka_unit_test(test_pointwise_driver_sums_depth_blocks_in_order),
        cmocka_unit_test(test_pointwise_driver_outputs_are_identical_for_one_and_two_threads),
        cmocka_unit_test(test_pointwise_driver_with_fp16_weights_matches_the_rounded_reference),
        cmocka_unit_test(test_pointwise_plan_on_a_160x160_plane_uses_the_driver_and_matches),
        cmocka_unit_test(test_pointwise_plan_on_a_small_plane_reads_the_input_in_place),
        cmocka_unit_test(test_pointwise_blocks_are_whole_tiles_of_every_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
