/* Embedding arithmetic: L2 normalization, cosine similarity, matching against known people. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "facequant/face.h"

static void test_l2_normalize_gives_unit_length_same_direction(void **state)
{
    (void)state;
    float v[3] = {3, 0, -4};
    fq_l2_normalize(v, 3);
    assert_float_equal(v[0], 0.6f, 1e-7f);
    assert_float_equal(v[1], 0.0f, 0.0f);
    assert_float_equal(v[2], -0.8f, 1e-7f);
}

static void test_l2_normalize_leaves_a_zero_vector_alone(void **state)
{
    (void)state;
    float v[2] = {0, 0};
    fq_l2_normalize(v, 2);
    assert_float_equal(v[0], 0.0f, 0.0f);
    assert_false(isnan(v[1]));
}

static void test_cosine_of_parallel_orthogonal_and_opposite_vectors(void **state)
{
    (void)state;
    float a[2] = {1, 1}, b[2] = {5, 5}, c[2] = {-1, 1}, d[2] = {-2, -2};
    assert_float_equal(fq_cosine_similarity(a, b, 2), 1.0f, 1e-6f);
    assert_float_equal(fq_cosine_similarity(a, c, 2), 0.0f, 1e-6f);
    assert_float_equal(fq_cosine_similarity(a, d, 2), -1.0f, 1e-6f);
}

static void test_cosine_with_a_zero_vector_is_zero(void **state)
{
    (void)state;
    float a[2] = {1, 1}, z[2] = {0, 0};
    assert_float_equal(fq_cosine_similarity(a, z, 2), 0.0f, 0.0f);
}

static void test_match_finds_the_most_similar_known_embedding(void **state)
{
    (void)state;
    float known[3 * 2] = {1, 0, 0.6f, 0.8f, 0, 1};
    float probe[2] = {0.8f, 0.6f};
    int index = -2;
    float similarity = 0;
    fq_match_embedding(probe, known, 3, 2, 0.5f, &index, &similarity);
    assert_int_equal(index, 1);
    assert_float_equal(similarity, 0.96f, 1e-6f);
}

static void test_match_below_the_threshold_is_no_one(void **state)
{
    (void)state;
    float known[2 * 2] = {1, 0, 0, 1};
    float probe[2] = {-0.6f, -0.8f};
    int index = 5;
    float similarity = 0;
    fq_match_embedding(probe, known, 2, 2, 0.3f, &index, &similarity);
    assert_int_equal(index, -1);
    assert_float_equal(similarity, -0.6f, 1e-6f);
}

static void test_match_at_exactly_the_threshold_is_a_match(void **state)
{
    (void)state;
    float known[2] = {1, 0};
    float probe[2] = {0.5f, 0.8660254f};
    int index = -1;
    float similarity = 0;
    fq_match_embedding(probe, known, 1, 2, fq_cosine_similarity(probe, known, 2), &index,
                       &similarity);
    assert_int_equal(index, 0);
}

static void test_match_among_no_one_is_no_one(void **state)
{
    (void)state;
    float probe[2] = {1, 0};
    int index = 3;
    float similarity = 0;
    fq_match_embedding(probe, NULL, 0, 2, -1.0f, &index, &similarity);
    assert_int_equal(index, -1);
    assert_float_equal(similarity, -1.0f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l2_normalize_gives_unit_length_same_direction),
        cmocka_unit_test(test_l2_normalize_leaves_a_zero_vector_alone),
        cmocka_unit_test(test_cosine_of_parallel_orthogonal_and_opposite_vectors),
        cmocka_unit_test(test_cosine_with_a_zero_vector_is_zero),
        cmocka_unit_test(test_match_finds_the_most_similar_known_embedding),
        cmocka_unit_test(test_match_below_the_threshold_is_no_one),
        cmocka_unit_test(test_match_at_exactly_the_threshold_is_a_match),
        cmocka_unit_test(test_match_among_no_one_is_no_one),
    };
    return cmocka_run_group_tests_name("face_embedding", tests, NULL, NULL);
}
