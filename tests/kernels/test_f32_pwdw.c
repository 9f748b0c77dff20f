/* The fused pointwise -> depthwise 3x3 driver (kernels/f32_pwdw.h) against the two plans of
 * f32_conv.h run one after the other: random shapes (channels 1..67, sides 1..40, strides 1
 * and 2, pads 0 and 1), every fused activation on both sides, PRELU per channel and shared,
 * one and two threads, band buffers from the default down to one output row per band, under
 * every ISA cap with a depthwise SIMD kernel that this CPU has; with a max pool joined, against
 * the three kernels. The outputs must be equal bit for bit: the driver runs the same kernels
 * on the same values in the same order. And the pairs and pools it must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_conv.h"
#include "f32_pwdw.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "ref/tensor_cast_ref.h"
#include "runtime/threadpool.h"
#include "test_util.h"

static const fq_epilogue_f32_kind kinds[] = {
    FQ_EPILOGUE_F32_NONE, FQ_EPILOGUE_F32_RELU, FQ_EPILOGUE_F32_CLIP,
    FQ_EPILOGUE_F32_LEAKY_RELU, FQ_EPILOGUE_F32_PRELU,
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

static const fq_isa caps[] = {FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512, FQ_ISA_NEON};
#define N_CAPS ((int)(sizeof(caps) / sizeof(caps[0])))

/* One pair: the two convolutions, their weights, biases and PRELU slopes, and the input. */
typedef struct pair_case {
    fq_conv2d_f32_params pw, dw;
    float *x, *pw_w, *pw_b, *pw_slopes, *dw_w, *dw_b, *dw_slopes;
    int64_t nx, ny;
} pair_case;

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

static fq_conv2d_f32_params pointwise_params(int64_t cin, int64_t cmid, int64_t h, int64_t w)
{
    return (fq_conv2d_f32_params){.batch = 1, .in_channels = cin, .in_h = h, .in_w = w,
                                  .out_channels = cmid, .out_h = h, .out_w = w, .kernel_h = 1,
                                  .kernel_w = 1, .stride_h = 1, .stride_w = 1,
                                  .dilation_h = 1, .dilation_w = 1, .groups = 1};
}

/* A depthwise 3x3 over c channels of h x w with stride s and the given pads. */
static fq_conv2d_f32_params depthwise_params(int64_t c, int64_t h, int64_t w, int64_t s,
                                             int64_t top, int64_t bottom, int64_t left,
                                             int64_t right)
{
    return (fq_conv2d_f32_params){.batch = 1, .in_channels = c, .in_h = h, .in_w = w,
                                  .out_channels = c, .out_h = (h + top + bottom - 3) / s + 1,
                                  .out_w = (w + left + right - 3) / s + 1, .kernel_h = 3,
                                  .kernel_w = 3, .stride_h = s, .stride_w = s,
                                  .dilation_h = 1, .dilation_w = 1, .pad_top = top,
                                  .pad_left = left, .groups = c};
}

static pair_case make_batch_case(int64_t batch, int64_t cin, int64_t cmid, int64_t h,
                                 int64_t w, int64_t s, const int64_t pads[4])
{
    pair_case c = {.pw = pointwise_params(cin, cmid, h, w),
                   .dw = depthwise_params(cmid, h, w, s, pads[0], pads[1], pads[2], pads[3])};
    c.pw.batch = c.dw.batch = batch;
    c.nx = batch * cin * h * w;
    c.ny = batch * cmid * c.dw.out_h * c.dw.out_w;
    c.x = random_floats(c.nx);
    c.pw_w = random_floats(cin * cmid);
    c.pw_b = random_floats(cmid);
    c.pw_slopes = random_floats(cmid);
    c.dw_w = random_floats(cmid * 9);
    c.dw_b = random_floats(cmid);
    c.dw_slopes = random_floats(cmid);
    c.pw.act = act_of(kinds[fq_test_rand_int(0, N_KINDS - 1)], c.pw_slopes, cmid);
    c.dw.act = act_of(kinds[fq_test_rand_int(0, N_KINDS - 1)], c.dw_slopes, cmid);
    return c;
}

static pair_case make_case(int64_t cin, int64_t cmid, int64_t h, int64_t w, int64_t s,
                           const int64_t pads[4])
{
    return make_batch_case(1, cin, cmid, h, w, s, pads);
}

