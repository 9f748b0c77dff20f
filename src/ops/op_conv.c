/* Conv: 1-D and 2-D convolution in f32 with groups, dilations, pads, auto_pad, an optional
 * bias and the fused activation of node->act. 3-D convolution is not supported. The weights may
 * be an fp16 constant (X, B and Y stay f32): the reference path widens them into its workspace
 * on every run; the planned path runs the fp16-arithmetic plan (f16_conv_plan.h) where the
 * session's ISA cap and the CPU have fp16 arithmetic and the layer fits it, else keeps them fp16
 * in the packed panels of the fp32-arithmetic plan (f32_conv.h).
 *
 * A session may pair a pointwise Conv with the depthwise 3x3 Conv that reads it (fuse_next):
 * the first node's state then holds a fused plan (f32_pwdw.h) over both nodes' fp32 plans, its
 * exec writes the second node's output and the 1x1 output is never written. A MaxPool that
 * reads the depthwise output may join as a third node: then only the pool's output is
 * written. Where such a pair (or pair and pool) is followed by another pointwise Conv on large
 * planes and the CPU has the kernels, the step grows into an NCHW16c chain (f32_nchwc.h) of
 * pointwise -> depthwise [-> MaxPool] stages, node after node while they fit: the tensors
 * between its nodes stay in its workspace, channel-blocked, and only the last one is written,
 * in NCHW. A Conv on fq_f32_gemm_run (1x1 on planes below the block driver's, im2col) whose
 * output only an Add of the same shape reads (a residual block's end) takes the Add in
 * (fuse_add): its AVX-512 GEMM tiles add the residual before they store, and write the Add's
 * output. */
#include <string.h>

#include "f16_conv_plan.h"
#include "f32_conv.h"
#include "f32_nchwc.h"
#include "f32_pwdw.h"
#include "facequant/alloc.h"
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ref/f32_conv2d_ref.h"
#include "ref/tensor_cast_ref.h"
#include "runtime/threadpool.h"

/* Input positions: X, W, optional B; a fused PRELU's slopes come last. */
static int slope_input(const fq_node *node)
{
    return node->act.kind == FQ_ACT_PRELU ? node->n_inputs - 1 : -1;
}

static int bias_input(const fq_node *node)
{
    int slopes = slope_input(node);
    if (node->n_inputs > 2 && slopes != 2 && node->inputs[2] >= 0)
        return 2;
    return -1;
}

static bool has_f16_weights(const fq_graph *graph, const fq_node *node)
{
    const fq_value *w = fq_node_input(graph, node, 1);
    return w != NULL && w->dtype == FQ_DTYPE_F16;
}

/* W is f32, or an f16 constant. */
static fq_status check_weights(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    if (!has_f16_weights(graph, node))
        return fq_op_require_f32(graph, node, 1, err);
    const fq_value *w = fq_node_input(graph, node, 1);
    if (w->kind != FQ_VALUE_CONSTANT || w->data == NULL)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "fp16 weights ('%s') must be a "
                           "constant", w->name);
    return FQ_OK;
}

static fq_status check_inputs(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    int slopes = slope_input(node);
    fq_status status = fq_op_check_arity(node, 2, slopes >= 0 ? 4 : 3, err);
    if (status == FQ_OK && slopes >= 0 && (slopes < 2 || node->inputs[slopes] < 0))
        return fq_op_error(err, FQ_ERR_PARSE, node, "fused PRelu has no slope input");
    if (status == FQ_OK)
        status = fq_op_require_f32(graph, node, 0, err);
    if (status == FQ_OK)
        status = check_weights(graph, node, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    const fq_shape *w = &fq_node_input(graph, node, 1)->shape;
    if (x->rank == 5)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "3-D convolution (input rank 5) is "
                           "not supported; only 1-D and 2-D");
    if (x->rank < 3 || x->rank > 4)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input rank %d, expects 3 or 4", x->rank);
    if (w->rank != x->rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "weight rank %d differs from input rank %d",
                           w->rank, x->rank);
    return FQ_OK;
}

