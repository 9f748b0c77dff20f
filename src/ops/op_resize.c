/* Resize (opsets 10 to 17) and Upsample (7 to 9) in f32 and u8: nearest and linear modes over
 * two spatial dimensions. These are the last two (the leading dimensions keep their size) or,
 * for u8 rank-4 input that keeps N and the last dimension, dimensions 1 and 2 (NHWC). u8 keeps
 * its scale and zero point; linear mode rounds half to even (ref/qu8_resize2d_ref.h). Cubic
 * mode, tf_crop_and_resize and exclude_outside are not supported. */
#include <math.h>
#include <string.h>

#include "any_resize2d_nearest.h"
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ref/f32_resize2d_ref.h"
#include "ref/qu8_resize2d_ref.h"
#include "runtime/threadpool.h"

typedef struct resize_plan {
    fq_resize2d_f32_params params;
    int64_t inner;  /* elements per pixel: 1, or C for NHWC */
    fq_dtype dtype;
    fq_shape out;
} resize_plan;

static const char *const coordinate_names[] = {
    [FQ_RESIZE_HALF_PIXEL] = "half_pixel",
    [FQ_RESIZE_PYTORCH_HALF_PIXEL] = "pytorch_half_pixel",
    [FQ_RESIZE_ALIGN_CORNERS] = "align_corners",
    [FQ_RESIZE_ASYMMETRIC] = "asymmetric",
    [FQ_RESIZE_TF_HALF_PIXEL_FOR_NEAREST] = "tf_half_pixel_for_nn",
};

static const char *const rounding_names[] = {
    [FQ_RESIZE_ROUND_PREFER_FLOOR] = "round_prefer_floor",
    [FQ_RESIZE_ROUND_PREFER_CEIL] = "round_prefer_ceil",
    [FQ_RESIZE_FLOOR] = "floor",
    [FQ_RESIZE_CEIL] = "ceil",
};

/* Index of name in names (count entries), or -1. */
static int lookup(const char *const *names, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (names[i] != NULL && strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static fq_status read_mode(const fq_node *node, fq_resize2d_f32_params *p, fq_error *err)
{
    const char *mode = fq_node_attr_string(node, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        p->mode = FQ_RESIZE_NEAREST;
    else if (strcmp(mode, "linear") == 0)
        p->mode = FQ_RESIZE_LINEAR;
    else
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "mode '%s' is not supported (only "
                           "nearest and linear)", mode);
    return FQ_OK;
}

/* The attributes of Resize from opset 11 on. */
static fq_status read_resize11_attrs(const fq_node *node, fq_resize2d_f32_params *p,
                                     fq_error *err)
{
    const char *coords = fq_node_attr_string(node, "coordinate_transformation_mode",
                                             "half_pixel");
    int c = lookup(coordinate_names, 5, coords);
    /* The ONNX spec spells it tf_half_pixel_for_nn; some exporters write the long form. */
    if (strcmp(coords, "tf_half_pixel_for_nearest") == 0)
        c = FQ_RESIZE_TF_HALF_PIXEL_FOR_NEAREST;
    if (c < 0)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "coordinate_transformation_mode "
                           "'%s' is not supported", coords);
    const char *rounding = fq_node_attr_string(node, "nearest_mode", "round_prefer_floor");
    int r = lookup(rounding_names, 4, rounding);
    if (r < 0)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "nearest_mode '%s' is not supported",
                           rounding);
    if (fq_node_attr_int(node, "exclude_outside", 0) != 0)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "exclude_outside %lld is not "
                           "supported", (long long)fq_node_attr_int(node, "exclude_outside", 0));
    if (fq_node_attr(node, "antialias") != NULL || fq_node_attr(node, "axes") != NULL)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "attributes antialias and axes "
                           "(opset 18) are not supported");
    p->coordinates = (fq_resize_coordinates)c;
    p->rounding = (fq_resize_rounding)r;
    return FQ_OK;
}

/* True when input i is omitted or an empty constant. */
static bool input_absent(const fq_graph *graph, const fq_node *node, int i)
{
    const fq_value *value = fq_node_input(graph, node, i);
    return value == NULL || (fq_value_is_constant(value) && fq_shape_numel(&value->shape) == 0);
}

/* Sizes past this are refused rather than overflowing the element count. */
#define MAX_RESIZED_DIM 1e12

