/* Reading either model format for the commands. */
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
