/* The fp32 depthwise 3x3 and global kernels (kernels/f32_dwconv.h), every one this CPU can
 * run, against the reference convolution of one plane: random sizes, pads and activations, a
 * large plane, and nothing written outside the output plane.
 *
 * Bound: |fast - ref| <= 1e-5 * (sum over taps of |w * x| + |bias|) + 1e-6 per element, the
 * rounding error any summation order (and FMA) may add; a wrong tap, edge or tail gives errors
 * of the order of the terms themselves. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_dwconv.h"
#include "facequant/cpu.h"
#include "ref/f32_conv2d_ref.h"
#include "test_util.h"

#define TOLERANCE 1e-5
#define GUARD 64
#define GUARD_VALUE 12345.0f

static const fq_isa caps[] = {FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512, FQ_ISA_NEON};
#define N_CAPS ((int)(sizeof(caps) / sizeof(caps[0])))

/* Activations a depthwise kernel applies itself (sigmoid is the caller's). */
static const fq_epilogue_f32_kind kinds[] = {
    FQ_EPILOGUE_F32_NONE, FQ_EPILOGUE_F32_RELU, FQ_EPILOGUE_F32_CLIP,
    FQ_EPILOGUE_F32_LEAKY_RELU,
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

static float *random_floats(int64_t n)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = fq_test_rand_float(-1.0f, 1.0f);
    return v;
}

/* The one-channel convolution with a kh x kw window and stride s on geometry g. */
static fq_conv2d_f32_params plane_params(const fq_f32_dwconv_geometry *g, int64_t kh,
                                         int64_t kw, int s, fq_epilogue_f32 act)
{
    return (fq_conv2d_f32_params){
        .batch = 1, .in_channels = 1, .in_h = g->in_h, .in_w = g->in_w, .out_channels = 1,
        .out_h = g->out_h, .out_w = g->out_w, .kernel_h = kh, .kernel_w = kw, .stride_h = s,
        .stride_w = s, .dilation_h = 1, .dilation_w = 1, .pad_top = g->pad_top,
        .pad_left = g->pad_left, .groups = 1, .act = act};
}

/* The window of kernel k on geometry g: 3x3, or the whole plane for a global kernel. */
static fq_conv2d_f32_params kernel_params(const fq_f32_dwconv_kernel *k,
                                          const fq_f32_dwconv_geometry *g, fq_epilogue_f32 act)
{
    if (k->stride == 0)
        return plane_params(g, g->in_h, g->in_w, 1, act);
    return plane_params(g, 3, 3, k->stride, act);
}

static fq_f32_dwconv_geometry random_geometry(int s, int64_t max_side)
{
    fq_f32_dwconv_geometry g = {.in_h = fq_test_rand_int(1, (int)max_side),
                                .in_w = fq_test_rand_int(1, (int)max_side),
                                .pad_top = fq_test_rand_int(0, 2),
                                .pad_left = fq_test_rand_int(0, 2)};
    int64_t bottom = fq_test_rand_int(0, 2), right = fq_test_rand_int(0, 2);
    /* At least one output row and column: the padded plane holds one 3x3 window. */
    while (g.in_h + g.pad_top + bottom < 3)
        bottom++;
    while (g.in_w + g.pad_left + right < 3)
        right++;
    g.out_h = (g.in_h + g.pad_top + bottom - 3) / s + 1;
    g.out_w = (g.in_w + g.pad_left + right - 3) / s + 1;
    return g;
}