static fq_status check_channels(const fq_graph *graph, const fq_node *node, int64_t groups,
                                fq_error *err)
{
    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    const fq_shape *w = &fq_node_input(graph, node, 1)->shape;
    if (groups < 1 || x->dims[1] % groups != 0 || w->dims[0] % groups != 0 ||
        w->dims[1] * groups != x->dims[1] || w->dims[0] < 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "group %lld does not fit %lld input "
                           "channels and weights of %lld x %lld", (long long)groups,
                           (long long)x->dims[1], (long long)w->dims[0], (long long)w->dims[1]);

    int b = bias_input(node);
    if (b >= 0) {
        const fq_value *bv = fq_node_input(graph, node, b);
        bool f16_bias = bv->dtype == FQ_DTYPE_F16 && has_f16_weights(graph, node) &&
                        bv->kind == FQ_VALUE_CONSTANT && bv->data != NULL;
        fq_status status = f16_bias ? FQ_OK : fq_op_require_f32(graph, node, b, err);
        if (status != FQ_OK)
            return status;
        const fq_shape *bias = &fq_node_input(graph, node, b)->shape;
        if (bias->rank != 1 || bias->dims[0] != w->dims[0])
            return fq_op_error(err, FQ_ERR_SHAPE, node, "bias must have %lld entries",
                               (long long)w->dims[0]);
    }
    return FQ_OK;
}

/* PRELU slopes: one value, or one per output channel in a shape whose other dims are 1. */
static fq_status check_slopes(const fq_graph *graph, const fq_node *node, int64_t channels,
                              fq_error *err)
{
    int s = slope_input(node);
    if (s < 0)
        return FQ_OK;
    fq_status status = fq_op_require_f32(graph, node, s, err);
    if (status != FQ_OK)
        return status;
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

static fq_status kernel_size(const fq_graph *graph, const fq_node *node, int64_t *kernel,
                             fq_error *err)
{
    return fq_op_conv_kernel_size(graph, node, 1, kernel, err);
}

/* The kernel parameters of node (everything except the PRELU slope pointer). */
static fq_status conv_params(const fq_graph *graph, const fq_node *node,
                             fq_conv2d_f32_params *p, fq_error *err)
{
    fq_status status = check_inputs(graph, node, err);
    if (status != FQ_OK)
        return status;
    int64_t groups = fq_node_attr_int(node, "group", 1);
    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    const fq_shape *w = &fq_node_input(graph, node, 1)->shape;
    status = check_channels(graph, node, groups, err);
    if (status == FQ_OK)
        status = check_slopes(graph, node, w->dims[0], err);
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
    *p = (fq_conv2d_f32_params){
        .batch = x->dims[0], .in_channels = x->dims[1],
        .in_h = h >= 0 ? win.in[h] : 1, .in_w = win.in[wd],
        .out_channels = w->dims[0],
        .out_h = h >= 0 ? win.out[h] : 1, .out_w = win.out[wd],
        .kernel_h = h >= 0 ? win.kernel[h] : 1, .kernel_w = win.kernel[wd],
        .stride_h = h >= 0 ? win.stride[h] : 1, .stride_w = win.stride[wd],
        .dilation_h = h >= 0 ? win.dilation[h] : 1, .dilation_w = win.dilation[wd],
        .pad_top = h >= 0 ? win.pad_begin[h] : 0, .pad_left = win.pad_begin[wd],
        .groups = groups, .act = fq_op_epilogue_f32(&node->act)};
    return FQ_OK;
}

fq_status fq_conv_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_conv2d_f32_params p;
    fq_status status = conv_params(graph, node, &p, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    fq_shape out = {.rank = x->rank, .dims = {p.batch, p.out_channels}};
    if (x->rank == 4) {
        out.dims[2] = p.out_h;
        out.dims[3] = p.out_w;
    } else {
        out.dims[2] = p.out_w;
    }
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &out);
    return FQ_OK;
}

/* Bytes of the widened copy of fp16 weights the reference path makes, rounded up to keep the
 * reference's own workspace after it aligned. */
static size_t widened_weights_size(const fq_graph *graph, const fq_node *node)
{
    if (!has_f16_weights(graph, node))
        return 0;
    size_t n = (size_t)fq_shape_numel(&fq_node_input(graph, node, 1)->shape);
    return (n * sizeof(float) + FQ_ALIGNMENT - 1) / FQ_ALIGNMENT * FQ_ALIGNMENT;
}

/* An fp16 model's bias may be fp16 too (a constant, with fp16 weights): widened like them. */
static bool has_f16_bias(const fq_graph *graph, const fq_node *node)
{
    int b = bias_input(node);
    return b >= 0 && fq_node_input(graph, node, b)->dtype == FQ_DTYPE_F16;
}

