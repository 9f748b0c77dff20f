/* The reference int8 convolution (kernels/ref/qs8_conv2d_ref.h) against the GEMM kernels run on
 * an im2col of the same input, bit for bit, with strides, padding and dilation; and its
 * padding adding exactly zero. */
#include <string.h>

#include "qs8_test_util.h"
#include "ref/qs8_conv2d_ref.h"
#include "ref/qs8_gemm_ref.h"

enum { ROUNDS = 30 };

typedef struct conv_case {
    fq_qs8_conv_shape s;
    size_t depth;          /* kernel_h * kernel_w * in_channels */
    uint8_t *x;
    int8_t *w;
    int32_t *bias;
    float *multiplier;
    fq_qs8_requant_params requant;
} conv_case;

static size_t out_size(size_t in, size_t k, size_t stride, size_t dilation, size_t pads)
{
    size_t span = dilation * (k - 1) + 1;
    return in + pads < span ? 0 : (in + pads - span) / stride + 1;
}

static void case_random(conv_case *c)
{
    fq_qs8_conv_shape *s = &c->s;
    do {
        s->batch = (size_t)fq_test_rand_int(1, 2);
        s->in_height = (size_t)fq_test_rand_int(1, 9);
        s->in_width = (size_t)fq_test_rand_int(1, 9);
        s->in_channels = (size_t)fq_test_rand_int(1, 19);
        s->out_channels = (size_t)fq_test_rand_int(1, 37);
        s->kernel_h = (size_t)fq_test_rand_int(1, 3);
        s->kernel_w = (size_t)fq_test_rand_int(1, 3);
        s->stride_h = (size_t)fq_test_rand_int(1, 2);
        s->stride_w = (size_t)fq_test_rand_int(1, 2);
        s->dilation_h = (size_t)fq_test_rand_int(1, 2);
        s->dilation_w = (size_t)fq_test_rand_int(1, 2);
        s->pad_top = (size_t)fq_test_rand_int(0, 2);
        s->pad_left = (size_t)fq_test_rand_int(0, 2);
        s->out_height = out_size(s->in_height, s->kernel_h, s->stride_h, s->dilation_h,
                                 s->pad_top + (size_t)fq_test_rand_int(0, 2));
        s->out_width = out_size(s->in_width, s->kernel_w, s->stride_w, s->dilation_w,
                                s->pad_left + (size_t)fq_test_rand_int(0, 2));
    } while (s->out_height == 0 || s->out_width == 0);
    s->input_zero_point = fq_test_rand_int(0, 255);

    c->depth = s->kernel_h * s->kernel_w * s->in_channels;
    size_t x_size = s->batch * s->in_height * s->in_width * s->in_channels;
    c->x = qs8_alloc(x_size);
    c->w = qs8_alloc(s->out_channels * c->depth);
    c->bias = qs8_alloc(s->out_channels * sizeof(int32_t));
    c->multiplier = qs8_alloc(s->out_channels * sizeof(float));
    qs8_fill_u8(c->x, x_size, 0, 255);
    qs8_fill_i8(c->w, s->out_channels * c->depth, -128, 127);
    for (size_t j = 0; j < s->out_channels; j++)
        c->bias[j] = fq_test_rand_int(-50000, 50000);
    qs8_fill_multipliers(c->multiplier, s->out_channels, c->depth);
    c->requant = qs8_random_requant();
}

static void case_free(conv_case *c)
{
    fq_free_aligned(c->x);
    fq_free_aligned(c->w);
    fq_free_aligned(c->bias);
    fq_free_aligned(c->multiplier);
}

static size_t output_pixels(const fq_qs8_conv_shape *s)
{
    return s->batch * s->out_height * s->out_width;
}

/* One row of depth values per output pixel, in (ky, kx, ci) order like OHWI weights; padded
 * positions hold the input zero point, the real zero. */
static uint8_t *im2col(const conv_case *c)
{
    const fq_qs8_conv_shape *s = &c->s;
    uint8_t *cols = qs8_alloc(output_pixels(s) * c->depth);
    uint8_t *row = cols;
    for (size_t b = 0; b < s->batch; b++)
        for (size_t oy = 0; oy < s->out_height; oy++)
            for (size_t ox = 0; ox < s->out_width; ox++)
                for (size_t ky = 0; ky < s->kernel_h; ky++)
                    for (size_t kx = 0; kx < s->kernel_w; kx++) {
                        size_t py = oy * s->stride_h + ky * s->dilation_h;
                        size_t px = ox * s->stride_w + kx * s->dilation_w;
                        int inside = py >= s->pad_top && py - s->pad_top < s->in_height &&
                                     px >= s->pad_left && px - s->pad_left < s->in_width;
                        size_t pixel = (b * s->in_height + py - s->pad_top) * s->in_width +
                                       (px - s->pad_left);
                        for (size_t ci = 0; ci < s->in_channels; ci++)
                            *row++ = inside ? c->x[pixel * s->in_channels + ci]
                                            : (uint8_t)s->input_zero_point;
                    }
    return cols;
}

