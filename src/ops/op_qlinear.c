/* Quantized operators on u8 activations (docs/QUANTIZATION.md): QLinearAdd, QLinearAveragePool,
 * QLinearGlobalAveragePool (onnxruntime contrib semantics, plus channels_last) and
 * QLinearMatMul (ONNX opset 10). Scales and zero points are one-element inputs (per tensor);
 * QLinearMatMul's per-row and per-column forms are not supported. */
#include <string.h>

#include "ops/op_qlinear.h"
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ops/ops_tensor.h"
#include "ops/registry.h"
#include "qu8_add.h"
#include "qu8_pool.h"
#include "ref/qu8_add_ref.h"
#include "ref/qu8_matmul_ref.h"
#include "ref/qu8_pool2d_nhwc.h"
#include "ref/tensor_broadcast_ref.h"
#include "runtime/threadpool.h"

/* ---- scalar parameters ------------------------------------------------------------------ */

static fq_status require_input(const fq_graph *graph, const fq_node *node, int i,
                               fq_error *err)
{
    if (fq_node_input(graph, node, i) == NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "input %d is missing", i);
    return FQ_OK;
}

static fq_status check_data(const fq_graph *graph, const fq_node *node, int i, fq_error *err)
{
    fq_status status = require_input(graph, node, i, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, i);
    if (x->dtype != FQ_DTYPE_U8)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects u8",
                           x->name, fq_dtype_name(x->dtype));
    return FQ_OK;
}

/* Input i must be a one-element f32 scale. */
static fq_status check_scale(const fq_graph *graph, const fq_node *node, int i, fq_error *err)
{
    fq_status status = require_input(graph, node, i, err);
    if (status != FQ_OK)
        return status;
    const fq_value *s = fq_node_input(graph, node, i);
    if (s->dtype != FQ_DTYPE_F32 || fq_shape_numel(&s->shape) != 1)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "scale '%s' must be one f32 (per "
                           "tensor), is %s with %lld elements", s->name,
                           fq_dtype_name(s->dtype), (long long)fq_shape_numel(&s->shape));
    return FQ_OK;
}

/* Input i, when present, must be a one-element zero point of dtype. */
static fq_status check_zero(const fq_graph *graph, const fq_node *node, int i, fq_dtype dtype,
                            fq_error *err)
{
    const fq_value *z = fq_node_input(graph, node, i);
    if (z == NULL)
        return FQ_OK;
    if (z->dtype != dtype || fq_shape_numel(&z->shape) != 1)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "zero point '%s' must be one %s (per "
                           "tensor), is %s with %lld elements", z->name, fq_dtype_name(dtype),
                           fq_dtype_name(z->dtype), (long long)fq_shape_numel(&z->shape));
    return FQ_OK;
}

static float scale_of(const fq_exec_ctx *ctx, int i)
{
    return *(const float *)ctx->inputs[i].data;
}

/* The zero point in input i, 0 when it is omitted. */
static int32_t zero_of(const fq_exec_ctx *ctx, int i)
{
    if (i >= ctx->n_inputs || ctx->inputs[i].data == NULL)
        return 0;
    if (ctx->inputs[i].dtype == FQ_DTYPE_I8)
        return *(const int8_t *)ctx->inputs[i].data;
    return *(const uint8_t *)ctx->inputs[i].data;
}

