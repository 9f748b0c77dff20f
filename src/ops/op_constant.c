/* Operators that make tensors from attributes or scalars (Constant, ConstantOfShape, Range) and
 * Cast. */
#include <math.h>
#include <string.h>

#include "ops/ops_tensor.h"
#include "ref/tensor_cast_ref.h"

/* ---- Constant --------------------------------------------------------------------------- */

/* The one attribute that holds the value; refuses the kinds facequant does not represent. */
static fq_status constant_attr(const fq_graph *graph, const fq_node *node, const fq_attr **out,
                               fq_error *err)
{
    static const char *const refused[] = {"sparse_value", "value_string", "value_strings"};
    for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
        if (fq_node_attr(node, refused[k]) != NULL)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "attribute %s is not supported",
                               refused[k]);
    if (node->n_attrs != 1)
        return fq_op_error(err, FQ_ERR_PARSE, node, "has %d attributes, expects exactly one "
                           "value attribute", node->n_attrs);

    const fq_attr *a = &node->attrs[0];
    bool ok = (strcmp(a->name, "value") == 0 && a->type == FQ_ATTR_TENSOR && a->tensor >= 0 &&
               a->tensor < graph->n_values && fq_value_is_constant(&graph->values[a->tensor])) ||
              (strcmp(a->name, "value_float") == 0 && a->type == FQ_ATTR_FLOAT) ||
              (strcmp(a->name, "value_floats") == 0 && a->type == FQ_ATTR_FLOATS) ||
              (strcmp(a->name, "value_int") == 0 && a->type == FQ_ATTR_INT) ||
              (strcmp(a->name, "value_ints") == 0 && a->type == FQ_ATTR_INTS);
    if (!ok)
        return fq_op_error(err, FQ_ERR_PARSE, node, "attribute %s is not a valid value",
                           a->name);
    *out = a;
    return FQ_OK;
}

fq_status fq_op_constant_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 0, 0, err);
    const fq_attr *a = NULL;
    if (status == FQ_OK)
        status = constant_attr(graph, node, &a, err);
    if (status != FQ_OK)
        return status;

    fq_shape scalar = {.rank = 0};
    fq_shape list = {.rank = 1, .dims = {a->count}};
    switch (a->type) {
    case FQ_ATTR_TENSOR: {
        const fq_value *v = &graph->values[a->tensor];
        fq_op_set_output(graph, node, 0, v->dtype, &v->shape);
        break;
    }
    case FQ_ATTR_FLOAT: fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &scalar); break;
    case FQ_ATTR_FLOATS: fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &list); break;
    case FQ_ATTR_INT: fq_op_set_output(graph, node, 0, FQ_DTYPE_I64, &scalar); break;
    default: fq_op_set_output(graph, node, 0, FQ_DTYPE_I64, &list); break;
    }
    return FQ_OK;
}

fq_status fq_op_constant_exec(const fq_exec_ctx *ctx)
{
    const fq_attr *a = NULL;
    fq_status status = constant_attr(ctx->graph, ctx->node, &a, ctx->err);
    if (status != FQ_OK)
        return status;
    fq_tensor *out = &ctx->outputs[0];
    size_t bytes = fq_tensor_bytes(out);
    switch (a->type) {
    case FQ_ATTR_TENSOR: memcpy(out->data, ctx->graph->values[a->tensor].data, bytes); break;
    case FQ_ATTR_FLOAT: memcpy(out->data, &a->f, sizeof(float)); break;
    case FQ_ATTR_FLOATS: memcpy(out->data, a->floats, bytes); break;
    case FQ_ATTR_INT: memcpy(out->data, &a->i, sizeof(int64_t)); break;
    default: memcpy(out->data, a->ints, bytes); break;
    }
    return FQ_OK;
}

/* ---- ConstantOfShape -------------------------------------------------------------------- */

