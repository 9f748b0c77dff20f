/* NCHW16c chains: building the stages (packing their weights) and the threaded driver (see
 * f32_nchwc.h). */
#include <stdio.h>
#include <string.h>

#include "f32_nchwc.h"
#include "facequant/alloc.h"
#include "runtime/threadpool.h"

enum { BLOCK = FQ_F32_NCHWC_BLOCK, RING = 4 };

static const fq_f32_nchwc_kernel kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512)
    {"f32_nchwc16__avx512", FQ_ISA_AVX512, fq_f32_nchwc_pw__avx512,
     fq_f32_nchwc_dw_row__avx512, fq_f32_nchwc_pool_row__avx512, fq_f32_nchwc_to_nchw__avx512,
     fq_f32_nchwc_dw_row_s2__avx512},
#endif
    {NULL, FQ_ISA_SCALAR, NULL, NULL, NULL, NULL, NULL},
};

const fq_f32_nchwc_kernel *fq_f32_nchwc_select(fq_isa cap)
{
    for (int i = 0; kernels[i].name != NULL; i++)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return NULL;
}

static size_t lines(size_t floats)
{
    return (floats + 15) & ~(size_t)15;
}

static size_t pipe_floats(const fq_f32_nchwc_chain *chain);

/* The workspace bytes and the name, from the stages so far: one set of rows per task. */
static void size_workspace(fq_f32_nchwc_chain *chain)
{
    chain->workspace = pipe_floats(chain) * (size_t)chain->slots * sizeof(float);
    snprintf(chain->name, sizeof(chain->name), "%s (%d stages)", chain->kernel->name,
             chain->n_stages);
}

void fq_f32_nchwc_chain_init(fq_f32_nchwc_chain *chain, const fq_f32_nchwc_kernel *kernel,
                             int threads)
{
    memset(chain, 0, sizeof(*chain));
    chain->kernel = kernel;
    chain->slots = threads > 1 ? threads : 1;
}

void fq_f32_nchwc_chain_release(fq_f32_nchwc_chain *chain)
{
    for (int s = 0; s < chain->n_stages; s++) {
        fq_free_aligned(chain->stages[s].pw_w);
        fq_free_aligned(chain->stages[s].dw_w);
    }
    chain->n_stages = 0;
}

static bool activation_fits(const fq_epilogue_f32 *act)
{
    return act->kind != FQ_EPILOGUE_F32_SIGMOID;
}

/* Weights of out_channels rows of k values as [out / 16][k][16], then the bias; NULL when out
 * of memory. */
static float *pack_rows(int64_t out_channels, int64_t k, const float *w, const float *bias)
{
    float *packed = fq_malloc_aligned((size_t)(out_channels * (k + 1)) * sizeof(float));
    if (packed == NULL)
        return NULL;
    float *packed_bias = packed + out_channels * k;
    for (int64_t o = 0; o < out_channels; o++) {
        packed_bias[o] = bias != NULL ? bias[o] : 0.0f;
        for (int64_t c = 0; c < k; c++)
            packed[((o / BLOCK) * k + c) * BLOCK + o % BLOCK] = w[o * k + c];
    }
    return packed;
}

bool fq_f32_nchwc_chain_add_stem(fq_f32_nchwc_chain *chain, const fq_conv2d_f32_params *p,
                                 const float *w, const float *bias)
{
    if (chain->kernel == NULL || chain->n_stages != 0 || p->batch != 1 || p->groups != 1 ||
        p->kernel_h != 3 || p->kernel_w != 3 || p->stride_h != p->stride_w ||
        (p->stride_h != 1 && p->stride_h != 2) || p->dilation_h != 1 || p->dilation_w != 1 ||
        p->pad_top != p->pad_left || p->pad_top > 1 ||
        p->in_channels > FQ_F32_NCHWC_STEM_CHANNELS || p->out_channels % BLOCK != 0 ||
        !activation_fits(&p->act))
        return false;
    int64_t k = p->in_channels * 9, padded_w = (p->out_w - 1) * p->stride_w + 3;
    float *packed = pack_rows(p->out_channels, k, w, bias);
    if (packed == NULL)
        return false;
    fq_f32_nchwc_stage *st = &chain->stages[chain->n_stages++];
    *st = (fq_f32_nchwc_stage){.in_channels = p->in_channels, .mid_channels = p->out_channels,
                               .h = p->in_h, .w = p->in_w, .mid_h = p->out_h,
                               .mid_w = p->out_w, .out_h = p->out_h, .out_w = p->out_w,
                               .is_stem = true, .stride = p->stride_w,
                               .pad = p->pad_left, .padded_w = padded_w, .pw_w = packed,
                               .pw_bias = packed + p->out_channels * k, .pw_act = p->act};
    for (int64_t t = 0; t < k; t++)
        st->offsets[t] = (ptrdiff_t)((t / 3) * padded_w + t % 3);
    size_workspace(chain);
    return true;
}

