/* NEON fp32 GEMM and depthwise 3x3 kernels (kernels/arm/neon/) against the fp32 references,
 * through the fp32 GEMM driver and the depthwise contract of kernels/f32_dwconv.h. Runs under
 * qemu in the cross builds; an x86 build has none of these kernels and skips. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_dwconv.h"
#include "f32_gemm.h"
#include "ref/f32_conv2d_ref.h"
#include "ref/f32_gemm_ref.h"
#include "test_util.h"

enum { ROUNDS = 24 };

/* The bound of f32_gemm.h: 1e-5 of |bias| + sum |w * x|, plus 1e-6. */
static const double tolerance = 1e-5;

static const fq_f32_gemm_kernel *find_gemm(const char *name)
{
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    for (int i = 0; i < count; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

static bool usable(const char *name, fq_isa isa, bool built)
{
    if (!built) {
        printf("[  SKIPPED ] %s: not built for this architecture\n", name);
        return false;
    }
    if (!fq_isa_supported(isa)) {
        printf("[  SKIPPED ] %s: this CPU has no %s\n", name, fq_isa_name(isa));
        return false;
    }
    return true;
}

static float *random_floats(size_t count, float lo, float hi)
{
    float *v = malloc((count > 0 ? count : 1) * sizeof(float));
    assert_non_null(v);
    for (size_t i = 0; i < count; i++)
        v[i] = fq_test_rand_float(lo, hi);
    return v;
}

static fq_epilogue_f32 random_activation(const float *slopes)
{
    fq_epilogue_f32 act = {FQ_EPILOGUE_F32_NONE, 0.0f, 0.0f, NULL, 0};
    switch (fq_test_rand_int(0, 4)) {
    case 1: act.kind = FQ_EPILOGUE_F32_RELU; break;
    case 2: act = (fq_epilogue_f32){FQ_EPILOGUE_F32_CLIP, -0.5f, 1.5f, NULL, 0}; break;
    case 3: act = (fq_epilogue_f32){FQ_EPILOGUE_F32_LEAKY_RELU, 0.1f, 0.0f, NULL, 0}; break;
    case 4: act = (fq_epilogue_f32){FQ_EPILOGUE_F32_PRELU, 0.0f, 0.0f, slopes, 0}; break;
    default: break;
    }
    return act;
}

/* One product through the driver: W (m x k) packed for kernel, X (k x n) rows x_stride apart. */
static void check_gemm_once(const fq_f32_gemm_kernel *kernel)
{
    int64_t m = fq_test_rand_int(1, 67), n = fq_test_rand_int(1, 67), k = fq_test_rand_int(1, 67);
    int64_t x_stride = n + fq_test_rand_int(0, 3);
    float *w = random_floats((size_t)(m * k), -1.0f, 1.0f);
    float *x = random_floats((size_t)(k * x_stride), -1.0f, 1.0f);
    float *bias = random_floats((size_t)m, -1.0f, 1.0f);
    float *slopes = random_floats((size_t)m, 0.0f, 0.5f);
    float *got = calloc((size_t)(m * n), sizeof(float));
    float *want = calloc((size_t)(m * n), sizeof(float));
    void *workspace = malloc(fq_f32_gemm_workspace_size(kernel, 1));
    assert_true(got != NULL && want != NULL && workspace != NULL);
    fq_epilogue_f32 act = random_activation(slopes);
    act.slope_count = act.kind == FQ_EPILOGUE_F32_PRELU ? m : 0;

    fq_f32_gemm_packed packed;
    fq_error err = {0};
    assert_int_equal(fq_f32_gemm_pack(kernel, m, k, w, k, bias, 1.0f, &packed, &err), FQ_OK);
    fq_f32_gemm_input input = {x, x_stride, NULL, NULL};
    fq_f32_gemm_run(kernel, &packed, n, &input, got, n, &act, workspace, NULL);

    fq_gemm_f32_params p = {m, n, k, k, x_stride, n};
    fq_ref_gemm_f32(&p, w, x, want);
    for (int64_t i = 0; i < m; i++)
        fq_ref_bias_activation_f32(want + i * n, n, bias[i], &act, i);

    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double magnitude = fabs(bias[i]);
            for (int64_t t = 0; t < k; t++)
                magnitude += fabs((double)w[i * k + t] * x[t * x_stride + j]);
            double diff = fabs((double)got[i * n + j] - want[i * n + j]);
            if (diff > tolerance * magnitude + 1e-6)
                fail_msg("%s kc=%d m=%lld n=%lld k=%lld act=%d: C[%lld][%lld] = %g, ref %g",
                         kernel->name, kernel->kc, (long long)m, (long long)n, (long long)k,
                         (int)act.kind, (long long)i, (long long)j, got[i * n + j],
                         want[i * n + j]);
        }

    fq_f32_gemm_packed_free(&packed);
    free(w);
    free(x);
    free(bias);
    free(slopes);
    free(got);
    free(want);
    free(workspace);
}

static void check_gemm(const char *name, bool built)
{
    const fq_f32_gemm_kernel *kernel = built ? find_gemm(name) : NULL;
    if (!usable(name, FQ_ISA_NEON, kernel != NULL))
        skip();
    fq_test_seed(0x4e454f4e);

    /* The registered depth block, then a short one so sums continue across blocks. */
    fq_f32_gemm_kernel short_blocks = *kernel;
    short_blocks.kc = 7;
    for (int round = 0; round < ROUNDS; round++) {
        check_gemm_once(kernel);
        check_gemm_once(&short_blocks);
    }
}

static void test_f32_gemm_8x12_neon_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    check_gemm("f32_gemm_8x12__neon", true);
#else
    check_gemm("f32_gemm_8x12__neon", false);
#endif
}

