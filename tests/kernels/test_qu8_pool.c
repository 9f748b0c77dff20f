/* The u8 NHWC pooling microkernels and drivers (kernels/qu8_pool.h), every one compiled in,
 * against the plane-by-plane reference (ref/qu8_pool2d_ref.h), bit for bit, over random
 * windows, strides, padding (counted and not), dilations for max pooling and channel counts
 * that are not multiples of any kernel's vector. Kernels whose ISA this CPU lacks skip. */
#include <string.h>

#include "qs8_test_util.h"
#include "qu8_pool.h"

enum { ROUNDS = 150 };

static int64_t out_extent(int64_t in, int64_t kernel, int64_t dilation, int64_t stride,
                          int64_t pads)
{
    int64_t span = dilation * (kernel - 1) + 1;
    return in + pads < span ? 0 : (in + pads - span) / stride + 1;
}

/* A random NHWC pooling with windows up to max_kernel taps a side. */
static fq_qu8_pool_params random_params(int max_kernel, int max_dilation)
{
    fq_qu8_pool_params p;
    fq_pool2d_f32_params *w = &p.window;
    do {
        memset(&p, 0, sizeof(p));
        p.channels = fq_test_rand_int(1, 67);
        w->planes = p.channels * fq_test_rand_int(1, 2);
        w->kernel_h = fq_test_rand_int(1, max_kernel);
        w->kernel_w = fq_test_rand_int(1, max_kernel);
        w->in_h = fq_test_rand_int(1, 2 * max_kernel + 5);
        w->in_w = fq_test_rand_int(1, 2 * max_kernel + 5);
        w->stride_h = fq_test_rand_int(1, 3);
        w->stride_w = fq_test_rand_int(1, 3);
        w->dilation_h = fq_test_rand_int(1, max_dilation);
        w->dilation_w = fq_test_rand_int(1, max_dilation);
        w->pad_top = fq_test_rand_int(0, w->kernel_h - 1);
        w->pad_left = fq_test_rand_int(0, w->kernel_w - 1);
        w->pad_bottom = fq_test_rand_int(0, w->kernel_h - 1);
        w->pad_right = fq_test_rand_int(0, w->kernel_w - 1);
        w->out_h = out_extent(w->in_h, w->kernel_h, w->dilation_h, w->stride_h,
                              w->pad_top + w->pad_bottom);
        w->out_w = out_extent(w->in_w, w->kernel_w, w->dilation_w, w->stride_w,
                              w->pad_left + w->pad_right);
    } while (w->out_h == 0 || w->out_w == 0);
    w->count_include_pad = fq_test_rand_int(0, 1) == 1;
    p.channels_last = true;
    p.multiplier = fq_test_rand_float(0.05f, 4.0f);
    p.x_zero = fq_test_rand_int(0, 255);
    p.y_zero = fq_test_rand_int(0, 255);
    return p;
}

typedef struct buffers {
    size_t in, out;
    uint8_t *x, *want, *got;
} buffers;

static buffers make_buffers(const fq_qu8_pool_params *p)
{
    const fq_pool2d_f32_params *w = &p->window;
    buffers b = {.in = (size_t)(w->planes * w->in_h * w->in_w),
                 .out = (size_t)(w->planes * w->out_h * w->out_w)};
    b.x = qs8_alloc(b.in);
    b.want = qs8_alloc(b.out);
    b.got = qs8_alloc(b.out);
    qs8_fill_u8(b.x, b.in, 0, 255);
    memset(b.got, 0xA5, b.out);
    return b;
}

static void free_buffers(buffers *b)
{
    fq_free_aligned(b->x);
    fq_free_aligned(b->want);
    fq_free_aligned(b->got);
}

static int64_t output_rows(const fq_qu8_pool_params *p)
{
    return p->window.planes / p->channels * p->window.out_h;
}

/* The max driver, its row buffer filled with garbage first. */
static void expect_max_equal(const fq_qu8_maxpool_kernel *kernel, int max_kernel,
                                       int rounds)
{
    for (int round = 0; round < rounds; round++) {
        fq_qu8_pool_params p = random_params(max_kernel, 2);
        buffers b = make_buffers(&p);
        size_t size = fq_qu8_maxpool2d_nhwc_buffer_size(&p);
        assert_int_equal(size % 64, 0);
        uint8_t *buffer = qs8_alloc(size);
        qs8_fill_u8(buffer, size, 0, 255);
        fq_qu8_maxpool2d_ref(&p, b.x, b.want);
        fq_qu8_maxpool2d_nhwc_rows(kernel, &p, b.x, b.got, 0, output_rows(&p), buffer);
        assert_memory_equal(b.got, b.want, b.out);
        fq_free_aligned(buffer);
        free_buffers(&b);
    }
}

