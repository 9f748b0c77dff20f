/* MaxPool, AveragePool (1-D and 2-D) and GlobalAveragePool, GlobalMaxPool (any rank >= 3), in
 * f32; MaxPool also on u8 (ONNX has it from opset 12; it is accepted at every opset, since the
 * quantizer writes it), in NCHW or, with channels_last = 1, NHWC. MaxPool's Indices output and
 * 3-D pooling are not supported. */
#include <string.h>

#include "f32_maxpool.h"
#include "f32_pool.h"
#include "qu8_pool.h"

#include "ops/op_qlinear.h"
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ref/f32_pool2d_ref.h"
#include "ref/qu8_pool2d_nhwc.h"
#include "runtime/threadpool.h"

static fq_status pool_input(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status == FQ_OK)
        status = fq_op_require_f32(graph, node, 0, err);
    if (status != FQ_OK)
        return status;
    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    if (x->rank == 5)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "3-D pooling (input rank 5) is not "
                           "supported; only 1-D and 2-D");
    if (x->rank < 3 || x->rank > 4)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input rank %d, expects 3 or 4", x->rank);
    return FQ_OK;
}

/* The kernel parameters of a MaxPool or AveragePool node. */
static fq_status pool_params(const fq_graph *graph, const fq_node *node,
                             fq_pool2d_f32_params *p, fq_error *err)
{
    fq_status status = pool_input(graph, node, err);
    if (status != FQ_OK)
        return status;
    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    int spatial = x->rank - 2;
    int64_t kernel[2];
    if (fq_node_attr_ints(node, "kernel_shape", kernel, 2) != spatial)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "kernel_shape must have %d entries",
                           spatial);
    bool ceil_mode = graph->opset >= 10 && fq_node_attr_int(node, "ceil_mode", 0) != 0;
    fq_window win;
    status = fq_window_resolve(node, x, kernel, ceil_mode, &win, err);
    if (status != FQ_OK)
        return status;

    int h = spatial == 2 ? 0 : -1;
    int w = spatial - 1;
    *p = (fq_pool2d_f32_params){
        .planes = x->dims[0] * x->dims[1],
        .in_h = h >= 0 ? win.in[h] : 1, .in_w = win.in[w],
        .out_h = h >= 0 ? win.out[h] : 1, .out_w = win.out[w],
        .kernel_h = h >= 0 ? win.kernel[h] : 1, .kernel_w = win.kernel[w],
        .stride_h = h >= 0 ? win.stride[h] : 1, .stride_w = win.stride[w],
        .dilation_h = h >= 0 ? win.dilation[h] : 1, .dilation_w = win.dilation[w],
        .pad_top = h >= 0 ? win.pad_begin[h] : 0, .pad_left = win.pad_begin[w],
        .pad_bottom = h >= 0 ? win.pad_end[h] : 0, .pad_right = win.pad_end[w],
        .count_include_pad = fq_node_attr_int(node, "count_include_pad", 0) != 0};
    return FQ_OK;
}

fq_status fq_maxpool_f32_params(const fq_graph *graph, const fq_node *node,
                                fq_pool2d_f32_params *p, fq_error *err)
{
    return pool_params(graph, node, p, err);
}

static void set_pool_output(fq_graph *graph, const fq_node *node, const fq_pool2d_f32_params *p)
{
    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    fq_shape out = *x;
    out.dims[x->rank - 1] = p->out_w;
    if (x->rank == 4)
        out.dims[2] = p->out_h;
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &out);
}

/* True when node's input 0 is u8: the u8 MaxPool. */
static bool is_u8_pool(const fq_graph *graph, const fq_node *node)
{
    const fq_value *x = fq_node_input(graph, node, 0);
    return x != NULL && x->dtype == FQ_DTYPE_U8;
}

static fq_status maxpool_u8_plan(const fq_graph *graph, const fq_node *node,
                                 fq_qu8_pool_params *p, fq_shape *out, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    bool ceil_mode = graph->opset >= 10 && fq_node_attr_int(node, "ceil_mode", 0) != 0;
    return fq_qu8_pool_geometry(graph, node, ceil_mode, p, out, err);
}

/* The f32 kernels read NCHW only. */
static fq_status refuse_channels_last(const fq_node *node, fq_error *err)
{
    bool channels_last = false;
    fq_status status = fq_op_channels_last(node, &channels_last, err);
    if (status == FQ_OK && channels_last)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "channels_last = 1 is supported "
                           "for u8 input only");
    return status;
}

fq_status fq_maxpool_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_single_output(node, "Indices", err);
    if (status == FQ_OK && fq_node_attr_int(node, "storage_order", 0) != 0)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "storage_order %lld is not "
                           "supported", (long long)fq_node_attr_int(node, "storage_order", 0));
    if (status == FQ_OK && is_u8_pool(graph, node)) {
        fq_qu8_pool_params q;
        fq_shape out;
        status = maxpool_u8_plan(graph, node, &q, &out, err);
        if (status == FQ_OK)
            fq_op_set_output(graph, node, 0, FQ_DTYPE_U8, &out);
        return status;
    }
    fq_pool2d_f32_params p;
    if (status == FQ_OK)
        status = refuse_channels_last(node, err);
    if (status == FQ_OK)
        status = pool_params(graph, node, &p, err);
    if (status == FQ_OK)
        set_pool_output(graph, node, &p);
    return status;
}