/* floor(in * scale) into *out, refusing non-positive, non-finite and absurd results. */
static fq_status scaled_dim(const fq_node *node, int axis, int64_t in, float scale, int64_t *out,
                            fq_error *err)
{
    double length = (double)in * (double)scale;
    if (!(scale > 0.0f) || !(length < MAX_RESIZED_DIM))
        return fq_op_error(err, FQ_ERR_SHAPE, node, "scale %g on axis %d gives no usable size",
                           (double)scale, axis);
    *out = (int64_t)floor(length);
    return FQ_OK;
}

/* Output size and per-axis scales from the constant scales input. */
static fq_status size_from_scales(const fq_graph *graph, const fq_node *node, int input,
                                  const fq_shape *x, float *scales, fq_shape *out,
                                  fq_error *err)
{
    int count = 0;
    fq_status status = fq_op_const_floats(graph, node, input, scales, FQ_MAX_RANK, &count, err);
    if (status != FQ_OK)
        return status;
    if (count != x->rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "scales has %d entries for rank %d", count,
                           x->rank);
    out->rank = x->rank;
    for (int d = 0; d < x->rank && status == FQ_OK; d++)
        status = scaled_dim(node, d, x->dims[d], scales[d], &out->dims[d], err);
    return status;
}

/* Output size from the constant sizes input; scales become out / in. */
static fq_status size_from_sizes(const fq_graph *graph, const fq_node *node, int input,
                                 const fq_shape *x, float *scales, fq_shape *out,
                                 fq_error *err)
{
    int count = 0;
    fq_status status = fq_op_const_ints(graph, node, input, out->dims, FQ_MAX_RANK, &count, err);
    if (status != FQ_OK)
        return status;
    if (count != x->rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "sizes has %d entries for rank %d", count,
                           x->rank);
    out->rank = x->rank;
    for (int d = 0; d < x->rank; d++) {
        if (out->dims[d] < 1 || x->dims[d] < 1 || out->dims[d] > (int64_t)MAX_RESIZED_DIM)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "size %lld on axis %d",
                               (long long)out->dims[d], d);
        scales[d] = (float)out->dims[d] / (float)x->dims[d];
    }
    return FQ_OK;
}

/* True when every axis before `from` keeps its size. */
static bool leading_axes_kept(const fq_shape *x, const fq_shape *out, int from)
{
    for (int d = 0; d < from; d++)
        if (out->dims[d] != x->dims[d])
            return false;
    return true;
}

/* Chooses the two resized axes: the last two, or axes 1 and 2 of an NHWC u8 tensor (rank 4,
 * N and C kept). Sets planes and inner; *h and *w get the axes (h = -1 for rank 1). */
static fq_status spatial_axes(const fq_node *node, const fq_shape *x, resize_plan *plan,
                              int *h, int *w, fq_error *err)
{
    int rank = x->rank;
    fq_resize2d_f32_params *p = &plan->params;
    if (leading_axes_kept(x, &plan->out, rank - 2)) {
        *h = rank >= 2 ? rank - 2 : -1;
        *w = rank - 1;
        plan->inner = 1;
        p->planes = 1;
        for (int d = 0; d < rank - 2; d++)
            p->planes *= x->dims[d];
        return FQ_OK;
    }
    bool nhwc = rank == 4 && plan->out.dims[0] == x->dims[0] && plan->out.dims[3] == x->dims[3];
    if (!nhwc || plan->dtype != FQ_DTYPE_U8) {
        int d = 0;
        while (plan->out.dims[d] == x->dims[d])
            d++;
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "resizing axis %d of %s input is not "
                           "supported (only the last two axes, or axes 1 and 2 of rank-4 u8 "
                           "input: NHWC)", d, fq_dtype_name(plan->dtype));
    }
    *h = 1;
    *w = 2;
    plan->inner = x->dims[3];
    p->planes = x->dims[0];
    return FQ_OK;
}

/* Fills the planes and the two resized axes of the kernel parameters; refuses changes
 * elsewhere. The resized lengths are the output sizes when sizes were given, else
 * in * scale. */
