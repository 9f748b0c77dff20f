/* Data-movement operators: Transpose, Concat, Slice, Gather, Tile. They work on every dtype by
 * element size. A Transpose that is a batch of matrix transposes (NCHW <-> NHWC at the
 * borders of an int8 region, for any channel count) runs a tiled kernel split over the thread
 * pool for one- and four-byte elements; one that moves only dims of size 1 is a copy. */
#include <stdint.h>
#include <string.h>

#include "ops/ops_tensor.h"
#include "ref/qu8_transpose2d_ref.h"
#include "ref/x32_transpose2d_ref.h"
#include "ref/tensor_gather_ref.h"
#include "ref/tensor_strided_copy_ref.h"
#include "runtime/threadpool.h"

/* ---- Transpose -------------------------------------------------------------------------- */

/* perm, or the reversed dims when the attribute is absent; refuses anything not a permutation. */
static fq_status transpose_perm(const fq_node *node, int rank, int *perm, fq_error *err)
{
    int64_t given[FQ_MAX_RANK];
    int count = fq_node_attr_ints(node, "perm", given, FQ_MAX_RANK);
    if (count < 0) {
        for (int d = 0; d < rank; d++)
            perm[d] = rank - 1 - d;
        return FQ_OK;
    }
    if (count != rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "perm has %d entries for rank %d", count,
                           rank);
    bool seen[FQ_MAX_RANK] = {false};
    for (int d = 0; d < rank; d++) {
        if (given[d] < 0 || given[d] >= rank || seen[given[d]])
            return fq_op_error(err, FQ_ERR_SHAPE, node, "perm is not a permutation of 0..%d",
                               rank - 1);
        seen[given[d]] = true;
        perm[d] = (int)given[d];
    }
    return FQ_OK;
}

fq_status fq_op_transpose_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    int perm[FQ_MAX_RANK];
    status = transpose_perm(node, x->shape.rank, perm, err);
    if (status != FQ_OK)
        return status;
    fq_shape out = {.rank = x->shape.rank};
    for (int d = 0; d < out.rank; d++)
        out.dims[d] = x->shape.dims[perm[d]];
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

/* A Transpose that is, once dims of size 1 are dropped and dims that stay neighbours are
 * merged, a batch of [rows, cols] -> [cols, rows] matrix transposes: NCHW <-> NHWC of any
 * channel count, and the same with the batch moved (a detector head's). One- and four-byte
 * elements run tiled kernels, split into blocks of whole tiles along the longer side. */
typedef struct layout_job {
    int64_t batch, rows, cols;
    bool split_rows;
    int64_t blocks; /* per matrix */
    size_t elem;    /* 1 or 4 */
    const void *in;
    void *out;
} layout_job;

enum { LAYOUT_BLOCK = 8 * FQ_QU8_TRANSPOSE_TILE };

static void layout_task(void *ctx, size_t index)
{
    const layout_job *job = ctx;
    int64_t matrix = (int64_t)index / job->blocks;
    int64_t extent = job->split_rows ? job->rows : job->cols;
    int64_t begin = ((int64_t)index % job->blocks) * LAYOUT_BLOCK;
    int64_t end = begin + LAYOUT_BLOCK < extent ? begin + LAYOUT_BLOCK : extent;
    fq_qu8_transpose_block block = {0, job->rows, 0, job->cols};
    if (job->split_rows) {
        block.row_begin = begin;
        block.row_end = end;
    } else {
        block.col_begin = begin;
        block.col_end = end;
    }
    size_t offset = (size_t)(matrix * job->rows * job->cols);
    if (job->elem == 1)
        fq_qu8_transpose2d_ref(job->rows, job->cols, &block, (const uint8_t *)job->in + offset,
                               (uint8_t *)job->out + offset);
    else
        fq_x32_transpose2d_ref(job->rows, job->cols, &block, (const uint32_t *)job->in + offset,
                               (uint32_t *)job->out + offset);
}

