/* QLinearConv: ONNX's quantized 2-D convolution (opset 10 semantics), docs/QUANTIZATION.md.
 *
 * Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point and an
 * optional int32 bias B. x and w are u8 or i8 (each with a zero point of its own dtype); w_scale
 * and w_zero_point hold one value or one per output channel; y takes the dtype of
 * y_zero_point. Every Conv attribute is read: auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID),
 * pads, strides, dilations, group and kernel_shape. Only 2-D convolution (rank-4 x and w).
 *
 *   acc[j] = B[j] + sum over the taps inside x of (x - x_zero_point) * (w - w_zero_point[j])
 *   y = saturate(round_half_to_even(acc * multiplier[j]) + y_zero_point)
 * with multiplier[j] = x_scale * w_scale[j] / y_scale and the arithmetic of kernels/qs8_gemm.h
 * (fq_qs8_conv_multiplier, then one float product, a float clamp and lrintf), which is what the
 * fast kernels compute, bit for bit.
 *
 * Two facequant extensions:
 *   - the integer attribute channels_last: 0 (default) for NCHW; 1 means x and y are NHWC, their
 *     shapes stored as N, H, W, C. w stays OIHW.
 *   - node->act, a fused FQ_ACT_RELU or FQ_ACT_CLIP (alpha, beta real bounds), becomes a clamp in
 *     the quantized domain: Relu raises the lower bound to y_zero_point; Clip uses
 *     y_zero_point + round_half_to_even(bound / y_scale), limited to the dtype's range. Other
 *     activations are refused.
 *
 * Without a prepared state (constant folding, conformance) exec runs a direct reference loop
 * that handles every dtype and zero point above. prepare plans the fast kernels of
 * kernels/qs8_conv.h when x and y are u8, w is i8 with every zero point 0, and the weights,
 * bias, scales and zero points are constants with finite positive multipliers; otherwise it
 * leaves the state NULL and exec keeps the reference loop. */
#include <math.h>
#include <string.h>

#include "facequant/alloc.h"
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ops/registry.h"
#include "qs8_conv.h"
#include "runtime/threadpool.h"

enum {
    IN_X,
    IN_X_SCALE,
    IN_X_ZERO_POINT,
    IN_W,
    IN_W_SCALE,
    IN_W_ZERO_POINT,
    IN_Y_SCALE,
    IN_Y_ZERO_POINT,
    IN_BIAS,
    INPUT_COUNT
};

static bool is_byte_type(fq_dtype dtype)
{
    return dtype == FQ_DTYPE_U8 || dtype == FQ_DTYPE_I8;
}

static const fq_value *input(const fq_graph *graph, const fq_node *node, int i)
{
    return fq_node_input(graph, node, i);
}

static bool has_bias(const fq_node *node)
{
    return node->n_inputs > IN_BIAS && node->inputs[IN_BIAS] >= 0;
}

static fq_status require_dtype(const fq_graph *graph, const fq_node *node, int i,
                               fq_dtype dtype, fq_error *err)
{
    const fq_value *v = input(graph, node, i);
    if (v->dtype != dtype)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d ('%s') is %s, expects %s",
                           i, v->name, fq_dtype_name(v->dtype), fq_dtype_name(dtype));
    return FQ_OK;
}

static fq_status check_dtypes(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    static const int byte_inputs[] = {IN_X, IN_W, IN_Y_ZERO_POINT};
    for (int k = 0; k < 3; k++) {
        const fq_value *v = input(graph, node, byte_inputs[k]);
        if (!is_byte_type(v->dtype))
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d ('%s') is %s, expects "
                               "u8 or i8", byte_inputs[k], v->name, fq_dtype_name(v->dtype));
    }

    fq_status status = require_dtype(graph, node, IN_X_ZERO_POINT,
                                     input(graph, node, IN_X)->dtype, err);
    if (status == FQ_OK)
        status = require_dtype(graph, node, IN_W_ZERO_POINT, input(graph, node, IN_W)->dtype,
                               err);
    static const int scale_inputs[] = {IN_X_SCALE, IN_W_SCALE, IN_Y_SCALE};
    for (int k = 0; k < 3 && status == FQ_OK; k++)
        status = require_dtype(graph, node, scale_inputs[k], FQ_DTYPE_F32, err);
    if (status == FQ_OK && has_bias(node))
        status = require_dtype(graph, node, IN_BIAS, FQ_DTYPE_I32, err);
    return status;
}

