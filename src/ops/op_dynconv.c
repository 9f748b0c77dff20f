/* FqDynamicConv (docs/QUANTIZATION.md): a convolution with int8 weights whose float input is
 * quantized to uint8 on every run.
 *
 * Inputs: X f32 NCHW (or NCW), W i8 OIHW, W_scale f32 [M], B f32 [M] optional; a fused PRelu's
 * slopes come last. Attributes are those of Conv. Per run:
 *   1. min and max of the finite values of X, widened to contain 0, give the u8 scale and zero
 *      point of fq_calib_params_u8_asymmetric;
 *   2. X is quantized (round half to even, saturated; NaN to the zero point) into a u8 copy in
 *      the workspace: NCHW for depthwise convolutions, NHWC for the others;
 *   3. the exact int32 sums acc = sum (q - zp) * w over each output's taps, by one of
 *        gemm       group 1 with a prepared state: blocks of output pixels as im2col rows (taps
 *                   outside the image read zp; 1x1 stride-1 unpadded convolutions read the NHWC
 *                   copy itself) times the packed weights on the int32 GEMM kernels, then
 *                   minus zp * sum w[o];
 *        depthwise  one input channel per group: a loop per output channel over its plane;
 *        direct     everything else, and group 1 without a prepared state: a loop over the
 *                   channels of each group for each block of output pixels;
 *   4. y[o][p] = act((float)acc * (x_scale * w_scale[o]) + B[o]), written NCHW.
 * The sums are the same integers on every path and step 4 is shared, so the reference (no
 * state) and the prepared kernels give identical bytes, for any number of threads. */
#include <math.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/calibrate.h"
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ops/registry.h"
#include "qs8_gemm_i32.h"
#include "ref/f32_bias_activation_ref.h"
#include "runtime/threadpool.h"

enum { IN_X = 0, IN_W = 1, IN_W_SCALE = 2, IN_B = 3 };

/* Output pixels per block: one im2col buffer and one accumulator tile per thread. */
#define BLOCK_PIXELS 64

typedef struct dyn_params {
    int64_t batch, in_c, in_h, in_w;
    int64_t out_c, out_h, out_w;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t dilation_h, dilation_w;
    int64_t pad_top, pad_left;
    int64_t groups;
    fq_epilogue_f32 act;
} dyn_params;

/* What prepare makes: for group-1 convolutions the packed weights of the GEMM kernel (rows in
 * the im2col order kh, kw, c) and their sums; otherwise only the thread count. */
typedef enum dyn_path { PATH_DIRECT, PATH_GEMM, PATH_POINTWISE, PATH_DEPTHWISE } dyn_path;

typedef struct dyn_state {
    dyn_params p;
    dyn_path path;
    fq_f32_range_fn range;
    fq_f32_quantize_u8_fn quantize;
    const fq_qs8_gemm_i32_kernel *kernel;  /* NULL: the loops */
    void *packed;
    int32_t *wsum;
    size_t depth;                          /* in_c * kernel_h * kernel_w */
    size_t slots;
    size_t workspace;
} dyn_state;

/* ---- inputs and geometry ---- */

static int slope_input(const fq_node *node)
{
    return node->act.kind == FQ_ACT_PRELU ? node->n_inputs - 1 : -1;
}

static int bias_input(const fq_node *node)
{
    int slopes = slope_input(node);
    if (node->n_inputs > IN_B && slopes != IN_B && node->inputs[IN_B] >= 0)
        return IN_B;
    return -1;
}

static fq_status require_dtype(const fq_graph *graph, const fq_node *node, int i,
                               fq_dtype dtype, const char *what, fq_error *err)
{
    const fq_value *v = fq_node_input(graph, node, i);
    if (v == NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "input %d (%s) is missing", i, what);
    if (v->dtype != dtype)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d (%s) is %s, expects %s", i,
                           what, fq_dtype_name(v->dtype), fq_dtype_name(dtype));
    return FQ_OK;
}