static fq_status plan_axes(const fq_node *node, const fq_shape *x, const float *scales,
                           bool from_sizes, resize_plan *plan, fq_error *err)
{
    fq_resize2d_f32_params *p = &plan->params;
    int rank = x->rank;
    for (int d = 0; d < rank; d++)
        if (plan->out.dims[d] < 1 || x->dims[d] < 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "empty axis %d", d);
    int h = -1, w = 0;
    fq_status status = spatial_axes(node, x, plan, &h, &w, err);
    if (status != FQ_OK)
        return status;
    p->in_h = h >= 0 ? x->dims[h] : 1;
    p->out_h = h >= 0 ? plan->out.dims[h] : 1;
    p->scale_h = h >= 0 ? scales[h] : 1.0f;
    p->in_w = x->dims[w];
    p->out_w = plan->out.dims[w];
    p->scale_w = scales[w];
    p->length_h = from_sizes ? (float)p->out_h : (float)((double)p->in_h * p->scale_h);
    p->length_w = from_sizes ? (float)p->out_w : (float)((double)p->in_w * p->scale_w);
    return FQ_OK;
}

static fq_status check_data(const fq_graph *graph, const fq_node *node, resize_plan *plan,
                            fq_error *err)
{
    const fq_value *x = fq_node_input(graph, node, 0);
    if (x == NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "input 0 is missing");
    if (x->dtype != FQ_DTYPE_F32 && x->dtype != FQ_DTYPE_U8)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects f32 or u8",
                           x->name, fq_dtype_name(x->dtype));
    if (x->shape.rank < 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input is a scalar");
    plan->dtype = x->dtype;
    return FQ_OK;
}

static fq_status resize_plan_of(const fq_graph *graph, const fq_node *node, resize_plan *plan,
                                fq_error *err)
{
    memset(plan, 0, sizeof(*plan));
    bool resize10 = graph->opset < 11;
    fq_status status = fq_op_check_arity(node, resize10 ? 2 : 1, resize10 ? 2 : 4, err);
    if (status == FQ_OK)
        status = check_data(graph, node, plan, err);
    if (status == FQ_OK)
        status = read_mode(node, &plan->params, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    float scales[FQ_MAX_RANK];
    bool from_sizes = false;
    if (resize10) {
        plan->params.coordinates = FQ_RESIZE_ASYMMETRIC;
        plan->params.rounding = FQ_RESIZE_SIMPLE;
        status = size_from_scales(graph, node, 1, x, scales, &plan->out, err);
    } else {
        status = read_resize11_attrs(node, &plan->params, err);
        bool has_scales = !input_absent(graph, node, 2);
        bool has_sizes = !input_absent(graph, node, 3);
        if (status == FQ_OK && has_scales == has_sizes)
            return fq_op_error(err, FQ_ERR_PARSE, node, "exactly one of scales and sizes must "
                               "be given");
        from_sizes = !has_scales;
        if (status == FQ_OK)
            status = has_scales ? size_from_scales(graph, node, 2, x, scales, &plan->out, err)
                                : size_from_sizes(graph, node, 3, x, scales, &plan->out, err);
    }
    if (status != FQ_OK)
        return status;
    return plan_axes(node, x, scales, from_sizes, plan, err);
}

/* Upsample: scales as an attribute (opset 7) or a constant input (opset 9); asymmetric
 * coordinates, nearest rounds down. */
static fq_status upsample_plan_of(const fq_graph *graph, const fq_node *node,
                                  resize_plan *plan, fq_error *err)
{
    memset(plan, 0, sizeof(*plan));
    bool scales_input = graph->opset >= 9;
    fq_status status = fq_op_check_arity(node, scales_input ? 2 : 1, scales_input ? 2 : 1, err);
    if (status == FQ_OK)
        status = check_data(graph, node, plan, err);
    if (status == FQ_OK)
        status = read_mode(node, &plan->params, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    float scales[FQ_MAX_RANK];
    plan->params.coordinates = FQ_RESIZE_ASYMMETRIC;
    plan->params.rounding = FQ_RESIZE_SIMPLE;
    if (scales_input) {
        status = size_from_scales(graph, node, 1, x, scales, &plan->out, err);
    } else {
        const fq_attr *attr = fq_node_attr(node, "scales");
        if (attr == NULL || attr->type != FQ_ATTR_FLOATS || attr->count != x->rank)
            return fq_op_error(err, FQ_ERR_PARSE, node, "attribute scales must have %d floats",
                               x->rank);
        plan->out.rank = x->rank;
        for (int d = 0; d < x->rank && status == FQ_OK; d++) {
            scales[d] = attr->floats[d];
            status = scaled_dim(node, d, x->dims[d], scales[d], &plan->out.dims[d], err);
        }
    }
    for (int d = 0; status == FQ_OK && d < x->rank; d++)
        if (!(scales[d] >= 1.0f))
            return fq_op_error(err, FQ_ERR_SHAPE, node, "Upsample scale %g on axis %d is below "
                               "1", (double)scales[d], d);
    if (status != FQ_OK)
        return status;
    return plan_axes(node, x, scales, false, plan, err);
}

static fq_status plan_of(const fq_graph *graph, const fq_node *node, resize_plan *plan,
                         fq_error *err)
{
    if (strcmp(node->op_type, "Upsample") == 0)
        return upsample_plan_of(graph, node, plan, err);
    return resize_plan_of(graph, node, plan, err);
}

fq_status fq_resize_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    resize_plan plan;
    fq_status status = resize_plan_of(graph, node, &plan, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, plan.dtype, &plan.out);
    return status;
}

fq_status fq_upsample_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    resize_plan plan;
    fq_status status = upsample_plan_of(graph, node, &plan, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, plan.dtype, &plan.out);
    return status;
}

