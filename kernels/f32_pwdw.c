/* fp32 pointwise -> depthwise 3x3 pairs in bands of output rows over a band buffer of middle
 * rows (see f32_pwdw.h). */
#include <stdio.h>
#include <string.h>

#include "f32_pwdw.h"
#include "runtime/threadpool.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static size_t round16(size_t floats)
{
    return (floats + 15) & ~(size_t)15;
}

static bool fusable_act(fq_epilogue_f32_kind kind)
{
    return kind == FQ_EPILOGUE_F32_NONE || kind == FQ_EPILOGUE_F32_RELU ||
           kind == FQ_EPILOGUE_F32_CLIP || kind == FQ_EPILOGUE_F32_LEAKY_RELU ||
           kind == FQ_EPILOGUE_F32_PRELU;
}

static bool pointwise_fits(const fq_f32_conv_plan *pw)
{
    const fq_conv2d_f32_params *p = &pw->p;
    return pw->path == FQ_F32_CONV_POINTWISE && p->groups == 1 && pw->gemm != NULL &&
           pw->packed != NULL && p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 &&
           p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0 && p->in_h == p->out_h &&
           p->in_w == p->out_w && fusable_act(p->act.kind);
}

static bool depthwise_fits(const fq_f32_conv_plan *dw)
{
    const fq_conv2d_f32_params *p = &dw->p;
    return dw->path == FQ_F32_CONV_DEPTHWISE && dw->dw != NULL && p->kernel_h == 3 &&
           p->kernel_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
           p->stride_h == p->stride_w && p->stride_h == dw->dw->stride &&
           p->groups == p->in_channels && p->groups == p->out_channels &&
           fusable_act(p->act.kind);
}

bool fq_f32_pwdw_applies(const fq_f32_conv_plan *pw, const fq_f32_conv_plan *dw)
{
    if (pw == NULL || dw == NULL || !pointwise_fits(pw) || !depthwise_fits(dw))
        return false;
    const fq_conv2d_f32_params *a = &pw->p, *b = &dw->p;
    return a->batch == b->batch && a->out_channels == b->in_channels && a->out_h == b->in_h &&
           a->out_w == b->in_w && a->out_h > 0 && a->out_w > 0 && b->out_h > 0 &&
           b->out_w > 0;
}

bool fq_f32_pwdw_pays(const fq_f32_conv_plan *pw, const fq_f32_conv_plan *dw)
{
    if (!fq_f32_pwdw_applies(pw, dw))
        return false;
    const fq_conv2d_f32_params *p = &pw->p;
    int64_t bytes = p->out_channels * p->out_h * p->out_w * (int64_t)sizeof(float);
    return bytes >= FQ_F32_PWDW_MIN_MIDDLE_BYTES;
}

/* Output rows per band: the band's middle rows, (rows - 1) * stride + 3 of every channel,
 * fit in band_bytes. Above 4, a multiple of 4: the depthwise kernels sum four output rows per
 * pass and a shorter pass reloads its input rows. */
static int64_t band_rows_for(const fq_conv2d_f32_params *dw, size_t band_bytes)
{
    int64_t s = dw->stride_h;
    int64_t row_bytes = dw->in_channels * dw->in_w * (int64_t)sizeof(float);
    int64_t fit = (int64_t)band_bytes / row_bytes;
    int64_t rows = fit > 3 ? (fit - 3) / s + 1 : 1;
    if (rows > 4)
        rows = rows / 4 * 4;
    return max64(1, min64(rows, dw->out_h));
}

/* Middle channel planes of the band buffer are whole cache lines apart, and not a multiple of
 * 4 KiB apart, so the rows a GEMM tile stores do not evict each other from L1. */
static int64_t channel_stride_for(int64_t floats)
{
    int64_t stride = (int64_t)round16((size_t)floats);
    return stride % 1024 == 0 ? stride + 16 : stride;
}

static const char *gemm_name(const fq_f32_conv_plan *pw)
{
    return pw->packed[0].data_f16 != NULL ? pw->gemm->name_f16w : pw->gemm->name;
}