static fq_status check_inputs(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    int slopes = slope_input(node);
    fq_status status = fq_op_check_arity(node, 3, slopes >= 0 ? 5 : 4, err);
    if (status == FQ_OK && slopes >= 0 && (slopes < 3 || node->inputs[slopes] < 0))
        return fq_op_error(err, FQ_ERR_PARSE, node, "fused PRelu has no slope input");
    if (status == FQ_OK)
        status = require_dtype(graph, node, IN_X, FQ_DTYPE_F32, "X", err);
    if (status == FQ_OK)
        status = require_dtype(graph, node, IN_W, FQ_DTYPE_I8, "W", err);
    if (status == FQ_OK)
        status = require_dtype(graph, node, IN_W_SCALE, FQ_DTYPE_F32, "W_scale", err);
    if (status == FQ_OK && bias_input(node) >= 0)
        status = require_dtype(graph, node, IN_B, FQ_DTYPE_F32, "B", err);
    if (status == FQ_OK && slopes >= 0)
        status = require_dtype(graph, node, slopes, FQ_DTYPE_F32, "PRelu slopes", err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, IN_X)->shape;
    const fq_shape *w = &fq_node_input(graph, node, IN_W)->shape;
    if (x->rank < 3 || x->rank > 4)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input rank %d, expects 3 or 4 (1-D or "
                           "2-D convolution)", x->rank);
    if (w->rank != x->rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "weight rank %d differs from input rank %d",
                           w->rank, x->rank);
    return FQ_OK;
}

static fq_status check_per_channel(const fq_graph *graph, const fq_node *node, int i,
                                   int64_t channels, const char *what, fq_error *err)
{
    const fq_shape *s = &fq_node_input(graph, node, i)->shape;
    if (s->rank != 1 || s->dims[0] != channels)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "%s must have %lld entries", what,
                           (long long)channels);
    return FQ_OK;
}

/* PRelu slopes: one value, or one per output channel in a shape whose other dims are 1. */
static fq_status check_slopes(const fq_graph *graph, const fq_node *node, int64_t channels,
                              fq_error *err)
{
    int s = slope_input(node);
    if (s < 0)
        return FQ_OK;
    const fq_shape *shape = &fq_node_input(graph, node, s)->shape;
    int64_t n = fq_shape_numel(shape);
    int long_dims = 0;
    for (int d = 0; d < shape->rank; d++)
        long_dims += shape->dims[d] != 1;
    if (n != 1 && (n != channels || long_dims != 1))
        return fq_op_error(err, FQ_ERR_SHAPE, node, "PRelu slopes of %lld entries do not "
                           "broadcast per channel over %lld channels", (long long)n,
                           (long long)channels);
    return FQ_OK;
}

static fq_status check_channels(const fq_graph *graph, const fq_node *node, int64_t groups,
                                fq_error *err)
{
    const fq_shape *x = &fq_node_input(graph, node, IN_X)->shape;
    const fq_shape *w = &fq_node_input(graph, node, IN_W)->shape;
    if (groups < 1 || x->dims[1] % groups != 0 || w->dims[0] % groups != 0 ||
        w->dims[1] * groups != x->dims[1] || w->dims[0] < 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "group %lld does not fit %lld input "
                           "channels and weights of %lld x %lld", (long long)groups,
                           (long long)x->dims[1], (long long)w->dims[0], (long long)w->dims[1]);

    int64_t m = w->dims[0];
    fq_status status = check_per_channel(graph, node, IN_W_SCALE, m, "W_scale", err);
    if (status == FQ_OK && bias_input(node) >= 0)
        status = check_per_channel(graph, node, IN_B, m, "bias", err);
    if (status == FQ_OK)
        status = check_slopes(graph, node, m, err);
    return status;
}

static fq_status kernel_size(const fq_graph *graph, const fq_node *node, int64_t *kernel,
                             fq_error *err)
{
    return fq_op_conv_kernel_size(graph, node, IN_W, kernel, err);
}

