/* Building small graphs by hand in tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph_builder.h"
#include "test_util.h"

static fq_shape make_shape(int rank, const int64_t *dims)
{
    fq_shape shape = {.rank = rank};
    for (int i = 0; i < rank; i++)
        shape.dims[i] = dims[i];
    return shape;
}

fq_graph *gb_graph(int opset)
{
    fq_graph *g;
    assert_int_equal(fq_graph_create(&g, NULL), FQ_OK);
    g->opset = opset;
    return g;
}

static void append_index(int **array, int *count, int value)
{
    *array = fq_realloc(*array, (size_t)(*count + 1) * sizeof(int));
    assert_non_null(*array);
    (*array)[(*count)++] = value;
}

int gb_input(fq_graph *g, const char *name, int rank, const int64_t *dims)
{
    fq_shape shape = make_shape(rank, dims);
    int v;
    assert_int_equal(fq_graph_add_value(g, name, FQ_DTYPE_F32, &shape, &v, NULL), FQ_OK);
    g->values[v].kind = FQ_VALUE_INPUT;
    append_index(&g->inputs, &g->n_inputs, v);
    return v;
}

int gb_const_f32(fq_graph *g, const char *name, int rank, const int64_t *dims, const float *data)
{
    fq_shape shape = make_shape(rank, dims);
    int v;
    assert_int_equal(fq_graph_add_value(g, name, FQ_DTYPE_F32, &shape, &v, NULL), FQ_OK);
    int64_t n = fq_shape_numel(&shape);
    float *buf = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        buf[i] = data != NULL ? data[i] : fq_test_rand_float(-1.0f, 1.0f);
    assert_int_equal(fq_value_set_data(g, v, buf, false, NULL), FQ_OK);
    free(buf);
    return v;
}

int gb_const_i64(fq_graph *g, const char *name, int rank, const int64_t *dims,
                 const int64_t *data)
{
    fq_shape shape = make_shape(rank, dims);
    int v;
    assert_int_equal(fq_graph_add_value(g, name, FQ_DTYPE_I64, &shape, &v, NULL), FQ_OK);
    assert_int_equal(fq_value_set_data(g, v, data, false, NULL), FQ_OK);
    return v;
}

int gb_node(fq_graph *g, const char *op, const int *inputs, int n_inputs, const char *out)
{
    int v;
    assert_int_equal(fq_graph_add_value(g, out, FQ_DTYPE_UNDEFINED, NULL, &v, NULL), FQ_OK);
    char name[128];
    snprintf(name, sizeof(name), "%s_%d", op, g->n_nodes);
    assert_int_equal(fq_graph_add_node(g, name, op, inputs, n_inputs, &v, 1, NULL, NULL), FQ_OK);
    return v;
}

static fq_attr *last_attr(fq_graph *g, const char *name, fq_attr_type type)
{
    fq_attr *attr;
    assert_int_equal(fq_node_add_attr(g, g->n_nodes - 1, name, type, &attr, NULL), FQ_OK);
    return attr;
}

void gb_attr_int(fq_graph *g, const char *name, int64_t value)
{
    last_attr(g, name, FQ_ATTR_INT)->i = value;
}

void gb_attr_float(fq_graph *g, const char *name, float value)
{
    last_attr(g, name, FQ_ATTR_FLOAT)->f = value;
}

void gb_attr_ints(fq_graph *g, const char *name, int count, const int64_t *values)
{
    fq_attr *attr = last_attr(g, name, FQ_ATTR_INTS);
    attr->count = count;
    attr->ints = fq_malloc((size_t)(count > 0 ? count : 1) * sizeof(int64_t));
    memcpy(attr->ints, values, (size_t)count * sizeof(int64_t));
}

void gb_output(fq_graph *g, int value)
{
    g->values[value].is_output = true;
    append_index(&g->outputs, &g->n_outputs, value);
}

int gb_count_op(const fq_graph *g, const char *op)
{
    int count = 0;
    for (int n = 0; n < g->n_nodes; n++)
        count += !g->nodes[n].dead && strcmp(g->nodes[n].op_type, op) == 0;
    return count;
}

void gb_run(const fq_graph *g, const float *input, size_t input_count, int output, float *out,
            size_t count)
{
    fq_session *s;
    fq_error err = {0};
    fq_tensor t;
    if (fq_session_create(g, NULL, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    assert_int_equal(fq_session_set_input(s, 0, input, input_count * sizeof(float), &err), FQ_OK);
    if (fq_session_run(s, &err) != FQ_OK)
        fail_msg("run: %s", err.message);
    assert_int_equal(fq_session_output(s, output, &t, &err), FQ_OK);
    assert_int_equal(fq_shape_numel(&t.shape), (int64_t)count);
    memcpy(out, t.data, count * sizeof(float));
    fq_session_free(s);
}