static size_t widened_bias_size(const fq_graph *graph, const fq_node *node)
{
    if (!has_f16_bias(graph, node))
        return 0;
    size_t n = (size_t)fq_shape_numel(&fq_node_input(graph, node, bias_input(node))->shape);
    return (n * sizeof(float) + FQ_ALIGNMENT - 1) / FQ_ALIGNMENT * FQ_ALIGNMENT;
}

static void widen(const uint16_t *half, int64_t n, float *wide)
{
    for (int64_t i = 0; i < n; i++)
        wide[i] = fq_f32_from_f16(half[i]);
}

static size_t reference_workspace(const fq_graph *graph, const fq_node *node,
                                  const fq_conv2d_f32_params *p)
{
    return widened_weights_size(graph, node) + widened_bias_size(graph, node) +
           fq_ref_conv2d_f32_workspace_size(p);
}

size_t fq_conv_workspace_size(const fq_graph *graph, const fq_node *node)
{
    fq_conv2d_f32_params p;
    if (conv_params(graph, node, &p, NULL) != FQ_OK)
        return 0;
    return reference_workspace(graph, node, &p);
}

static bool is_constant(const fq_graph *graph, const fq_node *node, int input)
{
    if (input < 0)
        return true;
    const fq_value *v = fq_node_input(graph, node, input);
    return v->kind == FQ_VALUE_CONSTANT && v->data != NULL;
}

/* What prepare made: exactly one of the two plans; and, once a session paired this node with
 * the next one, the fused plan over this plan and the next node's (which that node's state
 * owns). */
typedef struct conv_state {
    fq_f32_conv_plan *f32;
    fq_f16_conv_plan *f16;
    fq_f32_pwdw_plan *pair;
    fq_f32_nchwc_chain *chain; /* set once the pair grew into a chain: exec runs it */
    int chain_nodes;           /* the nodes of the chain's step, this one first */
    unsigned char role[FQ_SESSION_MAX_FUSED];  /* what each node is: ROLE_PW, ROLE_DW, ... */
    unsigned char stage[FQ_SESSION_MAX_FUSED]; /* and the stage it belongs to */
    bool adds; /* the next node, an Add, runs in this one's GEMM tiles (fuse_add) */
} conv_state;

enum { ROLE_PW, ROLE_DW, ROLE_POOL };

/* fp16 weights take the fp16-arithmetic plan when the session asks for it and it applies
 * (f16_conv_plan.h), else the fp32-arithmetic plan with fp16 panels; f32 weights the fp32
 * plan. */
static fq_status create_plan(const fq_graph *graph, const fq_node *node,
                             const fq_conv2d_f32_params *p, const float *bias,
                             const fq_kernel_config *config, conv_state *made, fq_error *err)
{
    const void *w = fq_node_input(graph, node, 1)->data;
    bool f16 = has_f16_weights(graph, node);
    int threads = fq_threadpool_size(config->pool);
    fq_error plan_err = {0};
    fq_status status;
    if (f16 && config->fp16_arithmetic && fq_f16_conv_plan_applies(p, config->isa_cap))
        status = fq_f16_conv_plan_create(p, w, bias, config->isa_cap, &made->f16, &plan_err);
    else if (f16)
        status = fq_f32_conv_plan_create_f16(p, w, bias, config->isa_cap, threads, &made->f32,
                                             &plan_err);
    else
        status = fq_f32_conv_plan_create(p, w, bias, config->isa_cap, threads, &made->f32,
                                         &plan_err);
    if (status != FQ_OK)
        return fq_op_error(err, status, node, "%s", plan_err.message);
    return FQ_OK;
}

/* Plans the fast kernels when the weights and the bias are constants; otherwise exec keeps the
 * reference path (state NULL). */
