/* qs8 depthwise 3x3 kernels (kernels/qs8_dwconv.h) against the reference depthwise convolution,
 * bit for bit, with strides and padding; the depthwise reference against the convolution
 * reference; shape and packing refusals. */
#include <string.h>

#include "qs8_dwconv.h"
#include "qs8_test_util.h"
#include "ref/qs8_dwconv_ref.h"

enum { ROUNDS = 40, GUARD = 7, SENTINEL = 0x5A };

typedef struct dw_case {
    fq_qs8_dwconv_shape s;
    uint8_t *x;
    int8_t *w;
    int32_t *bias;
    float *multiplier;
    fq_qs8_requant_params requant;
} dw_case;

static size_t in_size(const fq_qs8_dwconv_shape *s)
{
    return s->batch * s->in_height * s->in_width * s->channels;
}

static size_t out_size(const fq_qs8_dwconv_shape *s)
{
    return s->batch * s->out_height * s->out_width * s->channels;
}

static size_t out_extent(size_t in, size_t stride, size_t pads)
{
    return in + pads < 3 ? 0 : (in + pads - 3) / stride + 1;
}

static void case_alloc(dw_case *c)
{
    c->x = qs8_alloc(in_size(&c->s));
    c->w = qs8_alloc(9 * c->s.channels);
    c->bias = qs8_alloc(c->s.channels * sizeof(int32_t));
    c->multiplier = qs8_alloc(c->s.channels * sizeof(float));
}

static void case_random(dw_case *c, size_t max_channels)
{
    fq_qs8_dwconv_shape *s = &c->s;
    do {
        s->batch = (size_t)fq_test_rand_int(1, 2);
        s->in_height = (size_t)fq_test_rand_int(1, 11);
        s->in_width = (size_t)fq_test_rand_int(1, 11);
        s->channels = (size_t)fq_test_rand_int(1, (int)max_channels);
        s->stride_h = (size_t)fq_test_rand_int(1, 2);
        s->stride_w = (size_t)fq_test_rand_int(1, 3);
        s->pad_top = (size_t)fq_test_rand_int(0, 2);
        s->pad_left = (size_t)fq_test_rand_int(0, 2);
        s->out_height = out_extent(s->in_height, s->stride_h,
                                   s->pad_top + (size_t)fq_test_rand_int(0, 2));
        s->out_width = out_extent(s->in_width, s->stride_w,
                                  s->pad_left + (size_t)fq_test_rand_int(0, 2));
    } while (s->out_height == 0 || s->out_width == 0);
    s->input_zero_point = fq_test_rand_int(0, 255);
    case_alloc(c);
    qs8_fill_u8(c->x, in_size(s), 0, 255);
    qs8_fill_i8(c->w, 9 * s->channels, -128, 127);
    for (size_t j = 0; j < s->channels; j++)
        c->bias[j] = fq_test_rand_int(-20000, 20000);
    qs8_fill_multipliers(c->multiplier, s->channels, 9);
    c->requant = qs8_random_requant();
}

static void case_free(dw_case *c)
{
    fq_free_aligned(c->x);
    fq_free_aligned(c->w);
    fq_free_aligned(c->bias);
    fq_free_aligned(c->multiplier);
}

static fq_qs8_conv_shape conv_shape(const fq_qs8_dwconv_shape *s)
{
    fq_qs8_conv_shape cs = {s->batch, s->in_height, s->in_width, s->channels, s->channels, 3, 3,
                            s->stride_h, s->stride_w, 1, 1, s->pad_top, s->pad_left,
                            s->out_height, s->out_width, s->input_zero_point};
    return cs;
}

