/* The qs8 convolution driver (kernels/qs8_conv.h) against a direct loop, bit for bit: dense,
 * small-input (stem), grouped and depthwise shapes with strides, pads and dilations, NHWC and
 * NCHW, one and two threads, under every ISA cap this CPU has; and its path choice and
 * refusals. */
#include <string.h>

#include "qs8_conv.h"
#include "qs8_test_util.h"
#include "runtime/threadpool.h"

enum { ROUNDS = 16 };

/* SMALL_INPUT: dense with 1..48 input channels, a network's stem and the narrow layers after it.
 * WIDE: dense layers of 1..67 channels on rows of 60..200 pixels, so that the stem path cuts a
 * row into several blocks, reads the inner ones in place and stages the edges and the reads
 * that would run past the input. */
typedef enum case_kind { DENSE, GROUPED, DEPTHWISE, SMALL_INPUT, WIDE } case_kind;

typedef struct conv_case {
    fq_qs8_conv_params p;
    uint8_t *x;
    int8_t *w;          /* OIHW */
    int32_t *bias;
    float *multiplier;
    size_t x_size;
    size_t y_size;
} conv_case;

static size_t out_size(size_t in, size_t k, size_t stride, size_t dilation, size_t pads)
{
    size_t span = dilation * (k - 1) + 1;
    return in + pads < span ? 0 : (in + pads - span) / stride + 1;
}

static size_t random_kernel(void)
{
    static const size_t sizes[] = {1, 3, 5};
    return sizes[fq_test_rand_int(0, 2)];
}

static void random_channels(fq_qs8_conv_params *p, case_kind kind)
{
    if (kind == DENSE || kind == WIDE) {
        p->groups = 1;
        p->in_channels = (size_t)fq_test_rand_int(1, 67);
        p->out_channels = (size_t)fq_test_rand_int(1, 67);
    } else if (kind == SMALL_INPUT) {
        p->groups = 1;
        p->in_channels = (size_t)(fq_test_rand_int(0, 1) == 0 ? fq_test_rand_int(1, 5)
                                                               : fq_test_rand_int(6, 48));
        p->out_channels = (size_t)fq_test_rand_int(1, 40);
    } else if (kind == GROUPED) {
        p->groups = (size_t)fq_test_rand_int(2, 4);
        p->in_channels = p->groups * (size_t)fq_test_rand_int(1, 17);
        p->out_channels = p->groups * (size_t)fq_test_rand_int(1, 17);
    } else {
        p->groups = p->in_channels = p->out_channels = (size_t)fq_test_rand_int(1, 67);
    }
}

static void random_geometry(fq_qs8_conv_params *p, case_kind kind)
{
    do {
        p->batch = (size_t)fq_test_rand_int(1, 2);
        p->in_height = (size_t)fq_test_rand_int(1, kind == WIDE ? 4 : 10);
        p->in_width = (size_t)(kind == WIDE ? fq_test_rand_int(60, 200) : fq_test_rand_int(1, 10));
        p->kernel_h = random_kernel();
        p->kernel_w = fq_test_rand_int(0, 3) == 0 ? random_kernel() : p->kernel_h;
        p->stride_h = p->stride_w = (size_t)fq_test_rand_int(1, 2);
        p->dilation_h = p->dilation_w = fq_test_rand_int(0, 3) == 0 ? 2 : 1;
        /* A third of the cases unpadded, so that 1x1 kernels of stride 1 are pointwise. */
        size_t max_pad = fq_test_rand_int(0, 2) == 0 ? 0 : 2;
        p->pad_top = (size_t)fq_test_rand_int(0, (int)max_pad);
        p->pad_left = (size_t)fq_test_rand_int(0, (int)max_pad);
        p->out_height = out_size(p->in_height, p->kernel_h, p->stride_h, p->dilation_h,
                                 p->pad_top + (size_t)fq_test_rand_int(0, (int)max_pad));
        p->out_width = out_size(p->in_width, p->kernel_w, p->stride_w, p->dilation_w,
                                p->pad_left + (size_t)fq_test_rand_int(0, (int)max_pad));
    } while (p->out_height == 0 || p->out_width == 0);
}