/* Every accumulator sums at most depth terms of magnitude 255 * 128. */
static fq_status check_depth(const fq_node *node, const dyn_params *p, fq_error *err)
{
    int64_t depth = p->in_c / p->groups * p->kernel_h * p->kernel_w;
    if (depth * 255 * 128 > INT32_MAX)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "depth %lld could overflow the "
                           "int32 accumulators", (long long)depth);
    return FQ_OK;
}

static fq_status dyn_params_get(const fq_graph *graph, const fq_node *node, dyn_params *p,
                                fq_error *err)
{
    fq_status status = check_inputs(graph, node, err);
    if (status != FQ_OK)
        return status;
    int64_t groups = fq_node_attr_int(node, "group", 1);
    const fq_shape *x = &fq_node_input(graph, node, IN_X)->shape;
    const fq_shape *w = &fq_node_input(graph, node, IN_W)->shape;
    status = check_channels(graph, node, groups, err);
    int64_t kernel[2];
    if (status == FQ_OK)
        status = kernel_size(graph, node, kernel, err);
    fq_window win;
    if (status == FQ_OK)
        status = fq_window_resolve(node, x, kernel, false, &win, err);
    if (status != FQ_OK)
        return status;

    /* A 1-D convolution is a 2-D one of height 1. */
    int h = win.spatial == 2 ? 0 : -1;
    int wd = win.spatial - 1;
    *p = (dyn_params){
        .batch = x->dims[0], .in_c = x->dims[1],
        .in_h = h >= 0 ? win.in[h] : 1, .in_w = win.in[wd],
        .out_c = w->dims[0],
        .out_h = h >= 0 ? win.out[h] : 1, .out_w = win.out[wd],
        .kernel_h = h >= 0 ? win.kernel[h] : 1, .kernel_w = win.kernel[wd],
        .stride_h = h >= 0 ? win.stride[h] : 1, .stride_w = win.stride[wd],
        .dilation_h = h >= 0 ? win.dilation[h] : 1, .dilation_w = win.dilation[wd],
        .pad_top = h >= 0 ? win.pad_begin[h] : 0, .pad_left = win.pad_begin[wd],
        .groups = groups, .act = fq_op_epilogue_f32(&node->act)};
    return check_depth(node, p, err);
}

/* ---- paths and workspace ---- */

static bool is_depthwise(const dyn_params *p)
{
    return p->groups > 1 && p->in_c == p->groups;
}

static bool is_pointwise(const dyn_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w;
}

/* The path of the reference execution (no state). */
static dyn_path reference_path(const dyn_params *p)
{
    return is_depthwise(p) ? PATH_DEPTHWISE : PATH_DIRECT;
}

static size_t align_up(size_t x)
{
    return (x + FQ_ALIGNMENT - 1) / FQ_ALIGNMENT * FQ_ALIGNMENT;
}

static size_t quantized_input_bytes(const dyn_params *p)
{
    return align_up((size_t)(p->batch * p->in_c * p->in_h * p->in_w));
}

static size_t depth_of(const dyn_params *p)
{
    return (size_t)(p->in_c / p->groups * p->kernel_h * p->kernel_w);
}

static size_t im2col_bytes(const dyn_params *p, dyn_path path)
{
    return path == PATH_GEMM ? align_up(BLOCK_PIXELS * depth_of(p)) : 0;
}

/* One thread's share: im2col rows (gemm) and the int32 sums of a block, or of one output
 * plane (depthwise). */
static size_t slot_bytes(const dyn_params *p, dyn_path path)
{
    if (path == PATH_DEPTHWISE)
        return align_up((size_t)(p->out_h * p->out_w) * sizeof(int32_t));
    return im2col_bytes(p, path) + align_up(BLOCK_PIXELS * (size_t)p->out_c * sizeof(int32_t));
}

static size_t workspace_bytes(const dyn_params *p, dyn_path path, size_t slots)
{
    return quantized_input_bytes(p) + slots * slot_bytes(p, path);
}

/* ---- one run ---- */

