/* What the .fqm tests share: exact graph comparison, round trips, the shared models. */
#ifndef FQ_TESTS_FORMAT_FQM_TEST_UTIL_H
#define FQ_TESTS_FORMAT_FQM_TEST_UTIL_H

#include <stddef.h>

#include "facequant/fq.h"

/* Fails the test (cmocka) at the first difference between a and b: graph fields, every value's
 * name, kind, dtype, shape, dim_params, quantization parameters and data bytes, every node's
 * name, op type, wiring, attributes (by type), activation and dead flag. */
void fqm_assert_graphs_equal(const fq_graph *a, const fq_graph *b);

/* Writes g with the metadata into memory, copies the image into an fq_malloc_aligned buffer
 * (*image, which the returned graph borrows: free it with fq_free_aligned after the graph) and
 * reads it back. *size receives the image size. */
fq_graph *fqm_roundtrip(const fq_graph *g, const fq_fqm_meta *meta, int n_meta, void **image,
                        size_t *size);

/* The image of g in an fq_malloc_aligned buffer. */
void *fqm_write_aligned(const fq_graph *g, size_t *size);

/* ../shared/models/NAME.onnx after fq_passes_run; inputs with a dynamic height or width get
 * 640x640. Skips the test when the shared folder is missing. */
fq_graph *fqm_load_shared_model(const char *name);

/* Small hand-built graphs, shapes inferred (not folded), each exercising one part of the format:
 * f16 weights through a Cast into a Conv with a fused Clip; i8 weights with per-channel scales,
 * an i32 bias and u8 activation parameters in a QDQ Conv with a fused Relu; i64 constants
 * (Reshape target, Gather indices, a Constant's tensor attribute), every attribute type, a
 * bool constant and an input with a symbolic dimension. */
fq_graph *fqm_build_f16_graph(void);
fq_graph *fqm_build_quant_graph(void);
fq_graph *fqm_build_i64_graph(void);

/* The shared models every model test goes through. */
extern const char *const fqm_shared_models[];
extern const int fqm_n_shared_models;

#endif
