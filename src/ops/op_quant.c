/* QuantizeLinear and DequantizeLinear (opsets 10 to 17): per-tensor parameters, and per-axis
 * parameters (a 1-D scale along the axis attribute) from opset 13.
 *
 * Execution splits the tensor over the thread pool: per-tensor parameters in spans of
 * QDQ_CHUNK elements, per-axis parameters in runs of whole channel rows. Every span is computed
 * by the reference functions of ref/qdq_ref.h (or, for f32 -> u8 per tensor, by
 * fq_quantize_u8_span, equal to them bit for bit), so the result does not depend on the split.
 *
 * fq_op_quantize_linear_prepare gives f32 -> u8 per-tensor QuantizeLinear the input quantizer
 * of kernels/qs8_gemm_i32.h allowed under the session's cap (AVX2 where the CPU has it), which
 * its tests prove equal to the reference bit for bit; without that state exec uses
 * fq_quantize_u8_span.
 *
 * A QuantizeLinear with the attribute channels_last = 1 (set by fq_pass_channels_last on the
 * entry of an int8 region) reads a 4-D NCHW float tensor and writes u8 NHWC: QuantizeLinear
 * then Transpose (0, 2, 3, 1) in one pass (kernels/f32_quantize_u8_nchw2nhwc.h). It takes
 * per-tensor parameters and a u8 output only, and splits each image into runs of whole rows. */
#include "f32_quantize_u8_nchw2nhwc.h"
#include "ops/ops_tensor.h"
#include "qs8_gemm_i32.h"
#include "ref/qdq_ref.h"
#include "runtime/threadpool.h"

/* Checks scale and zero point against x and fills the [outer, channels, inner] layout. */
static fq_status qdq_layout(const fq_graph *graph, const fq_node *node, const fq_shape *x,
                            const fq_value *scale, const fq_value *zero_point,
                            fq_qdq_layout *layout, fq_error *err)
{
    if (scale->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "scale '%s' is %s, expects f32",
                           scale->name, fq_dtype_name(scale->dtype));
    if (zero_point != NULL && !fq_shape_equal(&zero_point->shape, &scale->shape))
        return fq_op_error(err, FQ_ERR_SHAPE, node, "zero point '%s' and scale '%s' differ in "
                           "shape", zero_point->name, scale->name);
    int64_t numel = fq_shape_numel(x);
    /* A one-element 1-D scale is per-tensor too, as ONNX Runtime treats it. */
    if (scale->shape.rank == 0 || (scale->shape.rank == 1 && scale->shape.dims[0] == 1)) {
        *layout = (fq_qdq_layout){1, 1, numel};
        return FQ_OK;
    }
    if (graph->opset < 13 || scale->shape.rank != 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "scale '%s' must be a scalar%s",
                           scale->name, graph->opset < 13 ? "" : " or 1-D");

    int64_t given = fq_node_attr_int(node, "axis", 1);
    int axis = fq_normalize_axis(given, x->rank);
    if (axis < 0)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range for rank %d",
                           (long long)given, x->rank);
    if (scale->shape.dims[0] != x->dims[axis])
        return fq_op_error(err, FQ_ERR_SHAPE, node, "scale '%s' has %lld entries, axis %d has "
                           "size %lld", scale->name, (long long)scale->shape.dims[0], axis,
                           (long long)x->dims[axis]);
    layout->outer = 1;
    for (int d = 0; d < axis; d++)
        layout->outer *= x->dims[d];
    layout->channels = x->dims[axis];
    layout->inner = x->dims[axis] > 0 ? numel / layout->outer / x->dims[axis] : 0;
    return FQ_OK;
}

/* Whether the node writes NHWC (channels_last = 1), and if so whether it can. */
static fq_status quantize_nhwc(const fq_node *node, const fq_shape *x,
                               const fq_qdq_layout *layout, fq_dtype out, bool *nhwc,
                               fq_error *err)
{
    int64_t value = fq_node_attr_int(node, "channels_last", 0);
    if (value != 0 && value != 1)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "channels_last is %lld, expects 0 "
                           "or 1", (long long)value);
    *nhwc = value == 1;
    if (!*nhwc)
        return FQ_OK;
    if (x->rank != 4 || layout->channels != 1 || out != FQ_DTYPE_U8)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "channels_last takes a 4-D input, "
                           "per-tensor parameters and a u8 output (input has rank %d, %lld "
                           "scales, output %s)", x->rank, (long long)layout->channels,
                           fq_dtype_name(out));
    return FQ_OK;
}

