/* Static int8 depthwise 3x3 convolution, NHWC: the kernel family of quantized depthwise layers.
 *
 * Numerics are those of kernels/qs8_gemm.h: uint8 input with zero point zp_x, int8 weights per
 * channel (symmetric), int32 bias, exact int32 sums
 *   acc[c] = b[c] + sum_taps (x[tap][c] - zp_x) * w[tap][c]
 * (nine terms of at most 255 * 128: packing refuses only biases near the int32 limit), and
 * fq_qs8_requantize with one multiplier per channel. Padding reads a row filled with zp_x, so
 * padded taps add exactly zero and the zero-point correction folds into the bias:
 * bias' = b - zp_x * sum_taps w.
 *
 * NHWC keeps the channels of a pixel contiguous, which is what a per-channel SIMD kernel loads;
 * the quantizer inserts layout transforms where a model is NCHW.
 *
 * Packed weights, per tile of 16 channels (the last tile zero-padded):
 *   int32 bias'[16], int8 w[9][16] (tap = 3 * row + column), float multiplier[16]
 * = 272 bytes a tile.
 *
 * Microkernel contract (fq_qs8_dwconv_ukernel): for each of output_pixels pixels p, input[9 p +
 * tap] points at the channels of the input pixel under that tap (or at the zp_x row); the
 * kernel reads exactly `channels` bytes from each pointer and writes `channels` bytes at
 * output + p * output_pixel_stride.
 *
 * Row microkernel contract (fq_qs8_dwconv_row_ukernel): one whole output row from the three
 * input rows under the kernel (fq_qs8_dwconv_row); the kernel finds the taps itself, reading
 * pad_row for columns outside the input, so no pointer array is built. Adjacent output pixels
 * share input columns, which the SIMD row kernels load once and keep in registers. A kernel
 * has a row microkernel or a pixel one; fq_qs8_dwconv3x3_run uses whichever it has. */
#ifndef FQ_KERNELS_QS8_DWCONV_H
#define FQ_KERNELS_QS8_DWCONV_H

#include <stddef.h>
#include <stdint.h>

#include "qs8_gemm.h"

#define FQ_QS8_DWCONV_TILE 16
#define FQ_QS8_DWCONV_TAPS 9
#define FQ_QS8_DWCONV_TILE_BYTES \
    (FQ_QS8_DWCONV_TILE * (2 * sizeof(int32_t) + FQ_QS8_DWCONV_TAPS))

typedef void (*fq_qs8_dwconv_ukernel)(size_t channels, size_t output_pixels,
                                      const uint8_t *const *input, const void *packed_w,
                                      uint8_t *output, size_t output_pixel_stride,
                                      const fq_qs8_requant_params *params);

/* One output row of a depthwise 3x3 layer. Input column ix of kernel row r is rows[r] +
 * ix * pixel_step[r] when ix < in_width, else pad_row; a padded kernel row is pad_row with
 * pixel_step 0. Output pixel ox reads columns ox * stride + q - pad_left, q = 0..2. */
typedef struct fq_qs8_dwconv_row {
    size_t channels;
    size_t out_width;
    size_t in_width;
    size_t stride;          /* >= 1 */
    size_t pad_left;        /* <= 2 */
    const uint8_t *rows[3];
    size_t pixel_step[3];   /* channels, or 0 */
    const uint8_t *pad_row; /* channels bytes of the input zero point */
} fq_qs8_dwconv_row;

typedef void (*fq_qs8_dwconv_row_ukernel)(const fq_qs8_dwconv_row *row, const void *packed_w,
                                          uint8_t *output, const fq_qs8_requant_params *params);

typedef struct fq_qs8_dwconv_kernel {
    const char *name;  /* such as "qs8_dwconv3x3_16c__avx512" */
    fq_isa isa;
    fq_qs8_dwconv_ukernel ukernel;   /* NULL for a row kernel */
    fq_qs8_dwconv_row_ukernel row;   /* NULL for a pixel kernel */
} fq_qs8_dwconv_kernel;

