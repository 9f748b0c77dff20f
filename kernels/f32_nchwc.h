/* fp32 chains of pointwise -> depthwise 3x3 [-> max pool 2x2] stages run in a channel-blocked
 * layout (NCHW16c) between their stages.
 *
 * Why: a 1x1 convolution of NCHW planes reads a chunk of every input plane for each chunk of
 * output, so on large planes (yunet's 320x320x16 and 160x160x64) its input and output are
 * dozens of short streams that the caches and prefetchers serve badly. In NCHW16c, block b of
 * 16 channels holds pixel after pixel the 16 channels' values, x[b][p][c % 16], and every layer
 * reads and writes a few long streams. bench/nchwc_layout_bench measured the layout alone at
 * 0.77-0.86 of the NCHW 1x1 time and 0.67-0.69 of the depthwise time on those planes.
 *
 * A chain is one fused session step (op_conv.c builds it from consecutive nodes): stage s is
 *   pw   a 1x1, stride-1, unpadded, ungrouped convolution, in_channels -> mid_channels, or, for
 *        the first stage only, a stem: a dense 3x3 convolution of stride 1 or 2, pads of at
 *        most 1, from at most FQ_F32_NCHWC_STEM_CHANNELS input channels;
 *   dw   (optional) a depthwise 3x3 over the mid channels, dilation 1: stride 1 with pads of 1
 *        keeping the size, or stride 2 with pads of at most 1;
 *   pool (optional, after dw) a max pool 2x2, stride 2, no padding, over even planes.
 * The chain reads its input in NCHW and writes its last stage's output in NCHW; everything
 * between is NCHW16c rows in its workspace (mid channels are multiples of 16). It runs depth
 * first: each stage keeps a ring of 4 middle rows (pointwise output) that its depthwise kernel
 * reads, and every output row a stage finishes (depthwise, pooled or pointwise) goes straight
 * into the next stage's pointwise kernel, so neither the middle tensors nor the tensors
 * between stages are ever stored: the workspace is a few rows per stage and task.
 *
 * Numerics: every pointwise output sums its channels in order from the bias by multiply-adds,
 * every depthwise output its taps kh-major from the bias (padded columns as multiply-adds of
 * zero, padded rows skipped), every stem output its channels and taps (c, kh, kw) in order from
 * the bias, padded taps as multiply-adds of zero (the taps path of f32_conv.h), and every pool
 * window compares as f32_maxpool_body.h does; the
 * activations are those of f32_gemm.h. That is what the AVX-512 GEMM, depthwise and max pool
 * kernels compute, so a chain's output equals running its nodes one by one under an AVX-512
 * cap bit for bit, for every thread count (tests/kernels/test_f32_nchwc.c).
 *
 * Threads: task t of T takes the chain's output rows [t * R / T, (t + 1) * R / T) (R its
 * output height) and every row of every stage they read, so rows near the band's edges are
 * computed by both tasks that need them (the same way, so the bytes do not change).
 *
 * Activations: NONE, RELU, CLIP, LEAKY_RELU and PRELU (one slope, or one per channel) on pw and
 * dw; SIGMOID is refused. */
#ifndef FQ_KERNELS_F32_NCHWC_H
#define FQ_KERNELS_F32_NCHWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f32_gemm.h"
#include "facequant/cpu.h"
#include "ref/f32_conv2d_ref.h"
#include "ref/f32_pool2d_ref.h"

struct fq_threadpool;

enum { FQ_F32_NCHWC_BLOCK = 16, FQ_F32_NCHWC_MAX_STAGES = 16, FQ_F32_NCHWC_STEM_CHANNELS = 4 };

/* One pointwise row (or run of pixels): output block ob, pixel p of y (y + ob * y_block +
 * p * 16) = bias + sum over k of w[ob][k] * x(k, p), then act, where input channel k of pixel
 * p is at x + (k / 16) * x_block + (k % 16) * x_lane + p * x_pixel (NCHW: x_block = 16 * plane,
 * x_lane = plane, x_pixel = 1; NCHW16c: x_block = 16 * plane, x_lane = 1, x_pixel = 16), or,
 * with an offset table, at x + offsets[k] + p * x_pixel (a stem's taps over padded rows). */
