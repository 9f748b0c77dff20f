/* The qs8 requantization (fq_qs8_requantize) on its edge cases, and every GEMM kernel applying
 * it to the same edge accumulators exactly as the scalar function does. */
#include <string.h>

#include "qs8_test_util.h"

static uint8_t requant(int32_t acc, float multiplier, int32_t zp, int32_t lo, int32_t hi)
{
    fq_qs8_requant_params p;
    assert_int_equal(fq_qs8_requant_params_init(zp, lo, hi, &p, NULL), FQ_OK);
    return fq_qs8_requantize(acc, multiplier, &p);
}

static void test_params_refuse_out_of_range_values(void **state)
{
    (void)state;
    fq_qs8_requant_params p;
    fq_error err;
    assert_int_equal(fq_qs8_requant_params_init(256, 0, 255, &p, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "zero point 256"));
    assert_int_equal(fq_qs8_requant_params_init(-1, 0, 255, &p, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_requant_params_init(0, 10, 9, &p, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_requant_params_init(0, 0, 256, &p, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_qs8_requant_params_init(0, -1, 255, &p, &err), FQ_ERR_INVALID_ARG);
}

static void test_ties_round_to_even(void **state)
{
    (void)state;
    assert_int_equal(requant(5, 0.5f, 128, 0, 255), 130);  /* 2.5 -> 2 */
    assert_int_equal(requant(7, 0.5f, 128, 0, 255), 132);  /* 3.5 -> 4 */
    assert_int_equal(requant(-5, 0.5f, 128, 0, 255), 126); /* -2.5 -> -2 */
    assert_int_equal(requant(-7, 0.5f, 128, 0, 255), 124); /* -3.5 -> -4 */
    assert_int_equal(requant(1, 0.5f, 0, 0, 255), 0);      /* 0.5 -> 0 */
    assert_int_equal(requant(3, 0.5f, 0, 0, 255), 2);      /* 1.5 -> 2 */
    assert_int_equal(requant(3, 0.25f, 0, 0, 255), 1);     /* 0.75 -> 1 */
}

static void test_large_accumulators_saturate(void **state)
{
    (void)state;
    int32_t zps[] = {0, 128, 255};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(requant(INT32_MAX, 1.0f, zps[i], 0, 255), 255);
        assert_int_equal(requant(INT32_MIN, 1.0f, zps[i], 0, 255), 0);
        assert_int_equal(requant(INT32_MAX, 1e-30f, zps[i], 0, 255), zps[i]);
        assert_int_equal(requant(1000, 1e30f, zps[i], 0, 255), 255);
        assert_int_equal(requant(-1000, 1e30f, zps[i], 0, 255), 0);
    }
}

static void test_zero_point_offsets_the_result(void **state)
{
    (void)state;
    assert_int_equal(requant(0, 0.1f, 0, 0, 255), 0);
    assert_int_equal(requant(0, 0.1f, 128, 0, 255), 128);
    assert_int_equal(requant(0, 0.1f, 255, 0, 255), 255);
    assert_int_equal(requant(1000, 0.1f, 0, 0, 255), 100);
    assert_int_equal(requant(1000, 0.1f, 128, 0, 255), 228);
    assert_int_equal(requant(1000, 0.1f, 255, 0, 255), 255);
    assert_int_equal(requant(-1000, 0.1f, 0, 0, 255), 0);
    assert_int_equal(requant(-1000, 0.1f, 128, 0, 255), 28);
    assert_int_equal(requant(-1000, 0.1f, 255, 0, 255), 155);
}

/* ReLU is output_min = zp; ReLU6 at scale 6/255 with zp 10 is [10, 10 + 255 * 6 / 6]. */
static void test_output_clamp_acts_as_fused_activation(void **state)
{
    (void)state;
    assert_int_equal(requant(-400, 0.1f, 30, 30, 255), 30);
    assert_int_equal(requant(400, 0.1f, 30, 30, 255), 70);
    assert_int_equal(requant(4000, 0.1f, 10, 10, 70), 70);
    assert_int_equal(requant(300, 0.1f, 10, 10, 70), 40);
}

/* The accumulators of the edge cases above, reached exactly with k = 1, zero weights and the
 * accumulator as bias (within the bound packing accepts). */
static const int32_t edge_acc[] = {5, 7, -5, -7, 1, 3, -1, -3, 0, 1000, -1000, 99, -99,
                                   INT32_MAX - 32640, -(INT32_MAX - 32640), 16777217,
                                   -16777217, 123456789, 255, 256, -256, 2};
static const float edge_mult[] = {0.5f, 0.25f, 1.0f, 0.1f, 1e-30f, 1e30f, 0.003921569f,
                                  1.5f, 0.0123f, 2.0f / 3.0f};

static void check_kernel_on_edges(const fq_qs8_gemm_kernel *kernel, int32_t zp, int32_t lo,
                                  int32_t hi)
{
    enum { N = sizeof(edge_acc) / sizeof(edge_acc[0]) * 10 };
    int32_t bias[N];
    float mult[N];
    int8_t w[N] = {0};
    for (size_t j = 0; j < N; j++) {
        bias[j] = edge_acc[j % (N / 10)];
        mult[j] = edge_mult[j / (N / 10)];
    }
    fq_qs8_requant_params p;
    assert_int_equal(fq_qs8_requant_params_init(zp, lo, hi, &p, NULL), FQ_OK);

    void *packed = qs8_alloc(fq_qs8_gemm_packed_size(kernel, N, 1));
    assert_int_equal(fq_qs8_gemm_pack(kernel, N, 1, w, bias, 0, mult, packed, NULL), FQ_OK);
    uint8_t a[3] = {17, 200, 255}, c[3 * N];
    fq_qs8_gemm_run(kernel, 3, N, 1, a, 1, packed, c, N, &p);
    fq_free_aligned(packed);

    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < N; j++)
            if (c[i * N + j] != fq_qs8_requantize(bias[j], mult[j], &p))
                fail_msg("%s: acc %d x %g (zp %d, [%d, %d]) gave %u, scalar %u", kernel->name,
                         (int)bias[j], (double)mult[j], (int)zp, (int)lo, (int)hi,
                         c[i * N + j], fq_qs8_requantize(bias[j], mult[j], &p));
}

static void test_kernel_requantizes_edges_like_the_scalar_function(void **state)
{
    const fq_qs8_gemm_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    check_kernel_on_edges(kernel, 0, 0, 255);
    check_kernel_on_edges(kernel, 128, 0, 255);
    check_kernel_on_edges(kernel, 255, 0, 255);
    check_kernel_on_edges(kernel, 128, 128, 255);
    check_kernel_on_edges(kernel, 3, 3, 9);
}

int main(void)
{
    static qs8_test_list list;
    qs8_test_add(&list, "params_refuse_out_of_range_values", NULL,
                 test_params_refuse_out_of_range_values, NULL);
    qs8_test_add(&list, "ties_round_to_even", NULL, test_ties_round_to_even, NULL);
    qs8_test_add(&list, "large_accumulators_saturate", NULL, test_large_accumulators_saturate,
                 NULL);
    qs8_test_add(&list, "zero_point_offsets_the_result", NULL,
                 test_zero_point_offsets_the_result, NULL);
    qs8_test_add(&list, "output_clamp_acts_as_fused_activation", NULL,
                 test_output_clamp_acts_as_fused_activation, NULL);
    int count;
    const fq_qs8_gemm_kernel *kernels = fq_qs8_gemm_kernels(&count);
    for (int i = 0; i < count; i++)
        qs8_test_add(&list, "requantizes_edges_like_the_scalar_function", kernels[i].name,
                     test_kernel_requantizes_edges_like_the_scalar_function,
                     (void *)&kernels[i]);
    return qs8_test_run("qs8_requant", &list);
}
