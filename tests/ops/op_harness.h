/* Runs one operator on hand-made tensors, for the operator unit tests: builds a one-node graph,
 * binds the op, runs its shape function, allocates the outputs and its workspace, and calls its
 * execution function. */
#ifndef FQ_TESTS_OP_HARNESS_H
#define FQ_TESTS_OP_HARNESS_H

#include "facequant/fq.h"

typedef struct fq_harness {
    fq_graph *graph;
    int node;
    int opset;
    fq_tensor outputs[8];  /* filled by fq_harness_run; data owned by the harness */
    fq_error err;
} fq_harness;

/* Starts a graph at the given opset with one node of op_type (named "node"). */
void fq_harness_init(fq_harness *h, const char *op_type, int opset);
void fq_harness_free(fq_harness *h);

/* Adds the next input: a constant when constant is true (needed for shape-like inputs such as
 * Reshape's target), else a runtime input whose data is passed to exec. data may be NULL to add an
 * omitted optional input (index -1). dims has rank entries. */
void fq_harness_input(fq_harness *h, fq_dtype dtype, int rank, const int64_t *dims,
                      const void *data, bool constant);
/* Declares n outputs (default 1). */
void fq_harness_outputs(fq_harness *h, int n);

/* Attributes. */
void fq_harness_attr_int(fq_harness *h, const char *name, int64_t value);
void fq_harness_attr_float(fq_harness *h, const char *name, float value);
void fq_harness_attr_string(fq_harness *h, const char *name, const char *value);
void fq_harness_attr_ints(fq_harness *h, const char *name, int count, const int64_t *values);
void fq_harness_attr_floats(fq_harness *h, const char *name, int count, const float *values);
/* Sets a fused activation on the node (as the fusion pass would). */
void fq_harness_activation(fq_harness *h, fq_activation act);

/* Binds, infers and executes. Returns the first failing status (details in h->err). */
fq_status fq_harness_run(fq_harness *h);

/* Runs the node again, after fq_harness_run, through its op's prepare hook (under cap, on a pool
 * of `threads` threads) and exec, on the same inputs: returns output 0 in a new malloc'ed
 * buffer (the caller frees it; its bytes start as 0xcd). *planned tells whether prepare made a
 * state; kernel (kernel_size bytes) gets its kernel name, or "reference". */
void *fq_harness_run_prepared(fq_harness *h, fq_isa cap, int threads, bool *planned,
                              char *kernel, size_t kernel_size);

/* Output i's value in the graph (dtype and inferred shape). */
const fq_value *fq_harness_output_value(const fq_harness *h, int i);

/* Asserts (cmocka) that output i is f32 with the given shape and values within tol. */
void fq_harness_expect_f32(const fq_harness *h, int i, int rank, const int64_t *dims,
                           const float *expected, float tol);
/* Asserts that output i is i64 with the given shape and values. */
void fq_harness_expect_i64(const fq_harness *h, int i, int rank, const int64_t *dims,
                           const int64_t *expected);

#endif