/* n_inputs in [min, max], with the inputs in `required` (a -1 terminated list) present. */
static fq_status check_inputs(const fq_graph *graph, const fq_node *node, int min, int max,
                              const int *required, fq_error *err)
{
    if (node->n_inputs < min || node->n_inputs > max)
        return fq_op_error(err, FQ_ERR_PARSE, node, "has %d inputs, expects %d to %d",
                           node->n_inputs, min, max);
    for (int k = 0; required[k] >= 0; k++) {
        fq_status status = require_input(graph, node, required[k], err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* ---- QLinearAdd ------------------------------------------------------------------------- */

enum { ADD_A, ADD_A_SCALE, ADD_A_ZERO, ADD_B, ADD_B_SCALE, ADD_B_ZERO, ADD_C_SCALE,
       ADD_C_ZERO };

static fq_status qadd_check(const fq_graph *graph, const fq_node *node, fq_shape *out,
                            fq_error *err)
{
    static const int required[] = {ADD_A, ADD_A_SCALE, ADD_B, ADD_B_SCALE, ADD_C_SCALE, -1};
    fq_status status = check_inputs(graph, node, 7, 8, required, err);
    if (status == FQ_OK)
        status = check_data(graph, node, ADD_A, err);
    if (status == FQ_OK)
        status = check_data(graph, node, ADD_B, err);
    for (int i = ADD_A_SCALE; status == FQ_OK && i <= ADD_C_SCALE; i += 3)
        status = check_scale(graph, node, i, err);
    for (int i = ADD_A_ZERO; status == FQ_OK && i <= ADD_C_ZERO; i += 3)
        status = check_zero(graph, node, i, FQ_DTYPE_U8, err);
    if (status != FQ_OK)
        return status;
    if (node->act.kind != FQ_ACT_NONE && node->act.kind != FQ_ACT_RELU)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "fused activation %d is not "
                           "supported (only Relu)", (int)node->act.kind);

    const fq_shape *a = &fq_node_input(graph, node, ADD_A)->shape;
    const fq_shape *b = &fq_node_input(graph, node, ADD_B)->shape;
    if (fq_broadcast_shape(a, b, out) != FQ_OK) {
        char ta[96], tb[96];
        return fq_op_error(err, FQ_ERR_SHAPE, node, "shapes %s and %s do not broadcast",
                           fq_shape_format(a, ta, sizeof(ta)), fq_shape_format(b, tb, sizeof(tb)));
    }
    return fq_op_check_numel(node, out, err);
}

static fq_status qadd_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_shape out;
    fq_status status = qadd_check(graph, node, &out, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, FQ_DTYPE_U8, &out);
    return status;
}

/* Elements per task when an elementwise loop is split over threads. */
enum { QADD_CHUNK = 1 << 15 };

typedef struct qadd_job {
    const fq_qu8_add_params *p;
    fq_qu8_add_ukernel ukernel;
    int64_t n;
    const uint8_t *a, *b;
    uint8_t *c;
} qadd_job;

static void qadd_chunk(void *ctx, size_t index)
{
    const qadd_job *job = ctx;
    int64_t begin = (int64_t)index * QADD_CHUNK;
    int64_t count = job->n - begin < QADD_CHUNK ? job->n - begin : QADD_CHUNK;
    job->ukernel(job->p, count, job->a + begin, job->b + begin, job->c + begin);
}

/* The state is the kernel of fq_qu8_add_select for the session's cap (a static table entry,
 * nothing to free); without one exec uses the portable kernel. Every kernel gives the same
 * bytes. */
static fq_status qadd_prepare(const fq_graph *graph, const fq_node *node,
                              const fq_kernel_config *config, void **state, size_t *workspace,
                              fq_error *err)
{
    (void)graph;
    (void)node;
    (void)err;
    *state = (void *)fq_qu8_add_select(config->isa_cap);
    *workspace = 0;
    return FQ_OK;
}

static const char *qadd_kernel_name(const void *state)
{
    return ((const fq_qu8_add_kernel *)state)->name;
}

static fq_status qadd_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *a = &ctx->inputs[ADD_A];
    const fq_tensor *b = &ctx->inputs[ADD_B];
    fq_tensor *c = &ctx->outputs[0];
    float c_scale = scale_of(ctx, ADD_C_SCALE);
    int32_t c_zero = zero_of(ctx, ADD_C_ZERO);
    fq_qu8_add_params p = {
        .a_mult = scale_of(ctx, ADD_A_SCALE) / c_scale,
        .b_mult = scale_of(ctx, ADD_B_SCALE) / c_scale,
        .a_zero = zero_of(ctx, ADD_A_ZERO), .b_zero = zero_of(ctx, ADD_B_ZERO),
        .c_zero = c_zero, .c_min = ctx->node->act.kind == FQ_ACT_RELU ? c_zero : 0};

    int64_t n = fq_shape_numel(&c->shape);
    if (n <= 0)
        return FQ_OK;
    if (fq_shape_equal(&a->shape, &b->shape)) {
        const fq_qu8_add_kernel *kernel =
            ctx->state != NULL ? ctx->state : fq_qu8_add_select(FQ_ISA_SCALAR);
        qadd_job job = {&p, kernel->ukernel, n, a->data, b->data, c->data};
        fq_threadpool_parallel_for(ctx->pool, (size_t)((n + QADD_CHUNK - 1) / QADD_CHUNK),
                                   qadd_chunk, &job);
        return FQ_OK;
    }

    const fq_shape *operands[2] = {&a->shape, &b->shape};
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &c->shape, 2, operands);
    const uint8_t *ad = a->data, *bd = b->data;
    uint8_t *cd = c->data;
    for (int64_t row = 0; row < plan.rows; row++) {
        int64_t offsets[FQ_BROADCAST_MAX_OPERANDS];
        fq_broadcast_row_offsets(&plan, row, offsets);
        fq_qu8_add_row_ref(&p, plan.row_len, ad + offsets[0], fq_broadcast_row_step(&plan, 0),
                           bd + offsets[1], fq_broadcast_row_step(&plan, 1),
                           cd + row * plan.row_len);
    }
    return FQ_OK;
}