bool fq_f32_nchwc_chain_add_pw(fq_f32_nchwc_chain *chain, const fq_conv2d_f32_params *p,
                               const float *w, const float *bias)
{
    if (chain->kernel == NULL || chain->n_stages >= FQ_F32_NCHWC_MAX_STAGES || p->batch != 1 ||
        p->groups != 1 || p->kernel_h != 1 || p->kernel_w != 1 || p->stride_h != 1 ||
        p->stride_w != 1 || p->pad_top != 0 || p->pad_left != 0 || p->out_h != p->in_h ||
        p->out_w != p->in_w || p->out_channels % BLOCK != 0 || !activation_fits(&p->act))
        return false;
    if (chain->n_stages > 0) {
        const fq_f32_nchwc_stage *prev = &chain->stages[chain->n_stages - 1];
        if (p->in_channels != prev->mid_channels || p->in_h != prev->out_h ||
            p->in_w != prev->out_w)
            return false;
    }
    int64_t k = p->in_channels;
    float *packed = pack_rows(p->out_channels, k, w, bias);
    if (packed == NULL)
        return false;
    float *packed_bias = packed + p->out_channels * k;
    fq_f32_nchwc_stage *st = &chain->stages[chain->n_stages++];
    *st = (fq_f32_nchwc_stage){.in_channels = k, .mid_channels = p->out_channels, .h = p->in_h,
                               .w = p->in_w, .mid_h = p->in_h, .mid_w = p->in_w,
                               .out_h = p->in_h, .out_w = p->in_w, .pw_w = packed,
                               .pw_bias = packed_bias, .pw_act = p->act};
    size_workspace(chain);
    return true;
}

bool fq_f32_nchwc_chain_add_dw(fq_f32_nchwc_chain *chain, const fq_conv2d_f32_params *p,
                               const float *w, const float *bias)
{
    if (chain->n_stages == 0)
        return false;
    fq_f32_nchwc_stage *st = &chain->stages[chain->n_stages - 1];
    int64_t c = st->mid_channels;
    if (st->has_dw || p->batch != 1 || p->in_channels != c || p->out_channels != c ||
        p->groups != c || p->kernel_h != 3 || p->kernel_w != 3 ||
        p->stride_h != p->stride_w || p->dilation_h != 1 || p->dilation_w != 1 ||
        p->pad_top != p->pad_left || p->in_h != st->mid_h || p->in_w != st->mid_w ||
        p->out_h < 1 || p->out_w < 1 || !activation_fits(&p->act))
        return false;
    bool s1 = p->stride_h == 1 && p->pad_top == 1 && p->out_h == p->in_h &&
              p->out_w == p->in_w;
    bool s2 = p->stride_h == 2 && p->pad_top <= 1 &&
              (p->out_h - 1) * 2 - p->pad_top < p->in_h &&
              (p->out_w - 1) * 2 - p->pad_left < p->in_w;
    if (!s1 && !s2)
        return false;
    float *packed = fq_malloc_aligned((size_t)(c * 10) * sizeof(float));
    if (packed == NULL)
        return false;
    float *packed_bias = packed + c * 9;
    for (int64_t ch = 0; ch < c; ch++) {
        packed_bias[ch] = bias != NULL ? bias[ch] : 0.0f;
        for (int t = 0; t < 9; t++)
            packed[((ch / BLOCK) * 9 + t) * BLOCK + ch % BLOCK] = w[ch * 9 + t];
    }
    st->has_dw = true;
    st->dw_stride = p->stride_h;
    st->dw_pad = p->pad_top;
    st->dw_oh = st->out_h = p->out_h;
    st->dw_ow = st->out_w = p->out_w;
    st->dw_w = packed;
    st->dw_bias = packed_bias;
    st->dw_act = p->act;
    size_workspace(chain);
    return true;
}