static void expect_average_equal(const fq_qu8_avgpool_kernel *kernel, int max_kernel,
                                 int rounds)
{
    for (int round = 0; round < rounds; round++) {
        fq_qu8_pool_params p = random_params(max_kernel, 1);
        buffers b = make_buffers(&p);
        assert_true(fq_qu8_avgpool2d_nhwc_takes(&p));
        fq_qu8_avgpool2d_ref(&p, b.x, b.want);
        fq_qu8_avgpool2d_nhwc_rows(kernel, &p, b.x, b.got, 0, output_rows(&p));
        assert_memory_equal(b.got, b.want, b.out);
        free_buffers(&b);
    }
}

static void test_max_pool_matches_reference(void **state)
{
    const fq_qu8_maxpool_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(46);
    expect_max_equal(kernel, 5, ROUNDS);
}

/* Windows up to 12 x 12, then of 70 x 70 taps, wider than the padding and most of the
 * input. */
static void test_max_pool_of_large_windows_matches_reference(void **state)
{
    const fq_qu8_maxpool_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(47);
    expect_max_equal(kernel, 12, 20);
    for (int round = 0; round < 4; round++) {
        fq_qu8_pool_params p = random_params(3, 1);
        fq_pool2d_f32_params *w = &p.window;
        w->kernel_h = w->kernel_w = 70;
        w->in_h = w->in_w = 75;
        w->pad_top = w->pad_left = w->pad_bottom = w->pad_right = 2;
        w->out_h = w->out_w = (75 + 4 - 70) / w->stride_h + 1;
        w->stride_w = w->stride_h;
        buffers b = make_buffers(&p);
        uint8_t *buffer = qs8_alloc(fq_qu8_maxpool2d_nhwc_buffer_size(&p));
        fq_qu8_maxpool2d_ref(&p, b.x, b.want);
        fq_qu8_maxpool2d_nhwc_rows(kernel, &p, b.x, b.got, 0, output_rows(&p), buffer);
        assert_memory_equal(b.got, b.want, b.out);
        fq_free_aligned(buffer);
        free_buffers(&b);
    }
}

static void test_average_pool_matches_reference(void **state)
{
    const fq_qu8_avgpool_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(43);
    expect_average_equal(kernel, 5, ROUNDS);
}

/* Up to 16 x 16 taps: the sums reach 255 * 256. */
static void test_average_pool_of_large_windows_matches_reference(void **state)
{
    const fq_qu8_avgpool_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(44);
    expect_average_equal(kernel, 16, 20);
}

/* Windows whose counts are powers of two, where the kernels multiply in float, with
 * multipliers that make halves (ties), and ones at and past the ends of the range where they
 * fall back to double. */
static void test_average_pool_of_power_of_two_counts_matches_reference(void **state)
{
    const fq_qu8_avgpool_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(48);
    static const float multipliers[] = {1.0f, 0.5f, 3.0f, 0.25f, 0x1p-100f, 0x1p-101f,
                                        0x1p100f, 0x1p101f, 1e-3f};
    for (size_t m = 0; m < sizeof(multipliers) / sizeof(multipliers[0]); m++)
        for (int round = 0; round < 20; round++) {
            fq_qu8_pool_params p = random_params(4, 1);
            fq_pool2d_f32_params *w = &p.window;
            w->kernel_h = 1 << fq_test_rand_int(0, 2);
            w->kernel_w = 1 << fq_test_rand_int(0, 2);
            w->pad_top = w->pad_left = w->pad_bottom = w->pad_right = 0;
            w->in_h = w->kernel_h + fq_test_rand_int(0, 9);
            w->in_w = w->kernel_w + fq_test_rand_int(0, 9);
            w->out_h = (w->in_h - w->kernel_h) / w->stride_h + 1;
            w->out_w = (w->in_w - w->kernel_w) / w->stride_w + 1;
            p.multiplier = multipliers[m];
            buffers b = make_buffers(&p);
            fq_qu8_avgpool2d_ref(&p, b.x, b.want);
            fq_qu8_avgpool2d_nhwc_rows(kernel, &p, b.x, b.got, 0, output_rows(&p));
            assert_memory_equal(b.got, b.want, b.out);
            free_buffers(&b);
        }
}