/* ---- the quantized pools ---------------------------------------------------------------- */

fq_status fq_op_channels_last(const fq_node *node, bool *channels_last, fq_error *err)
{
    int64_t value = fq_node_attr_int(node, "channels_last", 0);
    if (value != 0 && value != 1)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "channels_last is %lld, expects 0 "
                           "or 1", (long long)value);
    *channels_last = value == 1;
    return FQ_OK;
}

/* x's shape with the channels moved to axis 1 (the order fq_window_resolve reads). */
static fq_shape channels_first_shape(const fq_shape *x, bool channels_last)
{
    fq_shape s = *x;
    if (!channels_last)
        return s;
    s.dims[1] = x->dims[x->rank - 1];
    for (int d = 2; d < x->rank; d++)
        s.dims[d] = x->dims[d - 1];
    return s;
}

/* The inverse of channels_first_shape. */
static fq_shape node_layout_shape(const fq_shape *s, bool channels_last)
{
    fq_shape out = *s;
    if (!channels_last)
        return out;
    for (int d = 1; d < s->rank - 1; d++)
        out.dims[d] = s->dims[d + 1];
    out.dims[s->rank - 1] = s->dims[1];
    return out;
}

static fq_status pool_rank(const fq_node *node, const fq_shape *x, bool channels_last,
                           fq_error *err)
{
    if (x->rank == 4 || (x->rank == 3 && !channels_last))
        return FQ_OK;
    return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "u8 pooling takes rank 4%s input, not "
                       "rank %d", channels_last ? "" : " or 3", x->rank);
}

static void fill_window(const fq_shape *nc, const fq_window *win, bool count_include_pad,
                        fq_pool2d_f32_params *p)
{
    int h = win->spatial == 2 ? 0 : -1;
    int w = win->spatial - 1;
    *p = (fq_pool2d_f32_params){
        .planes = nc->dims[0] * nc->dims[1],
        .in_h = h >= 0 ? win->in[h] : 1, .in_w = win->in[w],
        .out_h = h >= 0 ? win->out[h] : 1, .out_w = win->out[w],
        .kernel_h = h >= 0 ? win->kernel[h] : 1, .kernel_w = win->kernel[w],
        .stride_h = h >= 0 ? win->stride[h] : 1, .stride_w = win->stride[w],
        .dilation_h = h >= 0 ? win->dilation[h] : 1, .dilation_w = win->dilation[w],
        .pad_top = h >= 0 ? win->pad_begin[h] : 0, .pad_left = win->pad_begin[w],
        .pad_bottom = h >= 0 ? win->pad_end[h] : 0, .pad_right = win->pad_end[w],
        .count_include_pad = count_include_pad};
}