bool fq_f32_nchwc_chain_add_pool(fq_f32_nchwc_chain *chain, const fq_pool2d_f32_params *p)
{
    if (chain->n_stages == 0)
        return false;
    fq_f32_nchwc_stage *st = &chain->stages[chain->n_stages - 1];
    if (!st->has_dw || st->has_pool || p->planes != st->mid_channels || p->in_h != st->dw_oh ||
        p->in_w != st->dw_ow || st->dw_oh % 2 != 0 || st->dw_ow % 2 != 0 ||
        p->kernel_h != 2 || p->kernel_w != 2 || p->stride_h != 2 || p->stride_w != 2 ||
        p->dilation_h != 1 || p->dilation_w != 1 || p->pad_top != 0 || p->pad_left != 0 ||
        p->pad_bottom != 0 || p->pad_right != 0 || p->out_h != st->dw_oh / 2 ||
        p->out_w != st->dw_ow / 2)
        return false;
    st->has_pool = true;
    st->out_h = st->dw_oh / 2;
    st->out_w = st->dw_ow / 2;
    size_workspace(chain);
    return true;
}

/* The kernel parameters of an activation and its run's slopes (PRELU with one slope runs as
 * LEAKY_RELU, as the GEMM and depthwise drivers run it). */
static fq_f32_gemm_params params_of(const fq_epilogue_f32 *act, const float *slopes,
                                    int64_t count)
{
    fq_f32_gemm_params p = {.kind = act->kind, .alpha = act->alpha, .beta = act->beta};
    if (act->kind == FQ_EPILOGUE_F32_PRELU && count > 1) {
        p.slopes = slopes;
    } else if (act->kind == FQ_EPILOGUE_F32_PRELU) {
        p.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        p.alpha = count == 1 && slopes != NULL ? slopes[0] : 0.0f;
    }
    return p;
}

/* Stem output row oh into out (blocks out_block floats apart): its input rows staged in padded
 * with their padding (a row of zeros for a padded row), then the pointwise kernel over the
 * offset table of its taps. */
static void stem_row(const fq_f32_nchwc_chain *chain, const fq_f32_nchwc_stage *st,
                     const float *x, const fq_f32_gemm_params *act, int64_t oh, float *padded,
                     float *out, ptrdiff_t out_block)
{
    int64_t plane = st->h * st->w;
    for (int64_t c = 0; c < st->in_channels; c++)
        for (int kh = 0; kh < 3; kh++) {
            float *row = padded + (c * 3 + kh) * st->padded_w;
            int64_t ih = oh * st->stride + kh - st->pad;
            memset(row, 0, (size_t)st->padded_w * sizeof(float));
            if (ih < 0 || ih >= st->h)
                continue;
            int64_t n = st->padded_w - st->pad < st->w ? st->padded_w - st->pad : st->w;
            memcpy(row + st->pad, x + c * plane + ih * st->w, (size_t)n * sizeof(float));
        }
    fq_f32_nchwc_pw_args a = {.x = padded, .x_pixel = st->stride, .offsets = st->offsets,
                              .k = st->in_channels * 9, .pixels = st->mid_w,
                              .out_blocks = st->mid_channels / BLOCK, .w = st->pw_w,
                              .bias = st->pw_bias, .y = out, .y_block = out_block, .act = act};
    chain->kernel->pw(&a);
}

/* A task runs its band of the chain's output rows row by row through every stage ("depth
 * first"): each stage keeps a ring of its middle rows, and every output row it finishes goes
 * straight into the next stage's 1x1, so no tensor between stages is ever stored. A stage
 * computes the rows [lo, hi) of its output that the band reads (its input rows [in_lo, in_hi)
 * come from the stage before), so rows near a band's edge are computed by both tasks that
 * read them, the same way. */
typedef struct pipe_stage {
    float *ring, *dw_rows, *out_row, *padded;
    int64_t lo, hi;       /* output rows */
    int64_t dw_hi;        /* depthwise rows [next_dw, dw_hi) are still to do */
    int64_t in_lo, in_hi; /* input rows */
    int64_t next_dw, mids;
} pipe_stage;

typedef struct pipe {
    const fq_f32_nchwc_chain *chain;
    const float *x;
    float *y;
    fq_f32_gemm_params pw[FQ_F32_NCHWC_MAX_STAGES], dw[FQ_F32_NCHWC_MAX_STAGES];
    pipe_stage st[FQ_F32_NCHWC_MAX_STAGES];
} pipe;

/* Floats of one task's rows. */
static size_t pipe_floats(const fq_f32_nchwc_chain *chain)
{
    size_t floats = 0;
    for (int s = 0; s < chain->n_stages; s++) {
        const fq_f32_nchwc_stage *st = &chain->stages[s];
        size_t row = (size_t)(st->mid_channels * st->mid_w);
        size_t dw_row = (size_t)(st->mid_channels * st->dw_ow);
        floats += lines(st->has_dw ? dw_row : row);
        if (st->is_stem)
            floats += lines((size_t)(st->in_channels * 3 * st->padded_w));
        if (st->has_dw)
            floats += lines(RING * row);
        if (st->has_pool)
            floats += lines(2 * dw_row);
    }
    return floats;
}