/* The fill value: a one-element tensor attribute, or an f32 zero when absent. */
static fq_status fill_value(const fq_graph *graph, const fq_node *node, const fq_value **out,
                            fq_error *err)
{
    *out = NULL;
    const fq_attr *a = fq_node_attr(node, "value");
    if (a == NULL)
        return FQ_OK;
    if (a->type != FQ_ATTR_TENSOR || a->tensor < 0 || a->tensor >= graph->n_values ||
        !fq_value_is_constant(&graph->values[a->tensor]) ||
        fq_shape_numel(&graph->values[a->tensor].shape) != 1)
        return fq_op_error(err, FQ_ERR_PARSE, node, "value must be a one-element tensor");
    *out = &graph->values[a->tensor];
    return FQ_OK;
}

fq_status fq_op_constant_of_shape_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *value;
    status = fill_value(graph, node, &value, err);
    if (status != FQ_OK)
        return status;
    int64_t dims[FQ_MAX_RANK];
    int count = 0;
    status = fq_op_const_ints(graph, node, 0, dims, FQ_MAX_RANK, &count, err);
    if (status != FQ_OK)
        return status;
    fq_shape out = {.rank = count};
    for (int i = 0; i < count; i++) {
        if (dims[i] < 0)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "dim %d is %lld", i, (long long)dims[i]);
        out.dims[i] = dims[i];
    }
    if (fq_shape_numel(&out) < 0)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "the element count overflows");
    fq_op_set_output(graph, node, 0, value != NULL ? value->dtype : FQ_DTYPE_F32, &out);
    return FQ_OK;
}

fq_status fq_op_constant_of_shape_exec(const fq_exec_ctx *ctx)
{
    const fq_value *value;
    fq_status status = fill_value(ctx->graph, ctx->node, &value, ctx->err);
    if (status != FQ_OK)
        return status;
    fq_tensor *out = &ctx->outputs[0];
    size_t elem = fq_dtype_size(out->dtype);
    int64_t n = fq_shape_numel(&out->shape);
    if (value == NULL) {
        memset(out->data, 0, (size_t)n * elem);
        return FQ_OK;
    }
    for (int64_t i = 0; i < n; i++)
        memcpy((unsigned char *)out->data + (size_t)i * elem, value->data, elem);
    return FQ_OK;
}

/* ---- Range ------------------------------------------------------------------------------ */

/* Longest Range output accepted: longer ones are almost certainly a malformed model. */
#define MAX_RANGE_LENGTH ((int64_t)1 << 40)

/* Number of elements of an integer range, exactly; -1 when it exceeds MAX_RANGE_LENGTH. */
static int64_t int_range_length(int64_t start, int64_t limit, int64_t delta)
{
    if (delta > 0 ? limit <= start : limit >= start)
        return 0;
    uint64_t span = delta > 0 ? (uint64_t)limit - (uint64_t)start
                              : (uint64_t)start - (uint64_t)limit;
    uint64_t step = delta > 0 ? (uint64_t)delta : (uint64_t)0 - (uint64_t)delta;
    uint64_t length = (span - 1) / step + 1;
    return length > (uint64_t)MAX_RANGE_LENGTH ? -1 : (int64_t)length;
}

/* The same for f32: ceil((limit - start) / delta), the difference taken in f32 as ONNX does. */
static int64_t f32_range_length(float start, float limit, float delta)
{
    double length = ceil((double)(limit - start) / (double)delta);
    if (!(length <= (double)MAX_RANGE_LENGTH))
        return -1;
    return length > 0 ? (int64_t)length : 0;
}

static int64_t int_scalar(const fq_value *v)
{
    return v->dtype == FQ_DTYPE_I32 ? *(const int32_t *)v->data : *(const int64_t *)v->data;
}

