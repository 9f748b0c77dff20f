/* A small pool of worker threads for data-parallel loops.
 *
 * fq_threadpool_parallel_for runs fn(ctx, i) for every i in [0, count), spread over the pool's
 * threads (the calling thread takes part), and returns when all are done. It allocates nothing,
 * so a session run stays allocation-free. Which thread runs which index is not fixed; kernels
 * split work so that every index computes the same bytes whoever runs it, which keeps outputs
 * identical for every thread count. A NULL pool, or a build without threads, runs the loop on the
 * calling thread.
 */
#ifndef FQ_RUNTIME_THREADPOOL_H
#define FQ_RUNTIME_THREADPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/status.h"

typedef struct fq_threadpool fq_threadpool;
typedef void (*fq_task_fn)(void *ctx, size_t index);

/* Polls of an atomic a waiting thread makes (a pause instruction between them, some tens of
 * microseconds in all) before it sleeps on a condition variable. */
enum { FQ_THREADPOOL_DEFAULT_SPIN = 2000 };

/* A pool of `threads` threads in all (threads - 1 workers); threads <= 1 gives a pool that runs
 * everything on the caller. */
fq_status fq_threadpool_create(int threads, fq_threadpool **out, fq_error *err);
void fq_threadpool_free(fq_threadpool *pool);
/* Threads that take part in a loop (1 for NULL). */
int fq_threadpool_size(const fq_threadpool *pool);
/* Work below which splitting a loop costs more than it saves: about 10 microseconds of simple
 * operations, the price of handing work to a worker that went to sleep. */
enum { FQ_THREADPOOL_MIN_WORK = 1 << 15 };

/* How long waiting threads spin before sleeping (0: sleep at once); for tests and tuning. */
void fq_threadpool_set_spin(fq_threadpool *pool, unsigned spin);
void fq_threadpool_parallel_for(fq_threadpool *pool, size_t count, fq_task_fn fn, void *ctx);
/* fq_threadpool_parallel_for for a loop whose whole cost is about `work` simple operations
 * (element moves or conversions, multiply-accumulates): below FQ_THREADPOOL_MIN_WORK it runs
 * on the calling thread alone. Which thread runs an index never changes its bytes, so the
 * outputs are the same either way. */
void fq_threadpool_parallel_for_work(fq_threadpool *pool, size_t count, uint64_t work,
                                     fq_task_fn fn, void *ctx);

#endif
