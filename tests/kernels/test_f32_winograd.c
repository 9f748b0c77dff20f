/* The Winograd F(4x4, 3x3) path of the fp32 convolution plans (kernels/f32_winograd.h,
 * kernels/f32_conv.h) against the reference convolution: random shapes, pads 0 and 1, every
 * activation, one and two threads, under every ISA cap this CPU has; the transforms of each ISA
 * against the scalar ones; and the shapes that keep their old paths.
 *
 * Bound: |fast - ref| <= 2e-5 * (sum over terms of |w * x| + |bias|) + 1e-6 per element, twice
 * the bound of the direct-sum kernels' tests (1e-5). The transforms with the points 0, +-1, +-2
 * scale terms by up to 25 (B^T), 1/4 (G) and 64 (A^T) before they cancel, which multiplies the
 * rounding error of a direct sum by a small factor; the worst ratio to this bound seen here is
 * about 0.11 (printed by the random-shape test), and a coefficient off by 1e-4 fails it. A wrong
 * tile, edge, element or channel gives errors of the order of the terms themselves. */
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
#include "f32_winograd.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "ref/f32_conv2d_ref.h"
#include "runtime/threadpool.h"
#include "test_util.h"

#define TOLERANCE 2e-5
#define GUARD 64
#define GUARD_VALUE 12345.0f

static const fq_epilogue_f32_kind kinds[] = {
    FQ_EPILOGUE_F32_NONE, FQ_EPILOGUE_F32_RELU, FQ_EPILOGUE_F32_CLIP,
    FQ_EPILOGUE_F32_LEAKY_RELU, FQ_EPILOGUE_F32_PRELU, FQ_EPILOGUE_F32_SIGMOID,
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

static const fq_isa caps[] = {FQ_ISA_SCALAR, FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512};
#define N_CAPS ((int)(sizeof(caps) / sizeof(caps[0])))

/* The worst |fast - ref| / bound seen, for the record. */
static double worst_ratio;

typedef struct conv_case {
    fq_conv2d_f32_params p;
    float *x, *w, *bias, *slopes;
    int64_t nx, ny;
} conv_case;

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

/* A 3x3 stride-1 convolution; the bottom and right pads (0 or 1) follow from pad. */
static conv_case make_case(int64_t cin, int64_t cout, int64_t h, int64_t w, int64_t pad,
                           fq_epilogue_f32_kind kind)
{
    int64_t bottom = pad, right = pad;
    while (h + pad + bottom < 3)
        bottom++;
    while (w + pad + right < 3)
        right++;
    conv_case c = {.p = {.batch = 1, .in_channels = cin, .in_h = h, .in_w = w,
                         .out_channels = cout, .out_h = h + pad + bottom - 2,
                         .out_w = w + pad + right - 2, .kernel_h = 3, .kernel_w = 3,
                         .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
                         .pad_top = pad, .pad_left = pad, .groups = 1}};
    c.nx = cin * h * w;
    c.ny = cout * c.p.out_h * c.p.out_w;
    c.x = random_floats(c.nx);
    c.w = random_floats(cout * cin * 9);
    c.bias = random_floats(cout);
    c.slopes = random_floats(cout);
    c.p.act = act_of(kind, c.slopes, cout);
    return c;
}

/* Channels up to 67 and planes at least 48 wide, where f32_conv.c takes Winograd for
 * in * out >= least * (in + out): least is 8 for AVX-512 and scalar kernels (SSE4.1 ones need
 * only 5 there), 15 for AVX2. */
static conv_case random_case(int64_t max_side, int64_t least)
{
    int64_t in, out;
    do {
        in = fq_test_rand_int(9, 67);
        out = fq_test_rand_int(9, 67);
    } while (in * out < least * (in + out));
    return make_case(in, out, fq_test_rand_int(1, (int)max_side), fq_test_rand_int(50, 61),
                     fq_test_rand_int(0, 1), kinds[fq_test_rand_int(0, N_KINDS - 1)]);
}

/* The best cap whose plans take Winograd: the CPU's own, or scalar where the transforms of its
 * ISA do not exist (NEON). */
static fq_isa winograd_cap(void)
{
    fq_isa transforms = fq_f32_winograd_select(FQ_ISA_AUTO)->isa;
    return transforms == fq_f32_gemm_select(FQ_ISA_AUTO)->isa ? FQ_ISA_AUTO : FQ_ISA_SCALAR;
}

/* The least in * out / (in + out) f32_conv.c takes Winograd for at 48 columns under cap. */
static int64_t least_channels(fq_isa cap)
{
    return fq_f32_winograd_select(cap)->isa == FQ_ISA_AVX2 ? 15 : 8;
}

static void free_case(conv_case *c)
{
    free(c->x), free(c->w), free(c->bias), free(c->slopes);
}

/* Runs c's plan under cap with `threads` threads into a new buffer, GUARD floats past the
 * output checked untouched; the plan's name into name. */
static float *run_plan(const conv_case *c, fq_isa cap, int threads, char *name,
                       size_t name_size)
{
    fq_threadpool *pool;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(threads, &pool, &err), FQ_OK);
    fq_f32_conv_plan *plan;
    assert_int_equal(fq_f32_conv_plan_create(&c->p, c->w, c->bias, cap, threads, &plan, &err),
                     FQ_OK);
    float *y = malloc((size_t)(c->ny + GUARD) * sizeof(float));
    void *ws = fq_malloc_aligned(plan->workspace + 64);
    assert_non_null(y);
    assert_non_null(ws);
    for (int64_t i = 0; i < c->ny + GUARD; i++)
        y[i] = GUARD_VALUE;
    fq_f32_conv_run(plan, c->x, c->p.act.slopes, c->p.act.slope_count, y, ws, pool);
    for (int64_t i = c->ny; i < c->ny + GUARD; i++)
        assert_true(y[i] == GUARD_VALUE);
    snprintf(name, name_size, "%s", plan->name);
    fq_free_aligned(ws);
    fq_f32_conv_plan_free(plan);
    fq_threadpool_free(pool);
    return y;
}

