/* fp32 max and average pooling kernels against the reference over randomized shapes, windows,
 * strides and pads, with NaN and infinite inputs among them. Max is exact, so outputs must
 * compare equal; averages add in the reference's order, so they must have the same bits (any
 * NaN matching any NaN). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_maxpool.h"
#include "f32_pool.h"
#include "facequant/cpu.h"
#include "ref/f32_pool2d_ref.h"
#include "test_util.h"

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t pad_begin, int64_t pad_end)
{
    return (in + pad_begin + pad_end - k) / s + 1;
}

static fq_pool2d_f32_params random_pool(void)
{
    fq_pool2d_f32_params p = {.planes = 1, .dilation_h = 1, .dilation_w = 1};
    p.stride_h = p.stride_w = fq_test_rand_int(1, 2);
    p.kernel_h = fq_test_rand_int(1, 5);
    p.kernel_w = fq_test_rand_int(1, FQ_F32_MAXPOOL_MAX_KW);
    p.pad_top = fq_test_rand_int(0, p.kernel_h - 1);
    p.pad_bottom = fq_test_rand_int(0, p.kernel_h - 1);
    p.pad_left = fq_test_rand_int(0, p.kernel_w - 1);
    p.pad_right = fq_test_rand_int(0, p.kernel_w - 1);
    p.in_h = fq_test_rand_int(p.kernel_h, 30);
    p.in_w = fq_test_rand_int(p.kernel_w, 600);
    p.out_h = out_size(p.in_h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom);
    p.out_w = out_size(p.in_w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right);
    return p;
}

static float random_value(void)
{
    int pick = fq_test_rand_int(0, 99);
    if (pick == 0)
        return NAN;
    if (pick == 1)
        return -INFINITY;
    if (pick == 2)
        return INFINITY;
    return fq_test_rand_float(-1.0f, 1.0f);
}

static void check_pool(const fq_f32_maxpool_kernel *kernel, const fq_pool2d_f32_params *p)
{
    int64_t nx = p->in_h * p->in_w, ny = p->out_h * p->out_w;
    float *x = malloc((size_t)nx * sizeof(float));
    float *got = malloc((size_t)ny * sizeof(float)), *want = malloc((size_t)ny * sizeof(float));
    assert_true(x != NULL && got != NULL && want != NULL);
    for (int64_t i = 0; i < nx; i++)
        x[i] = random_value();
    kernel->ukernel(p, x, got);
    fq_ref_maxpool2d_f32(p, x, want);
    for (int64_t i = 0; i < ny; i++) {
        if (got[i] != want[i])
            fail_msg("%s: %lldx%lld kernel %lldx%lld stride %lld pad %lld,%lld,%lld,%lld: "
                     "output %lld is %g, reference %g", kernel->name, (long long)p->in_h,
                     (long long)p->in_w, (long long)p->kernel_h, (long long)p->kernel_w,
                     (long long)p->stride_w, (long long)p->pad_top, (long long)p->pad_left,
                     (long long)p->pad_bottom, (long long)p->pad_right, (long long)i,
                     (double)got[i], (double)want[i]);
    }
    free(x), free(got), free(want);
}

/* The ISAs with a max pool kernel; each is tested where the CPU has it. */
static const fq_isa maxpool_isas[] = {FQ_ISA_AVX512, FQ_ISA_AVX2, FQ_ISA_SSE41, FQ_ISA_NEON};
#define N_MAXPOOL_ISAS ((int)(sizeof(maxpool_isas) / sizeof(maxpool_isas[0])))

/* The kernel of exactly isa for p, or NULL when this build or CPU has none. */
static const fq_f32_maxpool_kernel *maxpool_of(fq_isa isa, const fq_pool2d_f32_params *p)
{
    if (!fq_isa_supported(isa))
        return NULL;
    const fq_f32_maxpool_kernel *kernel = fq_f32_maxpool_select(isa, p);
    return kernel != NULL && kernel->isa == isa ? kernel : NULL;
}

static void test_maxpool_kernels_match_the_reference_on_random_shapes(void **state)
{
    (void)state;
    int tested = 0;
    for (int k = 0; k < N_MAXPOOL_ISAS; k++) {
        fq_test_seed(11);
        for (int t = 0; t < 300; t++) {
            fq_pool2d_f32_params p = random_pool();
            const fq_f32_maxpool_kernel *kernel = maxpool_of(maxpool_isas[k], &p);
            if (kernel == NULL)
                break;
            check_pool(kernel, &p);
            tested += t == 0;
        }
    }
    if (tested == 0)
        skip();
}

/* The 2 x 2, stride-2 windows of the detectors' backbones have their own row loop: every width
 * from 1 to 100 (tails of every length), odd and even heights, with and without a bottom and
 * right pad (ceil mode), where the last window row or column is partial. */
static void test_maxpool_kernels_match_the_reference_on_2x2_stride_2(void **state)
{
    (void)state;
    int tested = 0;
    for (int k = 0; k < N_MAXPOOL_ISAS; k++) {
        fq_test_seed(12);
        for (int64_t w = 1; w <= 100; w++) {
            fq_pool2d_f32_params p = {.planes = 1, .kernel_h = 2, .kernel_w = 2, .stride_h = 2,
                                      .stride_w = 2, .dilation_h = 1, .dilation_w = 1};
            p.in_w = w < 2 ? 2 : w;
            p.in_h = fq_test_rand_int(2, 9);
            p.pad_bottom = p.in_h % 2;
            p.pad_right = w % 3 == 0 ? p.in_w % 2 : 0;
            p.out_h = out_size(p.in_h, 2, 2, 0, p.pad_bottom);
            p.out_w = out_size(p.in_w, 2, 2, 0, p.pad_right);
            const fq_f32_maxpool_kernel *kernel = maxpool_of(maxpool_isas[k], &p);
            if (kernel == NULL)
                break;
            check_pool(kernel, &p);
            tested += w == 1;
        }
    }
    if (tested == 0)
        skip();
}

