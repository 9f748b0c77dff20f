/* Reference twins of the fp16 kernels: see f16_gemm_ref.h. */
#include <math.h>

#include "ref/f16_gemm_ref.h"
#include "ref/tensor_cast_ref.h"

uint16_t fq_ref_f16_fma(uint16_t a, uint16_t b, uint16_t c)
{
    float sum = fmaf(fq_f32_from_f16(a), fq_f32_from_f16(b), fq_f32_from_f16(c));
    return fq_f16_from_f32(sum);
}

uint16_t fq_ref_f16_clamp(uint16_t v, uint16_t lo, uint16_t hi)
{
    float value = fq_f32_from_f16(v);
    if (value < fq_f32_from_f16(lo))
        return lo;
    if (value > fq_f32_from_f16(hi))
        return hi;
    return v;
}

static float clamp_f32(float v, const fq_f16w_f32_minmax *params)
{
    if (v < params->min)
        return params->min;
    if (v > params->max)
        return params->max;
    return v;
}

void fq_ref_f16_gemm(size_t mr, size_t nc, size_t kc, size_t nr, const uint16_t *a,
                     size_t a_stride, const uint16_t *packed_w, uint16_t *c, size_t c_stride,
                     const fq_f16_minmax *params)
{
    for (size_t j = 0; j < nc; j++) {
        const uint16_t *panel = packed_w + (j / nr) * nr * (kc + 1);
        size_t lane = j % nr;
        for (size_t i = 0; i < mr; i++) {
            uint16_t acc = panel[lane];
            for (size_t k = 0; k < kc; k++)
                acc = fq_ref_f16_fma(a[i * a_stride + k], panel[nr + k * nr + lane], acc);
            c[i * c_stride + j] = fq_ref_f16_clamp(acc, params->min, params->max);
        }
    }
}

void fq_ref_f16w_f32_gemm(size_t mr, size_t nc, size_t kc, size_t nr, const float *a,
                          size_t a_stride, const uint16_t *packed_w, float *c, size_t c_stride,
                          const fq_f16w_f32_minmax *params)
{
    for (size_t j = 0; j < nc; j++) {
        const uint16_t *panel = packed_w + (j / nr) * nr * (kc + 1);
        size_t lane = j % nr;
        for (size_t i = 0; i < mr; i++) {
            float acc = fq_f32_from_f16(panel[lane]);
            for (size_t k = 0; k < kc; k++)
                acc = fmaf(a[i * a_stride + k], fq_f32_from_f16(panel[nr + k * nr + lane]), acc);
            c[i * c_stride + j] = clamp_f32(acc, params);
        }
    }
}

void fq_f16w_f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *a,
                                          size_t a_stride, const uint16_t *packed_w, float *c,
                                          size_t c_stride, const fq_f16w_f32_minmax *params)
{
    fq_ref_f16w_f32_gemm(mr, nc, kc, 8, a, a_stride, packed_w, c, c_stride, params);
}

static uint16_t dwconv_pixel(const fq_f16_dwconv3x3_params *p, const uint16_t *x,
                             const uint16_t *group, size_t cr, size_t lane, size_t channel,
                             size_t oh, size_t ow)
{
    uint16_t acc = group[lane];
    for (size_t kh = 0; kh < 3; kh++) {
        size_t ih = oh * p->stride + kh - p->pad_top; /* wraps around when above the image */
        if (ih >= p->in_h)
            continue;
        for (size_t kw = 0; kw < 3; kw++) {
            size_t iw = ow * p->stride + kw - p->pad_left;
            if (iw >= p->in_w)
                continue;
            uint16_t tap = group[cr + (kh * 3 + kw) * cr + lane];
            acc = fq_ref_f16_fma(x[(ih * p->in_w + iw) * p->channels + channel], tap, acc);
        }
    }
    return fq_ref_f16_clamp(acc, p->clamp.min, p->clamp.max);
}

void fq_ref_f16_dwconv3x3(const fq_f16_dwconv3x3_params *p, size_t cr, const uint16_t *x,
                          const uint16_t *packed_w, uint16_t *y)
{
    for (size_t oh = 0; oh < p->out_h; oh++) {
        for (size_t ow = 0; ow < p->out_w; ow++) {
            uint16_t *out = y + (oh * p->out_w + ow) * p->channels;
            for (size_t ch = 0; ch < p->channels; ch++) {
                const uint16_t *group = packed_w + (ch / cr) * cr * 10;
                out[ch] = dwconv_pixel(p, x, group, cr, ch % cr, ch, oh, ow);
            }
        }
    }
}

static uint16_t conv_pixel(const fq_f16_conv2d_params *p, const uint16_t *w, uint16_t bias,
                           const uint16_t *x, size_t o, size_t oh, size_t ow)
{
    size_t taps = p->kernel_h * p->kernel_w;
    uint16_t acc = bias;
    for (size_t kh = 0; kh < p->kernel_h; kh++) {
        size_t ih = oh * p->stride_h + kh * p->dilation_h - p->pad_top;
        if (ih >= p->in_h)
            continue;
        for (size_t kw = 0; kw < p->kernel_w; kw++) {
            size_t iw = ow * p->stride_w + kw * p->dilation_w - p->pad_left;
            if (iw >= p->in_w)
                continue;
            const uint16_t *pixel = x + (ih * p->in_w + iw) * p->in_channels;
            for (size_t c = 0; c < p->in_channels; c++) {
                uint16_t weight = w[(o * p->in_channels + c) * taps + kh * p->kernel_w + kw];
                acc = fq_ref_f16_fma(pixel[c], weight, acc);
            }
        }
    }
    return fq_ref_f16_clamp(acc, p->clamp.min, p->clamp.max);
}

void fq_ref_f16_conv2d(const fq_f16_conv2d_params *p, const uint16_t *w, const uint16_t *bias,
                       const uint16_t *x, uint16_t *y)
{
    for (size_t oh = 0; oh < p->out_h; oh++) {
        for (size_t ow = 0; ow < p->out_w; ow++) {
            uint16_t *out = y + (oh * p->out_w + ow) * p->out_channels;
            for (size_t o = 0; o < p->out_channels; o++)
                out[o] = conv_pixel(p, w, bias != NULL ? bias[o] : 0, x, o, oh, ow);
        }
    }
}

bool fq_f32_exceeds_f16__scalar(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > FQ_F16_MAX)
            return true;
    return false;
}
