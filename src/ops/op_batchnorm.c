/* BatchNormalization (opsets 7 to 15) in inference form, f32. Training mode and the running
 * statistics outputs are not supported. */
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ref/f32_batchnorm_ref.h"

static const char *const parameter_names[] = {"scale", "B", "input_mean", "input_var"};

static fq_status check_attrs(const fq_node *node, fq_error *err)
{
    int64_t training = fq_node_attr_int(node, "training_mode", 0);
    if (training != 0)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "training_mode %lld is not supported",
                           (long long)training);
    int64_t spatial = fq_node_attr_int(node, "spatial", 1);
    if (spatial != 1)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "spatial %lld is not supported",
                           (long long)spatial);
    return fq_op_single_output(node, "running statistics", err);
}

static fq_status batchnorm_params(const fq_graph *graph, const fq_node *node,
                                  fq_batchnorm_f32_params *p, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 5, 5, err);
    if (status == FQ_OK)
        status = check_attrs(node, err);
    for (int i = 0; i < 5 && status == FQ_OK; i++)
        status = fq_op_require_f32(graph, node, i, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *x = &fq_node_input(graph, node, 0)->shape;
    if (x->rank < 2)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "input rank %d, expects at least 2",
                           x->rank);
    for (int i = 1; i < 5; i++) {
        const fq_shape *s = &fq_node_input(graph, node, i)->shape;
        if (s->rank != 1 || s->dims[0] != x->dims[1])
            return fq_op_error(err, FQ_ERR_SHAPE, node, "%s must have %lld entries",
                               parameter_names[i - 1], (long long)x->dims[1]);
    }
    *p = (fq_batchnorm_f32_params){.batch = x->dims[0], .channels = x->dims[1], .spatial = 1,
                                   .epsilon = fq_node_attr_float(node, "epsilon", 1e-5f)};
    for (int d = 2; d < x->rank; d++)
        p->spatial *= x->dims[d];
    return FQ_OK;
}

fq_status fq_batchnorm_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_batchnorm_f32_params p;
    fq_status status = batchnorm_params(graph, node, &p, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &fq_node_input(graph, node, 0)->shape);
    return status;
}

fq_status fq_batchnorm_exec(const fq_exec_ctx *ctx)
{
    fq_batchnorm_f32_params p;
    fq_status status = batchnorm_params(ctx->graph, ctx->node, &p, ctx->err);
    if (status != FQ_OK)
        return status;
    const fq_tensor *in = ctx->inputs;
    fq_ref_batchnorm_f32(&p, in[0].data, in[1].data, in[2].data, in[3].data, in[4].data,
                         ctx->outputs[0].data);
    return FQ_OK;
}
