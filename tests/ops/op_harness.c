/* One-node operator runner for the operator unit tests. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_harness.h"
#include "facequant/alloc.h"
#include "runtime/threadpool.h"

void fq_harness_init(fq_harness *h, const char *op_type, int opset)
{
    memset(h, 0, sizeof(*h));
    h->opset = opset;
    assert_int_equal(fq_graph_create(&h->graph, &h->err), FQ_OK);
    h->graph->opset = opset;
    assert_int_equal(fq_graph_add_node(h->graph, "node", op_type, NULL, 0, NULL, 0, &h->node,
                                       &h->err), FQ_OK);
}

void fq_harness_free(fq_harness *h)
{
    for (int i = 0; i < 8; i++)
        fq_free_aligned(h->outputs[i].data);
    fq_graph_free(h->graph);
    memset(h, 0, sizeof(*h));
}

void fq_harness_input(fq_harness *h, fq_dtype dtype, int rank, const int64_t *dims,
                      const void *data, bool constant)
{
    fq_graph *g = h->graph;
    int value = -1;
    if (data != NULL) {
        char name[32];
        fq_shape shape = {.rank = rank};
        for (int i = 0; i < rank; i++)
            shape.dims[i] = dims[i];
        snprintf(name, sizeof(name), "in%d", g->nodes[h->node].n_inputs);
        assert_int_equal(fq_graph_add_value(g, name, dtype, &shape, &value, &h->err), FQ_OK);
        assert_int_equal(fq_value_set_data(g, value, data, false, &h->err), FQ_OK);
        /* A runtime input keeps its data for exec but is not a constant for the shape function. */
        if (!constant)
            g->values[value].kind = FQ_VALUE_INPUT;
    }
    assert_int_equal(fq_node_append_input(g, h->node, value, &h->err), FQ_OK);
}

void fq_harness_outputs(fq_harness *h, int n)
{
    fq_graph *g = h->graph;
    fq_node *node = &g->nodes[h->node];
    assert_true(n <= 8);
    fq_free(node->outputs);
    node->outputs = fq_malloc((size_t)n * sizeof(int));
    node->n_outputs = n;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "out%d", i);
        int value;
        assert_int_equal(fq_graph_add_value(g, name, FQ_DTYPE_UNDEFINED, NULL, &value, &h->err),
                         FQ_OK);
        g->nodes[h->node].outputs[i] = value;
    }
}

static fq_attr *add_attr(fq_harness *h, const char *name, fq_attr_type type)
{
    fq_attr *attr = NULL;
    assert_int_equal(fq_node_add_attr(h->graph, h->node, name, type, &attr, &h->err), FQ_OK);
    return attr;
}

void fq_harness_attr_int(fq_harness *h, const char *name, int64_t value)
{
    add_attr(h, name, FQ_ATTR_INT)->i = value;
}

void fq_harness_attr_float(fq_harness *h, const char *name, float value)
{
    add_attr(h, name, FQ_ATTR_FLOAT)->f = value;
}

void fq_harness_attr_string(fq_harness *h, const char *name, const char *value)
{
    fq_attr *attr = add_attr(h, name, FQ_ATTR_STRING);
    attr->s = fq_strdup(value);
    attr->s_len = strlen(value);
}

void fq_harness_attr_ints(fq_harness *h, const char *name, int count, const int64_t *values)
{
    fq_attr *attr = add_attr(h, name, FQ_ATTR_INTS);
    attr->count = count;
    attr->ints = fq_malloc((size_t)(count > 0 ? count : 1) * sizeof(int64_t));
    memcpy(attr->ints, values, (size_t)count * sizeof(int64_t));
}

void fq_harness_attr_floats(fq_harness *h, const char *name, int count, const float *values)
{
    fq_attr *attr = add_attr(h, name, FQ_ATTR_FLOATS);
    attr->count = count;
    attr->floats = fq_malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
    memcpy(attr->floats, values, (size_t)count * sizeof(float));
}

void fq_harness_activation(fq_harness *h, fq_activation act)
{
    h->graph->nodes[h->node].act = act;
}