/* Range's length depends on its inputs' values, so they must be constant. */
fq_status fq_op_range_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 3, 3, err);
    if (status != FQ_OK)
        return status;
    const fq_value *in[3];
    for (int i = 0; i < 3; i++) {
        in[i] = fq_node_input(graph, node, i);
        if (!fq_value_is_constant(in[i]))
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' must be constant",
                               in[i]->name);
        bool scalar = fq_shape_numel(&in[i]->shape) == 1;
        bool dtype_ok = in[i]->dtype == FQ_DTYPE_F32 || in[i]->dtype == FQ_DTYPE_I32 ||
                        in[i]->dtype == FQ_DTYPE_I64;
        if (!scalar || !dtype_ok || in[i]->dtype != in[0]->dtype)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' must be an f32, i32 "
                               "or i64 scalar of the same dtype as start", in[i]->name);
    }

    int64_t length;
    if (in[0]->dtype == FQ_DTYPE_F32) {
        float delta = *(const float *)in[2]->data;
        if (delta == 0.0f)
            return fq_op_error(err, FQ_ERR_INVALID_ARG, node, "delta is 0");
        length = f32_range_length(*(const float *)in[0]->data, *(const float *)in[1]->data,
                                  delta);
    } else {
        if (int_scalar(in[2]) == 0)
            return fq_op_error(err, FQ_ERR_INVALID_ARG, node, "delta is 0");
        length = int_range_length(int_scalar(in[0]), int_scalar(in[1]), int_scalar(in[2]));
    }
    if (length < 0)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "the range has more than %lld elements",
                           (long long)MAX_RANGE_LENGTH);
    fq_shape out = {.rank = 1, .dims = {length}};
    fq_op_set_output(graph, node, 0, in[0]->dtype, &out);
    return FQ_OK;
}

/* Integer ranges are computed modulo 2^64 and narrowed, so an overflowing step wraps around
 * instead of being undefined. */
static int64_t wrapping_step(int64_t start, int64_t i, int64_t delta)
{
    return (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)delta);
}

fq_status fq_op_range_exec(const fq_exec_ctx *ctx)
{
    fq_tensor *out = &ctx->outputs[0];
    int64_t n = out->shape.dims[0];
    const void *start = ctx->inputs[0].data;
    const void *delta = ctx->inputs[2].data;
    for (int64_t i = 0; i < n; i++) {
        switch (out->dtype) {
        case FQ_DTYPE_F32:
            ((float *)out->data)[i] = *(const float *)start + (float)i * *(const float *)delta;
            break;
        case FQ_DTYPE_I32:
            ((int32_t *)out->data)[i] = (int32_t)(uint32_t)wrapping_step(
                *(const int32_t *)start, i, *(const int32_t *)delta);
            break;
        default:
            ((int64_t *)out->data)[i] = wrapping_step(*(const int64_t *)start, i,
                                                      *(const int64_t *)delta);
            break;
        }
    }
    return FQ_OK;
}

/* ---- Cast ------------------------------------------------------------------------------- */

/* The IR dtype of an ONNX TensorProto.DataType, or FQ_DTYPE_UNDEFINED for those facequant does
 * not represent (double, string, bfloat16, 16-bit and unsigned wide integers, complex). */
static fq_dtype dtype_from_onnx(int64_t onnx_type)
{
    switch (onnx_type) {
    case 1: return FQ_DTYPE_F32;
    case 2: return FQ_DTYPE_U8;
    case 3: return FQ_DTYPE_I8;
    case 6: return FQ_DTYPE_I32;
    case 7: return FQ_DTYPE_I64;
    case 9: return FQ_DTYPE_BOOL;
    case 10: return FQ_DTYPE_F16;
    default: return FQ_DTYPE_UNDEFINED;
    }
}

fq_status fq_op_cast_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    const fq_attr *to = fq_node_attr(node, "to");
    if (to == NULL || to->type != FQ_ATTR_INT)
        return fq_op_error(err, FQ_ERR_PARSE, node, "has no integer attribute 'to'");
    fq_dtype dtype = dtype_from_onnx(to->i);
    if (dtype == FQ_DTYPE_UNDEFINED)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "target type %lld is not supported "
                           "(supported: float, float16, int8, uint8, int32, int64, bool)",
                           (long long)to->i);
    const fq_value *x = fq_node_input(graph, node, 0);
    fq_op_set_output(graph, node, 0, dtype, &x->shape);
    return FQ_OK;
}

fq_status fq_op_cast_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *x = &ctx->inputs[0];
    fq_tensor *y = &ctx->outputs[0];
    if (!fq_cast_ref(x->dtype, x->data, y->dtype, y->data, fq_shape_numel(&x->shape)))
        return fq_op_error(ctx->err, FQ_ERR_UNSUPPORTED, ctx->node, "cannot cast %s to %s",
                           fq_dtype_name(x->dtype), fq_dtype_name(y->dtype));
    return FQ_OK;
}