fq_status fq_op_quantize_linear_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 3, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    const fq_value *scale = fq_node_input(graph, node, 1);
    const fq_value *zero_point = fq_node_input(graph, node, 2);
    if (x->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects f32",
                           x->name, fq_dtype_name(x->dtype));
    fq_dtype out = zero_point != NULL ? zero_point->dtype : FQ_DTYPE_U8;
    if (out != FQ_DTYPE_U8 && out != FQ_DTYPE_I8)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "zero point '%s' is %s, expects u8 or "
                           "i8", zero_point->name, fq_dtype_name(out));
    fq_qdq_layout layout;
    status = qdq_layout(graph, node, &x->shape, scale, zero_point, &layout, err);
    if (status != FQ_OK)
        return status;
    bool nhwc = false;
    status = quantize_nhwc(node, &x->shape, &layout, out, &nhwc, err);
    if (status != FQ_OK)
        return status;
    fq_shape y = x->shape;
    if (nhwc)
        y = (fq_shape){.rank = 4, .dims = {x->shape.dims[0], x->shape.dims[2],
                                           x->shape.dims[3], x->shape.dims[1]}};
    fq_op_set_output(graph, node, 0, out, &y);
    return FQ_OK;
}

enum { QDQ_CHUNK = 1 << 15 };

typedef enum qdq_kind { QUANTIZE_U8, QUANTIZE_I8, DEQUANTIZE_U8, DEQUANTIZE_I8, DEQUANTIZE_I32 }
    qdq_kind;

/* One run of a QuantizeLinear or DequantizeLinear, as spans of rows. A row is `inner` elements
 * with one scale; rows are numbered over [outer, channels]. Per-tensor tensors are seen as rows
 * of at most QDQ_CHUNK elements of channel 0. */
typedef struct qdq_job {
    qdq_kind kind;
    int64_t channels;
    int64_t inner;       /* elements per row */
    int64_t numel;       /* the last row may be shorter (per tensor) */
    int64_t rows_per_task;
    int64_t rows;
    const void *x;
    const float *scale;
    const void *zero_point;
    void *y;
    size_t x_elem, y_elem, zp_elem;
    fq_f32_quantize_u8_fn quantize; /* QUANTIZE_U8 per tensor, or NULL: the reference */
} qdq_job;

static void qdq_span(const qdq_job *job, int64_t row)
{
    int64_t begin = row * job->inner;
    int64_t count = job->numel - begin < job->inner ? job->numel - begin : job->inner;
    int64_t c = job->channels > 1 ? row % job->channels : 0;
    const char *x = (const char *)job->x + (size_t)begin * job->x_elem;
    char *y = (char *)job->y + (size_t)begin * job->y_elem;
    const float *scale = job->scale + c;
    const void *zp = job->zero_point != NULL
                         ? (const char *)job->zero_point + (size_t)c * job->zp_elem
                         : NULL;
    fq_qdq_layout one = {1, 1, count};
    switch (job->kind) {
    case QUANTIZE_U8:
        if (job->quantize != NULL)
            job->quantize((const float *)x, (size_t)count, *scale,
                          zp != NULL ? *(const uint8_t *)zp : 0, (uint8_t *)y);
        else
            fq_quantize_u8_span(count, (const float *)x, *scale, zp, (uint8_t *)y);
        break;
    case QUANTIZE_I8:
        fq_quantize_i8_ref(&one, (const float *)x, scale, zp, (int8_t *)y);
        break;
    case DEQUANTIZE_U8:
        fq_dequantize_u8_ref(&one, (const uint8_t *)x, scale, zp, (float *)y);
        break;
    case DEQUANTIZE_I8:
        fq_dequantize_i8_ref(&one, (const int8_t *)x, scale, zp, (float *)y);
        break;
    case DEQUANTIZE_I32:
        fq_dequantize_i32_ref(&one, (const int32_t *)x, scale, zp, (float *)y);
        break;
    }
}

static void qdq_task(void *ctx, size_t index)
{
    const qdq_job *job = ctx;
    int64_t first = (int64_t)index * job->rows_per_task;
    int64_t last = first + job->rows_per_task < job->rows ? first + job->rows_per_task
                                                           : job->rows;
    for (int64_t row = first; row < last; row++)
        qdq_span(job, row);
}