static void pipe_push(pipe *pp, int s, int64_t r, const float *in);

/* Output row r of stage s: into the next stage, or the chain's NCHW output. */
static void pipe_emit(pipe *pp, int s, int64_t r, const float *row)
{
    const fq_f32_nchwc_stage *st = &pp->chain->stages[s];
    if (s + 1 < pp->chain->n_stages) {
        pipe_push(pp, s + 1, r, row);
        return;
    }
    ptrdiff_t plane = (ptrdiff_t)(st->out_h * st->out_w);
    for (int64_t b = 0; b < st->mid_channels / BLOCK; b++)
        pp->chain->kernel->to_nchw(row + b * st->out_w * BLOCK, st->out_w,
                                   pp->y + b * BLOCK * plane + r * st->out_w, plane);
}

/* Middle row r of stage s into out (blocks out_block floats apart): the stem's row, or the 1x1
 * of in (one NCHW16c row), or of row r of the chain's NCHW input when in is NULL. */
static void middle_row(pipe *pp, int s, int64_t r, const float *in, float *out,
                       ptrdiff_t out_block)
{
    const fq_f32_nchwc_stage *st = &pp->chain->stages[s];
    if (st->is_stem) {
        stem_row(pp->chain, st, pp->x, &pp->pw[s], r, pp->st[s].padded, out, out_block);
        return;
    }
    fq_f32_nchwc_pw_args a = {.k = st->in_channels, .pixels = st->w,
                              .out_blocks = st->mid_channels / BLOCK, .w = st->pw_w,
                              .bias = st->pw_bias, .y = out, .y_block = out_block,
                              .act = &pp->pw[s]};
    if (in == NULL) {
        a.x = pp->x + r * st->w;
        a.x_block = BLOCK * st->h * st->w;
        a.x_lane = st->h * st->w;
        a.x_pixel = 1;
    } else {
        a.x = in;
        a.x_block = st->w * BLOCK;
        a.x_lane = 1;
        a.x_pixel = BLOCK;
    }
    pp->chain->kernel->pw(&a);
}

/* Input row r of stage s (see middle_row): its middle row, then every depthwise (and pooled)
 * row that it completes, each passed on. */
static void pipe_push(pipe *pp, int s, int64_t r, const float *in)
{
    const fq_f32_nchwc_stage *st = &pp->chain->stages[s];
    const fq_f32_nchwc_kernel *k = pp->chain->kernel;
    pipe_stage *ps = &pp->st[s];
    if (r < ps->in_lo || r >= ps->in_hi)
        return;
    int64_t w = st->mid_w, ow = st->dw_ow, blocks = st->mid_channels / BLOCK;
    size_t row = (size_t)(st->mid_channels * w), dw_row = (size_t)(st->mid_channels * ow);
    if (!st->has_dw) {
        middle_row(pp, s, r, in, ps->out_row, w * BLOCK);
        pipe_emit(pp, s, r, ps->out_row);
        return;
    }
    middle_row(pp, s, r, in, ps->ring + (size_t)(r % RING) * row, w * BLOCK);
    ps->mids = r + 1;
    for (; ps->next_dw < ps->dw_hi; ps->next_dw++) {
        int64_t d = ps->next_dw, top = d * st->dw_stride - st->dw_pad;
        if (ps->mids <= (top + 2 < st->mid_h ? top + 2 : st->mid_h - 1))
            return;
        const float *rows_b[3];
        for (int64_t b = 0; b < blocks; b++) {
            for (int kh = 0; kh < 3; kh++) {
                int64_t ih = top + kh;
                rows_b[kh] = ih >= 0 && ih < st->mid_h
                                 ? ps->ring + (size_t)(ih % RING) * row + b * w * BLOCK
                                 : NULL;
            }
            float *out = st->has_pool ? ps->dw_rows + (size_t)(d % 2) * dw_row + b * ow * BLOCK
                                      : ps->out_row + b * ow * BLOCK;
            const float *slopes = pp->dw[s].slopes != NULL ? pp->dw[s].slopes + b * BLOCK
                                                           : NULL;
            const float *wt = st->dw_w + b * 9 * BLOCK, *bias = st->dw_bias + b * BLOCK;
            if (st->dw_stride == 1)
                k->dw_row(rows_b, w, wt, bias, &pp->dw[s], slopes, out);
            else
                k->dw_row_s2(rows_b, w, ow, st->dw_pad, wt, bias, &pp->dw[s], slopes, out);
        }
        if (!st->has_pool) {
            pipe_emit(pp, s, d, ps->out_row);
        } else if (d % 2 == 1) {
            for (int64_t b = 0; b < blocks; b++)
                k->pool_row(ps->dw_rows + b * ow * BLOCK, ps->dw_rows + dw_row + b * ow * BLOCK,
                            ow, ps->out_row + b * st->out_w * BLOCK);
            pipe_emit(pp, s, d / 2, ps->out_row);
        }
    }
}

