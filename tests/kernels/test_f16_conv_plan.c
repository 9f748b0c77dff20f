/* The fp16-arithmetic convolution plan (kernels/f16_conv_plan.h) against the fp32 reference
 * convolution on fp16-rounded inputs, weights and biases; which layers and ISA caps it takes;
 * and the Conv op choosing it for fp16 weights. Runs where the CPU has fp16 arithmetic (under
 * qemu aarch64 -cpu max in the cross build); elsewhere those tests skip. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f16_conv_plan.h"
#include "facequant/fq.h"
#include "graph_builder.h"
#include "ref/f32_conv2d_ref.h"
#include "ref/tensor_cast_ref.h"
#include "test_util.h"

enum { DENSE_ROUNDS = 24, DEPTHWISE_ROUNDS = 16 };

/* The highest cap below fp16 arithmetic on this architecture. */
#if defined(FQ_KERNELS_AARCH64)
static const fq_isa below_f16 = FQ_ISA_NEONDOT;
#else
static const fq_isa below_f16 = FQ_ISA_AVX512VNNI;
#endif

static bool cpu_lacks_f16(void)
{
    if (fq_f16_gemm_select(FQ_ISA_AUTO) != NULL && fq_f16_dwconv3x3_select(FQ_ISA_AUTO) != NULL)
        return false;
    printf("[  SKIPPED ] this CPU (or build) has no fp16 arithmetic (AVX512-FP16 or ARMv8.2 "
           "fp16)\n");
    return true;
}

/* Values in [lo, hi] that fp16 holds exactly. */
static float *random_rounded(size_t count, float lo, float hi)
{
    float *v = malloc((count > 0 ? count : 1) * sizeof(float));
    assert_non_null(v);
    for (size_t i = 0; i < count; i++)
        v[i] = fq_f32_from_f16(fq_f16_from_f32(fq_test_rand_float(lo, hi)));
    return v;
}

static uint16_t *narrow(const float *v, size_t count)
{
    uint16_t *h = malloc((count > 0 ? count : 1) * sizeof(uint16_t));
    assert_non_null(h);
    for (size_t i = 0; i < count; i++)
        h[i] = fq_f16_from_f32(v[i]);
    return h;
}

static float *absolute(const float *v, size_t count)
{
    float *a = malloc((count > 0 ? count : 1) * sizeof(float));
    assert_non_null(a);
    for (size_t i = 0; i < count; i++)
        a[i] = fabsf(v[i]);
    return a;
}

static int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad)
{
    if (in + 2 * pad < kernel)
        return 0;
    return (in + 2 * pad - kernel) / stride + 1;
}

/* None, Relu or Clip, with fp16-exact Clip bounds. */
static fq_epilogue_f32 random_activation(void)
{
    fq_epilogue_f32 act = {.kind = FQ_EPILOGUE_F32_NONE};
    int pick = fq_test_rand_int(0, 2);
    if (pick == 1)
        act.kind = FQ_EPILOGUE_F32_RELU;
    if (pick == 2)
        act = (fq_epilogue_f32){.kind = FQ_EPILOGUE_F32_CLIP, .alpha = -0.5f, .beta = 0.75f};
    return act;
}

