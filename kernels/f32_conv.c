/* fp32 convolution plans: pointwise GEMM, im2col GEMM with panels built in the workspace, and
 * depthwise planes (see f32_conv.h). */
#include <stdio.h>
#include <string.h>

#include "f32_conv.h"
#include "facequant/alloc.h"
#include "runtime/threadpool.h"

static bool is_depthwise(const fq_conv2d_f32_params *p)
{
    return p->groups == p->in_channels && p->groups == p->out_channels;
}

static bool is_pointwise(const fq_conv2d_f32_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w;
}

static const fq_f32_dwconv_kernel *depthwise_kernel(const fq_conv2d_f32_params *p, fq_isa cap)
{
    if (p->kernel_h != 3 || p->kernel_w != 3 || p->dilation_h != 1 || p->dilation_w != 1 ||
        p->stride_h != p->stride_w || (p->stride_h != 1 && p->stride_h != 2))
        return NULL;
    return fq_f32_dwconv_select(cap, (int)p->stride_h);
}

static fq_status plan_depthwise(fq_f32_conv_plan *plan, const float *w, const float *bias,
                                fq_isa cap, fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t taps = p->kernel_h * p->kernel_w;
    plan->path = FQ_F32_CONV_DEPTHWISE;
    plan->dw = depthwise_kernel(p, cap);
    plan->dw_weights = fq_malloc_aligned((size_t)(p->out_channels * (taps + 1)) * sizeof(float));
    if (plan->dw_weights == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate depthwise weights");
    memcpy(plan->dw_weights, w, (size_t)(p->out_channels * taps) * sizeof(float));
    plan->dw_bias = plan->dw_weights + p->out_channels * taps;
    for (int64_t c = 0; c < p->out_channels; c++)
        plan->dw_bias[c] = bias != NULL ? bias[c] : 0.0f;
    snprintf(plan->name, sizeof(plan->name), "%s",
             plan->dw != NULL ? plan->dw->name : "f32_dwconv__ref");
    return FQ_OK;
}

static fq_status plan_gemm(fq_f32_conv_plan *plan, const float *w, const float *bias,
                           fq_isa cap, fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t out_per_group = p->out_channels / p->groups;
    int64_t depth = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    plan->path = is_pointwise(p) ? FQ_F32_CONV_POINTWISE : FQ_F32_CONV_IM2COL;
    plan->gemm = fq_f32_gemm_select_rows(cap, out_per_group);
    plan->packed = fq_calloc((size_t)p->groups, sizeof(fq_f32_gemm_packed));
    if (plan->packed == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate packed weights");
    for (int64_t g = 0; g < p->groups; g++) {
        fq_status status = fq_f32_gemm_pack(plan->gemm, out_per_group, depth,
                                            w + g * out_per_group * depth, depth,
                                            bias != NULL ? bias + g * out_per_group : NULL, 1.0f,
                                            &plan->packed[g], err);
        if (status != FQ_OK)
            return status;
    }
    plan->workspace = fq_f32_gemm_workspace_size(plan->gemm, plan->slots);
    snprintf(plan->name, sizeof(plan->name), "%s%s", plan->gemm->name,
             plan->path == FQ_F32_CONV_IM2COL ? "+im2col" : "");
    return FQ_OK;
}

fq_status fq_f32_conv_plan_create(const fq_conv2d_f32_params *p, const float *w,
                                  const float *bias, fq_isa cap, int threads,
                                  fq_f32_conv_plan **out, fq_error *err)
{
    *out = NULL;
    fq_f32_conv_plan *plan = fq_calloc(1, sizeof(*plan));
    if (plan == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a convolution plan");
    plan->p = *p;
    plan->p.act.slopes = NULL;
    plan->slots = threads > 1 ? threads : 1;
    fq_status status = is_depthwise(p) ? plan_depthwise(plan, w, bias, cap, err)
                                       : plan_gemm(plan, w, bias, cap, err);
    if (status != FQ_OK) {
        fq_f32_conv_plan_free(plan);
        return status;
    }
    *out = plan;
    return FQ_OK;
}

void fq_f32_conv_plan_free(fq_f32_conv_plan *plan)
{
    if (plan == NULL)
        return;
    for (int64_t g = 0; plan->packed != NULL && g < plan->p.groups; g++)
        fq_f32_gemm_packed_free(&plan->packed[g]);
    fq_free(plan->packed);
    fq_free_aligned(plan->dw_weights);
    fq_free(plan);
}

/* What the im2col packing function reads: one group of one image. */
typedef struct im2col_ctx {
    const fq_conv2d_f32_params *p;
    const float *x;  /* the group's first input channel */
} im2col_ctx;

/* Zero-fills dst[0, n). */
static void zero(float *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = 0.0f;
}

/* run output columns from ow of one output row, tap row ih and tap column offset (kw term),
 * into dst: the columns whose tap falls outside the row read zero. */
static void im2col_run(const fq_conv2d_f32_params *p, const float *xc, int64_t ih, int64_t ow,
                       int64_t run, int64_t offset, float *dst)
{
    if (ih < 0 || ih >= p->in_h) {
        zero(dst, run);
        return;
    }
    int64_t s = p->stride_w;
    int64_t first = ow * s + offset;
    /* Valid t: 0 <= first + t * s < in_w. */
    int64_t lo = first >= 0 ? 0 : (-first + s - 1) / s;
    int64_t hi = p->in_w - first > 0 ? (p->in_w - first + s - 1) / s : 0;
    lo = lo < run ? lo : run;
    hi = hi < run ? hi : run;
    hi = hi > lo ? hi : lo;
    const float *row = xc + ih * p->in_w + first;
    zero(dst, lo);
    if (s == 1)
        memcpy(dst + lo, row + lo, (size_t)(hi - lo) * sizeof(float));
    else
        for (int64_t t = lo; t < hi; t++)
            dst[t] = row[t * s];
    zero(dst + hi, run - hi);
}

static void im2col_pack(const void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                        float *panel)
{
    const im2col_ctx *ic = ctx;
    const fq_conv2d_f32_params *p = ic->p;
    int64_t taps = p->kernel_h * p->kernel_w;
    int64_t plane = p->in_h * p->in_w;
    int64_t c = k0 / taps, kh = k0 % taps / p->kernel_w, kw = k0 % p->kernel_w;
    int64_t oh0 = j0 / p->out_w, ow0 = j0 % p->out_w;
    for (int64_t k = 0; k < kc; k++) {
        float *dst = panel + k * nr;
        const float *xc = ic->x + c * plane;
        int64_t offset = kw * p->dilation_w - p->pad_left;
        int64_t oh = oh0, ow = ow0;
        for (int64_t j = 0; j < nc; oh++, ow = 0) {
            int64_t run = p->out_w - ow < nc - j ? p->out_w - ow : nc - j;
            int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
            im2col_run(p, xc, ih, ow, run, offset, dst + j);
            j += run;
        }
        zero(dst + nc, nr - nc);
        if (++kw == p->kernel_w) {
            kw = 0;
            if (++kh == p->kernel_h) {
                kh = 0;
                c++;
            }
        }
    }
}

static void run_gemm(const fq_f32_conv_plan *plan, const float *x, const fq_epilogue_f32 *act,
                     float *y, void *workspace, struct fq_threadpool *pool)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t in_per_group = p->in_channels / p->groups;
    int64_t out_per_group = p->out_channels / p->groups;
    int64_t in_plane = p->in_h * p->in_w;
    int64_t pixels = p->out_h * p->out_w;
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t g = 0; g < p->groups; g++) {
            const float *xg = x + (b * p->in_channels + g * in_per_group) * in_plane;
            float *yg = y + (b * p->out_channels + g * out_per_group) * pixels;
            im2col_ctx ic = {p, xg};
            fq_f32_gemm_input in = {.x = xg, .x_stride = in_plane};
            if (plan->path == FQ_F32_CONV_IM2COL)
                in = (fq_f32_gemm_input){.pack = im2col_pack, .pack_ctx = &ic};
            fq_epilogue_f32 group_act = *act;
            if (act->kind == FQ_EPILOGUE_F32_PRELU && act->slope_count > 1)
                group_act.slopes = act->slopes + g * out_per_group;
            fq_f32_gemm_run(plan->gemm, &plan->packed[g], pixels, &in, yg, pixels, &group_act,
                            workspace, pool);
        }
    }
}

