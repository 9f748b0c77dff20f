/* Graph passes: input sizes, shape inference with constant folding, Identity/Dropout removal,
 * dead node removal, and the standard pipeline. The fusions are in fuse.c. */
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/ops.h"
#include "facequant/onnx.h"
#include "facequant/passes.h"
#include "facequant/quantize.h"

static fq_status set_dim(fq_value *value, int d, int64_t want, const char *what, fq_error *err)
{
    int64_t have = value->shape.dims[d];
    if (want <= 0)
        return FQ_OK;
    if (have >= 0 && have != want)
        return fq_error_set(err, FQ_ERR_SHAPE,
                            "input '%s': %s is fixed at %lld in the model, %lld was requested",
                            value->name, what, (long long)have, (long long)want);
    value->shape.dims[d] = want;
    fq_free(value->dim_param[d]);
    value->dim_param[d] = NULL;
    return FQ_OK;
}

static fq_status fix_one_input(fq_value *value, const fq_input_size *size, fq_error *err)
{
    fq_input_size none = {0, 0, 0};
    const fq_input_size *s = size != NULL ? size : &none;
    fq_status status = FQ_OK;

    if (value->shape.rank == 4) {
        status = set_dim(value, 0, s->batch, "the batch size", err);
        if (status == FQ_OK && value->shape.dims[0] < 0)
            status = set_dim(value, 0, 1, "the batch size", err);
        if (status == FQ_OK)
            status = set_dim(value, 2, s->height, "the height", err);
        if (status == FQ_OK)
            status = set_dim(value, 3, s->width, "the width", err);
    } else if (value->shape.rank >= 1 && value->shape.dims[0] < 0) {
        status = set_dim(value, 0, s->batch > 0 ? s->batch : 1, "the batch size", err);
    }
    if (status != FQ_OK)
        return status;

    for (int d = 0; d < value->shape.rank; d++) {
        if (value->shape.dims[d] >= 0)
            continue;
        const char *sym = value->dim_param[d] != NULL ? value->dim_param[d] : "?";
        if (value->shape.rank == 4 && (d == 2 || d == 3))
            return fq_error_set(err, FQ_ERR_SHAPE,
                                "input '%s' has a dynamic %s ('%s'): give an input size, for "
                                "example --input-size 640x640 (width x height)",
                                value->name, d == 2 ? "height" : "width", sym);
        return fq_error_set(err, FQ_ERR_SHAPE, "input '%s': dimension %d ('%s') is unknown",
                            value->name, d, sym);
    }
    return FQ_OK;
}