typedef struct fq_f32_nchwc_pw_args {
    const float *x;
    ptrdiff_t x_block, x_lane, x_pixel;
    const ptrdiff_t *offsets; /* NULL: the channel blocks above */
    int64_t k;          /* input channels */
    int64_t pixels;
    int64_t out_blocks; /* output channels / 16 */
    const float *w;     /* [out_blocks][k][16] */
    const float *bias;  /* [out_blocks * 16] */
    float *y;
    ptrdiff_t y_block;
    const fq_f32_gemm_params *act; /* PRELU: act->slopes holds one slope per output channel */
} fq_f32_nchwc_pw_args;

/* The kernels of one ISA:
 *   pw        fq_f32_nchwc_pw_args above;
 *   dw_row    output row `out` (w pixels of one block) of a 3x3 depthwise, stride 1, pad 1, from
 *             the block's input rows rows[0..2] (the rows above, at and below; NULL: padding),
 *             weights wt[9][16] and bias[16]; slopes[16] for PRELU (else unused);
 *   pool_row  out (w / 2 pixels of one block) = 2x2 stride-2 max of rows r0 and r1 (w pixels);
 *   to_nchw   channel c < 16 of the w pixels of src (one block) to y + c * plane + [0, w);
 *   dw_row_s2 output row `out` (out_w pixels) of a 3x3 depthwise at stride 2, input columns
 *             2 * ow - pad_left + kw of rows[kh] (in_w pixels; zero outside, NULL rows
 *             skipped), summed as dw_row sums. */
typedef struct fq_f32_nchwc_kernel {
    const char *name; /* "f32_nchwc16__avx512" */
    fq_isa isa;
    void (*pw)(const fq_f32_nchwc_pw_args *a);
    void (*dw_row)(const float *const rows[3], int64_t w, const float *wt, const float *bias,
                   const fq_f32_gemm_params *act, const float *slopes, float *out);
    void (*pool_row)(const float *r0, const float *r1, int64_t w, float *out);
    void (*to_nchw)(const float *src, int64_t w, float *y, ptrdiff_t plane);
    void (*dw_row_s2)(const float *const rows[3], int64_t in_w, int64_t out_w,
                      int64_t pad_left, const float *wt, const float *bias,
                      const fq_f32_gemm_params *act, const float *slopes, float *out);
} fq_f32_nchwc_kernel;

/* The kernels allowed under cap, or NULL (only AVX-512 has them). */
const fq_f32_nchwc_kernel *fq_f32_nchwc_select(fq_isa cap);

void fq_f32_nchwc_pw__avx512(const fq_f32_nchwc_pw_args *a);
void fq_f32_nchwc_dw_row__avx512(const float *const rows[3], int64_t w, const float *wt,
                                 const float *bias, const fq_f32_gemm_params *act,
                                 const float *slopes, float *out);
void fq_f32_nchwc_pool_row__avx512(const float *r0, const float *r1, int64_t w, float *out);
void fq_f32_nchwc_to_nchw__avx512(const float *src, int64_t w, float *y, ptrdiff_t plane);
void fq_f32_nchwc_dw_row_s2__avx512(const float *const rows[3], int64_t in_w, int64_t out_w,
                                    int64_t pad_left, const float *wt, const float *bias,
                                    const fq_f32_gemm_params *act, const float *slopes,
                                    float *out);