static void check_case(const fq_qs8_dwconv_kernel *kernel, const dw_case *c)
{
    assert_int_equal(fq_qs8_dwconv3x3_check_shape(&c->s, NULL), FQ_OK);
    size_t n = out_size(&c->s);
    uint8_t *want = qs8_alloc(n), *got = qs8_alloc(n + GUARD), *pad = qs8_alloc(c->s.channels);
    fq_qs8_conv_shape cs = conv_shape(&c->s);
    fq_qs8_dwconv_ref(&cs, c->x, c->w, c->bias, c->multiplier, want, &c->requant);

    void *packed = qs8_alloc(fq_qs8_dwconv3x3_packed_size(c->s.channels));
    assert_int_equal(fq_qs8_dwconv3x3_pack(c->s.channels, c->w, c->bias, c->s.input_zero_point,
                                           c->multiplier, packed, NULL), FQ_OK);
    memset(got, SENTINEL, n + GUARD);
    fq_qs8_dwconv3x3_run(kernel, &c->s, c->x, packed, got, pad, &c->requant);

    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("%s: %zu channels, %zux%zu -> %zux%zu, stride %zu x %zu, pad %zu x %zu: "
                     "output %zu is %u, reference %u", kernel->name, c->s.channels,
                     c->s.in_height, c->s.in_width, c->s.out_height, c->s.out_width,
                     c->s.stride_h, c->s.stride_w, c->s.pad_top, c->s.pad_left, i, got[i],
                     want[i]);
    for (size_t i = n; i < n + GUARD; i++)
        assert_int_equal(got[i], SENTINEL);
    fq_free_aligned(packed);
    fq_free_aligned(want);
    fq_free_aligned(got);
    fq_free_aligned(pad);
}

static void test_matches_reference_on_random_shapes(void **state)
{
    const fq_qs8_dwconv_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0xd3 + (unsigned long long)kernel->isa);
    for (int round = 0; round < ROUNDS; round++) {
        dw_case c;
        case_random(&c, 67);
        check_case(kernel, &c);
        case_free(&c);
    }
}

/* Every channel count 1..40 meets every tail of the 16-channel tiles. */
static void test_matches_reference_on_every_channel_tail(void **state)
{
    const fq_qs8_dwconv_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0x7a11);
    for (size_t channels = 1; channels <= 40; channels++) {
        dw_case c;
        case_random(&c, 1);
        c.s.channels = channels;
        case_free(&c);
        case_alloc(&c);
        qs8_fill_u8(c.x, in_size(&c.s), 0, 255);
        qs8_fill_i8(c.w, 9 * channels, -128, 127);
        for (size_t j = 0; j < channels; j++)
            c.bias[j] = fq_test_rand_int(-20000, 20000);
        qs8_fill_multipliers(c.multiplier, channels, 9);
        check_case(kernel, &c);
        case_free(&c);
    }
}

/* Constant inputs a with zero point zp against constant weights wv: the largest products. */
static void check_constant(const fq_qs8_dwconv_kernel *kernel, uint8_t a, int32_t zp, int8_t wv)
{
    dw_case c;
    fq_qs8_dwconv_shape s = {1, 5, 6, 35, 1, 2, 1, 1, 5, 3, zp};
    c.s = s;
    case_alloc(&c);
    memset(c.x, a, in_size(&c.s));
    memset(c.w, (uint8_t)wv, 9 * c.s.channels);
    for (size_t j = 0; j < c.s.channels; j++) {
        c.bias[j] = (int32_t)j * 100;
        c.multiplier[j] = 100.0f / (9.0f * 255.0f * 128.0f);
    }
    assert_int_equal(fq_qs8_requant_params_init(128, 0, 255, &c.requant, NULL), FQ_OK);
    check_case(kernel, &c);
    case_free(&c);
}

static void test_extreme_operands_are_exact(void **state)
{
    const fq_qs8_dwconv_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    check_constant(kernel, 255, 0, -128);
    check_constant(kernel, 255, 0, 127);
    check_constant(kernel, 0, 255, -128);
    check_constant(kernel, 0, 255, 127);
    check_constant(kernel, 255, 128, -128);
}

/* The depthwise reference is the convolution reference applied to each channel alone. */
static void test_dwconv_reference_equals_conv_reference_per_channel(void **state)
{
    (void)state;
    fq_test_seed(0x3);
    dw_case c;
    case_random(&c, 9);
    fq_qs8_conv_shape cs = conv_shape(&c.s);
    cs.dilation_h = 2;
    cs.out_height = c.s.in_height + c.s.pad_top >= 5 ? (c.s.in_height + c.s.pad_top - 5) /
                                                           c.s.stride_h + 1 : 0;
    if (cs.out_height == 0) {
        cs.dilation_h = 1;
        cs.out_height = c.s.out_height;
    }
    size_t pixels = cs.batch * cs.out_height * cs.out_width, channels = c.s.channels;
    uint8_t *want = qs8_alloc(pixels * channels);
    fq_qs8_dwconv_ref(&cs, c.x, c.w, c.bias, c.multiplier, want, &c.requant);

    fq_qs8_conv_shape one = cs;
    one.in_channels = one.out_channels = 1;
    size_t in_pixels = cs.batch * cs.in_height * cs.in_width;
    uint8_t *x1 = qs8_alloc(in_pixels), *y1 = qs8_alloc(pixels);
    int8_t w1[9];
    for (size_t ch = 0; ch < channels; ch++) {
        for (size_t p = 0; p < in_pixels; p++)
            x1[p] = c.x[p * channels + ch];
        for (size_t t = 0; t < 9; t++)
            w1[t] = c.w[t * channels + ch];
        fq_qs8_conv2d_ref(&one, x1, w1, &c.bias[ch], &c.multiplier[ch], y1, &c.requant);
        for (size_t p = 0; p < pixels; p++)
            assert_int_equal(y1[p], want[p * channels + ch]);
    }
    fq_free_aligned(x1);
    fq_free_aligned(y1);
    fq_free_aligned(want);
    case_free(&c);
}

