/* Helpers shared by the compute operators: sliding-window geometry, dtype and output checks. */
#include <string.h>

#include "ops/op_util.h"
#include "ops/ops_compute.h"

/* Reads an INTS attribute of exactly `count` entries, or fills `fallback` when it is absent. */
static fq_status window_ints(const fq_node *node, const char *name, int count, int64_t fallback,
                             int64_t *out, fq_error *err)
{
    int n = fq_node_attr_ints(node, name, out, 2 * count);
    if (n == -1) {
        for (int i = 0; i < 2 * count; i++)
            out[i] = fallback;
        return FQ_OK;
    }
    int expected = strcmp(name, "pads") == 0 ? 2 * count : count;
    if (n != expected)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "attribute %s has %d entries, expects %d",
                           name, n, expected);
    return FQ_OK;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* Output size and pads of one axis for auto_pad SAME_UPPER / SAME_LOWER. */
static void same_padding(fq_window *win, int d, bool lower)
{
    int64_t extent = (win->kernel[d] - 1) * win->dilation[d] + 1;
    win->out[d] = ceil_div(win->in[d], win->stride[d]);
    int64_t total = (win->out[d] - 1) * win->stride[d] + extent - win->in[d];
    total = total > 0 ? total : 0;
    win->pad_begin[d] = lower ? total - total / 2 : total / 2;
    win->pad_end[d] = total - win->pad_begin[d];
}

/* Output size of one axis with explicit pads. */
static int64_t explicit_output(const fq_window *win, int d, bool ceil_mode)
{
    int64_t extent = (win->kernel[d] - 1) * win->dilation[d] + 1;
    int64_t span = win->in[d] + win->pad_begin[d] + win->pad_end[d] - extent;
    if (span < 0)
        return 0;
    int64_t out = (ceil_mode ? ceil_div(span, win->stride[d]) : span / win->stride[d]) + 1;
    if (ceil_mode && (out - 1) * win->stride[d] >= win->in[d] + win->pad_begin[d])
        out--;
    return out;
}

static fq_status read_geometry(const fq_node *node, int spatial, fq_window *win, fq_error *err)
{
    int64_t strides[4], dilations[4], pads[4];
    fq_status status = window_ints(node, "strides", spatial, 1, strides, err);
    if (status == FQ_OK)
        status = window_ints(node, "dilations", spatial, 1, dilations, err);
    if (status == FQ_OK)
        status = window_ints(node, "pads", spatial, 0, pads, err);
    if (status != FQ_OK)
        return status;

    for (int d = 0; d < spatial; d++) {
        if (strides[d] < 1 || dilations[d] < 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "strides and dilations must be >= 1 "
                               "(axis %d: %lld, %lld)", d, (long long)strides[d],
                               (long long)dilations[d]);
        if (pads[d] < 0 || pads[d + spatial] < 0)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "negative pads on axis %d", d);
        win->stride[d] = strides[d];
        win->dilation[d] = dilations[d];
        win->pad_begin[d] = pads[d];
        win->pad_end[d] = pads[d + spatial];
    }
    return FQ_OK;
}

fq_status fq_window_resolve(const fq_node *node, const fq_shape *x, const int64_t *kernel,
                            bool ceil_mode, fq_window *win, fq_error *err)
{
    memset(win, 0, sizeof(*win));
    win->spatial = x->rank - 2;
    for (int d = 0; d < win->spatial; d++) {
        win->in[d] = x->dims[2 + d];
        win->kernel[d] = kernel[d];
        if (kernel[d] < 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "kernel size %lld on axis %d",
                               (long long)kernel[d], d);
    }
    fq_status status = read_geometry(node, win->spatial, win, err);
    if (status != FQ_OK)
        return status;

    const char *auto_pad = fq_node_attr_string(node, "auto_pad", "NOTSET");
    bool upper = strcmp(auto_pad, "SAME_UPPER") == 0;
    bool lower = strcmp(auto_pad, "SAME_LOWER") == 0;
    bool valid = strcmp(auto_pad, "VALID") == 0;
    if (!upper && !lower && !valid && strcmp(auto_pad, "NOTSET") != 0)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "auto_pad '%s' is not supported",
                           auto_pad);

    for (int d = 0; d < win->spatial; d++) {
        if (upper || lower) {
            same_padding(win, d, lower);
            continue;
        }
        if (valid)
            win->pad_begin[d] = win->pad_end[d] = 0;
        win->out[d] = explicit_output(win, d, ceil_mode);
        if (win->out[d] < 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "window of %lld (dilation %lld) does "
                               "not fit input size %lld plus pads on axis %d",
                               (long long)win->kernel[d], (long long)win->dilation[d],
                               (long long)win->in[d], d);
    }
    return FQ_OK;
}

fq_status fq_op_require_f32(const fq_graph *graph, const fq_node *node, int i, fq_error *err)
{
    const fq_value *value = fq_node_input(graph, node, i);
    if (value == NULL)
        return fq_op_error(err, FQ_ERR_PARSE, node, "input %d is missing", i);
    if (value->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input %d ('%s') is %s; only f32 is "
                           "supported", i, value->name, fq_dtype_name(value->dtype));
    return FQ_OK;
}

fq_status fq_op_single_output(const fq_node *node, const char *what, fq_error *err)
{
    for (int i = 1; i < node->n_outputs; i++)
        if (node->outputs[i] >= 0)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "output %d (%s) is not "
                               "supported", i, what);
    return FQ_OK;
}

int64_t fq_output_elements(const fq_graph *graph, const fq_node *node)
{
    const fq_value *out = node->n_outputs > 0 && node->outputs[0] >= 0
                              ? &graph->values[node->outputs[0]]
                              : NULL;
    if (out == NULL)
        return 0;
    int64_t n = fq_shape_numel(&out->shape);
    return n > 0 ? n : 0;
}