static void qdq_run(const fq_exec_ctx *ctx, const fq_qdq_layout *layout, qdq_job *job)
{
    job->x = ctx->inputs[0].data;
    job->scale = ctx->inputs[1].data;
    job->zero_point = ctx->n_inputs > 2 ? ctx->inputs[2].data : NULL;
    job->y = ctx->outputs[0].data;
    job->x_elem = fq_dtype_size(ctx->inputs[0].dtype);
    job->y_elem = fq_dtype_size(ctx->outputs[0].dtype);
    job->zp_elem = job->zero_point != NULL ? fq_dtype_size(ctx->inputs[2].dtype) : 0;
    job->numel = layout->outer * layout->channels * layout->inner;
    if (job->numel <= 0)
        return;
    job->channels = layout->channels;
    job->inner = layout->channels > 1 ? layout->inner : QDQ_CHUNK;
    job->rows = (job->numel + job->inner - 1) / job->inner;
    job->rows_per_task = job->inner >= QDQ_CHUNK ? 1 : QDQ_CHUNK / job->inner;
    int64_t tasks = (job->rows + job->rows_per_task - 1) / job->rows_per_task;
    fq_threadpool_parallel_for_work(ctx->pool, (size_t)tasks, (uint64_t)job->numel, qdq_task,
                                    job);
}

/* The kernel of a QuantizeLinear to u8 with per-tensor parameters: a plain quantizer, or for
 * channels_last nodes an NCHW -> NHWC one (the other pointer is NULL). */
typedef struct qdq_quantizer {
    const char *name;
    fq_f32_quantize_u8_fn fn;
    fq_f32_quantize_u8_nchw2nhwc_fn to_nhwc;
} qdq_quantizer;

static const qdq_quantizer quantizer_scalar = {"f32_quantize_u8__scalar",
                                               fq_f32_quantize_u8__scalar, NULL};
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
static const qdq_quantizer quantizer_avx2 = {"f32_quantize_u8__avx2", fq_f32_quantize_u8__avx2,
                                             NULL};
#endif

#define NHWC_QUANTIZER(isa) \
    {"f32_quantize_u8_nchw2nhwc_16p__" #isa, NULL, fq_f32_quantize_u8_nchw2nhwc_16p__##isa}

static const qdq_quantizer nhwc_scalar = {"f32_quantize_u8_nchw2nhwc__scalar", NULL,
                                          fq_f32_quantize_u8_nchw2nhwc__scalar};
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_SSE41)
static const qdq_quantizer nhwc_sse41 = NHWC_QUANTIZER(sse41);
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
static const qdq_quantizer nhwc_avx2 = NHWC_QUANTIZER(avx2);
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
static const qdq_quantizer nhwc_avx512 = NHWC_QUANTIZER(avx512);
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
static const qdq_quantizer nhwc_neon = NHWC_QUANTIZER(neon);
#endif

static const qdq_quantizer *select_plain(fq_isa cap)
{
    fq_isa isa;
    fq_f32_quantize_u8_select(cap, &isa);
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    if (isa == FQ_ISA_AVX2)
        return &quantizer_avx2;
#endif
    return &quantizer_scalar;
}

/* The best NCHW -> NHWC quantizer allowed under cap, most specific ISA first. */
static const qdq_quantizer *select_nhwc(fq_isa cap)
{
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
    if (fq_isa_allowed(FQ_ISA_AVX512, cap))
        return &nhwc_avx512;
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_allowed(FQ_ISA_AVX2, cap))
        return &nhwc_avx2;
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_SSE41)
    if (fq_isa_allowed(FQ_ISA_SSE41, cap))
        return &nhwc_sse41;
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    if (fq_isa_allowed(FQ_ISA_NEON, cap))
        return &nhwc_neon;
#endif
    (void)cap;
    return &nhwc_scalar;
}

/* The state is a static quantizer (nothing to free) for u8 output; other outputs get none. */
fq_status fq_op_quantize_linear_prepare(const fq_graph *graph, const fq_node *node,
                                        const fq_kernel_config *config, void **state,
                                        size_t *workspace, fq_error *err)
{
    (void)err;
    *state = NULL;
    *workspace = 0;
    const fq_value *zero_point = fq_node_input(graph, node, 2);
    if (zero_point != NULL && zero_point->dtype != FQ_DTYPE_U8)
        return FQ_OK;
    bool nhwc = fq_node_attr_int(node, "channels_last", 0) == 1;
    *state = (void *)(nhwc ? select_nhwc(config->isa_cap) : select_plain(config->isa_cap));
    return FQ_OK;
}

const char *fq_op_quantize_linear_kernel_name(const void *state)
{
    return ((const qdq_quantizer *)state)->name;
}

/* One run of a channels_last QuantizeLinear: tasks of `rows_per_task` image rows. */
typedef struct nhwc_job {
    int64_t channels, height, width;
    int64_t rows_per_task, tasks_per_image;
    const float *x;
    uint8_t *y;
    float scale;
    int32_t zero_point;
    fq_f32_quantize_u8_nchw2nhwc_fn to_nhwc;
} nhwc_job;

