/* fq_pass_channels_last: moves the int8 regions of a quantized NCHW graph to NHWC.
 *
 * The nodes that run on NHWC u8 data are QLinearConv, u8 MaxPool, QLinearAveragePool and
 * QLinearGlobalAveragePool (attribute channels_last = 1), QLinearAdd (elementwise, so either
 * layout works when both inputs share it), and u8 Concat and Resize (axis and scales permuted).
 * Each 4-D u8 value such a node writes becomes NHWC in place (its shape is permuted); where a
 * reader of another kind needs the value, a u8 Transpose (0, 3, 1, 2) writes an NCHW copy once,
 * and an NCHW value read by a region node gets a Transpose (0, 2, 3, 1), once per value. A
 * Transpose of the graph reading an NHWC value has the two permutations composed instead.
 * A QuantizeLinear whose only reader is such a Transpose (0, 2, 3, 1), the entry of a region
 * fed by a float image, writes the NHWC value itself (channels_last = 1) and the Transpose
 * goes. A graph with a node that already has channels_last = 1 is left as it is. */
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "quant/quantize_internal.h"

static const int64_t to_nhwc[4] = {0, 2, 3, 1};
static const int64_t to_nchw[4] = {0, 3, 1, 2};

typedef struct layout_pass {
    fq_graph *graph;
    int n_values;     /* values before the pass: indices below this */
    bool *nhwc;       /* per value: stored NHWC */
    int *nhwc_copy;   /* per value: its NHWC Transpose output, or -1 */
    int *nchw_copy;   /* per value: its NCHW Transpose output, or -1 */
} layout_pass;

static bool is_u8_4d(const fq_graph *graph, int v)
{
    if (v < 0 || v >= graph->n_values)
        return false;
    const fq_value *value = &graph->values[v];
    return value->dtype == FQ_DTYPE_U8 && value->shape.rank == 4 &&
           value->kind != FQ_VALUE_CONSTANT;
}

/* The NHWC form of an NCHW shape (or back, with to_nchw). */
static fq_shape permute_shape(const fq_shape *shape, const int64_t *perm)
{
    fq_shape out = *shape;
    for (int i = 0; i < 4; i++)
        out.dims[i] = shape->dims[perm[i]];
    return out;
}

/* Data inputs of a region node: the positions holding 4-D u8 activations. */
static int data_inputs(const fq_node *node, int *slots)
{
    const char *op = node->op_type;
    if (strcmp(op, "QLinearAdd") == 0) {
        slots[0] = 0;
        slots[1] = 3;
        return 2;
    }
    if (strcmp(op, "Concat") == 0) {
        int n = node->n_inputs < 64 ? node->n_inputs : 64;
        for (int i = 0; i < n; i++)
            slots[i] = i;
        return n;
    }
    slots[0] = 0;
    return 1;
}

static bool resize_constants_ok(const fq_graph *graph, const fq_node *node)
{
    for (int i = 1; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(graph, node, i);
        if (v != NULL && fq_shape_numel(&v->shape) > 0 && !fq_value_is_constant(v))
            return false;
    }
    return true;
}

/* Whether node n can run on NHWC: a region op whose data inputs and output are 4-D u8. */
static bool runs_nhwc(const fq_graph *graph, const fq_node *node)
{
    static const char *const ops[] = {"QLinearConv", "MaxPool", "QLinearAveragePool",
                                      "QLinearGlobalAveragePool", "QLinearAdd", "Concat",
                                      "Resize"};
    bool known = false;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        known = known || strcmp(node->op_type, ops[i]) == 0;
    if (!known || node->dead || node->n_outputs != 1 || !is_u8_4d(graph, node->outputs[0]))
        return false;
    if (strcmp(node->op_type, "Concat") == 0 && node->n_inputs > 64)
        return false;
    if (strcmp(node->op_type, "Resize") == 0 && !resize_constants_ok(graph, node))
        return false;
    int slots[64];
    int n = data_inputs(node, slots);
    for (int i = 0; i < n; i++)
        if (slots[i] >= node->n_inputs || !is_u8_4d(graph, node->inputs[slots[i]]))
            return false;
    return true;
}

