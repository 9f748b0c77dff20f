/* fp16 weights on the fp32 kernels: every GEMM kernel's fp16-weight twin against the same
 * kernel on the fp16-rounded weights (bit for bit) and against the reference GEMM, over random
 * shapes; convolution plans with fp16 weights against fp32 plans on the rounded weights on
 * every path (pointwise, taps 3x3 stride 1 and 2, im2col 5x5 and 7x7, grouped, depthwise) and
 * every fused activation; and 1 against 2 threads. */
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
#include "f32_gemm.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "ref/f32_gemm_ref.h"
#include "ref/tensor_cast_ref.h"
#include "runtime/threadpool.h"
#include "test_util.h"

/* n random fp16 weights in [-1, 1), and their fp32 values. */
static void random_weights(int64_t n, uint16_t *half, float *wide)
{
    for (int64_t i = 0; i < n; i++) {
        half[i] = fq_f16_from_f32(fq_test_rand_float(-1.0f, 1.0f));
        wide[i] = fq_f32_from_f16(half[i]);
    }
}

static float *random_floats(int64_t n)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        v[i] = fq_test_rand_float(-1.0f, 1.0f);
    return v;
}

/* C = W X + bias through the driver, W packed as fp16 (half) or fp32 (wide). */
static void gemm_product(const fq_f32_gemm_kernel *kernel, int64_t m, int64_t n, int64_t k,
                         const uint16_t *half, const float *wide, const float *bias,
                         const float *x, const fq_epilogue_f32 *act, float *c)
{
    fq_f32_gemm_packed packed;
    fq_error err = {0};
    if (half != NULL)
        assert_int_equal(fq_f32_gemm_pack_f16(kernel, m, k, half, k, bias, &packed, &err),
                         FQ_OK);
    else
        assert_int_equal(fq_f32_gemm_pack(kernel, m, k, wide, k, bias, 1.0f, &packed, &err),
                         FQ_OK);
    void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(kernel, 1));
    fq_f32_gemm_input in = {.x = x, .x_stride = n};
    fq_f32_gemm_run(kernel, &packed, n, &in, c, n, act, ws, NULL);
    fq_free_aligned(ws);
    fq_f32_gemm_packed_free(&packed);
}

/* Compares one random product of kernel's twin with the fp32 kernel (bit for bit) and with the
 * reference GEMM plus bias (within the fp32 family's rounding bound). */
static void check_twin_case(const fq_f32_gemm_kernel *kernel, int64_t m, int64_t n, int64_t k)
{
    uint16_t *half = malloc((size_t)(m * k + 1) * sizeof(uint16_t));
    float *wide = malloc((size_t)(m * k + 1) * sizeof(float));
    random_weights(m * k, half, wide);
    float *bias = random_floats(m), *x = random_floats(k * n);
    float *got = malloc((size_t)(m * n) * sizeof(float));
    float *want = malloc((size_t)(m * n) * sizeof(float));
    float *ref = malloc((size_t)(m * n) * sizeof(float));
    fq_epilogue_f32 none = {.kind = FQ_EPILOGUE_F32_NONE};
    gemm_product(kernel, m, n, k, half, NULL, bias, x, &none, got);
    gemm_product(kernel, m, n, k, NULL, wide, bias, x, &none, want);
    fq_gemm_f32_params p = {.m = m, .n = n, .k = k, .lda = k, .ldb = n, .ldc = n};
    fq_ref_gemm_f32(&p, wide, x, ref);

    char what[160];
    snprintf(what, sizeof(what), "%s m %lld n %lld k %lld", kernel->name_f16w, (long long)m,
             (long long)n, (long long)k);
    if (memcmp(got, want, (size_t)(m * n) * sizeof(float)) != 0)
        fail_msg("%s differs from %s on the rounded weights", what, kernel->name);
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double bound = 1e-6 + fabsf(bias[i]);
            for (int64_t t = 0; t < k; t++)
                bound += fabsf(wide[i * k + t] * x[t * n + j]);
            double diff = fabs((double)got[i * n + j] - (double)(ref[i * n + j] + bias[i]));
            if (diff > 1e-5 * bound + 1e-6)
                fail_msg("%s: C[%lld][%lld] off the reference by %g", what, (long long)i,
                         (long long)j, diff);
        }
    }
    free(half), free(wide), free(bias), free(x), free(got), free(want), free(ref);
}

/* Random shapes (k up to 600: several depth blocks and chunks) for every twin of isa's
 * kernels; skips when none is built or the CPU lacks isa. */