fq_status fq_qu8_pool_geometry(const fq_graph *graph, const fq_node *node, bool ceil_mode,
                               fq_qu8_pool_params *p, fq_shape *out, fq_error *err)
{
    memset(p, 0, sizeof(*p));
    fq_status status = fq_op_channels_last(node, &p->channels_last, err);
    if (status != FQ_OK)
        return status;
    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    status = pool_rank(node, x, p->channels_last, err);
    if (status != FQ_OK)
        return status;

    fq_shape nc = channels_first_shape(x, p->channels_last);
    int spatial = nc.rank - 2;
    int64_t kernel[2];
    if (fq_node_attr_ints(node, "kernel_shape", kernel, 2) != spatial)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "kernel_shape must have %d entries",
                           spatial);
    fq_window win;
    status = fq_window_resolve(node, &nc, kernel, ceil_mode, &win, err);
    if (status != FQ_OK)
        return status;

    bool include_pad = fq_node_attr_int(node, "count_include_pad", 0) != 0;
    fill_window(&nc, &win, include_pad, &p->window);
    p->channels = nc.dims[1];
    fq_shape y = nc;
    for (int d = 0; d < spatial; d++)
        y.dims[2 + d] = win.out[d];
    *out = node_layout_shape(&y, p->channels_last);
    return FQ_OK;
}

enum { POOL_X, POOL_X_SCALE, POOL_X_ZERO, POOL_Y_SCALE, POOL_Y_ZERO };

static fq_status qpool_inputs(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    static const int required[] = {POOL_X, POOL_X_SCALE, POOL_Y_SCALE, -1};
    fq_status status = check_inputs(graph, node, 4, 5, required, err);
    if (status == FQ_OK)
        status = check_data(graph, node, POOL_X, err);
    if (status == FQ_OK)
        status = check_scale(graph, node, POOL_X_SCALE, err);
    if (status == FQ_OK)
        status = check_scale(graph, node, POOL_Y_SCALE, err);
    if (status == FQ_OK)
        status = check_zero(graph, node, POOL_X_ZERO, FQ_DTYPE_U8, err);
    if (status == FQ_OK)
        status = check_zero(graph, node, POOL_Y_ZERO, FQ_DTYPE_U8, err);
    return status;
}

static fq_status qavgpool_plan(const fq_graph *graph, const fq_node *node,
                               fq_qu8_pool_params *p, fq_shape *out, fq_error *err)
{
    fq_status status = qpool_inputs(graph, node, err);
    if (status != FQ_OK)
        return status;
    int64_t dilations[2];
    int n = fq_node_attr_ints(node, "dilations", dilations, 2);
    for (int i = 0; i < n; i++)
        if (dilations[i] != 1)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "dilations %lld are not "
                               "supported", (long long)dilations[i]);
    bool ceil_mode = fq_node_attr_int(node, "ceil_mode", 0) != 0;
    return fq_qu8_pool_geometry(graph, node, ceil_mode, p, out, err);
}

static fq_status qavgpool_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_qu8_pool_params p;
    fq_shape out;
    fq_status status = qavgpool_plan(graph, node, &p, &out, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, FQ_DTYPE_U8, &out);
    return status;
}

static void pool_requant(const fq_exec_ctx *ctx, fq_qu8_pool_params *p)
{
    p->multiplier = scale_of(ctx, POOL_X_SCALE) / scale_of(ctx, POOL_Y_SCALE);
    p->x_zero = zero_of(ctx, POOL_X_ZERO);
    p->y_zero = zero_of(ctx, POOL_Y_ZERO);
}

/* The state is the kernel of fq_qu8_avgpool_select (a static table entry) when the driver
 * takes the node's window (NHWC, at most FQ_QU8_AVGPOOL_MAX_TAPS taps); otherwise NULL and exec
 * runs the reference. Every kernel gives the same bytes. */
static fq_status qavgpool_prepare(const fq_graph *graph, const fq_node *node,
                                  const fq_kernel_config *config, void **state,
                                  size_t *workspace, fq_error *err)
{
    fq_qu8_pool_params p;
    fq_shape out;
    *state = NULL;
    *workspace = 0;
    fq_status status = qavgpool_plan(graph, node, &p, &out, err);
    if (status == FQ_OK && fq_qu8_avgpool2d_nhwc_takes(&p))
        *state = (void *)fq_qu8_avgpool_select(config->isa_cap);
    return status;
}

static const char *qavgpool_kernel_name(const void *state)
{
    return ((const fq_qu8_avgpool_kernel *)state)->name;
}

