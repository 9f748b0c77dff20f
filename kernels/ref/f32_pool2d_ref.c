/* Reference fp32 max, average and global pooling. */
#include <float.h>

#include "ref/f32_pool2d_ref.h"

static bool inside(int64_t i, int64_t lo, int64_t hi)
{
    return i >= lo && i < hi;
}

static float max_window(const fq_pool2d_f32_params *p, const float *x, int64_t oh, int64_t ow)
{
    float best = -FLT_MAX;
    for (int64_t kh = 0; kh < p->kernel_h; kh++) {
        int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
        if (!inside(ih, 0, p->in_h))
            continue;
        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
            int64_t iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
            if (inside(iw, 0, p->in_w) && x[ih * p->in_w + iw] > best)
                best = x[ih * p->in_w + iw];
        }
    }
    return best;
}

static float average_window(const fq_pool2d_f32_params *p, const float *x, int64_t oh,
                            int64_t ow)
{
    float sum = 0.0f;
    int64_t taps = 0;
    int64_t padded_taps = 0;
    for (int64_t kh = 0; kh < p->kernel_h; kh++) {
        int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
            int64_t iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
            if (inside(ih, -p->pad_top, p->in_h + p->pad_bottom) &&
                inside(iw, -p->pad_left, p->in_w + p->pad_right))
                padded_taps++;
            if (inside(ih, 0, p->in_h) && inside(iw, 0, p->in_w)) {
                sum += x[ih * p->in_w + iw];
                taps++;
            }
        }
    }
    int64_t count = p->count_include_pad ? padded_taps : taps;
    return count > 0 ? sum / (float)count : 0.0f;
}

void fq_ref_maxpool2d_f32(const fq_pool2d_f32_params *p, const float *x, float *y)
{
    for (int64_t plane = 0; plane < p->planes; plane++) {
        const float *xp = x + plane * p->in_h * p->in_w;
        float *yp = y + plane * p->out_h * p->out_w;
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++)
                yp[oh * p->out_w + ow] = max_window(p, xp, oh, ow);
    }
}

void fq_ref_avgpool2d_f32(const fq_pool2d_f32_params *p, const float *x, float *y)
{
    for (int64_t plane = 0; plane < p->planes; plane++) {
        const float *xp = x + plane * p->in_h * p->in_w;
        float *yp = y + plane * p->out_h * p->out_w;
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++)
                yp[oh * p->out_w + ow] = average_window(p, xp, oh, ow);
    }
}

void fq_ref_global_avgpool_f32(int64_t planes, int64_t size, const float *x, float *y)
{
    for (int64_t plane = 0; plane < planes; plane++) {
        const float *xp = x + plane * size;
        float sum = 0.0f;
        for (int64_t i = 0; i < size; i++)
            sum += xp[i];
        y[plane] = sum / (float)size;
    }
}

void fq_ref_global_maxpool_f32(int64_t planes, int64_t size, const float *x, float *y)
{
    for (int64_t plane = 0; plane < planes; plane++) {
        const float *xp = x + plane * size;
        float best = xp[0];
        for (int64_t i = 1; i < size; i++)
            best = xp[i] > best ? xp[i] : best;
        y[plane] = best;
    }
}
