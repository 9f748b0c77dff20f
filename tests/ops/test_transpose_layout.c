/* Transpose's fast paths (src/ops/op_movement.c): batches of matrix transposes (NCHW <-> NHWC
 * for any channel count, with or without the batch moved) for one- and four-byte elements, and
 * copies when only dims of size 1 move, equal the generic strided reference for every
 * permutation of random rank-4 shapes, element size and thread count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"
#include "ref/tensor_strided_copy_ref.h"
#include "runtime/threadpool.h"
#include "test_util.h"

/* Runs the Transpose op on x (dims, dtype) with perm on a pool of `threads` threads. */
static void run_transpose(const int64_t *dims, const int *perm, fq_dtype dtype, const void *x,
                          void *y, int threads)
{
    fq_graph *g = gb_graph(13);
    int in = gb_input(g, "x", 4, dims);
    gb_node(g, "Transpose", &in, 1, "y");
    int64_t p[4] = {perm[0], perm[1], perm[2], perm[3]};
    gb_attr_ints(g, "perm", 4, p);
    fq_node *node = &g->nodes[g->n_nodes - 1];
    fq_threadpool *pool = NULL;
    assert_int_equal(fq_threadpool_create(threads, &pool, NULL), FQ_OK);
    fq_tensor input = {.dtype = dtype, .shape = {.rank = 4}, .data = (void *)x};
    memcpy(input.shape.dims, dims, 4 * sizeof(int64_t));
    fq_tensor output = {.dtype = dtype, .shape = {.rank = 4}, .data = y};
    for (int d = 0; d < 4; d++)
        output.shape.dims[d] = dims[perm[d]];
    fq_error err = {0};
    fq_exec_ctx ctx = {.graph = g, .node = node, .n_inputs = 1, .inputs = &input,
                       .n_outputs = 1, .outputs = &output, .err = &err, .pool = pool};
    const fq_op_info *op = fq_op_get(fq_op_find("Transpose"));
    assert_non_null(op);
    if (op->exec(&ctx) != FQ_OK)
        fail_msg("Transpose: %s", err.message);
    fq_threadpool_free(pool);
    fq_graph_free(g);
}

static bool next_perm(int *p)
{
    int i = 2;
    while (i >= 0 && p[i] > p[i + 1])
        i--;
    if (i < 0)
        return false;
    int j = 3;
    while (p[j] < p[i])
        j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = 3; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return true;
}

static void check_all_perms(const int64_t *dims, fq_dtype dtype)
{
    size_t elem = fq_dtype_size(dtype);
    size_t bytes = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]) * elem;
    uint8_t *x = malloc(bytes + 1), *want = malloc(bytes + 1), *got = malloc(bytes + 1);
    assert_true(x != NULL && want != NULL && got != NULL);
    for (size_t i = 0; i < bytes; i++)
        x[i] = (uint8_t)fq_test_rand_int(0, 255);
    int perm[4] = {0, 1, 2, 3};
    do {
        fq_transpose_ref(elem, 4, dims, perm, x, want);
        for (int threads = 1; threads <= 3; threads += 2) {
            memset(got, 0x5a, bytes + 1);
            run_transpose(dims, perm, dtype, x, got, threads);
            if (memcmp(got, want, bytes) != 0)
                fail_msg("%s [%lld, %lld, %lld, %lld] perm (%d, %d, %d, %d), %d threads: "
                         "differs from the reference", fq_dtype_name(dtype), (long long)dims[0],
                         (long long)dims[1], (long long)dims[2], (long long)dims[3], perm[0],
                         perm[1], perm[2], perm[3], threads);
            assert_int_equal(got[bytes], 0x5a);
        }
    } while (next_perm(perm));
    free(x);
    free(want);
    free(got);
}

static void test_every_perm_of_random_shapes_equals_the_reference(void **state)
{
    (void)state;
    static const fq_dtype dtypes[] = {FQ_DTYPE_U8, FQ_DTYPE_F32, FQ_DTYPE_I64};
    fq_test_seed(9);
    for (int round = 0; round < 12; round++) {
        int64_t dims[4];
        for (int d = 0; d < 4; d++)
            dims[d] = fq_test_rand_int(0, 3) == 0 ? 1 : fq_test_rand_int(1, 37);
        for (size_t t = 0; t < sizeof(dtypes) / sizeof(dtypes[0]); t++)
            check_all_perms(dims, dtypes[t]);
    }
}

/* Region borders of real detectors: channel counts 1 to 20 over an 80 x 80 map, larger than
 * one block so the threads share the work. */
static void test_region_borders_of_any_channel_count_equal_the_reference(void **state)
{
    (void)state;
    static const int64_t channels[] = {1, 2, 3, 5, 8, 20, 64};
    fq_test_seed(10);
    for (size_t c = 0; c < sizeof(channels) / sizeof(channels[0]); c++) {
        const int64_t nchw[] = {1, channels[c], 80, 80};
        const int64_t nhwc[] = {2, 80, 80, channels[c]};
        check_all_perms(nchw, FQ_DTYPE_U8);
        check_all_perms(nhwc, FQ_DTYPE_U8);
    }
    const int64_t head[] = {1, 8, 80, 80};
    check_all_perms(head, FQ_DTYPE_F32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_perm_of_random_shapes_equals_the_reference),
        cmocka_unit_test(test_region_borders_of_any_channel_count_equal_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
