/* fp32 pointwise convolution: column blocks of X packed from sequential runs, all row panels of
 * W over each block (see f32_pointwise.h). */
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "f32_pointwise.h"
#include "runtime/threadpool.h"

/* A packed block of at most this many floats (k x block, 64 KiB: it stays in L2 while every
 * row panel reads it), between MIN_BLOCK and MAX_BLOCK pixels: each run copied from an input
 * plane or written to an output plane is at least MIN_BLOCK floats long. Measured on AVX-512:
 * 32 KiB blocks are slower at 160x160 and 320x320, 128 KiB ones no faster. */
enum { BLOCK_FLOATS = 16384, MIN_BLOCK = 64, MAX_BLOCK = 512 };

int64_t fq_f32_pointwise_block(const fq_f32_gemm_kernel *kernel, int64_t k)
{
    int64_t nr = kernel->nr;
    int64_t block = BLOCK_FLOATS / (k > 0 ? k : 1);
    block = block < MIN_BLOCK ? MIN_BLOCK : block > MAX_BLOCK ? MAX_BLOCK : block;
    block = block / nr * nr;
    return block > nr ? block : nr;
}

/* Floats of one slot, rounded up to whole cache lines. */
static size_t slot_floats(const fq_f32_gemm_kernel *kernel, int64_t k)
{
    size_t floats = (size_t)(k > 0 ? k : 1) * (size_t)fq_f32_pointwise_block(kernel, k);
    return (floats + 15) & ~(size_t)15;
}

size_t fq_f32_pointwise_workspace_size(const fq_f32_gemm_kernel *kernel, int64_t k, int slots)
{
    return slot_floats(kernel, k) * sizeof(float) * (size_t)(slots > 1 ? slots : 1);
}

typedef struct pointwise_job {
    const fq_f32_gemm_kernel *kernel;
    const fq_f32_gemm_packed *w;
    int64_t pixels;
    int64_t block;
    const float *x;
    float *y;
    const fq_epilogue_f32 *act;
    fq_f32_gemm_params params;
    bool per_row_slopes;
    float *workspace;
    size_t blocks;
    atomic_size_t next;
} pointwise_job;

/* Row r of X, columns [j0, j0 + n), into the panels of packed (zero past n in the last). */
static void pack_row(const pointwise_job *job, int64_t r, int64_t j0, int64_t n, float *packed)
{
    int64_t nr = job->kernel->nr, k = job->w->k;
    const float *src = job->x + r * job->pixels + j0;
    float *dst = packed + r * nr;
    int64_t j = 0;
    for (; j + nr <= n; j += nr, dst += k * nr)
        memcpy(dst, src + j, (size_t)nr * sizeof(float));
    if (j < n) {
        memcpy(dst, src + j, (size_t)(n - j) * sizeof(float));
        memset(dst + (n - j), 0, (size_t)(nr - (n - j)) * sizeof(float));
    }
}

/* Row panel i0 of W over the packed block: depth blocks in order, panel by panel. */
static void run_row_panel(const pointwise_job *job, int64_t i0, int64_t j0, int64_t n,
                          const float *packed)
{
    const fq_f32_gemm_packed *w = job->w;
    int64_t nr = job->kernel->nr;
    size_t c_stride = (size_t)job->pixels * sizeof(float);
    fq_f32_gemm_params params = job->params;
    if (job->per_row_slopes)
        params.slopes = job->act->slopes + i0;
    for (int64_t k0 = 0; k0 < w->k || k0 == 0; k0 += w->kc) {
        int64_t kb = w->k - k0 < w->kc ? w->k - k0 : w->kc;
        unsigned flags = (k0 == 0 ? FQ_F32_GEMM_FIRST : 0u) |
                         (k0 + kb >= w->k ? FQ_F32_GEMM_LAST : 0u);
        for (int64_t j = 0; j < n; j += nr) {
            size_t nc = (size_t)(n - j < nr ? n - j : nr);
            const float *xp = packed + j * w->k + k0 * nr;
            float *c = job->y + i0 * job->pixels + j0 + j;
            fq_f32_gemm_tile(job->kernel, w, i0, k0, nc, (size_t)kb, xp,
                             (size_t)nr * sizeof(float), c, c_stride, flags, &params);
        }
    }
}

static void run_block(const pointwise_job *job, size_t index, float *packed)
{
    int64_t j0 = (int64_t)index * job->block;
    int64_t n = job->pixels - j0 < job->block ? job->pixels - j0 : job->block;
    for (int64_t r = 0; r < job->w->k; r++)
        pack_row(job, r, j0, n, packed);

    for (int64_t i0 = 0; i0 < job->w->m; i0 += job->w->mr)
        run_row_panel(job, i0, j0, n, packed);

    if (job->act->kind == FQ_EPILOGUE_F32_SIGMOID)
        for (int64_t i = 0; i < job->w->m; i++)
            fq_ref_bias_activation_f32(job->y + i * job->pixels + j0, n, 0.0f, job->act, i);
}

/* One slot of the pool: takes column blocks until none are left. */
static void run_slot(void *ctx, size_t slot)
{
    pointwise_job *job = ctx;
    float *packed = job->workspace + slot * slot_floats(job->kernel, job->w->k);
    for (;;) {
        size_t index = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (index >= job->blocks)
            return;
        run_block(job, index, packed);
    }
}

/* The microkernel's activation: PRELU with one slope runs as LEAKY_RELU. */
static fq_f32_gemm_params kernel_params(const fq_epilogue_f32 *act, bool *per_row)
{
    fq_f32_gemm_params p = {.kind = act->kind, .alpha = act->alpha, .beta = act->beta};
    *per_row = act->kind == FQ_EPILOGUE_F32_PRELU && act->slope_count > 1;
    if (act->kind == FQ_EPILOGUE_F32_PRELU && !*per_row) {
        p.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        p.alpha = act->slope_count == 1 ? act->slopes[0] : 0.0f;
    }
    return p;
}

void fq_f32_pointwise_run(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w,
                          int64_t pixels, const float *x, float *y, const fq_epilogue_f32 *act,
                          void *workspace, int slots, struct fq_threadpool *pool)
{
    if (pixels <= 0)
        return;
    int64_t block = fq_f32_pointwise_block(kernel, w->k);
    pointwise_job job = {.kernel = kernel, .w = w, .pixels = pixels, .block = block, .x = x,
                         .y = y, .act = act, .workspace = workspace,
                         .blocks = (size_t)((pixels + block - 1) / block)};
    job.params = kernel_params(act, &job.per_row_slopes);
    atomic_init(&job.next, 0);
    size_t tasks = (size_t)fq_threadpool_size(pool);
    tasks = tasks < (size_t)(slots > 1 ? slots : 1) ? tasks : (size_t)(slots > 1 ? slots : 1);
    fq_threadpool_parallel_for(pool, tasks < job.blocks ? tasks : job.blocks, run_slot, &job);
}