/* What every task of one run reads. */
typedef struct dyn_job {
    const dyn_params *p;
    const dyn_state *state;     /* NULL: reference */
    dyn_path path;
    fq_f32_quantize_u8_fn quantize;
    const float *x;
    uint8_t *xq;                /* NCHW (depthwise) or NHWC */
    float x_scale;
    int32_t zero_point;
    const int8_t *w;            /* OIHW, for the loops */
    const float *w_scale;
    const float *bias;          /* NULL: none */
    fq_epilogue_f32 act;
    float *y;
    uint8_t *slots;
    size_t slot_size;
    size_t n_slots;
    size_t blocks_per_image;
} dyn_job;

/* The range of X widened to contain 0, as u8 parameters. NaN is skipped; only when an
 * infinity made the range infinite is it taken again over the finite values. */
static void input_params(fq_f32_range_fn range_fn, const float *x, int64_t n, float *scale,
                         int32_t *zero_point)
{
    float lo, hi;
    range_fn(x, (size_t)n, &lo, &hi);
    if (isinf(lo) || isinf(hi)) {
        lo = hi = 0.0f;
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(x[i]))
                continue;
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
    }
    fq_calib_range range = {.threshold = fmax(-(double)lo, (double)hi), .lo = lo, .hi = hi};
    fq_calib_params_u8_asymmetric(&range, scale, zero_point);
}

/* Columns of one input row quantized at a time before their scatter into NHWC. */
#define QUANT_CHUNK 256

/* Task: input row (n, h) of every channel into the NHWC copy. */
static void quantize_row(void *ctx, size_t index)
{
    const dyn_job *job = ctx;
    const dyn_params *p = job->p;
    int64_t n = (int64_t)index / p->in_h, h = (int64_t)index % p->in_h;
    uint8_t *dst = job->xq + ((n * p->in_h + h) * p->in_w) * p->in_c;
    uint8_t chunk[QUANT_CHUNK];
    for (int64_t c = 0; c < p->in_c; c++) {
        const float *src = job->x + ((n * p->in_c + c) * p->in_h + h) * p->in_w;
        for (int64_t w0 = 0; w0 < p->in_w; w0 += QUANT_CHUNK) {
            int64_t count = p->in_w - w0 < QUANT_CHUNK ? p->in_w - w0 : QUANT_CHUNK;
            job->quantize(src + w0, (size_t)count, job->x_scale, job->zero_point, chunk);
            for (int64_t w = 0; w < count; w++)
                dst[(w0 + w) * p->in_c + c] = chunk[w];
        }
    }
}

/* Task: input plane (n, c) into the NCHW copy. */
static void quantize_plane(void *ctx, size_t index)
{
    const dyn_job *job = ctx;
    const dyn_params *p = job->p;
    size_t size = (size_t)(p->in_h * p->in_w);
    job->quantize(job->x + index * size, size, job->x_scale, job->zero_point,
                  job->xq + index * size);
}

/* Input position of tap (kh, kw) of output pixel pixel, or false when it lies in the padding. */
static bool tap_source(const dyn_params *p, int64_t pixel, int64_t kh, int64_t kw, int64_t *ih,
                       int64_t *iw)
{
    int64_t oh = pixel / p->out_w, ow = pixel % p->out_w;
    *ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
    *iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
    return *ih >= 0 && *ih < p->in_h && *iw >= 0 && *iw < p->in_w;
}