fq_status fq_f32_pwdw_plan_init(fq_f32_pwdw_plan *plan, const fq_f32_conv_plan *pw,
                                const fq_f32_conv_plan *dw, int threads, size_t band_bytes,
                                fq_error *err)
{
    memset(plan, 0, sizeof(*plan));
    if (!fq_f32_pwdw_applies(pw, dw))
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "pointwise '%s' and depthwise '%s' "
                            "cannot run fused", pw != NULL ? pw->name : "none",
                            dw != NULL ? dw->name : "none");
    plan->pw = pw;
    plan->dw = dw;
    plan->slots = threads > 1 ? threads : 1;
    size_t bytes = band_bytes > 0 ? band_bytes : FQ_F32_PWDW_BAND_BYTES;
    plan->band_rows = band_rows_for(&dw->p, bytes);
    plan->buffer_rows = (plan->band_rows - 1) * dw->p.stride_h + 3;
    plan->channel_stride = channel_stride_for(plan->buffer_rows * dw->p.in_w);

    size_t buffer = round16((size_t)(dw->p.in_channels * plan->channel_stride));
    size_t packed = round16((size_t)(pw->p.in_channels * pw->gemm->nr));
    plan->slot_floats = buffer + packed;
    plan->workspace = plan->slot_floats * (size_t)plan->slots * sizeof(float);
    snprintf(plan->name, sizeof(plan->name), "%s+dw3x3s%d", gemm_name(pw),
             (int)dw->p.stride_h);
    return FQ_OK;
}

bool fq_f32_pwdw_maxpool_applies(const fq_f32_pwdw_plan *plan,
                                 const fq_f32_maxpool_kernel *kernel,
                                 const fq_pool2d_f32_params *p)
{
    if (plan == NULL || plan->dw == NULL || kernel == NULL || p == NULL || plan->pool != NULL)
        return false;
    const fq_conv2d_f32_params *d = &plan->dw->p;
    int64_t k = p->kernel_h;
    return k == 2 && p->kernel_w == k && p->stride_h == k && p->stride_w == k &&
           p->dilation_h == 1 && p->dilation_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
           p->pad_bottom == 0 && p->pad_right == 0 && p->in_h == d->out_h &&
           p->in_w == d->out_w && d->out_h % k == 0 && d->out_w % k == 0 &&
           p->out_h == d->out_h / k && p->out_w == d->out_w / k;
}

fq_status fq_f32_pwdw_plan_add_maxpool(fq_f32_pwdw_plan *plan,
                                       const fq_f32_maxpool_kernel *kernel,
                                       const fq_pool2d_f32_params *p, fq_error *err)
{
    if (!fq_f32_pwdw_maxpool_applies(plan, kernel, p))
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "the max pool cannot run fused after "
                            "'%s'", plan != NULL ? plan->name : "none");
    fq_status status = fq_f32_pwdw_plan_init(plan, plan->pw, plan->dw, plan->slots,
                                             FQ_F32_PWDW_BAND_BYTES / 2, err);
    if (status != FQ_OK)
        return status;
    int64_t k = p->kernel_h;
    plan->band_rows = plan->band_rows < k ? k : plan->band_rows / k * k;
    plan->buffer_rows = (plan->band_rows - 1) * plan->dw->p.stride_h + 3;
    plan->channel_stride = channel_stride_for(plan->buffer_rows * plan->dw->p.in_w);
    size_t buffer = round16((size_t)(plan->dw->p.in_channels * plan->channel_stride));
    size_t packed = round16((size_t)(plan->pw->p.in_channels * plan->pw->gemm->nr));
    size_t rows = round16((size_t)(plan->dw->p.out_channels * plan->band_rows *
                                   plan->dw->p.out_w));
    plan->pool = kernel;
    plan->pool_p = *p;
    plan->pool_offset = buffer + packed;
    plan->slot_floats = buffer + packed + rows;
    plan->workspace = plan->slot_floats * (size_t)plan->slots * sizeof(float);
    size_t used = strlen(plan->name);
    snprintf(plan->name + used, sizeof(plan->name) - used, "+maxpool%d", (int)k);
    return FQ_OK;
}