/* Geometry of one depthwise 3x3 layer, NHWC. */
typedef struct fq_qs8_dwconv_shape {
    size_t batch;
    size_t in_height;
    size_t in_width;
    size_t channels;
    size_t stride_h;         /* >= 1 */
    size_t stride_w;         /* >= 1 */
    size_t pad_top;          /* <= 2; the bottom and right padding follow from the output size */
    size_t pad_left;         /* <= 2 */
    size_t out_height;
    size_t out_width;
    int32_t input_zero_point;
} fq_qs8_dwconv_shape;

/* Every kernel compiled in, the portable one first. */
const fq_qs8_dwconv_kernel *fq_qs8_dwconv3x3_kernels(int *count);
/* The fastest kernel allowed under cap; never NULL. */
const fq_qs8_dwconv_kernel *fq_qs8_dwconv3x3_select(fq_isa cap);

size_t fq_qs8_dwconv3x3_packed_size(size_t channels);

/* Packs w (3 x 3 x channels, HWC: w[(3 * row + column) * channels + c]), bias (or NULL) and
 * multiplier. Refuses what fq_qs8_gemm_pack refuses. */
fq_status fq_qs8_dwconv3x3_pack(size_t channels, const int8_t *w, const int32_t *bias,
                                int32_t input_zero_point, const float *multiplier, void *packed,
                                fq_error *err);

/* Checks a shape: positive sizes and strides, pads of at most 2, and an output size that every
 * tap window starts inside the padded input for. */
fq_status fq_qs8_dwconv3x3_check_shape(const fq_qs8_dwconv_shape *shape, fq_error *err);

/* Runs a checked shape: input batch x in_height x in_width x channels, output batch x
 * out_height x out_width x channels. pad_row is scratch of `channels` bytes. */
void fq_qs8_dwconv3x3_run(const fq_qs8_dwconv_kernel *kernel, const fq_qs8_dwconv_shape *shape,
                          const uint8_t *input, const void *packed, uint8_t *output,
                          uint8_t *pad_row, const fq_qs8_requant_params *params);

void fq_qs8_dwconv3x3_ukernel_16c__scalar(size_t channels, size_t output_pixels,
                                          const uint8_t *const *input, const void *packed_w,
                                          uint8_t *output, size_t output_pixel_stride,
                                          const fq_qs8_requant_params *params);
void fq_qs8_dwconv3x3_ukernel_16c__avx2(size_t channels, size_t output_pixels,
                                        const uint8_t *const *input, const void *packed_w,
                                        uint8_t *output, size_t output_pixel_stride,
                                        const fq_qs8_requant_params *params);
void fq_qs8_dwconv3x3_ukernel_16c__avx512(size_t channels, size_t output_pixels,
                                          const uint8_t *const *input, const void *packed_w,
                                          uint8_t *output, size_t output_pixel_stride,
                                          const fq_qs8_requant_params *params);
void fq_qs8_dwconv3x3_ukernel_16c__neon(size_t channels, size_t output_pixels,
                                        const uint8_t *const *input, const void *packed_w,
                                        uint8_t *output, size_t output_pixel_stride,
                                        const fq_qs8_requant_params *params);

void fq_qs8_dwconv3x3_row_ukernel_16c__scalar(const fq_qs8_dwconv_row *row,
                                              const void *packed_w, uint8_t *output,
                                              const fq_qs8_requant_params *params);
void fq_qs8_dwconv3x3_row_ukernel_16c__avx512(const fq_qs8_dwconv_row *row,
                                              const void *packed_w, uint8_t *output,
                                              const fq_qs8_requant_params *params);
void fq_qs8_dwconv3x3_row_ukernel_16c__avx512vnni(const fq_qs8_dwconv_row *row,
                                                  const void *packed_w, uint8_t *output,
                                                  const fq_qs8_requant_params *params);

#endif