/* Output rows per task: enough work to outweigh handing a task out. */
enum { QPOOL_ROWS_PER_TASK = 4 };

typedef struct qavgpool_job {
    const fq_qu8_avgpool_kernel *kernel;
    const fq_qu8_pool_params *p;
    const uint8_t *x;
    uint8_t *y;
    int64_t rows;
} qavgpool_job;

static void qavgpool_rows(void *ctx, size_t index)
{
    const qavgpool_job *job = ctx;
    int64_t begin = (int64_t)index * QPOOL_ROWS_PER_TASK;
    int64_t end = begin + QPOOL_ROWS_PER_TASK < job->rows ? begin + QPOOL_ROWS_PER_TASK
                                                          : job->rows;
    fq_qu8_avgpool2d_nhwc_rows(job->kernel, job->p, job->x, job->y, begin, end);
}

static fq_status qavgpool_exec(const fq_exec_ctx *ctx)
{
    fq_qu8_pool_params p;
    fq_shape out;
    fq_status status = qavgpool_plan(ctx->graph, ctx->node, &p, &out, ctx->err);
    if (status != FQ_OK)
        return status;
    pool_requant(ctx, &p);
    const uint8_t *x = ctx->inputs[POOL_X].data;
    uint8_t *y = ctx->outputs[0].data;
    if (!p.channels_last) {
        fq_qu8_avgpool2d_ref(&p, x, y);
        return FQ_OK;
    }
    if (ctx->state == NULL) {
        fq_qu8_avgpool2d_nhwc__scalar(&p, x, y);
        return FQ_OK;
    }

    int64_t rows = p.channels > 0 ? p.window.planes / p.channels * p.window.out_h : 0;
    qavgpool_job job = {ctx->state, &p, x, y, rows};
    size_t tasks = (size_t)((rows + QPOOL_ROWS_PER_TASK - 1) / QPOOL_ROWS_PER_TASK);
    fq_threadpool_parallel_for(ctx->pool, tasks, qavgpool_rows, &job);
    return FQ_OK;
}

/* Global pooling: every spatial axis (NCHW: 2.., NHWC: 1 .. rank-2) goes to 1. */
static fq_status qglobal_plan(const fq_graph *graph, const fq_node *node,
                              fq_qu8_pool_params *p, int64_t *size, fq_shape *out,
                              fq_error *err)
{
    memset(p, 0, sizeof(*p));
    fq_status status = qpool_inputs(graph, node, err);
    if (status == FQ_OK)
        status = fq_op_channels_last(node, &p->channels_last, err);
    if (status != FQ_OK)
        return status;
    const fq_shape *x = &fq_node_input(graph, node, POOL_X)->shape;
    if (x->rank < 3)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input rank %d, expects at least 3",
                           x->rank);
    fq_shape nc = channels_first_shape(x, p->channels_last);
    *size = 1;
    for (int d = 2; d < nc.rank; d++) {
        if (nc.dims[d] < 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "empty spatial dimension");
        *size *= nc.dims[d];
        nc.dims[d] = 1;
    }
    p->channels = nc.dims[1];
    p->window.planes = nc.dims[0] * nc.dims[1];
    *out = node_layout_shape(&nc, p->channels_last);
    return FQ_OK;
}

static fq_status qglobal_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_qu8_pool_params p;
    int64_t size;
    fq_shape out;
    fq_status status = qglobal_plan(graph, node, &p, &size, &out, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, FQ_DTYPE_U8, &out);
    return status;
}

static fq_status qglobal_exec(const fq_exec_ctx *ctx)
{
    fq_qu8_pool_params p;
    int64_t size;
    fq_shape out;
    fq_status status = qglobal_plan(ctx->graph, ctx->node, &p, &size, &out, ctx->err);
    if (status != FQ_OK)
        return status;
    pool_requant(ctx, &p);
    fq_qu8_global_avgpool_ref(&p, size, ctx->inputs[POOL_X].data, ctx->outputs[0].data);
    return FQ_OK;
}

/* ---- QLinearMatMul ---------------------------------------------------------------------- */