typedef struct fq_f32_nchwc_stage {
    int64_t in_channels, mid_channels;
    int64_t h, w;         /* the stage's input planes */
    int64_t mid_h, mid_w; /* its middle rows: the pw (or stem) output */
    int64_t dw_oh, dw_ow; /* the depthwise output */
    int64_t out_h, out_w; /* the stage's output: pooled, depthwise or middle */
    bool has_dw, has_pool;
    int64_t dw_stride, dw_pad; /* 1 and 1, or 2 and 0 or 1 (top and left) */
    bool is_stem;         /* pw is a 3x3 stem convolution (below) */
    int64_t stride, pad, padded_w; /* the stem's; its rows are staged padded_w floats wide */
    ptrdiff_t offsets[9 * FQ_F32_NCHWC_STEM_CHANNELS]; /* the stem's taps in a staged row set */
    float *pw_w, *pw_bias; /* packed as fq_f32_nchwc_pw_args wants */
    float *dw_w, *dw_bias; /* [mid / 16][9][16], [mid] */
    fq_epilogue_f32 pw_act, dw_act; /* slopes come with each run */
} fq_f32_nchwc_stage;

typedef struct fq_f32_nchwc_chain {
    const fq_f32_nchwc_kernel *kernel;
    int n_stages;
    fq_f32_nchwc_stage stages[FQ_F32_NCHWC_MAX_STAGES];
    int slots;            /* tasks the workspace is sized for */
    size_t workspace;     /* bytes fq_f32_nchwc_chain_run needs */
    char name[64];
} fq_f32_nchwc_chain;

/* PRELU slopes of one run: for stage s, pw[s] and dw[s] (count values each, 1 or one per
 * channel), or NULL where the activation is not PRELU. */
typedef struct fq_f32_nchwc_slopes {
    const float *pw[FQ_F32_NCHWC_MAX_STAGES], *dw[FQ_F32_NCHWC_MAX_STAGES];
    int64_t pw_count[FQ_F32_NCHWC_MAX_STAGES], dw_count[FQ_F32_NCHWC_MAX_STAGES];
} fq_f32_nchwc_slopes;

/* Sessions add a 1x1 stage (or start with a stem) only on planes of at least this many pixels
 * (op_conv.c). MobileFaceNet's 56x56 head ran faster as a chain (5 nodes 1.01 -> 0.92 ms);
 * letting its next, 28x28 stage join was no faster, and on smaller planes the NCHW kernels keep
 * their data in the caches anyway. */
enum { FQ_F32_NCHWC_MIN_PIXELS = 56 * 56 };

/* An empty chain for kernel with workspace for `threads` tasks. */
void fq_f32_nchwc_chain_init(fq_f32_nchwc_chain *chain, const fq_f32_nchwc_kernel *kernel,
                             int threads);
/* Releases the packed weights of every stage. */
void fq_f32_nchwc_chain_release(fq_f32_nchwc_chain *chain);

/* Starts a stage with the pointwise convolution p (weights OIHW, bias or NULL), when it reads
 * the previous stage's output (or starts the chain) and fits the rules above; false leaves the
 * chain as it was (also when out of memory). A stage may follow any stage. */
bool fq_f32_nchwc_chain_add_pw(fq_f32_nchwc_chain *chain, const fq_conv2d_f32_params *p,
                               const float *w, const float *bias);
/* Starts the chain with the stem convolution p (weights OIHW, bias or NULL). */
bool fq_f32_nchwc_chain_add_stem(fq_f32_nchwc_chain *chain, const fq_conv2d_f32_params *p,
                                 const float *w, const float *bias);
/* Adds the depthwise convolution p (weights [C][9], bias [C] or NULL) to the last stage. */
bool fq_f32_nchwc_chain_add_dw(fq_f32_nchwc_chain *chain, const fq_conv2d_f32_params *p,
                               const float *w, const float *bias);
/* Adds the max pool p to the last stage (after its depthwise convolution). */
bool fq_f32_nchwc_chain_add_pool(fq_f32_nchwc_chain *chain, const fq_pool2d_f32_params *p);

/* y (the last stage's output, NCHW) = the chain over x (NCHW). workspace has
 * chain->workspace bytes, 64-byte aligned; at most chain->slots of pool's threads take part. */
void fq_f32_nchwc_chain_run(const fq_f32_nchwc_chain *chain, const float *x,
                            const fq_f32_nchwc_slopes *slopes, float *y, void *workspace,
                            struct fq_threadpool *pool);

#endif
