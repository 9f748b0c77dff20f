/* u8 pooling on NHWC tensors: see qu8_pool2d_nhwc.h. */
#include <string.h>

#include "ref/qu8_pool2d_nhwc.h"
#include "ref/qu8_requant_ref.h"

/* Channels handled at once: the accumulator row lives on the stack. */
#define CHANNEL_BLOCK 256

/* The taps [first, last) of a window starting at `start` that lie inside [0, in). */
static void inside_taps(int64_t start, int64_t kernel, int64_t dilation, int64_t in,
                        int64_t *first, int64_t *last)
{
    int64_t k0 = 0, k1 = kernel;
    while (k0 < kernel && start + k0 * dilation < 0)
        k0++;
    while (k1 > k0 && start + (k1 - 1) * dilation >= in)
        k1--;
    *first = k0;
    *last = k1;
}

/* Taps of the padded input a window covers along one axis. */
static int64_t padded_taps(int64_t start, int64_t kernel, int64_t dilation, int64_t low,
                           int64_t high)
{
    int64_t count = 0;
    for (int64_t k = 0; k < kernel; k++) {
        int64_t at = start + k * dilation;
        count += at >= low && at < high;
    }
    return count;
}

/* One output pixel's window: the input taps inside, and the count an average divides by. */
typedef struct window {
    int64_t h0, w0, kh0, kh1, kw0, kw1, count;
} window;

static window window_at(const fq_pool2d_f32_params *w, int64_t oh, int64_t ow)
{
    window win = {.h0 = oh * w->stride_h - w->pad_top, .w0 = ow * w->stride_w - w->pad_left};
    inside_taps(win.h0, w->kernel_h, w->dilation_h, w->in_h, &win.kh0, &win.kh1);
    inside_taps(win.w0, w->kernel_w, w->dilation_w, w->in_w, &win.kw0, &win.kw1);
    if (w->count_include_pad)
        win.count = padded_taps(win.h0, w->kernel_h, w->dilation_h, -w->pad_top,
                                w->in_h + w->pad_bottom) *
                    padded_taps(win.w0, w->kernel_w, w->dilation_w, -w->pad_left,
                                w->in_w + w->pad_right);
    else
        win.count = (win.kh1 - win.kh0) * (win.kw1 - win.kw0);
    return win;
}

/* Channels [c0, c0 + n) of one window of image `image` (H x W x channels): the sums of the
 * codes, or their maximum (0 without taps). */
static void window_reduce(const fq_qu8_pool_params *p, const uint8_t *image, const window *win,
                          int64_t c0, int64_t n, bool max, int32_t *acc)
{
    const fq_pool2d_f32_params *w = &p->window;
    memset(acc, 0, (size_t)n * sizeof(*acc));
    for (int64_t kh = win->kh0; kh < win->kh1; kh++) {
        int64_t ih = win->h0 + kh * w->dilation_h;
        for (int64_t kw = win->kw0; kw < win->kw1; kw++) {
            int64_t iw = win->w0 + kw * w->dilation_w;
            const uint8_t *tap = image + (ih * w->in_w + iw) * p->channels + c0;
            if (max)
                for (int64_t j = 0; j < n; j++)
                    acc[j] = tap[j] > acc[j] ? tap[j] : acc[j];
            else
                for (int64_t j = 0; j < n; j++)
                    acc[j] += tap[j];
        }
    }
}

static void store_average(const fq_qu8_pool_params *p, const window *win, const int32_t *acc,
                          int64_t n, uint8_t *y)
{
    if (win->count == 0) {
        memset(y, fq_qu8_requantize(0.0f, p->y_zero, 0), (size_t)n);
        return;
    }
    int32_t taps = (int32_t)((win->kh1 - win->kh0) * (win->kw1 - win->kw0));
    double multiplier = (double)p->multiplier, count = (double)win->count;
    for (int64_t j = 0; j < n; j++) {
        int32_t sum = acc[j] - taps * p->x_zero;
        y[j] = fq_qu8_requantize((float)((double)sum * multiplier / count), p->y_zero, 0);
    }
}

static void pool_nhwc(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y, bool max)
{
    const fq_pool2d_f32_params *w = &p->window;
    int64_t channels = p->channels, images = channels > 0 ? w->planes / channels : 0;
    int32_t acc[CHANNEL_BLOCK];
    for (int64_t b = 0; b < images; b++) {
        const uint8_t *image = x + b * w->in_h * w->in_w * channels;
        for (int64_t oh = 0; oh < w->out_h; oh++)
            for (int64_t ow = 0; ow < w->out_w; ow++) {
                window win = window_at(w, oh, ow);
                uint8_t *out = y + ((b * w->out_h + oh) * w->out_w + ow) * channels;
                for (int64_t c0 = 0; c0 < channels; c0 += CHANNEL_BLOCK) {
                    int64_t n = channels - c0 < CHANNEL_BLOCK ? channels - c0 : CHANNEL_BLOCK;
                    window_reduce(p, image, &win, c0, n, max, acc);
                    if (!max) {
                        store_average(p, &win, acc, n, out + c0);
                        continue;
                    }
                    for (int64_t j = 0; j < n; j++)
                        out[c0 + j] = (uint8_t)acc[j];
                }
            }
    }
}

void fq_qu8_avgpool2d_nhwc__scalar(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y)
{
    pool_nhwc(p, x, y, false);
}

void fq_qu8_maxpool2d_nhwc__scalar(const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y)
{
    pool_nhwc(p, x, y, true);
}