/* Channels 1..67, sizes 1..23, square kernel 1 or 3 (depthwise: 3), equal strides, pads 0..1. */
static fq_conv2d_f32_params random_params(bool depthwise, int64_t stride)
{
    fq_conv2d_f32_params p;
    do {
        int64_t k = depthwise || fq_test_rand_int(0, 1) ? 3 : 1;
        int64_t channels = fq_test_rand_int(1, 67);
        p = (fq_conv2d_f32_params){
            .batch = fq_test_rand_int(1, 2), .in_channels = channels,
            .in_h = fq_test_rand_int(1, 23), .in_w = fq_test_rand_int(1, 23),
            .out_channels = depthwise ? channels : fq_test_rand_int(1, 67),
            .kernel_h = k, .kernel_w = k,
            .stride_h = stride > 0 ? stride : fq_test_rand_int(1, 2),
            .dilation_h = 1, .dilation_w = 1,
            .pad_top = fq_test_rand_int(0, 1), .pad_left = fq_test_rand_int(0, 1),
            .groups = depthwise ? channels : 1, .act = random_activation()};
        p.stride_w = p.stride_h;
        p.out_h = out_size(p.in_h, k, p.stride_h, p.pad_top);
        p.out_w = out_size(p.in_w, k, p.stride_w, p.pad_left);
    } while (p.out_h == 0 || p.out_w == 0);
    return p;
}

static float *reference(const fq_conv2d_f32_params *p, const float *x, const float *w,
                        const float *bias, size_t y_count)
{
    float *y = malloc(y_count * sizeof(float));
    size_t scratch = fq_ref_conv2d_f32_workspace_size(p);
    float *work = malloc(scratch > 0 ? scratch : 1);
    assert_true(y != NULL && work != NULL);
    fq_ref_conv2d_f32(p, x, w, bias, y, work);
    free(work);
    return y;
}

/* Tolerance from the f16 accumulation bound of f16_gemm.h: each of the K + 1 fp16 roundings
 * (K products, then the result) loses at most 2^-11 of a running sum bounded by the magnitude
 * sum S = |bias| + sum |x * w|; the errors add up about like sqrt(K + 1), so the bound is
 * (sqrt(K + 1) + 1) * 2^-11 * S + 2^-24. A misplaced weight or pixel moves an output by about
 * sqrt(K) / 3, far above it. The clamp cannot widen a difference. */
static void compare(const fq_conv2d_f32_params *p, const float *got, const float *want,
                    const float *magnitude, size_t count)
{
    double depth = (double)(p->in_channels / p->groups * p->kernel_h * p->kernel_w);
    double factor = (sqrt(depth + 1.0) + 1.0) * 0x1p-11;
    for (size_t i = 0; i < count; i++) {
        double bound = factor * magnitude[i] + 0x1p-24;
        double diff = fabs((double)got[i] - want[i]);
        if (!(diff <= bound))
            fail_msg("conv %lldx%lld s%lld, %lld -> %lld channels, %lldx%lld, groups %lld: "
                     "element %zu is %g, reference %g (bound %g)", (long long)p->kernel_h,
                     (long long)p->kernel_w, (long long)p->stride_h, (long long)p->in_channels,
                     (long long)p->out_channels, (long long)p->in_h, (long long)p->in_w,
                     (long long)p->groups, i, got[i], want[i], bound);
    }
}

static float *run_plan(const fq_conv2d_f32_params *p, const float *x, const uint16_t *w16,
                       const float *bias, size_t y_count)
{
    fq_f16_conv_plan *plan = NULL;
    fq_error err = {0};
    if (fq_f16_conv_plan_create(p, w16, bias, FQ_ISA_AUTO, &plan, &err) != FQ_OK)
        fail_msg("plan: %s", err.message);
    float *y = malloc(y_count * sizeof(float));
    void *work = aligned_alloc(FQ_ALIGNMENT, plan->workspace > 0 ? plan->workspace : 64);
    assert_true(y != NULL && work != NULL);
    fq_f16_conv_run(plan, x, y, work);
    free(work);
    fq_f16_conv_plan_free(plan);
    return y;
}

