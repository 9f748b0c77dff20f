/* Building small graphs by hand in tests. Every function asserts (cmocka) that it worked. */
#ifndef FQ_TESTS_GRAPH_BUILDER_H
#define FQ_TESTS_GRAPH_BUILDER_H

#include "facequant/fq.h"

/* A new graph at the given opset. */
fq_graph *gb_graph(int opset);
/* A graph input of dtype f32 with the given dims (FQ_DIM_UNKNOWN allowed). */
int gb_input(fq_graph *g, const char *name, int rank, const int64_t *dims);
/* A constant f32 tensor; data NULL fills it with seeded random values in [-1, 1]. */
int gb_const_f32(fq_graph *g, const char *name, int rank, const int64_t *dims, const float *data);
int gb_const_i64(fq_graph *g, const char *name, int rank, const int64_t *dims,
                 const int64_t *data);
/* A node of op with the given inputs (-1 for omitted) and one new output value named out;
 * returns the output value index. The node index is the last one (g->n_nodes - 1). */
int gb_node(fq_graph *g, const char *op, const int *inputs, int n_inputs, const char *out);
void gb_attr_int(fq_graph *g, const char *name, int64_t value);
void gb_attr_float(fq_graph *g, const char *name, float value);
void gb_attr_ints(fq_graph *g, const char *name, int count, const int64_t *values);
/* Marks value as a graph output. */
void gb_output(fq_graph *g, int value);

/* Number of live nodes of op type op. */
int gb_count_op(const fq_graph *g, const char *op);

/* Runs graph once on input data (one f32 input) and copies output i into out (count floats).
 * The graph must have passed through the passes (or at least shape inference). */
void gb_run(const fq_graph *g, const float *input, size_t input_count, int output, float *out,
            size_t count);

#endif
