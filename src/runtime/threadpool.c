/* Worker threads for parallel loops: one job at a time, indices handed out by an atomic
 * counter.
 *
 * One atomic word holds the job's generation, a closed flag and the number of workers inside
 * the job. A job is published with a new generation; a worker enters it by incrementing the
 * count, which fails once the caller has closed it. The caller runs indices itself, closes the
 * job when none are left to hand out, and waits only for the workers inside: a worker that
 * wakes late (or was descheduled) finds the job closed and goes back to waiting, so no loop
 * waits for a thread that has nothing left to do.
 *
 * Waiting threads spin on an atomic for a while (a node's loop typically follows the previous
 * one within microseconds) and only then sleep on a condition variable. Sleepers announce
 * themselves in an atomic before their last check, and the side that changes the state reads
 * it after the change (both sequentially consistent), so a wake-up is sent whenever someone
 * may be asleep and skipped otherwise. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "facequant/alloc.h"
#include "runtime/threadpool.h"

#if defined(FQ_HAVE_THREADS)
#include <pthread.h>
#include <sched.h>

/* The job word: generation << 32 | closed flag | workers inside. */
#define JOB_CLOSED ((uint64_t)1 << 31)
#define JOB_INSIDE ((uint64_t)JOB_CLOSED - 1)

static uint32_t job_generation(uint64_t word)
{
    return (uint32_t)(word >> 32);
}

struct fq_threadpool {
    int threads;
    pthread_t *workers;
    int n_workers;
    unsigned spin;                 /* polls of an atomic before sleeping */
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    _Atomic uint64_t job;          /* see JOB_CLOSED */
    atomic_bool stopping;
    atomic_int sleeping_workers;   /* workers asleep on work_ready, or about to be */
    atomic_bool caller_sleeping;   /* the caller asleep on work_done, or about to be */
    fq_task_fn fn;                 /* the open job; changed only while no worker is inside */
    void *ctx;
    size_t count;
    atomic_size_t next;            /* next index to hand out */
};

/* One poll's pause. Every YIELD_EVERY polls the thread also offers its core to the scheduler:
 * on a machine with more runnable threads than cores, the thread a spinner waits for may be
 * the one it keeps off the core. */
enum { YIELD_EVERY = 64 };

static void cpu_relax(unsigned poll)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH_7A__))
    __asm__ __volatile__("yield");
#endif
    if (poll % YIELD_EVERY == YIELD_EVERY - 1)
        sched_yield();
}

static void run_indices(fq_threadpool *pool)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed);
        if (i >= pool->count)
            return;
        pool->fn(pool->ctx, i);
    }
}

static bool job_changed(fq_threadpool *pool, uint32_t seen)
{
    return job_generation(atomic_load(&pool->job)) != seen || atomic_load(&pool->stopping);
}

/* Returns once a generation other than seen was published (or the pool stops): spinning
 * first, then asleep. */
static void wait_for_job(fq_threadpool *pool, uint32_t seen)
{
    for (unsigned k = 0; k < pool->spin; k++) {
        if (job_changed(pool, seen))
            return;
        cpu_relax(k);
    }
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->sleeping_workers, 1);
    while (!job_changed(pool, seen))
        pthread_cond_wait(&pool->work_ready, &pool->lock);
    atomic_fetch_sub(&pool->sleeping_workers, 1);
    pthread_mutex_unlock(&pool->lock);
}

/* Joins the job of generation gen unless it is closed or gone. */
static bool enter_job(fq_threadpool *pool, uint32_t gen)
{
    uint64_t word = atomic_load(&pool->job);
    while (job_generation(word) == gen && (word & JOB_CLOSED) == 0)
        if (atomic_compare_exchange_weak(&pool->job, &word, word + 1))
            return true;
    return false;
}

/* The last worker out of a closed job wakes the caller if it sleeps. It checks under the lock,
 * which the caller holds from setting caller_sleeping to waiting: a check outside it relies on
 * the store-load order of two atomics, which qemu's aarch64 emulation was seen to break (the
 * caller then slept forever). */
static void leave_job(fq_threadpool *pool)
{
    uint64_t before = atomic_fetch_sub(&pool->job, 1);
    if ((before & JOB_CLOSED) == 0 || (before & JOB_INSIDE) != 1)
        return;
    pthread_mutex_lock(&pool->lock);
    if (atomic_load(&pool->caller_sleeping))
        pthread_cond_signal(&pool->work_done);
    pthread_mutex_unlock(&pool->lock);
}