/* u8 NCHW input runs the reference (no state). NHWC input gets the max kernel and one row
 * buffer of its driver (qu8_pool.h) per thread. */
static fq_status prepare_u8(const fq_graph *graph, const fq_node *node,
                            const fq_kernel_config *config, void **state, size_t *workspace,
                            fq_error *err)
{
    fq_qu8_pool_params p;
    fq_shape out;
    fq_status status = maxpool_u8_plan(graph, node, &p, &out, err);
    if (status != FQ_OK || !p.channels_last)
        return status;
    *state = (void *)fq_qu8_maxpool_select(config->isa_cap);
    *workspace = (size_t)fq_threadpool_size(config->pool) * fq_qu8_maxpool2d_nhwc_buffer_size(&p);
    return FQ_OK;
}

/* The state is the chosen kernel (static data, nothing to release): for u8 NHWC input a
 * fq_qu8_maxpool_kernel, for f32 an fq_f32_maxpool_kernel; NULL runs the reference. */
fq_status fq_maxpool_prepare(const fq_graph *graph, const fq_node *node,
                             const fq_kernel_config *config, void **state, size_t *workspace,
                             fq_error *err)
{
    *state = NULL;
    *workspace = 0;
    if (is_u8_pool(graph, node))
        return prepare_u8(graph, node, config, state, workspace, err);
    fq_pool2d_f32_params p;
    fq_status status = pool_params(graph, node, &p, err);
    if (status == FQ_OK)
        *state = (void *)fq_f32_maxpool_select(config->isa_cap, &p);
    return status;
}

/* Both kernel structs start with the name. */
const char *fq_maxpool_kernel_name(const void *state)
{
    return *(const char *const *)state;
}

typedef struct maxpool_job {
    const fq_f32_maxpool_kernel *kernel;
    const fq_pool2d_f32_params *p;
    const float *x;
    float *y;
} maxpool_job;

static void maxpool_plane(void *ctx, size_t index)
{
    const maxpool_job *job = ctx;
    const fq_pool2d_f32_params *p = job->p;
    job->kernel->ukernel(p, job->x + (int64_t)index * p->in_h * p->in_w,
                         job->y + (int64_t)index * p->out_h * p->out_w);
}

/* The u8 NHWC pool's rows in one contiguous range per task, each task with its own row buffer
 * (the workspace holds one per thread). */
typedef struct maxpool_u8_job {
    const fq_qu8_maxpool_kernel *kernel;
    const fq_qu8_pool_params *p;
    const uint8_t *x;
    uint8_t *y;
    int64_t rows;
    size_t tasks;
    uint8_t *buffers;
    size_t buffer_size;
} maxpool_u8_job;

static void maxpool_u8_rows(void *ctx, size_t index)
{
    const maxpool_u8_job *job = ctx;
    int64_t begin = job->rows * (int64_t)index / (int64_t)job->tasks;
    int64_t end = job->rows * (int64_t)(index + 1) / (int64_t)job->tasks;
    fq_qu8_maxpool2d_nhwc_rows(job->kernel, job->p, job->x, job->y, begin, end,
                               job->buffers + index * job->buffer_size);
}

static fq_status maxpool_u8_exec(const fq_exec_ctx *ctx)
{
    fq_qu8_pool_params p;
    fq_shape out;
    fq_status status = maxpool_u8_plan(ctx->graph, ctx->node, &p, &out, ctx->err);
    if (status != FQ_OK)
        return status;
    if (!p.channels_last) {
        fq_qu8_maxpool2d_ref(&p, ctx->inputs[0].data, ctx->outputs[0].data);
        return FQ_OK;
    }

    /* Without a state (constant folding) or a row buffer, the portable NHWC kernel: every
     * kernel gives the same bytes. */
    size_t buffer_size = fq_qu8_maxpool2d_nhwc_buffer_size(&p);
    size_t threads = (size_t)fq_threadpool_size(ctx->pool);
    size_t buffers = buffer_size > 0 ? ctx->workspace_size / buffer_size : 0;
    if (ctx->state == NULL || buffers == 0) {
        fq_qu8_maxpool2d_nhwc__scalar(&p, ctx->inputs[0].data, ctx->outputs[0].data);
        return FQ_OK;
    }

    maxpool_u8_job job = {.kernel = ctx->state, .p = &p, .x = ctx->inputs[0].data,
                          .y = ctx->outputs[0].data, .buffers = ctx->workspace,
                          .buffer_size = buffer_size};
    job.rows = p.channels > 0 ? p.window.planes / p.channels * p.window.out_h : 0;
    job.tasks = threads < buffers ? threads : buffers;
    if ((int64_t)job.tasks > job.rows)
        job.tasks = (size_t)job.rows;
    fq_threadpool_parallel_for(ctx->pool, job.tasks, maxpool_u8_rows, &job);
    return FQ_OK;
}