/* The microkernels' activation: PRELU with one slope (or none) runs as LEAKY_RELU, with one
 * per channel as PRELU with slopes per row. */
static fq_f32_gemm_params gemm_params(const fq_epilogue_f32 *act, bool *per_row)
{
    fq_f32_gemm_params p = {.kind = act->kind, .alpha = act->alpha, .beta = act->beta};
    *per_row = act->kind == FQ_EPILOGUE_F32_PRELU && act->slope_count > 1;
    if (act->kind == FQ_EPILOGUE_F32_PRELU && !*per_row) {
        p.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        p.alpha = act->slope_count == 1 ? act->slopes[0] : 0.0f;
    }
    return p;
}

/* The depthwise kernel's activation for channel c: PRELU as LEAKY_RELU with c's slope. */
static fq_f32_gemm_params channel_params(const fq_epilogue_f32 *act, int64_t c)
{
    fq_f32_gemm_params p = {.kind = act->kind, .alpha = act->alpha, .beta = act->beta};
    if (act->kind != FQ_EPILOGUE_F32_PRELU)
        return p;
    p.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
    if (act->slope_count > 1)
        p.alpha = act->slopes[c % act->slope_count];
    else
        p.alpha = act->slope_count == 1 ? act->slopes[0] : 0.0f;
    return p;
}

typedef struct pwdw_job {
    const fq_f32_pwdw_plan *plan;
    const float *x;              /* one image's input planes */
    float *y;                    /* one image's output planes */
    fq_epilogue_f32 pw_act, dw_act;
    fq_f32_gemm_params pw_params;
    bool per_row_slopes;
    float *workspace;
    int64_t runs;       /* runs of output rows, one per task */
} pwdw_job;

/* One task's state: its buffers and the middle rows [held_lo, held_hi) the buffer holds. */
typedef struct pwdw_task {
    const pwdw_job *job;
    float *buffer;
    float *packed;
    float *rows;        /* the band's depthwise rows, when a pool follows */
    int64_t held_lo, held_hi;
} pwdw_task;

/* Every row of X at pixels [j0, j0 + n), n < nr, into one panel (row r at r * nr), zero past
 * n. */
static void pack_row_tail(const pwdw_job *job, int64_t j0, int64_t n, float *panel)
{
    const fq_f32_conv_plan *pw = job->plan->pw;
    int64_t nr = pw->gemm->nr, plane = pw->p.in_h * pw->p.in_w;
    for (int64_t r = 0; r < pw->p.in_channels; r++) {
        memcpy(panel + r * nr, job->x + r * plane + j0, (size_t)n * sizeof(float));
        memset(panel + r * nr + n, 0, (size_t)(nr - n) * sizeof(float));
    }
}

/* One column panel of X (row k at x + k * x_stride bytes) through every row panel of pw's
 * weights into c (middle channel 0 of the panel's first pixel in the band buffer), depth
 * blocks in order. */
static void run_column_panel(const pwdw_task *task, const float *x, size_t x_stride, size_t nc,
                             float *c)
{
    const pwdw_job *job = task->job;
    const fq_f32_conv_plan *pw = job->plan->pw;
    const fq_f32_gemm_packed *w = &pw->packed[0];
    size_t c_stride = (size_t)job->plan->channel_stride * sizeof(float);
    for (int64_t i0 = 0; i0 < w->m; i0 += w->mr) {
        fq_f32_gemm_params params = job->pw_params;
        if (job->per_row_slopes)
            params.slopes = job->pw_act.slopes + i0;
        for (int64_t k0 = 0; k0 < w->k || k0 == 0; k0 += w->kc) {
            int64_t kb = min64(w->kc, w->k - k0);
            unsigned flags = (k0 == 0 ? FQ_F32_GEMM_FIRST : 0u) |
                             (k0 + kb >= w->k ? FQ_F32_GEMM_LAST : 0u);
            fq_f32_gemm_tile(pw->gemm, w, i0, k0, nc, (size_t)kb,
                             (const float *)((const char *)x + (size_t)k0 * x_stride), x_stride,
                             c + i0 * job->plan->channel_stride, c_stride, flags, &params);
        }
    }
}