/* Scalars hold one value (rank 0 or 1); the weight's scale and zero point one or `channels`. */
static fq_status check_counts(const fq_graph *graph, const fq_node *node, int64_t channels,
                              fq_error *err)
{
    static const int scalars[] = {IN_X_SCALE, IN_X_ZERO_POINT, IN_Y_SCALE, IN_Y_ZERO_POINT};
    for (int k = 0; k < 4; k++) {
        const fq_value *v = input(graph, node, scalars[k]);
        if (v->shape.rank > 1 || fq_shape_numel(&v->shape) != 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "input %d ('%s') must hold one value",
                               scalars[k], v->name);
    }
    static const int per_channel[] = {IN_W_SCALE, IN_W_ZERO_POINT};
    for (int k = 0; k < 2; k++) {
        const fq_value *v = input(graph, node, per_channel[k]);
        int64_t n = fq_shape_numel(&v->shape);
        if (v->shape.rank > 1 || (n != 1 && n != channels))
            return fq_op_error(err, FQ_ERR_SHAPE, node, "input %d ('%s') has %lld values, "
                               "expects 1 or %lld (one per output channel)", per_channel[k],
                               v->name, (long long)n, (long long)channels);
    }
    if (has_bias(node)) {
        const fq_shape *b = &input(graph, node, IN_BIAS)->shape;
        if (b->rank != 1 || b->dims[0] != channels)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "bias must have %lld entries",
                               (long long)channels);
    }
    return FQ_OK;
}

static fq_status check_activation(const fq_node *node, fq_error *err)
{
    const fq_activation *act = &node->act;
    if (act->kind == FQ_ACT_NONE || act->kind == FQ_ACT_RELU)
        return FQ_OK;
    if (act->kind != FQ_ACT_CLIP)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "fused activation %d is not "
                           "supported; only Relu and Clip", (int)act->kind);
    if (!(act->alpha <= act->beta))
        return fq_op_error(err, FQ_ERR_INVALID_ARG, node, "fused Clip bounds [%g, %g] are "
                           "empty", (double)act->alpha, (double)act->beta);
    return FQ_OK;
}

static fq_status check_inputs(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, IN_BIAS, INPUT_COUNT, err);
    if (status == FQ_OK)
        status = fq_op_single_output(node, "QLinearConv has one output", err);
    if (status == FQ_OK)
        status = check_dtypes(graph, node, err);
    if (status == FQ_OK)
        status = check_activation(node, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &input(graph, node, IN_X)->shape;
    const fq_shape *w = &input(graph, node, IN_W)->shape;
    if (x->rank != 4 || w->rank != 4)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input rank %d and weight rank %d: "
                           "only 2-D convolution (rank 4) is supported", x->rank, w->rank);
    int64_t layout = fq_node_attr_int(node, "channels_last", 0);
    if (layout != 0 && layout != 1)
        return fq_op_error(err, FQ_ERR_INVALID_ARG, node, "channels_last is %lld, expects 0 "
                           "or 1", (long long)layout);
    return FQ_OK;
}

/* x's shape in N, C, H, W order whatever the layout. */
static fq_shape nchw_shape(const fq_node *node, const fq_shape *x)
{
    if (fq_node_attr_int(node, "channels_last", 0) == 0)
        return *x;
    return (fq_shape){.rank = 4, .dims = {x->dims[0], x->dims[3], x->dims[1], x->dims[2]}};
}