fq_status fq_maxpool_exec(const fq_exec_ctx *ctx)
{
    if (ctx->inputs[0].dtype == FQ_DTYPE_U8)
        return maxpool_u8_exec(ctx);
    fq_pool2d_f32_params p;
    fq_status status = pool_params(ctx->graph, ctx->node, &p, ctx->err);
    if (status != FQ_OK)
        return status;
    if (ctx->state == NULL) {
        fq_ref_maxpool2d_f32(&p, ctx->inputs[0].data, ctx->outputs[0].data);
        return FQ_OK;
    }
    maxpool_job job = {ctx->state, &p, ctx->inputs[0].data, ctx->outputs[0].data};
    fq_threadpool_parallel_for(ctx->pool, (size_t)p.planes, maxpool_plane, &job);
    return FQ_OK;
}

fq_status fq_avgpool_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    int64_t dilations[2];
    int n = fq_node_attr_ints(node, "dilations", dilations, 2);
    for (int i = 0; i < n; i++)
        if (dilations[i] != 1)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "dilations %lld are not "
                               "supported (AveragePool before opset 19 has none)",
                               (long long)dilations[i]);
    fq_pool2d_f32_params p;
    fq_status status = pool_params(graph, node, &p, err);
    if (status == FQ_OK)
        set_pool_output(graph, node, &p);
    return status;
}

/* The state is the kernel of fq_f32_avgpool_select (a static table entry), or NULL: the
 * reference. */
fq_status fq_avgpool_prepare(const fq_graph *graph, const fq_node *node,
                             const fq_kernel_config *config, void **state, size_t *workspace,
                             fq_error *err)
{
    fq_pool2d_f32_params p;
    *state = NULL;
    *workspace = 0;
    fq_status status = pool_params(graph, node, &p, err);
    if (status == FQ_OK)
        *state = (void *)fq_f32_avgpool_select(config->isa_cap, &p);
    return status;
}

const char *fq_avgpool_kernel_name(const void *state)
{
    return ((const fq_f32_avgpool_kernel *)state)->name;
}

typedef struct avgpool_job {
    const fq_f32_avgpool_kernel *kernel;
    const fq_pool2d_f32_params *p;
    const float *x;
    float *y;
} avgpool_job;

static void avgpool_plane(void *ctx, size_t index)
{
    const avgpool_job *job = ctx;
    const fq_pool2d_f32_params *p = job->p;
    job->kernel->ukernel(p, job->x + (int64_t)index * p->in_h * p->in_w,
                         job->y + (int64_t)index * p->out_h * p->out_w);
}

fq_status fq_avgpool_exec(const fq_exec_ctx *ctx)
{
    fq_pool2d_f32_params p;
    fq_status status = pool_params(ctx->graph, ctx->node, &p, ctx->err);
    if (status != FQ_OK)
        return status;
    if (ctx->state == NULL) {
        fq_ref_avgpool2d_f32(&p, ctx->inputs[0].data, ctx->outputs[0].data);
        return FQ_OK;
    }
    avgpool_job job = {ctx->state, &p, ctx->inputs[0].data, ctx->outputs[0].data};
    fq_threadpool_parallel_for(ctx->pool, (size_t)p.planes, avgpool_plane, &job);
    return FQ_OK;
}

fq_status fq_global_pool_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status == FQ_OK)
        status = fq_op_require_f32(graph, node, 0, err);
    if (status != FQ_OK)
        return status;
    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    if (x->rank < 3)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input rank %d, expects at least 3",
                           x->rank);
    fq_shape out = *x;
    for (int d = 2; d < x->rank; d++) {
        if (x->dims[d] < 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "empty spatial dimension %d", d);
        out.dims[d] = 1;
    }
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &out);
    return FQ_OK;
}

/* Planes (N * C) and elements per plane of a global pool's input. */
static void global_extent(const fq_tensor *x, int64_t *planes, int64_t *size)
{
    *planes = x->shape.dims[0] * x->shape.dims[1];
    *size = 1;
    for (int d = 2; d < x->shape.rank; d++)
        *size *= x->shape.dims[d];
}

fq_status fq_global_avgpool_exec(const fq_exec_ctx *ctx)
{
    int64_t planes, size;
    global_extent(&ctx->inputs[0], &planes, &size);
    fq_ref_global_avgpool_f32(planes, size, ctx->inputs[0].data, ctx->outputs[0].data);
    return FQ_OK;
}

fq_status fq_global_maxpool_exec(const fq_exec_ctx *ctx)
{
    int64_t planes, size;
    global_extent(&ctx->inputs[0], &planes, &size);
    fq_ref_global_maxpool_f32(planes, size, ctx->inputs[0].data, ctx->outputs[0].data);
    return FQ_OK;
}