static void check_twins_of_isa(fq_isa isa)
{
    int count, checked = 0;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    if (!fq_isa_supported(isa)) {
        printf("# this CPU lacks %s: its fp16-weight kernels are not run\n", fq_isa_name(isa));
        skip();
    }
    for (int i = 0; i < count; i++) {
        if (all[i]->isa != isa || all[i]->ukernel_f16w == NULL)
            continue;
        fq_test_seed(1000 + (unsigned long long)i);
        for (int trial = 0; trial < 12; trial++)
            check_twin_case(all[i], fq_test_rand_int(1, 40), fq_test_rand_int(1, 90),
                            fq_test_rand_int(0, 600));
        checked++;
    }
    if (checked == 0) {
        printf("# no fp16-weight kernel of %s is built\n", fq_isa_name(isa));
        skip();
    }
}

static void test_scalar_f16w_twin_equals_its_f32_kernel_on_rounded_weights(void **state)
{
    (void)state;
    check_twins_of_isa(FQ_ISA_SCALAR);
}

static void test_avx2_f16w_twin_equals_its_f32_kernel_on_rounded_weights(void **state)
{
    (void)state;
    check_twins_of_isa(FQ_ISA_AVX2);
}

static void test_avx512_f16w_twins_equal_their_f32_kernels_on_rounded_weights(void **state)
{
    (void)state;
    check_twins_of_isa(FQ_ISA_AVX512);
}

static void test_neon_f16w_twins_equal_their_f32_kernels_on_rounded_weights(void **state)
{
    (void)state;
    check_twins_of_isa(FQ_ISA_NEON);
}

static void test_f16w_twins_exist_for_the_scalar_and_simd_kernels(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    assert_non_null(all[count - 1]->ukernel_f16w);
    const fq_f32_gemm_kernel *k = fq_f32_gemm_select_rows_f16w(FQ_ISA_AUTO, 32);
    assert_non_null(k->ukernel_f16w);
#if defined(FQ_KERNELS_X86)
    if (fq_isa_supported(FQ_ISA_AVX512))
        assert_int_equal(k->isa, FQ_ISA_AVX512);
    else if (fq_isa_supported(FQ_ISA_AVX2))
        assert_int_equal(k->isa, FQ_ISA_AVX2);
#elif defined(FQ_KERNELS_AARCH64)
    assert_int_equal(k->isa, FQ_ISA_NEON);
#endif
    assert_int_equal(fq_f32_gemm_select_rows_f16w(FQ_ISA_SCALAR, 32)->isa, FQ_ISA_SCALAR);
}

static void test_packing_fp16_weights_for_a_kernel_without_a_twin_is_refused(void **state)
{
    (void)state;
    fq_f32_gemm_kernel no_twin = *fq_f32_gemm_select(FQ_ISA_SCALAR);
    no_twin.ukernel_f16w = NULL;
    uint16_t w[4] = {0};
    fq_f32_gemm_packed packed;
    fq_error err = {0};
    assert_int_equal(fq_f32_gemm_pack_f16(&no_twin, 2, 2, w, 2, NULL, &packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "twin"));
}

/* ---- convolution plans ---- */

typedef struct conv_case {
    const char *path;  /* the plan name must contain it */
    int64_t in_c, out_c, h, w, kernel, stride, pad, groups;
} conv_case;

static fq_conv2d_f32_params case_params(const conv_case *c, fq_epilogue_f32_kind act)
{
    int64_t out_h = (c->h + 2 * c->pad - c->kernel) / c->stride + 1;
    int64_t out_w = (c->w + 2 * c->pad - c->kernel) / c->stride + 1;
    fq_conv2d_f32_params p = {
        .batch = 2, .in_channels = c->in_c, .in_h = c->h, .in_w = c->w,
        .out_channels = c->out_c, .out_h = out_h, .out_w = out_w,
        .kernel_h = c->kernel, .kernel_w = c->kernel, .stride_h = c->stride,
        .stride_w = c->stride, .dilation_h = 1, .dilation_w = 1, .pad_top = c->pad,
        .pad_left = c->pad, .groups = c->groups};
    p.act.kind = act;
    p.act.alpha = act == FQ_EPILOGUE_F32_CLIP ? -0.25f : 0.1f;
    p.act.beta = 0.5f;
    return p;
}

