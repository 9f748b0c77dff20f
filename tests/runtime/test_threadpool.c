/* The thread pool: every index runs exactly once, for any thread count and any spin before
 * sleeping, many times over; loops that follow each other at once, or after the workers fell
 * asleep, both complete; a loop below the minimum work stays on the caller. */
#include <pthread.h>
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

static void test_every_index_runs_once_whatever_the_spin(void **state)
{
    (void)state;
    static job reference, j;
    memset(&reference, 0, sizeof(reference));
    for (size_t i = 0; i < COUNT; i++)
        task(&reference, i);
    static const unsigned spins[] = {0, 1, 50, FQ_THREADPOOL_DEFAULT_SPIN, 1000000};
    for (size_t s = 0; s < sizeof(spins) / sizeof(spins[0]); s++) {
        for (int threads = 2; threads <= 3; threads++) {
            fq_threadpool *pool;
            assert_int_equal(fq_threadpool_create(threads, &pool, NULL), FQ_OK);
            fq_threadpool_set_spin(pool, spins[s]);
            for (int round = 0; round < 20; round++) {
                memset(&j, 0, sizeof(j));
                fq_threadpool_parallel_for(pool, COUNT, task, &j);
                for (size_t i = 0; i < COUNT; i++)
                    if (j.hits[i] != 1)
                        fail_msg("spin %u, %d threads: index %zu ran %d times", spins[s],
                                 threads, i, j.hits[i]);
                assert_memory_equal(j.out, reference.out, sizeof(j.out));
            }
            fq_threadpool_free(pool);
        }
    }
}

typedef struct counter {
    int hits[4];
} counter;

static void count_task(void *ctx, size_t i)
{
    counter *c = ctx;
    __atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
}

/* Thousands of loops of a few tiny indices, as a model of small nodes makes: workers that
 * arrive after the caller did everything must neither run an index twice nor miss a loop. */
static void test_back_to_back_tiny_loops_run_every_index_once(void **state)
{
    (void)state;
    static const unsigned spins[] = {0, FQ_THREADPOOL_DEFAULT_SPIN};
    for (size_t s = 0; s < sizeof(spins) / sizeof(spins[0]); s++) {
        fq_threadpool *pool;
        assert_int_equal(fq_threadpool_create(3, &pool, NULL), FQ_OK);
        fq_threadpool_set_spin(pool, spins[s]);
        for (int loop = 0; loop < 5000; loop++) {
            counter c = {{0}};
            size_t count = (size_t)(loop % 4) + 1;
            fq_threadpool_parallel_for(pool, count, count_task, &c);
            for (size_t i = 0; i < 4; i++)
                if (c.hits[i] != (i < count ? 1 : 0))
                    fail_msg("spin %u, loop %d: index %zu ran %d times", spins[s], loop, i,
                             c.hits[i]);
        }
        fq_threadpool_free(pool);
    }
}

typedef struct where {
    pthread_t caller;
    int elsewhere;
    int hits[8];
} where;

static void where_task(void *ctx, size_t i)
{
    where *w = ctx;
    __atomic_add_fetch(&w->hits[i], 1, __ATOMIC_RELAXED);
    if (!pthread_equal(pthread_self(), w->caller))
        __atomic_add_fetch(&w->elsewhere, 1, __ATOMIC_RELAXED);
}

static void test_a_loop_below_the_minimum_work_runs_on_the_caller(void **state)
{
    (void)state;
    fq_threadpool *pool;
    assert_int_equal(fq_threadpool_create(4, &pool, NULL), FQ_OK);
    for (int round = 0; round < 200; round++) {
        where w = {.caller = pthread_self()};
        fq_threadpool_parallel_for_work(pool, 8, FQ_THREADPOOL_MIN_WORK - 1, where_task, &w);
        assert_int_equal(w.elsewhere, 0);
        for (int i = 0; i < 8; i++)
            assert_int_equal(w.hits[i], 1);
    }
    fq_threadpool_free(pool);
}

static void test_a_loop_at_the_minimum_work_runs_every_index_once(void **state)
{
    (void)state;
    fq_threadpool *pool;
    assert_int_equal(fq_threadpool_create(3, &pool, NULL), FQ_OK);
    for (int round = 0; round < 200; round++) {
        where w = {.caller = pthread_self()};
        fq_threadpool_parallel_for_work(pool, 8, FQ_THREADPOOL_MIN_WORK, where_task, &w);
        for (int i = 0; i < 8; i++)
            assert_int_equal(w.hits[i], 1);
    }
    fq_threadpool_free(pool);
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
        cmocka_unit_test(test_every_index_runs_once_whatever_the_spin),
        cmocka_unit_test(test_back_to_back_tiny_loops_run_every_index_once),
        cmocka_unit_test(test_a_loop_below_the_minimum_work_runs_on_the_caller),
        cmocka_unit_test(test_a_loop_at_the_minimum_work_runs_every_index_once),
        cmocka_unit_test(test_null_pool_and_empty_loops_run_on_the_caller),
    };
    return cmocka_run_group_tests_name("runtime_threadpool", tests, NULL, NULL);
}
