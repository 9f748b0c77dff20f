/* Reading either model format for the commands. */
#include <stdarg.h>
#include <stdio.h>

#include "model_file.h"

bool fq_tool_is_fqm_file(const char *path)
{
    unsigned char magic[FQ_FQM_MAGIC_SIZE];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t got = fread(magic, 1, sizeof(magic), f);
    fclose(f);
    return fq_fqm_is_fqm(magic, got);
}

fq_status fq_tool_read_model(const char *path, fq_graph **graph, fq_fqm_meta **meta, int *n_meta,
                             fq_error *err)
{
    if (meta != NULL)
        *meta = NULL;
    if (n_meta != NULL)
        *n_meta = 0;
    if (fq_tool_is_fqm_file(path))
        return fq_fqm_read_file(path, NULL, graph, meta, n_meta, err);
    return fq_onnx_read_file(path, graph, err);
}

void fq_tool_print_meta(const fq_fqm_meta *meta, int n)
{
    if (n > 0)
        printf("metadata\n");
    for (int i = 0; i < n; i++)
        printf("  %-12s %s\n", meta[i].key, meta[i].value);
}

void fq_tool_meta_add(fq_tool_meta_list *list, const char *key, const char *format, ...)
{
    if (list->count == FQ_TOOL_MAX_META)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(list->text[list->count], sizeof(list->text[0]), format, args);
    va_end(args);
    list->entries[list->count] = (fq_fqm_meta){(char *)key, list->text[list->count]};
    list->count++;
}

void fq_tool_meta_add_card(fq_tool_meta_list *list, const fq_model_card *card)
{
    const fq_normalization *n = &card->norm;
    bool detector = card->role == FQ_ROLE_DETECTOR;
    fq_tool_meta_add(list, FQ_FQM_META_CARD, "%s", card->name);
    fq_tool_meta_add(list, "role", "%s", detector ? "detector" : "recognizer");
    if (detector)
        fq_tool_meta_add(list, "family", "%s",
                         card->family == FQ_DETECTOR_YUNET ? "yunet" : "scrfd");
    fq_tool_meta_add(list, FQ_FQM_META_COLOR, "%s", n->bgr ? "bgr" : "rgb");
    fq_tool_meta_add(list, FQ_FQM_META_MEAN, "%g,%g,%g", n->mean[0], n->mean[1], n->mean[2]);
    fq_tool_meta_add(list, FQ_FQM_META_STD, "%g,%g,%g", n->std[0], n->std[1], n->std[2]);
    fq_tool_meta_add(list, FQ_FQM_META_RESIZE, "%s", detector ? "letterbox" : "aligned crop");
}

void fq_tool_meta_add_input_size(fq_tool_meta_list *list, const fq_graph *graph)
{
    for (int i = 0; i < graph->n_inputs; i++) {
        const fq_value *v = &graph->values[graph->inputs[i]];
        if (v->shape.rank == 4) {
            fq_tool_meta_add(list, FQ_FQM_META_INPUT_SIZE, "%lldx%lld",
                             (long long)v->shape.dims[3], (long long)v->shape.dims[2]);
            return;
        }
    }
}