static void test_check_shape_refuses_bad_geometry(void **state)
{
    (void)state;
    fq_qs8_dwconv_shape good = {1, 8, 8, 16, 2, 2, 1, 1, 4, 4, 0};
    fq_error err;
    assert_int_equal(fq_qs8_dwconv3x3_check_shape(&good, &err), FQ_OK);

    fq_qs8_dwconv_shape s = good;
    s.stride_w = 0;
    assert_int_equal(fq_qs8_dwconv3x3_check_shape(&s, &err), FQ_ERR_SHAPE);
    s = good;
    s.pad_top = 3;
    assert_int_equal(fq_qs8_dwconv3x3_check_shape(&s, &err), FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "padding"));
    s = good;
    s.out_width = 6;
    assert_int_equal(fq_qs8_dwconv3x3_check_shape(&s, &err), FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "does not fit"));
    s = good;
    s.input_zero_point = 300;
    assert_int_equal(fq_qs8_dwconv3x3_check_shape(&s, &err), FQ_ERR_INVALID_ARG);
}

static void test_pack_refuses_bad_arguments(void **state)
{
    (void)state;
    int8_t w[9 * 2] = {0};
    int32_t bias[2] = {0, INT32_MIN + 5};
    float mult[2] = {1.0f, 1.0f};
    uint8_t packed[2 * FQ_QS8_DWCONV_TILE_BYTES];
    fq_error err;
    assert_int_equal(fq_qs8_dwconv3x3_pack(0, w, NULL, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_dwconv3x3_pack(2, w, NULL, -1, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_dwconv3x3_pack(2, w, bias, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "channel 1"));
    mult[0] = -1.0f;
    assert_int_equal(fq_qs8_dwconv3x3_pack(2, w, NULL, 0, mult, packed, &err),
                     FQ_ERR_INVALID_ARG);
}

static void test_select_honours_the_cap(void **state)
{
    (void)state;
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++)
        assert_true(fq_isa_allowed(fq_qs8_dwconv3x3_select((fq_isa)cap)->isa, (fq_isa)cap));
    assert_int_equal(fq_qs8_dwconv3x3_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
}

int main(void)
{
    static qs8_test_list list;
    int count;
    const fq_qs8_dwconv_kernel *kernels = fq_qs8_dwconv3x3_kernels(&count);
    for (int i = 0; i < count; i++) {
        void *k = (void *)&kernels[i];
        qs8_test_add(&list, "matches_reference_on_random_shapes", kernels[i].name,
                     test_matches_reference_on_random_shapes, k);
        qs8_test_add(&list, "matches_reference_on_every_channel_tail", kernels[i].name,
                     test_matches_reference_on_every_channel_tail, k);
        qs8_test_add(&list, "extreme_operands_are_exact", kernels[i].name,
                     test_extreme_operands_are_exact, k);
    }
    qs8_test_add(&list, "dwconv_reference_equals_conv_reference_per_channel", NULL,
                 test_dwconv_reference_equals_conv_reference_per_channel, NULL);
    qs8_test_add(&list, "check_shape_refuses_bad_geometry", NULL,
                 test_check_shape_refuses_bad_geometry, NULL);
    qs8_test_add(&list, "pack_refuses_bad_arguments", NULL, test_pack_refuses_bad_arguments,
                 NULL);
    qs8_test_add(&list, "select_honours_the_cap", NULL, test_select_honours_the_cap, NULL);
    return qs8_test_run("qs8_dwconv", &list);
}