static fq_status add_ints_attr(fq_graph *graph, int node, const char *name, const int64_t *v,
                               int count, fq_error *err)
{
    fq_attr *attr = NULL;
    fq_status status = fq_node_add_attr(graph, node, name, FQ_ATTR_INTS, &attr, err);
    if (status != FQ_OK)
        return status;
    attr->ints = fq_malloc((size_t)count * sizeof(int64_t));
    if (attr->ints == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "channels_last: out of memory for '%s'",
                            name);
    memcpy(attr->ints, v, (size_t)count * sizeof(int64_t));
    attr->count = count;
    return FQ_OK;
}

/* A u8 Transpose of value v by perm into a new value; *out receives it. */
static fq_status add_transpose(layout_pass *lp, int v, const int64_t *perm, const char *suffix,
                               int *out, fq_error *err)
{
    fq_graph *g = lp->graph;
    char name[512];
    snprintf(name, sizeof(name), "%.480s%s", g->values[v].name, suffix);
    for (int i = 1; fq_graph_find_value(g, name) >= 0; i++)
        snprintf(name, sizeof(name), "%.480s%s_%d", g->values[v].name, suffix, i);
    fq_shape shape = permute_shape(&g->values[v].shape, perm);
    fq_status status = fq_graph_add_value(g, name, FQ_DTYPE_U8, &shape, out, err);
    const fq_quant *q = &g->values[v].quant;
    if (status == FQ_OK && q->count == 1)
        status = fq_quant_set_per_tensor(&g->values[*out], q->scale[0], q->zero_point[0], err);
    int node = -1;
    if (status == FQ_OK)
        status = fq_graph_add_node(g, name, "Transpose", &v, 1, out, 1, &node, err);
    if (status == FQ_OK)
        status = add_ints_attr(g, node, "perm", perm, 4, err);
    return status;
}

/* Value v as a region node reads it (NHWC). */
static fq_status read_nhwc(layout_pass *lp, int v, int *out, fq_error *err)
{
    if (v < 0 || v >= lp->n_values)
        return fq_error_set(err, FQ_ERR_INTERNAL, "channels_last: value %d is out of range", v);
    if (lp->nhwc[v]) {
        *out = v;
        return FQ_OK;
    }
    if (lp->nhwc_copy[v] < 0) {
        fq_status status = add_transpose(lp, v, to_nhwc, "_nhwc", &lp->nhwc_copy[v], err);
        if (status != FQ_OK)
            return status;
    }
    *out = lp->nhwc_copy[v];
    return FQ_OK;
}

/* Value v as any other reader sees it (NCHW). */
static fq_status read_nchw(layout_pass *lp, int v, int *out, fq_error *err)
{
    if (!lp->nhwc[v]) {
        *out = v;
        return FQ_OK;
    }
    if (lp->nchw_copy[v] < 0) {
        fq_status status = add_transpose(lp, v, to_nchw, "_nchw", &lp->nchw_copy[v], err);
        if (status != FQ_OK)
            return status;
    }
    *out = lp->nchw_copy[v];
    return FQ_OK;
}

static fq_status set_int_attr(fq_graph *graph, int n, const char *name, int64_t value,
                              fq_error *err)
{
    fq_node *node = &graph->nodes[n];
    for (int a = 0; a < node->n_attrs; a++) {
        if (strcmp(node->attrs[a].name, name) == 0) {
            node->attrs[a].type = FQ_ATTR_INT;
            node->attrs[a].i = value;
            return FQ_OK;
        }
    }
    fq_attr *attr = NULL;
    fq_status status = fq_node_add_attr(graph, n, name, FQ_ATTR_INT, &attr, err);
    if (status == FQ_OK)
        attr->i = value;
    return status;
}