/* Columns [j0, j0 + n) of X read in place (rows a plane apart) into c, but a panel of fewer
 * than nr columns from a zero-padded copy in packed (the microkernel reads nr floats of every
 * row). */
static void run_in_place(const pwdw_task *task, int64_t j0, int64_t n, float *c)
{
    const pwdw_job *job = task->job;
    const fq_f32_conv_plan *pw = job->plan->pw;
    int64_t nr = pw->gemm->nr, plane = pw->p.in_h * pw->p.in_w;
    for (int64_t j = 0; j < n; j += nr) {
        int64_t nc = min64(nr, n - j);
        if (nc == nr) {
            run_column_panel(task, job->x + j0 + j, (size_t)plane * sizeof(float), (size_t)nc,
                             c + j);
            continue;
        }
        pack_row_tail(job, j0 + j, nc, task->packed);
        run_column_panel(task, task->packed, (size_t)nr * sizeof(float), (size_t)nc, c + j);
    }
}

/* Middle rows [r0, r1) of every channel into the band buffer, whose row 0 is middle row lo.
 * X is read in place: packing each column block first, as fq_f32_pointwise_run does for
 * unfused layers, measured 3-6% slower here on yunet's and det_500m's pairs (AVX-512, one
 * thread), whose C tiles go to the band buffer rather than to planes in memory. */
static void compute_rows(const pwdw_task *task, int64_t r0, int64_t r1, int64_t lo)
{
    const fq_f32_conv_plan *pw = task->job->plan->pw;
    int64_t width = pw->p.in_w;
    run_in_place(task, r0 * width, (r1 - r0) * width, task->buffer + (r0 - lo) * width);
}

/* Makes the buffer hold middle rows [lo, hi): rows it already holds move to the top, the
 * others are computed. Bands only move forward, so held rows are a prefix of [lo, hi). */
static void fill_buffer(pwdw_task *task, int64_t lo, int64_t hi)
{
    const fq_f32_pwdw_plan *plan = task->job->plan;
    int64_t width = plan->dw->p.in_w;
    int64_t keep_lo = max64(lo, task->held_lo), keep_hi = min64(hi, task->held_hi);
    int64_t computed_from = lo;
    if (keep_lo == lo && keep_hi > keep_lo) {
        int64_t shift = (lo - task->held_lo) * width;
        size_t bytes = (size_t)((keep_hi - keep_lo) * width) * sizeof(float);
        for (int64_t c = 0; shift > 0 && c < plan->dw->p.in_channels; c++) {
            float *plane = task->buffer + c * plan->channel_stride;
            memmove(plane, plane + shift, bytes);
        }
        computed_from = keep_hi;
    }
    if (computed_from < hi)
        compute_rows(task, computed_from, hi, lo);
    task->held_lo = lo;
    task->held_hi = hi;
}

/* The pool of depthwise rows [o0, o1) (whole windows' rows, held in the task's rows buffer)
 * into the real output: each channel's band is pooled as a sub-image. */
static void pool_band(const pwdw_task *task, int64_t o0, int64_t o1)
{
    const fq_f32_pwdw_plan *plan = task->job->plan;
    fq_pool2d_f32_params band = plan->pool_p;
    int64_t k = band.kernel_h, width = plan->dw->p.out_w;
    band.planes = 1;
    band.in_h = o1 - o0;
    band.out_h = (o1 - o0) / k;
    int64_t out_plane = plan->pool_p.out_h * plan->pool_p.out_w;
    for (int64_t c = 0; c < plan->dw->p.out_channels; c++)
        plan->pool->ukernel(&band, task->rows + c * plan->band_rows * width,
                            task->job->y + c * out_plane + o0 / k * band.out_w);
}