static void case_fill(conv_case *c)
{
    fq_qs8_conv_params *p = &c->p;
    p->input_zero_point = fq_test_rand_int(0, 255);
    p->requant = qs8_random_requant();
    size_t depth = p->kernel_h * p->kernel_w * (p->in_channels / p->groups);
    size_t w_size = p->out_channels * depth;
    c->x_size = p->batch * p->in_height * p->in_width * p->in_channels;
    c->y_size = p->batch * p->out_height * p->out_width * p->out_channels;
    c->x = qs8_alloc(c->x_size);
    c->w = qs8_alloc(w_size);
    c->bias = qs8_alloc(p->out_channels * sizeof(int32_t));
    c->multiplier = qs8_alloc(p->out_channels * sizeof(float));
    qs8_fill_u8(c->x, c->x_size, 0, 255);
    qs8_fill_i8(c->w, w_size, -128, 127);
    for (size_t j = 0; j < p->out_channels; j++)
        c->bias[j] = fq_test_rand_int(-50000, 50000);
    qs8_fill_multipliers(c->multiplier, p->out_channels, depth);
}

static void case_random(conv_case *c, case_kind kind)
{
    memset(c, 0, sizeof(*c));
    random_channels(&c->p, kind);
    random_geometry(&c->p, kind);
    if (kind == DEPTHWISE && fq_test_rand_int(0, 1) == 0) {
        /* Half the depthwise cases take the 3x3 kernel's shape. */
        c->p.kernel_h = c->p.kernel_w = 3;
        c->p.dilation_h = c->p.dilation_w = 1;
        c->p.out_height = out_size(c->p.in_height + 2, 3, c->p.stride_h, 1, c->p.pad_top);
        c->p.out_width = out_size(c->p.in_width + 2, 3, c->p.stride_w, 1, c->p.pad_left);
    }
    c->p.channels_last = fq_test_rand_int(0, 1) == 1;
    case_fill(c);
}

static void case_free(conv_case *c)
{
    fq_free_aligned(c->x);
    fq_free_aligned(c->w);
    fq_free_aligned(c->bias);
    fq_free_aligned(c->multiplier);
}

/* Index of element (n, c, h, w) of a tensor of c_count x h_count x w_count per image. */
static size_t at(bool nhwc, size_t n, size_t c, size_t h, size_t w, size_t c_count,
                 size_t h_count, size_t w_count)
{
    if (nhwc)
        return ((n * h_count + h) * w_count + w) * c_count + c;
    return ((n * c_count + c) * h_count + h) * w_count + w;
}

static int32_t direct_sum(const conv_case *c, size_t n, size_t j, size_t oh, size_t ow)
{
    const fq_qs8_conv_params *p = &c->p;
    size_t cg = p->in_channels / p->groups, g = j / (p->out_channels / p->groups);
    int64_t acc = c->bias[j];
    for (size_t ci = 0; ci < cg; ci++)
        for (size_t kh = 0; kh < p->kernel_h; kh++)
            for (size_t kw = 0; kw < p->kernel_w; kw++) {
                int64_t ih = (int64_t)(oh * p->stride_h + kh * p->dilation_h) -
                             (int64_t)p->pad_top;
                int64_t iw = (int64_t)(ow * p->stride_w + kw * p->dilation_w) -
                             (int64_t)p->pad_left;
                if (ih < 0 || iw < 0 || ih >= (int64_t)p->in_height ||
                    iw >= (int64_t)p->in_width)
                    continue;
                uint8_t xv = c->x[at(p->channels_last, n, g * cg + ci, (size_t)ih, (size_t)iw,
                                     p->in_channels, p->in_height, p->in_width)];
                int8_t wv = c->w[((j * cg + ci) * p->kernel_h + kh) * p->kernel_w + kw];
                acc += (int64_t)(xv - p->input_zero_point) * wv;
            }
    return (int32_t)acc;
}

static void direct_conv(const conv_case *c, uint8_t *y)
{
    const fq_qs8_conv_params *p = &c->p;
    for (size_t n = 0; n < p->batch; n++)
        for (size_t j = 0; j < p->out_channels; j++)
            for (size_t oh = 0; oh < p->out_height; oh++)
                for (size_t ow = 0; ow < p->out_width; ow++)
                    y[at(p->channels_last, n, j, oh, ow, p->out_channels, p->out_height,
                         p->out_width)] = fq_qs8_requantize(direct_sum(c, n, j, oh, ow),
                                                            c->multiplier[j], &p->requant);
}

