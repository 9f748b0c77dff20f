/* u8 NHWC pooling: the portable microkernels, the tables, the choice under an ISA cap and the
 * drivers: max pooling through a row buffer, average pooling through per-pixel tap lists (see
 * qu8_pool.h). */
#include <math.h>
#include <string.h>

#include "qu8_pool.h"
#include "ref/qu8_requant_ref.h"

/* Channels the portable average kernel sums at once, in an accumulator row on the stack. */
enum { SCALAR_BLOCK = 64 };

void fq_qu8_maxpool_ukernel__scalar(size_t pixels, size_t channels, size_t taps,
                                    size_t tap_step, size_t pixel_step, const uint8_t *x,
                                    uint8_t *y)
{
    for (size_t o = 0; o < pixels; o++, x += pixel_step, y += channels)
        for (size_t c = 0; c < channels; c++) {
            uint8_t best = x[c];
            for (size_t t = 1; t < taps; t++)
                best = x[t * tap_step + c] > best ? x[t * tap_step + c] : best;
            y[c] = best;
        }
}

void fq_qu8_avgpool_ukernel__scalar(size_t channels, size_t taps, const uint8_t *const *x,
                                    const fq_qu8_avgpool_requant *r, uint8_t *y)
{
    int32_t acc[SCALAR_BLOCK];
    for (size_t c0 = 0; c0 < channels; c0 += SCALAR_BLOCK) {
        size_t n = channels - c0 < SCALAR_BLOCK ? channels - c0 : SCALAR_BLOCK;
        for (size_t j = 0; j < n; j++)
            acc[j] = r->bias;
        for (size_t t = 0; t < taps; t++)
            for (size_t j = 0; j < n; j++)
                acc[j] += x[t][c0 + j];
        for (size_t j = 0; j < n; j++)
            y[c0 + j] = fq_qu8_requantize((float)((double)acc[j] * r->multiplier / r->count),
                                          r->y_zero, 0);
    }
}

static const fq_qu8_maxpool_kernel max_kernels[] = {
    {"qu8_maxpool_nhwc__scalar", FQ_ISA_SCALAR, fq_qu8_maxpool_ukernel__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_SSE41)
    {"qu8_maxpool_nhwc_16c__sse41", FQ_ISA_SSE41, fq_qu8_maxpool_ukernel_16c__sse41},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"qu8_maxpool_nhwc_32c__avx2", FQ_ISA_AVX2, fq_qu8_maxpool_ukernel_32c__avx2},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
    {"qu8_maxpool_nhwc_64c__avx512", FQ_ISA_AVX512, fq_qu8_maxpool_ukernel_64c__avx512},
#endif
#if (defined(FQ_KERNELS_AARCH64) || defined(FQ_KERNELS_ARMV7)) && defined(FQ_HAVE_ISA_NEON)
    {"qu8_maxpool_nhwc_16c__neon", FQ_ISA_NEON, fq_qu8_maxpool_ukernel_16c__neon},
#endif
};

static const fq_qu8_avgpool_kernel avg_kernels[] = {
    {"qu8_avgpool_nhwc__scalar", FQ_ISA_SCALAR, fq_qu8_avgpool_ukernel__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_SSE41)
    {"qu8_avgpool_nhwc_4c__sse41", FQ_ISA_SSE41, fq_qu8_avgpool_ukernel_4c__sse41},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"qu8_avgpool_nhwc_8c__avx2", FQ_ISA_AVX2, fq_qu8_avgpool_ukernel_8c__avx2},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
    {"qu8_avgpool_nhwc_16c__avx512", FQ_ISA_AVX512, fq_qu8_avgpool_ukernel_16c__avx512},
#endif
#if (defined(FQ_KERNELS_AARCH64) || defined(FQ_KERNELS_ARMV7)) && defined(FQ_HAVE_ISA_NEON)
    {"qu8_avgpool_nhwc_8c__neon", FQ_ISA_NEON, fq_qu8_avgpool_ukernel_8c__neon},
#endif
};

enum {
    MAX_KERNEL_COUNT = (int)(sizeof(max_kernels) / sizeof(max_kernels[0])),
    AVG_KERNEL_COUNT = (int)(sizeof(avg_kernels) / sizeof(avg_kernels[0])),
};