/* A band: output rows [o0, o1) of every channel from the middle rows they read. */
static void run_band(pwdw_task *task, int64_t o0, int64_t o1)
{
    const pwdw_job *job = task->job;
    const fq_f32_pwdw_plan *plan = job->plan;
    const fq_conv2d_f32_params *p = &plan->dw->p;
    int64_t s = p->stride_h;
    int64_t top = o0 * s - p->pad_top;           /* middle row of the band's first tap row */
    int64_t lo = max64(top, 0), hi = min64((o1 - 1) * s - p->pad_top + 3, p->in_h);
    hi = max64(hi, lo);
    fill_buffer(task, lo, hi);

    fq_f32_dwconv_geometry g = {hi - lo, p->in_w, o1 - o0, p->out_w, lo - top, p->pad_left};
    int64_t out_plane = p->out_h * p->out_w, band_plane = plan->band_rows * p->out_w;
    for (int64_t c = 0; c < p->out_channels; c++) {
        fq_f32_gemm_params params = channel_params(&job->dw_act, c);
        float *rows = plan->pool != NULL ? task->rows + c * band_plane
                                         : job->y + c * out_plane + o0 * p->out_w;
        plan->dw->dw->ukernel(&g, task->buffer + c * plan->channel_stride,
                              plan->dw->dw_weights + c * 9, plan->dw->dw_bias[c], rows,
                              &params);
    }
    if (plan->pool != NULL)
        pool_band(task, o0, o1);
}

/* Run `index` of the job: an equal share of the output rows, band by band, in workspace slot
 * `index`. */
static void run_slot(void *ctx, size_t index)
{
    const pwdw_job *job = ctx;
    pwdw_task task = {.job = job, .held_lo = 0, .held_hi = 0};
    task.buffer = job->workspace + index * job->plan->slot_floats;
    task.packed = task.buffer + round16((size_t)(job->plan->dw->p.in_channels *
                                                 job->plan->channel_stride));
    task.rows = job->workspace + index * job->plan->slot_floats + job->plan->pool_offset;
    int64_t unit = job->plan->pool != NULL ? job->plan->pool_p.kernel_h : 1;
    int64_t units = job->plan->dw->p.out_h / unit;
    int64_t first = (int64_t)index * units / job->runs * unit;
    int64_t last = ((int64_t)index + 1) * units / job->runs * unit;
    for (int64_t o0 = first; o0 < last; o0 += job->plan->band_rows)
        run_band(&task, o0, min64(o0 + job->plan->band_rows, last));
}

static fq_epilogue_f32 with_slopes(fq_epilogue_f32 act, const float *slopes, int64_t count)
{
    act.slopes = slopes;
    act.slope_count = slopes != NULL ? count : 0;
    return act;
}

/* Multiply-adds of one image, for the thread pool's decision to split. */
static uint64_t image_work(const fq_f32_pwdw_plan *plan)
{
    const fq_conv2d_f32_params *a = &plan->pw->p, *b = &plan->dw->p;
    return (uint64_t)(a->in_channels * a->out_channels * a->out_h * a->out_w +
                      9 * b->out_channels * b->out_h * b->out_w);
}

void fq_f32_pwdw_run(const fq_f32_pwdw_plan *plan, const float *x, const float *pw_slopes,
                     int64_t pw_slope_count, const float *dw_slopes, int64_t dw_slope_count,
                     float *y, void *workspace, struct fq_threadpool *pool)
{
    const fq_conv2d_f32_params *a = &plan->pw->p, *b = &plan->dw->p;
    pwdw_job job = {.plan = plan, .workspace = workspace};
    job.pw_act = with_slopes(a->act, pw_slopes, pw_slope_count);
    job.dw_act = with_slopes(b->act, dw_slopes, dw_slope_count);
    job.pw_params = gemm_params(&job.pw_act, &job.per_row_slopes);
    int64_t runs = min64(fq_threadpool_size(pool), plan->slots);
    int64_t units = plan->pool != NULL ? b->out_h / plan->pool_p.kernel_h : b->out_h;
    job.runs = max64(1, min64(runs, units));
    int64_t image = plan->pool != NULL ? plan->pool_p.out_h * plan->pool_p.out_w
                                       : b->out_h * b->out_w;
    for (int64_t i = 0; i < a->batch; i++) {
        job.x = x + i * a->in_channels * a->in_h * a->in_w;
        job.y = y + i * b->out_channels * image;
        fq_threadpool_parallel_for_work(pool, (size_t)job.runs, image_work(plan), run_slot,
                                        &job);
    }
}
