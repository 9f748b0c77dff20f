/* Static int8 convolution of layers with few input channels (a network's stem, 3 -> 16 at full
 * resolution, and the narrow 3x3 layers after it), NHWC, without im2col: the kernel reads the
 * input where it lies.
 *
 * A kernel row of such a layer, kernel_w taps of in_channels bytes in (kw, c) order, is one
 * contiguous run of the NHWC input. With kernel_w * in_channels <= FQ_QS8_STEMCONV_MAX_ROW_BYTES
 * it is read as `groups` groups of 4 bytes (the run rounded up to 4; the bytes past the run
 * meet zero weights) and multiplied into 16 output channels at a time by vpdpbusd, four
 * products per int32 lane.
 * Numerics are those of kernels/qs8_gemm.h (exact int32 sums, fq_qs8_requantize).
 *
 * Microkernel contract (fq_qs8_stemconv_ukernel): for each of `pixels` output pixels p,
 * rows[p * kernel_h + r] points at groups * 4 readable bytes, the taps of kernel row r (the
 * input zero point at padded taps); the kernel writes `channels` bytes at
 * output + p * output_stride.
 *
 * Packed weights, per panel of 16 output channels (the last panel zero-padded):
 *   int32 bias'[16]   b - zp_x * sum of the channel's weights
 *   int8  w[kernel_h][groups][16][4]
 *   float multiplier[16] */
#ifndef FQ_KERNELS_QS8_STEMCONV_H
#define FQ_KERNELS_QS8_STEMCONV_H

#include <stddef.h>
#include <stdint.h>

#include "qs8_gemm.h"

#define FQ_QS8_STEMCONV_PANEL 16
/* The longest kernel row (kernel_w * in_channels bytes) and the tallest kernel the path takes;
 * they bound the per-task scratch of row pointers and staged rows. */
#define FQ_QS8_STEMCONV_MAX_ROW_BYTES 128
#define FQ_QS8_STEMCONV_MAX_KERNEL_H 16

typedef void (*fq_qs8_stemconv_ukernel)(size_t pixels, size_t kernel_h, size_t groups,
                                        const uint8_t *const *rows, const void *packed_w,
                                        size_t channels, uint8_t *output, size_t output_stride,
                                        const fq_qs8_requant_params *params);

typedef struct fq_qs8_stemconv_kernel {
    const char *name;  /* such as "qs8_stemconv_8x16c4__avx512vnni" */
    fq_isa isa;
    fq_qs8_stemconv_ukernel ukernel;
} fq_qs8_stemconv_kernel;

/* Every kernel compiled in, the portable one first. */
const fq_qs8_stemconv_kernel *fq_qs8_stemconv_kernels(int *count);
/* The fastest SIMD kernel allowed under cap, or NULL when there is none (the GEMM paths are
 * then faster than the portable kernel). */
const fq_qs8_stemconv_kernel *fq_qs8_stemconv_select(fq_isa cap);

/* Groups of 4 bytes of one kernel row. */
size_t fq_qs8_stemconv_groups(size_t kernel_w, size_t in_channels);
size_t fq_qs8_stemconv_packed_size(size_t out_channels, size_t kernel_h, size_t groups);

/* Packs w (OIHW: out_channels x in_channels x kernel_h x kernel_w), bias (or NULL) and
 * multiplier. Refuses multipliers that are not finite and positive, and biases whose
 * accumulator could overflow int32, with FQ_ERR_INVALID_ARG. */
fq_status fq_qs8_stemconv_pack(size_t out_channels, size_t in_channels, size_t kernel_h,
                               size_t kernel_w, const int8_t *w, const int32_t *bias,
                               int32_t input_zero_point, const float *multiplier, void *packed,
                               fq_error *err);

void fq_qs8_stemconv_ukernel_1x16c4__scalar(size_t pixels, size_t kernel_h, size_t groups,
                                            const uint8_t *const *rows, const void *packed_w,
                                            size_t channels, uint8_t *output,
                                            size_t output_stride,
                                            const fq_qs8_requant_params *params);
void fq_qs8_stemconv_ukernel_8x16c4__avx512vnni(size_t pixels, size_t kernel_h, size_t groups,
                                                const uint8_t *const *rows,
                                                const void *packed_w, size_t channels,
                                                uint8_t *output, size_t output_stride,
                                                const fq_qs8_requant_params *params);

#endif
