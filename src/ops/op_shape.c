/* Operators that only change the shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout
 * at inference), Shape, and Expand. */
#include <stdint.h>
#include <string.h>

#include "ops/ops_tensor.h"
#include "ref/tensor_broadcast_ref.h"

static fq_status shape_mismatch(fq_error *err, const fq_node *node, const char *what,
                                const fq_shape *from, const fq_shape *to)
{
    char a[64], b[64];
    return fq_op_error(err, FQ_ERR_SHAPE, node, "%s: %s cannot become %s", what,
                       fq_shape_format(from, a, sizeof(a)), fq_shape_format(to, b, sizeof(b)));
}

/* ---- Reshape ---------------------------------------------------------------------------- */

/* Resolves the target: 0 copies the input's dim (unless allowzero), one -1 takes what is left. */
static fq_status reshape_target(const fq_node *node, const fq_shape *in, const int64_t *target,
                                int count, bool allow_zero, fq_shape *out, fq_error *err)
{
    int unknown = -1;
    int64_t known = 1;
    out->rank = count;
    for (int i = 0; i < count; i++) {
        int64_t d = target[i];
        if (d == 0 && !allow_zero) {
            if (i >= in->rank)
                return fq_op_error(err, FQ_ERR_SHAPE, node, "target dim %d is 0 but the input "
                                   "has rank %d", i, in->rank);
            d = in->dims[i];
        }
        if (d == -1) {
            if (unknown >= 0)
                return fq_op_error(err, FQ_ERR_SHAPE, node, "target has more than one -1");
            unknown = i;
            continue;
        }
        if (d < 0 || (d > 0 && known > INT64_MAX / d))
            return fq_op_error(err, FQ_ERR_SHAPE, node, "target dim %d is %lld", i,
                               (long long)d);
        out->dims[i] = d;
        known *= d;
    }

    int64_t numel = fq_shape_numel(in);
    if (unknown >= 0) {
        if (known == 0 || numel % known != 0)
            return shape_mismatch(err, node, "the -1 dim cannot be resolved", in, out);
        out->dims[unknown] = numel / known;
    } else if (known != numel) {
        return shape_mismatch(err, node, "element counts differ", in, out);
    }
    return FQ_OK;
}

fq_status fq_op_reshape_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 2, err);
    if (status != FQ_OK)
        return status;
    int64_t target[FQ_MAX_RANK];
    int count = 0;
    status = fq_op_const_ints(graph, node, 1, target, FQ_MAX_RANK, &count, err);
    if (status != FQ_OK)
        return status;
    bool allow_zero = graph->opset >= 14 && fq_node_attr_int(node, "allowzero", 0) != 0;
    const fq_value *data = fq_node_input(graph, node, 0);
    fq_shape out;
    status = reshape_target(node, &data->shape, target, count, allow_zero, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, data->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_reshape_exec(const fq_exec_ctx *ctx)
{
    return fq_op_exec_copy(ctx);
}

/* ---- Flatten ---------------------------------------------------------------------------- */

fq_status fq_op_flatten_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    int64_t axis = fq_node_attr_int(node, "axis", 1);
    if (axis < -x->shape.rank || axis > x->shape.rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range for rank %d",
                           (long long)axis, x->shape.rank);
    if (axis < 0)
        axis += x->shape.rank;

    fq_shape out = {.rank = 2, .dims = {1, 1}};
    for (int d = 0; d < x->shape.rank; d++)
        out.dims[d < axis ? 0 : 1] *= x->shape.dims[d];
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_flatten_exec(const fq_exec_ctx *ctx)
{
    return fq_op_exec_copy(ctx);
}

/* ---- Squeeze and Unsqueeze -------------------------------------------------------------- */

/* The axes: an attribute before opset 13, the (constant) input 1 from 13. *count is -1 when
 * none are given. */
static fq_status read_axes(fq_graph *graph, fq_node *node, int64_t *axes, int *count,
                           fq_error *err)
{
    if (graph->opset < 13) {
        *count = fq_node_attr_ints(node, "axes", axes, FQ_MAX_RANK);
        if (*count == -2)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "more than %d axes", FQ_MAX_RANK);
        return FQ_OK;
    }
    if (fq_node_attr(node, "axes") != NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "axes is an input from opset 13, not an "
                           "attribute");
    *count = -1;
    if (fq_node_input(graph, node, 1) == NULL)
        return FQ_OK;
    return fq_op_const_ints(graph, node, 1, axes, FQ_MAX_RANK, count, err);
}

