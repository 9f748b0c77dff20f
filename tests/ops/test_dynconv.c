/* FqDynamicConv: against a float convolution of the dequantized weights and the
 * quantized-dequantized input, on hand-checked small cases, and the prepared kernels (any ISA
 * cap, any thread count) against the reference execution bit for bit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/calibrate.h"
#include "facequant/fq.h"
#include "graph_builder.h"
#include "ref/qdq_ref.h"
#include "test_util.h"

/* One convolution: geometry, attributes and the operands made for it. */
typedef struct conv_case {
    int rank;                    /* 3 (1-D) or 4 */
    int64_t n, c, h, w, m, kh, kw, group;
    int64_t strides[2], dilations[2], pads[4];
    const char *auto_pad;        /* NULL: explicit pads */
    fq_activation act;
    bool bias;
    float x_lo, x_hi;            /* input range */
    /* made by case_make */
    float *x;
    int8_t *wq;
    float *w_scale, *b, *slopes;
    size_t x_count, w_count;
} conv_case;

static int spatial(const conv_case *cc)
{
    return cc->rank - 2;
}

static void x_dims(const conv_case *cc, int64_t *dims)
{
    dims[0] = cc->n;
    dims[1] = cc->c;
    dims[2] = cc->rank == 4 ? cc->h : cc->w;
    dims[3] = cc->w;
}

static void w_dims(const conv_case *cc, int64_t *dims)
{
    dims[0] = cc->m;
    dims[1] = cc->c / cc->group;
    dims[2] = cc->rank == 4 ? cc->kh : cc->kw;
    dims[3] = cc->kw;
}

static void case_make(conv_case *cc, unsigned long long seed)
{
    fq_test_seed(seed);
    cc->x_count = (size_t)(cc->n * cc->c * (cc->rank == 4 ? cc->h : 1) * cc->w);
    cc->w_count = (size_t)(cc->m * (cc->c / cc->group) * (cc->rank == 4 ? cc->kh : 1) * cc->kw);
    cc->x = fq_malloc(cc->x_count * sizeof(float));
    cc->wq = fq_malloc(cc->w_count);
    cc->w_scale = fq_malloc((size_t)cc->m * sizeof(float));
    cc->b = fq_malloc((size_t)cc->m * sizeof(float));
    cc->slopes = fq_malloc((size_t)cc->m * sizeof(float));
    assert_true(cc->x && cc->wq && cc->w_scale && cc->b && cc->slopes);
    for (size_t i = 0; i < cc->x_count; i++)
        cc->x[i] = fq_test_rand_float(cc->x_lo, cc->x_hi);
    for (size_t i = 0; i < cc->w_count; i++)
        cc->wq[i] = (int8_t)fq_test_rand_int(-127, 127);
    for (int64_t o = 0; o < cc->m; o++) {
        cc->w_scale[o] = fq_test_rand_float(0.001f, 0.05f);
        cc->b[o] = fq_test_rand_float(-1.0f, 1.0f);
        cc->slopes[o] = fq_test_rand_float(-0.5f, 0.5f);
    }
}

static void case_free(conv_case *cc)
{
    fq_free(cc->x);
    fq_free(cc->wq);
    fq_free(cc->w_scale);
    fq_free(cc->b);
    fq_free(cc->slopes);
}

static int const_i8(fq_graph *g, const char *name, int rank, const int64_t *dims,
                    const int8_t *data)
{
    fq_shape shape = {.rank = rank};
    for (int d = 0; d < rank; d++)
        shape.dims[d] = dims[d];
    int v;
    assert_int_equal(fq_graph_add_value(g, name, FQ_DTYPE_I8, &shape, &v, NULL), FQ_OK);
    assert_int_equal(fq_value_set_data(g, v, data, false, NULL), FQ_OK);
    return v;
}

static void add_string_attr(fq_graph *g, const char *name, const char *value)
{
    fq_attr *attr;
    assert_int_equal(fq_node_add_attr(g, g->n_nodes - 1, name, FQ_ATTR_STRING, &attr, NULL),
                     FQ_OK);
    attr->s = fq_strdup(value);
    attr->s_len = strlen(value);
}

