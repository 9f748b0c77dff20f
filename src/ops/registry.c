/* The operator table: the compute operators (ops_compute.c), the elementwise, shape and
 * data-movement operators (ops_tensor.c), then the quantized operators (op_qlinearconv.c,
 * op_qlinear.c, op_dynconv.c). */
#include <string.h>

#include "facequant/ops.h"
#include "ops/op_util.h"
#include "ops/registry.h"

/* The tables, in look-up order. Each quantized-operator family keeps its own table in the file
 * that implements it, so adding one never touches another's. */
typedef struct op_table {
    const fq_op_info *ops;
    const int *count;
} op_table;

static const op_table tables[] = {
    {fq_ops_compute, &fq_ops_compute_count},
    {fq_ops_tensor, &fq_ops_tensor_count},
    {fq_ops_qconv, &fq_ops_qconv_count},
    {fq_ops_qlinear, &fq_ops_qlinear_count},
    {fq_ops_dynamic, &fq_ops_dynamic_count},
};
#define N_TABLES ((int)(sizeof(tables) / sizeof(tables[0])))

static const fq_op_info *entry(int op)
{
    for (int t = 0; t < N_TABLES; t++) {
        if (op < *tables[t].count)
            return &tables[t].ops[op];
        op -= *tables[t].count;
    }
    return NULL;
}

int fq_op_count(void)
{
    int count = 0;
    for (int t = 0; t < N_TABLES; t++)
        count += *tables[t].count;
    return count;
}

const fq_op_info *fq_op_get(int op)
{
    if (op < 0 || op >= fq_op_count())
        return NULL;
    return entry(op);
}

int fq_op_find(const char *name)
{
    for (int op = 0; op < fq_op_count(); op++)
        if (strcmp(entry(op)->name, name) == 0)
            return op;
    return -1;
}

fq_status fq_graph_bind_ops(fq_graph *graph, fq_error *err)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        fq_node *node = &graph->nodes[n];
        int op = fq_op_find(node->op_type);
        if (op < 0)
            return fq_error_set(err, FQ_ERR_UNSUPPORTED,
                                "node '%s': op %s is not supported (opset %lld)", node->name,
                                node->op_type, (long long)graph->opset);
        const fq_op_info *info = entry(op);
        if (graph->opset < info->min_opset || graph->opset > info->max_opset)
            return fq_error_set(err, FQ_ERR_UNSUPPORTED,
                                "node '%s': op %s at opset %lld is not supported (supported: "
                                "opsets %d to %d)", node->name, node->op_type,
                                (long long)graph->opset, info->min_opset, info->max_opset);
        node->op = op;
    }
    return FQ_OK;
}

fq_status fq_node_infer(fq_graph *graph, int index, fq_error *err)
{
    fq_node *node = &graph->nodes[index];
    const fq_op_info *info = fq_op_get(node->op);
    if (info == NULL)
        return fq_error_set(err, FQ_ERR_INTERNAL, "node '%s' (%s) is not bound to an op",
                            node->name, node->op_type);
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *in = fq_node_input(graph, node, i);
        if (in != NULL && !fq_shape_is_known(&in->shape))
            return fq_op_error(err, FQ_ERR_SHAPE, node, "input '%s' has an unknown shape",
                               in->name);
    }
    return info->infer(graph, node, err);
}