/* The dims of x longer than 1 as runs of input axes that stay neighbours in the output:
 * size[g] of run g, in output order, and first[g] its first input axis. Returns the count. */
static int merged_runs(const fq_shape *shape, const int *perm, int64_t *size, int *first)
{
    int runs = 0, previous = -2;
    for (int d = 0; d < shape->rank; d++) {
        int axis = perm[d];
        if (shape->dims[axis] == 1)
            continue;
        bool follows = previous >= 0 && axis > previous;
        for (int a = previous + 1; follows && a < axis; a++)
            follows = shape->dims[a] == 1;
        if (follows) {
            size[runs - 1] *= shape->dims[axis];
        } else {
            size[runs] = shape->dims[axis];
            first[runs++] = axis;
        }
        previous = axis;
    }
    return runs;
}

/* Fills batch, rows and cols when the Transpose is a batch of matrix transposes. */
static bool as_matrices(const fq_shape *shape, const int *perm, layout_job *job)
{
    int64_t size[FQ_MAX_RANK];
    int first[FQ_MAX_RANK];
    int runs = merged_runs(shape, perm, size, first);
    if (runs == 2 && first[1] < first[0]) {
        *job = (layout_job){.batch = 1, .rows = size[1], .cols = size[0]};
        return true;
    }
    if (runs == 3 && first[0] < first[2] && first[2] < first[1]) {
        *job = (layout_job){.batch = size[0], .rows = size[2], .cols = size[1]};
        return true;
    }
    return false;
}

/* Runs the Transpose as matrix transposes when it is one and its elements are 1 or 4 bytes;
 * false otherwise. */
static bool transpose_layout(const fq_exec_ctx *ctx, const int *perm)
{
    const fq_tensor *x = &ctx->inputs[0];
    size_t elem = fq_dtype_size(x->dtype);
    layout_job job;
    if ((elem != 1 && elem != 4) || !as_matrices(&x->shape, perm, &job))
        return false;
    job.elem = elem;
    job.in = x->data;
    job.out = ctx->outputs[0].data;
    job.split_rows = job.rows > job.cols;
    int64_t extent = job.split_rows ? job.rows : job.cols;
    job.blocks = (extent + LAYOUT_BLOCK - 1) / LAYOUT_BLOCK;
    uint64_t work = (uint64_t)(job.batch * job.rows * job.cols);
    fq_threadpool_parallel_for_work(ctx->pool, (size_t)(job.batch * job.blocks), work,
                                    layout_task, &job);
    return true;
}

/* Whether perm keeps the dims longer than 1 in their order: then only dims of size 1 move, and
 * the bytes are the same in both layouts (the heads of detectors have such Transposes once
 * their input is NHWC). */
static bool moves_only_unit_dims(const fq_shape *shape, const int *perm)
{
    int last = -1;
    for (int d = 0; d < shape->rank; d++) {
        if (shape->dims[perm[d]] == 1)
            continue;
        if (perm[d] < last)
            return false;
        last = perm[d];
    }
    return true;
}

fq_status fq_op_transpose_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *x = &ctx->inputs[0];
    int perm[FQ_MAX_RANK];
    fq_status status = transpose_perm(ctx->node, x->shape.rank, perm, ctx->err);
    if (status != FQ_OK)
        return status;
    if (moves_only_unit_dims(&x->shape, perm)) {
        size_t bytes = (size_t)fq_shape_numel(&x->shape) * fq_dtype_size(x->dtype);
        if (bytes > 0 && ctx->outputs[0].data != x->data)
            memmove(ctx->outputs[0].data, x->data, bytes);
        return FQ_OK;
    }
    if (transpose_layout(ctx, perm))
        return FQ_OK;
    fq_transpose_ref(fq_dtype_size(x->dtype), x->shape.rank, x->shape.dims, perm, x->data,
                     ctx->outputs[0].data);
    return FQ_OK;
}

/* ---- Concat ----------------------------------------------------------------------------- */

