/* Conv and Gemm with fp16 weight constants: the reference exec (no prepare) and the planned
 * session path both equal the f32 operator on the fp16-rounded weights, bit for bit; weights
 * that are fp16 but not constant are refused naming the node. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"
#include "op_harness.h"
#include "ref/tensor_cast_ref.h"
#include "test_util.h"

enum { IN_C = 6, OUT_C = 10, H = 9, W = 11, K = 3 };
enum { WEIGHTS = OUT_C * IN_C * K * K, PIXELS = H * W };

typedef struct conv_data {
    float x[IN_C * PIXELS];
    uint16_t half[WEIGHTS];
    float wide[WEIGHTS];  /* the fp16 weights' values */
    float bias[OUT_C];
} conv_data;

static void fill(conv_data *d, unsigned long long seed)
{
    fq_test_seed(seed);
    for (int i = 0; i < IN_C * PIXELS; i++)
        d->x[i] = fq_test_rand_float(-1.0f, 1.0f);
    for (int i = 0; i < WEIGHTS; i++) {
        d->half[i] = fq_f16_from_f32(fq_test_rand_float(-1.0f, 1.0f));
        d->wide[i] = fq_f32_from_f16(d->half[i]);
    }
    for (int i = 0; i < OUT_C; i++)
        d->bias[i] = fq_test_rand_float(-1.0f, 1.0f);
}

/* One Conv 3x3 pad 1 + Clip through the harness (reference exec), with fp16 or f32 weights. */
static fq_status harness_conv(fq_harness *h, const conv_data *d, bool f16, bool constant)
{
    static const int64_t x_dims[] = {1, IN_C, H, W}, w_dims[] = {OUT_C, IN_C, K, K};
    static const int64_t b_dims[] = {OUT_C}, pads[] = {1, 1, 1, 1};
    fq_harness_init(h, "Conv", 13);
    fq_harness_input(h, FQ_DTYPE_F32, 4, x_dims, d->x, false);
    fq_harness_input(h, f16 ? FQ_DTYPE_F16 : FQ_DTYPE_F32, 4, w_dims,
                     f16 ? (const void *)d->half : (const void *)d->wide, constant);
    fq_harness_input(h, FQ_DTYPE_F32, 1, b_dims, d->bias, true);
    fq_harness_attr_ints(h, "pads", 4, pads);
    fq_harness_activation(h, (fq_activation){FQ_ACT_CLIP, -0.5f, 0.75f});
    return fq_harness_run(h);
}

static void test_reference_conv_with_fp16_weights_equals_f32_conv_on_rounded_weights(void **state)
{
    (void)state;
    conv_data d;
    fill(&d, 3);
    fq_harness half, wide;
    if (harness_conv(&half, &d, true, true) != FQ_OK)
        fail_msg("%s", half.err.message);
    assert_int_equal(harness_conv(&wide, &d, false, true), FQ_OK);
    assert_int_equal(half.outputs[0].dtype, FQ_DTYPE_F32);
    assert_memory_equal(half.outputs[0].data, wide.outputs[0].data,
                        OUT_C * PIXELS * sizeof(float));
    fq_harness_free(&half);
    fq_harness_free(&wide);
}

static void test_conv_refuses_fp16_weights_that_are_not_a_constant(void **state)
{
    (void)state;
    conv_data d;
    fill(&d, 4);
    fq_harness h;
    assert_int_equal(harness_conv(&h, &d, true, false), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "fp16 weights"));
    assert_non_null(strstr(h.err.message, "node"));
    fq_harness_free(&h);
}

/* x -> Conv 3x3 pad 1 (weights fp16 or f32) + Relu -> y, through the passes. */
static fq_graph *conv_graph(const conv_data *d, bool f16)
{
    static const int64_t x_dims[] = {1, IN_C, H, W}, w_dims[] = {OUT_C, IN_C, K, K};
    static const int64_t b_dims[] = {OUT_C}, pads[] = {1, 1, 1, 1};
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    int w;
    if (f16) {
        fq_shape shape = {.rank = 4, .dims = {OUT_C, IN_C, K, K}};
        assert_int_equal(fq_graph_add_value(g, "w", FQ_DTYPE_F16, &shape, &w, NULL), FQ_OK);
        assert_int_equal(fq_value_set_data(g, w, d->half, false, NULL), FQ_OK);
    } else {
        w = gb_const_f32(g, "w", 4, w_dims, d->wide);
    }
    int in[] = {x, w, gb_const_f32(g, "b", 1, b_dims, d->bias)};
    int v = gb_node(g, "Conv", in, 3, "c");
    gb_attr_ints(g, "pads", 4, pads);
    v = gb_node(g, "Relu", &v, 1, "y");
    gb_output(g, v);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    return g;
}

