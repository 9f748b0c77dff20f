/* The fp16-arithmetic convolution plan: see f16_conv_plan.h. */
#include <math.h>
#include <stdio.h>

#include "f16_conv_plan.h"
#include "facequant/alloc.h"
#include "ref/tensor_cast_ref.h"

static bool is_depthwise(const fq_conv2d_f32_params *p)
{
    return p->groups == p->in_channels && p->groups == p->out_channels;
}

static bool depthwise_fits(const fq_conv2d_f32_params *p)
{
    return is_depthwise(p) && p->kernel_h == 3 && p->kernel_w == 3 &&
           p->stride_h == p->stride_w && (p->stride_h == 1 || p->stride_h == 2) &&
           p->dilation_h == 1 && p->dilation_w == 1;
}

static bool dense_fits(const fq_conv2d_f32_params *p)
{
    return p->groups == 1 && p->in_channels * p->kernel_h * p->kernel_w <= FQ_F16_CONV_MAX_DEPTH;
}

static bool activation_fits(const fq_epilogue_f32 *act)
{
    return act->kind == FQ_EPILOGUE_F32_NONE || act->kind == FQ_EPILOGUE_F32_RELU ||
           act->kind == FQ_EPILOGUE_F32_CLIP;
}

/* Every size at least 1 (pads at least 0), and no tensor of more than 2^31 elements, so that
 * the element counts below cannot overflow. */
static bool sizes_fit(const fq_conv2d_f32_params *p)
{
    const int64_t limit = INT64_C(1) << 31;
    const int64_t dims[] = {p->batch, p->in_channels, p->in_h, p->in_w, p->out_channels,
                            p->out_h, p->out_w, p->kernel_h, p->kernel_w, p->stride_h,
                            p->stride_w, p->dilation_h, p->dilation_w, p->groups};
    for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++)
        if (dims[i] < 1 || dims[i] > limit)
            return false;
    if (p->pad_top < 0 || p->pad_left < 0 || p->pad_top > limit || p->pad_left > limit)
        return false;
    return p->in_channels * p->in_h * p->in_w <= limit &&
           p->out_channels * p->out_h * p->out_w <= limit &&
           p->out_channels * p->in_channels / p->groups * p->kernel_h * p->kernel_w <= limit;
}

bool fq_f16_conv_plan_applies(const fq_conv2d_f32_params *p, fq_isa cap)
{
    if (!sizes_fit(p) || !activation_fits(&p->act))
        return false;
    if (depthwise_fits(p))
        return fq_f16_dwconv3x3_select(cap) != NULL;
    return dense_fits(p) && fq_f16_gemm_select(cap) != NULL;
}

static fq_f16_minmax clamp_of(const fq_epilogue_f32 *act)
{
    fq_f16_minmax clamp = {fq_f16_from_f32(-INFINITY), fq_f16_from_f32(INFINITY)};
    if (act->kind == FQ_EPILOGUE_F32_RELU) {
        clamp.min = fq_f16_from_f32(0.0f);
    } else if (act->kind == FQ_EPILOGUE_F32_CLIP) {
        clamp.min = fq_f16_from_f32(act->alpha);
        clamp.max = fq_f16_from_f32(act->beta);
    }
    return clamp;
}

static size_t align_up(size_t bytes)
{
    return (bytes + FQ_ALIGNMENT - 1) / FQ_ALIGNMENT * FQ_ALIGNMENT;
}

static float *widen_weights(const uint16_t *w, size_t count)
{
    float *wide = fq_malloc(count * sizeof(float));
    if (wide == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++)
        wide[i] = fq_f32_from_f16(w[i]);
    return wide;
}

static void plan_dense(fq_f16_conv_plan *plan, fq_isa cap)
{
    const fq_conv2d_f32_params *p = &plan->p;
    plan->path = FQ_F16_CONV_DENSE;
    plan->gemm = fq_f16_gemm_select(cap);
    plan->conv = (fq_f16_conv2d_params){
        .in_h = (size_t)p->in_h, .in_w = (size_t)p->in_w,
        .in_channels = (size_t)p->in_channels,
        .out_h = (size_t)p->out_h, .out_w = (size_t)p->out_w,
        .out_channels = (size_t)p->out_channels,
        .kernel_h = (size_t)p->kernel_h, .kernel_w = (size_t)p->kernel_w,
        .stride_h = (size_t)p->stride_h, .stride_w = (size_t)p->stride_w,
        .dilation_h = (size_t)p->dilation_h, .dilation_w = (size_t)p->dilation_w,
        .pad_top = (size_t)p->pad_top, .pad_left = (size_t)p->pad_left,
        .clamp = clamp_of(&p->act)};
    snprintf(plan->name, sizeof(plan->name), "%s+nhwc", plan->gemm->name);
}

static void plan_depthwise(fq_f16_conv_plan *plan, fq_isa cap)
{
    const fq_conv2d_f32_params *p = &plan->p;
    plan->path = FQ_F16_CONV_DEPTHWISE;
    plan->dw = fq_f16_dwconv3x3_select(cap);
    plan->dwconv = (fq_f16_dwconv3x3_params){
        .in_h = (size_t)p->in_h, .in_w = (size_t)p->in_w, .channels = (size_t)p->in_channels,
        .out_h = (size_t)p->out_h, .out_w = (size_t)p->out_w, .stride = (size_t)p->stride_h,
        .pad_top = (size_t)p->pad_top, .pad_left = (size_t)p->pad_left,
        .clamp = clamp_of(&p->act)};
    snprintf(plan->name, sizeof(plan->name), "%s+nhwc", plan->dw->name);
}