static int64_t product(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int d = from; d < to; d++)
        p *= dims[d];
    return p;
}

fq_status fq_op_concat_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, node->n_inputs > 1 ? node->n_inputs : 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *first = fq_node_input(graph, node, 0);
    const fq_attr *axis_attr = fq_node_attr(node, "axis");
    if (axis_attr == NULL || axis_attr->type != FQ_ATTR_INT)
        return fq_op_error(err, FQ_ERR_PARSE, node, "has no integer axis attribute");
    int axis = fq_normalize_axis(axis_attr->i, first->shape.rank);
    if (axis < 0)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range for rank %d",
                           (long long)axis_attr->i, first->shape.rank);

    fq_shape out = first->shape;
    out.dims[axis] = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *in = fq_node_input(graph, node, i);
        if (in == NULL)
            return fq_op_error(err, FQ_ERR_PARSE, node, "input %d is missing", i);
        if (in->dtype != first->dtype || in->shape.rank != first->shape.rank)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "input '%s' differs from the first in "
                               "dtype or rank", in->name);
        for (int d = 0; d < out.rank; d++)
            if (d != axis && in->shape.dims[d] != out.dims[d])
                return fq_op_error(err, FQ_ERR_SHAPE, node, "input '%s' has size %lld in dim "
                                   "%d, expects %lld", in->name, (long long)in->shape.dims[d],
                                   d, (long long)out.dims[d]);
        if (out.dims[axis] > INT64_MAX - in->shape.dims[axis])
            return fq_op_error(err, FQ_ERR_SHAPE, node, "the concatenated axis overflows");
        out.dims[axis] += in->shape.dims[axis];
    }
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, first->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_concat_exec(const fq_exec_ctx *ctx)
{
    fq_tensor *out = &ctx->outputs[0];
    int rank = out->shape.rank;
    int axis = fq_normalize_axis(fq_node_attr_int(ctx->node, "axis", 0), rank);
    if (axis < 0)
        return fq_op_error(ctx->err, FQ_ERR_SHAPE, ctx->node, "axis is out of range");
    size_t elem = fq_dtype_size(out->dtype);
    int64_t outer = product(out->shape.dims, 0, axis);
    int64_t inner = product(out->shape.dims, axis + 1, rank);
    int64_t out_block = out->shape.dims[axis] * inner;
    int64_t offset = 0;
    for (int i = 0; i < ctx->n_inputs; i++) {
        const fq_tensor *in = &ctx->inputs[i];
        int64_t in_block = in->shape.dims[axis] * inner;
        fq_concat_part_ref(elem, outer, in_block, out_block, offset, in->data, out->data);
        offset += in_block;
    }
    return FQ_OK;
}

/* ---- Slice ------------------------------------------------------------------------------ */

typedef struct slice_params {
    int64_t starts[FQ_MAX_RANK];
    int64_t steps[FQ_MAX_RANK];
    fq_shape out;
} slice_params;

/* Where one sliced dimension starts and how many elements it keeps, after ONNX's clamping. */
static void slice_dim(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first,
                      int64_t *size)
{
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim;
    if (step > 0) {
        start = start < 0 ? 0 : start > dim ? dim : start;
        end = end < 0 ? 0 : end > dim ? dim : end;
        *size = end > start ? 1 + (end - start - 1) / step : 0;
    } else {
        start = start < 0 ? 0 : start > dim - 1 ? dim - 1 : start;
        end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
        *size = start > end ? 1 + (start - end - 1) / -step : 0;
    }
    *first = *size > 0 ? start : 0;
}

/* Slice's four lists, in the order starts, ends, axes, steps; a count of -1 means absent. */
typedef struct slice_lists {
    int64_t values[4][FQ_MAX_RANK];
    int counts[4];
} slice_lists;

enum { SLICE_STARTS, SLICE_ENDS, SLICE_AXES, SLICE_STEPS };