/* acc[i][o] = sum over the channels of o's group and the taps of (q - zp) * w. */
static void accumulate_direct(const dyn_job *job, const uint8_t *image, int64_t p0, size_t rows,
                              int32_t *acc)
{
    const dyn_params *p = job->p;
    int64_t m = p->out_c, cg = p->in_c / p->groups, mg = m / p->groups;
    int64_t taps = p->kernel_h * p->kernel_w;
    int32_t zp = job->zero_point;
    memset(acc, 0, rows * (size_t)m * sizeof(int32_t));
    for (size_t i = 0; i < rows; i++) {
        int32_t *row = acc + i * (size_t)m;
        for (int64_t kh = 0; kh < p->kernel_h; kh++) {
            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                int64_t ih, iw;
                if (!tap_source(p, p0 + (int64_t)i, kh, kw, &ih, &iw))
                    continue;
                const uint8_t *src = image + (ih * p->in_w + iw) * p->in_c;
                int64_t tap = kh * p->kernel_w + kw;
                for (int64_t o = 0; o < m; o++) {
                    const uint8_t *xs = src + o / mg * cg;
                    const int8_t *ws = job->w + o * cg * taps + tap;
                    int32_t sum = 0;
                    for (int64_t c = 0; c < cg; c++)
                        sum += ((int32_t)xs[c] - zp) * ws[c * taps];
                    row[o] += sum;
                }
            }
        }
    }
}

/* im2col rows of the block in the order (kh, kw, c); taps in the padding read zp. */
static void im2col(const dyn_job *job, const uint8_t *image, int64_t p0, size_t rows,
                   uint8_t *dst)
{
    const dyn_params *p = job->p;
    size_t c = (size_t)p->in_c;
    for (size_t i = 0; i < rows; i++) {
        for (int64_t kh = 0; kh < p->kernel_h; kh++) {
            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                int64_t ih, iw;
                if (tap_source(p, p0 + (int64_t)i, kh, kw, &ih, &iw))
                    memcpy(dst, image + (ih * p->in_w + iw) * p->in_c, c);
                else
                    memset(dst, job->zero_point, c);
                dst += c;
            }
        }
    }
}

static void accumulate_gemm(const dyn_job *job, const uint8_t *image, int64_t p0, size_t rows,
                            uint8_t *slot, int32_t *acc)
{
    const dyn_state *s = job->state;
    size_t m = (size_t)job->p->out_c;
    const uint8_t *a = image + (size_t)p0 * s->depth;
    if (job->path == PATH_GEMM) {
        im2col(job, image, p0, rows, slot);
        a = slot;
    }
    fq_qs8_gemm_i32_run(s->kernel, rows, m, s->depth, a, s->depth, s->packed, acc,
                        m * sizeof(int32_t));
    int32_t zp = job->zero_point;
    for (size_t i = 0; i < rows; i++)
        for (size_t o = 0; o < m; o++)
            acc[i * m + o] -= zp * s->wsum[o];
}

/* dst[o][i] = act((float)acc[i * acc_stride + o] * x_scale * w_scale[o] + B[o]) for the rows
 * of output pixels; dst is channel o's plane at its first pixel. */
static void store_channel(const dyn_job *job, int64_t o, const int32_t *acc, size_t acc_stride,
                          size_t rows, float *dst)
{
    float scale = job->x_scale * job->w_scale[o];
    for (size_t i = 0; i < rows; i++)
        dst[i] = (float)acc[i * acc_stride] * scale;
    fq_ref_bias_activation_f32(dst, (int64_t)rows, job->bias != NULL ? job->bias[o] : 0.0f,
                               &job->act, o);
}

static void run_block(const dyn_job *job, size_t block, uint8_t *slot)
{
    const dyn_params *p = job->p;
    int64_t n = (int64_t)(block / job->blocks_per_image);
    int64_t p0 = (int64_t)(block % job->blocks_per_image) * BLOCK_PIXELS;
    int64_t pixels = p->out_h * p->out_w, m = p->out_c;
    size_t rows = (size_t)(pixels - p0 < BLOCK_PIXELS ? pixels - p0 : BLOCK_PIXELS);
    const uint8_t *image = job->xq + n * p->in_h * p->in_w * p->in_c;
    int32_t *acc = (int32_t *)(void *)(slot + im2col_bytes(p, job->path));

    if (job->path == PATH_DIRECT)
        accumulate_direct(job, image, p0, rows, acc);
    else
        accumulate_gemm(job, image, p0, rows, slot, acc);
    for (int64_t o = 0; o < m; o++)
        store_channel(job, o, acc + o, (size_t)m, rows, job->y + (n * m + o) * pixels + p0);
}