static fq_status check_channels(const fq_node *node, const fq_shape *x, const fq_shape *w,
                                int64_t groups, fq_error *err)
{
    if (groups < 1 || w->dims[0] < 1 || x->dims[1] < 1 || w->dims[0] % groups != 0 ||
        w->dims[1] * groups != x->dims[1])
        return fq_op_error(err, FQ_ERR_SHAPE, node, "group %lld does not fit %lld input "
                           "channels and weights of %lld x %lld", (long long)groups,
                           (long long)x->dims[1], (long long)w->dims[0], (long long)w->dims[1]);
    int64_t attr[2];
    int n = fq_node_attr_ints(node, "kernel_shape", attr, 2);
    if (n >= 0 && (n != 2 || attr[0] != w->dims[2] || attr[1] != w->dims[3]))
        return fq_op_error(err, FQ_ERR_SHAPE, node, "kernel_shape does not match the weights' "
                           "spatial size %lld x %lld", (long long)w->dims[2],
                           (long long)w->dims[3]);
    return FQ_OK;
}

/* The geometry of node (sizes, strides, pads, groups, layout); quantization fields are 0. */
static fq_status conv_geometry(const fq_graph *graph, const fq_node *node,
                               fq_qs8_conv_params *p, fq_error *err)
{
    fq_status status = check_inputs(graph, node, err);
    if (status != FQ_OK)
        return status;
    fq_shape x = nchw_shape(node, &input(graph, node, IN_X)->shape);
    const fq_shape *w = &input(graph, node, IN_W)->shape;
    int64_t groups = fq_node_attr_int(node, "group", 1);
    status = check_channels(node, &x, w, groups, err);
    if (status == FQ_OK)
        status = check_counts(graph, node, w->dims[0], err);
    fq_window win;
    if (status == FQ_OK)
        status = fq_window_resolve(node, &x, &w->dims[2], false, &win, err);
    if (status != FQ_OK)
        return status;

    *p = (fq_qs8_conv_params){
        .batch = (size_t)x.dims[0], .in_channels = (size_t)x.dims[1],
        .in_height = (size_t)x.dims[2], .in_width = (size_t)x.dims[3],
        .out_channels = (size_t)w->dims[0], .out_height = (size_t)win.out[0],
        .out_width = (size_t)win.out[1], .kernel_h = (size_t)win.kernel[0],
        .kernel_w = (size_t)win.kernel[1], .stride_h = (size_t)win.stride[0],
        .stride_w = (size_t)win.stride[1], .dilation_h = (size_t)win.dilation[0],
        .dilation_w = (size_t)win.dilation[1], .pad_top = (size_t)win.pad_begin[0],
        .pad_left = (size_t)win.pad_begin[1], .groups = (size_t)groups,
        .channels_last = fq_node_attr_int(node, "channels_last", 0) == 1};
    return FQ_OK;
}

static fq_status qlinearconv_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_qs8_conv_params p;
    fq_status status = conv_geometry(graph, node, &p, err);
    if (status != FQ_OK)
        return status;

    int64_t n = (int64_t)p.batch, m = (int64_t)p.out_channels;
    int64_t h = (int64_t)p.out_height, w = (int64_t)p.out_width;
    fq_shape out = {.rank = 4, .dims = {n, m, h, w}};
    if (p.channels_last)
        out = (fq_shape){.rank = 4, .dims = {n, h, w, m}};
    fq_op_set_output(graph, node, 0, input(graph, node, IN_Y_ZERO_POINT)->dtype, &out);
    return FQ_OK;
}

static int64_t qlinearconv_flops(const fq_graph *graph, const fq_node *node)
{
    fq_qs8_conv_params p;
    if (conv_geometry(graph, node, &p, NULL) != FQ_OK)
        return 0;
    return (int64_t)(p.batch * p.out_channels * p.out_height * p.out_width *
                     (p.in_channels / p.groups) * p.kernel_h * p.kernel_w);
}