/* The lists: attributes before opset 10 (no steps), constant inputs 1..4 from 10. */
static fq_status slice_read(const fq_graph *graph, const fq_node *node, slice_lists *lists,
                            fq_error *err)
{
    static const char *const names[4] = {"starts", "ends", "axes", "steps"};
    for (int k = 0; k < 4; k++) {
        int64_t *values = lists->values[k];
        int *count = &lists->counts[k];
        *count = -1;
        if (graph->opset < 10 && k != SLICE_STEPS) {
            *count = fq_node_attr_ints(node, names[k], values, FQ_MAX_RANK);
            if (*count == -2)
                return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "%s has more than %d entries",
                                   names[k], FQ_MAX_RANK);
        } else if (graph->opset >= 10 && fq_node_attr(node, names[k]) != NULL) {
            return fq_op_error(err, FQ_ERR_PARSE, node, "%s is an input from opset 10, not an "
                               "attribute", names[k]);
        } else if (graph->opset >= 10 && fq_node_input(graph, node, k + 1) != NULL) {
            fq_status status = fq_op_const_ints(graph, node, k + 1, values, FQ_MAX_RANK, count,
                                                err);
            if (status != FQ_OK)
                return status;
        }
    }
    if (lists->counts[SLICE_STARTS] < 0 || lists->counts[SLICE_ENDS] < 0)
        return fq_op_error(err, FQ_ERR_PARSE, node, "starts and ends are required");
    return FQ_OK;
}

static bool slice_lengths_agree(const slice_lists *lists)
{
    int n = lists->counts[SLICE_STARTS];
    return lists->counts[SLICE_ENDS] == n &&
           (lists->counts[SLICE_AXES] < 0 || lists->counts[SLICE_AXES] == n) &&
           (lists->counts[SLICE_STEPS] < 0 || lists->counts[SLICE_STEPS] == n);
}

static fq_status slice_plan(const fq_graph *graph, const fq_node *node, const fq_shape *in,
                            slice_params *p, fq_error *err)
{
    slice_lists lists;
    fq_status status = slice_read(graph, node, &lists, err);
    if (status != FQ_OK)
        return status;
    if (!slice_lengths_agree(&lists))
        return fq_op_error(err, FQ_ERR_SHAPE, node, "starts, ends, axes and steps differ in "
                           "length");

    p->out = *in;
    bool seen[FQ_MAX_RANK] = {false};
    for (int d = 0; d < in->rank; d++) {
        p->starts[d] = 0;
        p->steps[d] = 1;
    }
    for (int i = 0; i < lists.counts[SLICE_STARTS]; i++) {
        int64_t given_axis = lists.counts[SLICE_AXES] >= 0 ? lists.values[SLICE_AXES][i] : i;
        int axis = fq_normalize_axis(given_axis, in->rank);
        if (axis < 0 || seen[axis])
            return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range or "
                               "repeated", (long long)given_axis);
        seen[axis] = true;
        int64_t step = lists.counts[SLICE_STEPS] >= 0 ? lists.values[SLICE_STEPS][i] : 1;
        if (step == 0 || step == INT64_MIN)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "step %d is %lld", i, (long long)step);
        p->steps[axis] = step;
        slice_dim(in->dims[axis], lists.values[SLICE_STARTS][i], lists.values[SLICE_ENDS][i],
                  step, &p->starts[axis], &p->out.dims[axis]);
    }
    return FQ_OK;
}

fq_status fq_op_slice_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, graph->opset >= 10 ? 3 : 1,
                                         graph->opset >= 10 ? 5 : 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    slice_params p;
    status = slice_plan(graph, node, &x->shape, &p, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, x->dtype, &p.out);
    return FQ_OK;
}

fq_status fq_op_slice_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *x = &ctx->inputs[0];
    slice_params p;
    fq_status status = slice_plan(ctx->graph, ctx->node, &x->shape, &p, ctx->err);
    if (status != FQ_OK)
        return status;
    fq_slice_ref(fq_dtype_size(x->dtype), x->shape.rank, x->shape.dims, p.starts, p.steps,
                 p.out.dims, x->data, ctx->outputs[0].data);
    return FQ_OK;
}

