/* Pad (opsets 2 to 17): constant, reflect and edge modes on any dtype; negative pads crop. Pads
 * and value are attributes before opset 11 and inputs (pads constant) from 11 on. */
#include <string.h>

#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ref/any_pad_nd_ref.h"

/* Pads past this magnitude are refused rather than overflowing the output size. */
#define MAX_PAD ((int64_t)1 << 40)

static fq_status read_pad_mode(const fq_node *node, fq_pad_mode *mode, fq_error *err)
{
    const char *name = fq_node_attr_string(node, "mode", "constant");
    if (strcmp(name, "constant") == 0)
        *mode = FQ_PAD_CONSTANT;
    else if (strcmp(name, "reflect") == 0)
        *mode = FQ_PAD_REFLECT;
    else if (strcmp(name, "edge") == 0)
        *mode = FQ_PAD_EDGE;
    else
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "mode '%s' is not supported", name);
    return FQ_OK;
}

/* pads: begin values of every axis, then end values (2 * rank entries). */
static fq_status read_pads(const fq_graph *graph, const fq_node *node, int rank, int64_t *pads,
                           fq_error *err)
{
    int count = 0;
    if (graph->opset >= 11) {
        fq_status status = fq_op_const_ints(graph, node, 1, pads, 2 * FQ_MAX_RANK, &count, err);
        if (status != FQ_OK)
            return status;
    } else {
        count = fq_node_attr_ints(node, "pads", pads, 2 * FQ_MAX_RANK);
    }
    if (count != 2 * rank)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "pads has %d entries for rank %d", count,
                           rank);
    for (int i = 0; i < count; i++)
        if (pads[i] > MAX_PAD || pads[i] < -MAX_PAD)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "pad %lld is out of range",
                               (long long)pads[i]);
    return FQ_OK;
}

static fq_status pad_params(const fq_graph *graph, const fq_node *node, fq_pad_nd_params *p,
                            fq_error *err)
{
    memset(p, 0, sizeof(*p));
    bool inputs = graph->opset >= 11;
    fq_status status = fq_op_check_arity(node, inputs ? 2 : 1, inputs ? 3 : 1, err);
    if (status == FQ_OK)
        status = read_pad_mode(node, &p->mode, err);
    if (status != FQ_OK)
        return status;

    const fq_value *x = fq_node_input(graph, node, 0);
    if (x->shape.rank < 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input is a scalar");
    int64_t pads[2 * FQ_MAX_RANK];
    status = read_pads(graph, node, x->shape.rank, pads, err);
    if (status != FQ_OK)
        return status;

    p->rank = x->shape.rank;
    p->element_size = fq_dtype_size(x->dtype);
    for (int d = 0; d < p->rank; d++) {
        p->in_dims[d] = x->shape.dims[d];
        p->pad_begin[d] = pads[d];
        p->out_dims[d] = x->shape.dims[d] + pads[d] + pads[d + p->rank];
        if (p->out_dims[d] < 0)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "pads crop axis %d below zero", d);
        if (p->mode != FQ_PAD_CONSTANT && p->in_dims[d] == 0 && p->out_dims[d] > 0)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "cannot %s-pad the empty axis %d",
                               p->mode == FQ_PAD_EDGE ? "edge" : "reflect", d);
    }
    return FQ_OK;
}

/* The constant value: an attribute (f32 only unless zero) before opset 11, else input 2 of the
 * data's dtype (zero when omitted). */
static fq_status check_fill(const fq_graph *graph, const fq_node *node, fq_error *err)
{
    const fq_value *x = fq_node_input(graph, node, 0);
    if (graph->opset < 11) {
        float value = fq_node_attr_float(node, "value", 0.0f);
        if (x->dtype != FQ_DTYPE_F32 && value != 0.0f)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "value %g on %s data is not "
                               "supported", (double)value, fq_dtype_name(x->dtype));
        return FQ_OK;
    }
    const fq_value *fill = fq_node_input(graph, node, 2);
    if (fill == NULL)
        return FQ_OK;
    if (fill->dtype != x->dtype || fq_shape_numel(&fill->shape) != 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "constant_value must be one %s element",
                           fq_dtype_name(x->dtype));
    return FQ_OK;
}

fq_status fq_pad_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_pad_nd_params p;
    fq_status status = pad_params(graph, node, &p, err);
    if (status == FQ_OK)
        status = check_fill(graph, node, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    if (x->dtype == FQ_DTYPE_UNDEFINED || p.element_size == 0)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "dtype %s is not supported",
                           fq_dtype_name(x->dtype));
    fq_shape out = {.rank = p.rank};
    memcpy(out.dims, p.out_dims, sizeof(int64_t) * (size_t)p.rank);
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

fq_status fq_pad_exec(const fq_exec_ctx *ctx)
{
    fq_pad_nd_params p;
    fq_status status = pad_params(ctx->graph, ctx->node, &p, ctx->err);
    if (status != FQ_OK)
        return status;

    uint64_t zero = 0;
    float value = fq_node_attr_float(ctx->node, "value", 0.0f);
    p.fill = &zero;
    if (ctx->graph->opset < 11 && ctx->inputs[0].dtype == FQ_DTYPE_F32)
        p.fill = &value;
    else if (ctx->graph->opset >= 11 && ctx->n_inputs > 2 && ctx->inputs[2].data != NULL)
        p.fill = ctx->inputs[2].data;
    fq_ref_pad_nd_any(&p, ctx->inputs[0].data, ctx->outputs[0].data);
    return FQ_OK;
}