fq_status fq_conv_prepare(const fq_graph *graph, const fq_node *node,
                          const fq_kernel_config *config, void **state, size_t *workspace,
                          fq_error *err)
{
    fq_conv2d_f32_params p;
    *state = NULL;
    fq_status status = conv_params(graph, node, &p, err);
    if (status != FQ_OK)
        return status;
    *workspace = reference_workspace(graph, node, &p);
    int b = bias_input(node);
    if (!is_constant(graph, node, 1) || !is_constant(graph, node, b))
        return FQ_OK;

    const float *bias = b >= 0 ? fq_node_input(graph, node, b)->data : NULL;
    float *wide_bias = NULL;
    if (has_f16_bias(graph, node)) {
        const fq_value *bv = fq_node_input(graph, node, b);
        wide_bias = fq_malloc((size_t)fq_shape_numel(&bv->shape) * sizeof(float));
        if (wide_bias == NULL)
            return fq_op_error(err, FQ_ERR_NO_MEMORY, node, "out of memory for the bias");
        widen(bv->data, fq_shape_numel(&bv->shape), wide_bias);
        bias = wide_bias;
    }
    conv_state *made = fq_calloc(1, sizeof(*made));
    if (made == NULL) {
        fq_free(wide_bias);
        return fq_op_error(err, FQ_ERR_NO_MEMORY, node, "out of memory for the plan");
    }
    status = create_plan(graph, node, &p, bias, config, made, err);
    fq_free(wide_bias); /* the plan packs its own copy */
    if (status != FQ_OK) {
        fq_free(made);
        return status;
    }
    *state = made;
    *workspace = made->f16 != NULL ? made->f16->workspace : made->f32->workspace;
    return FQ_OK;
}

void fq_conv_release(void *state)
{
    conv_state *made = state;
    if (made == NULL)
        return;
    fq_f32_conv_plan_free(made->f32);
    fq_f16_conv_plan_free(made->f16);
    fq_free(made->pair);
    if (made->chain != NULL)
        fq_f32_nchwc_chain_release(made->chain);
    fq_free(made->chain);
    fq_free(made);
}

const char *fq_conv_kernel_name(const void *state)
{
    const conv_state *made = state;
    if (made->chain != NULL)
        return made->chain->name;
    if (made->pair != NULL)
        return made->pair->name;
    return made->f16 != NULL ? made->f16->name : made->f32->name;
}

/* Pairs node, a pointwise Conv with an fp32 plan, with next, the depthwise 3x3 Conv reading
 * its output as X, when f32_pwdw.h can run the two and expects it to pay
 * (fq_f32_pwdw_pays). */
/* A paired Conv also takes the MaxPool that reads the depthwise output when f32_pwdw.h can
 * pool its bands (fq_f32_pwdw_maxpool_applies). */
static bool fuse_maxpool(const fq_graph *graph, conv_state *made, const fq_node *next,
                         const void *next_state, size_t *workspace)
{
    fq_pool2d_f32_params p;
    fq_error err = {0};
    if (strcmp(next->op_type, "MaxPool") != 0 || next_state == NULL || next->n_outputs != 1 ||
        next->n_inputs != 1 || fq_node_input(graph, next, 0)->dtype != FQ_DTYPE_F32 ||
        fq_maxpool_f32_params(graph, next, &p, &err) != FQ_OK)
        return false;
    const fq_f32_maxpool_kernel *kernel = next_state;
    fq_f32_pwdw_plan with_pool = *made->pair;
    if (!fq_f32_pwdw_maxpool_applies(&with_pool, kernel, &p) ||
        fq_f32_pwdw_plan_add_maxpool(&with_pool, kernel, &p, &err) != FQ_OK)
        return false;
    *made->pair = with_pool;
    *workspace = *workspace > with_pool.workspace ? *workspace : with_pool.workspace;
    return true;
}

/* The state of a Conv node that can join a chain: an fp32-arithmetic plan (fp32 or fp16
 * weights); NULL for any other node. */
static const conv_state *chain_conv(const fq_node *node, const void *state)
{
    const conv_state *made = state;
    if (strcmp(node->op_type, "Conv") != 0 || made == NULL || made->f32 == NULL ||
        node->n_outputs != 1)
        return NULL;
    return made;
}

/* Input `input` of node as fp32 values (NULL for an absent input): the constant itself, or, for
 * an fp16 one, a widened copy in *wide (the caller frees it). The chain packs its own copy, and
 * the fp16-weight plans compute with exactly these values. */
static const float *f32_values(const fq_graph *graph, const fq_node *node, int input,
                               float **wide)
{
    *wide = NULL;
    if (input < 0)
        return NULL;
    const fq_value *v = fq_node_input(graph, node, input);
    if (v->dtype != FQ_DTYPE_F16)
        return v->data;
    int64_t n = fq_shape_numel(&v->shape);
    *wide = fq_malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (*wide != NULL)
        widen(v->data, n, *wide);
    return *wide;
}

