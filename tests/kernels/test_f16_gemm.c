/* fp16 GEMM kernels (kernels/f16_gemm.h) against their reference twins, on random shapes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f16_gemm.h"
#include "ref/f16_gemm_ref.h"
#include "ref/tensor_cast_ref.h"
#include "test_util.h"

enum { ROUNDS = 24, GUARD = 4 };

/* Bounds of f16_gemm.h, relative to |bias| + sum |a * w| (the f16 one is beside check_f16). */
static const double f16w_f32_tolerance = 1e-5;

/* One random problem: A (m x k, rows a_stride apart), W (k x n) and bias, in fp32 but holding
 * fp16-representable values, W packed for panels of nr. */
typedef struct gemm_case {
    size_t m, n, k, a_stride, c_stride, nr;
    float *a, *w, *bias;
    uint16_t *a_half, *packed;
    fq_f16w_f32_minmax clamp;
} gemm_case;

static float random_half_value(float lo, float hi)
{
    return fq_f32_from_f16(fq_f16_from_f32(fq_test_rand_float(lo, hi)));
}

static void case_make(gemm_case *g, size_t nr, bool clamped)
{
    g->m = (size_t)fq_test_rand_int(1, 67);
    g->n = (size_t)fq_test_rand_int(1, 67);
    g->k = (size_t)fq_test_rand_int(1, 67);
    g->a_stride = g->k + (size_t)fq_test_rand_int(0, 3);
    g->c_stride = g->n + (size_t)fq_test_rand_int(0, 3);
    g->nr = nr;
    g->a = calloc(g->m * g->a_stride, sizeof(float));
    g->a_half = calloc(g->m * g->a_stride, sizeof(uint16_t));
    g->w = calloc(g->k * g->n, sizeof(float));
    g->bias = calloc(g->n, sizeof(float));
    g->packed = calloc(fq_f16_gemm_packed_count(g->n, g->k, nr), sizeof(uint16_t));
    assert_non_null(g->a);
    assert_non_null(g->a_half);
    assert_non_null(g->w);
    assert_non_null(g->bias);
    assert_non_null(g->packed);

    for (size_t i = 0; i < g->m * g->a_stride; i++) {
        g->a[i] = random_half_value(-1.0f, 1.0f);
        g->a_half[i] = fq_f16_from_f32(g->a[i]);
    }
    for (size_t i = 0; i < g->k * g->n; i++)
        g->w[i] = random_half_value(-1.0f, 1.0f);
    for (size_t j = 0; j < g->n; j++)
        g->bias[j] = random_half_value(-1.0f, 1.0f);
    fq_f16_gemm_pack(g->n, g->k, nr, g->w, g->n, 1, g->bias, g->packed);

    g->clamp.min = clamped ? -0.5f : -INFINITY;
    g->clamp.max = clamped ? 0.75f : INFINITY;
}

static void case_free(gemm_case *g)
{
    free(g->a);
    free(g->a_half);
    free(g->w);
    free(g->bias);
    free(g->packed);
}

static double magnitude_sum(const gemm_case *g, size_t i, size_t j)
{
    double sum = fabs(g->bias[j]);
    for (size_t k = 0; k < g->k; k++)
        sum += fabs((double)g->a[i * g->a_stride + k] * g->w[k * g->n + j]);
    return sum;
}

static fq_f16_minmax half_clamp(const gemm_case *g)
{
    fq_f16_minmax clamp = {fq_f16_from_f32(g->clamp.min), fq_f16_from_f32(g->clamp.max)};
    return clamp;
}

/* Output buffers carry GUARD elements past the last row; the pattern there must survive. */
static float *output_f32(const gemm_case *g)
{
    size_t count = g->m * g->c_stride + GUARD;
    float *c = malloc(count * sizeof(float));
    assert_non_null(c);
    for (size_t i = 0; i < count; i++)
        c[i] = 12345.0f;
    return c;
}

static void check_untouched_f32(const gemm_case *g, const float *c)
{
    for (size_t i = 0; i < g->m; i++)
        for (size_t j = g->n; j < g->c_stride; j++)
            assert_true(c[i * g->c_stride + j] == 12345.0f);
    for (size_t i = 0; i < GUARD; i++)
        assert_true(c[g->m * g->c_stride + i] == 12345.0f);
}