/* x -> FqDynamicConv -> y, bound and shape-inferred. */
static fq_graph *case_graph(const conv_case *cc)
{
    fq_graph *g = gb_graph(13);
    int64_t xd[4], wd[4], md[1] = {cc->m};
    x_dims(cc, xd);
    w_dims(cc, wd);
    int inputs[5], count = 0;
    inputs[count++] = gb_input(g, "x", cc->rank, xd);
    inputs[count++] = const_i8(g, "w", cc->rank, wd, cc->wq);
    inputs[count++] = gb_const_f32(g, "w_scale", 1, md, cc->w_scale);
    if (cc->bias)
        inputs[count++] = gb_const_f32(g, "b", 1, md, cc->b);
    if (cc->act.kind == FQ_ACT_PRELU)
        inputs[count++] = gb_const_f32(g, "slopes", 1, md, cc->slopes);
    int y = gb_node(g, "FqDynamicConv", inputs, count, "y");

    int s = spatial(cc);
    gb_attr_ints(g, "strides", s, cc->rank == 4 ? cc->strides : cc->strides + 1);
    gb_attr_ints(g, "dilations", s, cc->rank == 4 ? cc->dilations : cc->dilations + 1);
    gb_attr_int(g, "group", cc->group);
    if (cc->auto_pad != NULL) {
        add_string_attr(g, "auto_pad", cc->auto_pad);
    } else {
        int64_t pads1[2] = {cc->pads[1], cc->pads[3]};
        gb_attr_ints(g, "pads", 2 * s, cc->rank == 4 ? cc->pads : pads1);
    }
    g->nodes[g->n_nodes - 1].act = cc->act;
    gb_output(g, y);

    fq_error err = {0};
    if (fq_graph_bind_ops(g, &err) != FQ_OK || fq_node_infer(g, g->n_nodes - 1, &err) != FQ_OK)
        fail_msg("binding or inferring: %s", err.message);
    return g;
}

static size_t output_count(const fq_graph *g)
{
    return (size_t)fq_shape_numel(&g->values[g->outputs[0]].shape);
}

/* The operator's exec without a prepared state (the reference path), as constant folding
 * would call it. */
static float *run_reference(const fq_graph *g, const float *x)
{
    const fq_node *node = &g->nodes[g->n_nodes - 1];
    const fq_op_info *info = fq_op_get(node->op);
    fq_tensor inputs[5];
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(g, node, i);
        inputs[i] = (fq_tensor){v->dtype, v->shape, i == 0 ? (void *)x : v->data, &v->quant};
    }
    const fq_value *yv = &g->values[node->outputs[0]];
    fq_tensor out = {yv->dtype, yv->shape, fq_malloc(output_count(g) * sizeof(float)), NULL};
    size_t ws = info->workspace_size(g, node);
    void *workspace = fq_malloc_aligned(ws);
    fq_error err = {0};
    fq_exec_ctx ctx = {g, node, node->n_inputs, inputs, 1, &out, workspace, ws, &err, NULL,
                       NULL};
    if (info->exec(&ctx) != FQ_OK)
        fail_msg("exec: %s", err.message);
    fq_free_aligned(workspace);
    return out.data;
}

