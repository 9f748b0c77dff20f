/* The reference kernels under the tensor operators, tested directly: broadcast plans and the f16
 * conversions. */
#include <math.h>

#include "ops/op_util.h"
#include "ref/tensor_binary_ref.h"
#include "ref/tensor_broadcast_ref.h"
#include "ref/tensor_cast_ref.h"
#include "ref/tensor_strided_copy_ref.h"
#include "test_util.h"
#include "test_ops_tensor_util.h"

static fq_shape shape_of(int rank, const int64_t *dims)
{
    fq_shape s = {.rank = rank};
    for (int d = 0; d < rank; d++)
        s.dims[d] = dims[d];
    return s;
}

static void test_plan_of_equal_shapes_is_one_row(void **state)
{
    (void)state;
    fq_shape s = shape_of(4, DIMS(2, 3, 4, 5));
    const fq_shape *operands[2] = {&s, &s};
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &s, 2, operands);
    assert_int_equal(plan.rows, 1);
    assert_int_equal(plan.row_len, 120);
}

static void test_plan_of_per_channel_operand_has_constant_rows(void **state)
{
    (void)state;
    fq_shape x = shape_of(4, DIMS(2, 3, 4, 5));
    fq_shape c = shape_of(3, DIMS(3, 1, 1));
    const fq_shape *operands[2] = {&x, &c};
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &x, 2, operands);
    assert_int_equal(plan.rows, 6);
    assert_int_equal(plan.row_len, 20);
    assert_int_equal(fq_broadcast_row_step(&plan, 1), 0);
    int64_t offsets[2];
    fq_broadcast_row_offsets(&plan, 4, offsets);
    assert_int_equal(offsets[0], 80);
    assert_int_equal(offsets[1], 1);
}

/* A broadcast add over many shapes agrees with a direct index computation. */
static void test_binary_add_matches_naive_broadcast(void **state)
{
    (void)state;
    static const int64_t a_dims[][3] = {{2, 1, 3}, {1, 4, 1}, {2, 4, 3}, {1, 1, 1}, {2, 4, 1}};
    static const int64_t b_dims[][3] = {{1, 4, 1}, {2, 1, 3}, {1, 1, 3}, {2, 4, 3}, {1, 1, 3}};
    float a[24], b[24], out[24];
    for (int i = 0; i < 24; i++) {
        a[i] = (float)i;
        b[i] = (float)(100 * i);
    }
    for (size_t c = 0; c < sizeof(a_dims) / sizeof(a_dims[0]); c++) {
        fq_shape sa = shape_of(3, a_dims[c]), sb = shape_of(3, b_dims[c]), so;
        assert_int_equal(fq_broadcast_shape(&sa, &sb, &so), FQ_OK);
        const fq_shape *operands[2] = {&sa, &sb};
        fq_broadcast_plan plan;
        fq_broadcast_plan_init(&plan, &so, 2, operands);
        fq_binary_ref(&plan, fq_binary_row_ref(FQ_BINARY_ADD, FQ_DTYPE_F32), a, b, out, 4, 4, 4);
        for (int64_t i = 0; i < so.dims[0]; i++)
            for (int64_t j = 0; j < so.dims[1]; j++)
                for (int64_t k = 0; k < so.dims[2]; k++) {
                    int64_t ia = ((i % sa.dims[0]) * sa.dims[1] + j % sa.dims[1]) * sa.dims[2] +
                                 k % sa.dims[2];
                    int64_t ib = ((i % sb.dims[0]) * sb.dims[1] + j % sb.dims[1]) * sb.dims[2] +
                                 k % sb.dims[2];
                    float got = out[(i * so.dims[1] + j) * so.dims[2] + k];
                    assert_true(got == a[ia] + b[ib]);
                }
    }
}

/* Element offset of output index `flat` in a contiguous operand of shape op broadcast to out. */
static int64_t naive_offset(const fq_shape *out, const fq_shape *op, int64_t flat)
{
    int64_t offset = 0, stride = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int64_t index = flat % out->dims[d];
        flat /= out->dims[d];
        int od = d - (out->rank - op->rank);
        if (od < 0)
            continue;
        offset += (op->dims[od] == 1 ? 0 : index) * stride;
        stride *= op->dims[od];
    }
    return offset;
}

/* Two shapes that broadcast: a random output shape, each operand keeping a random suffix of its
 * dims with random dims set to 1. */
static void random_broadcast_pair(fq_shape *a, fq_shape *b)
{
    int rank = fq_test_rand_int(0, 4);
    int64_t dims[4];
    for (int d = 0; d < rank; d++)
        dims[d] = fq_test_rand_int(1, 4);
    fq_shape *ops[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        int r = fq_test_rand_int(0, rank);
        ops[k]->rank = r;
        for (int d = 0; d < r; d++)
            ops[k]->dims[d] = fq_test_rand_int(0, 2) == 0 ? 1 : dims[rank - r + d];
    }
}

