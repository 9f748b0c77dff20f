/* NCHW16c chains (kernels/f32_nchwc.h) against their nodes run one by one through the NCHW
 * plans of f32_conv.h and the max pool kernel under an AVX-512 cap: random chains of 1 to 4
 * stages (a 3x3 stem of 1..4 channels first or not, then 1x1 layers, each followed or not by a
 * depthwise 3x3 of stride 1 or 2 and a 2x2 max pool), input channels 1..40, middle
 * channels 16..64, sides 1..26 (pixel counts that leave every tail of the kernels), every
 * activation on both convolutions with PRELU per channel and shared, 1, 2 and 3 threads. The
 * outputs must be equal bit for bit (the chain runs the same sums in the same order). And the
 * stages a chain must refuse. Skipped on CPUs without AVX-512. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_conv.h"
#include "f32_maxpool.h"
#include "f32_nchwc.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "runtime/threadpool.h"
#include "test_util.h"

static const fq_epilogue_f32_kind kinds[] = {
    FQ_EPILOGUE_F32_NONE, FQ_EPILOGUE_F32_RELU, FQ_EPILOGUE_F32_CLIP,
    FQ_EPILOGUE_F32_LEAKY_RELU, FQ_EPILOGUE_F32_PRELU,
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

enum { MAX_STAGES = 4 };

typedef struct stage_case {
    fq_conv2d_f32_params pw, dw; /* pw: the stem's 3x3 convolution in a stem stage */
    bool is_stem, has_dw, has_pool;
    fq_pool2d_f32_params pool;
    float *pw_w, *pw_b, *pw_slopes, *dw_w, *dw_b, *dw_slopes;
} stage_case;

typedef struct chain_case {
    int n;
    stage_case s[MAX_STAGES];
    float *x;
    int64_t nx, ny;
} chain_case;

static fq_epilogue_f32 random_act(const float *slopes, int64_t channels)
{
    fq_epilogue_f32 act = {.kind = kinds[fq_test_rand_int(0, N_KINDS - 1)], .alpha = -0.25f,
                           .beta = 0.5f};
    if (act.kind == FQ_EPILOGUE_F32_LEAKY_RELU)
        act.alpha = 0.1f;
    if (act.kind == FQ_EPILOGUE_F32_PRELU) {
        act.slopes = slopes;
        act.slope_count = fq_test_rand_int(0, 1) ? channels : 1;
    }
    return act;
}

static fq_conv2d_f32_params conv_params(int64_t cin, int64_t cout, int64_t h, int64_t w,
                                        int64_t k, int64_t groups)
{
    int64_t pad = k / 2;
    return (fq_conv2d_f32_params){.batch = 1, .in_channels = cin, .in_h = h, .in_w = w,
                                  .out_channels = cout, .out_h = h, .out_w = w, .kernel_h = k,
                                  .kernel_w = k, .stride_h = 1, .stride_w = 1,
                                  .dilation_h = 1, .dilation_w = 1, .pad_top = pad,
                                  .pad_left = pad, .groups = groups};
}

static fq_pool2d_f32_params pool_params(int64_t planes, int64_t h, int64_t w)
{
    return (fq_pool2d_f32_params){.planes = planes, .in_h = h, .in_w = w, .out_h = h / 2,
                                  .out_w = w / 2, .kernel_h = 2, .kernel_w = 2, .stride_h = 2,
                                  .stride_w = 2, .dilation_h = 1, .dilation_w = 1};
}

/* The depthwise layer of a stage over mid channels of h x w: stride 1 (pads 1) or 2 (pads 0 or
 * 1) when the plane allows it, and a pool after it when its output has even sides. */