/* Adds a 3x3 stem (stem true) or a pointwise Conv (as a new stage) to the chain. */
static bool chain_add_conv(fq_f32_nchwc_chain *chain, const fq_graph *graph,
                           const fq_node *node, const conv_state *conv, bool stem)
{
    float *wide_w, *wide_b;
    const float *w = f32_values(graph, node, 1, &wide_w);
    const float *b = f32_values(graph, node, bias_input(node), &wide_b);
    bool added = w != NULL && (bias_input(node) < 0 || b != NULL) &&
                 (stem ? fq_f32_nchwc_chain_add_stem(chain, &conv->f32->p, w, b)
                       : fq_f32_nchwc_chain_add_pw(chain, &conv->f32->p, w, b));
    fq_free(wide_w);
    fq_free(wide_b);
    return added;
}

/* Adds a pointwise Conv as a new stage of the chain, on planes where chains pay. */
static bool chain_add_pw(fq_f32_nchwc_chain *chain, const fq_graph *graph, const fq_node *node,
                         const conv_state *conv)
{
    const fq_conv2d_f32_params *p = &conv->f32->p;
    if (conv->f32->path != FQ_F32_CONV_POINTWISE ||
        p->in_h * p->in_w < FQ_F32_NCHWC_MIN_PIXELS)
        return false;
    return chain_add_conv(chain, graph, node, conv, false);
}

static bool chain_add_dw(fq_f32_nchwc_chain *chain, const fq_f32_conv_plan *dw)
{
    return dw->path == FQ_F32_CONV_DEPTHWISE &&
           fq_f32_nchwc_chain_add_dw(chain, &dw->p, dw->dw_weights, dw->dw_bias);
}

static bool chain_add_pool(fq_f32_nchwc_chain *chain, fq_pool2d_f32_params p)
{
    p.planes = chain->stages[chain->n_stages - 1].mid_channels;
    return fq_f32_nchwc_chain_add_pool(chain, &p);
}

static void note_role(conv_state *made, int role)
{
    made->role[made->chain_nodes] = (unsigned char)role;
    made->stage[made->chain_nodes] = (unsigned char)(made->chain->n_stages - 1);
    made->chain_nodes++;
}

/* next joins the chain of made: the depthwise Conv of the last stage, its MaxPool, or the
 * 1x1 Conv of a new stage. */
static bool extend_chain(const fq_graph *graph, conv_state *made, const fq_node *next,
                         const void *next_state, size_t *workspace)
{
    fq_f32_nchwc_chain *chain = made->chain;
    const fq_f32_nchwc_stage *last = &chain->stages[chain->n_stages - 1];
    if (made->chain_nodes >= FQ_SESSION_MAX_FUSED)
        return false;
    int role;
    if (strcmp(next->op_type, "MaxPool") == 0) {
        fq_pool2d_f32_params p;
        fq_error err = {0};
        if (next->n_outputs != 1 || next->n_inputs != 1 ||
            fq_node_input(graph, next, 0)->dtype != FQ_DTYPE_F32 ||
            fq_maxpool_f32_params(graph, next, &p, &err) != FQ_OK || !chain_add_pool(chain, p))
            return false;
        role = ROLE_POOL;
    } else {
        const conv_state *conv = chain_conv(next, next_state);
        if (conv == NULL)
            return false;
        if (conv->f32->path == FQ_F32_CONV_DEPTHWISE && !last->has_dw) {
            if (!chain_add_dw(chain, conv->f32))
                return false;
            role = ROLE_DW;
        } else {
            if (!chain_add_pw(chain, graph, next, conv))
                return false;
            role = ROLE_PW;
        }
    }
    note_role(made, role);
    *workspace = *workspace > chain->workspace ? *workspace : chain->workspace;
    return true;
}

/* An empty chain on kernel for `slots` tasks, or NULL. */
static fq_f32_nchwc_chain *new_chain(const fq_f32_nchwc_kernel *kernel, int slots)
{
    fq_f32_nchwc_chain *chain = kernel != NULL ? fq_calloc(1, sizeof(*chain)) : NULL;
    if (chain != NULL)
        fq_f32_nchwc_chain_init(chain, kernel, slots);
    return chain;
}

/* What the first nodes of a new chain are: their role and stage. */
typedef struct chain_role {
    unsigned char role, stage;
} chain_role;

/* The chain becomes made's, with the roles of its first n nodes, when every stage fitted;
 * else it is freed and made stays as it was. */
