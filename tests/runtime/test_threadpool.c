/* The thread pool: every index runs exactly once, for any thread count, many times over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/threadpool.h"

#define COUNT 1000

typedef struct job {
    int hits[COUNT];
    double out[COUNT];
} job;

static void task(void *ctx, size_t i)
{
    job *j = ctx;
    __atomic_add_fetch(&j->hits[i], 1, __ATOMIC_RELAXED);
    double v = 0;
    for (size_t k = 0; k < 200; k++)
        v += (double)(i * k % 7) * 0.5;
    j->out[i] = v;
}

static void test_every_index_runs_once_for_every_thread_count(void **state)
{
    (void)state;
    static job reference, j;
    memset(&reference, 0, sizeof(reference));
    for (size_t i = 0; i < COUNT; i++)
        task(&reference, i);
    for (int threads = 1; threads <= 4; threads++) {
        fq_threadpool *pool;
        assert_int_equal(fq_threadpool_create(threads, &pool, NULL), FQ_OK);
        for (int round = 0; round < 50; round++) {
            memset(&j, 0, sizeof(j));
            fq_threadpool_parallel_for(pool, COUNT, task, &j);
            for (size_t i = 0; i < COUNT; i++)
                assert_int_equal(j.hits[i], 1);
            assert_memory_equal(j.out, reference.out, sizeof(j.out));
        }
        fq_threadpool_free(pool);
    }
}

static void test_null_pool_and_empty_loops_run_on_the_caller(void **state)
{
    (void)state;
    static job j;
    memset(&j, 0, sizeof(j));
    fq_threadpool_parallel_for(NULL, 10, task, &j);
    assert_int_equal(j.hits[9], 1);
    fq_threadpool *pool;
    assert_int_equal(fq_threadpool_create(3, &pool, NULL), FQ_OK);
    fq_threadpool_parallel_for(pool, 0, task, &j);
    assert_int_equal(j.hits[0], 1);
    assert_int_equal(fq_threadpool_size(NULL), 1);
    fq_threadpool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_runs_once_for_every_thread_count),
        cmocka_unit_test(test_null_pool_and_empty_loops_run_on_the_caller),
    };
    return cmocka_run_group_tests_name("runtime_threadpool", tests, NULL, NULL);
}