/* A Resize roi, scales or sizes constant permuted to NHWC as a new constant. */
static fq_status permute_resize_input(layout_pass *lp, int n, int i, fq_error *err)
{
    fq_graph *g = lp->graph;
    const fq_value *v = fq_node_input(g, &g->nodes[n], i);
    if (v == NULL || fq_shape_numel(&v->shape) == 0)
        return FQ_OK;
    int64_t count = fq_shape_numel(&v->shape);
    if (v->shape.rank != 1 || (count != 4 && count != 8) ||
        (v->dtype != FQ_DTYPE_F32 && v->dtype != FQ_DTYPE_I64))
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "channels_last: node '%s' (Resize): input "
                            "'%s' is not a 1-D f32 or i64 constant of 4 or 8 entries",
                            g->nodes[n].name, v->name);
    unsigned char bytes[8 * 8];
    size_t elem = fq_dtype_size(v->dtype);
    for (int64_t half = 0; half < count / 4; half++)
        for (int d = 0; d < 4; d++)
            memcpy(bytes + (size_t)(half * 4 + d) * elem,
                   (const unsigned char *)v->data + (size_t)(half * 4 + to_nhwc[d]) * elem,
                   elem);
    fq_shape shape = v->shape;
    char base[512];
    snprintf(base, sizeof(base), "%.480s_nhwc", v->name);
    int index = -1;
    fq_status status = fq_quant_add_constant(g, base, v->dtype, &shape, bytes, &index, err);
    if (status == FQ_OK)
        g->nodes[n].inputs[i] = index;
    return status;
}

/* The layout-specific part of a region node: channels_last, the Concat axis, Resize scales. */
static fq_status adapt_node(layout_pass *lp, int n, fq_error *err)
{
    fq_graph *g = lp->graph;
    const char *op = g->nodes[n].op_type;
    if (strcmp(op, "Concat") == 0) {
        int64_t axis = fq_node_attr_int(&g->nodes[n], "axis", 1);
        if (axis < 0)
            axis += 4;
        if (axis < 0 || axis > 3)
            return fq_error_set(err, FQ_ERR_SHAPE, "channels_last: node '%s' (Concat): axis "
                                "%lld is out of range", g->nodes[n].name, (long long)axis);
        static const int64_t nhwc_axis[4] = {0, 3, 1, 2};
        return set_int_attr(g, n, "axis", nhwc_axis[axis], err);
    }
    if (strcmp(op, "Resize") == 0) {
        fq_status status = FQ_OK;
        for (int i = 1; i < g->nodes[n].n_inputs && status == FQ_OK; i++)
            status = permute_resize_input(lp, n, i, err);
        return status;
    }
    if (strcmp(op, "QLinearAdd") == 0)
        return FQ_OK;
    return set_int_attr(g, n, "channels_last", 1, err);
}

static fq_status convert_region_node(layout_pass *lp, int n, fq_error *err)
{
    int slots[64];
    int k = data_inputs(&lp->graph->nodes[n], slots);
    for (int s = 0; s < k; s++) {
        int v = lp->graph->nodes[n].inputs[slots[s]];
        int read = -1;
        fq_status status = read_nhwc(lp, v, &read, err);
        if (status != FQ_OK)
            return status;
        lp->graph->nodes[n].inputs[slots[s]] = read;
    }
    fq_status status = adapt_node(lp, n, err);
    if (status != FQ_OK)
        return status;
    int y = lp->graph->nodes[n].outputs[0];
    fq_value *out = &lp->graph->values[y];
    out->shape = permute_shape(&out->shape, to_nhwc);
    lp->nhwc[y] = true;
    return FQ_OK;
}

/* A 4-D Transpose reading an NHWC value reads it directly with its permutation composed with
 * the NHWC -> NCHW one, instead of through an NCHW copy. */
static fq_status compose_transpose(layout_pass *lp, int n, fq_error *err)
{
    fq_node *node = &lp->graph->nodes[n];
    int64_t perm[4] = {3, 2, 1, 0};
    int count = fq_node_attr_ints(node, "perm", perm, 4);
    if (count != -1 && count != 4)
        return fq_error_set(err, FQ_ERR_SHAPE, "channels_last: node '%s' (Transpose): perm has "
                            "%d entries for a 4-D input", node->name, count);
    int64_t composed[4];
    for (int i = 0; i < 4; i++) {
        if (perm[i] < 0 || perm[i] > 3)
            return fq_error_set(err, FQ_ERR_SHAPE, "channels_last: node '%s' (Transpose): perm "
                                "entry %lld is out of range", node->name, (long long)perm[i]);
        composed[i] = to_nchw[perm[i]];
    }
    for (int a = 0; a < node->n_attrs; a++) {
        if (strcmp(node->attrs[a].name, "perm") == 0) {
            memcpy(node->attrs[a].ints, composed, sizeof(composed));
            return FQ_OK;
        }
    }
    return add_ints_attr(lp->graph, n, "perm", composed, 4, err);
}