static void check_plane(const fq_f32_dwconv_kernel *k, const fq_f32_dwconv_geometry *g,
                        fq_epilogue_f32_kind kind)
{
    fq_f32_gemm_params params = {.kind = kind, .alpha = -0.25f, .beta = 0.5f};
    fq_epilogue_f32 act = {.kind = kind, .alpha = -0.25f, .beta = 0.5f};
    if (kind == FQ_EPILOGUE_F32_LEAKY_RELU)
        params.alpha = act.alpha = 0.1f;
    fq_conv2d_f32_params p = kernel_params(k, g, act);
    int64_t nx = g->in_h * g->in_w, ny = g->out_h * g->out_w, nw = p.kernel_h * p.kernel_w;
    float *x = random_floats(nx), *w = random_floats(nw), bias = fq_test_rand_float(-1, 1);
    float *got = malloc((size_t)(ny + GUARD) * sizeof(float));
    float *want = malloc((size_t)ny * sizeof(float)), *bound = malloc((size_t)ny * 4);
    float *ax = malloc((size_t)nx * 4), *aw = malloc((size_t)nw * 4), ab = fabsf(bias);
    for (int64_t i = 0; i < ny + GUARD; i++)
        got[i] = GUARD_VALUE;

    k->ukernel(g, x, w, bias, got, &params);
    fq_ref_conv2d_f32(&p, x, w, &bias, want, NULL);
    for (int64_t i = 0; i < nx; i++)
        ax[i] = fabsf(x[i]);
    for (int64_t i = 0; i < nw; i++)
        aw[i] = fabsf(w[i]);
    p.act.kind = FQ_EPILOGUE_F32_NONE;
    fq_ref_conv2d_f32(&p, ax, aw, &ab, bound, NULL);
    for (int64_t i = 0; i < ny; i++) {
        double limit = TOLERANCE * bound[i] + 1e-6;
        if (!(fabs((double)got[i] - want[i]) <= limit))
            fail_msg("%s: %lldx%lld -> %lldx%lld pad %lld,%lld act %d: element %lld is %.9g, "
                     "the reference %.9g", k->name, (long long)g->in_h, (long long)g->in_w,
                     (long long)g->out_h, (long long)g->out_w, (long long)g->pad_top,
                     (long long)g->pad_left, kind, (long long)i, got[i], want[i]);
    }
    for (int64_t i = ny; i < ny + GUARD; i++)
        if (got[i] != GUARD_VALUE)
            fail_msg("%s: %lldx%lld -> %lldx%lld wrote float %lld past the plane", k->name,
                     (long long)g->in_h, (long long)g->in_w, (long long)g->out_h,
                     (long long)g->out_w, (long long)(i - ny));
    free(x), free(w), free(got), free(want), free(bound), free(ax), free(aw);
}

/* The kernel of stride s that cap selects, or NULL (with a message) when the CPU lacks cap. */
static const fq_f32_dwconv_kernel *kernel_of(fq_isa cap, int s)
{
    if (!fq_isa_supported(cap)) {
        printf("skipping %s: this CPU lacks it\n", fq_isa_name(cap));
        return NULL;
    }
    const fq_f32_dwconv_kernel *k = fq_f32_dwconv_select(cap, s);
    return k != NULL && k->isa == cap ? k : NULL;
}

static void random_planes(int s)
{
    int tested = 0;
    for (int c = 0; c < N_CAPS; c++) {
        const fq_f32_dwconv_kernel *k = kernel_of(caps[c], s);
        for (int t = 0; k != NULL && t < 300; t++) {
            fq_f32_dwconv_geometry g = random_geometry(s, 67);
            check_plane(k, &g, kinds[fq_test_rand_int(0, N_KINDS - 1)]);
        }
        tested += k != NULL;
    }
    if (tested == 0)
        skip();
}

static void test_stride_one_kernels_match_the_reference_on_random_planes(void **state)
{
    (void)state;
    fq_test_seed(71);
    random_planes(1);
}

static void test_stride_two_kernels_match_the_reference_on_random_planes(void **state)
{
    (void)state;
    fq_test_seed(72);
    random_planes(2);
}

static void test_kernels_match_the_reference_on_a_320x320_plane(void **state)
{
    (void)state;
    fq_test_seed(73);
    int tested = 0;
    for (int c = 0; c < N_CAPS; c++)
        for (int s = 1; s <= 2; s++) {
            const fq_f32_dwconv_kernel *k = kernel_of(caps[c], s);
            fq_f32_dwconv_geometry g = {320, 320, 320 / s, 320 / s, 1, 1};
            if (k == NULL)
                continue;
            check_plane(k, &g, FQ_EPILOGUE_F32_RELU);
            tested++;
        }
    if (tested == 0)
        skip();
}

/* Planes narrower than a vector, and pads that leave only padding under some taps. */
static void test_kernels_handle_planes_narrower_than_a_vector(void **state)
{
    (void)state;
    fq_test_seed(74);
    int tested = 0;
    for (int c = 0; c < N_CAPS; c++)
        for (int s = 1; s <= 2; s++) {
            const fq_f32_dwconv_kernel *k = kernel_of(caps[c], s);
            for (int64_t w = 1; k != NULL && w <= 20; w++) {
                fq_f32_dwconv_geometry g = {3, w, 1, 0, 0, 1};
                g.out_w = (w + 2 - 3) / s + 1;
                check_plane(k, &g, FQ_EPILOGUE_F32_NONE);
                tested++;
            }
        }
    if (tested == 0)
        skip();
}

/* Planes of up to 34 columns and 9 rows, every pad: the widths where the AVX-512 kernels
 * leave the row passes (stride 1 up to 32 columns, stride 2 up to 16 output columns, pairs of
 * rows up to 8), on both sides of each limit. */