/* Runs c's plan under cap on `threads` threads into y. */
static void run_plan(const conv_case *c, fq_isa cap, int threads, uint8_t *y,
                     fq_qs8_conv_path *path)
{
    fq_qs8_conv_plan *plan = NULL;
    fq_error err = {0};
    assert_int_equal(fq_qs8_conv_plan_create(&c->p, c->w, c->bias, c->multiplier, cap, threads,
                                             &plan, &err), FQ_OK);
    fq_threadpool *pool = NULL;
    assert_int_equal(fq_threadpool_create(threads, &pool, NULL), FQ_OK);
    uint8_t *ws = qs8_alloc(plan->workspace);
    fq_qs8_conv_run(plan, c->x, y, ws, pool);
    if (path != NULL)
        *path = plan->path;
    fq_free_aligned(ws);
    fq_threadpool_free(pool);
    fq_qs8_conv_plan_free(plan);
}

static void expect_matches_direct_loop(fq_isa cap, case_kind kind, unsigned long long seed)
{
    fq_test_seed(seed);
    for (int round = 0; round < ROUNDS; round++) {
        conv_case c;
        case_random(&c, kind);
        uint8_t *expected = qs8_alloc(c.y_size), *got = qs8_alloc(c.y_size);
        direct_conv(&c, expected);
        for (int threads = 1; threads <= 2; threads++) {
            memset(got, 0xA5, c.y_size);
            run_plan(&c, cap, threads, got, NULL);
            assert_memory_equal(got, expected, c.y_size);
        }
        fq_free_aligned(expected);
        fq_free_aligned(got);
        case_free(&c);
    }
}

static void test_dense_matches_direct_loop(void **state)
{
    fq_isa cap = *(const fq_isa *)*state;
    qs8_require_isa(cap, fq_isa_name(cap));
    expect_matches_direct_loop(cap, DENSE, 11);
}

static void test_grouped_matches_direct_loop(void **state)
{
    fq_isa cap = *(const fq_isa *)*state;
    qs8_require_isa(cap, fq_isa_name(cap));
    expect_matches_direct_loop(cap, GROUPED, 12);
}

static void test_depthwise_matches_direct_loop(void **state)
{
    fq_isa cap = *(const fq_isa *)*state;
    qs8_require_isa(cap, fq_isa_name(cap));
    expect_matches_direct_loop(cap, DEPTHWISE, 13);
}

static void test_small_input_matches_direct_loop(void **state)
{
    fq_isa cap = *(const fq_isa *)*state;
    qs8_require_isa(cap, fq_isa_name(cap));
    expect_matches_direct_loop(cap, SMALL_INPUT, 14);
}

static void test_wide_rows_match_direct_loop(void **state)
{
    fq_isa cap = *(const fq_isa *)*state;
    qs8_require_isa(cap, fq_isa_name(cap));
    expect_matches_direct_loop(cap, WIDE, 16);
}

/* Runs c's stem-path plan (made under FQ_ISA_AUTO) on `kernel` instead of the selected one;
 * false when this CPU has no SIMD stem kernel, so the plan is not on the stem path. */
static bool run_stem_kernel(const conv_case *c, const fq_qs8_stemconv_kernel *kernel,
                            uint8_t *y)
{
    fq_qs8_conv_plan *plan = NULL;
    assert_int_equal(fq_qs8_conv_plan_create(&c->p, c->w, c->bias, c->multiplier, FQ_ISA_AUTO,
                                             1, &plan, NULL), FQ_OK);
    bool stem = plan->path == FQ_QS8_CONV_STEM;
    if (stem) {
        plan->stem = kernel;
        uint8_t *ws = qs8_alloc(plan->workspace);
        fq_qs8_conv_run(plan, c->x, y, ws, NULL);
        fq_free_aligned(ws);
    }
    fq_qs8_conv_plan_free(plan);
    return stem;
}

/* Every stem kernel of this CPU, the portable twin included, on cases of `kind`. */
static void expect_every_stem_kernel_matches(case_kind kind, unsigned long long seed)
{
    if (fq_qs8_stemconv_select(FQ_ISA_AUTO) == NULL) {
        printf("skipping: this CPU has no SIMD stem kernel, so no plan takes the stem path\n");
        skip();
    }
    int count;
    const fq_qs8_stemconv_kernel *kernels = fq_qs8_stemconv_kernels(&count);
    fq_test_seed(seed);
    for (int round = 0; round < ROUNDS; round++) {
        conv_case c;
        case_random(&c, kind);
        uint8_t *expected = qs8_alloc(c.y_size), *got = qs8_alloc(c.y_size);
        direct_conv(&c, expected);
        for (int i = 0; i < count; i++) {
            if (!fq_isa_supported(kernels[i].isa))
                continue;
            memset(got, 0xA5, c.y_size);
            if (run_stem_kernel(&c, &kernels[i], got))
                assert_memory_equal(got, expected, c.y_size);
        }
        fq_free_aligned(expected);
        fq_free_aligned(got);
        case_free(&c);
    }
}

