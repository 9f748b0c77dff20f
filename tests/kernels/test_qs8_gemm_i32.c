/* int8 GEMM kernels with int32 output (kernels/qs8_gemm_i32.h) against the reference, bit for
 * bit, over random shapes and extreme operands; packing refusals; selection under a cap; the
 * input quantizers of dynamic int8 against QuantizeLinear's reference. */
#include <math.h>
#include <string.h>

#include "qs8_gemm_i32.h"
#include "qs8_test_util.h"
#include "ref/qdq_ref.h"
#include "ref/qs8_gemm_i32_ref.h"

enum { ROUNDS = 40, GUARD = 3 };

static const int32_t SENTINEL = 0x5a5a5a5a;

/* One problem with guard words between rows (c_stride > n) and after the last row. */
typedef struct i32_case {
    size_t m, n, k, a_stride, c_words;
    uint8_t *a;
    int8_t *w;
    int32_t *c, *c_ref;
} i32_case;

static void case_alloc(i32_case *g, size_t m, size_t n, size_t k)
{
    g->m = m;
    g->n = n;
    g->k = k;
    g->a_stride = k + (size_t)fq_test_rand_int(0, 3);
    g->c_words = n + (size_t)fq_test_rand_int(0, 3);
    g->a = qs8_alloc(m * g->a_stride);
    g->w = qs8_alloc(n * k);
    size_t words = m * g->c_words + GUARD;
    g->c = qs8_alloc(words * sizeof(int32_t));
    g->c_ref = qs8_alloc(words * sizeof(int32_t));
    for (size_t i = 0; i < words; i++)
        g->c[i] = g->c_ref[i] = SENTINEL;
}

static void case_free(i32_case *g)
{
    fq_free_aligned(g->a);
    fq_free_aligned(g->w);
    fq_free_aligned(g->c);
    fq_free_aligned(g->c_ref);
}

static void check_case(const fq_qs8_gemm_i32_kernel *kernel, i32_case *g)
{
    size_t c_stride = g->c_words * sizeof(int32_t);
    fq_qs8_gemm_i32_ref(g->m, g->n, g->k, g->a, g->a_stride, g->w, g->c_ref, c_stride);

    void *packed = qs8_alloc(fq_qs8_gemm_i32_packed_size(kernel, g->n, g->k));
    assert_int_equal(fq_qs8_gemm_i32_pack(kernel, g->n, g->k, g->w, packed, NULL), FQ_OK);
    fq_qs8_gemm_i32_run(kernel, g->m, g->n, g->k, g->a, g->a_stride, packed, g->c, c_stride);
    fq_free_aligned(packed);

    for (size_t i = 0; i < g->m * g->c_words + GUARD; i++) {
        if (g->c[i] != g->c_ref[i])
            fail_msg("%s: m %zu n %zu k %zu: word %zu (row %zu, column %zu) is %d, reference "
                     "%d", kernel->name, g->m, g->n, g->k, i, i / g->c_words, i % g->c_words,
                     g->c[i], g->c_ref[i]);
    }
}

static void test_matches_reference_on_random_shapes(void **state)
{
    const fq_qs8_gemm_i32_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0x132a + (unsigned long long)kernel->isa);
    for (int round = 0; round < ROUNDS; round++) {
        i32_case g;
        case_alloc(&g, (size_t)fq_test_rand_int(1, 67), (size_t)fq_test_rand_int(1, 67),
                   (size_t)fq_test_rand_int(1, 67));
        qs8_fill_u8(g.a, g.m * g.a_stride, 0, 255);
        qs8_fill_i8(g.w, g.n * g.k, -128, 127);
        check_case(kernel, &g);
        case_free(&g);
    }
}

/* Every depth up to a few groups past kr on a tile-and-a-bit, so each k tail is met. */
static void test_matches_reference_on_every_small_depth(void **state)
{
    const fq_qs8_gemm_i32_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0x1e57);
    for (size_t k = 1; k <= (size_t)kernel->kr * 4 + 19; k++) {
        i32_case g;
        case_alloc(&g, kernel->mr + 1, kernel->nr + 1, k);
        qs8_fill_u8(g.a, g.m * g.a_stride, 0, 255);
        qs8_fill_i8(g.w, g.n * g.k, -128, 127);
        check_case(kernel, &g);
        case_free(&g);
    }
}

/* All activations 255 and all weights -128 or 127: the largest sums, where an int16
 * intermediate (pmaddubsw) would saturate; deep enough to cross the column blocks too. */