/* Normalizes axes against rank into a mask; refuses out-of-range and repeated axes. */
static fq_status axes_mask(const fq_node *node, const int64_t *axes, int count, int rank,
                           bool *mask, fq_error *err)
{
    memset(mask, 0, (size_t)FQ_MAX_RANK * sizeof(bool));
    for (int i = 0; i < count; i++) {
        int axis = fq_normalize_axis(axes[i], rank);
        if (axis < 0)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is out of range for rank %d",
                               (long long)axes[i], rank);
        if (mask[axis])
            return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %lld is repeated",
                               (long long)axes[i]);
        mask[axis] = true;
    }
    return FQ_OK;
}

fq_status fq_op_squeeze_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, graph->opset >= 13 ? 2 : 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    int64_t axes[FQ_MAX_RANK];
    int count;
    bool mask[FQ_MAX_RANK];
    status = read_axes(graph, node, axes, &count, err);
    if (status == FQ_OK)
        status = axes_mask(node, axes, count, x->shape.rank, mask, err);
    if (status != FQ_OK)
        return status;

    fq_shape out = {.rank = 0};
    for (int d = 0; d < x->shape.rank; d++) {
        bool squeeze = count < 0 ? x->shape.dims[d] == 1 : mask[d];
        if (squeeze && x->shape.dims[d] != 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "axis %d has size %lld, not 1", d,
                               (long long)x->shape.dims[d]);
        if (!squeeze)
            out.dims[out.rank++] = x->shape.dims[d];
    }
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_squeeze_exec(const fq_exec_ctx *ctx)
{
    return fq_op_exec_copy(ctx);
}

fq_status fq_op_unsqueeze_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, graph->opset >= 13 ? 2 : 1,
                                         graph->opset >= 13 ? 2 : 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    int64_t axes[FQ_MAX_RANK];
    int count;
    status = read_axes(graph, node, axes, &count, err);
    if (status != FQ_OK)
        return status;
    if (count < 0)
        return fq_op_error(err, FQ_ERR_PARSE, node, "has no axes");
    int rank = x->shape.rank + count;
    if (rank > FQ_MAX_RANK)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "output rank %d exceeds %d", rank,
                           FQ_MAX_RANK);
    bool mask[FQ_MAX_RANK];
    status = axes_mask(node, axes, count, rank, mask, err);
    if (status != FQ_OK)
        return status;

    fq_shape out = {.rank = rank};
    int next = 0;
    for (int d = 0; d < rank; d++)
        out.dims[d] = mask[d] ? 1 : x->shape.dims[next++];
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_unsqueeze_exec(const fq_exec_ctx *ctx)
{
    return fq_op_exec_copy(ctx);
}

/* ---- Identity and Dropout --------------------------------------------------------------- */

fq_status fq_op_identity_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    fq_op_set_output(graph, node, 0, x->dtype, &x->shape);
    return FQ_OK;
}

fq_status fq_op_identity_exec(const fq_exec_ctx *ctx)
{
    return fq_op_exec_copy(ctx);
}

/* Whether value is a constant one-element tensor equal to zero (bool false, ratio 0). */
static bool is_constant_zero(const fq_value *value)
{
    if (!fq_value_is_constant(value) || fq_shape_numel(&value->shape) != 1)
        return false;
    if (value->dtype == FQ_DTYPE_BOOL)
        return *(const uint8_t *)value->data == 0;
    if (value->dtype == FQ_DTYPE_F32)
        return *(const float *)value->data == 0.0f;
    return false;
}

/* Dropout at inference passes its input through. The ratio is an attribute before opset 12 and
 * an optional input from 12, together with training_mode. Training mode draws random masks,
 * which is not implemented: it is accepted only when the ratio is a constant 0, where it drops
 * nothing. The mask output, when asked for, is all true (bool from opset 10; before that, of the
 * input's dtype, all ones). */