static float *run_session(const fq_graph *g, const float *x, size_t x_count, int threads,
                          fq_isa isa)
{
    fq_session_options options = fq_session_options_default();
    options.threads = threads;
    options.isa = isa;
    fq_session *s;
    fq_error err = {0};
    fq_tensor t;
    if (fq_session_create(g, &options, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    assert_int_equal(fq_session_set_input(s, 0, x, x_count * sizeof(float), &err), FQ_OK);
    if (fq_session_run(s, &err) != FQ_OK)
        fail_msg("run: %s", err.message);
    assert_int_equal(fq_session_output(s, 0, &t, &err), FQ_OK);
    float *y = fq_malloc(output_count(g) * sizeof(float));
    memcpy(y, t.data, output_count(g) * sizeof(float));
    fq_session_free(s);
    return y;
}

/* ---- the float oracle ---- */

static double activate(const conv_case *cc, double v, int64_t o)
{
    switch (cc->act.kind) {
    case FQ_ACT_NONE: return v;
    case FQ_ACT_RELU: return v > 0.0 ? v : 0.0;
    case FQ_ACT_CLIP: return fmin(fmax(v, cc->act.alpha), cc->act.beta);
    case FQ_ACT_LEAKY_RELU: return v < 0.0 ? cc->act.alpha * v : v;
    case FQ_ACT_PRELU: return v < 0.0 ? cc->slopes[o] * v : v;
    case FQ_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    }
    return v;
}

/* The input as the operator sees it: quantized with the parameters of its range, dequantized
 * (exact in double). */
static double *dequantized_input(const conv_case *cc)
{
    float lo = 0.0f, hi = 0.0f;
    for (size_t i = 0; i < cc->x_count; i++) {
        lo = fminf(lo, cc->x[i]);
        hi = fmaxf(hi, cc->x[i]);
    }
    fq_calib_range range = {.threshold = fmax(-lo, hi), .lo = lo, .hi = hi};
    float scale;
    int32_t zp;
    fq_calib_params_u8_asymmetric(&range, &scale, &zp);
    uint8_t *q = fq_malloc(cc->x_count);
    uint8_t zp_u8 = (uint8_t)zp;
    fq_qdq_layout layout = {1, 1, (int64_t)cc->x_count};
    fq_quantize_u8_ref(&layout, cc->x, &scale, &zp_u8, q);
    double *xd = fq_malloc(cc->x_count * sizeof(double));
    for (size_t i = 0; i < cc->x_count; i++)
        xd[i] = ((double)q[i] - zp) * (double)scale;
    fq_free(q);
    return xd;
}

/* Checks y against the double-precision convolution of the dequantized operands. The operator
 * computes fl(fl((float)acc * fl(x_scale * w_scale)) + B): three roundings of 2^-24 relative
 * on the product and one on the sum, so |y - exact| <= 2^-22 (|acc x_scale w_scale| + |B|)
 * before the activation, which is 1-Lipschitz except LeakyRelu/PRelu (|slope| <= 1 here, one
 * more rounding) and Sigmoid (1/4-Lipschitz, plus a few ulps of expf and the division). */
static void expect_matches_oracle(const conv_case *cc, const fq_graph *g, const float *y)
{
    const fq_shape *ys = &g->values[g->outputs[0]].shape;
    int64_t oh = cc->rank == 4 ? ys->dims[2] : 1, ow = ys->dims[cc->rank - 1];
    int64_t ih = cc->rank == 4 ? cc->h : 1, cg = cc->c / cc->group, mg = cc->m / cc->group;
    int64_t kh_n = cc->rank == 4 ? cc->kh : 1;
    const fq_node *node = &g->nodes[g->n_nodes - 1];
    /* Resolved pads (auto_pad) from the inferred output: the leading pad the op uses. */
    int64_t pad_top = 0, pad_left = 0;
    const fq_attr *pads = fq_node_attr(node, "pads");
    if (pads != NULL) {
        pad_top = cc->rank == 4 ? pads->ints[0] : 0;
        pad_left = pads->ints[cc->rank == 4 ? 1 : 0];
    } else {
        int64_t sh = cc->rank == 4 ? cc->strides[0] : 1, sw = cc->strides[1];
        int64_t eh = (kh_n - 1) * (cc->rank == 4 ? cc->dilations[0] : 1) + 1;
        int64_t ew = (cc->kw - 1) * cc->dilations[1] + 1;
        int64_t th = (oh - 1) * sh + eh - ih, tw = (ow - 1) * sw + ew - cc->w;
        th = th > 0 ? th : 0;
        tw = tw > 0 ? tw : 0;
        bool upper = strcmp(cc->auto_pad, "SAME_UPPER") == 0;
        pad_top = upper ? th / 2 : th - th / 2;
        pad_left = upper ? tw / 2 : tw - tw / 2;
    }
    int64_t sh = cc->rank == 4 ? cc->strides[0] : 1, dh = cc->rank == 4 ? cc->dilations[0] : 1;

    double *xd = dequantized_input(cc);
    for (int64_t n = 0; n < cc->n; n++)
        for (int64_t o = 0; o < cc->m; o++)
            for (int64_t p = 0; p < oh * ow; p++) {
                double acc = 0.0;
                int64_t g0 = o / mg * cg;
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t a = 0; a < kh_n; a++)
                        for (int64_t b = 0; b < cc->kw; b++) {
                            int64_t y0 = p / ow * sh - pad_top + a * dh;
                            int64_t x0 = p % ow * cc->strides[1] - pad_left +
                                         b * cc->dilations[1];
                            if (y0 < 0 || y0 >= ih || x0 < 0 || x0 >= cc->w)
                                continue;
                            double wv = (double)cc->wq[((o * cg + c) * kh_n + a) * cc->kw + b] *
                                        cc->w_scale[o];
                            acc += wv * xd[((n * cc->c + g0 + c) * ih + y0) * cc->w + x0];
                        }
                double bias = cc->bias ? cc->b[o] : 0.0;
                double expected = activate(cc, acc + bias, o);
                double tol = ldexp(fabs(acc) + fabs(bias), -21) +
                             (cc->act.kind == FQ_ACT_SIGMOID ? ldexp(1.0, -20) : 0.0);
                double got = y[(n * cc->m + o) * oh * ow + p];
                if (!(fabs(got - expected) <= tol))
                    fail_msg("y[%lld][%lld][%lld] is %.9g, expected %.9g (tolerance %.3g)",
                             (long long)n, (long long)o, (long long)p, got, expected, tol);
            }
    fq_free(xd);
}

/* ---- the cases ---- */

static conv_case base_case(void)
{
    return (conv_case){.rank = 4, .n = 1, .c = 8, .h = 9, .w = 11, .m = 12, .kh = 3, .kw = 3,
                       .group = 1, .strides = {1, 1}, .dilations = {1, 1},
                       .pads = {1, 1, 1, 1}, .bias = true, .x_lo = -1.5f, .x_hi = 2.5f};
}

enum { N_CASES = 13 };

static conv_case make_case(int i)
{
    conv_case cc = base_case();
    switch (i) {
    case 0: break;
    case 1: cc.strides[0] = cc.strides[1] = 2; cc.act.kind = FQ_ACT_RELU; break;
    case 2: cc.kh = cc.kw = 1; cc.pads[0] = cc.pads[1] = cc.pads[2] = cc.pads[3] = 0;
            cc.c = 37; cc.m = 70; cc.h = 13; cc.w = 10; cc.bias = false; break;
    case 3: cc.group = cc.c = cc.m = 16; cc.act = (fq_activation){FQ_ACT_PRELU, 0, 0}; break;
    case 4: cc.group = 8; cc.c = 8; cc.m = 24; cc.strides[1] = 2;
            cc.act = (fq_activation){FQ_ACT_CLIP, 0.0f, 0.6f}; break;
    case 5: cc.group = 2; cc.c = 6; cc.m = 4; cc.dilations[0] = cc.dilations[1] = 2;
            cc.act = (fq_activation){FQ_ACT_LEAKY_RELU, 0.1f, 0}; break;
    case 6: cc.auto_pad = "SAME_UPPER"; cc.strides[0] = 2; cc.kh = 2; cc.kw = 5;
            cc.act.kind = FQ_ACT_SIGMOID; break;
    case 7: cc.rank = 3; cc.h = 1; cc.kh = 1; cc.w = 30; cc.kw = 5; cc.pads[1] = 2;
            cc.pads[3] = 1; cc.strides[1] = 3; break;
    case 8: cc.n = 2; cc.h = 17; cc.w = 19; cc.c = 3; cc.m = 33; cc.strides[0] = 2;
            cc.strides[1] = 2; cc.pads[2] = cc.pads[3] = 0; break;
    case 9: cc.x_lo = 0.25f; cc.x_hi = 3.0f; cc.act.kind = FQ_ACT_RELU; break;
    case 10: cc.x_lo = -3.0f; cc.x_hi = -0.5f; cc.auto_pad = "SAME_LOWER"; break;
    case 11: cc.kh = cc.kw = 1; cc.pads[0] = cc.pads[1] = cc.pads[2] = cc.pads[3] = 0;
             cc.h = 20; cc.w = 20; cc.c = 64; cc.m = 40; break;
    case 12: cc.group = cc.c = cc.m = 10; cc.h = 15; cc.w = 16; cc.kh = 3; cc.kw = 5;
             cc.dilations[0] = 2; cc.strides[0] = 2; cc.strides[1] = 3;
             cc.pads[0] = 0; cc.pads[1] = 3; cc.pads[2] = 2; cc.pads[3] = 1; break;
    }
    return cc;
}

static void test_matches_float_conv_of_dequantized_operands(void **state)
{
    (void)state;
    for (int i = 0; i < N_CASES; i++) {
        conv_case cc = make_case(i);
        case_make(&cc, 0xd0c0 + (unsigned long long)i);
        fq_graph *g = case_graph(&cc);
        float *y = run_reference(g, cc.x);
        expect_matches_oracle(&cc, g, y);
        fq_free(y);
        fq_graph_free(g);
        case_free(&cc);
    }
}

/* Every ISA cap the CPU has and 1..3 threads give the reference's bytes. */
static void test_prepared_kernels_equal_reference_for_any_cap_and_threads(void **state)
{
    (void)state;
    fq_isa caps[] = {FQ_ISA_SCALAR, FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512VNNI, FQ_ISA_AUTO};
    for (int i = 0; i < N_CASES; i++) {
        conv_case cc = make_case(i);
        case_make(&cc, 0x7e7e + (unsigned long long)i);
        fq_graph *g = case_graph(&cc);
        float *ref = run_reference(g, cc.x);
        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
            for (int threads = 1; threads <= 3; threads++) {
                float *y = run_session(g, cc.x, cc.x_count, threads, caps[c]);
                if (memcmp(y, ref, output_count(g) * sizeof(float)) != 0)
                    fail_msg("case %d, cap %s, %d threads: output differs from the reference",
                             i, fq_isa_name(caps[c]), threads);
                fq_free(y);
            }
        }
        fq_free(ref);
        fq_graph_free(g);
        case_free(&cc);
    }
}