/* Sides 1..max_side with pads 0 or 1 that leave at least one output row and column. */
static pair_case random_case(int max_side)
{
    int64_t s = fq_test_rand_int(1, 2), pads[4];
    int64_t h, w;
    do {
        h = fq_test_rand_int(1, max_side);
        w = fq_test_rand_int(0, 1) ? h : fq_test_rand_int(1, max_side);
        for (int i = 0; i < 4; i++)
            pads[i] = fq_test_rand_int(0, 1);
    } while (h + pads[0] + pads[1] < 3 || w + pads[2] + pads[3] < 3);
    return make_case(fq_test_rand_int(1, 67), fq_test_rand_int(1, 67), h, w, s, pads);
}

static void free_case(pair_case *c)
{
    free(c->x), free(c->pw_w), free(c->pw_b), free(c->pw_slopes);
    free(c->dw_w), free(c->dw_b), free(c->dw_slopes);
}

/* The two plans of a case, made for `threads` threads (fp16 pointwise weights if w16). */
typedef struct pair_plans {
    fq_f32_conv_plan *pw, *dw;
} pair_plans;

static pair_plans make_plans(const pair_case *c, fq_isa cap, int threads, const uint16_t *w16)
{
    pair_plans plans;
    fq_error err = {0};
    fq_status status = w16 != NULL
        ? fq_f32_conv_plan_create_f16(&c->pw, w16, c->pw_b, cap, threads, &plans.pw, &err)
        : fq_f32_conv_plan_create(&c->pw, c->pw_w, c->pw_b, cap, threads, &plans.pw, &err);
    assert_int_equal(status, FQ_OK);
    assert_int_equal(fq_f32_conv_plan_create(&c->dw, c->dw_w, c->dw_b, cap, threads, &plans.dw,
                                             &err), FQ_OK);
    return plans;
}

static void free_plans(pair_plans *plans)
{
    fq_f32_conv_plan_free(plans->pw);
    fq_f32_conv_plan_free(plans->dw);
}

/* The two plans one after the other, through a middle tensor in memory. */
static float *run_unfused(const pair_case *c, const pair_plans *plans, fq_threadpool *pool)
{
    int64_t middle = c->pw.batch * c->pw.out_channels * c->pw.out_h * c->pw.out_w;
    float *mid = malloc((size_t)middle * sizeof(float));
    float *y = calloc((size_t)c->ny, sizeof(float));
    size_t ws_bytes = plans->pw->workspace > plans->dw->workspace ? plans->pw->workspace
                                                                  : plans->dw->workspace;
    void *ws = fq_malloc_aligned(ws_bytes + 64);
    assert_non_null(mid);
    assert_non_null(y);
    assert_non_null(ws);
    fq_f32_conv_run(plans->pw, c->x, c->pw.act.slopes, c->pw.act.slope_count, mid, ws, pool);
    fq_f32_conv_run(plans->dw, mid, c->dw.act.slopes, c->dw.act.slope_count, y, ws, pool);
    fq_free_aligned(ws);
    free(mid);
    return y;
}

/* The fused driver over the same plans, band buffers of band_bytes (0: the default). */
static float *run_fused(const pair_case *c, const pair_plans *plans, int threads,
                        size_t band_bytes, fq_threadpool *pool)
{
    fq_f32_pwdw_plan fused;
    fq_error err = {0};
    assert_int_equal(fq_f32_pwdw_plan_init(&fused, plans->pw, plans->dw, threads, band_bytes,
                                           &err), FQ_OK);
    float *y = calloc((size_t)c->ny, sizeof(float));
    void *ws = fq_malloc_aligned(fused.workspace);
    assert_non_null(y);
    assert_non_null(ws);
    fq_f32_pwdw_run(&fused, c->x, c->pw.act.slopes, c->pw.act.slope_count, c->dw.act.slopes,
                    c->dw.act.slope_count, y, ws, pool);
    fq_free_aligned(ws);
    return y;
}

static void expect_identical(const pair_case *c, const float *want, const float *got,
                             const char *what)
{
    for (int64_t i = 0; i < c->ny; i++)
        if (memcmp(&want[i], &got[i], sizeof(float)) != 0)
            fail_msg("%s: %lld -> %lld channels at %lldx%lld, stride %lld, pads %lld/%lld, acts "
                     "%d/%d: element %lld is %.9g, unfused %.9g", what,
                     (long long)c->pw.in_channels, (long long)c->pw.out_channels,
                     (long long)c->pw.in_h, (long long)c->pw.in_w, (long long)c->dw.stride_h,
                     (long long)c->dw.pad_top, (long long)c->dw.pad_left, c->pw.act.kind,
                     c->dw.act.kind, (long long)i, got[i], want[i]);
}

