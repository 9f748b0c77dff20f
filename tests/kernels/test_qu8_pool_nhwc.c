/* The NHWC u8 pooling kernels (ref/qu8_pool2d_nhwc.h) against the plane-by-plane reference
 * (ref/qu8_pool2d_ref.h), bit for bit, over random windows, strides, dilations, padding (with
 * and without counting it) and channel counts across the kernels' channel blocks. */
#include <string.h>

#include "qs8_test_util.h"
#include "ref/qu8_pool2d_nhwc.h"

enum { ROUNDS = 60 };

typedef void (*pool_fn)(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y);

static int64_t out_extent(int64_t in, int64_t kernel, int64_t dilation, int64_t stride,
                          int64_t pads)
{
    int64_t span = dilation * (kernel - 1) + 1;
    return in + pads < span ? 0 : (in + pads - span) / stride + 1;
}

static void random_params(fq_qu8_pool_params *p)
{
    fq_pool2d_f32_params *w = &p->window;
    memset(p, 0, sizeof(*p));
    do {
        p->channels = fq_test_rand_int(0, 4) == 0 ? fq_test_rand_int(250, 300)
                                                  : fq_test_rand_int(1, 40);
        w->planes = p->channels * fq_test_rand_int(1, 2);
        w->in_h = fq_test_rand_int(1, 9);
        w->in_w = fq_test_rand_int(1, 9);
        w->kernel_h = fq_test_rand_int(1, 3);
        w->kernel_w = fq_test_rand_int(1, 3);
        w->stride_h = fq_test_rand_int(1, 3);
        w->stride_w = fq_test_rand_int(1, 3);
        w->dilation_h = fq_test_rand_int(1, 2);
        w->dilation_w = fq_test_rand_int(1, 2);
        w->pad_top = fq_test_rand_int(0, 2);
        w->pad_left = fq_test_rand_int(0, 2);
        w->pad_bottom = fq_test_rand_int(0, 2);
        w->pad_right = fq_test_rand_int(0, 2);
        w->out_h = out_extent(w->in_h, w->kernel_h, w->dilation_h, w->stride_h,
                              w->pad_top + w->pad_bottom);
        w->out_w = out_extent(w->in_w, w->kernel_w, w->dilation_w, w->stride_w,
                              w->pad_left + w->pad_right);
    } while (w->out_h == 0 || w->out_w == 0);
    w->count_include_pad = fq_test_rand_int(0, 1) == 1;
    p->channels_last = true;
    p->multiplier = (float)fq_test_rand_int(1, 4000) / 1000.0f;
    p->x_zero = fq_test_rand_int(0, 255);
    p->y_zero = fq_test_rand_int(0, 255);
}

static void expect_equal(pool_fn fast, pool_fn ref, unsigned long long seed)
{
    fq_test_seed(seed);
    for (int round = 0; round < ROUNDS; round++) {
        fq_qu8_pool_params p;
        random_params(&p);
        const fq_pool2d_f32_params *w = &p.window;
        size_t in = (size_t)(w->planes * w->in_h * w->in_w);
        size_t out = (size_t)(w->planes * w->out_h * w->out_w);
        uint8_t *x = qs8_alloc(in), *want = qs8_alloc(out), *got = qs8_alloc(out);
        qs8_fill_u8(x, in, 0, 255);
        ref(&p, x, want);
        memset(got, 0xA5, out);
        fast(&p, x, got);
        assert_memory_equal(got, want, out);
        fq_free_aligned(x);
        fq_free_aligned(want);
        fq_free_aligned(got);
    }
}

static void test_average_pool_matches_reference(void **state)
{
    (void)state;
    expect_equal(fq_qu8_avgpool2d_nhwc__scalar, fq_qu8_avgpool2d_ref, 31);
}

static void test_max_pool_matches_reference(void **state)
{
    (void)state;
    expect_equal(fq_qu8_maxpool2d_nhwc__scalar, fq_qu8_maxpool2d_ref, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_average_pool_matches_reference),
        cmocka_unit_test(test_max_pool_matches_reference),
    };
    return cmocka_run_group_tests_name("qu8_pool_nhwc", tests, NULL, NULL);
}