static void check_case(const fq_conv2d_f32_params *p)
{
    size_t x_count = (size_t)(p->batch * p->in_channels * p->in_h * p->in_w);
    size_t w_count = (size_t)(p->out_channels * p->in_channels / p->groups * p->kernel_h *
                              p->kernel_w);
    size_t y_count = (size_t)(p->batch * p->out_channels * p->out_h * p->out_w);
    size_t oc = (size_t)p->out_channels;
    float *x = random_rounded(x_count, -1.0f, 1.0f);
    float *w = random_rounded(w_count, -1.0f, 1.0f);
    float *bias = random_rounded(oc, -0.5f, 0.5f);
    uint16_t *w16 = narrow(w, w_count);
    float *ax = absolute(x, x_count), *aw = absolute(w, w_count), *ab = absolute(bias, oc);
    fq_conv2d_f32_params plain = *p;
    plain.act = (fq_epilogue_f32){.kind = FQ_EPILOGUE_F32_NONE};

    assert_true(fq_f16_conv_plan_applies(p, FQ_ISA_AUTO));
    float *got = run_plan(p, x, w16, bias, y_count);
    float *want = reference(p, x, w, bias, y_count);
    float *magnitude = reference(&plain, ax, aw, ab, y_count);
    compare(p, got, want, magnitude, y_count);

    float *arrays[] = {x, w, bias, ax, aw, ab, got, want, magnitude};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
        free(arrays[i]);
    free(w16);
}

static void test_dense_plan_matches_reference_conv_on_random_shapes(void **state)
{
    (void)state;
    if (cpu_lacks_f16())
        skip();
    fq_test_seed(61);
    for (int round = 0; round < DENSE_ROUNDS; round++) {
        fq_conv2d_f32_params p = random_params(false, 0);
        check_case(&p);
    }
}

static void test_depthwise_stride1_plan_matches_reference_conv(void **state)
{
    (void)state;
    if (cpu_lacks_f16())
        skip();
    fq_test_seed(62);
    for (int round = 0; round < DEPTHWISE_ROUNDS; round++) {
        fq_conv2d_f32_params p = random_params(true, 1);
        check_case(&p);
    }
}

static void test_depthwise_stride2_plan_matches_reference_conv(void **state)
{
    (void)state;
    if (cpu_lacks_f16())
        skip();
    fq_test_seed(63);
    for (int round = 0; round < DEPTHWISE_ROUNDS; round++) {
        fq_conv2d_f32_params p = random_params(true, 2);
        check_case(&p);
    }
}

static fq_conv2d_f32_params conv3x3(int64_t in_channels, int64_t out_channels, int64_t groups)
{
    return (fq_conv2d_f32_params){
        .batch = 1, .in_channels = in_channels, .in_h = 8, .in_w = 8,
        .out_channels = out_channels, .out_h = 8, .out_w = 8, .kernel_h = 3, .kernel_w = 3,
        .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .pad_top = 1,
        .pad_left = 1, .groups = groups, .act = {.kind = FQ_EPILOGUE_F32_RELU}};
}

static void test_plan_names_the_f16_kernel_and_nhwc(void **state)
{
    (void)state;
    if (cpu_lacks_f16())
        skip();
    fq_conv2d_f32_params dense = conv3x3(4, 8, 1), dw = conv3x3(8, 8, 8);
    uint16_t w[8 * 4 * 9] = {0};
    fq_f16_conv_plan *a = NULL, *b = NULL;
    assert_int_equal(fq_f16_conv_plan_create(&dense, w, NULL, FQ_ISA_AUTO, &a, NULL), FQ_OK);
    assert_int_equal(fq_f16_conv_plan_create(&dw, w, NULL, FQ_ISA_AUTO, &b, NULL), FQ_OK);
    assert_non_null(strstr(a->name, "f16_gemm_"));
    assert_non_null(strstr(a->name, "+nhwc"));
    assert_non_null(strstr(b->name, "f16_dwconv3x3_"));
    fq_f16_conv_plan_free(a);
    fq_f16_conv_plan_free(b);
}