/* Runs g under cap, in fp16 arithmetic where asked for and possible; copies y into out and the
 * first node's kernel name into name. */
static void run_session_with(const fq_graph *g, fq_isa cap, bool fp16_arithmetic, const float *x,
                             float *out, char *name, size_t name_size)
{
    fq_session_options o = fq_session_options_default();
    o.isa = cap;
    o.fp16_arithmetic = fp16_arithmetic;
    fq_session *s = NULL;
    fq_error err = {0};
    if (fq_session_create(g, &o, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    assert_int_equal(fq_session_set_input(s, 0, x, IN_C * PIXELS * sizeof(float), &err), FQ_OK);
    assert_int_equal(fq_session_run(s, &err), FQ_OK);
    fq_tensor t;
    assert_int_equal(fq_session_output(s, 0, &t, &err), FQ_OK);
    memcpy(out, t.data, OUT_C * PIXELS * sizeof(float));
    const char *kernel = fq_session_kernel_name(s, 0);
    snprintf(name, name_size, "%s", kernel != NULL ? kernel : "");
    fq_session_free(s);
}

static void run_session(const fq_graph *g, fq_isa cap, const float *x, float *out, char *name,
                        size_t name_size)
{
    run_session_with(g, cap, false, x, out, name, name_size);
}

static void check_planned_conv(fq_isa cap, const char *kernel)
{
    conv_data d;
    fill(&d, 5);
    fq_graph *half = conv_graph(&d, true), *wide = conv_graph(&d, false);
    float got[OUT_C * PIXELS], want[OUT_C * PIXELS];
    char name[128], wide_name[128];
    run_session(half, cap, d.x, got, name, sizeof(name));
    run_session(wide, cap, d.x, want, wide_name, sizeof(wide_name));
    if (strstr(name, kernel) == NULL)
        fail_msg("fp16 Conv runs %s, expected %s", name, kernel);
    assert_memory_equal(got, want, sizeof(got));
    fq_graph_free(half);
    fq_graph_free(wide);
}

/* The highest cap below the ISAs with fp16 arithmetic, under which fp16 weights run the fp32
 * arithmetic of the f16w kernels (with fp16 arithmetic, f16_conv_plan.h runs instead and the
 * results differ by fp16 rounding; tests/kernels/test_f16_conv_plan.c covers that plan). */
#if defined(__aarch64__) || defined(__arm__)
#define BELOW_FP16_ARITHMETIC FQ_ISA_NEONDOT
#else
#define BELOW_FP16_ARITHMETIC FQ_ISA_AVX512VNNI
#endif

static void test_planned_conv_with_fp16_weights_runs_an_f16w_kernel_bit_exactly(void **state)
{
    (void)state;
    check_planned_conv(BELOW_FP16_ARITHMETIC, "f32_gemm_f16w_");
}

/* By default every CPU runs fp16 weights in fp32 arithmetic, bit for bit with the f32 Conv on
 * the rounded weights; asked for fp16 arithmetic, a CPU that has it runs the fp16 plan (NHWC,
 * within fp16 rounding of the f32 result) and one that lacks it keeps the f16w kernels. */
static void test_fp16_arithmetic_runs_only_when_the_session_asks_for_it(void **state)
{
    (void)state;
    check_planned_conv(FQ_ISA_AUTO, "f32_");
    conv_data d;
    fill(&d, 6);
    fq_graph *half = conv_graph(&d, true), *wide = conv_graph(&d, false);
    float got[OUT_C * PIXELS], want[OUT_C * PIXELS];
    char name[128], wide_name[128];
    run_session_with(half, FQ_ISA_AUTO, true, d.x, got, name, sizeof(name));
    run_session(wide, FQ_ISA_AUTO, d.x, want, wide_name, sizeof(wide_name));
    bool has_fp16 = fq_isa_supported(FQ_ISA_AVX512FP16) || fq_isa_supported(FQ_ISA_NEONFP16);
    if (has_fp16) {
        if (strstr(name, "f16_gemm_") == NULL || strstr(name, "+nhwc") == NULL)
            fail_msg("fp16 arithmetic asked for, the Conv runs %s", name);
        for (int i = 0; i < OUT_C * PIXELS; i++)
            assert_true(fabsf(got[i] - want[i]) <= 1e-2f * (1.0f + fabsf(want[i])));
    } else {
        if (strstr(name, "f32_gemm_f16w_") == NULL)
            fail_msg("no fp16 arithmetic here, yet the Conv runs %s", name);
        assert_memory_equal(got, want, sizeof(got));
    }
    fq_graph_free(half);
    fq_graph_free(wide);
}

static void test_scalar_cap_runs_the_scalar_f16w_kernel_bit_exactly(void **state)
{
    (void)state;
    check_planned_conv(FQ_ISA_SCALAR, "f32_gemm_f16w_4x8__scalar");
}

/* ---- Gemm ---- */

enum { GM = 3, GK = 20, GN = 7 };

static fq_status harness_gemm(fq_harness *h, const float *a, const void *b, bool f16,
                              bool trans_b, bool constant, const float *c)
{
    static const int64_t a_dims[] = {GM, GK}, c_dims[] = {GN};
    int64_t b_dims[] = {trans_b ? GN : GK, trans_b ? GK : GN};
    fq_harness_init(h, "Gemm", 13);
    fq_harness_input(h, FQ_DTYPE_F32, 2, a_dims, a, false);
    fq_harness_input(h, f16 ? FQ_DTYPE_F16 : FQ_DTYPE_F32, 2, b_dims, b, constant);
    fq_harness_input(h, FQ_DTYPE_F32, 1, c_dims, c, true);
    fq_harness_attr_int(h, "transB", trans_b);
    fq_harness_attr_float(h, "alpha", 0.5f);
    return fq_harness_run(h);
}

static void check_gemm(bool trans_b)
{
    float a[GM * GK], wide[GK * GN], c[GN];
    uint16_t half[GK * GN];
    fq_test_seed(trans_b ? 11 : 12);
    for (int i = 0; i < GM * GK; i++)
        a[i] = fq_test_rand_float(-1.0f, 1.0f);
    for (int i = 0; i < GK * GN; i++) {
        half[i] = fq_f16_from_f32(fq_test_rand_float(-2.0f, 2.0f));
        wide[i] = fq_f32_from_f16(half[i]);
    }
    for (int i = 0; i < GN; i++)
        c[i] = fq_test_rand_float(-1.0f, 1.0f);
    fq_harness h16, h32;
    if (harness_gemm(&h16, a, half, true, trans_b, true, c) != FQ_OK)
        fail_msg("%s", h16.err.message);
    assert_int_equal(harness_gemm(&h32, a, wide, false, trans_b, true, c), FQ_OK);
    assert_memory_equal(h16.outputs[0].data, h32.outputs[0].data, GM * GN * sizeof(float));
    fq_harness_free(&h16);
    fq_harness_free(&h32);
}

static void test_gemm_with_fp16_b_equals_f32_gemm_on_rounded_b(void **state)
{
    (void)state;
    check_gemm(false);
}

static void test_gemm_with_fp16_transposed_b_equals_f32_gemm_on_rounded_b(void **state)
{
    (void)state;
    check_gemm(true);
}

static void test_gemm_refuses_an_fp16_b_that_is_not_a_constant(void **state)
{
    (void)state;
    float a[GM * GK] = {0}, c[GN] = {0};
    uint16_t half[GK * GN] = {0};
    fq_harness h;
    assert_int_equal(harness_gemm(&h, a, half, true, false, false, c), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(h.err.message, "fp16 B"));
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_conv_with_fp16_weights_equals_f32_conv_on_rounded_weights),
        cmocka_unit_test(test_conv_refuses_fp16_weights_that_are_not_a_constant),
        cmocka_unit_test(test_planned_conv_with_fp16_weights_runs_an_f16w_kernel_bit_exactly),
        cmocka_unit_test(test_fp16_arithmetic_runs_only_when_the_session_asks_for_it),
        cmocka_unit_test(test_scalar_cap_runs_the_scalar_f16w_kernel_bit_exactly),
        cmocka_unit_test(test_gemm_with_fp16_b_equals_f32_gemm_on_rounded_b),
        cmocka_unit_test(test_gemm_with_fp16_transposed_b_equals_f32_gemm_on_rounded_b),
        cmocka_unit_test(test_gemm_refuses_an_fp16_b_that_is_not_a_constant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