/* x = 0, 1, 2, 2.55 gives scale 0.01 and zero point 0, every value exact: y = 0.5 x + 1. */
static void test_pointwise_conv_of_exact_values(void **state)
{
    (void)state;
    conv_case cc = base_case();
    cc.c = cc.m = 1;
    cc.h = cc.w = 2;
    cc.kh = cc.kw = 1;
    memset(cc.pads, 0, sizeof(cc.pads));
    case_make(&cc, 1);
    float x[4] = {0.0f, 1.0f, 2.0f, 2.55f};
    memcpy(cc.x, x, sizeof(x));
    cc.wq[0] = 100;
    cc.w_scale[0] = 0.005f;
    cc.b[0] = 1.0f;
    fq_graph *g = case_graph(&cc);
    float *y = run_reference(g, cc.x);
    float expected[4] = {1.0f, 1.5f, 2.0f, 2.275f};
    for (int i = 0; i < 4; i++)
        assert_float_equal(y[i], expected[i], 1e-6f);
    fq_free(y);
    fq_graph_free(g);
    case_free(&cc);
}

/* x = 1.55 with -1 at the centre gives scale 0.01 and zero point 100, both values exact.
 * Padding must add nothing: a 3x3 all-ones kernel sums 4, 6 and 9 taps at corners, edges and
 * the centre, each tap window holding the -1. */