static void add_random_dw(stage_case *s, int64_t mid, int64_t h, int64_t w)
{
    int64_t stride = fq_test_rand_int(1, 2), pad = stride == 1 ? 1 : fq_test_rand_int(0, 1);
    if (h + 2 * pad < 3 || w + 2 * pad < 3)
        stride = 1, pad = 1;
    s->has_dw = true;
    s->dw = conv_params(mid, mid, h, w, 3, mid);
    s->dw.stride_h = s->dw.stride_w = stride;
    s->dw.pad_top = s->dw.pad_left = pad;
    s->dw.out_h = (h + 2 * pad - 3) / stride + 1;
    s->dw.out_w = (w + 2 * pad - 3) / stride + 1;
    s->dw_w = fq_test_rand_floats(mid * 9);
    s->dw_b = fq_test_rand_floats(mid);
    s->dw_slopes = fq_test_rand_floats(mid);
    s->dw.act = random_act(s->dw_slopes, mid);
    s->has_pool = s->dw.out_h % 2 == 0 && s->dw.out_w % 2 == 0 && fq_test_rand_int(0, 1);
    s->pool = pool_params(mid, s->dw.out_h, s->dw.out_w);
}

/* A stage reading cin channels of h x w: a 1x1, then a depthwise layer or not. */
static stage_case make_stage(int64_t cin, int64_t h, int64_t w)
{
    stage_case s = {0};
    int64_t mid = 16 * fq_test_rand_int(1, 4);
    s.pw = conv_params(cin, mid, h, w, 1, 1);
    s.pw_w = fq_test_rand_floats(cin * mid);
    s.pw_b = fq_test_rand_floats(mid);
    s.pw_slopes = fq_test_rand_floats(mid);
    s.pw.act = random_act(s.pw_slopes, mid);
    if (fq_test_rand_int(0, 3) > 0)
        add_random_dw(&s, mid, h, w);
    return s;
}

/* A stem: cin <= 4 channels of h x w, 3x3 at stride 1 or 2, pads 0 or 1 (h, w >= 3). */
static stage_case make_stem(int64_t cin, int64_t h, int64_t w)
{
    stage_case s = {.is_stem = true};
    int64_t mid = 16 * fq_test_rand_int(1, 3), stride = fq_test_rand_int(1, 2);
    int64_t pad = fq_test_rand_int(0, 1);
    s.pw = conv_params(cin, mid, h, w, 3, 1);
    s.pw.stride_h = s.pw.stride_w = stride;
    s.pw.pad_top = s.pw.pad_left = pad;
    s.pw.out_h = (h + 2 * pad - 3) / stride + 1;
    s.pw.out_w = (w + 2 * pad - 3) / stride + 1;
    s.pw_w = fq_test_rand_floats(cin * 9 * mid);
    s.pw_b = fq_test_rand_floats(mid);
    s.pw_slopes = fq_test_rand_floats(mid);
    s.pw.act = random_act(s.pw_slopes, mid);
    if (fq_test_rand_int(0, 1))
        add_random_dw(&s, mid, s.pw.out_h, s.pw.out_w);
    return s;
}

static void out_of(const stage_case *s, int64_t *c, int64_t *h, int64_t *w)
{
    *c = s->pw.out_channels;
    *h = s->has_pool ? s->pool.out_h : s->has_dw ? s->dw.out_h : s->pw.out_h;
    *w = s->has_pool ? s->pool.out_w : s->has_dw ? s->dw.out_w : s->pw.out_w;
}

static chain_case random_chain(int max_side)
{
    chain_case c = {.n = fq_test_rand_int(1, MAX_STAGES)};
    bool stem = fq_test_rand_int(0, 2) == 0;
    int64_t ch = stem ? fq_test_rand_int(1, 4) : fq_test_rand_int(1, 40);
    int64_t h = fq_test_rand_int(stem ? 3 : 1, max_side);
    int64_t w = fq_test_rand_int(0, 1) ? h : fq_test_rand_int(stem ? 3 : 1, max_side);
    c.nx = ch * h * w;
    c.x = fq_test_rand_floats(c.nx);
    for (int i = 0; i < c.n; i++) {
        c.s[i] = stem && i == 0 ? make_stem(ch, h, w) : make_stage(ch, h, w);
        out_of(&c.s[i], &ch, &h, &w);
    }
    c.ny = ch * h * w;
    return c;
}

