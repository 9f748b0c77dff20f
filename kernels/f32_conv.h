/* fp32 2-D convolution through the fast kernels: a plan made once per node (kernel choice,
 * packed weights, workspace size), run on every call.
 *
 * Paths, chosen from the shape:
 *   pointwise  1x1, stride 1, no padding: per group one GEMM (f32_gemm.h) of the packed weights
 *              with the NCHW input read as in_channels x HW;
 *   taps       dense, undilated KxK (not 1x1) convolutions of equal strides 1 or 2 that
 *              Winograd does not take, with any number of input channels (the 3-channel
 *              stem included; fp16 weights from 8 on), in bands of output rows: a task copies
 *              the input rows of its band into zero-padded planes in its part of the
 *              workspace (one per stride phase for stride 2; a band's planes stay in L2),
 *              where every tap's row of X is one shifted run, and the offset-table form of the
 *              GEMM kernel (f32_gemm.h) sums every channel and tap of a tile in one call per
 *              depth block of at most 256 rows, each row read where an offset table made with
 *              the plan points (no im2col; C is loaded and stored once per block). Panels of
 *              nr columns follow the output rows when a row is whole panels, else run over the
 *              planes' width; a panel inside one row summed in one block is stored straight
 *              into the output, others are summed in a tile and scattered without the junk
 *              columns;
 *   winograd   dense 3x3, stride 1, undilated, pads of at most 1, fp32 weights, with the
 *              channels and width where it was measured to win (f32_conv.c) and transforms of
 *              the GEMM kernel's ISA (AVX-512, AVX2, SSE4.1, scalar; f32_winograd.h):
 *              F(4x4, 3x3), the filters transformed once and packed as 36 GEMM weight
 *              matrices (out_channels x in_channels, zero bias); a task takes a band of tiles
 *              (linear over the tile grid), transforms its inputs into 36 matrices of
 *              in_channels x band in its part of the workspace, runs the 36 GEMMs into as many
 *              products, and transforms those into the output with the bias and activation,
 *              cropping the edge tiles; its rounding errors are a few times a direct sum's
 *              (tests/kernels/test_f32_winograd.c);
 *   im2col     every other grouped or dense convolution: the GEMM driver builds each kc x nr
 *              panel of the im2col matrix straight into its workspace;
 *   depthwise  one input and one output channel per group: the 3x3 stride-1 and stride-2 SIMD
 *              kernels of f32_dwconv.h when dilation is 1, else the reference plane loop; the
 *              planes are spread over threads.
 * Every output element is computed by one thread in a fixed order, so results do not depend on
 * the thread count.
 *
 * fp16 weights (fq_f32_conv_plan_create_f16): the pointwise, taps and im2col paths keep them
 * fp16 in the packed panels and run the GEMM kernels' fp16-weight twins (f32_gemm.h), which
 * widen them in the microkernel; the bias stays fp32. Depthwise weights are few and are widened
 * to fp32 once, when the plan is made. On the Winograd path the fp16 weights are
 * widened once too and transformed as fp32 ones (its packed filters are fp32: the plan holds 8
 * times the fp16 weight bytes there). Either way the output equals that of the fp32 plan
 * (fq_f32_conv_plan_create) on the fp16-rounded weights bit for bit. */
#ifndef FQ_KERNELS_F32_CONV_H
#define FQ_KERNELS_F32_CONV_H

#include "f32_dwconv.h"
#include "f32_gemm.h"
#include "f32_winograd.h"
#include "ref/f32_conv2d_ref.h"

struct fq_threadpool;

typedef enum fq_f32_conv_path {
    FQ_F32_CONV_POINTWISE,
    FQ_F32_CONV_IM2COL,
    FQ_F32_CONV_DEPTHWISE,
    FQ_F32_CONV_TAPS,
    FQ_F32_CONV_WINOGRAD,
} fq_f32_conv_path;

typedef struct fq_f32_conv_plan {
    fq_conv2d_f32_params p;        /* act.slopes is set per run */
    fq_f32_conv_path path;
    const fq_f32_gemm_kernel *gemm; /* pointwise, im2col */
    fq_f32_gemm_packed *packed;     /* one per group */
    const fq_f32_dwconv_kernel *dw; /* depthwise 3x3 kernel, or NULL: reference planes */
    float *dw_weights;              /* depthwise: a copy of the weights and the bias */
    float *dw_bias;
    fq_f32_gemm_kernel tap_kernel;  /* taps: the GEMM kernel with kc = one depth block */
    ptrdiff_t *tap_offsets;         /* taps: where row k of X starts in the planes */
    int64_t band_rows;              /* taps: output rows a task sums at once */
    int64_t padded_h, padded_w;     /* taps: a padded phase plane of one band */
    int64_t plane_stride;           /* taps: floats between padded planes */
    const fq_f32_winograd_kernel *wino; /* winograd: the input and output transforms */
    float *wino_bias;               /* winograd: out_channels biases */
    int64_t wino_tiles;             /* winograd: tiles a band transforms at once */
    int slots;                      /* concurrent tasks the workspace is sized for */
    size_t workspace;
    char name[64];
} fq_f32_conv_plan;

/* Plans p with weights w (OIHW) and bias (NULL: zero) for kernels under cap, with workspace for
 * `threads` threads. */
fq_status fq_f32_conv_plan_create(const fq_conv2d_f32_params *p, const float *w,
                                  const float *bias, fq_isa cap, int threads,
                                  fq_f32_conv_plan **out, fq_error *err);
/* The same without the Winograd path: every output a direct sum over channels and taps, as
 * fp16-weight plans compute it. */
fq_status fq_f32_conv_plan_create_direct(const fq_conv2d_f32_params *p, const float *w,
                                         const float *bias, fq_isa cap, int threads,
                                         fq_f32_conv_plan **out, fq_error *err);
/* The same with fp16 weights (IEEE binary16 bit patterns, OIHW) and an fp32 bias. */
fq_status fq_f32_conv_plan_create_f16(const fq_conv2d_f32_params *p, const uint16_t *w,
                                      const float *bias, fq_isa cap, int threads,
                                      fq_f32_conv_plan **out, fq_error *err);
void fq_f32_conv_plan_free(fq_f32_conv_plan *plan);

/* y = conv(x); slopes are the PRELU slopes (slope_count values) or NULL. workspace has
 * plan->workspace bytes. */
void fq_f32_conv_run(const fq_f32_conv_plan *plan, const float *x, const float *slopes,
                     int64_t slope_count, float *y, void *workspace,
                     struct fq_threadpool *pool);

/* True when fq_f32_conv_run_add runs the plan with the residual added in its GEMM tiles: one
 * group through fq_f32_gemm_run (1x1 layers below FQ_F32_POINTWISE_MIN_PIXELS, im2col
 * layers) on a kernel with adds_residual (AVX-512), activation other than SIGMOID. The
 * driver's own loop for other kernels made MobileFaceNet's 28x28 blocks slower than a
 * separate Add. */
bool fq_f32_conv_adds(const fq_f32_conv_plan *plan);

/* y = conv(x) + r, r shaped like y: a residual Add fused into the convolution before it,
 * each element fl(conv + r) as the Add computes it (see fq_f32_gemm_run_add). The plan
 * passes fq_f32_conv_adds. */
void fq_f32_conv_run_add(const fq_f32_conv_plan *plan, const float *x, const float *slopes,
                         int64_t slope_count, const float *r, float *y, void *workspace,
                         struct fq_threadpool *pool);

#endif