fq_status fq_pass_fix_input_size(fq_graph *graph, const fq_input_size *size, fq_error *err)
{
    for (int i = 0; i < graph->n_inputs; i++) {
        fq_status status = fix_one_input(&graph->values[graph->inputs[i]], size, err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

fq_status fq_pass_set_input_shape(fq_graph *graph, const char *name, const fq_shape *shape,
                                  fq_error *err)
{
    for (int i = 0; i < graph->n_inputs; i++) {
        fq_value *value = &graph->values[graph->inputs[i]];
        if (strcmp(value->name, name) != 0)
            continue;
        if (value->shape.rank != 0 && value->shape.rank != shape->rank)
            return fq_error_set(err, FQ_ERR_SHAPE, "input '%s' has rank %d, a shape of rank %d "
                                "was given", name, value->shape.rank, shape->rank);
        for (int d = 0; d < shape->rank; d++) {
            int64_t have = value->shape.rank == 0 ? -1 : value->shape.dims[d];
            if (have >= 0 && have != shape->dims[d])
                return fq_error_set(err, FQ_ERR_SHAPE,
                                    "input '%s': dimension %d is fixed at %lld in the model, "
                                    "%lld was given", name, d, (long long)have,
                                    (long long)shape->dims[d]);
        }
        for (int d = 0; d < FQ_MAX_RANK; d++) {
            fq_free(value->dim_param[d]);
            value->dim_param[d] = NULL;
        }
        value->shape = *shape;
        return FQ_OK;
    }
    return fq_error_set(err, FQ_ERR_INVALID_ARG, "the model has no input named '%s'", name);
}

/* A node can be computed at load time when every present input is constant, or when it is a
 * Shape of a value whose shape is known. */
static bool is_foldable(const fq_graph *graph, const fq_node *node)
{
    if (strcmp(node->op_type, "Shape") == 0)
        return true;
    if (node->n_inputs == 0 && strcmp(node->op_type, "Constant") != 0)
        return false;
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *in = fq_node_input(graph, node, i);
        if (in != NULL && !fq_value_is_constant(in))
            return false;
    }
    return true;
}

static fq_status fold_node(fq_graph *graph, int index, fq_error *err)
{
    fq_node *node = &graph->nodes[index];
    const fq_op_info *info = fq_op_get(node->op);
    fq_tensor inputs[16];
    fq_tensor outputs[8];
    fq_status status = FQ_OK;

    if (node->n_inputs > 16 || node->n_outputs > 8)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "node '%s' (%s): too many inputs or outputs "
                            "to fold", node->name, node->op_type);
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(graph, node, i);
        inputs[i] = v == NULL ? (fq_tensor){0}
                              : (fq_tensor){v->dtype, v->shape, v->data, &v->quant};
    }
    memset(outputs, 0, sizeof(outputs));
    for (int o = 0; o < node->n_outputs && status == FQ_OK; o++) {
        fq_value *v = fq_node_output(graph, node, o);
        if (v == NULL)
            continue;
        size_t bytes = (size_t)fq_shape_numel(&v->shape) * fq_dtype_size(v->dtype);
        outputs[o] = (fq_tensor){v->dtype, v->shape, fq_malloc_aligned(bytes), &v->quant};
        if (outputs[o].data == NULL)
            status = fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': cannot allocate %zu bytes "
                                  "to fold it", node->name, bytes);
    }
    size_t ws = info->workspace_size != NULL ? info->workspace_size(graph, node) : 0;
    void *workspace = ws > 0 ? fq_malloc_aligned(ws) : NULL;
    if (status == FQ_OK && ws > 0 && workspace == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "node '%s': no memory for workspace",
                              node->name);
    if (status == FQ_OK) {
        fq_exec_ctx ctx = {graph, node, node->n_inputs, inputs, node->n_outputs, outputs,
                           workspace, ws, err};
        status = info->exec(&ctx);
    }
    fq_free_aligned(workspace);

    for (int o = 0; o < node->n_outputs; o++) {
        if (outputs[o].data == NULL)
            continue;
        if (status == FQ_OK)
            status = fq_value_set_data(graph, node->outputs[o], outputs[o].data, true, err);
        else
            fq_free_aligned(outputs[o].data);
    }
    if (status == FQ_OK)
        graph->nodes[index].dead = true;
    return status;
}

static fq_status infer_all(fq_graph *graph, bool fold, fq_error *err)
{
    fq_status status = fq_graph_bind_ops(graph, err);
    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++) {
        if (graph->nodes[n].dead)
            continue;
        status = fq_node_infer(graph, n, err);
        if (status == FQ_OK && fold && is_foldable(graph, &graph->nodes[n]))
            status = fold_node(graph, n, err);
    }
    if (status == FQ_OK && fold)
        status = fq_graph_compact(graph, err);
    return status;
}

fq_status fq_pass_infer_shapes(fq_graph *graph, fq_error *err)
{
    return infer_all(graph, false, err);
}

fq_status fq_pass_infer_and_fold(fq_graph *graph, fq_error *err)
{
    return infer_all(graph, true, err);
}

static bool is_graph_output(const fq_graph *graph, int value)
{
    for (int i = 0; i < graph->n_outputs; i++)
        if (graph->outputs[i] == value)
            return true;
    return false;
}

bool fq_graph_merge_values(fq_graph *graph, int kept, int dropped)
{
    if (!is_graph_output(graph, dropped)) {
        fq_graph_replace_uses(graph, dropped, kept);
        return true;
    }
    int producer = fq_graph_producer(graph, kept);
    if (producer < 0 || is_graph_output(graph, kept))
        return false;
    fq_node *node = &graph->nodes[producer];
    for (int o = 0; o < node->n_outputs; o++)
        if (node->outputs[o] == kept)
            node->outputs[o] = dropped;
    fq_graph_replace_uses(graph, kept, dropped);
    return true;
}