static bool is_transpose_of_nhwc(const layout_pass *lp, const fq_node *node)
{
    return strcmp(node->op_type, "Transpose") == 0 && node->n_inputs == 1 &&
           node->inputs[0] >= 0 && node->inputs[0] < lp->n_values && lp->nhwc[node->inputs[0]];
}

/* A node outside the regions reads NCHW copies of NHWC values. */
static fq_status convert_other_node(layout_pass *lp, int n, fq_error *err)
{
    if (is_transpose_of_nhwc(lp, &lp->graph->nodes[n]))
        return compose_transpose(lp, n, err);
    for (int i = 0; i < lp->graph->nodes[n].n_inputs; i++) {
        int v = lp->graph->nodes[n].inputs[i];
        if (v < 0 || v >= lp->n_values || !lp->nhwc[v])
            continue;
        int read = -1;
        fq_status status = read_nchw(lp, v, &read, err);
        if (status != FQ_OK)
            return status;
        lp->graph->nodes[n].inputs[i] = read;
    }
    return FQ_OK;
}

/* A graph output that went NHWC is written back in NCHW under its own name: the region node
 * writes a renamed value and the closing Transpose writes the output. */
static fq_status restore_output(layout_pass *lp, int v, fq_error *err)
{
    fq_graph *g = lp->graph;
    int producer = fq_graph_producer(g, v);
    char name[512];
    snprintf(name, sizeof(name), "%.480s_nhwc", g->values[v].name);
    for (int i = 1; fq_graph_find_value(g, name) >= 0; i++)
        snprintf(name, sizeof(name), "%.480s_nhwc_%d", g->values[v].name, i);
    fq_shape shape = g->values[v].shape;
    int inner = -1, node = -1;
    fq_status status = fq_graph_add_value(g, name, FQ_DTYPE_U8, &shape, &inner, err);
    const fq_quant *q = &g->values[v].quant;
    if (status == FQ_OK && q->count == 1)
        status = fq_quant_set_per_tensor(&g->values[inner], q->scale[0], q->zero_point[0], err);
    if (status != FQ_OK)
        return status;
    for (int o = 0; producer >= 0 && o < g->nodes[producer].n_outputs; o++)
        if (g->nodes[producer].outputs[o] == v)
            g->nodes[producer].outputs[o] = inner;
    for (int n = 0; n < g->n_nodes; n++)
        for (int i = 0; i < g->nodes[n].n_inputs; i++)
            if (g->nodes[n].inputs[i] == v)
                g->nodes[n].inputs[i] = inner;
    g->values[v].shape = permute_shape(&shape, to_nchw);
    status = fq_graph_add_node(g, name, "Transpose", &inner, 1, &v, 1, &node, err);
    if (status == FQ_OK)
        status = add_ints_attr(g, node, "perm", to_nchw, 4, err);
    return status;
}

static bool is_to_nhwc(const fq_node *node)
{
    int64_t perm[4];
    return !node->dead && strcmp(node->op_type, "Transpose") == 0 && node->n_inputs == 1 &&
           node->n_outputs == 1 && fq_node_attr_ints(node, "perm", perm, 4) == 4 &&
           memcmp(perm, to_nhwc, sizeof(perm)) == 0;
}

/* A QuantizeLinear that can write NHWC: f32 4-D input, per-tensor scale, u8 output. */
static bool quantizes_to_u8_per_tensor(const fq_graph *graph, const fq_node *node)
{
    if (node->dead || strcmp(node->op_type, "QuantizeLinear") != 0 || node->n_outputs != 1 ||
        node->n_inputs < 2)
        return false;
    const fq_value *x = fq_node_input(graph, node, 0);
    const fq_value *scale = fq_node_input(graph, node, 1);
    const fq_value *zero_point = fq_node_input(graph, node, 2);
    return x != NULL && x->dtype == FQ_DTYPE_F32 && x->shape.rank == 4 && scale != NULL &&
           fq_shape_numel(&scale->shape) == 1 &&
           (zero_point == NULL || zero_point->dtype == FQ_DTYPE_U8) &&
           is_u8_4d(graph, node->outputs[0]);
}

