/* The fp32 depthwise 3x3 kernels (kernels/f32_dwconv.h), every one this CPU can run, against
 * the reference convolution of one plane: random sizes, pads and activations, a large plane,
 * and nothing written outside the output plane.
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

/* The one-channel convolution the kernel computes on geometry g with stride s. */
static fq_conv2d_f32_params plane_params(const fq_f32_dwconv_geometry *g, int s,
                                         fq_epilogue_f32 act)
{
    return (fq_conv2d_f32_params){
        .batch = 1, .in_channels = 1, .in_h = g->in_h, .in_w = g->in_w, .out_channels = 1,
        .out_h = g->out_h, .out_w = g->out_w, .kernel_h = 3, .kernel_w = 3, .stride_h = s,
        .stride_w = s, .dilation_h = 1, .dilation_w = 1, .pad_top = g->pad_top,
        .pad_left = g->pad_left, .groups = 1, .act = act};
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
    int64_t nx = g->in_h * g->in_w, ny = g->out_h * g->out_w;
    float *x = random_floats(nx), *w = random_floats(9), bias = fq_test_rand_float(-1, 1);
    float *got = malloc((size_t)(ny + GUARD) * sizeof(float));
    float *want = malloc((size_t)ny * sizeof(float)), *bound = malloc((size_t)ny * 4);
    float *ax = malloc((size_t)nx * 4), aw[9], ab = fabsf(bias);
    for (int64_t i = 0; i < ny + GUARD; i++)
        got[i] = GUARD_VALUE;
    fq_f32_gemm_params params = {.kind = kind, .alpha = -0.25f, .beta = 0.5f};
    fq_epilogue_f32 act = {.kind = kind, .alpha = -0.25f, .beta = 0.5f};
    if (kind == FQ_EPILOGUE_F32_LEAKY_RELU)
        params.alpha = act.alpha = 0.1f;

    k->ukernel(g, x, w, bias, got, &params);
    fq_conv2d_f32_params p = plane_params(g, k->stride, act);
    fq_ref_conv2d_f32(&p, x, w, &bias, want, NULL);
    for (int64_t i = 0; i < nx; i++)
        ax[i] = fabsf(x[i]);
    for (int i = 0; i < 9; i++)
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
    free(x), free(w), free(got), free(want), free(bound), free(ax);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stride_one_kernels_match_the_reference_on_random_planes),
        cmocka_unit_test(test_stride_two_kernels_match_the_reference_on_random_planes),
        cmocka_unit_test(test_kernels_match_the_reference_on_a_320x320_plane),
        cmocka_unit_test(test_kernels_handle_planes_narrower_than_a_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