const fq_qu8_maxpool_kernel *fq_qu8_maxpool_kernels(int *count)
{
    *count = MAX_KERNEL_COUNT;
    return max_kernels;
}

const fq_qu8_avgpool_kernel *fq_qu8_avgpool_kernels(int *count)
{
    *count = AVG_KERNEL_COUNT;
    return avg_kernels;
}

/* The tables list the kernels in cap order, so the last allowed one is the fastest. */
const fq_qu8_maxpool_kernel *fq_qu8_maxpool_select(fq_isa cap)
{
    for (int i = MAX_KERNEL_COUNT - 1; i > 0; i--)
        if (fq_isa_allowed(max_kernels[i].isa, cap))
            return &max_kernels[i];
    return &max_kernels[0];
}

const fq_qu8_avgpool_kernel *fq_qu8_avgpool_select(fq_isa cap)
{
    for (int i = AVG_KERNEL_COUNT - 1; i > 0; i--)
        if (fq_isa_allowed(avg_kernels[i].isa, cap))
            return &avg_kernels[i];
    return &avg_kernels[0];
}

bool fq_qu8_avgpool2d_nhwc_takes(const fq_qu8_pool_params *p)
{
    const fq_pool2d_f32_params *w = &p->window;
    return p->channels_last && w->kernel_h >= 1 && w->kernel_w >= 1 &&
           w->kernel_h <= FQ_QU8_AVGPOOL_MAX_TAPS &&
           w->kernel_h * w->kernel_w <= FQ_QU8_AVGPOOL_MAX_TAPS;
}

/* Taps along one axis of a window starting at `start`: [first, last) lie inside [0, in), and
 * `padded` of them inside [-pad_low, in + pad_high). */
typedef struct axis_taps {
    int64_t start, first, last, padded;
} axis_taps;

static axis_taps taps_along(int64_t start, int64_t kernel, int64_t dilation, int64_t in,
                            int64_t pad_low, int64_t pad_high)
{
    axis_taps a = {.start = start, .first = 0, .last = kernel, .padded = 0};
    while (a.first < kernel && start + a.first * dilation < 0)
        a.first++;
    while (a.last > a.first && start + (a.last - 1) * dilation >= in)
        a.last--;
    for (int64_t k = 0; k < kernel; k++) {
        int64_t at = start + k * dilation;
        a.padded += at >= -pad_low && at < in + pad_high;
    }
    return a;
}

static axis_taps row_taps(const fq_pool2d_f32_params *w, int64_t oh)
{
    return taps_along(oh * w->stride_h - w->pad_top, w->kernel_h, w->dilation_h, w->in_h,
                      w->pad_top, w->pad_bottom);
}

static axis_taps column_taps(const fq_pool2d_f32_params *w, int64_t ow)
{
    return taps_along(ow * w->stride_w - w->pad_left, w->kernel_w, w->dilation_w, w->in_w,
                      w->pad_left, w->pad_right);
}

/* Pointers to the inside taps of one window of image (H x W x channels); returns how many. */
static size_t gather_taps(const fq_qu8_pool_params *p, const uint8_t *image,
                          const axis_taps *rows, const axis_taps *cols, const uint8_t **taps)
{
    const fq_pool2d_f32_params *w = &p->window;
    size_t n = 0;
    for (int64_t kh = rows->first; kh < rows->last; kh++) {
        const uint8_t *row = image + (rows->start + kh * w->dilation_h) * w->in_w * p->channels;
        for (int64_t kw = cols->first; kw < cols->last; kw++)
            taps[n++] = row + (cols->start + kw * w->dilation_w) * p->channels;
    }
    return n;
}

/* Pixels of the row buffer: the padded input row, or as far as the last window reaches. */
static int64_t buffer_pixels(const fq_pool2d_f32_params *w)
{
    int64_t padded = w->pad_left + w->in_w + w->pad_right;
    int64_t reach = (w->out_w - 1) * w->stride_w + (w->kernel_w - 1) * w->dilation_w + 1;
    return padded > reach ? padded : reach;
}

size_t fq_qu8_maxpool2d_nhwc_buffer_size(const fq_qu8_pool_params *p)
{
    size_t bytes = (size_t)(buffer_pixels(&p->window) * p->channels);
    return (bytes + 63) / 64 * 64;
}