/* Transpose t (0, 2, 3, 1) of a QuantizeLinear output read by nothing else: the QuantizeLinear
 * writes the Transpose's output in NHWC and the Transpose goes. */
static fq_status fuse_entry(fq_graph *graph, int t, fq_error *err)
{
    int v = graph->nodes[t].inputs[0];
    int q = fq_graph_producer(graph, v);
    if (q < 0 || !quantizes_to_u8_per_tensor(graph, &graph->nodes[q]) ||
        fq_graph_use_count(graph, v) != 1)
        return FQ_OK;
    fq_status status = set_int_attr(graph, q, "channels_last", 1, err);
    if (status != FQ_OK)
        return status;
    graph->nodes[q].outputs[0] = graph->nodes[t].outputs[0];
    graph->nodes[t].dead = true;
    return FQ_OK;
}

static fq_status fuse_entries(fq_graph *graph, fq_error *err)
{
    fq_status status = FQ_OK;
    for (int n = 0; n < graph->n_nodes && status == FQ_OK; n++)
        if (is_to_nhwc(&graph->nodes[n]))
            status = fuse_entry(graph, n, err);
    return status;
}

static fq_status run_pass(layout_pass *lp, fq_error *err)
{
    int n_nodes = lp->graph->n_nodes;
    for (int n = 0; n < n_nodes; n++) {
        if (lp->graph->nodes[n].dead)
            continue;
        fq_status status = runs_nhwc(lp->graph, &lp->graph->nodes[n])
                               ? convert_region_node(lp, n, err)
                               : convert_other_node(lp, n, err);
        if (status != FQ_OK)
            return status;
    }
    for (int i = 0; i < lp->graph->n_outputs; i++) {
        int v = lp->graph->outputs[i];
        if (v >= 0 && v < lp->n_values && lp->nhwc[v]) {
            fq_status status = restore_output(lp, v, err);
            if (status != FQ_OK)
                return status;
        }
    }
    return fuse_entries(lp->graph, err);
}

static bool already_channels_last(const fq_graph *graph)
{
    for (int n = 0; n < graph->n_nodes; n++)
        if (!graph->nodes[n].dead && fq_node_attr_int(&graph->nodes[n], "channels_last", 0) == 1)
            return true;
    return false;
}

fq_status fq_pass_channels_last(fq_graph *graph, fq_error *err)
{
    /* A second run would permute the NHWC shapes again. */
    if (already_channels_last(graph))
        return FQ_OK;
    layout_pass lp = {graph, graph->n_values, NULL, NULL, NULL};
    size_t n = (size_t)graph->n_values + 1;
    lp.nhwc = fq_calloc(n, sizeof(bool));
    lp.nhwc_copy = fq_malloc(n * sizeof(int));
    lp.nchw_copy = fq_malloc(n * sizeof(int));
    fq_status status = FQ_OK;
    if (lp.nhwc == NULL || lp.nhwc_copy == NULL || lp.nchw_copy == NULL)
        status = fq_error_set(err, FQ_ERR_NO_MEMORY, "channels_last: out of memory");
    for (int v = 0; status == FQ_OK && v < graph->n_values; v++) {
        lp.nhwc_copy[v] = -1;
        lp.nchw_copy[v] = -1;
    }
    if (status == FQ_OK)
        status = run_pass(&lp, err);
    fq_free(lp.nhwc);
    fq_free(lp.nhwc_copy);
    fq_free(lp.nchw_copy);
    if (status == FQ_OK)
        status = fq_quant_sort_nodes(graph, err);
    if (status == FQ_OK)
        status = fq_graph_compact(graph, err);
    if (status == FQ_OK)
        fq_quant_bind_known_ops(graph);
    return status;
}