static void test_cap_below_fp16_is_refused_by_the_plan(void **state)
{
    (void)state;
    fq_conv2d_f32_params p = conv3x3(4, 8, 1);
    uint16_t w[8 * 4 * 9] = {0};
    fq_f16_conv_plan *plan = NULL;
    fq_error err = {0};
    assert_false(fq_f16_conv_plan_applies(&p, below_f16));
    assert_int_equal(fq_f16_conv_plan_create(&p, w, NULL, below_f16, &plan, &err),
                     FQ_ERR_UNSUPPORTED);
    assert_null(plan);
    assert_non_null(strstr(err.message, fq_isa_name(below_f16)));
}

static void test_depth_over_4096_stays_off_the_f16_plan(void **state)
{
    (void)state;
    fq_conv2d_f32_params p = conv3x3(456, 8, 1); /* K = 4104 */
    assert_false(fq_f16_conv_plan_applies(&p, FQ_ISA_AUTO));
    p.in_channels = 455; /* K = 4095 */
    assert_int_equal(fq_f16_conv_plan_applies(&p, FQ_ISA_AUTO),
                     fq_f16_gemm_select(FQ_ISA_AUTO) != NULL);
}

static void test_leaky_relu_and_grouped_convs_stay_off_the_f16_plan(void **state)
{
    (void)state;
    fq_conv2d_f32_params leaky = conv3x3(4, 8, 1), grouped = conv3x3(8, 8, 2);
    leaky.act = (fq_epilogue_f32){.kind = FQ_EPILOGUE_F32_LEAKY_RELU, .alpha = 0.1f};
    assert_false(fq_f16_conv_plan_applies(&leaky, FQ_ISA_AUTO));
    assert_false(fq_f16_conv_plan_applies(&grouped, FQ_ISA_AUTO));
}

/* ---- the Conv op ---- */

enum { IN_C = 6, OUT_C = 10, H = 9, W = 11, K = 3, PIXELS = H * W };

/* x -> Conv 3x3 pad 1 with fp16 weights and an f32 bias, + Relu -> y, through the passes. */
static fq_graph *fp16_conv_graph(const uint16_t *w, const float *bias)
{
    static const int64_t x_dims[] = {1, IN_C, H, W}, b_dims[] = {OUT_C}, pads[] = {1, 1, 1, 1};
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    fq_shape shape = {.rank = 4, .dims = {OUT_C, IN_C, K, K}};
    int wv;
    assert_int_equal(fq_graph_add_value(g, "w", FQ_DTYPE_F16, &shape, &wv, NULL), FQ_OK);
    assert_int_equal(fq_value_set_data(g, wv, w, false, NULL), FQ_OK);
    int in[] = {x, wv, gb_const_f32(g, "b", 1, b_dims, bias)};
    int v = gb_node(g, "Conv", in, 3, "c");
    gb_attr_ints(g, "pads", 4, pads);
    v = gb_node(g, "Relu", &v, 1, "y");
    gb_output(g, v);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
    return g;
}

/* Runs g under cap on x in a session that asks for fp16 arithmetic; y gets the output, name
 * the Conv's kernel name. */