/* The reference output of c, and the bound of each element: the same convolution of |x|, |w|
 * and |bias| without activation. */
static void reference(const conv_case *c, float *want, float *bound)
{
    float *ws = malloc(fq_ref_conv2d_f32_workspace_size(&c->p) + 64);
    int64_t nw = c->p.out_channels * c->p.in_channels * 9;
    float *ax = malloc((size_t)c->nx * sizeof(float)), *aw = malloc((size_t)nw * sizeof(float));
    float *ab = malloc((size_t)c->p.out_channels * sizeof(float));
    assert_non_null(ws);
    fq_ref_conv2d_f32(&c->p, c->x, c->w, c->bias, want, ws);
    for (int64_t i = 0; i < c->nx; i++)
        ax[i] = fabsf(c->x[i]);
    for (int64_t i = 0; i < nw; i++)
        aw[i] = fabsf(c->w[i]);
    for (int64_t i = 0; i < c->p.out_channels; i++)
        ab[i] = fabsf(c->bias[i]);
    fq_conv2d_f32_params plain = c->p;
    plain.act = (fq_epilogue_f32){.kind = FQ_EPILOGUE_F32_NONE};
    fq_ref_conv2d_f32(&plain, ax, aw, ab, bound, ws);
    free(ws), free(ax), free(aw), free(ab);
}

static void check_case(const conv_case *c, fq_isa cap, int threads)
{
    char name[64];
    float *got = run_plan(c, cap, threads, name, sizeof(name));
    float *want = malloc((size_t)c->ny * sizeof(float));
    float *bound = malloc((size_t)c->ny * sizeof(float));
    assert_non_null(strstr(name, "+winograd4x3"));
    reference(c, want, bound);
    for (int64_t i = 0; i < c->ny; i++) {
        double limit = TOLERANCE * bound[i] + 1e-6, error = fabs((double)got[i] - want[i]);
        worst_ratio = error / limit > worst_ratio ? error / limit : worst_ratio;
        if (!(error <= limit))
            fail_msg("%s: %lld -> %lld channels, %lldx%lld pad %lld act %d: element %lld is "
                     "%.9g, the reference %.9g", name, (long long)c->p.in_channels,
                     (long long)c->p.out_channels, (long long)c->p.in_h, (long long)c->p.in_w,
                     (long long)c->p.pad_top, c->p.act.kind, (long long)i, got[i], want[i]);
    }
    free(got), free(want), free(bound);
}

static void test_winograd_plans_match_the_reference_on_random_shapes(void **state)
{
    (void)state;
    fq_test_seed(91);
    int tested = 0;
    for (int k = 0; k < N_CAPS; k++) {
        if (!fq_isa_supported(caps[k])) {
            printf("skipping %s: this CPU lacks it\n", fq_isa_name(caps[k]));
            continue;
        }
        if (fq_f32_winograd_select(caps[k])->isa != fq_f32_gemm_select(caps[k])->isa) {
            printf("skipping %s: no Winograd transforms of its ISA\n", fq_isa_name(caps[k]));
            continue;
        }
        for (int t = 0; t < fq_test_cases(40); t++) {
            conv_case c = random_case(37, least_channels(caps[k]));
            check_case(&c, caps[k], 1);
            free_case(&c);
        }
        tested++;
    }
    printf("worst error / bound: %.3g\n", worst_ratio);
    if (tested == 0)
        skip();
}