static void test_maxpool_select_refuses_what_the_kernels_do_not_take(void **state)
{
    (void)state;
    fq_pool2d_f32_params p = {.planes = 1, .in_h = 8, .in_w = 8, .out_h = 3, .out_w = 3,
                              .kernel_h = 2, .kernel_w = 2, .stride_h = 3, .stride_w = 3,
                              .dilation_h = 1, .dilation_w = 1};
    assert_null(fq_f32_maxpool_select(FQ_ISA_AUTO, &p));
    p.stride_h = p.stride_w = 2;
    p.dilation_w = 2;
    assert_null(fq_f32_maxpool_select(FQ_ISA_AUTO, &p));
    p.dilation_w = 1;
    assert_null(fq_f32_maxpool_select(FQ_ISA_SCALAR, &p));
}

/* An average pooling the kernels take: stride_w 1 or 2, any stride_h, pads below the kernel,
 * counting the padding or not. */
static fq_pool2d_f32_params random_average_pool(void)
{
    fq_pool2d_f32_params p = {.planes = 1, .dilation_h = 1, .dilation_w = 1};
    p.stride_h = fq_test_rand_int(1, 3);
    p.stride_w = fq_test_rand_int(1, 2);
    p.kernel_h = fq_test_rand_int(1, 5);
    p.kernel_w = fq_test_rand_int(1, 5);
    p.pad_top = fq_test_rand_int(0, p.kernel_h - 1);
    p.pad_bottom = fq_test_rand_int(0, p.kernel_h - 1);
    p.pad_left = fq_test_rand_int(0, p.kernel_w - 1);
    p.pad_right = fq_test_rand_int(0, p.kernel_w - 1);
    p.in_h = fq_test_rand_int(p.kernel_h, 25);
    p.in_w = fq_test_rand_int(p.kernel_w, 90);
    p.out_h = out_size(p.in_h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom);
    p.out_w = out_size(p.in_w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right);
    p.count_include_pad = fq_test_rand_int(0, 1) == 1;
    return p;
}

static bool same_float(float a, float b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof(a)) == 0;
}

static void check_average(const fq_f32_avgpool_kernel *kernel, const fq_pool2d_f32_params *p)
{
    int64_t nx = p->in_h * p->in_w, ny = p->out_h * p->out_w;
    float *x = malloc((size_t)nx * sizeof(float));
    float *got = malloc((size_t)ny * sizeof(float)), *want = malloc((size_t)ny * sizeof(float));
    assert_true(x != NULL && got != NULL && want != NULL);
    for (int64_t i = 0; i < nx; i++)
        x[i] = random_value();
    kernel->ukernel(p, x, got);
    fq_ref_avgpool2d_f32(p, x, want);
    for (int64_t i = 0; i < ny; i++)
        if (!same_float(got[i], want[i]))
            fail_msg("%s: %lldx%lld kernel %lldx%lld stride %lld,%lld pad %lld,%lld,%lld,%lld "
                     "include_pad %d: output %lld is %a, reference %a", kernel->name,
                     (long long)p->in_h, (long long)p->in_w, (long long)p->kernel_h,
                     (long long)p->kernel_w, (long long)p->stride_h, (long long)p->stride_w,
                     (long long)p->pad_top, (long long)p->pad_left, (long long)p->pad_bottom,
                     (long long)p->pad_right, p->count_include_pad, (long long)i,
                     (double)got[i], (double)want[i]);
    free(x), free(got), free(want);
}

static void test_avgpool_kernels_match_the_reference_bit_for_bit(void **state)
{
    (void)state;
    int count;
    const fq_f32_avgpool_kernel *kernels = fq_f32_avgpool_kernels(&count);
    if (count == 0) {
        printf("skipping: no SIMD average pooling kernel is compiled in\n");
        skip();
    }
    for (int k = 0; k < count; k++) {
        if (!fq_isa_supported(kernels[k].isa)) {
            printf("skipping %s: this CPU lacks %s\n", kernels[k].name,
                   fq_isa_name(kernels[k].isa));
            continue;
        }
        fq_test_seed(21);
        for (int t = 0; t < 400; t++) {
            fq_pool2d_f32_params p = random_average_pool();
            check_average(&kernels[k], &p);
        }
    }
}

static void test_avgpool_select_refuses_what_the_kernels_do_not_take(void **state)
{
    (void)state;
    fq_pool2d_f32_params p = {.planes = 1, .in_h = 8, .in_w = 8, .out_h = 3, .out_w = 3,
                              .kernel_h = 2, .kernel_w = 2, .stride_h = 3, .stride_w = 3,
                              .dilation_h = 1, .dilation_w = 1};
    assert_null(fq_f32_avgpool_select(FQ_ISA_AUTO, &p));
    p.stride_w = 2;
    p.dilation_h = 2;
    assert_null(fq_f32_avgpool_select(FQ_ISA_AUTO, &p));
    p.dilation_h = 1;
    assert_null(fq_f32_avgpool_select(FQ_ISA_SCALAR, &p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxpool_kernels_match_the_reference_on_random_shapes),
        cmocka_unit_test(test_maxpool_kernels_match_the_reference_on_2x2_stride_2),
        cmocka_unit_test(test_maxpool_select_refuses_what_the_kernels_do_not_take),
        cmocka_unit_test(test_avgpool_kernels_match_the_reference_bit_for_bit),
        cmocka_unit_test(test_avgpool_select_refuses_what_the_kernels_do_not_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