/* Fused with `threads` threads and each band size equals unfused, bit for bit. */
static void check_case(const pair_case *c, fq_isa cap, int threads, const uint16_t *w16)
{
    static const size_t band_bytes[] = {0, 1, 16 * 1024};
    fq_threadpool *pool;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(threads, &pool, &err), FQ_OK);
    pair_plans plans = make_plans(c, cap, threads, w16);
    assert_true(fq_f32_pwdw_applies(plans.pw, plans.dw));
    float *want = run_unfused(c, &plans, pool);
    for (size_t b = 0; b < sizeof(band_bytes) / sizeof(band_bytes[0]); b++) {
        float *got = run_fused(c, &plans, threads, band_bytes[b], pool);
        char what[160];
        snprintf(what, sizeof(what), "%s + %s, %d threads, bands of %zu bytes", plans.pw->name,
                 plans.dw->name, threads, band_bytes[b]);
        expect_identical(c, want, got, what);
        free(got);
    }
    free(want);
    free_plans(&plans);
    fq_threadpool_free(pool);
}

/* A k x k max pool at stride k, unpadded, over the depthwise output of c. */
static fq_pool2d_f32_params pool_params(const pair_case *c, int64_t k)
{
    return (fq_pool2d_f32_params){.planes = c->dw.batch * c->dw.out_channels,
                                  .in_h = c->dw.out_h, .in_w = c->dw.out_w,
                                  .out_h = c->dw.out_h / k, .out_w = c->dw.out_w / k,
                                  .kernel_h = k, .kernel_w = k, .stride_h = k, .stride_w = k,
                                  .dilation_h = 1, .dilation_w = 1};
}

/* The pair unfused, then the max pool kernel over every plane. */
static float *run_unfused_pooled(const pair_case *c, const pair_plans *plans,
                                 const fq_f32_maxpool_kernel *kernel,
                                 const fq_pool2d_f32_params *pp, fq_threadpool *pool)
{
    float *dw = run_unfused(c, plans, pool);
    float *y = calloc((size_t)(pp->planes * pp->out_h * pp->out_w), sizeof(float));
    assert_non_null(y);
    for (int64_t i = 0; i < pp->planes; i++)
        kernel->ukernel(pp, dw + i * pp->in_h * pp->in_w, y + i * pp->out_h * pp->out_w);
    free(dw);
    return y;
}

static float *run_fused_pooled(const pair_case *c, const pair_plans *plans, int threads,
                               size_t band_bytes, const fq_f32_maxpool_kernel *kernel,
                               const fq_pool2d_f32_params *pp, fq_threadpool *pool)
{
    fq_f32_pwdw_plan fused;
    fq_error err = {0};
    assert_int_equal(fq_f32_pwdw_plan_init(&fused, plans->pw, plans->dw, threads, band_bytes,
                                           &err), FQ_OK);
    assert_true(fq_f32_pwdw_maxpool_applies(&fused, kernel, pp));
    assert_int_equal(fq_f32_pwdw_plan_add_maxpool(&fused, kernel, pp, &err), FQ_OK);
    assert_non_null(strstr(fused.name, "+maxpool"));
    float *y = calloc((size_t)(pp->planes * pp->out_h * pp->out_w), sizeof(float));
    void *ws = fq_malloc_aligned(fused.workspace);
    assert_non_null(y);
    assert_non_null(ws);
    fq_f32_pwdw_run(&fused, c->x, c->pw.act.slopes, c->pw.act.slope_count, c->dw.act.slopes,
                    c->dw.act.slope_count, y, ws, pool);
    fq_free_aligned(ws);
    return y;
}

/* Fused with a k x k max pool equals the three kernels one after the other, bit for bit, with
 * `threads` threads and each band size. */