/* ---- Gather ----------------------------------------------------------------------------- */

fq_status fq_op_gather_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 2, err);
    if (status != FQ_OK)
        return status;
    const fq_value *data = fq_node_input(graph, node, 0);
    const fq_value *indices = fq_node_input(graph, node, 1);
    if (indices->dtype != FQ_DTYPE_I64 && indices->dtype != FQ_DTYPE_I32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "indices '%s' are %s, expects i32 or "
                           "i64", indices->name, fq_dtype_name(indices->dtype));
    int64_t given = fq_node_attr_int(node, "axis", 0);
    int axis = fq_normalize_axis(given, data->shape.rank);
    if (axis < 0)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range for rank %d",
                           (long long)given, data->shape.rank);
    int rank = data->shape.rank - 1 + indices->shape.rank;
    if (rank > FQ_MAX_RANK)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "output rank %d exceeds %d", rank,
                           FQ_MAX_RANK);

    fq_shape out = {.rank = rank};
    int next = 0;
    for (int d = 0; d < axis; d++)
        out.dims[next++] = data->shape.dims[d];
    for (int d = 0; d < indices->shape.rank; d++)
        out.dims[next++] = indices->shape.dims[d];
    for (int d = axis + 1; d < data->shape.rank; d++)
        out.dims[next++] = data->shape.dims[d];
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, data->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_gather_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *data = &ctx->inputs[0];
    const fq_tensor *indices = &ctx->inputs[1];
    int axis = fq_normalize_axis(fq_node_attr_int(ctx->node, "axis", 0), data->shape.rank);
    if (axis < 0)
        return fq_op_error(ctx->err, FQ_ERR_SHAPE, ctx->node, "axis is out of range");
    int64_t axis_dim = data->shape.dims[axis];
    int64_t n = fq_shape_numel(&indices->shape);
    bool wide = indices->dtype == FQ_DTYPE_I64;
    for (int64_t j = 0; j < n; j++) {
        int64_t index = wide ? ((const int64_t *)indices->data)[j]
                             : ((const int32_t *)indices->data)[j];
        if (index < -axis_dim || index >= axis_dim)
            return fq_op_error(ctx->err, FQ_ERR_INVALID_ARG, ctx->node, "index %lld at position "
                               "%lld is out of range for axis %d of size %lld", (long long)index,
                               (long long)j, axis, (long long)axis_dim);
    }
    fq_gather_ref(fq_dtype_size(data->dtype), product(data->shape.dims, 0, axis), axis_dim,
                  product(data->shape.dims, axis + 1, data->shape.rank), data->data,
                  indices->data, wide, n, ctx->outputs[0].data);
    return FQ_OK;
}

/* ---- Tile ------------------------------------------------------------------------------- */

fq_status fq_op_tile_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 2, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    int64_t repeats[FQ_MAX_RANK];
    int count = 0;
    status = fq_op_const_ints(graph, node, 1, repeats, FQ_MAX_RANK, &count, err);
    if (status != FQ_OK)
        return status;
    if (count != x->shape.rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "repeats has %d entries for rank %d", count,
                           x->shape.rank);
    fq_shape out = x->shape;
    for (int d = 0; d < count; d++) {
        if (repeats[d] < 0 || (repeats[d] > 0 && out.dims[d] > INT64_MAX / repeats[d]))
            return fq_op_error(err, FQ_ERR_SHAPE, node, "repeat %d is %lld", d,
                               (long long)repeats[d]);
        out.dims[d] *= repeats[d];
    }
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_tile_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *x = &ctx->inputs[0];
    fq_tile_ref(fq_dtype_size(x->dtype), x->shape.rank, x->shape.dims,
                ctx->outputs[0].shape.dims, x->data, ctx->outputs[0].data);
    return FQ_OK;
}
