/* u8 pooling: see qu8_pool2d_ref.h. */
#include "ref/qu8_pool2d_ref.h"
#include "ref/qu8_requant_ref.h"

/* Where plane `plane` starts in a tensor of `pixels` pixels per plane, and its pixel stride. */
static void plane_layout(const fq_qu8_pool_params *p, int64_t plane, int64_t pixels,
                         int64_t *base, int64_t *stride)
{
    if (!p->channels_last) {
        *base = plane * pixels;
        *stride = 1;
        return;
    }
    int64_t n = plane / p->channels;
    int64_t c = plane % p->channels;
    *base = n * pixels * p->channels + c;
    *stride = p->channels;
}

/* First and one-past-last tap index of a window starting at `start` that lie inside [0, in). */
static void window_taps(int64_t start, int64_t kernel, int64_t dilation, int64_t in,
                        int64_t *first, int64_t *last)
{
    int64_t k0 = 0;
    while (k0 < kernel && start + k0 * dilation < 0)
        k0++;
    int64_t k1 = kernel;
    while (k1 > k0 && start + (k1 - 1) * dilation >= in)
        k1--;
    *first = k0;
    *last = k1;
}

/* Taps the average divides by: inside the input, or inside the padded input. */
static int64_t window_count(const fq_pool2d_f32_params *w, int64_t h0, int64_t w0,
                            int64_t kh0, int64_t kh1, int64_t kw0, int64_t kw1)
{
    if (!w->count_include_pad)
        return (kh1 - kh0) * (kw1 - kw0);
    int64_t rows = 0, cols = 0;
    for (int64_t k = 0; k < w->kernel_h; k++) {
        int64_t r = h0 + k * w->dilation_h;
        rows += r >= -w->pad_top && r < w->in_h + w->pad_bottom;
    }
    for (int64_t k = 0; k < w->kernel_w; k++) {
        int64_t c = w0 + k * w->dilation_w;
        cols += c >= -w->pad_left && c < w->in_w + w->pad_right;
    }
    return rows * cols;
}

typedef enum pool_kind { POOL_AVERAGE, POOL_MAX } pool_kind;

static uint8_t pool_window(const fq_qu8_pool_params *p, pool_kind kind, const uint8_t *xp,
                           int64_t stride, int64_t oh, int64_t ow)
{
    const fq_pool2d_f32_params *w = &p->window;
    int64_t h0 = oh * w->stride_h - w->pad_top;
    int64_t w0 = ow * w->stride_w - w->pad_left;
    int64_t kh0, kh1, kw0, kw1;
    window_taps(h0, w->kernel_h, w->dilation_h, w->in_h, &kh0, &kh1);
    window_taps(w0, w->kernel_w, w->dilation_w, w->in_w, &kw0, &kw1);

    int32_t sum = 0;
    int32_t max = 0;
    for (int64_t kh = kh0; kh < kh1; kh++) {
        const uint8_t *row = xp + (h0 + kh * w->dilation_h) * w->in_w * stride;
        for (int64_t kw = kw0; kw < kw1; kw++) {
            int32_t v = row[(w0 + kw * w->dilation_w) * stride];
            sum += v - p->x_zero;
            max = v > max ? v : max;
        }
    }
    if (kind == POOL_MAX)
        return (uint8_t)max;
    int64_t count = window_count(w, h0, w0, kh0, kh1, kw0, kw1);
    if (count == 0)
        return fq_qu8_requantize(0.0f, p->y_zero, 0);
    double real = (double)sum * (double)p->multiplier / (double)count;
    return fq_qu8_requantize((float)real, p->y_zero, 0);
}

static void pool2d(const fq_qu8_pool_params *p, pool_kind kind, const uint8_t *x, uint8_t *y)
{
    const fq_pool2d_f32_params *w = &p->window;
    for (int64_t plane = 0; plane < w->planes; plane++) {
        int64_t x_base, x_stride, y_base, y_stride;
        plane_layout(p, plane, w->in_h * w->in_w, &x_base, &x_stride);
        plane_layout(p, plane, w->out_h * w->out_w, &y_base, &y_stride);
        for (int64_t oh = 0; oh < w->out_h; oh++)
            for (int64_t ow = 0; ow < w->out_w; ow++)
                y[y_base + (oh * w->out_w + ow) * y_stride] =
                    pool_window(p, kind, x + x_base, x_stride, oh, ow);
    }
}

void fq_qu8_avgpool2d_ref(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y)
{
    pool2d(p, POOL_AVERAGE, x, y);
}

void fq_qu8_maxpool2d_ref(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y)
{
    pool2d(p, POOL_MAX, x, y);
}

void fq_qu8_global_avgpool_ref(const fq_qu8_pool_params *p, int64_t size, const uint8_t *x,
                               uint8_t *y)
{
    for (int64_t plane = 0; plane < p->window.planes; plane++) {
        int64_t base, stride;
        plane_layout(p, plane, size, &base, &stride);
        int64_t sum = 0;
        for (int64_t i = 0; i < size; i++)
            sum += (int32_t)x[base + i * stride] - p->x_zero;
        double real = (double)sum * (double)p->multiplier / (double)size;
        y[plane] = fq_qu8_requantize((float)real, p->y_zero, 0);
    }
}
