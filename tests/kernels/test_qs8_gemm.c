/* qs8 GEMM kernels (kernels/qs8_gemm.h) against the reference, bit for bit, over random shapes
 * and extreme values; weight packing refusals; kernel selection under a cap. */
#include <string.h>

#include "qs8_test_util.h"
#include "ref/qs8_gemm_ref.h"

enum { ROUNDS = 40, GUARD = 5, SENTINEL = 0xA5 };

/* One problem: operands, and the output of the kernel and of the reference with guard bytes
 * between rows (c_stride > n) and after the last row. */
typedef struct gemm_case {
    size_t m, n, k, a_stride, c_stride;
    int32_t zp_x;
    uint8_t *a;
    int8_t *w;
    int32_t *bias;
    float *multiplier;
    fq_qs8_requant_params requant;
    uint8_t *c, *c_ref;
} gemm_case;

static void case_alloc(gemm_case *g, size_t m, size_t n, size_t k)
{
    g->m = m;
    g->n = n;
    g->k = k;
    g->a_stride = k + (size_t)fq_test_rand_int(0, 3);
    g->c_stride = n + (size_t)fq_test_rand_int(0, 3);
    g->a = qs8_alloc(m * g->a_stride);
    g->w = qs8_alloc(n * k);
    g->bias = qs8_alloc(n * sizeof(int32_t));
    g->multiplier = qs8_alloc(n * sizeof(float));
    g->c = qs8_alloc(m * g->c_stride + GUARD);
    g->c_ref = qs8_alloc(m * g->c_stride + GUARD);
    memset(g->c, SENTINEL, m * g->c_stride + GUARD);
    memset(g->c_ref, SENTINEL, m * g->c_stride + GUARD);
}

static void case_random(gemm_case *g, size_t m, size_t n, size_t k)
{
    case_alloc(g, m, n, k);
    g->zp_x = fq_test_rand_int(0, 255);
    qs8_fill_u8(g->a, m * g->a_stride, 0, 255);
    qs8_fill_i8(g->w, n * k, -128, 127);
    for (size_t j = 0; j < n; j++)
        g->bias[j] = fq_test_rand_int(-100000, 100000);
    qs8_fill_multipliers(g->multiplier, n, k);
    g->requant = qs8_random_requant();
}

static void case_free(gemm_case *g)
{
    fq_free_aligned(g->a);
    fq_free_aligned(g->w);
    fq_free_aligned(g->bias);
    fq_free_aligned(g->multiplier);
    fq_free_aligned(g->c);
    fq_free_aligned(g->c_ref);
}

static void run_reference(gemm_case *g)
{
    fq_qs8_gemm_ref_args args = {g->m, g->n, g->k, g->a, g->a_stride, g->zp_x, g->w, g->bias,
                                 g->multiplier, g->c_ref, g->c_stride};
    fq_qs8_gemm_ref(&args, &g->requant);
}

static void run_kernel(const fq_qs8_gemm_kernel *kernel, gemm_case *g)
{
    void *packed = qs8_alloc(fq_qs8_gemm_packed_size(kernel, g->n, g->k));
    assert_int_equal(fq_qs8_gemm_pack(kernel, g->n, g->k, g->w, g->bias, g->zp_x,
                                      g->multiplier, packed, NULL), FQ_OK);
    fq_qs8_gemm_run(kernel, g->m, g->n, g->k, g->a, g->a_stride, packed, g->c, g->c_stride,
                    &g->requant);
    fq_free_aligned(packed);
}

/* Kernel and reference agree on every element, and both left the guard bytes alone. */
static void assert_same_output(const fq_qs8_gemm_kernel *kernel, const gemm_case *g)
{
    for (size_t i = 0; i < g->m * g->c_stride + GUARD; i++) {
        if (g->c[i] != g->c_ref[i]) {
            size_t row = i / g->c_stride, col = i % g->c_stride;
            fail_msg("%s: m %zu n %zu k %zu: C[%zu][%zu] is %u, reference %u", kernel->name,
                     g->m, g->n, g->k, row, col, g->c[i], g->c_ref[i]);
        }
    }
}

static void check_case(const fq_qs8_gemm_kernel *kernel, gemm_case *g)
{
    run_reference(g);
    run_kernel(kernel, g);
    assert_same_output(kernel, g);
}

static void test_matches_reference_on_random_shapes(void **state)
{
    const fq_qs8_gemm_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0x51a8 + (unsigned long long)kernel->isa);
    for (int round = 0; round < ROUNDS; round++) {
        gemm_case g;
        case_random(&g, (size_t)fq_test_rand_int(1, 67), (size_t)fq_test_rand_int(1, 67),
                    (size_t)fq_test_rand_int(1, 67));
        check_case(kernel, &g);
        case_free(&g);
    }
}

/* Every depth 1..kr * 4 + 3 on a tile-and-a-bit, so each k tail is met. */
static void test_matches_reference_on_every_small_depth(void **state)
{
    const fq_qs8_gemm_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0x7e57);
    for (size_t k = 1; k <= (size_t)kernel->kr * 4 + 19; k++) {
        gemm_case g;
        case_random(&g, kernel->mr + 1, kernel->nr + 1, k);
        check_case(kernel, &g);
        case_free(&g);
    }
}

/* All activations a and all weights wv at depth k: the largest sums of products, where an
 * int16 intermediate (pmaddubsw) would saturate. The multiplier keeps the result in range. */