static void free_chain(chain_case *c)
{
    for (int i = 0; i < c->n; i++) {
        stage_case *s = &c->s[i];
        free(s->pw_w), free(s->pw_b), free(s->pw_slopes);
        free(s->dw_w), free(s->dw_b), free(s->dw_slopes);
    }
    free(c->x);
}

/* One convolution through its AVX-512 plan (a direct one: a stem takes the taps path). */
static float *run_conv(const fq_conv2d_f32_params *p, const float *w, const float *b,
                       const float *x, int threads, fq_threadpool *pool)
{
    fq_f32_conv_plan *plan;
    fq_error err = {0};
    assert_int_equal(fq_f32_conv_plan_create_direct(p, w, b, FQ_ISA_AVX512, threads, &plan,
                                                    &err), FQ_OK);
    float *y = malloc((size_t)(p->out_channels * p->out_h * p->out_w) * sizeof(float));
    void *ws = fq_malloc_aligned(plan->workspace + 64);
    assert_non_null(y);
    assert_non_null(ws);
    fq_f32_conv_run(plan, x, p->act.slopes, p->act.slope_count, y, ws, pool);
    fq_free_aligned(ws);
    fq_f32_conv_plan_free(plan);
    return y;
}

/* The nodes one by one, in NCHW. */
static float *run_nodes(const chain_case *c, int threads, fq_threadpool *pool)
{
    float *t = malloc((size_t)c->nx * sizeof(float));
    assert_non_null(t);
    memcpy(t, c->x, (size_t)c->nx * sizeof(float));
    for (int i = 0; i < c->n; i++) {
        const stage_case *s = &c->s[i];
        float *u = run_conv(&s->pw, s->pw_w, s->pw_b, t, threads, pool);
        free(t);
        t = u;
        if (s->has_dw) {
            u = run_conv(&s->dw, s->dw_w, s->dw_b, t, threads, pool);
            free(t);
            t = u;
        }
        if (s->has_pool) {
            const fq_f32_maxpool_kernel *k = fq_f32_maxpool_select(FQ_ISA_AVX512, &s->pool);
            assert_non_null(k);
            u = malloc((size_t)(s->pool.planes * s->pool.out_h * s->pool.out_w) *
                       sizeof(float));
            assert_non_null(u);
            for (int64_t p = 0; p < s->pool.planes; p++)
                k->ukernel(&s->pool, t + p * s->pool.in_h * s->pool.in_w,
                           u + p * s->pool.out_h * s->pool.out_w);
            free(t);
            t = u;
        }
    }
    return t;
}

static void build_chain(const chain_case *c, int threads, fq_f32_nchwc_chain *chain)
{
    const fq_f32_nchwc_kernel *kernel = fq_f32_nchwc_select(FQ_ISA_AVX512);
    assert_non_null(kernel);
    fq_f32_nchwc_chain_init(chain, kernel, threads);
    for (int i = 0; i < c->n; i++) {
        const stage_case *s = &c->s[i];
        if (s->is_stem)
            assert_true(fq_f32_nchwc_chain_add_stem(chain, &s->pw, s->pw_w, s->pw_b));
        else
            assert_true(fq_f32_nchwc_chain_add_pw(chain, &s->pw, s->pw_w, s->pw_b));
        if (s->has_dw)
            assert_true(fq_f32_nchwc_chain_add_dw(chain, &s->dw, s->dw_w, s->dw_b));
        if (s->has_pool)
            assert_true(fq_f32_nchwc_chain_add_pool(chain, &s->pool));
    }
    assert_int_equal(chain->n_stages, c->n);
}