static void test_every_stem_kernel_matches_direct_loop(void **state)
{
    (void)state;
    expect_every_stem_kernel_matches(SMALL_INPUT, 15);
}

/* Output channels 1..67: full panels in steps of 3, 2 and 1, and tails of every split. */
static void test_every_stem_kernel_matches_on_dense_layers(void **state)
{
    (void)state;
    expect_every_stem_kernel_matches(DENSE, 17);
}

static void test_every_stem_kernel_matches_on_wide_rows(void **state)
{
    (void)state;
    expect_every_stem_kernel_matches(WIDE, 18);
}

/* The tail panel's split: t channels left over 16 share the lanes with S groups each. */
static void test_stem_tail_split_fills_the_lanes(void **state)
{
    (void)state;
    static const size_t channels[] = {16, 32, 12, 28, 1, 2, 3, 4, 5, 8, 24, 40, 50, 66};
    static const size_t splits[] = {1, 1, 1, 1, 8, 8, 4, 4, 2, 2, 2, 2, 8, 8};
    for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++)
        assert_int_equal(fq_qs8_stemconv_split(channels[i]), splits[i]);
    /* A 3x3 row of 64 channels is 48 groups; of 3 channels, 3 groups rounded to the split. */
    assert_int_equal(fq_qs8_stemconv_groups(3, 64, 2), 48);
    assert_int_equal(fq_qs8_stemconv_groups(3, 3, 16), 3);
    assert_int_equal(fq_qs8_stemconv_groups(3, 3, 2), 8);
    assert_int_equal(fq_qs8_stemconv_groups(3, 3, 20), 4);
}

/* A case of fixed geometry: c channels in, m out, k x k kernel. */
static void case_fixed(conv_case *c, size_t channels, size_t m, size_t groups, size_t k,
                       size_t stride, size_t pad, bool nhwc)
{
    memset(c, 0, sizeof(*c));
    c->p = (fq_qs8_conv_params){
        .batch = 1, .in_channels = channels, .in_height = 9, .in_width = 11,
        .out_channels = m, .kernel_h = k, .kernel_w = k, .stride_h = stride,
        .stride_w = stride, .dilation_h = 1, .dilation_w = 1, .pad_top = pad, .pad_left = pad,
        .groups = groups, .channels_last = nhwc};
    c->p.out_height = out_size(9, k, stride, 1, 2 * pad);
    c->p.out_width = out_size(11, k, stride, 1, 2 * pad);
    case_fill(c);
}

static fq_qs8_conv_path planned_path(const conv_case *c, char *name, size_t size)
{
    fq_qs8_conv_plan *plan = NULL;
    assert_int_equal(fq_qs8_conv_plan_create(&c->p, c->w, c->bias, c->multiplier, FQ_ISA_AUTO,
                                             1, &plan, NULL), FQ_OK);
    fq_qs8_conv_path path = plan->path;
    snprintf(name, size, "%s", plan->name);
    fq_qs8_conv_plan_free(plan);
    return path;
}

static void test_pointwise_runs_the_gemm_on_input_rows(void **state)
{
    (void)state;
    fq_test_seed(21);
    conv_case c;
    char name[96];
    case_fixed(&c, 24, 40, 1, 1, 1, 0, true);
    assert_int_equal(planned_path(&c, name, sizeof(name)), FQ_QS8_CONV_POINTWISE);
    assert_non_null(strstr(name, fq_qs8_gemm_select(FQ_ISA_AUTO)->name));
    assert_non_null(strstr(name, "(1x1)"));
    assert_int_equal(c.p.out_height, c.p.in_height);
    case_free(&c);
}

static void test_strided_3x3_runs_im2col(void **state)
{
    (void)state;
    fq_test_seed(22);
    conv_case c;
    char name[96];
    /* 96 channels: kernel rows of 288 bytes, past the stem path's limit. */
    case_fixed(&c, 96, 32, 1, 3, 2, 1, true);
    assert_int_equal(planned_path(&c, name, sizeof(name)), FQ_QS8_CONV_IM2COL);
    assert_non_null(strstr(name, "(im2col)"));
    case_free(&c);
}