/* Rows computed in separate calls, last first, give the bytes of one call over all rows. */
static void test_rows_computed_apart_equal_one_call(void **state)
{
    (void)state;
    fq_test_seed(45);
    const fq_qu8_maxpool_kernel *max = fq_qu8_maxpool_select(FQ_ISA_AUTO);
    const fq_qu8_avgpool_kernel *avg = fq_qu8_avgpool_select(FQ_ISA_AUTO);
    for (int round = 0; round < 20; round++) {
        fq_qu8_pool_params p = random_params(4, 1);
        buffers b = make_buffers(&p);
        int64_t rows = output_rows(&p);
        uint8_t *buffer = qs8_alloc(fq_qu8_maxpool2d_nhwc_buffer_size(&p));
        fq_qu8_maxpool2d_nhwc_rows(max, &p, b.x, b.want, 0, rows, buffer);
        for (int64_t r = rows - 1; r >= 0; r--)
            fq_qu8_maxpool2d_nhwc_rows(max, &p, b.x, b.got, r, r + 1, buffer);
        fq_free_aligned(buffer);
        assert_memory_equal(b.got, b.want, b.out);
        fq_qu8_avgpool2d_nhwc_rows(avg, &p, b.x, b.want, 0, rows);
        for (int64_t r = rows - 1; r >= 0; r--)
            fq_qu8_avgpool2d_nhwc_rows(avg, &p, b.x, b.got, r, r + 1);
        assert_memory_equal(b.got, b.want, b.out);
        free_buffers(&b);
    }
}

static void test_average_driver_refuses_windows_over_the_tap_limit(void **state)
{
    (void)state;
    fq_qu8_pool_params p = {.channels_last = true, .channels = 1};
    p.window.kernel_h = 16;
    p.window.kernel_w = 16;
    assert_true(fq_qu8_avgpool2d_nhwc_takes(&p));
    p.window.kernel_w = 17;
    assert_false(fq_qu8_avgpool2d_nhwc_takes(&p));
    p.window.kernel_w = 16;
    p.channels_last = false;
    assert_false(fq_qu8_avgpool2d_nhwc_takes(&p));
}

static void test_select_honours_the_cap(void **state)
{
    (void)state;
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++) {
        assert_true(fq_isa_allowed(fq_qu8_maxpool_select((fq_isa)cap)->isa, (fq_isa)cap));
        assert_true(fq_isa_allowed(fq_qu8_avgpool_select((fq_isa)cap)->isa, (fq_isa)cap));
    }
    assert_int_equal(fq_qu8_maxpool_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
    assert_int_equal(fq_qu8_avgpool_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
}

int main(void)
{
    static qs8_test_list list;
    int count;
    const fq_qu8_maxpool_kernel *max = fq_qu8_maxpool_kernels(&count);
    for (int i = 0; i < count; i++) {
        qs8_test_add(&list, "max_pool_matches_reference", max[i].name,
                     test_max_pool_matches_reference, (void *)&max[i]);
        qs8_test_add(&list, "max_pool_of_large_windows_matches_reference", max[i].name,
                     test_max_pool_of_large_windows_matches_reference, (void *)&max[i]);
    }
    const fq_qu8_avgpool_kernel *avg = fq_qu8_avgpool_kernels(&count);
    for (int i = 0; i < count; i++) {
        qs8_test_add(&list, "average_pool_matches_reference", avg[i].name,
                     test_average_pool_matches_reference, (void *)&avg[i]);
        qs8_test_add(&list, "average_pool_of_large_windows_matches_reference", avg[i].name,
                     test_average_pool_of_large_windows_matches_reference, (void *)&avg[i]);
        qs8_test_add(&list, "average_pool_of_power_of_two_counts_matches_reference",
                     avg[i].name, test_average_pool_of_power_of_two_counts_matches_reference,
                     (void *)&avg[i]);
    }
    qs8_test_add(&list, "rows_computed_apart_equal_one_call", NULL,
                 test_rows_computed_apart_equal_one_call, NULL);
    qs8_test_add(&list, "average_driver_refuses_windows_over_the_tap_limit", NULL,
                 test_average_driver_refuses_windows_over_the_tap_limit, NULL);
    qs8_test_add(&list, "select_honours_the_cap", NULL, test_select_honours_the_cap, NULL);
    return qs8_test_run("qu8_pool", &list);
}