/* The maximum over the window's input rows of output row oh, into the buffer's interior. */
static void max_over_rows(const fq_qu8_maxpool_kernel *kernel, const fq_qu8_pool_params *p,
                          const uint8_t *image, int64_t oh, uint8_t *interior)
{
    const fq_pool2d_f32_params *w = &p->window;
    size_t row_bytes = (size_t)(w->in_w * p->channels);
    axis_taps rows = row_taps(w, oh);
    if (rows.last == rows.first) {
        memset(interior, 0, row_bytes);
        return;
    }
    const uint8_t *first = image + (rows.start + rows.first * w->dilation_h) * (int64_t)row_bytes;
    kernel->ukernel(1, row_bytes, (size_t)(rows.last - rows.first),
                    (size_t)w->dilation_h * row_bytes, 0, first, interior);
}

void fq_qu8_maxpool2d_nhwc_rows(const fq_qu8_maxpool_kernel *kernel,
                                const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y,
                                int64_t row_begin, int64_t row_end, uint8_t *buffer)
{
    const fq_pool2d_f32_params *w = &p->window;
    size_t channels = (size_t)p->channels;
    size_t left = (size_t)w->pad_left * channels;
    size_t interior = (size_t)w->in_w * channels;
    size_t total = (size_t)buffer_pixels(w) * channels;
    memset(buffer, 0, left);
    memset(buffer + left + interior, 0, total - left - interior);
    for (int64_t r = row_begin; r < row_end; r++) {
        int64_t b = r / w->out_h, oh = r % w->out_h;
        const uint8_t *image = x + b * w->in_h * w->in_w * p->channels;
        max_over_rows(kernel, p, image, oh, buffer + left);
        kernel->ukernel((size_t)w->out_w, channels, (size_t)w->kernel_w,
                        (size_t)w->dilation_w * channels, (size_t)w->stride_w * channels,
                        buffer, y + r * w->out_w * p->channels);
    }
}

/* multiplier / count when count is a power of two and the quotient is exact and far from the
 * float range's ends (see fq_qu8_avgpool_requant), else 0. */
static float exact_scale(float multiplier, int64_t count)
{
    float magnitude = fabsf(multiplier);
    bool in_range = magnitude >= 0x1p-100f && magnitude <= 0x1p100f;
    if (!in_range || count < 1 || (count & (count - 1)) != 0)
        return 0.0f;
    return multiplier / (float)count;
}

static void average_pixel(const fq_qu8_avgpool_kernel *kernel, const fq_qu8_pool_params *p,
                          const uint8_t *image, const axis_taps *rows, const axis_taps *cols,
                          uint8_t *y)
{
    const uint8_t *taps[FQ_QU8_AVGPOOL_MAX_TAPS];
    size_t n = gather_taps(p, image, rows, cols, taps);
    int64_t count = p->window.count_include_pad ? rows->padded * cols->padded : (int64_t)n;
    if (count == 0) {
        memset(y, fq_qu8_requantize(0.0f, p->y_zero, 0), (size_t)p->channels);
        return;
    }
    fq_qu8_avgpool_requant r = {.multiplier = (double)p->multiplier, .count = (double)count,
                                .scale = exact_scale(p->multiplier, count),
                                .bias = -(int32_t)n * p->x_zero, .y_zero = p->y_zero};
    kernel->ukernel((size_t)p->channels, n, taps, &r, y);
}

void fq_qu8_avgpool2d_nhwc_rows(const fq_qu8_avgpool_kernel *kernel,
                                const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y,
                                int64_t row_begin, int64_t row_end)
{
    const fq_pool2d_f32_params *w = &p->window;
    for (int64_t r = row_begin; r < row_end; r++) {
        int64_t b = r / w->out_h, oh = r % w->out_h;
        const uint8_t *image = x + b * w->in_h * w->in_w * p->channels;
        uint8_t *out = y + r * w->out_w * p->channels;
        axis_taps rows = row_taps(w, oh);
        for (int64_t ow = 0; ow < w->out_w; ow++) {
            axis_taps cols = column_taps(w, ow);
            average_pixel(kernel, p, image, &rows, &cols, out + ow * p->channels);
        }
    }
}