static size_t packed_count(const fq_f16_conv_plan *plan)
{
    if (plan->path == FQ_F16_CONV_DENSE)
        return fq_f16_conv2d_packed_count(&plan->conv, plan->gemm);
    return fq_f16_dwconv3x3_packed_count(plan->dwconv.channels, plan->dw->cr);
}

static void pack(fq_f16_conv_plan *plan, const float *w, const float *bias)
{
    if (plan->path == FQ_F16_CONV_DENSE)
        fq_f16_conv2d_pack(&plan->conv, plan->gemm, w, bias, plan->packed);
    else
        fq_f16_dwconv3x3_pack(plan->dwconv.channels, plan->dw->cr, w, bias, plan->packed);
}

/* Workspace: the f16 NHWC input image, the f16 NHWC output image, then the dense path's
 * im2col rows. */
static void plan_workspace(fq_f16_conv_plan *plan)
{
    const fq_conv2d_f32_params *p = &plan->p;
    size_t x_bytes = (size_t)(p->in_channels * p->in_h * p->in_w) * sizeof(uint16_t);
    size_t y_bytes = (size_t)(p->out_channels * p->out_h * p->out_w) * sizeof(uint16_t);
    size_t im2col = 0;
    if (plan->path == FQ_F16_CONV_DENSE)
        im2col = fq_f16_conv2d_workspace_count(&plan->conv, plan->gemm) * sizeof(uint16_t);

    plan->x_offset = 0;
    plan->y_offset = align_up(x_bytes);
    plan->im2col_offset = plan->y_offset + align_up(y_bytes);
    plan->workspace = plan->im2col_offset + align_up(im2col);
}

fq_status fq_f16_conv_plan_create(const fq_conv2d_f32_params *p, const uint16_t *w,
                                  const float *bias, fq_isa cap, fq_f16_conv_plan **out,
                                  fq_error *err)
{
    *out = NULL;
    if (!fq_f16_conv_plan_applies(p, cap))
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "f16 conv plan: no fp16-arithmetic kernel "
                            "under ISA cap %s for this convolution (groups %lld, kernel "
                            "%lldx%lld, %lld input channels)", fq_isa_name(cap),
                            (long long)p->groups, (long long)p->kernel_h,
                            (long long)p->kernel_w, (long long)p->in_channels);
    fq_f16_conv_plan *plan = fq_calloc(1, sizeof(*plan));
    if (plan == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "f16 conv plan: out of memory");
    plan->p = *p;
    plan->convert = fq_f16_nhwc_convert_select(cap);
    if (depthwise_fits(p))
        plan_depthwise(plan, cap);
    else
        plan_dense(plan, cap);
    plan_workspace(plan);

    size_t w_count = (size_t)(p->out_channels * p->in_channels / p->groups * p->kernel_h *
                              p->kernel_w);
    float *wide = widen_weights(w, w_count);
    plan->packed = fq_malloc_aligned(packed_count(plan) * sizeof(uint16_t));
    if (wide == NULL || plan->packed == NULL) {
        fq_free(wide);
        fq_f16_conv_plan_free(plan);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "f16 conv plan: out of memory for %zu "
                            "weights", w_count);
    }
    pack(plan, wide, bias);
    fq_free(wide);
    *out = plan;
    return FQ_OK;
}

void fq_f16_conv_plan_free(fq_f16_conv_plan *plan)
{
    if (plan == NULL)
        return;
    fq_free_aligned(plan->packed);
    fq_free(plan);
}

void fq_f16_conv_run(const fq_f16_conv_plan *plan, const float *x, float *y, void *workspace)
{
    const fq_conv2d_f32_params *p = &plan->p;
    size_t in_pixels = (size_t)(p->in_h * p->in_w);
    size_t out_pixels = (size_t)(p->out_h * p->out_w);
    size_t in_image = (size_t)p->in_channels * in_pixels;
    size_t out_image = (size_t)p->out_channels * out_pixels;
    uint16_t *x16 = (uint16_t *)(void *)((char *)workspace + plan->x_offset);
    uint16_t *y16 = (uint16_t *)(void *)((char *)workspace + plan->y_offset);
    uint16_t *rows = (uint16_t *)(void *)((char *)workspace + plan->im2col_offset);

    for (int64_t b = 0; b < p->batch; b++) {
        plan->convert->to_nhwc((size_t)p->in_channels, in_pixels, x + (size_t)b * in_image,
                               x16);

        if (plan->path == FQ_F16_CONV_DENSE)
            fq_f16_conv2d(&plan->conv, plan->gemm, x16, plan->packed, y16, rows);
        else
            plan->dw->ukernel(&plan->dwconv, x16, plan->packed, y16);

        plan->convert->to_nchw((size_t)p->out_channels, out_pixels, y16,
                               y + (size_t)b * out_image);
    }
}
