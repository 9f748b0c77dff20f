/* fp16 convolution (im2col GEMM driver) and depthwise 3x3 kernels against their references. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "f16_gemm.h"
#include "ref/f16_gemm_ref.h"
#include "ref/tensor_cast_ref.h"
#include "test_util.h"

enum { ROUNDS = 16 };

/* |y - y_ref| <= 1e-2 * (|bias| + sum |x * w|) + 2^-24, as for the f16 GEMM (f16_gemm.h); the
 * inputs are in [-1, 1], so the magnitude sum is at most 1 + taps * channels. */
static const double f16_tolerance = 1e-2;

static uint16_t *random_halves(size_t count, float lo, float hi)
{
    uint16_t *v = malloc((count > 0 ? count : 1) * sizeof(uint16_t));
    assert_non_null(v);
    for (size_t i = 0; i < count; i++)
        v[i] = fq_f16_from_f32(fq_test_rand_float(lo, hi));
    return v;
}

static float *widen(const uint16_t *v, size_t count)
{
    float *w = malloc((count > 0 ? count : 1) * sizeof(float));
    assert_non_null(w);
    for (size_t i = 0; i < count; i++)
        w[i] = fq_f32_from_f16(v[i]);
    return w;
}

static void compare(const char *name, const uint16_t *got, const uint16_t *want, size_t count,
                    double magnitude)
{
    double bound = f16_tolerance * magnitude + 0x1p-24;
    for (size_t i = 0; i < count; i++) {
        double diff = fabs((double)fq_f32_from_f16(got[i]) - fq_f32_from_f16(want[i]));
        if (diff > bound)
            fail_msg("%s: element %zu is %g, reference %g", name, i, fq_f32_from_f16(got[i]),
                     fq_f32_from_f16(want[i]));
    }
}

static size_t out_size(size_t in, size_t kernel, size_t stride, size_t dilation, size_t pad)
{
    size_t span = dilation * (kernel - 1) + 1;
    if (in + 2 * pad < span)
        return 0;
    return (in + 2 * pad - span) / stride + 1;
}

static fq_f16_conv2d_params random_conv(void)
{
    fq_f16_conv2d_params p;
    do {
        p.in_h = (size_t)fq_test_rand_int(1, 9);
        p.in_w = (size_t)fq_test_rand_int(1, 9);
        p.in_channels = (size_t)(2 * fq_test_rand_int(0, 6) + 1);
        p.out_channels = (size_t)fq_test_rand_int(1, 21);
        p.kernel_h = (size_t)fq_test_rand_int(1, 3);
        p.kernel_w = (size_t)fq_test_rand_int(1, 3);
        p.stride_h = (size_t)fq_test_rand_int(1, 2);
        p.stride_w = (size_t)fq_test_rand_int(1, 2);
        p.dilation_h = (size_t)fq_test_rand_int(1, 2);
        p.dilation_w = (size_t)fq_test_rand_int(1, 2);
        p.pad_top = (size_t)fq_test_rand_int(0, 2);
        p.pad_left = (size_t)fq_test_rand_int(0, 2);
        p.out_h = out_size(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top);
        p.out_w = out_size(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left);
    } while (p.out_h == 0 || p.out_w == 0);
    p.clamp.min = fq_f16_from_f32(-INFINITY);
    p.clamp.max = fq_f16_from_f32(fq_test_rand_int(0, 1) ? 2.0f : INFINITY);
    return p;
}

