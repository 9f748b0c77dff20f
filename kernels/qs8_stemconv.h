/* Static int8 convolution of layers with few input channels (a network's stem, 3 -> 16 at full
 * resolution, the narrow 3x3 layers after it, and 3x3 layers and heads of up to 85 channels),
 * NHWC, without im2col: the kernel reads the input where it lies.
 *
 * A kernel row of such a layer, kernel_w taps of in_channels bytes in (kw, c) order, is one
 * contiguous run of the NHWC input. With kernel_w * in_channels <= FQ_QS8_STEMCONV_MAX_ROW_BYTES
 * it is read as `groups` groups of 4 bytes (the run rounded up to 4, then to the tail split
 * below; the bytes past the run meet zero weights) and multiplied into the output channels by
 * vpdpbusd, four products per int32 lane.
 * Numerics are those of kernels/qs8_gemm.h (exact int32 sums, fq_qs8_requantize).
 *
 * Microkernel contract (fq_qs8_stemconv_ukernel): for each of `pixels` output pixels p and
 * each kernel row r < kernel_h, rows[r] + p * pixel_step points at groups * 4 readable bytes,
 * the taps of kernel row r of pixel p (the input zero point at padded taps): a row of the
 * NHWC input read in place (pixel_step = stride_w * in_channels), or a copy of it with its
 * padding; the kernel writes `channels` bytes at output + p * output_stride.
 *
 * Packed weights: out_channels / 16 full panels of 16 channels, then, when out_channels is not
 * a multiple of 16, one tail panel of the t = out_channels % 16 channels left. A panel is
 *   int32 bias'[16]                       b - zp_x * sum of the channel's weights
 *   int8  w[kernel_h][groups / S][16][4]
 *   float multiplier[16]                  the channel's, at index j (1.0 past the channels)
 * with S the panel's split (fq_qs8_stemconv_split): 1 for full panels, and for a tail of t <= 8
 * channels 2, 4 or 8 (t <= 8, 4, 2), so that a tail's 16 lanes hold t channels x S groups of
 * 4 bytes and one vpdpbusd covers S groups of the row (the S groups broadcast to every channel
 * of the lane set). Lane l of a split panel is channel l / S, group q = l % S of each step of S
 * groups: w[r][s][l][b] weighs byte 4 * (s * S + q) + b of kernel row r; the S lanes of a
 * channel are summed at the end, and bias' sits in its first lane (zeros in the others). */
#ifndef FQ_KERNELS_QS8_STEMCONV_H
#define FQ_KERNELS_QS8_STEMCONV_H

#include <stddef.h>
#include <stdint.h>

#include "qs8_gemm.h"

#define FQ_QS8_STEMCONV_PANEL 16
/* The longest kernel row (kernel_w * in_channels bytes) and the tallest kernel the path takes;
 * they bound the per-task scratch of row pointers and staged rows. */
#define FQ_QS8_STEMCONV_MAX_ROW_BYTES 256
#define FQ_QS8_STEMCONV_MAX_KERNEL_H 16

typedef void (*fq_qs8_stemconv_ukernel)(size_t pixels, size_t kernel_h, size_t groups,
                                        const uint8_t *const *rows, size_t pixel_step,
                                        const void *packed_w,
                                        size_t channels, uint8_t *output, size_t output_stride,
                                        const fq_qs8_requant_params *params);

typedef struct fq_qs8_stemconv_kernel {
    const char *name;  /* such as "qs8_stemconv_8x48c4__avx512vnni" */
    fq_isa isa;
    fq_qs8_stemconv_ukernel ukernel;
} fq_qs8_stemconv_kernel;

/* Every kernel compiled in, the portable one first. */
const fq_qs8_stemconv_kernel *fq_qs8_stemconv_kernels(int *count);
/* The fastest SIMD kernel allowed under cap, or NULL when there is none (the GEMM paths are
 * then faster than the portable kernel). */
const fq_qs8_stemconv_kernel *fq_qs8_stemconv_select(fq_isa cap);

/* The split S of the tail panel of out_channels channels (1 when there is none). */
size_t fq_qs8_stemconv_split(size_t out_channels);
/* Groups of 4 bytes of one kernel row: the run rounded up to 4 bytes, then to the split. */
size_t fq_qs8_stemconv_groups(size_t kernel_w, size_t in_channels, size_t out_channels);
size_t fq_qs8_stemconv_packed_size(size_t out_channels, size_t kernel_h, size_t groups);

/* Bytes of one panel of split `split` (1 for a full panel). */
static inline size_t fq_qs8_stemconv_panel_bytes(size_t kernel_h, size_t groups, size_t split)
{
    return FQ_QS8_STEMCONV_PANEL * (2 * sizeof(int32_t) + kernel_h * groups / split * 4);
}

/* Packs w (OIHW: out_channels x in_channels x kernel_h x kernel_w), bias (or NULL) and
 * multiplier. Refuses multipliers that are not finite and positive, and biases whose
 * accumulator could overflow int32, with FQ_ERR_INVALID_ARG. */
fq_status fq_qs8_stemconv_pack(size_t out_channels, size_t in_channels, size_t kernel_h,
                               size_t kernel_w, const int8_t *w, const int32_t *bias,
                               int32_t input_zero_point, const float *multiplier, void *packed,
                               fq_error *err);

void fq_qs8_stemconv_ukernel_1x16c4__scalar(size_t pixels, size_t kernel_h, size_t groups,
                                            const uint8_t *const *rows, size_t pixel_step,
                                            const void *packed_w, size_t channels, uint8_t *output,
                                            size_t output_stride,
                                            const fq_qs8_requant_params *params);
void fq_qs8_stemconv_ukernel_8x48c4__avx512vnni(size_t pixels, size_t kernel_h, size_t groups,
                                                const uint8_t *const *rows, size_t pixel_step,
                                                const void *packed_w, size_t channels,
                                                uint8_t *output, size_t output_stride,
                                                const fq_qs8_requant_params *params);

#endif