/* Every activation on a plane of several bands (64 channels at 72x72: 324 tiles). */
static void test_winograd_applies_every_activation_on_a_large_plane(void **state)
{
    (void)state;
    fq_test_seed(92);
    for (int k = 0; k < N_KINDS; k++) {
        conv_case c = make_case(64, 64, 72, 72, 1, kinds[k]);
        check_case(&c, winograd_cap(), 2);
        free_case(&c);
    }
}

static void test_winograd_results_do_not_depend_on_the_thread_count(void **state)
{
    (void)state;
    fq_test_seed(93);
    for (int t = 0; t < fq_test_cases(12); t++) {
        /* 80 channels at 20x20: 25 tiles, one band, whose steps the threads share. */
        conv_case c = t < 2    ? make_case(24, 40, 80, 80, 1, FQ_EPILOGUE_F32_RELU)
                      : t == 2 ? make_case(80, 80, 20, 20, 1, FQ_EPILOGUE_F32_RELU)
                               : random_case(49, least_channels(winograd_cap()));
        char name[64];
        float *one = run_plan(&c, winograd_cap(), 1, name, sizeof(name));
        float *two = run_plan(&c, winograd_cap(), 2, name, sizeof(name));
        assert_non_null(strstr(name, "+winograd4x3"));
        assert_memory_equal(one, two, (size_t)c.ny * sizeof(float));
        free(one), free(two);
        free_case(&c);
    }
}

/* A batch of two images, each through its own grid of bands. */
static void test_winograd_runs_every_image_of_a_batch(void **state)
{
    (void)state;
    fq_test_seed(94);
    conv_case c = make_case(64, 64, 21, 19, 1, FQ_EPILOGUE_F32_NONE);
    free(c.x);
    c.p.batch = 2;
    c.nx *= 2;
    c.ny *= 2;
    c.x = random_floats(c.nx);
    check_case(&c, winograd_cap(), 2);
    free_case(&c);
}

/* The plan's name for c under cap. */
static void plan_name(const conv_case *c, fq_isa cap, bool f16, char *name, size_t size)
{
    fq_error err = {0};
    fq_f32_conv_plan *plan;
    uint16_t *w16 = calloc((size_t)(c->p.out_channels * c->p.in_channels * 9), 2);
    assert_non_null(w16);
    fq_status status = f16
        ? fq_f32_conv_plan_create_f16(&c->p, w16, c->bias, cap, 1, &plan, &err)
        : fq_f32_conv_plan_create(&c->p, c->w, c->bias, cap, 1, &plan, &err);
    assert_int_equal(status, FQ_OK);
    snprintf(name, size, "%s", plan->name);
    fq_f32_conv_plan_free(plan);
    free(w16);
}

static void test_shapes_outside_the_winograd_rule_keep_their_paths(void **state)
{
    (void)state;
    fq_test_seed(95);
    char name[64];
    conv_case few = make_case(4, 32, 20, 20, 1, FQ_EPILOGUE_F32_NONE);
    plan_name(&few, FQ_ISA_AUTO, false, name, sizeof(name));
    assert_null(strstr(name, "winograd"));
    conv_case half = make_case(32, 32, 20, 20, 1, FQ_EPILOGUE_F32_NONE);
    plan_name(&half, FQ_ISA_AUTO, true, name, sizeof(name));
    assert_null(strstr(name, "winograd"));
    conv_case narrow = make_case(64, 64, 40, 12, 1, FQ_EPILOGUE_F32_NONE);
    plan_name(&narrow, FQ_ISA_AUTO, false, name, sizeof(name));
    assert_null(strstr(name, "winograd"));
    free_case(&narrow);
    half.p.stride_h = half.p.stride_w = 2;
    half.p.out_h = half.p.out_w = 10;
    plan_name(&half, FQ_ISA_AUTO, false, name, sizeof(name));
    assert_null(strstr(name, "winograd"));
    free_case(&few);
    free_case(&half);
}