static void test_padding_reads_real_zero(void **state)
{
    (void)state;
    conv_case cc = base_case();
    cc.c = cc.m = 1;
    cc.h = cc.w = 3;
    cc.bias = false;
    case_make(&cc, 2);
    for (size_t i = 0; i < cc.x_count; i++)
        cc.x[i] = 1.55f;
    cc.x[4] = -1.0f;
    for (size_t i = 0; i < cc.w_count; i++)
        cc.wq[i] = 1;
    cc.w_scale[0] = 1.0f;
    fq_graph *g = case_graph(&cc);
    float expected[9] = {3.65f, 6.75f, 3.65f, 6.75f, 11.4f, 6.75f, 3.65f, 6.75f, 3.65f};
    float *ref = run_reference(g, cc.x);
    float *y = run_session(g, cc.x, cc.x_count, 1, FQ_ISA_AUTO);
    for (int i = 0; i < 9; i++) {
        assert_float_equal(ref[i], expected[i], 1e-5f);
        assert_float_equal(y[i], expected[i], 1e-5f);
    }
    fq_free(ref);
    fq_free(y);
    fq_graph_free(g);
    case_free(&cc);
}

/* All-zero input: scale 1, zero point 0, output is the activation of the bias. */
static void test_zero_input_gives_activated_bias(void **state)
{
    (void)state;
    conv_case cc = base_case();
    cc.act.kind = FQ_ACT_RELU;
    case_make(&cc, 3);
    memset(cc.x, 0, cc.x_count * sizeof(float));
    fq_graph *g = case_graph(&cc);
    float *y = run_session(g, cc.x, cc.x_count, 2, FQ_ISA_AUTO);
    size_t pixels = output_count(g) / (size_t)cc.m;
    for (int64_t o = 0; o < cc.m; o++)
        for (size_t p = 0; p < pixels; p++)
            assert_float_equal(y[(size_t)o * pixels + p], cc.b[o] > 0 ? cc.b[o] : 0.0f, 0.0f);
    fq_free(y);
    fq_graph_free(g);
    case_free(&cc);
}