fq_status fq_harness_run(fq_harness *h)
{
    fq_graph *g = h->graph;
    if (g->nodes[h->node].n_outputs == 0)
        fq_harness_outputs(h, 1);
    fq_status status = fq_graph_bind_ops(g, &h->err);
    if (status != FQ_OK)
        return status;
    status = fq_node_infer(g, h->node, &h->err);
    if (status != FQ_OK)
        return status;

    const fq_node *node = &g->nodes[h->node];
    const fq_op_info *info = fq_op_get(node->op);
    fq_tensor inputs[16];
    assert_true(node->n_inputs <= 16);
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(g, node, i);
        inputs[i] = v == NULL ? (fq_tensor){0}
                              : (fq_tensor){v->dtype, v->shape, v->data, &v->quant};
    }
    for (int i = 0; i < node->n_outputs; i++) {
        const fq_value *v = fq_node_output(g, node, i);
        int64_t numel = fq_shape_numel(&v->shape);
        assert_true(numel >= 0);
        size_t bytes = (size_t)numel * fq_dtype_size(v->dtype);
        h->outputs[i] = (fq_tensor){v->dtype, v->shape, fq_malloc_aligned(bytes), &v->quant};
        memset(h->outputs[i].data, 0xcd, bytes); /* garbage, so unwritten outputs show */
    }
    size_t ws = info->workspace_size != NULL ? info->workspace_size(g, node) : 0;
    void *workspace = ws > 0 ? fq_malloc_aligned(ws) : NULL;
    fq_exec_ctx ctx = {g, node, node->n_inputs, inputs, node->n_outputs, h->outputs,
                       workspace, ws, &h->err};
    status = info->exec(&ctx);
    fq_free_aligned(workspace);
    return status;
}

const fq_value *fq_harness_output_value(const fq_harness *h, int i)
{
    return fq_node_output(h->graph, &h->graph->nodes[h->node], i);
}

static void expect_shape(const fq_tensor *t, int rank, const int64_t *dims)
{
    assert_int_equal(t->shape.rank, rank);
    for (int d = 0; d < rank; d++)
        assert_int_equal(t->shape.dims[d], dims[d]);
}

void fq_harness_expect_f32(const fq_harness *h, int i, int rank, const int64_t *dims,
                           const float *expected, float tol)
{
    const fq_tensor *t = &h->outputs[i];
    assert_int_equal(t->dtype, FQ_DTYPE_F32);
    expect_shape(t, rank, dims);
    int64_t n = fq_shape_numel(&t->shape);
    const float *got = t->data;
    for (int64_t k = 0; k < n; k++) {
        if (!(fabsf(got[k] - expected[k]) <= tol))
            fail_msg("output %d element %lld: got %g, expected %g", i, (long long)k,
                     (double)got[k], (double)expected[k]);
    }
}

void fq_harness_expect_i64(const fq_harness *h, int i, int rank, const int64_t *dims,
                           const int64_t *expected)
{
    const fq_tensor *t = &h->outputs[i];
    assert_int_equal(t->dtype, FQ_DTYPE_I64);
    expect_shape(t, rank, dims);
    int64_t n = fq_shape_numel(&t->shape);
    const int64_t *got = t->data;
    for (int64_t k = 0; k < n; k++)
        assert_int_equal(got[k], expected[k]);
}

void *fq_harness_run_prepared(fq_harness *h, fq_isa cap, int threads, bool *planned,
                              char *kernel, size_t kernel_size)
{
    fq_graph *g = h->graph;
    const fq_node *node = &g->nodes[h->node];
    const fq_op_info *info = fq_op_get(node->op);
    fq_tensor inputs[16];
    assert_true(node->n_inputs <= 16);
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(g, node, i);
        inputs[i] = v == NULL ? (fq_tensor){0}
                              : (fq_tensor){v->dtype, v->shape, v->data, &v->quant};
    }
    fq_tensor out = h->outputs[0];
    size_t bytes = (size_t)fq_shape_numel(&out.shape) * fq_dtype_size(out.dtype);
    out.data = malloc(bytes > 0 ? bytes : 1);
    assert_non_null(out.data);
    memset(out.data, 0xcd, bytes);

    fq_threadpool *pool = NULL;
    assert_int_equal(fq_threadpool_create(threads, &pool, &h->err), FQ_OK);
    fq_kernel_config config = {cap, pool};
    void *state = NULL;
    size_t workspace_size = info->workspace_size != NULL ? info->workspace_size(g, node) : 0;
    if (info->prepare != NULL &&
        info->prepare(g, node, &config, &state, &workspace_size, &h->err) != FQ_OK)
        fail_msg("prepare: %s", h->err.message);
    *planned = state != NULL;
    const char *name = state != NULL && info->kernel_name != NULL ? info->kernel_name(state)
                                                                   : "reference";
    snprintf(kernel, kernel_size, "%s", name);
    void *workspace = workspace_size > 0 ? fq_malloc_aligned(workspace_size) : NULL;
    fq_exec_ctx ctx = {g, node, node->n_inputs, inputs, 1, &out, workspace, workspace_size,
                       &h->err, state, pool};
    if (info->exec(&ctx) != FQ_OK)
        fail_msg("exec: %s", h->err.message);
    if (state != NULL && info->release != NULL)
        info->release(state);
    fq_free_aligned(workspace);
    fq_threadpool_free(pool);
    return out.data;
}
