/* Static int8 2-D convolution through the fast kernels: a plan made once per node (kernel
 * choice, packed weights, workspace size), run on every call.
 *
 * Operands follow kernels/qs8_gemm.h: u8 input with zero point input_zero_point, i8 weights with
 * zero point 0 (OIHW as ONNX stores them; one multiplier per output channel), int32 bias, u8
 * output requantized by fq_qs8_requantize. Results equal, bit for bit, a direct loop that sums
 * (x - zp_x) * w over the taps inside the input exactly and requantizes the same way.
 *
 * The GEMM kernel is fq_qs8_gemm_select's, or a narrower one of the same ISA when the output
 * channels of a group fit its panel (8x16 instead of 8x32 for a 16-channel stem).
 *
 * Paths, chosen from the shape:
 *   pointwise  1x1, stride 1, no padding: per group one GEMM straight on the NHWC input rows;
 *   im2col     every other shape (any groups): per block of output pixels and per group, the
 *              rows of the im2col matrix (K = kernel_h * kernel_w * channels of the group, in
 *              (kh, kw, c) order, padded taps holding the input zero point; with one group
 *              and no dilation a kernel row inside the input is one copy) are built in the
 *              workspace and multiplied by weights packed in OHWI order;
 *   dwconv3x3  depthwise 3x3 (groups = in_channels = out_channels), dilation 1, pads of at most
 *              2: fq_qs8_dwconv3x3_run one output row at a time;
 *   stem       one group, dilation_w 1 and kernel rows of at most 256 bytes (kernel_w *
 *              in_channels: a 3x3 conv on up to 85 channels), when the ISA has a kernel of
 *              kernels/qs8_stemconv.h: per block of up to 64 pixels of one output row, one
 *              kernel call reads each kernel row of the block in the input, pixel after pixel
 *              stride_w * in_channels bytes apart, and stages (with its padding) only a row of
 *              the block that touches the padding or whose last read would pass the end of the
 *              input, in place of im2col.
 * NCHW layers (channels_last false) are transposed to NHWC into the workspace, and the output
 * back: correct, and slower than an NHWC layer.
 *
 * Threads: output pixels are cut into fixed blocks (one output row for dwconv3x3) that tasks
 * take in any order; a block is always computed the same way, so results do not depend on the
 * thread count. */
#ifndef FQ_KERNELS_QS8_CONV_H
#define FQ_KERNELS_QS8_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qs8_dwconv.h"
#include "qs8_gemm.h"
#include "qs8_stemconv.h"

struct fq_threadpool;

/* Geometry and quantization of one layer. Sizes are those of the NCHW tensor whatever the
 * layout; the far padding is what makes out_height and out_width fit. */
typedef struct fq_qs8_conv_params {
    size_t batch;
    size_t in_channels;
    size_t in_height;
    size_t in_width;
    size_t out_channels;
    size_t out_height;
    size_t out_width;
    size_t kernel_h;
    size_t kernel_w;
    size_t stride_h;
    size_t stride_w;
    size_t dilation_h;
    size_t dilation_w;
    size_t pad_top;
    size_t pad_left;
    size_t groups;
    bool channels_last;          /* x and y NHWC; false: NCHW */
    int32_t input_zero_point;    /* 0..255 */
    fq_qs8_requant_params requant;
} fq_qs8_conv_params;

typedef enum fq_qs8_conv_path {
    FQ_QS8_CONV_POINTWISE,
    FQ_QS8_CONV_IM2COL,
    FQ_QS8_CONV_DWCONV3X3,
    FQ_QS8_CONV_STEM,
} fq_qs8_conv_path;

typedef struct fq_qs8_conv_plan {
    fq_qs8_conv_params p;
    fq_qs8_conv_path path;
    const fq_qs8_gemm_kernel *gemm;   /* pointwise, im2col */
    const fq_qs8_dwconv_kernel *dw;   /* dwconv3x3 */
    const fq_qs8_stemconv_kernel *stem; /* stem */
    size_t stem_groups;               /* stem: groups of 4 bytes per kernel row */
    size_t stem_rows_bytes;           /* stem: the kernel-row pointers of a task's scratch */
    size_t stem_segment_bytes;        /* stem: one staged kernel row of a block */
    void *packed;                     /* aligned: one packed block per group, or the dw tile */
    size_t group_packed_size;
    size_t block_pixels;              /* output pixels per task block (GEMM and stem paths) */
    size_t slot_bytes;                /* scratch per concurrent task */
    size_t layout_bytes;              /* NCHW: the NHWC copies of input and output */
    int slots;                        /* concurrent tasks the workspace is sized for */
    size_t workspace;
    char name[96];
} fq_qs8_conv_plan;

/* The requantization multiplier of one output channel, computed the one way every path (and
 * the QLinearConv reference loop) computes it: two IEEE single roundings. */
static inline float fq_qs8_conv_multiplier(float x_scale, float w_scale, float y_scale)
{
    float xw = x_scale * w_scale;
    return xw / y_scale;
}

/* Plans p with weights w (OIHW: out_channels x in_channels / groups x kernel_h x kernel_w),
 * bias (out_channels, or NULL for zeros) and multiplier (out_channels) for kernels under cap,
 * with workspace for `threads` concurrent tasks. Refuses what the packing functions refuse
 * (multipliers that are not finite and positive, accumulators that could overflow int32) with
 * FQ_ERR_INVALID_ARG, and geometry that does not fit with FQ_ERR_SHAPE. */
fq_status fq_qs8_conv_plan_create(const fq_qs8_conv_params *p, const int8_t *w,
                                  const int32_t *bias, const float *multiplier, fq_isa cap,
                                  int threads, fq_qs8_conv_plan **out, fq_error *err);
void fq_qs8_conv_plan_free(fq_qs8_conv_plan *plan);

/* y = conv(x) in the plan's layout; workspace has plan->workspace bytes (64-byte aligned). */
void fq_qs8_conv_run(const fq_qs8_conv_plan *plan, const uint8_t *x, uint8_t *y,
                     void *workspace, struct fq_threadpool *pool);

#endif