static bool is_pass_through(const fq_graph *graph, const fq_node *node)
{
    if (strcmp(node->op_type, "Identity") == 0)
        return node->n_inputs == 1;
    if (strcmp(node->op_type, "Dropout") != 0 || node->n_inputs < 1)
        return false;
    /* A Dropout whose mask output is read must stay. */
    return node->n_outputs < 2 || node->outputs[1] < 0 ||
           fq_graph_use_count(graph, node->outputs[1]) == 0;
}

fq_status fq_pass_remove_identity(fq_graph *graph, fq_error *err)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        fq_node *node = &graph->nodes[n];
        if (node->dead || !is_pass_through(graph, node) || node->inputs[0] < 0)
            continue;
        int in = node->inputs[0];
        int out = node->outputs[0];
        node->dead = true;
        if (!fq_graph_merge_values(graph, in, out))
            node->dead = false;
    }
    return fq_graph_compact(graph, err);
}

fq_status fq_pass_remove_dead(fq_graph *graph, fq_error *err)
{
    for (int n = graph->n_nodes - 1; n >= 0; n--) {
        fq_node *node = &graph->nodes[n];
        if (node->dead)
            continue;
        bool used = false;
        for (int o = 0; o < node->n_outputs && !used; o++)
            used = node->outputs[o] >= 0 && fq_graph_use_count(graph, node->outputs[o]) > 0;
        if (!used)
            node->dead = true;
    }
    return fq_graph_compact(graph, err);
}

static fq_status check_known(const fq_graph *graph, fq_error *err)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        for (int o = 0; o < node->n_outputs; o++) {
            const fq_value *v = fq_node_output((fq_graph *)graph, node, o);
            if (v != NULL && !fq_shape_is_known(&v->shape))
                return fq_error_set(err, FQ_ERR_SHAPE, "node '%s' (%s): output '%s' has an "
                                    "unknown shape after inference", node->name, node->op_type,
                                    v->name);
        }
    }
    return FQ_OK;
}

static int count_op(const fq_graph *graph, const char *op_type)
{
    int count = 0;
    for (int n = 0; n < graph->n_nodes; n++)
        count += !graph->nodes[n].dead && strcmp(graph->nodes[n].op_type, op_type) == 0;
    return count;
}

/* A model quantized by another tool (QDQ) runs on the int8 operators, with its int8 regions
 * moved to NHWC like the quantizer's own models. */
static fq_status run_qdq_models_in_int8(fq_graph *graph, fq_error *err)
{
    if (count_op(graph, "DequantizeLinear") == 0)
        return FQ_OK;
    int before = count_op(graph, "QLinearConv");
    fq_status status = fq_pass_fuse_qdq(graph, err);
    if (status == FQ_OK && count_op(graph, "QLinearConv") > before)
        status = fq_pass_channels_last(graph, err);
    return status;
}

static fq_status run_pipeline(fq_graph *graph, const fq_input_size *size, bool fuse_qdq,
                              fq_error *err)
{
    fq_status status = fq_graph_bind_ops(graph, err);
    if (status == FQ_OK)
        status = fq_pass_remove_identity(graph, err);
    if (status == FQ_OK)
        status = fq_pass_fix_input_size(graph, size, err);
    if (status == FQ_OK)
        status = fq_pass_infer_and_fold(graph, err);
    if (status == FQ_OK)
        status = fq_pass_fold_batchnorm(graph, err);
    if (status == FQ_OK)
        status = fq_pass_fuse_activations(graph, err);
    if (status == FQ_OK)
        status = fq_pass_remove_dead(graph, err);
    if (status == FQ_OK && fuse_qdq)
        status = run_qdq_models_in_int8(graph, err);
    if (status == FQ_OK)
        status = fq_pass_infer_shapes(graph, err);
    if (status == FQ_OK)
        status = check_known(graph, err);
    if (status == FQ_OK)
        status = fq_graph_validate(graph, err);
    return status;
}

fq_status fq_passes_run(fq_graph *graph, const fq_input_size *size, fq_error *err)
{
    return run_pipeline(graph, size, true, err);
}

fq_status fq_passes_run_unfused(fq_graph *graph, const fq_input_size *size, fq_error *err)
{
    return run_pipeline(graph, size, false, err);
}