/* ---- quantization parameters ---- */

static int32_t dtype_min(fq_dtype dtype)
{
    return dtype == FQ_DTYPE_U8 ? 0 : -128;
}

static int32_t dtype_max(fq_dtype dtype)
{
    return dtype == FQ_DTYPE_U8 ? 255 : 127;
}

static int32_t clamp_int(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A Clip bound in the quantized domain, limited to [lo, hi]. */
static int32_t quantized_bound(float bound, float y_scale, int32_t zero_point, int32_t lo,
                               int32_t hi)
{
    float q = bound / y_scale;
    if (q < -1024.0f)
        return lo;
    if (q > 1024.0f)
        return hi;
    return clamp_int((int32_t)lrintf(q) + zero_point, lo, hi);
}

/* The output clamp [*qmin, *qmax] of node's dtype and fused activation. */
static void output_range(const fq_node *node, fq_dtype dtype, float y_scale, int32_t zero_point,
                         int32_t *qmin, int32_t *qmax)
{
    int32_t lo = dtype_min(dtype), hi = dtype_max(dtype);
    *qmin = lo;
    *qmax = hi;
    if (node->act.kind == FQ_ACT_RELU) {
        *qmin = clamp_int(zero_point, lo, hi);
    } else if (node->act.kind == FQ_ACT_CLIP) {
        *qmin = quantized_bound(node->act.alpha, y_scale, zero_point, lo, hi);
        *qmax = quantized_bound(node->act.beta, y_scale, zero_point, lo, hi);
    }
}

static bool usable_scale(float scale)
{
    return scale > 0.0f && isfinite(scale);
}

/* Element i of an integer tensor (u8, i8 or i32). */
static int32_t int_at(const fq_tensor *t, size_t i)
{
    switch (t->dtype) {
    case FQ_DTYPE_U8: return ((const uint8_t *)t->data)[i];
    case FQ_DTYPE_I8: return ((const int8_t *)t->data)[i];
    case FQ_DTYPE_I32: return ((const int32_t *)t->data)[i];
    default: return 0;
    }
}

/* Entry j of a per-tensor or per-channel tensor. */
static size_t channel_index(const fq_tensor *t, size_t j)
{
    return fq_shape_numel(&t->shape) == 1 ? 0 : j;
}

/* ---- the reference loop ---- */

typedef struct reference_args {
    const fq_qs8_conv_params *p;
    const fq_tensor *in;          /* the node's inputs */
    fq_tensor *y;
    float x_scale;
    float y_scale;
    int32_t x_zero_point;
    int32_t y_zero_point;
    float min_less_zero_point;    /* the float clamp bounds */
    float max_less_zero_point;
    size_t x_strides[4];          /* N, C, H, W element strides of x in its layout */
    size_t y_strides[4];
} reference_args;

static void layout_strides(bool channels_last, size_t c, size_t h, size_t w, size_t *strides)
{
    if (channels_last) {
        strides[0] = h * w * c;
        strides[1] = 1;
        strides[2] = w * c;
        strides[3] = c;
    } else {
        strides[0] = c * h * w;
        strides[1] = h * w;
        strides[2] = w;
        strides[3] = 1;
    }
}

/* The exact accumulator of output channel j at (n, oh, ow). */
static int64_t reference_sum(const reference_args *a, size_t n, size_t j, size_t oh, size_t ow)
{
    const fq_qs8_conv_params *p = a->p;
    const fq_tensor *x = &a->in[IN_X], *w = &a->in[IN_W];
    size_t cg = p->in_channels / p->groups, g = j / (p->out_channels / p->groups);
    int32_t w_zero_point = int_at(&a->in[IN_W_ZERO_POINT],
                                  channel_index(&a->in[IN_W_ZERO_POINT], j));
    int64_t acc = 0;
    for (size_t c = 0; c < cg; c++) {
        size_t xc = n * a->x_strides[0] + (g * cg + c) * a->x_strides[1];
        for (size_t kh = 0; kh < p->kernel_h; kh++) {
            size_t ih = oh * p->stride_h + kh * p->dilation_h - p->pad_top; /* wraps above */
            if (ih >= p->in_height)
                continue;
            for (size_t kw = 0; kw < p->kernel_w; kw++) {
                size_t iw = ow * p->stride_w + kw * p->dilation_w - p->pad_left;
                if (iw >= p->in_width)
                    continue;
                int32_t xv = int_at(x, xc + ih * a->x_strides[2] + iw * a->x_strides[3]);
                int32_t wv = int_at(w, ((j * cg + c) * p->kernel_h + kh) * p->kernel_w + kw);
                acc += (int64_t)(xv - a->x_zero_point) * (wv - w_zero_point);
            }
        }
    }
    return acc;
}

/* Requantizes acc into element `index` of y. */
static void reference_store(const reference_args *a, size_t index, int64_t acc,
                            float multiplier)
{
    float v = (float)acc * multiplier;
    v = v < a->min_less_zero_point ? a->min_less_zero_point : v;
    v = v > a->max_less_zero_point ? a->max_less_zero_point : v;
    int32_t q = (int32_t)lrintf(v) + a->y_zero_point;
    if (a->y->dtype == FQ_DTYPE_U8)
        ((uint8_t *)a->y->data)[index] = (uint8_t)q;
    else
        ((int8_t *)a->y->data)[index] = (int8_t)q;
}

static void reference_run(const reference_args *a, const fq_tensor *bias)
{
    const fq_qs8_conv_params *p = a->p;
    const fq_tensor *w_scale = &a->in[IN_W_SCALE];
    for (size_t n = 0; n < p->batch; n++) {
        for (size_t j = 0; j < p->out_channels; j++) {
            float scale = ((const float *)w_scale->data)[channel_index(w_scale, j)];
            float multiplier = fq_qs8_conv_multiplier(a->x_scale, scale, a->y_scale);
            int64_t b = bias != NULL ? int_at(bias, j) : 0;
            size_t yj = n * a->y_strides[0] + j * a->y_strides[1];
            for (size_t oh = 0; oh < p->out_height; oh++)
                for (size_t ow = 0; ow < p->out_width; ow++)
                    reference_store(a, yj + oh * a->y_strides[2] + ow * a->y_strides[3],
                                    b + reference_sum(a, n, j, oh, ow), multiplier);
        }
    }
}

static float float_at(const fq_tensor *t, size_t i)
{
    return ((const float *)t->data)[i];
}

/* Refuses scales that are not finite and positive: their multipliers have no meaning. */
static fq_status check_scales(const fq_exec_ctx *ctx)
{
    const fq_tensor *in = ctx->inputs;
    size_t count = (size_t)fq_shape_numel(&in[IN_W_SCALE].shape);
    bool ok = usable_scale(float_at(&in[IN_X_SCALE], 0)) &&
              usable_scale(float_at(&in[IN_Y_SCALE], 0));
    for (size_t j = 0; j < count && ok; j++)
        ok = usable_scale(float_at(&in[IN_W_SCALE], j));
    if (!ok)
        return fq_op_error(ctx->err, FQ_ERR_INVALID_ARG, ctx->node, "a scale is not finite "
                           "and positive");
    return FQ_OK;
}

static fq_status exec_reference(const fq_exec_ctx *ctx)
{
    fq_qs8_conv_params p;
    fq_status status = conv_geometry(ctx->graph, ctx->node, &p, ctx->err);
    if (status == FQ_OK)
        status = check_scales(ctx);
    if (status != FQ_OK)
        return status;

    const fq_tensor *in = ctx->inputs;
    reference_args a = {.p = &p, .in = in, .y = &ctx->outputs[0],
                        .x_scale = float_at(&in[IN_X_SCALE], 0),
                        .y_scale = float_at(&in[IN_Y_SCALE], 0),
                        .x_zero_point = int_at(&in[IN_X_ZERO_POINT], 0),
                        .y_zero_point = int_at(&in[IN_Y_ZERO_POINT], 0)};
    int32_t qmin, qmax;
    output_range(ctx->node, a.y->dtype, a.y_scale, a.y_zero_point, &qmin, &qmax);
    a.min_less_zero_point = (float)(qmin - a.y_zero_point);
    a.max_less_zero_point = (float)(qmax - a.y_zero_point);
    layout_strides(p.channels_last, p.in_channels, p.in_height, p.in_width, a.x_strides);
    layout_strides(p.channels_last, p.out_channels, p.out_height, p.out_width, a.y_strides);

    bool bias = ctx->n_inputs > IN_BIAS && in[IN_BIAS].data != NULL;
    reference_run(&a, bias ? &in[IN_BIAS] : NULL);
    return FQ_OK;
}

/* ---- the fast path ---- */

static bool is_constant(const fq_graph *graph, const fq_node *node, int i)
{
    const fq_value *v = input(graph, node, i);
    return v != NULL && v->kind == FQ_VALUE_CONSTANT && v->data != NULL;
}

static const void *constant_data(const fq_graph *graph, const fq_node *node, int i)
{
    return input(graph, node, i)->data;
}

/* u8 x and y, i8 w with zero points 0, and constants for all but x. */
static bool fast_path_applies(const fq_graph *graph, const fq_node *node)
{
    if (input(graph, node, IN_X)->dtype != FQ_DTYPE_U8 ||
        input(graph, node, IN_W)->dtype != FQ_DTYPE_I8 ||
        input(graph, node, IN_Y_ZERO_POINT)->dtype != FQ_DTYPE_U8)
        return false;
    for (int i = IN_X_SCALE; i < INPUT_COUNT; i++)
        if ((i < IN_BIAS || has_bias(node)) && !is_constant(graph, node, i))
            return false;

    const fq_value *w_zero_point = input(graph, node, IN_W_ZERO_POINT);
    const int8_t *zp = w_zero_point->data;
    for (int64_t j = 0; j < fq_shape_numel(&w_zero_point->shape); j++)
        if (zp[j] != 0)
            return false;
    return true;
}

/* The multipliers of the constant scales; false when one is not finite and positive. */
static bool fast_multipliers(const fq_graph *graph, const fq_node *node, size_t channels,
                             float *multiplier)
{
    float x_scale = *(const float *)constant_data(graph, node, IN_X_SCALE);
    float y_scale = *(const float *)constant_data(graph, node, IN_Y_SCALE);
    const fq_value *w_scale = input(graph, node, IN_W_SCALE);
    const float *ws = w_scale->data;
    bool per_channel = fq_shape_numel(&w_scale->shape) != 1;
    if (!usable_scale(x_scale) || !usable_scale(y_scale))
        return false;
    for (size_t j = 0; j < channels; j++) {
        float s = ws[per_channel ? j : 0];
        multiplier[j] = fq_qs8_conv_multiplier(x_scale, s, y_scale);
        if (!usable_scale(s) || !usable_scale(multiplier[j]))
            return false;
    }
    return true;
}

/* Zero points and the output clamp of the constant inputs into p. */
static fq_status fast_quantization(const fq_graph *graph, const fq_node *node,
                                   fq_qs8_conv_params *p, fq_error *err)
{
    p->input_zero_point = *(const uint8_t *)constant_data(graph, node, IN_X_ZERO_POINT);
    int32_t zero_point = *(const uint8_t *)constant_data(graph, node, IN_Y_ZERO_POINT);
    float y_scale = *(const float *)constant_data(graph, node, IN_Y_SCALE);
    int32_t qmin, qmax;
    output_range(node, FQ_DTYPE_U8, y_scale, zero_point, &qmin, &qmax);
    fq_error requant_err = {0};
    fq_status status = fq_qs8_requant_params_init(zero_point, qmin, qmax, &p->requant,
                                                  &requant_err);
    if (status != FQ_OK)
        return fq_op_error(err, status, node, "%s", requant_err.message);
    return FQ_OK;
}

static fq_status make_plan(const fq_graph *graph, const fq_node *node,
                           const fq_qs8_conv_params *p, const float *multiplier,
                           const fq_kernel_config *config, fq_qs8_conv_plan **plan,
                           fq_error *err)
{
    const int32_t *bias = has_bias(node) ? constant_data(graph, node, IN_BIAS) : NULL;
    fq_error plan_err = {0};
    fq_status status = fq_qs8_conv_plan_create(p, constant_data(graph, node, IN_W), bias,
                                               multiplier, config->isa_cap,
                                               fq_threadpool_size(config->pool), plan,
                                               &plan_err);
    /* Accumulators that could overflow int32 stay on the reference loop, which sums in int64. */
    if (status == FQ_ERR_INVALID_ARG)
        return FQ_OK;
    if (status != FQ_OK)
        return fq_op_error(err, status, node, "%s", plan_err.message);
    return FQ_OK;
}

static fq_status qlinearconv_prepare(const fq_graph *graph, const fq_node *node,
                                     const fq_kernel_config *config, void **state,
                                     size_t *workspace, fq_error *err)
{
    *state = NULL;
    *workspace = 0;
    fq_qs8_conv_params p;
    fq_status status = conv_geometry(graph, node, &p, err);
    if (status != FQ_OK || !fast_path_applies(graph, node))
        return status;

    float *multiplier = fq_malloc(p.out_channels * sizeof(float));
    if (multiplier == NULL)
        return fq_op_error(err, FQ_ERR_NO_MEMORY, node, "cannot allocate multipliers");
    fq_qs8_conv_plan *plan = NULL;
    if (fast_multipliers(graph, node, p.out_channels, multiplier)) {
        status = fast_quantization(graph, node, &p, err);
        if (status == FQ_OK)
            status = make_plan(graph, node, &p, multiplier, config, &plan, err);
    }
    fq_free(multiplier);
    if (status != FQ_OK || plan == NULL)
        return status;
    *state = plan;
    *workspace = plan->workspace;
    return FQ_OK;
}

static void qlinearconv_release(void *state)
{
    fq_qs8_conv_plan_free(state);
}

static const char *qlinearconv_kernel_name(const void *state)
{
    return ((const fq_qs8_conv_plan *)state)->name;
}

static fq_status qlinearconv_exec(const fq_exec_ctx *ctx)
{
    const fq_qs8_conv_plan *plan = ctx->state;
    if (plan == NULL)
        return exec_reference(ctx);
    if (ctx->workspace_size < plan->workspace)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small (needs %zu)", ctx->workspace_size, plan->workspace);
    fq_qs8_conv_run(plan, ctx->inputs[IN_X].data, ctx->outputs[0].data, ctx->workspace,
                    ctx->pool);
    return FQ_OK;
}

/* QLinearConv exists since opset 10; later versions only add dtypes, which infer refuses. */
const fq_op_info fq_ops_qconv[] = {
    {.name = "QLinearConv", .min_opset = 10, .max_opset = 21, .infer = qlinearconv_infer,
     .exec = qlinearconv_exec, .flops = qlinearconv_flops, .prepare = qlinearconv_prepare,
     .release = qlinearconv_release, .kernel_name = qlinearconv_kernel_name},
};
const int fq_ops_qconv_count = (int)(sizeof(fq_ops_qconv) / sizeof(fq_ops_qconv[0]));