/* Outputs o of one dimension whose tap at offset off (input o * stride + off) lies inside
 * [0, in): [*lo, *hi). */
static void valid_range(int64_t in, int64_t out, int64_t stride, int64_t off, int64_t *lo,
                        int64_t *hi)
{
    *lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    *hi = in - 1 - off < 0 ? 0 : (in - 1 - off) / stride + 1;
    *hi = *hi < out ? *hi : out;
    *lo = *lo < *hi ? *lo : *hi;
}

/* row[ow] += (src[ow * stride + off] - zp) * w over [lo, hi). The product fits int16
 * (|255 * 128| < 2^15), which lets the compiler use 16-bit multiplies. */
static void depthwise_tap(const uint8_t *src, int64_t stride, int64_t lo, int64_t hi,
                          int16_t zp, int16_t w, int32_t *row)
{
    if (stride == 1) {
        for (int64_t ow = lo; ow < hi; ow++)
            row[ow] += (int16_t)(((int16_t)src[ow] - zp) * w);
        return;
    }
    for (int64_t ow = lo; ow < hi; ow++)
        row[ow] += (int16_t)(((int16_t)src[ow * stride] - zp) * w);
}

/* Output channel o of image n of a depthwise convolution, over its whole plane: tap by tap
 * (the integer sums do not depend on the order), each over the rows and columns it reaches. */
static void run_depthwise_channel(const dyn_job *job, size_t index, uint8_t *slot)
{
    const dyn_params *p = job->p;
    int64_t n = (int64_t)index / p->out_c, o = (int64_t)index % p->out_c;
    int64_t mg = p->out_c / p->groups, taps = p->kernel_h * p->kernel_w;
    const uint8_t *plane = job->xq + (n * p->in_c + o / mg) * p->in_h * p->in_w;
    const int8_t *w = job->w + o * taps;
    int16_t zp = (int16_t)job->zero_point;
    int32_t *acc = (int32_t *)(void *)slot;
    size_t pixels = (size_t)(p->out_h * p->out_w);
    memset(acc, 0, pixels * sizeof(int32_t));

    for (int64_t kh = 0; kh < p->kernel_h; kh++) {
        int64_t row_off = kh * p->dilation_h - p->pad_top, oh_lo, oh_hi;
        valid_range(p->in_h, p->out_h, p->stride_h, row_off, &oh_lo, &oh_hi);
        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
            int64_t col_off = kw * p->dilation_w - p->pad_left, ow_lo, ow_hi;
            valid_range(p->in_w, p->out_w, p->stride_w, col_off, &ow_lo, &ow_hi);
            int16_t wv = w[kh * p->kernel_w + kw];
            for (int64_t oh = oh_lo; oh < oh_hi; oh++) {
                const uint8_t *src = plane + (oh * p->stride_h + row_off) * p->in_w + col_off;
                depthwise_tap(src, p->stride_w, ow_lo, ow_hi, zp, wv, acc + oh * p->out_w);
            }
        }
    }
    store_channel(job, o, acc, 1, pixels, job->y + (n * p->out_c + o) * (int64_t)pixels);
}

/* Task: slot t takes work items t, t + slots, ...; an item's bytes do not depend on who runs
 * it. */
static void run_slot(void *ctx, size_t t)
{
    const dyn_job *job = ctx;
    const dyn_params *p = job->p;
    uint8_t *slot = job->slots + t * job->slot_size;
    if (job->path == PATH_DEPTHWISE) {
        for (size_t i = t; i < (size_t)(p->batch * p->out_c); i += job->n_slots)
            run_depthwise_channel(job, i, slot);
        return;
    }
    size_t blocks = (size_t)p->batch * job->blocks_per_image;
    for (size_t b = t; b < blocks; b += job->n_slots)
        run_block(job, b, slot);
}