/* y of a plan made with fp16 (half) or fp32 (wide) weights, on `threads` threads. */
static float *conv_output(const fq_conv2d_f32_params *p, const uint16_t *half, const float *wide,
                          const float *bias, const float *x, const float *slopes,
                          int threads, const char *path)
{
    fq_threadpool *pool = NULL;
    fq_error err = {0};
    if (threads > 1)
        assert_int_equal(fq_threadpool_create(threads, &pool, &err), FQ_OK);
    fq_f32_conv_plan *plan;
    fq_status status = half != NULL
        ? fq_f32_conv_plan_create_f16(p, half, bias, FQ_ISA_AUTO, threads, &plan, &err)
        : fq_f32_conv_plan_create(p, wide, bias, FQ_ISA_AUTO, threads, &plan, &err);
    if (status != FQ_OK)
        fail_msg("plan: %s", err.message);
    if (half != NULL && strstr(plan->name, path) == NULL)
        fail_msg("plan %s is not on the %s path", plan->name, path);
    if (half != NULL && plan->path != FQ_F32_CONV_DEPTHWISE &&
        plan->path != FQ_F32_CONV_WINOGRAD && strstr(plan->name, "f16w") == NULL)
        fail_msg("plan %s does not run an fp16-weight kernel", plan->name);
    size_t n = (size_t)(p->batch * p->out_channels * p->out_h * p->out_w);
    float *y = malloc(n * sizeof(float));
    void *ws = fq_malloc_aligned(plan->workspace > 0 ? plan->workspace : 1);
    fq_f32_conv_run(plan, x, slopes, slopes != NULL ? p->out_channels : 0, y, ws, pool);
    fq_free_aligned(ws);
    fq_f32_conv_plan_free(plan);
    fq_threadpool_free(pool);
    return y;
}

static void check_conv_case(const conv_case *c, fq_epilogue_f32_kind act, int threads)
{
    fq_conv2d_f32_params p = case_params(c, act);
    int64_t wn = c->out_c * (c->in_c / c->groups) * c->kernel * c->kernel;
    int64_t xn = p.batch * c->in_c * c->h * c->w;
    uint16_t *half = malloc((size_t)wn * sizeof(uint16_t));
    float *wide = malloc((size_t)wn * sizeof(float));
    random_weights(wn, half, wide);
    float *bias = random_floats(c->out_c), *x = random_floats(xn);
    float *slopes = act == FQ_EPILOGUE_F32_PRELU ? random_floats(c->out_c) : NULL;

    float *got = conv_output(&p, half, NULL, bias, x, slopes, threads, c->path);
    float *want = conv_output(&p, NULL, wide, bias, x, slopes, 1, c->path);
    size_t n = (size_t)(p.batch * p.out_channels * p.out_h * p.out_w);
    if (memcmp(got, want, n * sizeof(float)) != 0)
        fail_msg("%s path, activation %d, %d threads: fp16 weights differ from fp32 on the "
                 "rounded weights", c->path, (int)act, threads);
    free(half), free(wide), free(bias), free(x), free(slopes), free(got), free(want);
}

static const conv_case cases[] = {
    {"im2col", 3, 16, 33, 31, 5, 2, 2, 1},    /* first-layer style: 3 channels, 5x5 */
    {"im2col", 3, 24, 29, 27, 7, 2, 3, 1},
    {"taps", 16, 40, 17, 19, 3, 1, 1, 1},
    {"taps", 24, 13, 18, 21, 3, 2, 1, 1},
    {"f16w", 32, 45, 9, 11, 1, 1, 0, 1},      /* pointwise: the kernel name alone */
    {"im2col", 16, 24, 12, 13, 3, 1, 1, 4},   /* grouped */
    {"dwconv", 24, 24, 15, 14, 3, 2, 1, 24},  /* depthwise */
    {"dwconv", 20, 20, 11, 10, 3, 1, 1, 20},
};

static void test_conv_with_fp16_weights_equals_fp32_conv_on_every_path(void **state)
{
    (void)state;
    fq_test_seed(7);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_conv_case(&cases[i], FQ_EPILOGUE_F32_RELU, 1);
}

static void test_conv_with_fp16_weights_fuses_every_activation(void **state)
{
    (void)state;
    static const fq_epilogue_f32_kind acts[] = {
        FQ_EPILOGUE_F32_NONE, FQ_EPILOGUE_F32_RELU, FQ_EPILOGUE_F32_CLIP,
        FQ_EPILOGUE_F32_LEAKY_RELU, FQ_EPILOGUE_F32_PRELU, FQ_EPILOGUE_F32_SIGMOID};
    fq_test_seed(8);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t a = 0; a < sizeof(acts) / sizeof(acts[0]); a++)
            check_conv_case(&cases[i], acts[a], 1);
}

