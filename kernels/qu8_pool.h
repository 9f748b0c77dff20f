/* u8 max and average pooling on NHWC tensors, one output pixel per microkernel call.
 *
 * Max kernels take taps at a fixed step and pixels at a fixed step (in codes), for taps >= 1:
 *
 *   maxpool(pixels, channels, taps, tap_step, pixel_step, x, y):
 *       y[o * channels + c] = max over t < taps of x[o * pixel_step + t * tap_step + c]
 *
 * Average kernels take one output pixel per call, its window handed over as pointers to its
 * taps inside the input, each the start of a run of `channels` codes (the pixel's channels are
 * contiguous in NHWC), so one kernel serves every kernel size, stride and padding:
 *
 *   avgpool(channels, taps, x, r, y):  s = r->bias + sum over t < taps of x[t][c]
 *                                      y[c] = fq_qu8_requantize((float)((double)s
 *                                             * r->multiplier / r->count), r->y_zero, 0)
 *
 * which are the numerics of ref/qu8_pool2d_ref.h, with r->bias = -taps * x_zero (the sum of
 * x - x_zero over the taps). Every kernel gives the bytes of fq_qu8_maxpool2d_ref and
 * fq_qu8_avgpool2d_ref: the integer sums are exact, and the SIMD kernels convert, multiply and
 * divide in double and round to float once, as the reference does.
 *
 * The drivers compute output rows [row_begin, row_end) of the N * out_h rows of a pooling of
 * fq_qu8_pool_params (channels_last); rows do not share output bytes, so they can run on
 * different threads in any order.
 *
 * The max driver pools an output row in two kernel calls through a row buffer: first the
 * maximum over the window's input rows inside the input, one "pixel" of in_w * channels codes
 * with the rows as taps, into the buffer between zero borders as wide as the padding; then the
 * maximum over kernel_w pixels of the buffer for every output pixel. Codes are never below 0,
 * so zero padding changes no maximum, and a window without taps gives 0, as the reference
 * does. */
#ifndef FQ_KERNELS_QU8_POOL_H
#define FQ_KERNELS_QU8_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/cpu.h"
#include "ref/qu8_pool2d_ref.h"

/* The requantization of one output pixel of an average pool.
 *
 * When count is a power of two and |multiplier| lies in [2^-100, 2^100], scale is
 * multiplier / count, exactly, and (float)s * scale is the reference's average bit for bit: s
 * is exact in float, the product s * multiplier / count is computed exactly in double before its
 * one rounding to float, and the float product rounds the same exact value once. SIMD kernels
 * then multiply once in float; otherwise scale is 0 and they divide in double. */
typedef struct fq_qu8_avgpool_requant {
    double multiplier; /* (double) of the float x_scale / y_scale */
    double count;      /* what the sum is divided by; >= 1 */
    float scale;       /* multiplier / count when exact as described, else 0 */
    int32_t bias;      /* -taps * x_zero */
    int32_t y_zero;
} fq_qu8_avgpool_requant;

typedef void (*fq_qu8_maxpool_ukernel)(size_t pixels, size_t channels, size_t taps,
                                       size_t tap_step, size_t pixel_step, const uint8_t *x,
                                       uint8_t *y);
typedef void (*fq_qu8_avgpool_ukernel)(size_t channels, size_t taps, const uint8_t *const *x,
                                       const fq_qu8_avgpool_requant *r, uint8_t *y);

typedef struct fq_qu8_maxpool_kernel {
    const char *name;  /* such as "qu8_maxpool_nhwc_64c__avx512" */
    fq_isa isa;
    fq_qu8_maxpool_ukernel ukernel;
} fq_qu8_maxpool_kernel;

typedef struct fq_qu8_avgpool_kernel {
    const char *name;  /* such as "qu8_avgpool_nhwc_16c__avx512" */
    fq_isa isa;
    fq_qu8_avgpool_ukernel ukernel;
} fq_qu8_avgpool_kernel;

/* Taps an average pool window may have for its driver (kernel_h * kernel_w); max pooling
 * takes any window. */
enum { FQ_QU8_AVGPOOL_MAX_TAPS = 256 };

/* Every kernel compiled in, the portable one first. */
const fq_qu8_maxpool_kernel *fq_qu8_maxpool_kernels(int *count);
const fq_qu8_avgpool_kernel *fq_qu8_avgpool_kernels(int *count);
/* The fastest kernel allowed under cap; never NULL. */
const fq_qu8_maxpool_kernel *fq_qu8_maxpool_select(fq_isa cap);
const fq_qu8_avgpool_kernel *fq_qu8_avgpool_select(fq_isa cap);

/* Whether the average pool driver takes p (channels_last, window within the tap limit). */
bool fq_qu8_avgpool2d_nhwc_takes(const fq_qu8_pool_params *p);

/* Bytes of the max driver's row buffer, a multiple of 64. */
size_t fq_qu8_maxpool2d_nhwc_buffer_size(const fq_qu8_pool_params *p);
/* buffer holds fq_qu8_maxpool2d_nhwc_buffer_size bytes. */
void fq_qu8_maxpool2d_nhwc_rows(const fq_qu8_maxpool_kernel *kernel,
                                const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y,
                                int64_t row_begin, int64_t row_end, uint8_t *buffer);
/* p must satisfy fq_qu8_avgpool2d_nhwc_takes. */
void fq_qu8_avgpool2d_nhwc_rows(const fq_qu8_avgpool_kernel *kernel,
                                const fq_qu8_pool_params *p, const uint8_t *x, uint8_t *y,
                                int64_t row_begin, int64_t row_end);

void fq_qu8_maxpool_ukernel__scalar(size_t pixels, size_t channels, size_t taps,
                                    size_t tap_step, size_t pixel_step, const uint8_t *x,
                                    uint8_t *y);
void fq_qu8_maxpool_ukernel_16c__sse41(size_t pixels, size_t channels, size_t taps,
                                       size_t tap_step, size_t pixel_step, const uint8_t *x,
                                       uint8_t *y);
void fq_qu8_maxpool_ukernel_32c__avx2(size_t pixels, size_t channels, size_t taps,
                                      size_t tap_step, size_t pixel_step, const uint8_t *x,
                                      uint8_t *y);
void fq_qu8_maxpool_ukernel_64c__avx512(size_t pixels, size_t channels, size_t taps,
                                        size_t tap_step, size_t pixel_step, const uint8_t *x,
                                        uint8_t *y);
void fq_qu8_maxpool_ukernel_16c__neon(size_t pixels, size_t channels, size_t taps,
                                      size_t tap_step, size_t pixel_step, const uint8_t *x,
                                      uint8_t *y);

void fq_qu8_avgpool_ukernel__scalar(size_t channels, size_t taps, const uint8_t *const *x,
                                    const fq_qu8_avgpool_requant *r, uint8_t *y);
void fq_qu8_avgpool_ukernel_4c__sse41(size_t channels, size_t taps, const uint8_t *const *x,
                                      const fq_qu8_avgpool_requant *r, uint8_t *y);
void fq_qu8_avgpool_ukernel_8c__avx2(size_t channels, size_t taps, const uint8_t *const *x,
                                     const fq_qu8_avgpool_requant *r, uint8_t *y);
void fq_qu8_avgpool_ukernel_16c__avx512(size_t channels, size_t taps, const uint8_t *const *x,
                                        const fq_qu8_avgpool_requant *r, uint8_t *y);
void fq_qu8_avgpool_ukernel_8c__neon(size_t channels, size_t taps, const uint8_t *const *x,
                                     const fq_qu8_avgpool_requant *r, uint8_t *y);

#endif
