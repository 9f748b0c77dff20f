/* facequant: graph passes.
 *
 * Every pass takes a valid graph and leaves a valid graph (fq_graph_validate). fq_passes_run
 * applies the standard pipeline that prepares a model for a session:
 *
 *   remove Identity/Dropout -> fix input sizes -> infer shapes and fold constants ->
 *   fold BatchNormalization into Conv -> fuse activations into Conv/Gemm -> remove dead nodes ->
 *   for QDQ models (quantized by another tool): fuse the QDQ patterns into int8 operators
 *   (fq_pass_fuse_qdq) and move their int8 regions to NHWC (fq_pass_channels_last)
 */
#ifndef FACEQUANT_PASSES_H
#define FACEQUANT_PASSES_H

#include "facequant/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Input size request: for 4-D NCHW image inputs, width and height (0 = keep what the file says);
 * batch (0 = keep, and unknown becomes 1). */
typedef struct fq_input_size {
    int64_t width;
    int64_t height;
    int64_t batch;
} fq_input_size;

/* Sets the dimensions of every graph input: unknown batch -> batch (or 1), unknown or requested
 * H and W of a 4-D input -> the requested size. Refuses a request that contradicts a fixed size
 * in the file, naming the input. Fails with FQ_ERR_SHAPE naming the input and dimension if a
 * dimension stays unknown. */
fq_status fq_pass_fix_input_size(fq_graph *graph, const fq_input_size *size, fq_error *err);

/* Sets an explicit shape on one graph input (for inputs that are not images). */
fq_status fq_pass_set_input_shape(fq_graph *graph, const char *name, const fq_shape *shape,
                                  fq_error *err);

/* Runs the shape functions in node order and replaces every node whose outputs can be computed
 * now (all inputs constant, or a Shape of a known shape) by constants. */
fq_status fq_pass_infer_and_fold(fq_graph *graph, fq_error *err);
/* Shape inference alone, no folding. */
fq_status fq_pass_infer_shapes(fq_graph *graph, fq_error *err);

fq_status fq_pass_remove_identity(fq_graph *graph, fq_error *err);
fq_status fq_pass_fold_batchnorm(fq_graph *graph, fq_error *err);
fq_status fq_pass_fuse_activations(fq_graph *graph, fq_error *err);
fq_status fq_pass_remove_dead(fq_graph *graph, fq_error *err);

/* Makes every reader of a constant read the first constant with the same dtype, shape,
 * quantization parameters and bytes, and drops the copies (attribute tensors and graph outputs
 * are left alone). The quantizer runs it: its scales and zero points repeat. */
fq_status fq_pass_share_constants(fq_graph *graph, fq_error *err);

/* The whole pipeline above. */
fq_status fq_passes_run(fq_graph *graph, const fq_input_size *size, fq_error *err);
/* The pipeline without the QDQ fusion: a QDQ model runs as written, its QuantizeLinear and
 * DequantizeLinear on the reference operators around float ones (what ONNX's QDQ semantics
 * say, up to rounding), the reference a fused run is checked against. */
fq_status fq_passes_run_unfused(fq_graph *graph, const fq_input_size *size, fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
