/* Reading a model file for the commands: an .fqm file (told by its magic bytes) or ONNX. */
#ifndef FQ_TOOLS_MODEL_FILE_H
#define FQ_TOOLS_MODEL_FILE_H

#include <stdbool.h>

#include "facequant/fq.h"

/* Whether the file at path starts with the .fqm magic. */
bool fq_tool_is_fqm_file(const char *path);

/* Reads an .fqm file (mapped, its metadata into *meta and *n_meta when meta is not NULL) or an
 * ONNX file (no metadata: *meta NULL, *n_meta 0). Free *meta with fq_fqm_meta_free. */
fq_status fq_tool_read_model(const char *path, fq_graph **graph, fq_fqm_meta **meta, int *n_meta,
                             fq_error *err);

/* Prints "metadata" and one "  key = value" line per entry on stdout; nothing when n is 0. */
void fq_tool_print_meta(const fq_fqm_meta *meta, int n);

#endif