static bool adopt_chain(conv_state *made, fq_f32_nchwc_chain *chain, bool fits,
                        const chain_role *roles, int n, size_t *workspace)
{
    if (!fits) {
        fq_f32_nchwc_chain_release(chain);
        fq_free(chain);
        return false;
    }
    made->chain = chain;
    for (int i = 0; i < n; i++)
        made->role[i] = roles[i].role, made->stage[i] = roles[i].stage;
    made->chain_nodes = n;
    *workspace = *workspace > chain->workspace ? *workspace : chain->workspace;
    return true;
}

/* The fused pair of made (and its pool), then next as a second stage, as a chain; false (and
 * made unchanged) when one of them does not fit. */
static bool start_chain(const fq_graph *graph, const fq_node *node, conv_state *made,
                        const fq_node *next, const void *next_state, size_t *workspace)
{
    const conv_state *head = chain_conv(node, made);
    const conv_state *conv = chain_conv(next, next_state);
    if (head == NULL || conv == NULL)
        return false;
    fq_f32_nchwc_chain *chain =
        new_chain(fq_f32_nchwc_select(made->f32->gemm->isa), made->f32->slots);
    if (chain == NULL)
        return false;
    const fq_f32_pwdw_plan *pair = made->pair;
    bool fits = chain_add_pw(chain, graph, node, head) && chain_add_dw(chain, pair->dw) &&
                (pair->pool == NULL || chain_add_pool(chain, pair->pool_p)) &&
                chain_add_pw(chain, graph, next, conv);
    const chain_role with_pool[] = {{ROLE_PW, 0}, {ROLE_DW, 0}, {ROLE_POOL, 0}, {ROLE_PW, 1}};
    const chain_role without[] = {{ROLE_PW, 0}, {ROLE_DW, 0}, {ROLE_PW, 1}};
    return pair->pool != NULL ? adopt_chain(made, chain, fits, with_pool, 4, workspace)
                              : adopt_chain(made, chain, fits, without, 3, workspace);
}

/* A 3x3 stem Conv on the taps or im2col path (the chain sums as both do: channels and taps in
 * order, padded taps as zeros) and the Conv after it, its depthwise layer or the 1x1 of the
 * next stage, as the start of a chain. */
static bool start_stem_chain(const fq_graph *graph, const fq_node *node, conv_state *made,
                             const fq_node *next, const void *next_state, size_t *workspace)
{
    const conv_state *head = chain_conv(node, made);
    const conv_state *conv = chain_conv(next, next_state);
    if (head == NULL || conv == NULL ||
        (head->f32->path != FQ_F32_CONV_TAPS && head->f32->path != FQ_F32_CONV_IM2COL) ||
        head->f32->p.out_h * head->f32->p.out_w < FQ_F32_NCHWC_MIN_PIXELS)
        return false;
    fq_f32_nchwc_chain *chain =
        new_chain(fq_f32_nchwc_select(head->f32->gemm->isa), made->f32->slots);
    if (chain == NULL)
        return false;
    bool dw = conv->f32->path == FQ_F32_CONV_DEPTHWISE;
    bool fits = chain_add_conv(chain, graph, node, head, true) &&
                (dw ? chain_add_dw(chain, conv->f32) : chain_add_pw(chain, graph, next, conv));
    const chain_role roles[] = {{ROLE_PW, 0}, {dw ? ROLE_DW : ROLE_PW, dw ? 0 : 1}};
    return adopt_chain(made, chain, fits, roles, 2, workspace);
}

/* The Add input that is not node's output: the residual, or -1. */
static int residual_input(const fq_node *node, const fq_node *add)
{
    if (add->n_inputs != 2 || node->n_outputs != 1)
        return -1;
    if (add->inputs[0] == node->outputs[0] && add->inputs[1] != node->outputs[0])
        return 1;
    if (add->inputs[1] == node->outputs[0] && add->inputs[0] != node->outputs[0])
        return 0;
    return -1;
}

/* An fp32 Add of node's output and a tensor of the same shape (a residual block's), with no
 * activation of its own, joins the plan's GEMM tiles (fq_f32_conv_run_add): each tile adds
 * the residual while it is in L1, and the convolution's output is never written. */