static void run_f16w_f32_kernel(const fq_f16w_f32_gemm_kernel *kernel, bool clamped)
{
    for (int round = 0; round < ROUNDS; round++) {
        gemm_case g;
        case_make(&g, kernel->nr, clamped);
        float *got = output_f32(&g);
        float *want = output_f32(&g);

        fq_f16w_f32_gemm_run(kernel, g.m, g.n, g.k, g.a, g.a_stride, g.packed, got, g.c_stride,
                             &g.clamp);
        fq_ref_f16w_f32_gemm(g.m, g.n, g.k, g.nr, g.a, g.a_stride, g.packed, want, g.c_stride,
                             &g.clamp);

        for (size_t i = 0; i < g.m; i++)
            for (size_t j = 0; j < g.n; j++) {
                double diff = fabs((double)got[i * g.c_stride + j] - want[i * g.c_stride + j]);
                double bound = f16w_f32_tolerance * magnitude_sum(&g, i, j);
                if (diff > bound)
                    fail_msg("%s m=%zu n=%zu k=%zu: C[%zu][%zu] = %g, reference %g",
                             kernel->name, g.m, g.n, g.k, i, j, got[i * g.c_stride + j],
                             want[i * g.c_stride + j]);
            }
        check_untouched_f32(&g, got);
        free(got);
        free(want);
        case_free(&g);
    }
}

static bool kernel_runs_here(const char *name, fq_isa isa)
{
    if (fq_isa_supported(isa))
        return true;
    printf("[  SKIPPED ] %s: this CPU has no %s\n", name, fq_isa_name(isa));
    return false;
}

static void check_f16w_f32(const fq_f16w_f32_gemm_kernel *kernel)
{
    if (!kernel_runs_here(kernel->name, kernel->isa))
        skip();
    fq_test_seed(0x16f32 + (unsigned long long)kernel->isa);
    run_f16w_f32_kernel(kernel, false);
    run_f16w_f32_kernel(kernel, true);
}

static uint16_t *output_f16(const gemm_case *g)
{
    size_t count = g->m * g->c_stride + GUARD;
    uint16_t *c = malloc(count * sizeof(uint16_t));
    assert_non_null(c);
    for (size_t i = 0; i < count; i++)
        c[i] = 0x7bffu;
    return c;
}

#if defined(FQ_HAVE_ISA_AVX512FP16) || defined(FQ_HAVE_ISA_NEONFP16)
static const double f16_tolerance = 1e-2;

static void compare_f16(const char *name, const gemm_case *g, const uint16_t *got,
                        const uint16_t *want)
{
    for (size_t i = 0; i < g->m; i++)
        for (size_t j = 0; j < g->n; j++) {
            float x = fq_f32_from_f16(got[i * g->c_stride + j]);
            float y = fq_f32_from_f16(want[i * g->c_stride + j]);
            double bound = f16_tolerance * magnitude_sum(g, i, j) + 0x1p-24;
            if (fabs((double)x - y) > bound)
                fail_msg("%s m=%zu n=%zu k=%zu: C[%zu][%zu] = %g, reference %g", name, g->m,
                         g->n, g->k, i, j, x, y);
        }
    for (size_t i = 0; i < g->m; i++)
        for (size_t j = g->n; j < g->c_stride; j++)
            assert_int_equal(got[i * g->c_stride + j], 0x7bffu);
    for (size_t i = 0; i < GUARD; i++)
        assert_int_equal(got[g->m * g->c_stride + i], 0x7bffu);
}

static void check_f16(const fq_f16_gemm_kernel *kernel)
{
    if (!kernel_runs_here(kernel->name, kernel->isa))
        skip();
    fq_test_seed(0xf16 + (unsigned long long)kernel->isa);

    for (int round = 0; round < 2 * ROUNDS; round++) {
        gemm_case g;
        case_make(&g, kernel->nr, round % 2 == 1);
        fq_f16_minmax clamp = half_clamp(&g);
        uint16_t *got = output_f16(&g);
        uint16_t *want = output_f16(&g);

        fq_f16_gemm_run(kernel, g.m, g.n, g.k, g.a_half, g.a_stride, g.packed, got, g.c_stride,
                        &clamp);
        fq_ref_f16_gemm(g.m, g.n, g.k, g.nr, g.a_half, g.a_stride, g.packed, want, g.c_stride,
                        &clamp);
        compare_f16(kernel->name, &g, got, want);

        free(got);
        free(want);
        case_free(&g);
    }
}