/* The rows every stage computes for the chain's output rows [lo, hi), last stage first. */
static void plan_rows(pipe *pp, int64_t lo, int64_t hi)
{
    for (int s = pp->chain->n_stages - 1; s >= 0; s--) {
        const fq_f32_nchwc_stage *st = &pp->chain->stages[s];
        pipe_stage *ps = &pp->st[s];
        ps->lo = lo;
        ps->hi = hi;
        int64_t d_lo = st->has_pool ? 2 * lo : lo, d_hi = st->has_pool ? 2 * hi : hi;
        ps->next_dw = d_lo;
        ps->dw_hi = d_hi;
        ps->mids = 0;
        ps->in_lo = d_lo;
        ps->in_hi = d_hi;
        if (st->has_dw) {
            int64_t first = d_lo * st->dw_stride - st->dw_pad;
            int64_t last = (d_hi - 1) * st->dw_stride - st->dw_pad + 2;
            ps->in_lo = first > 0 ? first : 0;
            ps->in_hi = last + 1 < st->mid_h ? last + 1 : st->mid_h;
        }
        lo = ps->in_lo;
        hi = ps->in_hi;
    }
}

typedef struct chain_job {
    const fq_f32_nchwc_chain *chain;
    const float *x;
    const fq_f32_nchwc_slopes *slopes;
    float *y;
    float *workspace;
    int64_t tasks;
} chain_job;

static void run_band(void *ctx, size_t index)
{
    const chain_job *job = ctx;
    const fq_f32_nchwc_chain *chain = job->chain;
    pipe pp = {.chain = chain, .x = job->x, .y = job->y};
    float *area = job->workspace + index * pipe_floats(chain);
    for (int s = 0; s < chain->n_stages; s++) {
        const fq_f32_nchwc_stage *st = &chain->stages[s];
        size_t row = (size_t)(st->mid_channels * st->mid_w);
        size_t dw_row = (size_t)(st->mid_channels * st->dw_ow);
        pipe_stage *ps = &pp.st[s];
        pp.pw[s] = params_of(&st->pw_act, job->slopes->pw[s], job->slopes->pw_count[s]);
        pp.dw[s] = params_of(&st->dw_act, job->slopes->dw[s], job->slopes->dw_count[s]);
        ps->out_row = area;
        area += lines(st->has_dw ? dw_row : row);
        if (st->is_stem) {
            ps->padded = area;
            area += lines((size_t)(st->in_channels * 3 * st->padded_w));
        }
        if (st->has_dw) {
            ps->ring = area;
            area += lines(RING * row);
        }
        if (st->has_pool) {
            ps->dw_rows = area;
            area += lines(2 * dw_row);
        }
    }
    int64_t rows = chain->stages[chain->n_stages - 1].out_h, t = (int64_t)index;
    plan_rows(&pp, t * rows / job->tasks, (t + 1) * rows / job->tasks);
    for (int64_t r = pp.st[0].in_lo; r < pp.st[0].in_hi; r++)
        pipe_push(&pp, 0, r, NULL);
}

void fq_f32_nchwc_chain_run(const fq_f32_nchwc_chain *chain, const float *x,
                            const fq_f32_nchwc_slopes *slopes, float *y, void *workspace,
                            struct fq_threadpool *pool)
{
    int64_t tasks = fq_threadpool_size(pool), rows = chain->stages[chain->n_stages - 1].out_h;
    tasks = tasks < chain->slots ? tasks : chain->slots;
    tasks = tasks < rows ? tasks : rows;
    chain_job job = {.chain = chain, .x = x, .slopes = slopes, .y = y, .workspace = workspace,
                     .tasks = tasks > 0 ? tasks : 1};
    fq_threadpool_parallel_for(pool, (size_t)job.tasks, run_band, &job);
}