static bool fuse_add(const fq_graph *graph, const fq_node *node, conv_state *made,
                     const fq_node *add)
{
    int r = residual_input(node, add);
    if (strcmp(add->op_type, "Add") != 0 || add->act.kind != FQ_ACT_NONE || r < 0 ||
        made->f32 == NULL || made->pair != NULL || made->chain != NULL ||
        add->n_outputs != 1 || !fq_f32_conv_adds(made->f32))
        return false;
    const fq_value *y = &graph->values[node->outputs[0]];
    const fq_value *residual = &graph->values[add->inputs[r]];
    const fq_value *sum = &graph->values[add->outputs[0]];
    if (y->dtype != FQ_DTYPE_F32 || residual->dtype != FQ_DTYPE_F32 ||
        sum->dtype != FQ_DTYPE_F32 || !fq_shape_equal(&y->shape, &residual->shape) ||
        !fq_shape_equal(&y->shape, &sum->shape))
        return false;
    made->adds = true;
    return true;
}

bool fq_conv_fuse_next(const fq_graph *graph, const fq_node *node, void *state,
                       const fq_node *next, void *next_state, size_t *workspace)
{
    conv_state *made = state;
    if (made != NULL && made->adds)
        return false;
    if (made != NULL && fuse_add(graph, node, made, next))
        return true;
    if (made != NULL && made->chain != NULL)
        return extend_chain(graph, made, next, next_state, workspace);
    if (made != NULL && made->pair != NULL)
        return fuse_maxpool(graph, made, next, next_state, workspace) ||
               start_chain(graph, node, made, next, next_state, workspace);
    if (made != NULL && start_stem_chain(graph, node, made, next, next_state, workspace))
        return true;
    const conv_state *following = next_state;
    if (made == NULL || following == NULL || made->f32 == NULL || following->f32 == NULL ||
        made->pair != NULL || next->op != node->op || next->n_inputs < 1 ||
        node->n_outputs != 1 || next->inputs[0] != node->outputs[0] ||
        !fq_f32_pwdw_pays(made->f32, following->f32))
        return false;
    fq_f32_pwdw_plan *pair = fq_calloc(1, sizeof(*pair));
    if (pair == NULL)
        return false;
    if (fq_f32_pwdw_plan_init(pair, made->f32, following->f32, made->f32->slots, 0, NULL) !=
        FQ_OK) {
        fq_free(pair);
        return false;
    }
    made->pair = pair;
    *workspace = *workspace > pair->workspace ? *workspace : pair->workspace;
    return true;
}

static fq_status exec_f16_planned(const fq_exec_ctx *ctx, const fq_f16_conv_plan *plan)
{
    if (ctx->workspace_size < plan->workspace)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);
    fq_f16_conv_run(plan, ctx->inputs[0].data, ctx->outputs[0].data, ctx->workspace);
    return FQ_OK;
}

/* PRELU slopes of a node's context: its last input, or NULL. */
static const float *slopes_of(const fq_exec_ctx *ctx, int64_t *count)
{
    int s = slope_input(ctx->node);
    *count = s >= 0 ? fq_shape_numel(&ctx->inputs[s].shape) : 0;
    return s >= 0 ? ctx->inputs[s].data : NULL;
}

/* This node and ctx->next through the fused plan: the next node's output is written, this
 * node's is not. */
static fq_status exec_pair(const fq_exec_ctx *ctx, const fq_f32_pwdw_plan *pair)
{
    if (ctx->workspace_size < pair->workspace)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small for the fused pair", ctx->workspace_size);
    int64_t pw_count, dw_count;
    const float *pw_slopes = slopes_of(ctx, &pw_count);
    const float *dw_slopes = slopes_of(ctx->next, &dw_count);
    const fq_exec_ctx *last = pair->pool != NULL ? ctx->next->next : ctx->next;
    if (last == NULL)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "the fused max pool's "
                           "context is missing");
    fq_f32_pwdw_run(pair, ctx->inputs[0].data, pw_slopes, pw_count, dw_slopes, dw_count,
                    last->outputs[0].data, ctx->workspace, ctx->pool);
    return FQ_OK;
}

/* This node and the ones after it through the chain: only the last node's output is
 * written. */