#endif

static void skip_not_built(const char *name)
{
    printf("[  SKIPPED ] %s: not built for this architecture\n", name);
    skip();
}

static void test_f16w_f32_gemm_6x16_avx2_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_HAVE_ISA_AVX2)
    fq_f16w_f32_gemm_kernel k = {"f16w_f32_gemm_6x16__avx2", FQ_ISA_AVX2, 6, 16,
                                 fq_f16w_f32_gemm_ukernel_6x16__avx2};
    check_f16w_f32(&k);
#else
    skip_not_built("f16w_f32_gemm_6x16__avx2");
#endif
}

static void test_f16w_f32_gemm_8x32_avx512_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_HAVE_ISA_AVX512)
    fq_f16w_f32_gemm_kernel k = {"f16w_f32_gemm_8x32__avx512", FQ_ISA_AVX512, 8, 32,
                                 fq_f16w_f32_gemm_ukernel_8x32__avx512};
    check_f16w_f32(&k);
#else
    skip_not_built("f16w_f32_gemm_8x32__avx512");
#endif
}

static void test_f16w_f32_gemm_6x16_neon_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    fq_f16w_f32_gemm_kernel k = {"f16w_f32_gemm_6x16__neon", FQ_ISA_NEON, 6, 16,
                                 fq_f16w_f32_gemm_ukernel_6x16__neon};
    check_f16w_f32(&k);
#else
    skip_not_built("f16w_f32_gemm_6x16__neon");
#endif
}

static void test_f16w_f32_gemm_4x8_scalar_matches_reference(void **state)
{
    (void)state;
    fq_f16w_f32_gemm_kernel k = {"f16w_f32_gemm_4x8__scalar", FQ_ISA_SCALAR, 4, 8,
                                 fq_f16w_f32_gemm_ukernel_4x8__scalar};
    check_f16w_f32(&k);
}

static void test_f16_gemm_8x64_avx512fp16_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_HAVE_ISA_AVX512FP16)
    fq_f16_gemm_kernel k = {"f16_gemm_8x64__avx512fp16", FQ_ISA_AVX512FP16, 8, 64,
                            fq_f16_gemm_ukernel_8x64__avx512fp16};
    check_f16(&k);
#else
    skip_not_built("f16_gemm_8x64__avx512fp16");
#endif
}

static void test_f16_gemm_8x16_neonfp16_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_HAVE_ISA_NEONFP16)
    fq_f16_gemm_kernel k = {"f16_gemm_8x16__neonfp16", FQ_ISA_NEONFP16, 8, 16,
                            fq_f16_gemm_ukernel_8x16__neonfp16};
    check_f16(&k);
#else
    skip_not_built("f16_gemm_8x16__neonfp16");
#endif
}

/* The packed layout read by the reference gives the plain matrix product of the rounded values. */
static void test_f16w_f32_packed_weights_give_the_matrix_product(void **state)
{
    (void)state;
    fq_test_seed(7);
    gemm_case g;
    case_make(&g, 8, false);
    float *c = output_f32(&g);

    fq_ref_f16w_f32_gemm(g.m, g.n, g.k, g.nr, g.a, g.a_stride, g.packed, c, g.c_stride, &g.clamp);

    for (size_t i = 0; i < g.m; i++)
        for (size_t j = 0; j < g.n; j++) {
            double sum = g.bias[j];
            for (size_t k = 0; k < g.k; k++)
                sum += (double)g.a[i * g.a_stride + k] * g.w[k * g.n + j];
            assert_true(fabs(sum - c[i * g.c_stride + j]) <= 1e-5 * magnitude_sum(&g, i, j));
        }
    free(c);
    case_free(&g);
}

/* Transposed weights ([n][k], as convolution weights are) pack to the same panels. */
static void test_f16_gemm_pack_reads_weights_through_strides(void **state)
{
    (void)state;
    enum { N = 5, K = 3, NR = 4 };
    float w_kn[K * N], w_nk[N * K];
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) {
            w_kn[k * N + j] = (float)(k * 10 + j);
            w_nk[j * K + k] = (float)(k * 10 + j);
        }
    size_t count = fq_f16_gemm_packed_count(N, K, NR);
    uint16_t a[2 * NR * (K + 1)], b[2 * NR * (K + 1)];
    assert_int_equal(count, 2 * NR * (K + 1));

    fq_f16_gemm_pack(N, K, NR, w_kn, N, 1, NULL, a);
    fq_f16_gemm_pack(N, K, NR, w_nk, 1, K, NULL, b);

    assert_memory_equal(a, b, sizeof(a));
    assert_true(fq_f32_from_f16(a[NR + 2 * NR + 3]) == 23.0f);           /* k = 2, j = 3 */
    assert_true(fq_f32_from_f16(a[NR * (K + 1) + NR + 1 * NR + 0]) == 14.0f); /* k 1, j 4 */
    assert_int_equal(a[NR * (K + 1) + NR + 1 * NR + 1], 0); /* past N: zero */
}

