/* facequant: reading ONNX files into the IR.
 *
 * The protobuf wire format is decoded by facequant's own code (src/onnx/protobuf.c). Every length
 * and count is checked against the bytes that remain; a malformed file fails with FQ_ERR_PARSE and
 * a message naming the byte offset and the field. External tensor data is refused. Only the
 * default ai.onnx domain is accepted; each node's op and the model's opset are checked against the
 * op table at load time (fq_graph_bind_ops).
 */
#ifndef FACEQUANT_ONNX_H
#define FACEQUANT_ONNX_H

#include <stddef.h>

#include "facequant/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Files larger than this are refused before reading (protobuf's own 2 GiB limit). */
#define FQ_ONNX_MAX_FILE_SIZE ((size_t)2147483647)

/* Decodes a serialized ModelProto into a new graph. */
fq_status fq_onnx_read_memory(const void *data, size_t size, fq_graph **out, fq_error *err);
/* Reads and decodes a file; messages start with the path. Not in a build with -Dfiles=false. */
fq_status fq_onnx_read_file(const char *path, fq_graph **out, fq_error *err);

/* Decodes a serialized TensorProto (the .pb files of ONNX's conformance tests) into a new
 * constant value of graph; the value is named after the tensor's name field (or "tensor"). */
fq_status fq_onnx_read_tensor(fq_graph *graph, const void *data, size_t size, int *value,
                              fq_error *err);

/* Encodes graph as a serialized ModelProto into a new fq_malloc buffer (*data, *size; the
 * caller frees it with fq_free). Constants are written as raw_data initializers, graph inputs
 * and outputs with their types and shapes. Dead nodes are left out, and an activation fused into
 * a node (node->act) is written as a separate ONNX node after it. */
fq_status fq_onnx_write_memory(const fq_graph *graph, void **data, size_t *size, fq_error *err);
/* Writes the encoding to path through a temporary file in the same folder and a rename, so a
 * reader never sees a partial file. Not in a build with -Dfiles=false. */
fq_status fq_onnx_write_file(const fq_graph *graph, const char *path, fq_error *err);

/* Turns a statically quantized graph in the NCHW form of docs/QUANTIZATION.md (no node with
 * channels_last = 1) into a standard QDQ float graph that any ONNX runtime runs: each quantized
 * operator becomes DequantizeLinear nodes, its float operator (with fused activations as nodes
 * of their own) and a QuantizeLinear. uint8 MaxPool and the scale-preserving data-movement ops
 * stay on uint8. The result imports opset 13 or later; write it with fq_onnx_write_*. */
fq_status fq_qdq_export(const fq_graph *quantized_nchw, fq_graph **qdq, fq_error *err);

/* Rewrites the QDQ patterns of a model quantized by another tool onto facequant's int8
 * operators: DequantizeLinear(u8) and DequantizeLinear(i8 constant weights) [and
 * DequantizeLinear(i32 bias)] -> Conv [-> Relu/Clip] -> QuantizeLinear into QLinearConv (the
 * activation fused); DQ, DQ -> Add [-> Relu] -> Q into QLinearAdd; DQ -> MaxPool -> Q with equal
 * parameters into a uint8 MaxPool; DQ -> AveragePool / GlobalAveragePool -> Q into
 * QLinearAveragePool / QLinearGlobalAveragePool; and QuantizeLinear(DequantizeLinear(x)) with
 * equal parameters into x, which is exact. It runs on the graph as read or after
 * fq_passes_run, whose constant folding has turned DequantizeLinear(weights) into float
 * weights: those are taken back to int8 when a symmetric per-channel scale (max |W_j| / 127)
 * reproduces every weight bit for bit; otherwise the Conv stays float, with its weights
 * dequantized at load time. Rewritten nodes are bound to the op table where their op is
 * registered (node->op is -1 otherwise). */
fq_status fq_pass_fuse_qdq(fq_graph *graph, fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