static void run_session(const fq_graph *g, fq_isa cap, const float *x, float *y, char *name,
                        size_t name_size)
{
    fq_session_options o = fq_session_options_default();
    o.isa = cap;
    o.fp16_arithmetic = true;
    fq_session *s = NULL;
    fq_error err = {0};
    if (fq_session_create(g, &o, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    assert_int_equal(fq_session_set_input(s, 0, x, IN_C * PIXELS * sizeof(float), &err), FQ_OK);
    assert_int_equal(fq_session_run(s, &err), FQ_OK);
    fq_tensor t;
    assert_int_equal(fq_session_output(s, 0, &t, &err), FQ_OK);
    memcpy(y, t.data, OUT_C * PIXELS * sizeof(float));
    const char *kernel = fq_session_kernel_name(s, 0);
    snprintf(name, name_size, "%s", kernel != NULL ? kernel : "");
    fq_session_free(s);
}

typedef struct op_case {
    float x[IN_C * PIXELS];
    float w[OUT_C * IN_C * K * K];
    uint16_t w16[OUT_C * IN_C * K * K];
    float bias[OUT_C];
} op_case;

static void fill_op_case(op_case *c)
{
    fq_test_seed(64);
    for (int i = 0; i < IN_C * PIXELS; i++)
        c->x[i] = fq_f32_from_f16(fq_f16_from_f32(fq_test_rand_float(-1.0f, 1.0f)));
    for (int i = 0; i < OUT_C * IN_C * K * K; i++) {
        c->w16[i] = fq_f16_from_f32(fq_test_rand_float(-1.0f, 1.0f));
        c->w[i] = fq_f32_from_f16(c->w16[i]);
    }
    for (int i = 0; i < OUT_C; i++)
        c->bias[i] = fq_f32_from_f16(fq_f16_from_f32(fq_test_rand_float(-0.5f, 0.5f)));
}

static void test_conv_op_with_fp16_weights_reports_and_runs_the_f16_kernel(void **state)
{
    (void)state;
    if (cpu_lacks_f16())
        skip();
    static op_case c;
    fill_op_case(&c);
    fq_graph *g = fp16_conv_graph(c.w16, c.bias);
    float got[OUT_C * PIXELS];
    char name[128];
    run_session(g, FQ_ISA_AUTO, c.x, got, name, sizeof(name));
    if (strstr(name, "f16_gemm_") == NULL || strstr(name, "+nhwc") == NULL)
        fail_msg("fp16 Conv runs %s, expected the f16 GEMM over NHWC", name);

    fq_conv2d_f32_params p = conv3x3(IN_C, OUT_C, 1);
    p.in_h = p.out_h = H;
    p.in_w = p.out_w = W;
    fq_conv2d_f32_params plain = p;
    plain.act = (fq_epilogue_f32){.kind = FQ_EPILOGUE_F32_NONE};
    float *want = reference(&p, c.x, c.w, c.bias, OUT_C * PIXELS);
    float *ax = absolute(c.x, IN_C * PIXELS), *aw = absolute(c.w, OUT_C * IN_C * K * K);
    float *ab = absolute(c.bias, OUT_C);
    float *magnitude = reference(&plain, ax, aw, ab, OUT_C * PIXELS);
    compare(&p, got, want, magnitude, OUT_C * PIXELS);
    free(want);
    free(ax);
    free(aw);
    free(ab);
    free(magnitude);
    fq_graph_free(g);
}

static void test_conv_op_under_a_cap_below_fp16_keeps_the_f32_plan(void **state)
{
    (void)state;
    static op_case c;
    fill_op_case(&c);
    fq_graph *g = fp16_conv_graph(c.w16, c.bias);
    float got[OUT_C * PIXELS];
    char name[128];
    run_session(g, below_f16, c.x, got, name, sizeof(name));
    if (strstr(name, "f32_gemm_f16w_") == NULL)
        fail_msg("fp16 Conv under cap %s runs %s, expected an f32_gemm_f16w_ kernel",
                 fq_isa_name(below_f16), name);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_plan_matches_reference_conv_on_random_shapes),
        cmocka_unit_test(test_depthwise_stride1_plan_matches_reference_conv),
        cmocka_unit_test(test_depthwise_stride2_plan_matches_reference_conv),
        cmocka_unit_test(test_plan_names_the_f16_kernel_and_nhwc),
        cmocka_unit_test(test_cap_below_fp16_is_refused_by_the_plan),
        cmocka_unit_test(test_depth_over_4096_stays_off_the_f16_plan),
        cmocka_unit_test(test_leaky_relu_and_grouped_convs_stay_off_the_f16_plan),
        cmocka_unit_test(test_conv_op_with_fp16_weights_reports_and_runs_the_f16_kernel),
        cmocka_unit_test(test_conv_op_under_a_cap_below_fp16_keeps_the_f32_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