static void test_kernels_match_the_reference_on_every_small_plane(void **state)
{
    (void)state;
    fq_test_seed(75);
    int tested = 0;
    for (int c = 0; c < N_CAPS; c++)
        for (int s = 1; s <= 2; s++) {
            const fq_f32_dwconv_kernel *k = kernel_of(caps[c], s);
            for (int64_t w = 1; k != NULL && w <= 34; w++)
                for (int64_t h = 1; h <= 9; h++)
                    for (int64_t pad = 0; pad <= 2; pad++) {
                        fq_f32_dwconv_geometry g = {h, w, 0, 0, pad, pad};
                        if (h + 2 * pad < 3 || w + 2 * pad < 3)
                            continue;
                        g.out_h = (h + 2 * pad - 3) / s + 1;
                        g.out_w = (w + 2 * pad - 3) / s + 1;
                        check_plane(k, &g, kinds[(w + h + pad) % N_KINDS]);
                        tested++;
                    }
        }
    if (tested == 0)
        skip();
}

/* The global kernel cap selects, or NULL (with a message) when the CPU lacks cap. */
static const fq_f32_dwconv_kernel *global_kernel_of(fq_isa cap)
{
    if (!fq_isa_supported(cap)) {
        printf("skipping %s: this CPU lacks it\n", fq_isa_name(cap));
        return NULL;
    }
    const fq_f32_dwconv_kernel *k = fq_f32_dwconv_select_global(cap);
    return k != NULL && k->isa == cap ? k : NULL;
}

static void global_planes(const fq_f32_dwconv_kernel *k)
{
    for (int t = 0; t < 200; t++) {
        fq_f32_dwconv_geometry g = {fq_test_rand_int(1, 40), fq_test_rand_int(1, 40), 1, 1,
                                    0, 0};
        check_plane(k, &g, kinds[t % N_KINDS]);
    }
    fq_f32_dwconv_geometry gdconv = {7, 7, 1, 1, 0, 0};
    for (int kind = 0; kind < N_KINDS; kind++)
        check_plane(k, &gdconv, kinds[kind]);
}

static void test_global_kernels_match_the_reference_on_random_planes(void **state)
{
    (void)state;
    fq_test_seed(75);
    global_planes(fq_f32_dwconv_select_global(FQ_ISA_SCALAR));
    for (int c = 0; c < N_CAPS; c++) {
        const fq_f32_dwconv_kernel *k = global_kernel_of(caps[c]);
        if (k != NULL)
            global_planes(k);
    }
}

static void test_global_kernel_of_the_scalar_cap_is_the_portable_one(void **state)
{
    (void)state;
    const fq_f32_dwconv_kernel *k = fq_f32_dwconv_select_global(FQ_ISA_SCALAR);
    assert_non_null(k);
    assert_int_equal(k->isa, FQ_ISA_SCALAR);
    assert_string_equal(k->name, "f32_dwconv_global__scalar");
}

static fq_conv2d_f32_params depthwise_conv(int64_t side, int64_t kernel, int64_t pad,
                                           int64_t out)
{
    return (fq_conv2d_f32_params){
        .batch = 1, .in_channels = 512, .in_h = side, .in_w = side, .out_channels = 512,
        .out_h = out, .out_w = out, .kernel_h = kernel, .kernel_w = kernel, .stride_h = 1,
        .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .pad_top = pad, .pad_left = pad,
        .groups = 512};
}

static void test_only_whole_plane_windows_are_global(void **state)
{
    (void)state;
    fq_conv2d_f32_params gdconv = depthwise_conv(7, 7, 0, 1);
    fq_conv2d_f32_params three = depthwise_conv(7, 3, 1, 7);
    fq_conv2d_f32_params padded = depthwise_conv(7, 7, 3, 7);
    fq_conv2d_f32_params dilated = depthwise_conv(7, 7, 0, 1);
    dilated.dilation_h = 2;
    assert_true(fq_f32_dwconv_is_global(&gdconv));
    assert_false(fq_f32_dwconv_is_global(&three));
    assert_false(fq_f32_dwconv_is_global(&padded));
    assert_false(fq_f32_dwconv_is_global(&dilated));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stride_one_kernels_match_the_reference_on_random_planes),
        cmocka_unit_test(test_stride_two_kernels_match_the_reference_on_random_planes),
        cmocka_unit_test(test_kernels_match_the_reference_on_a_320x320_plane),
        cmocka_unit_test(test_kernels_handle_planes_narrower_than_a_vector),
        cmocka_unit_test(test_kernels_match_the_reference_on_every_small_plane),
        cmocka_unit_test(test_global_kernels_match_the_reference_on_random_planes),
        cmocka_unit_test(test_global_kernel_of_the_scalar_cap_is_the_portable_one),
        cmocka_unit_test(test_only_whole_plane_windows_are_global),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