static void test_binary_sub_matches_naive_broadcast_on_random_shapes(void **state)
{
    (void)state;
    fq_test_seed(7);
    int64_t a[256], b[256], out[256];
    for (int i = 0; i < 256; i++) {
        a[i] = 3 * i + 1;
        b[i] = 1000 * i;
    }
    for (int trial = 0; trial < 500; trial++) {
        fq_shape sa, sb, so;
        random_broadcast_pair(&sa, &sb);
        assert_int_equal(fq_broadcast_shape(&sa, &sb, &so), FQ_OK);
        const fq_shape *operands[2] = {&sa, &sb};
        fq_broadcast_plan plan;
        fq_broadcast_plan_init(&plan, &so, 2, operands);
        fq_binary_ref(&plan, fq_binary_row_ref(FQ_BINARY_SUB, FQ_DTYPE_I64), a, b, out, 8, 8, 8);
        for (int64_t i = 0; i < fq_shape_numel(&so); i++)
            if (out[i] != a[naive_offset(&so, &sa, i)] - b[naive_offset(&so, &sb, i)])
                fail_msg("trial %d element %lld differs", trial, (long long)i);
    }
}

static void test_transpose_matches_naive_on_random_perms(void **state)
{
    (void)state;
    fq_test_seed(11);
    uint16_t in[256], out[256];
    for (int i = 0; i < 256; i++)
        in[i] = (uint16_t)i;
    for (int trial = 0; trial < 300; trial++) {
        int rank = fq_test_rand_int(1, 4);
        int64_t dims[4], strides[4];
        int perm[4];
        for (int d = 0; d < rank; d++) {
            dims[d] = fq_test_rand_int(1, 4);
            perm[d] = d;
        }
        for (int d = rank - 1; d > 0; d--) {
            int k = fq_test_rand_int(0, d);
            int t = perm[d];
            perm[d] = perm[k];
            perm[k] = t;
        }
        for (int d = rank - 1, stride = 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= (int)dims[d];
        }
        fq_transpose_ref(2, rank, dims, perm, in, out);

        fq_shape so = {.rank = rank};
        for (int d = 0; d < rank; d++)
            so.dims[d] = dims[perm[d]];
        for (int64_t i = 0; i < fq_shape_numel(&so); i++) {
            int64_t rest = i, offset = 0;
            for (int d = rank - 1; d >= 0; d--) {
                offset += rest % so.dims[d] * strides[perm[d]];
                rest /= so.dims[d];
            }
            if (out[i] != in[offset])
                fail_msg("trial %d element %lld differs", trial, (long long)i);
        }
    }
}

static void test_f16_round_trips_every_non_nan_value(void **state)
{
    (void)state;
    for (uint32_t bits = 0; bits <= 0xffffu; bits++) {
        uint16_t h = (uint16_t)bits;
        if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0)
            continue;
        uint16_t back = fq_f16_from_f32(fq_f32_from_f16(h));
        if (back != h)
            fail_msg("f16 0x%04x came back as 0x%04x", h, back);
    }
}

static void test_f16_from_f32_halfway_cases_round_to_even(void **state)
{
    (void)state;
    /* between the f16 values 2048 and 2050 (spacing 2): 2049 ties to 2048, 2051 to 2052 */
    assert_int_equal(fq_f16_from_f32(2049.0f), fq_f16_from_f32(2048.0f));
    assert_int_equal(fq_f16_from_f32(2051.0f), fq_f16_from_f32(2052.0f));
    assert_int_equal(fq_f16_from_f32(2049.001f), fq_f16_from_f32(2050.0f));
}

static void test_round_half_even(void **state)
{
    (void)state;
    assert_true(fq_round_half_even(0.5f) == 0.0f);
    assert_true(fq_round_half_even(1.5f) == 2.0f);
    assert_true(fq_round_half_even(-2.5f) == -2.0f);
    assert_true(fq_round_half_even(-2.6f) == -3.0f);
    assert_true(fq_round_half_even(8388609.0f) == 8388609.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_of_equal_shapes_is_one_row),
        cmocka_unit_test(test_plan_of_per_channel_operand_has_constant_rows),
        cmocka_unit_test(test_binary_add_matches_naive_broadcast),
        cmocka_unit_test(test_binary_sub_matches_naive_broadcast_on_random_shapes),
        cmocka_unit_test(test_transpose_matches_naive_on_random_perms),
        cmocka_unit_test(test_f16_round_trips_every_non_nan_value),
        cmocka_unit_test(test_f16_from_f32_halfway_cases_round_to_even),
        cmocka_unit_test(test_round_half_even),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