static void *worker_main(void *arg)
{
    fq_threadpool *pool = arg;
    uint32_t seen = 0;
    for (;;) {
        wait_for_job(pool, seen);
        if (atomic_load(&pool->stopping))
            return NULL;
        seen = job_generation(atomic_load(&pool->job));
        if (!enter_job(pool, seen))
            continue;
        run_indices(pool);
        leave_job(pool);
    }
}

static bool workers_inside(fq_threadpool *pool)
{
    return (atomic_load(&pool->job) & JOB_INSIDE) != 0;
}

/* Closes the job to late workers and waits for those inside to finish their indices. */
static void close_job(fq_threadpool *pool)
{
    atomic_fetch_or(&pool->job, JOB_CLOSED);
    for (unsigned k = 0; k < pool->spin; k++) {
        if (!workers_inside(pool))
            return;
        cpu_relax(k);
    }
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->caller_sleeping, true);
    while (workers_inside(pool))
        pthread_cond_wait(&pool->work_done, &pool->lock);
    atomic_store(&pool->caller_sleeping, false);
    pthread_mutex_unlock(&pool->lock);
}

/* Publishes the next generation and wakes sleeping workers; sleeping_workers is read under the
 * lock for the reason leave_job gives. */
static void publish_job(fq_threadpool *pool)
{
    uint32_t gen = job_generation(atomic_load(&pool->job)) + 1;
    atomic_store(&pool->job, (uint64_t)gen << 32);
    pthread_mutex_lock(&pool->lock);
    if (atomic_load(&pool->sleeping_workers) > 0)
        pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->lock);
}

static fq_status start_workers(fq_threadpool *pool, fq_error *err)
{
    pool->workers = fq_calloc((size_t)pool->threads - 1, sizeof(pthread_t));
    if (pool->workers == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a thread pool");
    for (int i = 0; i < pool->threads - 1; i++) {
        if (pthread_create(&pool->workers[i], NULL, worker_main, pool) != 0)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot start thread %d of %d", i + 2,
                                pool->threads);
        pool->n_workers++;
    }
    return FQ_OK;
}

fq_status fq_threadpool_create(int threads, fq_threadpool **out, fq_error *err)
{
    fq_threadpool *pool = fq_calloc(1, sizeof(*pool));
    if (pool == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a thread pool");
    pool->threads = threads > 1 ? threads : 1;
    pool->spin = FQ_THREADPOOL_DEFAULT_SPIN;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pthread_cond_init(&pool->work_done, NULL);
    atomic_init(&pool->job, JOB_CLOSED);
    atomic_init(&pool->stopping, false);
    atomic_init(&pool->sleeping_workers, 0);
    atomic_init(&pool->caller_sleeping, false);
    atomic_init(&pool->next, 0);
    fq_status status = pool->threads > 1 ? start_workers(pool, err) : FQ_OK;
    if (status != FQ_OK) {
        fq_threadpool_free(pool);
        return status;
    }
    *out = pool;
    return FQ_OK;
}

void fq_threadpool_free(fq_threadpool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stopping, true);
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

void fq_threadpool_set_spin(fq_threadpool *pool, unsigned spin)
{
    if (pool != NULL)
        pool->spin = spin;
}

void fq_threadpool_parallel_for(fq_threadpool *pool, size_t count, fq_task_fn fn, void *ctx)
{
    if (pool == NULL || pool->n_workers == 0 || count <= 1) {
        for (size_t i = 0; i < count; i++)
            fn(ctx, i);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    pool->count = count;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    publish_job(pool);
    run_indices(pool);
    close_job(pool);
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

void fq_threadpool_set_spin(fq_threadpool *pool, unsigned spin)
{
    (void)pool;
    (void)spin;
}

void fq_threadpool_parallel_for(fq_threadpool *pool, size_t count, fq_task_fn fn, void *ctx)
{
    (void)pool;
    for (size_t i = 0; i < count; i++)
        fn(ctx, i);
}
#endif

void fq_threadpool_parallel_for_work(fq_threadpool *pool, size_t count, uint64_t work,
                                     fq_task_fn fn, void *ctx)
{
    fq_threadpool_parallel_for(work < FQ_THREADPOOL_MIN_WORK ? NULL : pool, count, fn, ctx);
}