static void nhwc_task(void *ctx, size_t index)
{
    const nhwc_job *job = ctx;
    int64_t image = (int64_t)index / job->tasks_per_image;
    int64_t row = ((int64_t)index % job->tasks_per_image) * job->rows_per_task;
    int64_t rows = job->height - row < job->rows_per_task ? job->height - row
                                                          : job->rows_per_task;
    int64_t plane = job->height * job->width;
    int64_t first = row * job->width;
    const float *x = job->x + image * job->channels * plane + first;
    uint8_t *y = job->y + (image * plane + first) * job->channels;
    job->to_nhwc((size_t)(rows * job->width), (size_t)job->channels, (size_t)plane, x,
                 job->scale, job->zero_point, y);
}

static void quantize_nhwc_run(const fq_exec_ctx *ctx, const qdq_quantizer *quantizer)
{
    const int64_t *d = ctx->inputs[0].shape.dims;
    const uint8_t *zp = ctx->n_inputs > 2 ? ctx->inputs[2].data : NULL;
    nhwc_job job = {.channels = d[1], .height = d[2], .width = d[3],
                    .x = ctx->inputs[0].data, .y = ctx->outputs[0].data,
                    .scale = *(const float *)ctx->inputs[1].data,
                    .zero_point = zp != NULL ? *zp : 0,
                    .to_nhwc = fq_f32_quantize_u8_nchw2nhwc__scalar};
    if (quantizer != NULL && quantizer->to_nhwc != NULL)
        job.to_nhwc = quantizer->to_nhwc;
    int64_t row = d[1] * d[3];
    if (d[0] * row * d[2] == 0)
        return;
    job.rows_per_task = row >= QDQ_CHUNK ? 1 : QDQ_CHUNK / row;
    job.tasks_per_image = (d[2] + job.rows_per_task - 1) / job.rows_per_task;
    fq_threadpool_parallel_for_work(ctx->pool, (size_t)(d[0] * job.tasks_per_image),
                                    (uint64_t)(d[0] * row * d[2]), nhwc_task, &job);
}

fq_status fq_op_quantize_linear_exec(const fq_exec_ctx *ctx)
{
    const fq_graph *graph = ctx->graph;
    const fq_node *node = ctx->node;
    fq_qdq_layout layout;
    fq_status status = qdq_layout(graph, node, &ctx->inputs[0].shape, fq_node_input(graph, node, 1),
                                  fq_node_input(graph, node, 2), &layout, ctx->err);
    bool nhwc = false;
    if (status == FQ_OK)
        status = quantize_nhwc(node, &ctx->inputs[0].shape, &layout, ctx->outputs[0].dtype,
                               &nhwc, ctx->err);
    if (status != FQ_OK)
        return status;
    const qdq_quantizer *quantizer = ctx->state;
    if (nhwc) {
        quantize_nhwc_run(ctx, quantizer);
        return FQ_OK;
    }
    qdq_job job = {.kind = ctx->outputs[0].dtype == FQ_DTYPE_I8 ? QUANTIZE_I8 : QUANTIZE_U8};
    if (job.kind == QUANTIZE_U8 && layout.channels == 1 && quantizer != NULL)
        job.quantize = quantizer->fn;
    qdq_run(ctx, &layout, &job);
    return FQ_OK;
}

fq_status fq_op_dequantize_linear_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 3, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    const fq_value *scale = fq_node_input(graph, node, 1);
    const fq_value *zero_point = fq_node_input(graph, node, 2);
    if (x->dtype != FQ_DTYPE_U8 && x->dtype != FQ_DTYPE_I8 && x->dtype != FQ_DTYPE_I32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects u8, i8 or "
                           "i32", x->name, fq_dtype_name(x->dtype));
    if (zero_point != NULL && zero_point->dtype != x->dtype)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "zero point '%s' is %s, input is %s",
                           zero_point->name, fq_dtype_name(zero_point->dtype),
                           fq_dtype_name(x->dtype));
    fq_qdq_layout layout;
    status = qdq_layout(graph, node, &x->shape, scale, zero_point, &layout, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &x->shape);
    return FQ_OK;
}

fq_status fq_op_dequantize_linear_exec(const fq_exec_ctx *ctx)
{
    const fq_graph *graph = ctx->graph;
    const fq_node *node = ctx->node;
    fq_qdq_layout layout;
    fq_status status = qdq_layout(graph, node, &ctx->inputs[0].shape, fq_node_input(graph, node, 1),
                                  fq_node_input(graph, node, 2), &layout, ctx->err);
    if (status != FQ_OK)
        return status;
    fq_dtype dtype = ctx->inputs[0].dtype;
    qdq_job job = {.kind = dtype == FQ_DTYPE_I8   ? DEQUANTIZE_I8
                           : dtype == FQ_DTYPE_U8 ? DEQUANTIZE_U8
                                                  : DEQUANTIZE_I32};
    qdq_run(ctx, &layout, &job);
    return FQ_OK;
}