/* fp16 accumulation stays within the documented K * 2^-11 of the magnitude sum of exact math. */
static void test_f16_reference_accumulation_error_is_within_documented_bound(void **state)
{
    (void)state;
    fq_test_seed(11);
    for (int round = 0; round < 8; round++) {
        gemm_case g;
        case_make(&g, 16, false);
        fq_f16_minmax clamp = half_clamp(&g);
        uint16_t *c = output_f16(&g);
        fq_ref_f16_gemm(g.m, g.n, g.k, g.nr, g.a_half, g.a_stride, g.packed, c, g.c_stride,
                        &clamp);
        for (size_t i = 0; i < g.m; i++)
            for (size_t j = 0; j < g.n; j++) {
                double exact = g.bias[j];
                for (size_t k = 0; k < g.k; k++)
                    exact += (double)g.a[i * g.a_stride + k] * g.w[k * g.n + j];
                double err = fabs(fq_f32_from_f16(c[i * g.c_stride + j]) - exact);
                assert_true(err <= (double)(g.k + 1) * 0x1p-11 * magnitude_sum(&g, i, j));
            }
        free(c);
        case_free(&g);
    }
}

static void test_f16w_f32_select_falls_back_to_scalar_under_a_scalar_cap(void **state)
{
    (void)state;
    const fq_f16w_f32_gemm_kernel *k = fq_f16w_f32_gemm_select(FQ_ISA_SCALAR);
    assert_non_null(k);
    assert_int_equal(k->isa, FQ_ISA_SCALAR);
    assert_string_equal(k->name, "f16w_f32_gemm_4x8__scalar");
}

static void test_f16w_f32_select_picks_an_allowed_kernel(void **state)
{
    (void)state;
    const fq_f16w_f32_gemm_kernel *k = fq_f16w_f32_gemm_select(FQ_ISA_AUTO);
    assert_non_null(k);
    assert_true(fq_isa_allowed(k->isa, FQ_ISA_AUTO));
#if defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_supported(FQ_ISA_AVX2))
        assert_int_not_equal(k->isa, FQ_ISA_SCALAR);
#endif
}

static void test_f16_select_is_null_without_fp16_arithmetic(void **state)
{
    (void)state;
    assert_null(fq_f16_gemm_select(FQ_ISA_SCALAR));
    assert_null(fq_f16_gemm_select(FQ_ISA_AVX512VNNI));
    const fq_f16_gemm_kernel *k = fq_f16_gemm_select(FQ_ISA_AUTO);
    if (k != NULL)
        assert_true(k->isa == FQ_ISA_AVX512FP16 || k->isa == FQ_ISA_NEONFP16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16w_f32_gemm_6x16_avx2_matches_reference),
        cmocka_unit_test(test_f16w_f32_gemm_8x32_avx512_matches_reference),
        cmocka_unit_test(test_f16w_f32_gemm_6x16_neon_matches_reference),
        cmocka_unit_test(test_f16w_f32_gemm_4x8_scalar_matches_reference),
        cmocka_unit_test(test_f16_gemm_8x64_avx512fp16_matches_reference),
        cmocka_unit_test(test_f16_gemm_8x16_neonfp16_matches_reference),
        cmocka_unit_test(test_f16w_f32_packed_weights_give_the_matrix_product),
        cmocka_unit_test(test_f16_gemm_pack_reads_weights_through_strides),
        cmocka_unit_test(test_f16_reference_accumulation_error_is_within_documented_bound),
        cmocka_unit_test(test_f16w_f32_select_falls_back_to_scalar_under_a_scalar_cap),
        cmocka_unit_test(test_f16w_f32_select_picks_an_allowed_kernel),
        cmocka_unit_test(test_f16_select_is_null_without_fp16_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