static void check_pooled_case(const pair_case *c, int64_t k, int threads)
{
    static const size_t band_bytes[] = {0, 1, 16 * 1024};
    fq_threadpool *pool;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(threads, &pool, &err), FQ_OK);
    pair_plans plans = make_plans(c, FQ_ISA_AVX512, threads, NULL);
    fq_pool2d_f32_params pp = pool_params(c, k);
    const fq_f32_maxpool_kernel *kernel = fq_f32_maxpool_select(FQ_ISA_AVX512, &pp);
    assert_non_null(kernel);
    float *want = run_unfused_pooled(c, &plans, kernel, &pp, pool);
    for (size_t b = 0; b < sizeof(band_bytes) / sizeof(band_bytes[0]); b++) {
        float *got = run_fused_pooled(c, &plans, threads, band_bytes[b], kernel, &pp, pool);
        for (int64_t i = 0; i < pp.planes * pp.out_h * pp.out_w; i++)
            if (memcmp(&want[i], &got[i], sizeof(float)) != 0)
                fail_msg("%lld -> %lld channels at %lldx%lld, stride %lld, pool %lld, %d "
                         "threads, bands of %zu bytes: element %lld is %.9g, unfused %.9g",
                         (long long)c->pw.in_channels, (long long)c->pw.out_channels,
                         (long long)c->pw.in_h, (long long)c->pw.in_w,
                         (long long)c->dw.stride_h, (long long)k, threads, band_bytes[b],
                         (long long)i, got[i], want[i]);
        free(got);
    }
    free(want);
    free_plans(&plans);
    fq_threadpool_free(pool);
}

/* The CPU has cap and cap has depthwise 3x3 kernels of its own (ARMv7 NEON has none). */
static bool cap_runs_here(fq_isa cap)
{
    if (!fq_isa_supported(cap)) {
        printf("skipping cap %s: this CPU lacks it\n", fq_isa_name(cap));
        return false;
    }
    const fq_f32_dwconv_kernel *dw = fq_f32_dwconv_select(cap, 1);
    if (dw == NULL || dw->isa != cap) {
        printf("skipping cap %s: it has no depthwise 3x3 kernel\n", fq_isa_name(cap));
        return false;
    }
    return true;
}

static void test_fused_pair_equals_the_two_plans_on_random_shapes(void **state)
{
    (void)state;
    fq_test_seed(71);
    int ran = 0;
    for (int i = 0; i < N_CAPS; i++) {
        if (!cap_runs_here(caps[i]))
            continue;
        for (int t = 0; t < fq_test_cases(30); t++, ran++) {
            pair_case c = random_case(40);
            check_case(&c, caps[i], 1, NULL);
            check_case(&c, caps[i], 2, NULL);
            free_case(&c);
        }
    }
    if (ran == 0)
        skip();
}

/* On planes of 130 x 130 the unfused pointwise plan runs the column-block driver
 * (f32_pointwise.h) and the fused one reads X in place: the same sums, the same bits. */
static void test_fused_pair_equals_the_two_plans_on_a_large_plane(void **state)
{
    (void)state;
    fq_test_seed(72);
    if (!cap_runs_here(FQ_ISA_AVX512))
        skip();
    for (int64_t s = 1; s <= 2; s++) {
        const int64_t pads[4] = {1, 1, 1, 1};
        pair_case c = make_case(5, 19, 130, 130, s, pads);
        check_case(&c, FQ_ISA_AVX512, 1, NULL);
        check_case(&c, FQ_ISA_AVX512, 2, NULL);
        free_case(&c);
    }
}

/* 300 input channels: more than one depth block (kc 256) of the GEMM kernels, on a plane the
 * unfused 1x1 plan reads in place and on one it packs in blocks. */
static void test_fused_pair_equals_the_two_plans_over_several_depth_blocks(void **state)
{
    (void)state;
    fq_test_seed(75);
    if (!cap_runs_here(FQ_ISA_AVX2))
        skip();
    const int64_t pads[4] = {1, 1, 1, 1};
    pair_case small = make_case(300, 9, 19, 23, 1, pads);
    pair_case large = make_case(300, 3, 128, 129, 2, pads);
    check_case(&small, FQ_ISA_AUTO, 1, NULL);
    check_case(&small, FQ_ISA_AUTO, 2, NULL);
    check_case(&large, FQ_ISA_AUTO, 2, NULL);
    free_case(&small);
    free_case(&large);
}

static void test_fused_pair_equals_the_two_plans_on_a_batch_of_three(void **state)
{
    (void)state;
    fq_test_seed(74);
    if (!cap_runs_here(FQ_ISA_SSE41))
        skip();
    for (int64_t s = 1; s <= 2; s++) {
        const int64_t pads[4] = {1, 0, 0, 1};
        pair_case c = make_batch_case(3, 7, 13, 17, 11, s, pads);
        check_case(&c, FQ_ISA_AUTO, 1, NULL);
        check_case(&c, FQ_ISA_AUTO, 2, NULL);
        free_case(&c);
    }
}