static void test_f32_gemm_4x8_neon_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_HAVE_ISA_NEON)
    check_gemm("f32_gemm_4x8__neon", true);
#else
    check_gemm("f32_gemm_4x8__neon", false);
#endif
}

static void test_f32_gemm_select_prefers_neon_on_arm(void **state)
{
    (void)state;
    const fq_f32_gemm_kernel *k = fq_f32_gemm_select(FQ_ISA_AUTO);
#if defined(FQ_HAVE_ISA_NEON)
    if (fq_isa_supported(FQ_ISA_NEON)) {
        assert_int_equal(k->isa, FQ_ISA_NEON);
        return;
    }
#endif
    printf("[  SKIPPED ] fp32 GEMM selection on Arm: this is not a NEON build and CPU\n");
    (void)k;
    skip();
}

static int64_t dw_out(int64_t in, int64_t stride, int64_t pad)
{
    return (in + 2 * pad - 3) / stride + 1;
}

static void check_dwconv_once(const fq_f32_dwconv_kernel *kernel)
{
    int64_t stride = kernel->stride;
    int64_t pad = fq_test_rand_int(0, 1);
    fq_f32_dwconv_geometry g;
    g.in_h = fq_test_rand_int(3 - 2 * pad, 23);
    g.in_w = fq_test_rand_int(3 - 2 * pad, 41);
    g.pad_top = g.pad_left = pad;
    g.out_h = dw_out(g.in_h, stride, pad);
    g.out_w = dw_out(g.in_w, stride, pad);
    float *x = random_floats((size_t)(g.in_h * g.in_w), -1.0f, 1.0f);
    float *w = random_floats(9, -1.0f, 1.0f);
    float bias = fq_test_rand_float(-1.0f, 1.0f);
    float *got = calloc((size_t)(g.out_h * g.out_w), sizeof(float));
    float *want = calloc((size_t)(g.out_h * g.out_w), sizeof(float));
    assert_true(got != NULL && want != NULL);

    fq_epilogue_f32 act = random_activation(NULL);
    if (act.kind == FQ_EPILOGUE_F32_PRELU)
        act = (fq_epilogue_f32){FQ_EPILOGUE_F32_LEAKY_RELU, 0.25f, 0.0f, NULL, 0};
    fq_f32_gemm_params params = {act.kind, act.alpha, act.beta, NULL};
    kernel->ukernel(&g, x, w, bias, got, &params);

    fq_conv2d_f32_params p = {1, 1, g.in_h, g.in_w, 1, g.out_h, g.out_w, 3, 3, stride, stride,
                              1, 1, pad, pad, 1, act};
    float *work = malloc(fq_ref_conv2d_f32_workspace_size(&p) + sizeof(float));
    assert_non_null(work);
    fq_ref_conv2d_f32(&p, x, w, &bias, want, work);
    free(work);

    for (int64_t i = 0; i < g.out_h * g.out_w; i++)
        if (fabs((double)got[i] - want[i]) > tolerance * 10.0 + 1e-6)
            fail_msg("%s %lldx%lld pad %lld: output %lld = %g, reference %g", kernel->name,
                     (long long)g.in_h, (long long)g.in_w, (long long)pad, (long long)i,
                     got[i], want[i]);
    free(x);
    free(w);
    free(got);
    free(want);
}

static void check_dwconv(int stride)
{
    const fq_f32_dwconv_kernel *kernel = fq_f32_dwconv_select(FQ_ISA_AUTO, stride);
    bool built = false;
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    built = true;
#endif
    const char *name = stride == 1 ? "f32_dwconv_3x3s1__neon" : "f32_dwconv_3x3s2__neon";
    if (!usable(name, FQ_ISA_NEON, built))
        skip();
    assert_non_null(kernel);
    assert_string_equal(kernel->name, name);
    fq_test_seed(0xd3 + (unsigned long long)stride);
    for (int round = 0; round < 4 * ROUNDS; round++)
        check_dwconv_once(kernel);
}

static void test_f32_dwconv_3x3s1_neon_matches_reference(void **state)
{
    (void)state;
    check_dwconv(1);
}

static void test_f32_dwconv_3x3s2_neon_matches_reference(void **state)
{
    (void)state;
    check_dwconv(2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_gemm_8x12_neon_matches_reference),
        cmocka_unit_test(test_f32_gemm_4x8_neon_matches_reference),
        cmocka_unit_test(test_f32_gemm_select_prefers_neon_on_arm),
        cmocka_unit_test(test_f32_dwconv_3x3s1_neon_matches_reference),
        cmocka_unit_test(test_f32_dwconv_3x3s2_neon_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