static void test_stem_3x3_on_3_channels_runs_the_stem_kernel(void **state)
{
    (void)state;
    const fq_qs8_stemconv_kernel *stem = fq_qs8_stemconv_select(FQ_ISA_AUTO);
    if (stem == NULL) {
        printf("skipping: this CPU has no SIMD stem kernel\n");
        skip();
    }
    fq_test_seed(24);
    conv_case c;
    char name[96];
    case_fixed(&c, 3, 16, 1, 3, 2, 1, true);
    assert_int_equal(planned_path(&c, name, sizeof(name)), FQ_QS8_CONV_STEM);
    assert_string_equal(name, stem->name);
    case_free(&c);
}

static void test_dense_3x3_on_48_channels_runs_the_stem_kernel(void **state)
{
    (void)state;
    const fq_qs8_stemconv_kernel *stem = fq_qs8_stemconv_select(FQ_ISA_AUTO);
    if (stem == NULL) {
        printf("skipping: this CPU has no SIMD stem kernel\n");
        skip();
    }
    fq_test_seed(29);
    conv_case c;
    char name[96];
    /* Kernel rows of 144 bytes, inside the stem path's limit. */
    case_fixed(&c, 48, 48, 1, 3, 1, 1, true);
    assert_int_equal(planned_path(&c, name, sizeof(name)), FQ_QS8_CONV_STEM);
    assert_string_equal(name, stem->name);
    case_free(&c);
}

static void test_depthwise_3x3_selects_the_dwconv_kernel(void **state)
{
    (void)state;
    fq_test_seed(23);
    conv_case c;
    char name[96];
    case_fixed(&c, 48, 48, 48, 3, 2, 1, true);
    assert_int_equal(planned_path(&c, name, sizeof(name)), FQ_QS8_CONV_DWCONV3X3);
    assert_string_equal(name, fq_qs8_dwconv3x3_select(FQ_ISA_AUTO)->name);
    case_free(&c);
}

static void test_depthwise_5x5_runs_im2col_per_group(void **state)
{
    (void)state;
    fq_test_seed(24);
    conv_case c;
    char name[96];
    case_fixed(&c, 8, 8, 8, 5, 1, 2, true);
    assert_int_equal(planned_path(&c, name, sizeof(name)), FQ_QS8_CONV_IM2COL);
    case_free(&c);
}

static void test_nchw_plan_says_so_and_needs_layout_workspace(void **state)
{
    (void)state;
    fq_test_seed(25);
    conv_case c;
    case_fixed(&c, 8, 16, 1, 1, 1, 0, false);
    fq_qs8_conv_plan *plan = NULL;
    assert_int_equal(fq_qs8_conv_plan_create(&c.p, c.w, c.bias, c.multiplier, FQ_ISA_AUTO, 1,
                                             &plan, NULL), FQ_OK);
    assert_non_null(strstr(plan->name, "nchw"));
    assert_true(plan->workspace >= c.x_size + c.y_size);
    fq_qs8_conv_plan_free(plan);
    case_free(&c);
}

static void test_results_do_not_depend_on_thread_count(void **state)
{
    (void)state;
    fq_test_seed(26);
    conv_case c;
    case_fixed(&c, 32, 64, 1, 3, 1, 1, true);
    uint8_t *one = qs8_alloc(c.y_size), *two = qs8_alloc(c.y_size);
    uint8_t *three = qs8_alloc(c.y_size);
    run_plan(&c, FQ_ISA_AUTO, 1, one, NULL);
    run_plan(&c, FQ_ISA_AUTO, 2, two, NULL);
    run_plan(&c, FQ_ISA_AUTO, 3, three, NULL);
    assert_memory_equal(one, two, c.y_size);
    assert_memory_equal(one, three, c.y_size);
    fq_free_aligned(one);
    fq_free_aligned(two);
    fq_free_aligned(three);
    case_free(&c);
}

static void test_plan_refuses_a_zero_multiplier(void **state)
{
    (void)state;
    fq_test_seed(27);
    conv_case c;
    case_fixed(&c, 8, 8, 1, 3, 1, 1, true);
    c.multiplier[5] = 0.0f;
    fq_qs8_conv_plan *plan = NULL;
    fq_error err = {0};
    assert_int_equal(fq_qs8_conv_plan_create(&c.p, c.w, c.bias, c.multiplier, FQ_ISA_AUTO, 1,
                                             &plan, &err), FQ_ERR_INVALID_ARG);
    assert_null(plan);
    assert_non_null(strstr(err.message, "multiplier"));
    case_free(&c);
}