typedef struct depthwise_job {
    const fq_f32_conv_plan *plan;
    const float *x;
    float *y;
    const fq_epilogue_f32 *act;
} depthwise_job;

static float channel_slope(const fq_epilogue_f32 *act, int64_t c)
{
    if (act->slope_count <= 1)
        return act->slope_count == 1 ? act->slopes[0] : 0.0f;
    return act->slopes[c % act->slope_count];
}

/* A reference convolution of one plane: the depthwise parameters narrowed to one channel. */
static void reference_plane(const fq_conv2d_f32_params *p, const float *x, const float *w,
                            float bias, float *y)
{
    fq_conv2d_f32_params one = *p;
    one.batch = 1;
    one.in_channels = one.out_channels = one.groups = 1;
    one.act.kind = FQ_EPILOGUE_F32_NONE;
    fq_ref_conv2d_f32(&one, x, w, &bias, y, NULL);
}

static void depthwise_plane(void *ctx, size_t index)
{
    const depthwise_job *job = ctx;
    const fq_f32_conv_plan *plan = job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t c = (int64_t)index % p->out_channels;
    int64_t taps = p->kernel_h * p->kernel_w;
    const float *x = job->x + (int64_t)index * p->in_h * p->in_w;
    float *y = job->y + (int64_t)index * p->out_h * p->out_w;
    const float *w = plan->dw_weights + c * taps;
    int64_t pixels = p->out_h * p->out_w;

    fq_f32_gemm_params params = {.kind = job->act->kind, .alpha = job->act->alpha,
                                 .beta = job->act->beta};
    if (job->act->kind == FQ_EPILOGUE_F32_PRELU) {
        params.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        params.alpha = channel_slope(job->act, c);
    }
    if (plan->dw == NULL) {
        reference_plane(p, x, w, plan->dw_bias[c], y);
        fq_ref_bias_activation_f32(y, pixels, 0.0f, job->act, c);
        return;
    }
    fq_f32_dwconv_geometry g = {p->in_h, p->in_w, p->out_h, p->out_w, p->pad_top, p->pad_left};
    plan->dw->ukernel(&g, x, w, plan->dw_bias[c], y, &params);
    if (job->act->kind == FQ_EPILOGUE_F32_SIGMOID)
        fq_ref_bias_activation_f32(y, pixels, 0.0f, job->act, c);
}

void fq_f32_conv_run(const fq_f32_conv_plan *plan, const float *x, const float *slopes,
                     int64_t slope_count, float *y, void *workspace,
                     struct fq_threadpool *pool)
{
    fq_epilogue_f32 act = plan->p.act;
    act.slopes = slopes;
    act.slope_count = slopes != NULL ? slope_count : 0;
    if (plan->path != FQ_F32_CONV_DEPTHWISE) {
        run_gemm(plan, x, &act, y, workspace, pool);
        return;
    }
    depthwise_job job = {plan, x, y, &act};
    fq_threadpool_parallel_for(pool, (size_t)(plan->p.batch * plan->p.out_channels),
                               depthwise_plane, &job);
}