static void test_group_one_runs_the_int32_gemm(void **state)
{
    (void)state;
    conv_case cc = base_case();
    case_make(&cc, 4);
    fq_graph *g = case_graph(&cc);
    fq_session *s;
    fq_session_options options = fq_session_options_default();
    assert_int_equal(fq_session_create(g, &options, &s, NULL), FQ_OK);
    const char *name = fq_session_kernel_name(s, 0);
    assert_non_null(name);
    assert_non_null(strstr(name, "qs8_gemm_i32"));
    fq_session_free(s);
    fq_graph_free(g);
    case_free(&cc);
}

static void test_refuses_w_scale_of_wrong_length(void **state)
{
    (void)state;
    conv_case cc = base_case();
    case_make(&cc, 5);
    fq_graph *g = gb_graph(13);
    int64_t xd[4], wd[4], short_dims[1] = {cc.m - 1};
    x_dims(&cc, xd);
    w_dims(&cc, wd);
    int inputs[3] = {gb_input(g, "x", 4, xd), const_i8(g, "w", 4, wd, cc.wq),
                     gb_const_f32(g, "w_scale", 1, short_dims, cc.w_scale)};
    gb_output(g, gb_node(g, "FqDynamicConv", inputs, 3, "y"));
    fq_error err = {0};
    assert_int_equal(fq_graph_bind_ops(g, &err), FQ_OK);
    assert_int_equal(fq_node_infer(g, 0, &err), FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "W_scale"));
    assert_non_null(strstr(err.message, "FqDynamicConv"));
    fq_graph_free(g);
    case_free(&cc);
}

static void test_refuses_float_weights(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {3, 2, 1, 1}, md[1] = {3};
    int inputs[3] = {gb_input(g, "x", 4, xd), gb_const_f32(g, "w", 4, wd, NULL),
                     gb_const_f32(g, "w_scale", 1, md, NULL)};
    gb_output(g, gb_node(g, "FqDynamicConv", inputs, 3, "y"));
    fq_error err = {0};
    assert_int_equal(fq_graph_bind_ops(g, &err), FQ_OK);
    assert_int_equal(fq_node_infer(g, 0, &err), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "i8"));
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_float_conv_of_dequantized_operands),
        cmocka_unit_test(test_prepared_kernels_equal_reference_for_any_cap_and_threads),
        cmocka_unit_test(test_pointwise_conv_of_exact_values),
        cmocka_unit_test(test_padding_reads_real_zero),
        cmocka_unit_test(test_zero_input_gives_activated_bias),
        cmocka_unit_test(test_group_one_runs_the_int32_gemm),
        cmocka_unit_test(test_refuses_w_scale_of_wrong_length),
        cmocka_unit_test(test_refuses_float_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
