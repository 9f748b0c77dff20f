/* Gemm with a constant B through prepare (the GEMM kernels of f32_gemm.h) against the unprepared
 * run (the reference): random shapes with one and several rows of A, transA and transB, alpha and
 * beta, every broadcast of C over the rows, fused Relu and PRelu, fp16 B, under every ISA cap the
 * CPU has; the same bytes for 1, 2 and 3 threads; and the cases prepare leaves to the reference
 * (B or C not constant, C varying by row). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_ops_tensor_util.h"
#include "test_util.h"

#include "f32_gemm.h"
#include "ref/tensor_cast_ref.h"

/* One random Gemm: A (m x k, or k x m with transA), B (k x n, or n x k with transB), C of the
 * given kind, alpha, beta and a fused activation. */
typedef enum c_kind { C_NONE, C_ROW, C_ROW_2D, C_SCALAR, C_PER_ROW } c_kind;

typedef struct gemm_case {
    int64_t m, n, k;
    bool trans_a, trans_b, f16;
    c_kind c;
    float alpha, beta;
    fq_activation_kind act;
    float *a, *b, *cv, *slopes;
    uint16_t *b16;
} gemm_case;

static float *random_floats(int64_t n)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = fq_test_rand_float(-1.0f, 1.0f);
    return v;
}

static gemm_case random_case(int64_t m)
{
    static const fq_activation_kind acts[] = {FQ_ACT_NONE, FQ_ACT_RELU, FQ_ACT_PRELU};
    gemm_case c = {.m = m, .n = fq_test_rand_int(1, 70), .k = fq_test_rand_int(1, 300),
                   .trans_a = fq_test_rand_int(0, 1), .trans_b = fq_test_rand_int(0, 1),
                   .c = (c_kind)fq_test_rand_int(0, 3),
                   .alpha = fq_test_rand_int(0, 1) ? 1.0f : 0.5f,
                   .beta = fq_test_rand_int(0, 1) ? 1.0f : 2.0f,
                   .act = acts[fq_test_rand_int(0, 2)]};
    c.a = random_floats(c.m * c.k);
    c.b = random_floats(c.k * c.n);
    c.cv = random_floats(c.m * c.n);
    c.slopes = random_floats(c.n);
    return c;
}

static void free_case(gemm_case *c)
{
    free(c->a), free(c->b), free(c->cv), free(c->slopes), free(c->b16);
}

/* The case as a one-node graph in h, run unprepared (the reference). */
static void build(fq_harness *h, const gemm_case *c)
{
    int64_t a_dims[] = {c->trans_a ? c->k : c->m, c->trans_a ? c->m : c->k};
    int64_t b_dims[] = {c->trans_b ? c->n : c->k, c->trans_b ? c->k : c->n};
    fq_harness_init(h, "Gemm", 13);
    fq_harness_input(h, FQ_DTYPE_F32, 2, a_dims, c->a, false);
    if (c->f16)
        fq_harness_input(h, FQ_DTYPE_F16, 2, b_dims, c->b16, true);
    else
        fq_harness_input(h, FQ_DTYPE_F32, 2, b_dims, c->b, true);
    switch (c->c) {
    case C_NONE: fq_harness_input(h, FQ_DTYPE_F32, 1, DIMS(1), NULL, true); break;
    case C_ROW: fq_harness_input(h, FQ_DTYPE_F32, 1, DIMS(c->n), c->cv, true); break;
    case C_ROW_2D: fq_harness_input(h, FQ_DTYPE_F32, 2, DIMS(1, c->n), c->cv, true); break;
    case C_SCALAR: fq_harness_input(h, FQ_DTYPE_F32, 1, DIMS(1), c->cv, true); break;
    case C_PER_ROW: fq_harness_input(h, FQ_DTYPE_F32, 2, DIMS(c->m, c->n), c->cv, true); break;
    }
    if (c->act == FQ_ACT_PRELU)
        fq_harness_input(h, FQ_DTYPE_F32, 1, DIMS(c->n), c->slopes, true);
    fq_harness_attr_int(h, "transA", c->trans_a);
    fq_harness_attr_int(h, "transB", c->trans_b);
    fq_harness_attr_float(h, "alpha", c->alpha);
    fq_harness_attr_float(h, "beta", c->beta);
    if (c->act != FQ_ACT_NONE)
        fq_harness_activation(h, (fq_activation){c->act, 0.0f, 0.0f});
    if (fq_harness_run(h) != FQ_OK)
        fail_msg("reference Gemm: %s", h->err.message);
}

