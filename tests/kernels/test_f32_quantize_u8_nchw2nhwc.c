/* The fused NCHW -> NHWC quantization kernels (kernels/f32_quantize_u8_nchw2nhwc.h) against
 * QuantizeLinear then Transpose (0, 2, 3, 1) computed by the references, every ISA this CPU
 * has (the others skip), over channel counts 1 to 5 and beyond the vector path, pixel counts
 * that are not multiples of the tile, and values at the rounding and saturation edges. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_quantize_u8_nchw2nhwc.h"
#include "facequant/cpu.h"
#include "ref/qdq_ref.h"
#include "ref/qu8_transpose2d_ref.h"
#include "test_util.h"

typedef struct variant {
    const char *name;
    fq_isa isa;
    fq_f32_quantize_u8_nchw2nhwc_fn fn;
} variant;

static const variant variants[] = {
    {"scalar", FQ_ISA_SCALAR, fq_f32_quantize_u8_nchw2nhwc__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_SSE41)
    {"sse41", FQ_ISA_SSE41, fq_f32_quantize_u8_nchw2nhwc_16p__sse41},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"avx2", FQ_ISA_AVX2, fq_f32_quantize_u8_nchw2nhwc_16p__avx2},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
    {"avx512", FQ_ISA_AVX512, fq_f32_quantize_u8_nchw2nhwc_16p__avx512},
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    {"neon", FQ_ISA_NEON, fq_f32_quantize_u8_nchw2nhwc_16p__neon},
#endif
};
#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* Values a kernel could get wrong: halves (ties to even), codes just past saturation, huge
 * values, infinities, NaN and signed zeros. */
static float edge_value(float scale, int k)
{
    static const float halves[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 127.5f, 128.5f, -127.5f};
    switch (k % 8) {
    case 0: return halves[(k / 8) % 8] * scale;
    case 1: return 300.0f * scale;
    case 2: return -300.0f * scale;
    case 3: return 1e30f;
    case 4: return -INFINITY;
    case 5: return NAN;
    case 6: return -0.0f;
    default: return 255.49f * scale;
    }
}

static void fill(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = fq_test_rand_int(0, 9) == 0 ? edge_value(scale, fq_test_rand_int(0, 63))
                                            : fq_test_rand_float(-200.0f, 200.0f) * scale;
}

/* QuantizeLinear of the whole tensor, then per image the [C, H*W] -> [H*W, C] transpose. */
static void reference(size_t images, size_t channels, size_t plane, const float *x, float scale,
                      uint8_t zero_point, uint8_t *q)
{
    size_t numel = images * channels * plane;
    uint8_t *nchw = malloc(numel > 0 ? numel : 1);
    assert_non_null(nchw);
    fq_qdq_layout layout = {1, 1, (int64_t)numel};
    fq_quantize_u8_ref(&layout, x, &scale, &zero_point, nchw);
    for (size_t n = 0; n < images; n++) {
        fq_qu8_transpose_block all = {0, (int64_t)channels, 0, (int64_t)plane};
        size_t offset = n * channels * plane;
        fq_qu8_transpose2d_ref((int64_t)channels, (int64_t)plane, &all, nchw + offset,
                               q + offset);
    }
    free(nchw);
}

static void check_shape(const variant *v, size_t images, size_t channels, size_t plane)
{
    size_t numel = images * channels * plane;
    float *x = malloc((numel + 1) * sizeof(float));
    uint8_t *want = malloc(numel + 1), *got = malloc(numel + 1);
    assert_true(x != NULL && want != NULL && got != NULL);
    float scale = fq_test_rand_float(0.001f, 0.1f);
    uint8_t zero_point = (uint8_t)fq_test_rand_int(0, 255);
    fill(x, numel, scale);
    reference(images, channels, plane, x, scale, zero_point, want);
    memset(got, 0xa5, numel + 1);
    for (size_t n = 0; n < images; n++)
        v->fn(plane, channels, plane, x + n * channels * plane, scale, zero_point,
              got + n * channels * plane);
    if (memcmp(got, want, numel) != 0)
        fail_msg("%s: %zu images of %zu channels x %zu pixels differ from the reference",
                 v->name, images, channels, plane);
    assert_int_equal(got[numel], 0xa5);
    free(x);
    free(want);
    free(got);
}

/* The variant a test runs (its cmocka state); skips when the CPU lacks its ISA. */
static const variant *variant_of(void **state)
{
    const variant *v = *state;
    if (!fq_isa_supported(v->isa)) {
        print_message("%s: this CPU does not have %s\n", v->name, fq_isa_name(v->isa));
        skip();
    }
    return v;
}

static void test_kernel_equals_quantize_then_transpose(void **state)
{
    const variant *v = variant_of(state);
    static const size_t planes[] = {1, 15, 16, 17, 33, 48, 77, 255, 1031};
    fq_test_seed(11 + (unsigned long long)v->isa);
    for (size_t channels = 1; channels <= 5; channels++)
        for (size_t p = 0; p < sizeof(planes) / sizeof(planes[0]); p++)
            check_shape(v, (size_t)fq_test_rand_int(1, 2), channels, planes[p]);
}

static void test_many_channels_take_the_buffered_and_scalar_paths(void **state)
{
    const variant *v = variant_of(state);
    static const size_t channel_counts[] = {8, 16, 17, 40};
    fq_test_seed(41 + (unsigned long long)v->isa);
    for (size_t c = 0; c < sizeof(channel_counts) / sizeof(channel_counts[0]); c++)
        check_shape(v, 1, channel_counts[c], 37);
}

/* A run of pixels in the middle of an image, as a thread gets it: same bytes as the whole. */
static void test_a_run_of_pixels_equals_that_part_of_the_whole_image(void **state)
{
    const variant *v = variant_of(state);
    enum { C = 3, PLANE = 200, FIRST = 37, COUNT = 101 };
    float x[C * PLANE];
    uint8_t whole[C * PLANE], part[C * COUNT];
    fq_test_seed(5);
    fill(x, C * PLANE, 0.02f);
    v->fn(PLANE, C, PLANE, x, 0.02f, 128, whole);
    v->fn(COUNT, C, PLANE, x + FIRST, 0.02f, 128, part);
    assert_memory_equal(part, whole + FIRST * C, sizeof(part));
}

int main(void)
{
    static const CMUnitTestFunction checks[] = {
        test_kernel_equals_quantize_then_transpose,
        test_many_channels_take_the_buffered_and_scalar_paths,
        test_a_run_of_pixels_equals_that_part_of_the_whole_image,
    };
    static const char *const names[] = {
        "kernel_equals_quantize_then_transpose",
        "many_channels_take_the_buffered_and_scalar_paths",
        "a_run_of_pixels_equals_that_part_of_the_whole_image",
    };
    enum { N_CHECKS = sizeof(checks) / sizeof(checks[0]) };
    static struct CMUnitTest tests[N_VARIANTS * N_CHECKS];
    static char labels[N_VARIANTS * N_CHECKS][96];
    for (size_t k = 0; k < N_VARIANTS; k++) {
        for (size_t t = 0; t < N_CHECKS; t++) {
            size_t i = k * N_CHECKS + t;
            snprintf(labels[i], sizeof(labels[i]), "%s__%s", names[t], variants[k].name);
            tests[i] = (struct CMUnitTest){labels[i], checks[t], NULL, NULL,
                                           (void *)&variants[k]};
        }
    }
    return _cmocka_run_group_tests("f32_quantize_u8_nchw2nhwc", tests,
                                   N_VARIANTS * N_CHECKS, NULL, NULL);
}