static uint8_t *conv_reference(const conv_case *c)
{
    uint8_t *y = qs8_alloc(output_pixels(&c->s) * c->s.out_channels);
    fq_qs8_conv2d_ref(&c->s, c->x, c->w, c->bias, c->multiplier, y, &c->requant);
    return y;
}

static uint8_t *conv_by_gemm(const fq_qs8_gemm_kernel *kernel, const conv_case *c)
{
    size_t m = output_pixels(&c->s), n = c->s.out_channels;
    uint8_t *cols = im2col(c), *y = qs8_alloc(m * n);
    void *packed = qs8_alloc(fq_qs8_gemm_packed_size(kernel, n, c->depth));
    assert_int_equal(fq_qs8_gemm_pack(kernel, n, c->depth, c->w, c->bias,
                                      c->s.input_zero_point, c->multiplier, packed, NULL),
                     FQ_OK);
    fq_qs8_gemm_run(kernel, m, n, c->depth, cols, c->depth, packed, y, n, &c->requant);
    fq_free_aligned(packed);
    fq_free_aligned(cols);
    return y;
}

static void test_im2col_gemm_matches_conv_reference(void **state)
{
    const fq_qs8_gemm_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(0xc0de + (unsigned long long)kernel->isa);
    for (int round = 0; round < ROUNDS; round++) {
        conv_case c;
        case_random(&c);
        uint8_t *want = conv_reference(&c), *got = conv_by_gemm(kernel, &c);
        size_t count = output_pixels(&c.s) * c.s.out_channels;
        for (size_t i = 0; i < count; i++)
            if (got[i] != want[i])
                fail_msg("%s: %zux%zu kernel, stride %zu, pad %zu: output %zu is %u, "
                         "reference %u", kernel->name, c.s.kernel_h, c.s.kernel_w,
                         c.s.stride_h, c.s.pad_top, i, got[i], want[i]);
        fq_free_aligned(want);
        fq_free_aligned(got);
        case_free(&c);
    }
}

/* A 1x1 convolution is a GEMM over pixels: the two references agree. */
static void test_pointwise_conv_reference_equals_gemm_reference(void **state)
{
    (void)state;
    fq_test_seed(0x1);
    conv_case c;
    do {
        case_random(&c);
        if (c.s.kernel_h == 1 && c.s.kernel_w == 1 && c.s.stride_h == 1 && c.s.stride_w == 1 &&
            c.s.pad_top == 0 && c.s.pad_left == 0 && c.s.out_height == c.s.in_height &&
            c.s.out_width == c.s.in_width)
            break;
        case_free(&c);
    } while (1);
    size_t m = output_pixels(&c.s), n = c.s.out_channels;
    uint8_t *want = conv_reference(&c), *got = qs8_alloc(m * n);
    fq_qs8_gemm_ref_args args = {m, n, c.depth, c.x, c.depth, c.s.input_zero_point, c.w,
                                 c.bias, c.multiplier, got, n};
    fq_qs8_gemm_ref(&args, &c.requant);
    assert_memory_equal(got, want, m * n);
    fq_free_aligned(want);
    fq_free_aligned(got);
    case_free(&c);
}

/* An input equal to its zero point everywhere is a real zero: every output is the bias alone,
 * at every pixel, padded or not. */
static void test_padding_and_zero_point_add_nothing(void **state)
{
    (void)state;
    fq_test_seed(0x2);
    conv_case c;
    case_random(&c);
    c.s.pad_top = 2;
    c.s.pad_left = 2;
    c.s.kernel_h = c.s.kernel_w = 3;
    c.s.stride_h = c.s.stride_w = 1;
    c.s.dilation_h = c.s.dilation_w = 1;
    c.s.out_height = c.s.in_height + 2;
    c.s.out_width = c.s.in_width + 2;
    c.depth = 9 * c.s.in_channels;
    fq_free_aligned(c.w);
    c.w = qs8_alloc(c.s.out_channels * c.depth);
    qs8_fill_i8(c.w, c.s.out_channels * c.depth, -128, 127);
    memset(c.x, c.s.input_zero_point,
           c.s.batch * c.s.in_height * c.s.in_width * c.s.in_channels);

    uint8_t *y = conv_reference(&c);
    for (size_t p = 0; p < output_pixels(&c.s); p++)
        for (size_t j = 0; j < c.s.out_channels; j++)
            assert_int_equal(y[p * c.s.out_channels + j],
                             fq_qs8_requantize(c.bias[j], c.multiplier[j], &c.requant));
    fq_free_aligned(y);
    case_free(&c);
}

int main(void)
{
    static qs8_test_list list;
    int count;
    const fq_qs8_gemm_kernel *kernels = fq_qs8_gemm_kernels(&count);
    for (int i = 0; i < count; i++)
        qs8_test_add(&list, "im2col_gemm_matches_conv_reference", kernels[i].name,
                     test_im2col_gemm_matches_conv_reference, (void *)&kernels[i]);
    qs8_test_add(&list, "pointwise_conv_reference_equals_gemm_reference", NULL,
                 test_pointwise_conv_reference_equals_gemm_reference, NULL);
    qs8_test_add(&list, "padding_and_zero_point_add_nothing", NULL,
                 test_padding_and_zero_point_add_nothing, NULL);
    return qs8_test_run("qs8_conv", &list);
}