fq_status fq_op_dropout_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, graph->opset >= 12 ? 3 : 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *training = fq_node_input(graph, node, 2);
    const fq_value *ratio = fq_node_input(graph, node, 1);
    if (training != NULL && !is_constant_zero(training) &&
        (ratio == NULL || !is_constant_zero(ratio)))
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "training_mode '%s' must be a "
                           "constant false unless the ratio is a constant 0: training-mode "
                           "dropout is not supported", training->name);
    const fq_value *x = fq_node_input(graph, node, 0);
    fq_op_set_output(graph, node, 0, x->dtype, &x->shape);
    if (node->n_outputs > 1)
        fq_op_set_output(graph, node, 1, graph->opset >= 10 ? FQ_DTYPE_BOOL : x->dtype,
                         &x->shape);
    return FQ_OK;
}

static void fill_ones(fq_tensor *t)
{
    int64_t n = fq_shape_numel(&t->shape);
    size_t elem = fq_dtype_size(t->dtype);
    unsigned char one[8] = {0};
    switch (t->dtype) {
    case FQ_DTYPE_F32: memcpy(one, &(float){1.0f}, 4); break;
    case FQ_DTYPE_F16: memcpy(one, &(uint16_t){0x3c00}, 2); break;
    case FQ_DTYPE_I32: memcpy(one, &(int32_t){1}, 4); break;
    case FQ_DTYPE_I64: memcpy(one, &(int64_t){1}, 8); break;
    default: one[0] = 1; break;
    }
    for (int64_t i = 0; i < n; i++)
        memcpy((unsigned char *)t->data + (size_t)i * elem, one, elem);
}

fq_status fq_op_dropout_exec(const fq_exec_ctx *ctx)
{
    if (ctx->n_outputs > 1 && ctx->outputs[1].data != NULL)
        fill_ones(&ctx->outputs[1]);
    return fq_op_exec_copy(ctx);
}

/* ---- Shape ------------------------------------------------------------------------------ */

/* The dims [start, end) the output lists: all before opset 15; from 15 the start and end
 * attributes, negative counting from the end, clamped to [0, rank]. */
static void shape_range(const fq_graph *graph, const fq_node *node, int rank, int *start,
                        int *end)
{
    int64_t s = 0, e = rank;
    if (graph->opset >= 15) {
        s = fq_node_attr_int(node, "start", 0);
        e = fq_node_attr_int(node, "end", rank);
    }
    s = s < 0 ? s + rank : s;
    e = e < 0 ? e + rank : e;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = (int)s;
    *end = (int)(e > s ? e : s);
}

fq_status fq_op_shape_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    int start, end;
    shape_range(graph, node, x->shape.rank, &start, &end);
    fq_shape out = {.rank = 1, .dims = {end - start}};
    fq_op_set_output(graph, node, 0, FQ_DTYPE_I64, &out);
    return FQ_OK;
}

/* Reads only the input's shape: its data may be absent (the constant folder runs Shape on
 * values that are not constant). */
fq_status fq_op_shape_exec(const fq_exec_ctx *ctx)
{
    const fq_shape *in = &ctx->inputs[0].shape;
    int start, end;
    shape_range(ctx->graph, ctx->node, in->rank, &start, &end);
    int64_t *out = ctx->outputs[0].data;
    for (int d = start; d < end; d++)
        out[d - start] = in->dims[d];
    return FQ_OK;
}

/* ---- Expand ----------------------------------------------------------------------------- */

fq_status fq_op_expand_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 2, err);
    if (status != FQ_OK)
        return status;
    int64_t dims[FQ_MAX_RANK];
    int count = 0;
    status = fq_op_const_ints(graph, node, 1, dims, FQ_MAX_RANK, &count, err);
    if (status != FQ_OK)
        return status;
    fq_shape target = {.rank = count};
    for (int i = 0; i < count; i++) {
        if (dims[i] < 0)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "shape dim %d is %lld", i,
                               (long long)dims[i]);
        target.dims[i] = dims[i];
    }
    const fq_value *x = fq_node_input(graph, node, 0);
    fq_shape out;
    if (fq_broadcast_shape(&x->shape, &target, &out) != FQ_OK)
        return shape_mismatch(err, node, "shapes do not broadcast", &x->shape, &target);
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_expand_exec(const fq_exec_ctx *ctx)
{
    const fq_shape *in = &ctx->inputs[0].shape;
    fq_tensor *out = &ctx->outputs[0];
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &out->shape, 1, &in);
    fq_broadcast_copy_ref(&plan, fq_dtype_size(out->dtype), ctx->inputs[0].data, out->data);
    return FQ_OK;
}
