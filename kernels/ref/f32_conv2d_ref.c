/* Reference fp32 2-D convolution: depthwise direct, pointwise GEMM, im2col + GEMM. */
#include <stdbool.h>

#include "ref/f32_conv2d_ref.h"
#include "ref/f32_gemm_ref.h"

/* Output pixels per im2col block: the block (kernel volume x this) stays in the L2 cache. */
#define COLUMN_BLOCK 256

static bool is_depthwise(const fq_conv2d_f32_params *p)
{
    return p->groups == p->in_channels && p->groups == p->out_channels;
}

static bool is_pointwise(const fq_conv2d_f32_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w;
}

static int64_t column_block(const fq_conv2d_f32_params *p)
{
    int64_t pixels = p->out_h * p->out_w;
    return pixels < COLUMN_BLOCK ? pixels : COLUMN_BLOCK;
}

size_t fq_ref_conv2d_f32_workspace_size(const fq_conv2d_f32_params *p)
{
    if (is_depthwise(p) || is_pointwise(p))
        return 0;
    int64_t depth = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    return (size_t)(depth * column_block(p)) * sizeof(float);
}

static float bias_of(const float *bias, int64_t channel)
{
    return bias != NULL ? bias[channel] : 0.0f;
}

/* First and one-past-last output column whose tap ow * stride + offset lies in [0, in_w). */
static void valid_columns(const fq_conv2d_f32_params *p, int64_t offset, int64_t *lo, int64_t *hi)
{
    int64_t s = p->stride_w;
    int64_t first = offset >= 0 ? 0 : (-offset + s - 1) / s;
    int64_t last = p->in_w - 1 - offset < 0 ? -1 : (p->in_w - 1 - offset) / s;
    *lo = first;
    *hi = last + 1 < p->out_w ? last + 1 : p->out_w;
}

/* One channel of a depthwise convolution: plane x (in_h x in_w) into plane y. */
static void depthwise_plane(const fq_conv2d_f32_params *p, const float *restrict x,
                            const float *restrict w, float *restrict y)
{
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        float *restrict row = y + oh * p->out_w;
        for (int64_t ow = 0; ow < p->out_w; ow++)
            row[ow] = 0.0f;
        for (int64_t kh = 0; kh < p->kernel_h; kh++) {
            int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
            if (ih < 0 || ih >= p->in_h)
                continue;
            const float *restrict xrow = x + ih * p->in_w;
            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                float wv = w[kh * p->kernel_w + kw];
                int64_t offset = kw * p->dilation_w - p->pad_left;
                int64_t lo, hi;
                valid_columns(p, offset, &lo, &hi);
                for (int64_t ow = lo; ow < hi; ow++)
                    row[ow] += wv * xrow[ow * p->stride_w + offset];
            }
        }
    }
}

static void conv_depthwise(const fq_conv2d_f32_params *p, const float *x, const float *w,
                           const float *bias, float *y)
{
    int64_t in_plane = p->in_h * p->in_w;
    int64_t out_plane = p->out_h * p->out_w;
    int64_t taps = p->kernel_h * p->kernel_w;
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t c = 0; c < p->out_channels; c++) {
            float *yc = y + (b * p->out_channels + c) * out_plane;
            depthwise_plane(p, x + (b * p->in_channels + c) * in_plane, w + c * taps, yc);
            fq_ref_bias_activation_f32(yc, out_plane, bias_of(bias, c), &p->act, c);
        }
    }
}

static void conv_pointwise(const fq_conv2d_f32_params *p, const float *x, const float *w,
                           const float *bias, float *y)
{
    int64_t plane = p->in_h * p->in_w;
    int64_t in_per_group = p->in_channels / p->groups;
    int64_t out_per_group = p->out_channels / p->groups;
    fq_gemm_f32_params gemm = {.m = out_per_group, .n = plane, .k = in_per_group,
                               .lda = in_per_group, .ldb = plane, .ldc = plane};
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t g = 0; g < p->groups; g++) {
            const float *xg = x + (b * p->in_channels + g * in_per_group) * plane;
            const float *wg = w + g * out_per_group * in_per_group;
            float *yg = y + (b * p->out_channels + g * out_per_group) * plane;
            fq_ref_gemm_f32(&gemm, wg, xg, yg);
            for (int64_t o = 0; o < out_per_group; o++) {
                int64_t channel = g * out_per_group + o;
                fq_ref_bias_activation_f32(yg + o * plane, plane, bias_of(bias, channel),
                                           &p->act, channel);
            }
        }
    }
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Taps (kh, kw) of channel plane xc for output columns [ow0, ow1) of output row oh, into out;
 * zero where a tap falls in the padding. */