/* |got - ref| within the rounding bound of any summation order: 1e-5 of the sum of the
 * magnitudes that make the element (every |alpha a b| and |beta c|), plus 1e-6. */
static void expect_close(const gemm_case *c, const float *ref, const float *got,
                         const char *kernel)
{
    const float *b = c->b;
    for (int64_t i = 0; i < c->m; i++)
        for (int64_t j = 0; j < c->n; j++) {
            double mag = 0.0;
            for (int64_t q = 0; q < c->k; q++) {
                float av = c->a[c->trans_a ? q * c->m + i : i * c->k + q];
                float bv = c->f16 ? fq_f32_from_f16(c->b16[c->trans_b ? j * c->k + q
                                                                      : q * c->n + j])
                                  : b[c->trans_b ? j * c->k + q : q * c->n + j];
                mag += fabs((double)c->alpha * av * bv);
            }
            if (c->c != C_NONE)
                mag += fabs((double)c->beta); /* |c| <= 1 */
            double bound = 1e-5 * mag + 1e-6;
            double diff = fabs((double)got[i * c->n + j] - ref[i * c->n + j]);
            if (!(diff <= bound))
                fail_msg("%s: m %lld n %lld k %lld transA %d transB %d C %d act %d: y[%lld][%lld] "
                         "= %.9g, reference %.9g", kernel, (long long)c->m, (long long)c->n,
                         (long long)c->k, c->trans_a, c->trans_b, c->c, c->act, (long long)i,
                         (long long)j, got[i * c->n + j], ref[i * c->n + j]);
        }
}

/* Planned under every cap this CPU has, close to the reference, the same bytes for 1, 2 and 3
 * threads. */
static void check_case(const gemm_case *c)
{
    fq_harness h;
    build(&h, c);
    size_t bytes = (size_t)(c->m * c->n) * sizeof(float);
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++) {
        if (cap < FQ_ISA_COUNT && !fq_isa_supported((fq_isa)cap))
            continue;
        bool planned;
        char kernel[64];
        float *one = fq_harness_run_prepared(&h, (fq_isa)cap, 1, &planned, kernel,
                                             sizeof(kernel));
        assert_true(planned);
        assert_non_null(strstr(kernel, "f32_gemm_"));
        expect_close(c, h.outputs[0].data, one, kernel);
        for (int threads = 2; threads <= 3; threads++) {
            float *more = fq_harness_run_prepared(&h, (fq_isa)cap, threads, &planned,
                                                  kernel, sizeof(kernel));
            assert_memory_equal(more, one, bytes);
            free(more);
        }
        free(one);
    }
    fq_harness_free(&h);
}

static void test_planned_gemm_with_one_row_of_a_matches_the_reference(void **state)
{
    (void)state;
    fq_test_seed(91);
    for (int t = 0; t < 25; t++) {
        gemm_case c = random_case(1);
        check_case(&c);
        free_case(&c);
    }
}

static void test_planned_gemm_with_several_rows_of_a_matches_the_reference(void **state)
{
    (void)state;
    fq_test_seed(92);
    for (int t = 0; t < 25; t++) {
        gemm_case c = random_case(fq_test_rand_int(2, 9));
        check_case(&c);
        free_case(&c);
    }
}