static void test_fused_pair_equals_the_two_plans_with_fp16_pointwise_weights(void **state)
{
    (void)state;
    fq_test_seed(73);
    if (!cap_runs_here(FQ_ISA_AVX2))
        skip();
    for (int t = 0; t < fq_test_cases(10); t++) {
        pair_case c = random_case(24);
        int64_t n = c.pw.in_channels * c.pw.out_channels;
        uint16_t *w16 = malloc((size_t)n * sizeof(uint16_t));
        assert_non_null(w16);
        for (int64_t i = 0; i < n; i++)
            w16[i] = fq_f16_from_f32(c.pw_w[i]);
        check_case(&c, FQ_ISA_AVX2, 1, w16);
        check_case(&c, FQ_ISA_AVX2, 2, w16);
        free(w16);
        free_case(&c);
    }
}

/* Whether the pair of c, with plans under cap, is accepted. */
/* Random pairs whose depthwise output sides are even, under a 2 x 2 pool. */
static void test_fused_pair_with_a_max_pool_equals_the_three_kernels(void **state)
{
    (void)state;
    fq_test_seed(77);
    if (!cap_runs_here(FQ_ISA_AVX512))
        skip();
    for (int t = 0; t < fq_test_cases(24); t++) {
        int64_t k = 2, s = fq_test_rand_int(1, 2), h, w;
        const int64_t pads[4] = {1, 1, 1, 1};
        do {
            h = fq_test_rand_int(2, 40);
            w = fq_test_rand_int(2, 40);
        } while (((h - 1) / s + 1) % k != 0 || ((w - 1) / s + 1) % k != 0);
        pair_case c = make_batch_case(fq_test_rand_int(1, 2), fq_test_rand_int(1, 67),
                                      fq_test_rand_int(1, 67), h, w, s, pads);
        check_pooled_case(&c, k, 1);
        check_pooled_case(&c, k, 2);
        free_case(&c);
    }
}

/* Pools whose windows overlap, are padded or do not tile the depthwise output are refused. */
static void test_max_pool_that_does_not_tile_the_output_is_refused(void **state)
{
    (void)state;
    fq_test_seed(78);
    if (!cap_runs_here(FQ_ISA_AVX512))
        skip();
    const int64_t pads[4] = {1, 1, 1, 1};
    pair_case c = make_case(8, 16, 12, 12, 1, pads);
    pair_plans plans = make_plans(&c, FQ_ISA_AVX512, 1, NULL);
    fq_f32_pwdw_plan fused;
    fq_error err = {0};
    assert_int_equal(fq_f32_pwdw_plan_init(&fused, plans.pw, plans.dw, 1, 0, &err), FQ_OK);
    fq_pool2d_f32_params good = pool_params(&c, 2);
    const fq_f32_maxpool_kernel *kernel = fq_f32_maxpool_select(FQ_ISA_AVX512, &good);
    assert_true(fq_f32_pwdw_maxpool_applies(&fused, kernel, &good));
    fq_pool2d_f32_params overlapping = good, padded = good, untiled = good;
    overlapping.kernel_h = overlapping.kernel_w = 3;
    padded.pad_top = 1;
    untiled.out_h = untiled.out_w = 5;
    assert_false(fq_f32_pwdw_maxpool_applies(&fused, kernel, &overlapping));
    assert_false(fq_f32_pwdw_maxpool_applies(&fused, kernel, &padded));
    assert_false(fq_f32_pwdw_maxpool_applies(&fused, kernel, &untiled));
    assert_int_equal(fq_f32_pwdw_plan_add_maxpool(&fused, kernel, &padded, &err),
                     FQ_ERR_UNSUPPORTED);
    free_plans(&plans);
    free_case(&c);
}

static bool pair_applies(const pair_case *c, fq_isa cap)
{
    pair_plans plans = make_plans(c, cap, 1, NULL);
    bool applies = fq_f32_pwdw_applies(plans.pw, plans.dw);
    fq_f32_pwdw_plan fused;
    fq_error err = {0};
    fq_status status = fq_f32_pwdw_plan_init(&fused, plans.pw, plans.dw, 1, 0, &err);
    assert_int_equal(status, applies ? FQ_OK : FQ_ERR_UNSUPPORTED);
    free_plans(&plans);
    return applies;
}

static pair_case plain_case(void)
{
    const int64_t pads[4] = {1, 1, 1, 1};
    pair_case c = make_case(8, 16, 12, 12, 1, pads);
    c.pw.act.kind = FQ_EPILOGUE_F32_NONE;
    c.dw.act.kind = FQ_EPILOGUE_F32_RELU;
    return c;
}

