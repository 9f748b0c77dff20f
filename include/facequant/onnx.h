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

#ifdef __cplusplus
}
#endif

#endif
