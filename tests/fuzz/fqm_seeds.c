/* Writes seed .fqm files for fuzz_fqm_reader: fqm_seeds DIR MODEL.onnx ... converts each ONNX
 * model whose shapes are fixed (read, passes) into DIR/NAME.fqm when the result is at most
 * 64 KiB (the fuzzer's -max_len). Models that do not load are skipped. Prints the count. */
#include <stdio.h>
#include <string.h>

#include "facequant/fq.h"

#define MAX_SEED_SIZE 65536

static void seed_name(const char *dir, const char *model, char *out, size_t size)
{
    const char *end = strrchr(model, '/');
    const char *start = model;
    char test[256] = "model";
    if (end != NULL) {
        start = end;
        while (start > model && start[-1] != '/')
            start--;
        snprintf(test, sizeof(test), "%.*s", (int)(end - start), start);
    }
    snprintf(out, size, "%s/%s.fqm", dir, test);
}

static int write_seed(const char *dir, const char *model)
{
    fq_graph *g = NULL;
    fq_error err = {0};
    fq_input_size keep = {0, 0, 0};
    void *data = NULL;
    size_t size = 0;
    int written = 0;
    if (fq_onnx_read_file(model, &g, &err) == FQ_OK && fq_passes_run(g, &keep, &err) == FQ_OK &&
        fq_fqm_write_memory(g, NULL, 0, &data, &size, &err) == FQ_OK && size <= MAX_SEED_SIZE) {
        char path[4096];
        seed_name(dir, model, path, sizeof(path));
        FILE *f = fopen(path, "wb");
        written = f != NULL && fwrite(data, 1, size, f) == size;
        if (f != NULL)
            fclose(f);
    }
    fq_free(data);
    fq_graph_free(g);
    return written;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fqm_seeds DIR MODEL.onnx ...\n");
        return 2;
    }
    int count = 0;
    for (int i = 2; i < argc; i++)
        count += write_seed(argv[1], argv[i]);
    fprintf(stderr, "fqm_seeds: %d seeds in %s\n", count, argv[1]);
    return 0;
}