/* fp16 B (alpha 1) runs the fp16-weight kernels, close to the reference on the rounded B. */
static void test_planned_gemm_with_fp16_b_matches_the_reference(void **state)
{
    (void)state;
    fq_test_seed(93);
    for (int t = 0; t < 12; t++) {
        gemm_case c = random_case(fq_test_rand_int(1, 4));
        c.f16 = true;
        c.alpha = 1.0f;
        c.b16 = malloc((size_t)(c.k * c.n) * sizeof(uint16_t));
        assert_non_null(c.b16);
        for (int64_t i = 0; i < c.k * c.n; i++)
            c.b16[i] = fq_f16_from_f32(c.b[i]);
        check_case(&c);
        free_case(&c);
    }
}

/* An ArcFace-style embedding layer: 1 x 25088 -> 512 with transB, as IResNet-50 ends. */
static void test_planned_gemm_takes_a_large_embedding_layer(void **state)
{
    (void)state;
    fq_test_seed(94);
    gemm_case c = {.m = 1, .n = 512, .k = 25088, .trans_b = true, .c = C_ROW, .alpha = 1.0f,
                   .beta = 1.0f, .act = FQ_ACT_NONE};
    c.a = random_floats(c.k);
    c.b = random_floats(c.k * c.n);
    c.cv = random_floats(c.n);
    c.slopes = random_floats(c.n);
    check_case(&c);
    free_case(&c);
}

/* Over 1024 rows of A (the driver's columns) and B over one range of the driver's weights: the
 * driver packs A^T's panels ahead of its ranges, in the plan's workspace. */
static void test_planned_gemm_over_many_rows_and_a_large_b_matches_the_reference(void **state)
{
    (void)state;
    fq_test_seed(96);
    const int64_t n = 300;
    gemm_case c = {.m = 1030, .n = n, .trans_b = true, .c = C_ROW, .alpha = 1.0f,
                   .beta = 1.0f, .act = FQ_ACT_RELU};
    c.k = (int64_t)(fq_f32_gemm_range_bytes() * 5 / 4 / sizeof(float)) / n;
    c.a = random_floats(c.m * c.k);
    c.b = random_floats(c.k * c.n);
    c.cv = random_floats(c.n);
    c.slopes = random_floats(c.n);
    check_case(&c);
    free_case(&c);
}

/* C that varies by row of A cannot be a bias of the kernels; a B fed at run time cannot be
 * packed: both stay on the reference. */
static void test_gemm_with_c_per_row_or_runtime_b_is_left_to_the_reference(void **state)
{
    (void)state;
    fq_test_seed(95);
    gemm_case c = random_case(3);
    c.c = C_PER_ROW;
    fq_harness h;
    build(&h, &c);
    bool planned;
    char kernel[64];
    float *y = fq_harness_run_prepared(&h, FQ_ISA_AUTO, 1, &planned, kernel, sizeof(kernel));
    assert_false(planned);
    assert_memory_equal(y, h.outputs[0].data, (size_t)(c.m * c.n) * sizeof(float));
    free(y);
    fq_harness_free(&h);

    int64_t a_dims[] = {2, 5}, b_dims[] = {5, 3};
    fq_harness_init(&h, "Gemm", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, a_dims, c.a, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, b_dims, c.b, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    y = fq_harness_run_prepared(&h, FQ_ISA_AUTO, 1, &planned, kernel, sizeof(kernel));
    assert_false(planned);
    free(y);
    fq_harness_free(&h);
    free_case(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planned_gemm_with_one_row_of_a_matches_the_reference),
        cmocka_unit_test(test_planned_gemm_with_several_rows_of_a_matches_the_reference),
        cmocka_unit_test(test_planned_gemm_with_fp16_b_matches_the_reference),
        cmocka_unit_test(test_planned_gemm_takes_a_large_embedding_layer),
        cmocka_unit_test(test_planned_gemm_over_many_rows_and_a_large_b_matches_the_reference),
        cmocka_unit_test(test_gemm_with_c_per_row_or_runtime_b_is_left_to_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