enum { MM_A, MM_A_SCALE, MM_A_ZERO, MM_B, MM_B_SCALE, MM_B_ZERO, MM_Y_SCALE, MM_Y_ZERO };

/* Batches of matrices: batch dims right-aligned and broadcast, as MatMul. */
typedef struct qmatmul_dims {
    int batch_rank;
    int64_t batch[FQ_MAX_RANK];
    int64_t a_stride[FQ_MAX_RANK]; /* matrices per batch step; 0 where broadcast */
    int64_t b_stride[FQ_MAX_RANK];
    int64_t m, n, k;
    fq_shape out;
} qmatmul_dims;

static fq_status check_8bit(const fq_graph *graph, const fq_node *node, int i, fq_error *err)
{
    const fq_value *v = fq_node_input(graph, node, i);
    if (v->dtype != FQ_DTYPE_U8 && v->dtype != FQ_DTYPE_I8)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects u8 or i8",
                           v->name, fq_dtype_name(v->dtype));
    if (v->shape.rank < 2)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' has rank %d; 1-D "
                           "operands are not supported", v->name, v->shape.rank);
    return FQ_OK;
}

static void matrix_strides(const fq_shape *s, qmatmul_dims *d, int64_t *strides)
{
    int own = s->rank - 2;
    int64_t stride = 1;
    for (int i = d->batch_rank - 1; i >= 0; i--) {
        int j = i - (d->batch_rank - own);
        int64_t dim = j >= 0 ? s->dims[j] : 1;
        strides[i] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
}

static fq_status qmatmul_dtypes(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    static const int required[] = {0, 1, 2, 3, 4, 5, 6, 7, -1};
    fq_status status = check_inputs(graph, node, 8, 8, required, err);
    if (status == FQ_OK)
        status = check_8bit(graph, node, MM_A, err);
    if (status == FQ_OK)
        status = check_8bit(graph, node, MM_B, err);
    for (int i = MM_A_SCALE; status == FQ_OK && i <= MM_Y_SCALE; i += 3)
        status = check_scale(graph, node, i, err);
    if (status != FQ_OK)
        return status;
    fq_dtype y_dtype = fq_node_input(graph, node, MM_Y_ZERO)->dtype;
    if (y_dtype != FQ_DTYPE_U8 && y_dtype != FQ_DTYPE_I8)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "y_zero_point is %s, expects u8 or "
                           "i8", fq_dtype_name(y_dtype));
    status = check_zero(graph, node, MM_A_ZERO, fq_node_input(graph, node, MM_A)->dtype, err);
    if (status == FQ_OK)
        status = check_zero(graph, node, MM_B_ZERO, fq_node_input(graph, node, MM_B)->dtype,
                            err);
    if (status == FQ_OK)
        status = check_zero(graph, node, MM_Y_ZERO, y_dtype, err);
    return status;
}

static fq_status qmatmul_shape(const fq_graph *graph, const fq_node *node, qmatmul_dims *d,
                               fq_error *err)
{
    fq_status status = qmatmul_dtypes(graph, node, err);
    if (status != FQ_OK)
        return status;
    const fq_shape *a = &fq_node_input(graph, node, MM_A)->shape;
    const fq_shape *b = &fq_node_input(graph, node, MM_B)->shape;
    d->m = a->dims[a->rank - 2];
    d->k = a->dims[a->rank - 1];
    d->n = b->dims[b->rank - 1];
    if (b->dims[b->rank - 2] != d->k)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "inner dimensions differ: %lld and %lld",
                           (long long)d->k, (long long)b->dims[b->rank - 2]);

    fq_shape ab = {.rank = a->rank - 2}, bb = {.rank = b->rank - 2}, batch;
    memcpy(ab.dims, a->dims, sizeof(int64_t) * (size_t)ab.rank);
    memcpy(bb.dims, b->dims, sizeof(int64_t) * (size_t)bb.rank);
    if (fq_broadcast_shape(&ab, &bb, &batch) != FQ_OK || batch.rank + 2 > FQ_MAX_RANK)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "batch dimensions do not broadcast");
    d->batch_rank = batch.rank;
    memcpy(d->batch, batch.dims, sizeof(batch.dims));
    matrix_strides(a, d, d->a_stride);
    matrix_strides(b, d, d->b_stride);
    d->out = batch;
    d->out.dims[d->out.rank++] = d->m;
    d->out.dims[d->out.rank++] = d->n;
    return fq_op_check_numel(node, &d->out, err);
}