static float *run_chain(const chain_case *c, int threads, fq_threadpool *pool)
{
    fq_f32_nchwc_chain chain;
    build_chain(c, threads, &chain);
    fq_f32_nchwc_slopes slopes = {0};
    for (int i = 0; i < c->n; i++) {
        slopes.pw[i] = c->s[i].pw.act.slopes;
        slopes.pw_count[i] = c->s[i].pw.act.slope_count;
        slopes.dw[i] = c->s[i].dw.act.slopes;
        slopes.dw_count[i] = c->s[i].dw.act.slope_count;
    }
    float *y = malloc((size_t)c->ny * sizeof(float));
    void *ws = fq_malloc_aligned(chain.workspace + 64);
    assert_non_null(y);
    assert_non_null(ws);
    fq_f32_nchwc_chain_run(&chain, c->x, &slopes, y, ws, pool);
    fq_free_aligned(ws);
    fq_f32_nchwc_chain_release(&chain);
    return y;
}

static bool avx512_here(void)
{
    if (fq_isa_supported(FQ_ISA_AVX512) && fq_f32_nchwc_select(FQ_ISA_AVX512) != NULL)
        return true;
    printf("skipping: this CPU or build has no AVX-512, the only ISA with NCHW16c chains\n");
    return false;
}

static void check_chain(const chain_case *c, int threads)
{
    fq_threadpool *pool;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(threads, &pool, &err), FQ_OK);
    float *want = run_nodes(c, threads, pool);
    float *got = run_chain(c, threads, pool);
    for (int64_t i = 0; i < c->ny; i++)
        if (memcmp(&want[i], &got[i], sizeof(float)) != 0)
            fail_msg("%d stages from %lld channels at %lldx%lld (first mid %lld, stem %d, dw %d, "
                     "pool %d), %d threads: element %lld of %lld is %.9g, node by node %.9g",
                     c->n, (long long)c->s[0].pw.in_channels, (long long)c->s[0].pw.in_h,
                     (long long)c->s[0].pw.in_w, (long long)c->s[0].pw.out_channels,
                     c->s[0].is_stem, c->s[0].has_dw, c->s[0].has_pool, threads, (long long)i,
                     (long long)c->ny, got[i], want[i]);
    free(want);
    free(got);
    fq_threadpool_free(pool);
}

static void test_chain_equals_its_nodes_on_random_shapes(void **state)
{
    (void)state;
    if (!avx512_here())
        return;
    fq_test_seed(83);
    for (int t = 0; t < 60; t++) {
        chain_case c = random_chain(26);
        for (int threads = 1; threads <= 3; threads++)
            check_chain(&c, threads);
        free_chain(&c);
    }
}

/* yunet's first stages at a reduced size: 16 -> 16 with a pool, then 16 -> 64 and 64 -> 64. */
static void test_chain_equals_its_nodes_on_a_detector_backbone(void **state)
{
    (void)state;
    if (!avx512_here())
        return;
    fq_test_seed(84);
    chain_case c = {.n = 3};
    int64_t h = 48, w = 40;
    c.nx = 16 * h * w;
    c.x = fq_test_rand_floats(c.nx);
    int64_t mids[3] = {16, 64, 64}, ch = 16;
    for (int i = 0; i < 3; i++) {
        c.s[i] = make_stage(ch, h, w);
        stage_case *s = &c.s[i];
        free(s->pw_w), free(s->pw_b), free(s->pw_slopes);
        free(s->dw_w), free(s->dw_b), free(s->dw_slopes);
        *s = (stage_case){.pw = conv_params(ch, mids[i], h, w, 1, 1),
                          .dw = conv_params(mids[i], mids[i], h, w, 3, mids[i]),
                          .has_dw = true, .has_pool = i == 0,
                          .pool = pool_params(mids[i], h, w)};
        s->pw_w = fq_test_rand_floats(ch * mids[i]);
        s->pw_b = fq_test_rand_floats(mids[i]);
        s->pw_slopes = NULL;
        s->dw_w = fq_test_rand_floats(mids[i] * 9);
        s->dw_b = fq_test_rand_floats(mids[i]);
        s->dw_slopes = NULL;
        s->pw.act.kind = s->dw.act.kind = FQ_EPILOGUE_F32_RELU;
        out_of(s, &ch, &h, &w);
    }
    c.ny = ch * h * w;
    for (int threads = 1; threads <= 2; threads++)
        check_chain(&c, threads);
    free_chain(&c);
}