static fq_status exec_chain(const fq_exec_ctx *ctx, const conv_state *made)
{
    const fq_f32_nchwc_chain *chain = made->chain;
    if (ctx->workspace_size < chain->workspace)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small for the chain", ctx->workspace_size);
    fq_f32_nchwc_slopes slopes = {0};
    const fq_exec_ctx *c = ctx, *last = ctx;
    for (int i = 0; i < made->chain_nodes; i++, c = c->next) {
        if (c == NULL)
            return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "node %d of the chain's "
                               "%d has no context", i, made->chain_nodes);
        last = c;
        int s = made->stage[i];
        if (made->role[i] == ROLE_PW)
            slopes.pw[s] = slopes_of(c, &slopes.pw_count[s]);
        else if (made->role[i] == ROLE_DW)
            slopes.dw[s] = slopes_of(c, &slopes.dw_count[s]);
    }
    fq_f32_nchwc_chain_run(chain, ctx->inputs[0].data, &slopes, last->outputs[0].data,
                           ctx->workspace, ctx->pool);
    return FQ_OK;
}

/* This node and the Add after it: the Add's output is written, this node's is not. */
static fq_status exec_add(const fq_exec_ctx *ctx, const fq_f32_conv_plan *plan)
{
    if (ctx->workspace_size < plan->workspace)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);
    int r = residual_input(ctx->node, ctx->next->node);
    if (r < 0)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "the fused Add %s does not "
                           "read this node's output", ctx->next->node->name);
    int64_t count;
    const float *slopes = slopes_of(ctx, &count);
    fq_f32_conv_run_add(plan, ctx->inputs[0].data, slopes, count, ctx->next->inputs[r].data,
                        ctx->next->outputs[0].data, ctx->workspace, ctx->pool);
    return FQ_OK;
}

static fq_status exec_planned(const fq_exec_ctx *ctx, const conv_state *made)
{
    if (made->adds && ctx->next != NULL)
        return exec_add(ctx, made->f32);
    if (made->chain != NULL && ctx->next != NULL)
        return exec_chain(ctx, made);
    if (made->pair != NULL && ctx->next != NULL)
        return exec_pair(ctx, made->pair);
    if (made->f16 != NULL)
        return exec_f16_planned(ctx, made->f16);
    const fq_f32_conv_plan *plan = made->f32;
    if (ctx->workspace_size < plan->workspace)
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);
    int s = slope_input(ctx->node);
    const float *slopes = s >= 0 ? ctx->inputs[s].data : NULL;
    int64_t count = s >= 0 ? fq_shape_numel(&ctx->inputs[s].shape) : 0;
    fq_f32_conv_run(plan, ctx->inputs[0].data, slopes, count, ctx->outputs[0].data,
                    ctx->workspace, ctx->pool);
    return FQ_OK;
}

fq_status fq_conv_exec(const fq_exec_ctx *ctx)
{
    if (ctx->state != NULL)
        return exec_planned(ctx, ctx->state);
    fq_conv2d_f32_params p;
    fq_status status = conv_params(ctx->graph, ctx->node, &p, ctx->err);
    if (status != FQ_OK)
        return status;
    size_t widened = widened_weights_size(ctx->graph, ctx->node);
    size_t widened_bias = widened_bias_size(ctx->graph, ctx->node);
    if (ctx->workspace_size < widened + widened_bias + fq_ref_conv2d_f32_workspace_size(&p))
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);

    const float *w = ctx->inputs[1].data;
    if (widened > 0) {
        float *wide = ctx->workspace;
        widen(ctx->inputs[1].data, fq_shape_numel(&ctx->inputs[1].shape), wide);
        w = wide;
    }

    int s = slope_input(ctx->node);
    if (s >= 0) {
        p.act.slopes = ctx->inputs[s].data;
        p.act.slope_count = fq_shape_numel(&ctx->inputs[s].shape);
    }
    int b = bias_input(ctx->node);
    const float *bias = b >= 0 ? ctx->inputs[b].data : NULL;
    if (widened_bias > 0) {
        float *wide = (float *)(void *)((char *)ctx->workspace + widened);
        widen(ctx->inputs[b].data, fq_shape_numel(&ctx->inputs[b].shape), wide);
        bias = wide;
    }
    float *scratch = (float *)(void *)((char *)ctx->workspace + widened + widened_bias);
    fq_ref_conv2d_f32(&p, ctx->inputs[0].data, w, bias, ctx->outputs[0].data, scratch);
    return FQ_OK;
}

int64_t fq_conv_flops(const fq_graph *graph, const fq_node *node)
{
    fq_conv2d_f32_params p;
    if (conv_params(graph, node, &p, NULL) != FQ_OK)
        return 0;
    return p.batch * p.out_channels * p.out_h * p.out_w * (p.in_channels / p.groups) *
           p.kernel_h * p.kernel_w;
}
