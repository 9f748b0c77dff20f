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

/* Metadata entries for an .fqm file, strings held in the list itself. */
#define FQ_TOOL_MAX_META 24
typedef struct fq_tool_meta_list {
    fq_fqm_meta entries[FQ_TOOL_MAX_META];
    char text[FQ_TOOL_MAX_META][128];
    int count;
} fq_tool_meta_list;

/* Appends key = printf(format, ...) (key must outlive the list); ignored when full. */
void fq_tool_meta_add(fq_tool_meta_list *list, const char *key, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The preprocessing and role of a model card: card, role, family, color, mean, std, resize. */
void fq_tool_meta_add_card(fq_tool_meta_list *list, const fq_model_card *card);
/* input_size = WxH of the first 4-D graph input. */
void fq_tool_meta_add_input_size(fq_tool_meta_list *list, const fq_graph *graph);

/* Prints "metadata" and one "  key = value" line per entry on stdout; nothing when n is 0. */
void fq_tool_print_meta(const fq_fqm_meta *meta, int n);

#endif