static void check_conv(const fq_f16_gemm_kernel *kernel)
{
    for (int round = 0; round < ROUNDS; round++) {
        fq_f16_conv2d_params p = random_conv();
        size_t taps = p.kernel_h * p.kernel_w;
        size_t w_count = p.out_channels * p.in_channels * taps;
        size_t y_count = p.out_h * p.out_w * p.out_channels;
        uint16_t *x = random_halves(p.in_h * p.in_w * p.in_channels, -1.0f, 1.0f);
        uint16_t *w = random_halves(w_count, -1.0f, 1.0f);
        uint16_t *bias = random_halves(p.out_channels, -1.0f, 1.0f);
        float *w32 = widen(w, w_count);
        float *bias32 = widen(bias, p.out_channels);
        uint16_t *packed = malloc(fq_f16_conv2d_packed_count(&p, kernel) * sizeof(uint16_t));
        uint16_t *work = malloc(fq_f16_conv2d_workspace_count(&p, kernel) * sizeof(uint16_t));
        uint16_t *got = malloc(y_count * sizeof(uint16_t));
        uint16_t *want = malloc(y_count * sizeof(uint16_t));
        assert_true(packed != NULL && work != NULL && got != NULL && want != NULL);

        fq_f16_conv2d_pack(&p, kernel, w32, bias32, packed);
        fq_f16_conv2d(&p, kernel, x, packed, got, work);
        fq_ref_f16_conv2d(&p, w, bias, x, want);
        compare(kernel->name, got, want, y_count, 1.0 + (double)(taps * p.in_channels));

        free(x);
        free(w);
        free(bias);
        free(w32);
        free(bias32);
        free(packed);
        free(work);
        free(got);
        free(want);
    }
}

/* A GEMM of the f16 contract built on the reference, so that the driver runs on every CPU. */
static void reference_gemm_3x8(size_t mr, size_t nc, size_t kc, const uint16_t *a,
                               size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                               size_t c_stride, const fq_f16_minmax *params)
{
    assert_true(mr >= 1 && mr <= 3);
    fq_ref_f16_gemm(mr, nc, kc, 8, a, a_stride, packed_w, c, c_stride, params);
}

static void test_f16_conv2d_driver_matches_direct_reference(void **state)
{
    (void)state;
    fq_test_seed(21);
    fq_f16_gemm_kernel kernel = {"f16_gemm_3x8__reference", FQ_ISA_SCALAR, 3, 8,
                                 reference_gemm_3x8};
    check_conv(&kernel);
}

static void test_f16_conv2d_with_selected_gemm_matches_direct_reference(void **state)
{
    (void)state;
    const fq_f16_gemm_kernel *kernel = fq_f16_gemm_select(FQ_ISA_AUTO);
    if (kernel == NULL) {
        printf("[  SKIPPED ] f16 conv2d: this CPU (or build) has no fp16 arithmetic "
               "(AVX512-FP16 or ARMv8.2 fp16)\n");
        skip();
    }
    fq_test_seed(22);
    check_conv(kernel);
}

#if defined(FQ_HAVE_ISA_AVX512FP16) || defined(FQ_HAVE_ISA_NEONFP16)
static fq_f16_dwconv3x3_params random_dwconv(size_t stride)
{
    fq_f16_dwconv3x3_params p;
    p.in_h = (size_t)fq_test_rand_int(1, 11);
    p.in_w = (size_t)fq_test_rand_int(1, 11);
    p.channels = (size_t)fq_test_rand_int(1, 67) | 1u;
    p.stride = stride;
    p.pad_top = (size_t)fq_test_rand_int(0, 1);
    p.pad_left = (size_t)fq_test_rand_int(0, 1);
    p.out_h = out_size(p.in_h, 3, stride, 1, p.pad_top);
    p.out_w = out_size(p.in_w, 3, stride, 1, p.pad_left);
    if (p.out_h == 0 || p.out_w == 0) { /* an image smaller than the window: pad it */
        p.pad_top = p.pad_left = 1;
        p.out_h = out_size(p.in_h, 3, stride, 1, 1);
        p.out_w = out_size(p.in_w, 3, stride, 1, 1);
    }
    p.clamp.min = fq_f16_from_f32(fq_test_rand_int(0, 1) ? 0.0f : -INFINITY);
    p.clamp.max = fq_f16_from_f32(fq_test_rand_int(0, 1) ? 6.0f : INFINITY);
    return p;
}

