/* Worker threads for parallel loops: one job at a time, indices handed out by an atomic
 * counter. */
#include <stdbool.h>

#include "facequant/alloc.h"
#include "runtime/threadpool.h"

#if defined(FQ_HAVE_THREADS)
#include <pthread.h>

struct fq_threadpool {
    int threads;
    pthread_t *workers;
    int n_workers;
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    unsigned long generation;  /* bumped for every job */
    bool stopping;
    fq_task_fn fn;
    void *ctx;
    size_t count;
    size_t next;               /* next index to hand out (under lock) */
    int busy;                  /* workers still inside the current job */
};

/* Takes indices until none are left; returns with the lock held. */
static void run_indices(fq_threadpool *pool)
{
    while (pool->next < pool->count) {
        size_t i = pool->next++;
        pthread_mutex_unlock(&pool->lock);
        pool->fn(pool->ctx, i);
        pthread_mutex_lock(&pool->lock);
    }
}

static void *worker_main(void *arg)
{
    fq_threadpool *pool = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stopping && pool->generation == seen)
            pthread_cond_wait(&pool->work_ready, &pool->lock);
        if (pool->stopping)
            break;
        seen = pool->generation;
        run_indices(pool);
        if (--pool->busy == 0)
            pthread_cond_signal(&pool->work_done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

fq_status fq_threadpool_create(int threads, fq_threadpool **out, fq_error *err)
{
    fq_threadpool *pool = fq_calloc(1, sizeof(*pool));
    if (pool == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a thread pool");
    pool->threads = threads > 1 ? threads : 1;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pthread_cond_init(&pool->work_done, NULL);
    if (pool->threads > 1) {
        pool->workers = fq_calloc((size_t)pool->threads - 1, sizeof(pthread_t));
        if (pool->workers == NULL) {
            fq_threadpool_free(pool);
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a thread pool");
        }
    }
    for (int i = 0; i < pool->threads - 1; i++) {
        if (pthread_create(&pool->workers[i], NULL, worker_main, pool) != 0) {
            fq_threadpool_free(pool);
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot start thread %d of %d", i + 2,
                                threads);
        }
        pool->n_workers++;
    }
    *out = pool;
    return FQ_OK;
}

void fq_threadpool_free(fq_threadpool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->n_workers; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->work_ready);
    pthread_cond_destroy(&pool->work_done);
    fq_free(pool->workers);
    fq_free(pool);
}

int fq_threadpool_size(const fq_threadpool *pool)
{
    return pool != NULL ? pool->threads : 1;
}

void fq_threadpool_parallel_for(fq_threadpool *pool, size_t count, fq_task_fn fn, void *ctx)
{
    if (pool == NULL || pool->n_workers == 0 || count <= 1) {
        for (size_t i = 0; i < count; i++)
            fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->count = count;
    pool->next = 0;
    pool->busy = pool->n_workers;
    pool->generation++;
    pthread_cond_broadcast(&pool->work_ready);
    run_indices(pool);
    while (pool->busy > 0)
        pthread_cond_wait(&pool->work_done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

#else

struct fq_threadpool {
    int threads;
};

fq_status fq_threadpool_create(int threads, fq_threadpool **out, fq_error *err)
{
    (void)threads;
    fq_threadpool *pool = fq_calloc(1, sizeof(*pool));
    if (pool == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a thread pool");
    pool->threads = 1;
    *out = pool;
    return FQ_OK;
}

void fq_threadpool_free(fq_threadpool *pool)
{
    fq_free(pool);
}

int fq_threadpool_size(const fq_threadpool *pool)
{
    (void)pool;
    return 1;
}

void fq_threadpool_parallel_for(fq_threadpool *pool, size_t count, fq_task_fn fn, void *ctx)
{
    (void)pool;
    for (size_t i = 0; i < count; i++)
        fn(ctx, i);
}
#endif