static void im2col_segment(const fq_conv2d_f32_params *p, const float *restrict xc, int64_t kh,
                           int64_t kw, int64_t oh, int64_t ow0, int64_t ow1,
                           float *restrict out)
{
    int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
    if (ih < 0 || ih >= p->in_h) {
        for (int64_t ow = ow0; ow < ow1; ow++)
            out[ow - ow0] = 0.0f;
        return;
    }

    int64_t offset = kw * p->dilation_w - p->pad_left;
    int64_t lo, hi;
    valid_columns(p, offset, &lo, &hi);
    lo = clamp64(lo, ow0, ow1);
    hi = clamp64(hi, lo, ow1);
    const float *restrict xrow = xc + ih * p->in_w;
    for (int64_t ow = ow0; ow < lo; ow++)
        out[ow - ow0] = 0.0f;
    for (int64_t ow = lo; ow < hi; ow++)
        out[ow - ow0] = xrow[ow * p->stride_w + offset];
    for (int64_t ow = hi; ow < ow1; ow++)
        out[ow - ow0] = 0.0f;
}

/* Rows (c, kh, kw) of the im2col matrix for output pixels [first, first + count) of one group's
 * input channels xg, each row cut into runs of one output row. */
static void im2col_block(const fq_conv2d_f32_params *p, const float *restrict xg, int64_t first,
                         int64_t count, float *restrict col)
{
    int64_t in_per_group = p->in_channels / p->groups;
    int64_t plane = p->in_h * p->in_w;
    float *restrict out = col;
    for (int64_t c = 0; c < in_per_group; c++) {
        for (int64_t kh = 0; kh < p->kernel_h; kh++) {
            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                int64_t oh = first / p->out_w;
                int64_t ow = first % p->out_w;
                for (int64_t j = 0; j < count; oh++, ow = 0) {
                    int64_t run = p->out_w - ow < count - j ? p->out_w - ow : count - j;
                    im2col_segment(p, xg + c * plane, kh, kw, oh, ow, ow + run, out + j);
                    j += run;
                }
                out += count;
            }
        }
    }
}

static void conv_im2col(const fq_conv2d_f32_params *p, const float *x, const float *w,
                        const float *bias, float *y, float *col)
{
    int64_t in_per_group = p->in_channels / p->groups;
    int64_t out_per_group = p->out_channels / p->groups;
    int64_t depth = in_per_group * p->kernel_h * p->kernel_w;
    int64_t pixels = p->out_h * p->out_w;
    int64_t block = column_block(p);
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t g = 0; g < p->groups; g++) {
            const float *xg = x + (b * p->in_channels + g * in_per_group) * p->in_h * p->in_w;
            const float *wg = w + g * out_per_group * depth;
            float *yg = y + (b * p->out_channels + g * out_per_group) * pixels;
            for (int64_t first = 0; first < pixels; first += block) {
                int64_t count = pixels - first < block ? pixels - first : block;
                im2col_block(p, xg, first, count, col);
                fq_gemm_f32_params gemm = {.m = out_per_group, .n = count, .k = depth,
                                           .lda = depth, .ldb = count, .ldc = pixels};
                fq_ref_gemm_f32(&gemm, wg, col, yg + first);
                for (int64_t o = 0; o < out_per_group; o++) {
                    int64_t channel = g * out_per_group + o;
                    fq_ref_bias_activation_f32(yg + o * pixels + first, count,
                                               bias_of(bias, channel), &p->act, channel);
                }
            }
        }
    }
}

void fq_ref_conv2d_f32(const fq_conv2d_f32_params *p, const float *x, const float *w,
                       const float *bias, float *y, float *workspace)
{
    if (is_depthwise(p))
        conv_depthwise(p, x, w, bias, y);
    else if (is_pointwise(p))
        conv_pointwise(p, x, w, bias, y);
    else
        conv_im2col(p, x, w, bias, y, workspace);
}