static fq_status run(const fq_exec_ctx *ctx, const dyn_params *p, const dyn_state *state)
{
    dyn_path path = state != NULL ? state->path : reference_path(p);
    size_t slots = state != NULL ? state->slots : 1;
    if (ctx->workspace_size < workspace_bytes(p, path, slots))
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);

    dyn_job job = {.p = p, .state = state, .path = path,
                   .quantize = state != NULL ? state->quantize : fq_f32_quantize_u8__scalar,
                   .x = ctx->inputs[IN_X].data,
                   .xq = ctx->workspace, .w = ctx->inputs[IN_W].data,
                   .w_scale = ctx->inputs[IN_W_SCALE].data, .act = p->act,
                   .y = ctx->outputs[0].data, .slot_size = slot_bytes(p, path),
                   .n_slots = slots};
    job.slots = (uint8_t *)ctx->workspace + quantized_input_bytes(p);
    job.blocks_per_image = (size_t)((p->out_h * p->out_w + BLOCK_PIXELS - 1) / BLOCK_PIXELS);
    int b = bias_input(ctx->node);
    job.bias = b >= 0 ? ctx->inputs[b].data : NULL;
    int s = slope_input(ctx->node);
    if (s >= 0) {
        job.act.slopes = ctx->inputs[s].data;
        job.act.slope_count = fq_shape_numel(&ctx->inputs[s].shape);
    }

    struct fq_threadpool *pool = state != NULL ? ctx->pool : NULL;
    fq_f32_range_fn range = state != NULL ? state->range : fq_f32_range__scalar;
    input_params(range, job.x, p->batch * p->in_c * p->in_h * p->in_w, &job.x_scale,
                 &job.zero_point);
    if (path == PATH_DEPTHWISE)
        fq_threadpool_parallel_for(pool, (size_t)(p->batch * p->in_c), quantize_plane, &job);
    else
        fq_threadpool_parallel_for(pool, (size_t)(p->batch * p->in_h), quantize_row, &job);
    fq_threadpool_parallel_for(pool, slots, run_slot, &job);
    return FQ_OK;
}

/* ---- the table entry ---- */

static fq_status dynconv_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    dyn_params p;
    fq_status status = dyn_params_get(graph, node, &p, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, IN_X)->shape;
    fq_shape out = {.rank = x->rank, .dims = {p.batch, p.out_c}};
    if (x->rank == 4) {
        out.dims[2] = p.out_h;
        out.dims[3] = p.out_w;
    } else {
        out.dims[2] = p.out_w;
    }
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &out);
    return FQ_OK;
}

static size_t dynconv_workspace_size(const fq_graph *graph, const fq_node *node)
{
    dyn_params p;
    if (dyn_params_get(graph, node, &p, NULL) != FQ_OK)
        return 0;
    return workspace_bytes(&p, reference_path(&p), 1);
}

static fq_status dynconv_exec(const fq_exec_ctx *ctx)
{
    if (ctx->state != NULL) {
        const dyn_state *state = ctx->state;
        return run(ctx, &state->p, state);
    }
    dyn_params p;
    fq_status status = dyn_params_get(ctx->graph, ctx->node, &p, ctx->err);
    if (status != FQ_OK)
        return status;
    return run(ctx, &p, NULL);
}

static void dynconv_release(void *state)
{
    dyn_state *s = state;
    if (s == NULL)
        return;
    fq_free_aligned(s->packed);
    fq_free(s->wsum);
    fq_free(s);
}

static const char *dynconv_kernel_name(const void *state)
{
    const dyn_state *s = state;
    static const char *const loops[] = {"dynconv_direct_i32__scalar", "", "",
                                        "dynconv_depthwise_i32__scalar"};
    return s->kernel != NULL ? s->kernel->name : loops[s->path];
}