static void test_extreme_operands_do_not_saturate(void **state)
{
    const fq_qs8_gemm_i32_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    size_t depths[] = {1, 3, 4, 5, 64, 255, 1000, 4099};
    int8_t weights[] = {-128, 127};
    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        for (int s = 0; s < 2; s++) {
            i32_case g;
            case_alloc(&g, 11, 37, depths[d]);
            memset(g.a, 255, g.m * g.a_stride);
            memset(g.w, (uint8_t)weights[s], g.n * g.k);
            check_case(kernel, &g);
            assert_int_equal(g.c[0], 255 * weights[s] * (int32_t)depths[d]);
            case_free(&g);
        }
    }
}

static void test_matches_reference_across_column_blocks(void **state)
{
    const fq_qs8_gemm_i32_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0xb1c0);
    i32_case g;
    case_alloc(&g, kernel->mr * 2 + 1, 301, 2051);
    qs8_fill_u8(g.a, g.m * g.a_stride, 0, 255);
    qs8_fill_i8(g.w, g.n * g.k, -128, 127);
    check_case(kernel, &g);
    case_free(&g);
}

static void test_pack_refuses_empty_and_overflowing_shapes(void **state)
{
    (void)state;
    const fq_qs8_gemm_i32_kernel *kernel = fq_qs8_gemm_i32_select(FQ_ISA_AUTO);
    int8_t w[8] = {0};
    uint8_t packed[4096];
    fq_error err;
    assert_int_equal(fq_qs8_gemm_i32_pack(kernel, 0, 4, w, packed, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_gemm_i32_pack(kernel, 2, 0, w, packed, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "empty"));

    size_t k = (size_t)INT32_MAX / (255 * 128) + 1;
    int8_t *big = qs8_alloc(k);
    memset(big, 0, k);
    void *big_packed = qs8_alloc(fq_qs8_gemm_i32_packed_size(kernel, 1, k));
    assert_int_equal(fq_qs8_gemm_i32_pack(kernel, 1, k, big, big_packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "overflow"));
    fq_free_aligned(big);
    fq_free_aligned(big_packed);
}

static void test_select_honours_the_cap(void **state)
{
    (void)state;
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++) {
        const fq_qs8_gemm_i32_kernel *kernel = fq_qs8_gemm_i32_select((fq_isa)cap);
        assert_non_null(kernel);
        assert_true(fq_isa_allowed(kernel->isa, (fq_isa)cap));
    }
    assert_int_equal(fq_qs8_gemm_i32_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
}

/* Forcing each cap the CPU has picks a kernel of exactly that ISA when one exists for it. */
static void test_select_reaches_every_supported_isa(void **state)
{
    (void)state;
    int count;
    const fq_qs8_gemm_i32_kernel *kernels = fq_qs8_gemm_i32_kernels(&count);
    for (int i = 0; i < count; i++) {
        if (fq_isa_supported(kernels[i].isa))
            assert_int_equal(fq_qs8_gemm_i32_select(kernels[i].isa)->isa, kernels[i].isa);
    }
}

/* ---- the input quantizers against QuantizeLinear's reference ---- */

typedef struct quantizer {
    const char *name;
    fq_isa isa;
    fq_f32_quantize_u8_fn fn;
} quantizer;

static const quantizer quantizers[] = {
    {"f32_quantize_u8__scalar", FQ_ISA_SCALAR, fq_f32_quantize_u8__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"f32_quantize_u8__avx2", FQ_ISA_AVX2, fq_f32_quantize_u8__avx2},
#endif
};

enum { QUANT_VALUES = 1000 };

/* Random values, exact ties (k + 1/2) * scale, values far outside the range, NaN and
 * infinities, over lengths that leave every tail. */
static void test_quantizer_matches_quantize_linear(void **state)
{
    const quantizer *qz = *state;
    qs8_require_isa(qz->isa, qz->name);
    fq_test_seed(0x9a47);
    float x[QUANT_VALUES];
    uint8_t q[QUANT_VALUES + GUARD], q_ref[QUANT_VALUES];
    for (int round = 0; round < 20; round++) {
        float scale = fq_test_rand_float(0.001f, 0.1f);
        uint8_t zp = (uint8_t)fq_test_rand_int(0, 255);
        for (int i = 0; i < QUANT_VALUES; i++) {
            switch (fq_test_rand_int(0, 5)) {
            case 0: x[i] = ((float)fq_test_rand_int(-300, 300) + 0.5f) * scale; break;
            case 1: x[i] = fq_test_rand_float(-1e6f, 1e6f); break;
            case 2: x[i] = (float)fq_test_rand_int(-2, 2) * INFINITY; break;
            default: x[i] = fq_test_rand_float(-300.0f, 300.0f) * scale; break;
            }
            if (fq_test_rand_int(0, 50) == 0)
                x[i] = NAN;
        }
        size_t n = (size_t)fq_test_rand_int(1, QUANT_VALUES);
        memset(q, 0xa5, sizeof(q));
        fq_qdq_layout layout = {1, 1, (int64_t)n};
        fq_quantize_u8_ref(&layout, x, &scale, &zp, q_ref);
        qz->fn(x, n, scale, zp, q);
        for (size_t i = 0; i < n; i++)
            if (q[i] != q_ref[i])
                fail_msg("%s: x[%zu] = %.9g (scale %.9g, zero point %u) gives %u, reference %u",
                         qz->name, i, (double)x[i], (double)scale, zp, q[i], q_ref[i]);
        for (size_t i = n; i < n + GUARD; i++)
            assert_int_equal(q[i], 0xa5);
    }
}

typedef struct range_kernel {
    const char *name;
    fq_isa isa;
    fq_f32_range_fn fn;
} range_kernel;

static const range_kernel range_kernels[] = {
    {"f32_range__scalar", FQ_ISA_SCALAR, fq_f32_range__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"f32_range__avx2", FQ_ISA_AVX2, fq_f32_range__avx2},
#endif
};

/* min(0, x) and max(0, x) over the non-NaN values, against a plain loop, for every length up
 * to a few vectors and with NaN anywhere. */
static void test_range_skips_nan_and_widens_to_zero(void **state)
{
    const range_kernel *rk = *state;
    qs8_require_isa(rk->isa, rk->name);
    fq_test_seed(0x7a9e);
    float x[64];
    for (size_t n = 1; n <= 64; n++) {
        float shift = fq_test_rand_float(-3.0f, 3.0f);
        for (size_t i = 0; i < n; i++)
            x[i] = fq_test_rand_int(0, 9) == 0 ? NAN : fq_test_rand_float(-1.0f, 1.0f) + shift;
        float lo_ref = 0.0f, hi_ref = 0.0f, lo, hi;
        for (size_t i = 0; i < n; i++) {
            if (isnan(x[i]))
                continue;
            lo_ref = fminf(lo_ref, x[i]);
            hi_ref = fmaxf(hi_ref, x[i]);
        }
        rk->fn(x, n, &lo, &hi);
        assert_float_equal(lo, lo_ref, 0.0f);
        assert_float_equal(hi, hi_ref, 0.0f);
    }
}

static void test_quantizer_select_honours_the_cap(void **state)
{
    (void)state;
    fq_isa isa;
    assert_ptr_equal(fq_f32_quantize_u8_select(FQ_ISA_SCALAR, &isa), fq_f32_quantize_u8__scalar);
    assert_int_equal(isa, FQ_ISA_SCALAR);
    fq_f32_quantize_u8_select(FQ_ISA_AUTO, &isa);
    assert_true(fq_isa_allowed(isa, FQ_ISA_AUTO));
}

int main(void)
{
    static qs8_test_list list;
    int count;
    const fq_qs8_gemm_i32_kernel *kernels = fq_qs8_gemm_i32_kernels(&count);
    for (int i = 0; i < count; i++) {
        void *k = (void *)&kernels[i];
        const char *name = kernels[i].name;
        qs8_test_add(&list, "matches_reference_on_random_shapes", name,
                     test_matches_reference_on_random_shapes, k);
        qs8_test_add(&list, "matches_reference_on_every_small_depth", name,
                     test_matches_reference_on_every_small_depth, k);
        qs8_test_add(&list, "extreme_operands_do_not_saturate", name,
                     test_extreme_operands_do_not_saturate, k);
        qs8_test_add(&list, "matches_reference_across_column_blocks", name,
                     test_matches_reference_across_column_blocks, k);
    }
    qs8_test_add(&list, "pack_refuses_empty_and_overflowing_shapes", NULL,
                 test_pack_refuses_empty_and_overflowing_shapes, NULL);
    qs8_test_add(&list, "select_honours_the_cap", NULL, test_select_honours_the_cap, NULL);
    qs8_test_add(&list, "select_reaches_every_supported_isa", NULL,
                 test_select_reaches_every_supported_isa, NULL);
    for (size_t i = 0; i < sizeof(quantizers) / sizeof(quantizers[0]); i++)
        qs8_test_add(&list, "quantizer_matches_quantize_linear", quantizers[i].name,
                     test_quantizer_matches_quantize_linear, (void *)&quantizers[i]);
    for (size_t i = 0; i < sizeof(range_kernels) / sizeof(range_kernels[0]); i++)
        qs8_test_add(&list, "range_skips_nan_and_widens_to_zero", range_kernels[i].name,
                     test_range_skips_nan_and_widens_to_zero, (void *)&range_kernels[i]);
    qs8_test_add(&list, "quantizer_select_honours_the_cap", NULL,
                 test_quantizer_select_honours_the_cap, NULL);
    return qs8_test_run("qs8_gemm_i32", &list);
}
