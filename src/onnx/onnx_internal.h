/* Internals of the ONNX reader shared between its files and with the tests. */
#ifndef FQ_ONNX_ONNX_INTERNAL_H
#define FQ_ONNX_ONNX_INTERNAL_H

#include "facequant/onnx.h"
#include "onnx/protobuf.h"

/* Decodes a serialized ModelProto into a new graph without binding its nodes to the op table
 * (node->op stays -1). fq_onnx_read_memory is this followed by fq_graph_bind_ops. */
fq_status fq_onnx_decode(const void *data, size_t size, fq_graph **out, fq_error *err);

/* Decodes the TensorProto in c into a new constant value of graph. The value takes the tensor's
 * name, or fallback_name when the tensor has none; a NULL fallback_name makes a missing name a
 * parse error. */
fq_status fq_onnx_decode_tensor(fq_graph *graph, fq_pb_cursor *c, const char *fallback_name,
                                int *value, fq_error *err);

/* The facequant dtype of an ONNX TensorProto.DataType, or FQ_DTYPE_UNDEFINED when facequant
 * does not handle it. */
fq_dtype fq_onnx_dtype(uint64_t onnx_type);
/* Name of an ONNX TensorProto.DataType, such as "DOUBLE", for messages. */
const char *fq_onnx_type_name(uint64_t onnx_type);

/* Copies a name field into a new NUL-terminated string; a name holding a NUL byte is a parse
 * error (what names the field). */
fq_status fq_onnx_copy_name(const fq_pb_cursor *bytes, char **out, const char *what,
                            fq_error *err);

#endif