/* W (OIHW) as GEMM rows in the im2col order (kh, kw, c), and each row's sum. */
static fq_status pack_weights(dyn_state *s, const int8_t *w, fq_isa cap, fq_error *err)
{
    const dyn_params *p = &s->p;
    size_t m = (size_t)p->out_c, k = s->depth, taps = (size_t)(p->kernel_h * p->kernel_w);
    s->kernel = fq_qs8_gemm_i32_select(cap);
    int8_t *rows = fq_malloc(m * k);
    s->wsum = fq_malloc(m * sizeof(int32_t));
    s->packed = fq_malloc_aligned(fq_qs8_gemm_i32_packed_size(s->kernel, m, k));
    if (rows == NULL || s->wsum == NULL || s->packed == NULL) {
        fq_free(rows);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "out of memory for %zu x %zu weights", m, k);
    }

    for (size_t o = 0; o < m; o++) {
        int32_t sum = 0;
        for (size_t c = 0; c < (size_t)p->in_c; c++) {
            for (size_t t = 0; t < taps; t++) {
                int8_t v = w[(o * (size_t)p->in_c + c) * taps + t];
                rows[o * k + t * (size_t)p->in_c + c] = v;
                sum += v;
            }
        }
        s->wsum[o] = sum;
    }
    fq_status status = fq_qs8_gemm_i32_pack(s->kernel, m, k, rows, s->packed, err);
    fq_free(rows);
    return status;
}

/* Group-1 convolutions with constant weights get the GEMM kernels; the others their loop
 * spread over the session's threads; non-constant weights stay on the reference (state NULL). */
static fq_status dynconv_prepare(const fq_graph *graph, const fq_node *node,
                                 const fq_kernel_config *config, void **state,
                                 size_t *workspace, fq_error *err)
{
    dyn_params p;
    *state = NULL;
    fq_status status = dyn_params_get(graph, node, &p, err);
    if (status != FQ_OK)
        return status;
    *workspace = workspace_bytes(&p, reference_path(&p), 1);
    const fq_value *w = fq_node_input(graph, node, IN_W);
    if (!fq_value_is_constant(w) || w->data == NULL)
        return FQ_OK;

    dyn_state *s = fq_calloc(1, sizeof(*s));
    if (s == NULL)
        return fq_op_error(err, FQ_ERR_NO_MEMORY, node, "out of memory for the kernel state");
    s->p = p;
    s->depth = depth_of(&p);
    s->slots = (size_t)fq_threadpool_size(config->pool);
    s->path = reference_path(&p);
    fq_isa quantize_isa;
    s->quantize = fq_f32_quantize_u8_select(config->isa_cap, &quantize_isa);
    s->range = fq_f32_range_select(config->isa_cap);
    if (p.groups == 1) {
        fq_error pack_err = {0};
        status = pack_weights(s, w->data, config->isa_cap, &pack_err);
        if (status != FQ_OK) {
            dynconv_release(s);
            return fq_op_error(err, status, node, "%s", pack_err.message);
        }
        s->path = is_pointwise(&p) ? PATH_POINTWISE : PATH_GEMM;
    }
    s->workspace = workspace_bytes(&p, s->path, s->slots);
    *state = s;
    *workspace = s->workspace;
    return FQ_OK;
}

static int64_t dynconv_flops(const fq_graph *graph, const fq_node *node)
{
    dyn_params p;
    if (dyn_params_get(graph, node, &p, NULL) != FQ_OK)
        return 0;
    return p.batch * p.out_c * p.out_h * p.out_w * (p.in_c / p.groups) * p.kernel_h *
           p.kernel_w;
}

/* An internal op: any model's opset binds it. */
const fq_op_info fq_ops_dynamic[] = {
    {.name = "FqDynamicConv", .min_opset = 1, .max_opset = 99, .infer = dynconv_infer,
     .workspace_size = dynconv_workspace_size, .exec = dynconv_exec, .flops = dynconv_flops,
     .prepare = dynconv_prepare, .release = dynconv_release,
     .kernel_name = dynconv_kernel_name},
};
const int fq_ops_dynamic_count = (int)(sizeof(fq_ops_dynamic) / sizeof(fq_ops_dynamic[0]));