static void check_dwconv(const fq_f16_dwconv3x3_kernel *kernel, size_t stride)
{
    for (int round = 0; round < ROUNDS; round++) {
        fq_f16_dwconv3x3_params p = random_dwconv(stride);
        size_t y_count = p.out_h * p.out_w * p.channels;
        uint16_t *x = random_halves(p.in_h * p.in_w * p.channels, -1.0f, 1.0f);
        uint16_t *w = random_halves(p.channels * 9, -1.0f, 1.0f);
        uint16_t *bias = random_halves(p.channels, -1.0f, 1.0f);
        float *w32 = widen(w, p.channels * 9);
        float *bias32 = widen(bias, p.channels);
        uint16_t *packed = malloc(fq_f16_dwconv3x3_packed_count(p.channels, kernel->cr) * 2);
        uint16_t *got = malloc(y_count * sizeof(uint16_t));
        uint16_t *want = malloc(y_count * sizeof(uint16_t));
        assert_true(packed != NULL && got != NULL && want != NULL);

        fq_f16_dwconv3x3_pack(p.channels, kernel->cr, w32, bias32, packed);
        kernel->ukernel(&p, x, packed, got);
        fq_ref_f16_dwconv3x3(&p, kernel->cr, x, packed, want);
        compare(kernel->name, got, want, y_count, 10.0);

        free(x);
        free(w);
        free(bias);
        free(w32);
        free(bias32);
        free(packed);
        free(got);
        free(want);
    }
}

static void check_dwconv_kernel(const fq_f16_dwconv3x3_kernel *kernel)
{
    if (!fq_isa_supported(kernel->isa)) {
        printf("[  SKIPPED ] %s: this CPU has no %s\n", kernel->name, fq_isa_name(kernel->isa));
        skip();
    }
    fq_test_seed(23 + (unsigned long long)kernel->isa);
    check_dwconv(kernel, 1);
    check_dwconv(kernel, 2);
}

#endif

static void skip_not_built(const char *name)
{
    printf("[  SKIPPED ] %s: not built for this architecture\n", name);
    skip();
}

static void test_f16_dwconv3x3_c32_avx512fp16_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_HAVE_ISA_AVX512FP16)
    fq_f16_dwconv3x3_kernel k = {"f16_dwconv3x3_c32__avx512fp16", FQ_ISA_AVX512FP16, 32,
                                 fq_f16_dwconv3x3_ukernel_c32__avx512fp16};
    check_dwconv_kernel(&k);
#else
    skip_not_built("f16_dwconv3x3_c32__avx512fp16");
#endif
}

static void test_f16_dwconv3x3_c8_neonfp16_matches_reference(void **state)
{
    (void)state;
#if defined(FQ_HAVE_ISA_NEONFP16)
    fq_f16_dwconv3x3_kernel k = {"f16_dwconv3x3_c8__neonfp16", FQ_ISA_NEONFP16, 8,
                                 fq_f16_dwconv3x3_ukernel_c8__neonfp16};
    check_dwconv_kernel(&k);
#else
    skip_not_built("f16_dwconv3x3_c8__neonfp16");
#endif
}

/* The reference skips taps outside the image: a 1x1 image with padding 1 sees only its center. */
static void test_f16_dwconv3x3_reference_reads_only_the_center_of_a_padded_pixel(void **state)
{
    (void)state;
    fq_f16_dwconv3x3_params p = {1, 1, 1, 1, 1, 1, 1, 1,
                                 {fq_f16_from_f32(-INFINITY), fq_f16_from_f32(INFINITY)}};
    float w[9] = {100, 100, 100, 100, 3, 100, 100, 100, 100};
    float bias = 0.5f;
    uint16_t packed[10 * 4];
    uint16_t x = fq_f16_from_f32(2.0f), y = 0;

    fq_f16_dwconv3x3_pack(1, 4, w, &bias, packed);
    fq_ref_f16_dwconv3x3(&p, 4, &x, packed, &y);

    assert_true(fq_f32_from_f16(y) == 6.5f);
}

static void test_f16_dwconv3x3_select_is_null_under_a_scalar_cap(void **state)
{
    (void)state;
    assert_null(fq_f16_dwconv3x3_select(FQ_ISA_SCALAR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_conv2d_driver_matches_direct_reference),
        cmocka_unit_test(test_f16_conv2d_with_selected_gemm_matches_direct_reference),
        cmocka_unit_test(test_f16_dwconv3x3_c32_avx512fp16_matches_reference),
        cmocka_unit_test(test_f16_dwconv3x3_c8_neonfp16_matches_reference),
        cmocka_unit_test(test_f16_dwconv3x3_reference_reads_only_the_center_of_a_padded_pixel),
        cmocka_unit_test(test_f16_dwconv3x3_select_is_null_under_a_scalar_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