static void check_constant_case(const fq_qs8_gemm_kernel *kernel, size_t k, uint8_t a,
                                int32_t zp_x, int8_t wv)
{
    gemm_case g;
    case_alloc(&g, 11, 37, k);
    g.zp_x = zp_x;
    memset(g.a, a, g.m * g.a_stride);
    memset(g.w, (uint8_t)wv, g.n * k);
    double extreme = (double)k * 255.0 * 128.0;
    for (size_t j = 0; j < g.n; j++) {
        g.bias[j] = (int32_t)j;
        g.multiplier[j] = (float)(100.0 / extreme);
    }
    assert_int_equal(fq_qs8_requant_params_init(128, 0, 255, &g.requant, NULL), FQ_OK);
    run_reference(&g);
    assert_int_not_equal(g.c_ref[0], 0);
    assert_int_not_equal(g.c_ref[0], 255);
    run_kernel(kernel, &g);
    assert_same_output(kernel, &g);
    case_free(&g);
}

static void test_extreme_operands_do_not_saturate(void **state)
{
    const fq_qs8_gemm_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    size_t depths[] = {1, 2, 3, 4, 5, 17, 64, 255, 1000, 4099};
    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        check_constant_case(kernel, depths[d], 255, 0, -128);
        check_constant_case(kernel, depths[d], 255, 0, 127);
        check_constant_case(kernel, depths[d], 0, 255, -128);
        check_constant_case(kernel, depths[d], 0, 255, 127);
        check_constant_case(kernel, depths[d], 255, 128, -128);
    }
}

/* A multiplier of 0.5 on odd accumulators puts half the outputs on exact ties. */
static void test_rounds_ties_like_the_reference(void **state)
{
    const fq_qs8_gemm_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0x71e5);
    gemm_case g;
    case_alloc(&g, 13, 29, 9);
    g.zp_x = 3;
    qs8_fill_u8(g.a, g.m * g.a_stride, 0, 7);
    qs8_fill_i8(g.w, g.n * g.k, -3, 3);
    for (size_t j = 0; j < g.n; j++) {
        g.bias[j] = fq_test_rand_int(-201, 201);
        g.multiplier[j] = 0.5f;
    }
    assert_int_equal(fq_qs8_requant_params_init(128, 0, 255, &g.requant, NULL), FQ_OK);
    check_case(kernel, &g);
    case_free(&g);
}

/* Wide and deep enough that the driver splits the columns into several cache blocks. */
static void test_matches_reference_across_column_blocks(void **state)
{
    const fq_qs8_gemm_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0xb10c);
    gemm_case g;
    case_random(&g, kernel->mr * 2 + 1, 301, 2051);
    check_case(kernel, &g);
    case_free(&g);
}

static void test_pack_refuses_bad_arguments(void **state)
{
    (void)state;
    const fq_qs8_gemm_kernel *kernel = fq_qs8_gemm_select(FQ_ISA_AUTO);
    int8_t w[8] = {0};
    int32_t bias[2] = {0, 0};
    float mult[2] = {1.0f, 1.0f};
    uint8_t packed[4096];
    fq_error err;
    assert_int_equal(fq_qs8_gemm_pack(kernel, 0, 4, w, bias, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_gemm_pack(kernel, 2, 0, w, bias, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_gemm_pack(kernel, 2, 4, w, bias, 256, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "zero point"));

    mult[1] = NAN;
    assert_int_equal(fq_qs8_gemm_pack(kernel, 2, 4, w, bias, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "channel 1"));
    mult[1] = 0.0f;
    assert_int_equal(fq_qs8_gemm_pack(kernel, 2, 4, w, bias, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    mult[1] = 1.0f;

    bias[0] = INT32_MAX - 100;
    assert_int_equal(fq_qs8_gemm_pack(kernel, 2, 4, w, bias, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "overflow"));
}

static void test_select_honours_the_cap(void **state)
{
    (void)state;
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++) {
        const fq_qs8_gemm_kernel *kernel = fq_qs8_gemm_select((fq_isa)cap);
        assert_non_null(kernel);
        assert_true(fq_isa_allowed(kernel->isa, (fq_isa)cap));
    }
    assert_int_equal(fq_qs8_gemm_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
}

/* Forcing each cap the CPU has picks a kernel of exactly that ISA when one exists for it. */
static void test_select_reaches_every_supported_isa(void **state)
{
    (void)state;
    int count;
    const fq_qs8_gemm_kernel *kernels = fq_qs8_gemm_kernels(&count);
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(kernels[i].isa))
            continue;
        assert_int_equal(fq_qs8_gemm_select(kernels[i].isa)->isa, kernels[i].isa);
    }
}

int main(void)
{
    static qs8_test_list list;
    int count;
    const fq_qs8_gemm_kernel *kernels = fq_qs8_gemm_kernels(&count);
    for (int i = 0; i < count; i++) {
        void *k = (void *)&kernels[i];
        const char *name = kernels[i].name;
        qs8_test_add(&list, "matches_reference_on_random_shapes", name,
                     test_matches_reference_on_random_shapes, k);
        qs8_test_add(&list, "matches_reference_on_every_small_depth", name,
                     test_matches_reference_on_every_small_depth, k);
        qs8_test_add(&list, "extreme_operands_do_not_saturate", name,
                     test_extreme_operands_do_not_saturate, k);
        qs8_test_add(&list, "rounds_ties_like_the_reference", name,
                     test_rounds_ties_like_the_reference, k);
        qs8_test_add(&list, "matches_reference_across_column_blocks", name,
                     test_matches_reference_across_column_blocks, k);
    }
    qs8_test_add(&list, "pack_refuses_bad_arguments", NULL, test_pack_refuses_bad_arguments,
                 NULL);
    qs8_test_add(&list, "select_honours_the_cap", NULL, test_select_honours_the_cap, NULL);
    qs8_test_add(&list, "select_reaches_every_supported_isa", NULL,
                 test_select_reaches_every_supported_isa, NULL);
    return qs8_test_run("qs8_gemm", &list);
}
