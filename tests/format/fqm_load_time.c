/* Load time of a model as ONNX (read + passes) and as .fqm (mapped read), medians of RUNS
 * interleaved runs: fqm_load_time MODEL.onnx [RUNS] [WxH]. Not a test: a measurement. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "facequant/fq.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static fq_graph *load_onnx(const char *path, const fq_input_size *size)
{
    fq_graph *g = NULL;
    fq_error err = {0};
    if (fq_onnx_read_file(path, &g, &err) != FQ_OK || fq_passes_run(g, size, &err) != FQ_OK) {
        fprintf(stderr, "fqm_load_time: %s\n", err.message);
        exit(1);
    }
    return g;
}

static fq_graph *load_fqm(const char *path, unsigned flags)
{
    fq_graph *g = NULL;
    fq_error err = {0};
    fq_fqm_read_options options = {flags};
    if (fq_fqm_read_file(path, &options, &g, NULL, NULL, &err) != FQ_OK) {
        fprintf(stderr, "fqm_load_time: %s\n", err.message);
        exit(1);
    }
    return g;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fqm_load_time MODEL.onnx [RUNS] [WxH]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 20;
    fq_input_size size = {640, 640, 1};
    if (argc > 3 && sscanf(argv[3], "%" SCNd64 "x%" SCNd64, &size.width, &size.height) != 2)
        return 2;
    char fqm[4096];
    snprintf(fqm, sizeof(fqm), "/tmp/fqm_load_time.%ld.fqm", (long)getpid());
    fq_graph *g = load_onnx(argv[1], &size);
    fq_error err = {0};
    if (fq_fqm_write_file(g, NULL, 0, fqm, &err) != FQ_OK) {
        fprintf(stderr, "fqm_load_time: %s\n", err.message);
        return 1;
    }
    fq_graph_free(g);

    double *t[3];
    for (int k = 0; k < 3; k++)
        t[k] = calloc((size_t)runs, sizeof(double));
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        fq_graph_free(load_onnx(argv[1], &size));
        double t1 = now_ms();
        fq_graph_free(load_fqm(fqm, 0));
        double t2 = now_ms();
        fq_graph_free(load_fqm(fqm, FQ_FQM_READ_SKIP_WEIGHTS_CRC));
        double t3 = now_ms();
        t[0][r] = t1 - t0;
        t[1][r] = t2 - t1;
        t[2][r] = t3 - t2;
    }
    const char *labels[3] = {"onnx read + passes", "fqm read (all CRCs)",
                             "fqm read (weights CRC skipped)"};
    for (int k = 0; k < 3; k++) {
        qsort(t[k], (size_t)runs, sizeof(double), compare_doubles);
        printf("%-32s median %.3f ms  min %.3f ms  (%d runs)\n", labels[k], t[k][runs / 2],
               t[k][0], runs);
        free(t[k]);
    }
    unlink(fqm);
    return 0;
}