static void test_conv_with_fp16_weights_gives_the_same_bits_on_two_threads(void **state)
{
    (void)state;
    fq_test_seed(9);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_conv_case(&cases[i], FQ_EPILOGUE_F32_PRELU, 2);
}

/* A 3x3 stride-1 shape where the fp32 plan takes Winograd (on AVX-512 and AVX2): the fp16 plan
 * takes it too, with the same bits on the rounded weights. */
static void test_fp16_plan_takes_winograd_where_the_fp32_plan_does(void **state)
{
    (void)state;
    fq_test_seed(11);
    conv_case c = {"winograd4x3", 48, 48, 40, 40, 3, 1, 1, 1};
    fq_conv2d_f32_params p = case_params(&c, FQ_EPILOGUE_F32_RELU);
    int64_t wn = 48 * 48 * 9;
    uint16_t *half = malloc((size_t)wn * sizeof(uint16_t));
    float *wide = malloc((size_t)wn * sizeof(float));
    random_weights(wn, half, wide);
    fq_f32_conv_plan *h, *f;
    fq_error err = {0};
    assert_int_equal(fq_f32_conv_plan_create_f16(&p, half, NULL, FQ_ISA_AUTO, 1, &h, &err),
                     FQ_OK);
    assert_int_equal(fq_f32_conv_plan_create(&p, wide, NULL, FQ_ISA_AUTO, 1, &f, &err), FQ_OK);
    assert_int_equal(h->path, f->path);
    if (f->path != FQ_F32_CONV_WINOGRAD) {
        printf("note: this CPU's plan for the shape is %s, not Winograd\n", f->name);
        c.path = "taps";
    }
    fq_f32_conv_plan_free(h);
    fq_f32_conv_plan_free(f);
    check_conv_case(&c, FQ_EPILOGUE_F32_RELU, 1);
    check_conv_case(&c, FQ_EPILOGUE_F32_PRELU, 2);
    free(half), free(wide);
}

static void test_fp16_plan_keeps_half_the_weight_bytes_of_an_fp32_plan(void **state)
{
    (void)state;
    conv_case c = {"taps", 64, 64, 8, 8, 3, 1, 1, 1};
    fq_conv2d_f32_params p = case_params(&c, FQ_EPILOGUE_F32_NONE);
    int64_t wn = 64 * 64 * 9;
    uint16_t *half = calloc((size_t)wn, sizeof(uint16_t));
    float *wide = calloc((size_t)wn, sizeof(float));
    fq_f32_conv_plan *h, *f;
    fq_error err = {0};
    assert_int_equal(fq_f32_conv_plan_create_f16(&p, half, NULL, FQ_ISA_AUTO, 1, &h, &err),
                     FQ_OK);
    assert_int_equal(fq_f32_conv_plan_create_direct(&p, wide, NULL, FQ_ISA_AUTO, 1, &f, &err),
                     FQ_OK);
    assert_null(h->packed[0].data);
    size_t half_bytes = h->packed[0].halves * sizeof(uint16_t);
    size_t wide_bytes = f->packed[0].floats * sizeof(float);
    assert_true(half_bytes * 100 <= wide_bytes * 51);
    fq_f32_conv_plan_free(h);
    fq_f32_conv_plan_free(f);
    free(half), free(wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_f16w_twin_equals_its_f32_kernel_on_rounded_weights),
        cmocka_unit_test(test_avx2_f16w_twin_equals_its_f32_kernel_on_rounded_weights),
        cmocka_unit_test(test_avx512_f16w_twins_equal_their_f32_kernels_on_rounded_weights),
        cmocka_unit_test(test_neon_f16w_twins_equal_their_f32_kernels_on_rounded_weights),
        cmocka_unit_test(test_f16w_twins_exist_for_the_scalar_and_simd_kernels),
        cmocka_unit_test(test_packing_fp16_weights_for_a_kernel_without_a_twin_is_refused),
        cmocka_unit_test(test_conv_with_fp16_weights_equals_fp32_conv_on_every_path),
        cmocka_unit_test(test_conv_with_fp16_weights_fuses_every_activation),
        cmocka_unit_test(test_conv_with_fp16_weights_gives_the_same_bits_on_two_threads),
        cmocka_unit_test(test_fp16_plan_takes_winograd_where_the_fp32_plan_does),
        cmocka_unit_test(test_fp16_plan_keeps_half_the_weight_bytes_of_an_fp32_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