static void test_plan_refuses_groups_that_do_not_divide(void **state)
{
    (void)state;
    fq_test_seed(28);
    conv_case c;
    case_fixed(&c, 6, 6, 1, 1, 1, 0, true);
    c.p.groups = 4;
    fq_qs8_conv_plan *plan = NULL;
    fq_error err = {0};
    assert_int_equal(fq_qs8_conv_plan_create(&c.p, c.w, c.bias, c.multiplier, FQ_ISA_AUTO, 1,
                                             &plan, &err), FQ_ERR_SHAPE);
    assert_null(plan);
    assert_non_null(strstr(err.message, "groups"));
    case_free(&c);
}

/* The ISA caps of this architecture, scalar first. */
static const fq_isa caps[] = {
    FQ_ISA_SCALAR,
#if defined(__x86_64__) || defined(__i386__)
    FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVXVNNI, FQ_ISA_AVX512, FQ_ISA_AVX512VNNI,
    FQ_ISA_AVX512FP16,
#elif defined(__aarch64__) || defined(__arm__)
    FQ_ISA_NEON, FQ_ISA_NEONDOT, FQ_ISA_NEONFP16,
#endif
};

int main(void)
{
    static qs8_test_list list;
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        void *cap = (void *)&caps[i];
        const char *name = fq_isa_name(caps[i]);
        qs8_test_add(&list, "dense_matches_direct_loop", name, test_dense_matches_direct_loop,
                     cap);
        qs8_test_add(&list, "grouped_matches_direct_loop", name,
                     test_grouped_matches_direct_loop, cap);
        qs8_test_add(&list, "depthwise_matches_direct_loop", name,
                     test_depthwise_matches_direct_loop, cap);
        qs8_test_add(&list, "small_input_matches_direct_loop", name,
                     test_small_input_matches_direct_loop, cap);
        qs8_test_add(&list, "wide_rows_match_direct_loop", name,
                     test_wide_rows_match_direct_loop, cap);
    }
    qs8_test_add(&list, "pointwise_runs_the_gemm_on_input_rows", NULL,
                 test_pointwise_runs_the_gemm_on_input_rows, NULL);
    qs8_test_add(&list, "strided_3x3_runs_im2col", NULL, test_strided_3x3_runs_im2col, NULL);
    qs8_test_add(&list, "stem_3x3_on_3_channels_runs_the_stem_kernel", NULL,
                 test_stem_3x3_on_3_channels_runs_the_stem_kernel, NULL);
    qs8_test_add(&list, "every_stem_kernel_matches_direct_loop", NULL,
                 test_every_stem_kernel_matches_direct_loop, NULL);
    qs8_test_add(&list, "every_stem_kernel_matches_on_dense_layers", NULL,
                 test_every_stem_kernel_matches_on_dense_layers, NULL);
    qs8_test_add(&list, "every_stem_kernel_matches_on_wide_rows", NULL,
                 test_every_stem_kernel_matches_on_wide_rows, NULL);
    qs8_test_add(&list, "stem_tail_split_fills_the_lanes", NULL,
                 test_stem_tail_split_fills_the_lanes, NULL);
    qs8_test_add(&list, "dense_3x3_on_48_channels_runs_the_stem_kernel", NULL,
                 test_dense_3x3_on_48_channels_runs_the_stem_kernel, NULL);
    qs8_test_add(&list, "depthwise_3x3_selects_the_dwconv_kernel", NULL,
                 test_depthwise_3x3_selects_the_dwconv_kernel, NULL);
    qs8_test_add(&list, "depthwise_5x5_runs_im2col_per_group", NULL,
                 test_depthwise_5x5_runs_im2col_per_group, NULL);
    qs8_test_add(&list, "nchw_plan_says_so_and_needs_layout_workspace", NULL,
                 test_nchw_plan_says_so_and_needs_layout_workspace, NULL);
    qs8_test_add(&list, "results_do_not_depend_on_thread_count", NULL,
                 test_results_do_not_depend_on_thread_count, NULL);
    qs8_test_add(&list, "plan_refuses_a_zero_multiplier", NULL,
                 test_plan_refuses_a_zero_multiplier, NULL);
    qs8_test_add(&list, "plan_refuses_groups_that_do_not_divide", NULL,
                 test_plan_refuses_groups_that_do_not_divide, NULL);
    return qs8_test_run("qs8_conv_driver", &list);
}
