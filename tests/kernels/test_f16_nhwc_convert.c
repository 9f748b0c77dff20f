/* The f32 NCHW <-> f16 NHWC conversions of the fp16-arithmetic conv plan
 * (kernels/f16_nhwc_convert.h): every pair this CPU runs against the scalar twins bit for bit,
 * over channel counts on both sides of the 8-channel block, pixel counts that are not multiples
 * of 8, and values at the f16 edges (ties, overflow, subnormals, infinities, NaN payloads). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f16_nhwc_convert.h"
#include "facequant/cpu.h"
#include "test_util.h"

/* A float of every kind the narrowing can get wrong. */
static float edge_value(int k)
{
    static const float edges[] = {
        65504.0f,      65519.99f,     65520.0f,   -1e9f,    INFINITY,     -INFINITY,
        6.1035156e-5f, 6.0e-5f,       3.0e-8f,    2.9e-8f,  -5.9604645e-8f, 0.0f,
        -0.0f,         1.00048828125f, 1.0014648f, 1e-40f,  2049.0f,      2051.0f};
    int n = (int)(sizeof(edges) / sizeof(edges[0]));
    if (k % 7 == 0) {
        /* NaN with a random payload (quiet or signalling in f32). */
        uint32_t bits = 0x7f800001u | (uint32_t)(fq_test_rand() & 0x807fffffu);
        float v;
        memcpy(&v, &bits, sizeof(v));
        return v;
    }
    if (k % 3 == 0)
        return edges[(k / 3) % n];
    return fq_test_rand_float(-70000.0f, 70000.0f) * (k % 2 ? 1.0f : 1e-4f);
}

/* A random f16 bit pattern; NaNs quiet (the f16 kernels make no signalling NaNs). */
static uint16_t random_half(void)
{
    uint16_t h = (uint16_t)fq_test_rand();
    if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0)
        h |= 0x200u;
    return h;
}

static void test_every_convert_equals_the_scalar_twins_bit_for_bit(void **state)
{
    (void)state;
    int count;
    const fq_f16_nhwc_convert *all = fq_f16_nhwc_converts(&count);
    fq_test_seed(31);
    int checked = 0;
    for (int t = 0; t < fq_test_cases(60); t++) {
        size_t channels = (size_t)(t < 4 ? (int[]){3, 8, 16, 1}[t] : fq_test_rand_int(1, 27));
        size_t pixels = (size_t)fq_test_rand_int(1, t % 5 ? 70 : 300);
        size_t n = channels * pixels;
        float *x = malloc(n * sizeof(float)), *want32 = malloc(n * sizeof(float));
        float *got32 = malloc(n * sizeof(float));
        uint16_t *h = malloc(n * sizeof(uint16_t)), *want16 = malloc(n * sizeof(uint16_t));
        uint16_t *got16 = malloc(n * sizeof(uint16_t));
        assert_non_null(x), assert_non_null(h), assert_non_null(got32), assert_non_null(got16);
        for (size_t i = 0; i < n; i++) {
            x[i] = edge_value((int)(fq_test_rand() % 1000));
            h[i] = random_half();
        }
        fq_f32_nchw_to_f16_nhwc__scalar(channels, pixels, x, want16);
        fq_f16_nhwc_to_f32_nchw__scalar(channels, pixels, h, want32);
        for (int i = 1; i < count; i++) {
            if (!fq_isa_supported(all[i].isa))
                continue;
            memset(got16, 0x55, n * sizeof(uint16_t));
            memset(got32, 0x55, n * sizeof(float));
            all[i].to_nhwc(channels, pixels, x, got16);
            all[i].to_nchw(channels, pixels, h, got32);
            for (size_t j = 0; j < n; j++)
                if (got16[j] != want16[j])
                    fail_msg("%s to_nhwc, %zu channels x %zu pixels: y[%zu] = 0x%04x, scalar "
                             "0x%04x", all[i].name, channels, pixels, j, got16[j], want16[j]);
            assert_memory_equal(got32, want32, n * sizeof(float));
            checked++;
        }
        free(x), free(want32), free(got32), free(h), free(want16), free(got16);
    }
    if (checked == 0) {
        printf("skipping: no SIMD conversion on this CPU\n");
        skip();
    }
}

/* The choice follows the ISA cap: scalar under a scalar cap, and never an ISA the CPU lacks. */
static void test_select_respects_the_isa_cap(void **state)
{
    (void)state;
    assert_int_equal(fq_f16_nhwc_convert_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
    const fq_f16_nhwc_convert *best = fq_f16_nhwc_convert_select(FQ_ISA_AUTO);
    assert_true(fq_isa_supported(best->isa));
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_supported(FQ_ISA_AVX2))
        assert_int_equal(best->isa, FQ_ISA_AVX2);
    assert_int_equal(fq_f16_nhwc_convert_select(FQ_ISA_SSE41)->isa, FQ_ISA_SCALAR);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_convert_equals_the_scalar_twins_bit_for_bit),
        cmocka_unit_test(test_select_respects_the_isa_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
