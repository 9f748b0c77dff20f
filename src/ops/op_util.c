/* Helpers shared by the operators. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ops/op_util.h"

fq_status fq_op_error(fq_error *err, fq_status status, const fq_node *node, const char *format,
                      ...)
{
    if (err != NULL) {
        char detail[FQ_ERROR_MESSAGE_SIZE];
        va_list args;
        va_start(args, format);
        vsnprintf(detail, sizeof(detail), format, args);
        va_end(args);
        fq_error_set(err, status, "node '%s' (%s): %s", node->name, node->op_type, detail);
    }
    return status;
}

fq_status fq_op_check_arity(const fq_node *node, int min_inputs, int max_inputs, fq_error *err)
{
    if (node->n_inputs < min_inputs || node->n_inputs > max_inputs)
        return fq_op_error(err, FQ_ERR_PARSE, node, "has %d inputs, expects %d to %d",
                           node->n_inputs, min_inputs, max_inputs);
    for (int i = 0; i < min_inputs; i++)
        if (node->inputs[i] < 0)
            return fq_op_error(err, FQ_ERR_PARSE, node, "required input %d is missing", i);
    if (node->n_outputs < 1 || node->outputs[0] < 0)
        return fq_op_error(err, FQ_ERR_PARSE, node, "has no output");
    return FQ_OK;
}

void fq_op_set_output(fq_graph *graph, const fq_node *node, int i, fq_dtype dtype,
                      const fq_shape *shape)
{
    fq_value *value = fq_node_output(graph, node, i);
    if (value == NULL)
        return;
    value->dtype = dtype;
    value->shape = *shape;
}

fq_status fq_op_const_ints(const fq_graph *graph, const fq_node *node, int i, int64_t *out,
                           int max, int *count, fq_error *err)
{
    const fq_value *value = fq_node_input(graph, node, i);
    if (value == NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "input %d is missing", i);
    if (!fq_value_is_constant(value))
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node,
                           "input %d ('%s') must be constant once the input size is fixed", i,
                           value->name);
    int64_t n = fq_shape_numel(&value->shape);
    if (n < 0 || n > max)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d ('%s') has %lld entries, at "
                           "most %d are supported", i, value->name, (long long)n, max);
    for (int64_t k = 0; k < n; k++) {
        if (value->dtype == FQ_DTYPE_I64)
            out[k] = ((const int64_t *)value->data)[k];
        else if (value->dtype == FQ_DTYPE_I32)
            out[k] = ((const int32_t *)value->data)[k];
        else
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d ('%s') is %s, expects an "
                               "integer tensor", i, value->name, fq_dtype_name(value->dtype));
    }
    *count = (int)n;
    return FQ_OK;
}

fq_status fq_op_const_floats(const fq_graph *graph, const fq_node *node, int i, float *out,
                             int max, int *count, fq_error *err)
{
    const fq_value *value = fq_node_input(graph, node, i);
    if (value == NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "input %d is missing", i);
    if (!fq_value_is_constant(value))
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node,
                           "input %d ('%s') must be constant once the input size is fixed", i,
                           value->name);
    if (value->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d ('%s') is %s, expects f32",
                           i, value->name, fq_dtype_name(value->dtype));
    int64_t n = fq_shape_numel(&value->shape);
    if (n < 0 || n > max)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d ('%s') has %lld entries, at "
                           "most %d are supported", i, value->name, (long long)n, max);
    memcpy(out, value->data, (size_t)n * sizeof(float));
    *count = (int)n;
    return FQ_OK;
}

fq_status fq_broadcast_shape(const fq_shape *a, const fq_shape *b, fq_shape *out)
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    fq_shape result = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - a->rank);
        int ib = i - (rank - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            result.dims[i] = da;
        else if (da == 1)
            result.dims[i] = db;
        else
            return FQ_ERR_SHAPE;
    }
    *out = result;
    return FQ_OK;
}

int fq_normalize_axis(int64_t axis, int rank)
{
    if (axis < -rank || axis >= rank)
        return -1;
    return (int)(axis < 0 ? axis + rank : axis);
}

fq_status fq_op_conv_kernel_size(const fq_graph *graph, const fq_node *node, int w_input,
                                 int64_t *kernel, fq_error *err)
{
    const fq_shape *w = &fq_node_input(graph, node, w_input)->shape;
    int spatial = w->rank - 2;
    int64_t attr[2];
    int n = fq_node_attr_ints(node, "kernel_shape", attr, 2);
    for (int d = 0; d < spatial; d++) {
        kernel[d] = w->dims[2 + d];
        if (n >= 0 && (n != spatial || attr[d] != kernel[d]))
            return fq_op_error(err, FQ_ERR_SHAPE, node, "kernel_shape does not match the "
                               "weights' spatial size");
    }
    return FQ_OK;
}

fq_epilogue_f32 fq_op_epilogue_f32(const fq_activation *act)
{
    fq_epilogue_f32 e = {.alpha = act->alpha, .beta = act->beta};
    switch (act->kind) {
    case FQ_ACT_NONE: e.kind = FQ_EPILOGUE_F32_NONE; break;
    case FQ_ACT_RELU: e.kind = FQ_EPILOGUE_F32_RELU; break;
    case FQ_ACT_CLIP: e.kind = FQ_EPILOGUE_F32_CLIP; break;
    case FQ_ACT_LEAKY_RELU: e.kind = FQ_EPILOGUE_F32_LEAKY_RELU; break;
    case FQ_ACT_PRELU: e.kind = FQ_EPILOGUE_F32_PRELU; break;
    case FQ_ACT_SIGMOID: e.kind = FQ_EPILOGUE_F32_SIGMOID; break;
    }
    return e;
}