static void test_chain_refuses_stages_it_cannot_run(void **state)
{
    (void)state;
    if (!avx512_here())
        return;
    fq_f32_nchwc_chain chain;
    fq_f32_nchwc_chain_init(&chain, fq_f32_nchwc_select(FQ_ISA_AVX512), 1);
    float w[64 * 64] = {0};
    /* a stem: at most 4 input channels, only first */
    fq_conv2d_f32_params stem = conv_params(5, 16, 8, 8, 3, 1);
    assert_false(fq_f32_nchwc_chain_add_stem(&chain, &stem, w, NULL));
    fq_conv2d_f32_params pw = conv_params(16, 24, 8, 8, 1, 1);
    assert_false(fq_f32_nchwc_chain_add_pw(&chain, &pw, w, NULL)); /* 24: not whole blocks */
    pw.out_channels = 32;
    pw.act.kind = FQ_EPILOGUE_F32_SIGMOID;
    assert_false(fq_f32_nchwc_chain_add_pw(&chain, &pw, w, NULL));
    pw.act.kind = FQ_EPILOGUE_F32_RELU;
    pw.pad_top = 1;
    assert_false(fq_f32_nchwc_chain_add_pw(&chain, &pw, w, NULL));
    pw.pad_top = 0;
    assert_true(fq_f32_nchwc_chain_add_pw(&chain, &pw, w, NULL));
    fq_conv2d_f32_params next = conv_params(32, 32, 8, 8, 1, 1);
    /* depthwise: stride 1 must keep the size, dilation 1 */
    fq_conv2d_f32_params dw = conv_params(32, 32, 8, 8, 3, 32);
    dw.pad_top = dw.pad_left = 0;
    dw.out_h = dw.out_w = 6;
    assert_false(fq_f32_nchwc_chain_add_dw(&chain, &dw, w, NULL));
    dw = conv_params(32, 32, 8, 8, 3, 32);
    dw.dilation_h = dw.dilation_w = 2;
    assert_false(fq_f32_nchwc_chain_add_dw(&chain, &dw, w, NULL));
    dw = conv_params(32, 32, 8, 8, 3, 32);
    assert_true(fq_f32_nchwc_chain_add_dw(&chain, &dw, w, NULL));
    fq_pool2d_f32_params pool = pool_params(32, 8, 8);
    pool.kernel_h = pool.kernel_w = 3;
    assert_false(fq_f32_nchwc_chain_add_pool(&chain, &pool));
    pool = pool_params(32, 8, 8);
    assert_true(fq_f32_nchwc_chain_add_pool(&chain, &pool));
    /* the next pointwise layer must read the pooled 32 x 4 x 4 output */
    next = conv_params(32, 32, 8, 8, 1, 1);
    assert_false(fq_f32_nchwc_chain_add_pw(&chain, &next, w, NULL));
    next = conv_params(16, 32, 4, 4, 1, 1);
    assert_false(fq_f32_nchwc_chain_add_pw(&chain, &next, w, NULL));
    next = conv_params(32, 64, 4, 4, 1, 1);
    assert_true(fq_f32_nchwc_chain_add_pw(&chain, &next, w, NULL));
    assert_int_equal(chain.n_stages, 2);
    stem.in_channels = 3;
    assert_false(fq_f32_nchwc_chain_add_stem(&chain, &stem, w, NULL));
    assert_non_null(strstr(chain.name, "2 stages"));
    fq_f32_nchwc_chain_release(&chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_equals_its_nodes_on_random_shapes),
        cmocka_unit_test(test_chain_equals_its_nodes_on_a_detector_backbone),
        cmocka_unit_test(test_chain_refuses_stages_it_cannot_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