static fq_status qmatmul_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    qmatmul_dims d;
    fq_status status = qmatmul_shape(graph, node, &d, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, fq_node_input(graph, node, MM_Y_ZERO)->dtype, &d.out);
    return status;
}

static fq_status qmatmul_exec(const fq_exec_ctx *ctx)
{
    qmatmul_dims d;
    fq_status status = qmatmul_shape(ctx->graph, ctx->node, &d, ctx->err);
    if (status != FQ_OK)
        return status;
    fq_q8_matmul_params p = {
        .m = d.m, .n = d.n, .k = d.k,
        .a_signed = ctx->inputs[MM_A].dtype == FQ_DTYPE_I8,
        .b_signed = ctx->inputs[MM_B].dtype == FQ_DTYPE_I8,
        .y_signed = ctx->outputs[0].dtype == FQ_DTYPE_I8,
        .a_zero = zero_of(ctx, MM_A_ZERO), .b_zero = zero_of(ctx, MM_B_ZERO),
        .y_zero = zero_of(ctx, MM_Y_ZERO),
        .multiplier = (double)scale_of(ctx, MM_A_SCALE) * (double)scale_of(ctx, MM_B_SCALE) /
                      (double)scale_of(ctx, MM_Y_SCALE)};

    int64_t batches = 1;
    for (int i = 0; i < d.batch_rank; i++)
        batches *= d.batch[i];
    const uint8_t *a = ctx->inputs[MM_A].data;
    const uint8_t *b = ctx->inputs[MM_B].data;
    uint8_t *y = ctx->outputs[0].data;
    int64_t coord[FQ_MAX_RANK] = {0};
    for (int64_t t = 0; t < batches; t++) {
        int64_t ai = 0, bi = 0;
        for (int i = 0; i < d.batch_rank; i++) {
            ai += coord[i] * d.a_stride[i];
            bi += coord[i] * d.b_stride[i];
        }
        fq_q8_matmul_ref(&p, a + ai * d.m * d.k, b + bi * d.k * d.n, y + t * d.m * d.n);
        for (int i = d.batch_rank - 1; i >= 0; i--) {
            if (++coord[i] < d.batch[i])
                break;
            coord[i] = 0;
        }
    }
    return FQ_OK;
}

static int64_t qmatmul_flops(const fq_graph *graph, const fq_node *node)
{
    qmatmul_dims d;
    if (qmatmul_shape(graph, node, &d, NULL) != FQ_OK)
        return 0;
    int64_t macs = d.m * d.n * d.k;
    for (int i = 0; i < d.batch_rank; i++)
        macs *= d.batch[i];
    return macs;
}

/* ---- the table -------------------------------------------------------------------------- */

/* The onnxruntime contrib ops live in the com.microsoft domain, whose version is not the
 * default domain's opset: any opset binds. */
const fq_op_info fq_ops_qlinear[] = {
    {.name = "QLinearAdd", .min_opset = 1, .max_opset = 99, .infer = qadd_infer,
     .exec = qadd_exec, .flops = fq_op_output_numel, .prepare = qadd_prepare,
     .kernel_name = qadd_kernel_name},
    {.name = "QLinearAveragePool", .min_opset = 1, .max_opset = 99, .infer = qavgpool_infer,
     .exec = qavgpool_exec, .flops = fq_op_output_numel, .prepare = qavgpool_prepare,
     .kernel_name = qavgpool_kernel_name},
    {.name = "QLinearGlobalAveragePool", .min_opset = 1, .max_opset = 99,
     .infer = qglobal_infer, .exec = qglobal_exec, .flops = fq_op_output_numel},
    {.name = "QLinearMatMul", .min_opset = 10, .max_opset = 17, .infer = qmatmul_infer,
     .exec = qmatmul_exec, .flops = qmatmul_flops},
};
const int fq_ops_qlinear_count = (int)(sizeof(fq_ops_qlinear) / sizeof(fq_ops_qlinear[0]));