static size_t reference_workspace(const resize_plan *plan)
{
    if (plan->dtype == FQ_DTYPE_U8)
        return fq_qu8_resize2d_workspace_size(&plan->params);
    return fq_ref_resize2d_f32_workspace_size(&plan->params);
}

/* Nearest mode copies through index tables (any_resize2d_nearest.h), which need room of their
 * own. */
static size_t plan_workspace(const resize_plan *plan)
{
    size_t reference = reference_workspace(plan);
    if (plan->params.mode != FQ_RESIZE_NEAREST)
        return reference;
    size_t nearest = fq_resize2d_nearest_workspace_size(&plan->params);
    return nearest > reference ? nearest : reference;
}

/* Output rows per task of the nearest copy. */
enum { NEAREST_ROWS_PER_TASK = 16 };

typedef struct nearest_job {
    const fq_resize2d_nearest_plan *plan;
    const void *x;
    void *y;
    int64_t rows;
} nearest_job;

static void nearest_rows(void *ctx, size_t index)
{
    const nearest_job *job = ctx;
    int64_t begin = (int64_t)index * NEAREST_ROWS_PER_TASK;
    int64_t end = begin + NEAREST_ROWS_PER_TASK < job->rows ? begin + NEAREST_ROWS_PER_TASK
                                                            : job->rows;
    fq_resize2d_nearest_rows(job->plan, job->x, job->y, begin, end);
}

static void run_nearest(const fq_exec_ctx *ctx, const resize_plan *plan)
{
    size_t element = plan->dtype == FQ_DTYPE_U8 ? 1 : sizeof(float);
    fq_resize2d_nearest_plan nearest;
    fq_resize2d_nearest_plan_init(&plan->params, element * (size_t)plan->inner, ctx->workspace,
                                  &nearest);
    nearest_job job = {&nearest, ctx->inputs[0].data, ctx->outputs[0].data,
                       plan->params.planes * plan->params.out_h};
    size_t tasks = (size_t)((job.rows + NEAREST_ROWS_PER_TASK - 1) / NEAREST_ROWS_PER_TASK);
    fq_threadpool_parallel_for(ctx->pool, tasks, nearest_rows, &job);
}

size_t fq_resize_workspace_size(const fq_graph *graph, const fq_node *node)
{
    resize_plan plan;
    if (plan_of(graph, node, &plan, NULL) != FQ_OK)
        return 0;
    return plan_workspace(&plan);
}

fq_status fq_resize_exec(const fq_exec_ctx *ctx)
{
    resize_plan plan;
    fq_status status = plan_of(ctx->graph, ctx->node, &plan, ctx->err);
    if (status != FQ_OK)
        return status;
    if (ctx->workspace_size < plan_workspace(&plan))
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);
    if (plan.params.mode == FQ_RESIZE_NEAREST) {
        run_nearest(ctx, &plan);
        return FQ_OK;
    }
    if (plan.dtype == FQ_DTYPE_U8) {
        fq_qu8_resize2d_ref(&plan.params, plan.inner, ctx->inputs[0].data,
                            ctx->outputs[0].data, ctx->workspace);
        return FQ_OK;
    }
    fq_ref_resize2d_f32(&plan.params, ctx->inputs[0].data, ctx->outputs[0].data,
                        ctx->workspace);
    return FQ_OK;
}