/* fp16 weights keep the taps path, and the direct plan is its fp32 twin there. */
static void test_direct_plans_of_winograd_shapes_take_the_taps_path(void **state)
{
    (void)state;
    fq_test_seed(97);
    conv_case c = make_case(32, 24, 20, 20, 1, FQ_EPILOGUE_F32_NONE);
    fq_error err = {0};
    fq_f32_conv_plan *plan;
    assert_int_equal(fq_f32_conv_plan_create_direct(&c.p, c.w, c.bias, FQ_ISA_AUTO, 1, &plan,
                                                    &err), FQ_OK);
    assert_int_equal(plan->path, FQ_F32_CONV_TAPS);
    fq_f32_conv_plan_free(plan);
    free_case(&c);
}

/* One set of transforms against the scalar one on random planes and tile ranges: the same
 * arithmetic (FMA aside), so they agree to a few rounding errors. Inputs in [-1, 1] give
 * transformed values of at most 100 (the rows of B^T sum to at most 10 in magnitude), hence
 * the bound 1e-4 = 100 * 1e-6; the outputs are compared relative to their size. */
static void compare_transforms(const fq_f32_winograd_kernel *simd,
                               const fq_f32_winograd_kernel *scalar)
{
    for (int t = 0; t < fq_test_cases(200); t++) {
        int64_t h = fq_test_rand_int(1, 45), w = fq_test_rand_int(1, 45);
        int64_t pad = fq_test_rand_int(0, 1), oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        if (oh < 1 || ow < 1)
            continue;
        fq_f32_winograd_geometry g = {h, w, oh, ow, pad, pad, (ow + 3) / 4};
        int64_t grid = g.tiles_w * ((oh + 3) / 4);
        int64_t t0 = fq_test_rand_int(0, (int)grid - 1);
        int64_t n = fq_test_rand_int(1, (int)(grid - t0));
        float *x = random_floats(h * w), *v1 = calloc((size_t)(36 * n), 4);
        float *v2 = calloc((size_t)(36 * n), 4);
        float *y1 = calloc((size_t)(oh * ow), 4), *y2 = calloc((size_t)(oh * ow), 4);
        scalar->input(&g, x, t0, n, v1, (size_t)n);
        simd->input(&g, x, t0, n, v2, (size_t)n);
        for (int64_t i = 0; i < 36 * n; i++)
            if (!(fabsf(v1[i] - v2[i]) <= 1e-4f))
                fail_msg("%s: transformed input %lld is %.9g, the scalar %.9g (%lldx%lld, tiles "
                         "%lld + %lld)", simd->name, (long long)i, v2[i], v1[i], (long long)h,
                         (long long)w, (long long)t0, (long long)n);
        fq_f32_gemm_params relu = {.kind = FQ_EPILOGUE_F32_RELU};
        scalar->output(&g, v1, (size_t)n, t0, n, 0.5f, &relu, y1);
        simd->output(&g, v1, (size_t)n, t0, n, 0.5f, &relu, y2);
        for (int64_t i = 0; i < oh * ow; i++)
            if (!(fabsf(y1[i] - y2[i]) <= 1e-6f * (1.0f + fabsf(y1[i]))))
                fail_msg("%s: output %lld is %.9g, the scalar %.9g (%lldx%lld, tiles %lld + "
                         "%lld)", simd->name, (long long)i, y2[i], y1[i], (long long)h,
                         (long long)w, (long long)t0, (long long)n);
        free(x), free(v1), free(v2), free(y1), free(y2);
    }
}

static void test_simd_transforms_match_the_scalar_ones(void **state)
{
    (void)state;
    fq_test_seed(96);
    const fq_f32_winograd_kernel *scalar = fq_f32_winograd_select(FQ_ISA_SCALAR);
    int tested = 0;
    for (int k = 0; k < N_CAPS; k++) {
        const fq_f32_winograd_kernel *simd = fq_f32_winograd_select(caps[k]);
        if (simd->isa != caps[k] || simd->isa == FQ_ISA_SCALAR) {
            printf("skipping %s: no Winograd transforms of it run here\n",
                   fq_isa_name(caps[k]));
            continue;
        }
        compare_transforms(simd, scalar);
        tested++;
    }
    if (tested == 0)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winograd_plans_match_the_reference_on_random_shapes),
        cmocka_unit_test(test_winograd_applies_every_activation_on_a_large_plane),
        cmocka_unit_test(test_winograd_results_do_not_depend_on_the_thread_count),
        cmocka_unit_test(test_winograd_runs_every_image_of_a_batch),
        cmocka_unit_test(test_shapes_outside_the_winograd_rule_keep_their_paths),
        cmocka_unit_test(test_direct_plans_of_winograd_shapes_take_the_taps_path),
        cmocka_unit_test(test_simd_transforms_match_the_scalar_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