static void test_plain_pair_is_accepted(void **state)
{
    (void)state;
    if (!cap_runs_here(FQ_ISA_SSE41))
        skip();
    pair_case c = plain_case();
    assert_true(pair_applies(&c, FQ_ISA_AUTO));
    free_case(&c);
}

static void test_pair_pays_from_a_middle_tensor_of_a_mebibyte(void **state)
{
    (void)state;
    if (!cap_runs_here(FQ_ISA_SSE41))
        skip();
    const int64_t pads[4] = {1, 1, 1, 1};
    pair_case small = make_case(4, 16, 127, 128, 1, pads);
    pair_case large = make_case(4, 16, 128, 128, 1, pads);
    pair_plans a = make_plans(&small, FQ_ISA_AUTO, 1, NULL);
    pair_plans b = make_plans(&large, FQ_ISA_AUTO, 1, NULL);
    assert_true(fq_f32_pwdw_applies(a.pw, a.dw));
    assert_false(fq_f32_pwdw_pays(a.pw, a.dw));
    assert_true(fq_f32_pwdw_pays(b.pw, b.dw));
    free_plans(&a);
    free_plans(&b);
    free_case(&small);
    free_case(&large);
}

static void test_sigmoid_on_either_side_is_refused(void **state)
{
    (void)state;
    pair_case c = plain_case();
    c.dw.act.kind = FQ_EPILOGUE_F32_SIGMOID;
    assert_false(pair_applies(&c, FQ_ISA_AUTO));
    c.dw.act.kind = FQ_EPILOGUE_F32_RELU;
    c.pw.act.kind = FQ_EPILOGUE_F32_SIGMOID;
    assert_false(pair_applies(&c, FQ_ISA_AUTO));
    free_case(&c);
}

static void test_depthwise_without_a_simd_kernel_is_refused(void **state)
{
    (void)state;
    pair_case c = plain_case();
    assert_false(pair_applies(&c, FQ_ISA_SCALAR));
    free_case(&c);
}

static void test_dilated_depthwise_is_refused(void **state)
{
    (void)state;
    pair_case c = plain_case();
    c.dw.dilation_h = c.dw.dilation_w = 2;
    c.dw.out_h = c.dw.out_w = 10;
    assert_false(pair_applies(&c, FQ_ISA_AUTO));
    free_case(&c);
}

static void test_grouped_pointwise_is_refused(void **state)
{
    (void)state;
    pair_case c = plain_case();
    c.pw.groups = 2;
    assert_false(pair_applies(&c, FQ_ISA_AUTO));
    free_case(&c);
}

static void test_depthwise_not_reading_the_pointwise_output_is_refused(void **state)
{
    (void)state;
    const int64_t pads[4] = {1, 1, 1, 1};
    pair_case c = make_case(8, 16, 12, 12, 1, pads);
    pair_case other = make_case(8, 16, 10, 12, 1, pads);
    pair_plans a = make_plans(&c, FQ_ISA_AUTO, 1, NULL);
    pair_plans b = make_plans(&other, FQ_ISA_AUTO, 1, NULL);
    assert_false(fq_f32_pwdw_applies(a.pw, b.dw));
    assert_false(fq_f32_pwdw_applies(a.dw, a.pw));
    free_plans(&a);
    free_plans(&b);
    free_case(&c);
    free_case(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_pair_equals_the_two_plans_on_random_shapes),
        cmocka_unit_test(test_fused_pair_equals_the_two_plans_on_a_large_plane),
        cmocka_unit_test(test_fused_pair_equals_the_two_plans_over_several_depth_blocks),
        cmocka_unit_test(test_fused_pair_equals_the_two_plans_on_a_batch_of_three),
        cmocka_unit_test(test_fused_pair_equals_the_two_plans_with_fp16_pointwise_weights),
        cmocka_unit_test(test_fused_pair_with_a_max_pool_equals_the_three_kernels),
        cmocka_unit_test(test_max_pool_that_does_not_tile_the_output_is_refused),
        cmocka_unit_test(test_plain_pair_is_accepted),
        cmocka_unit_test(test_pair_pays_from_a_middle_tensor_of_a_mebibyte),
        cmocka_unit_test(test_sigmoid_on_either_side_is_refused),
        cmocka_unit_test(test_depthwise_without_a_simd_kernel_is_refused),
        cmocka_unit_test(test_dilated_depthwise_is_refused),
        cmocka_unit_test(test_grouped_pointwise_is_refused),
        cmocka_unit_test(test_depthwise_not_reading_the_pointwise_output_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
