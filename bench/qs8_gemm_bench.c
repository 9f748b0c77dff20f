/* qs8 GEMM and depthwise benchmarks, single thread: the measured VNNI ceiling, then every qs8
 * kernel this CPU can run on square and real-model shapes, in GOP/s (2 ops per multiply-add)
 * and as a share of the measured VNNI peak (AVX-VNNI kernels: the 256-bit loop; the others:
 * AVX512-VNNI). Each figure is the median of several runs,
 * timed in thread CPU time.
 *
 *   qs8_gemm_bench [--runs N] [--kernel SUBSTRING]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peak.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "qs8_dwconv.h"
#include "qs8_gemm.h"
#include "qs8_vnni_peak.h"

enum { MAX_RUNS = 31 };

/* Seconds a timed run lasts at least (it repeats the work until then). */
static const double min_run_seconds = 0.15;

typedef struct gemm_shape {
    const char *label;
    size_t m, n, k;
} gemm_shape;

static const gemm_shape shapes[] = {
    {"512^3", 512, 512, 512},
    {"1024^3", 1024, 1024, 1024},
    {"mobilefacenet 1x1 56x56 64->128", 56 * 56, 128, 64},
    {"scrfd 3x3 80x80 64->64 (im2col)", 80 * 80, 64, 576},
    {"arcface-r50 3x3 7x7 512->512 (im2col)", 7 * 7, 512, 4608},
    {"arcface fc 25088->512, batch 8", 8, 512, 25088},
};

static volatile int32_t sink;

#if defined(FQ_BENCH_VNNI_PEAK)
static double vnni_peak_gops(fq_isa isa, int runs, int64_t iterations)
{
    double rates[MAX_RUNS];
    double ops_per_iteration = isa == FQ_ISA_AVX512VNNI ? FQ_BENCH_AVX512VNNI_OPS_PER_ITERATION
                                                        : FQ_BENCH_AVXVNNI_OPS_PER_ITERATION;
    for (int r = 0; r < runs; r++) {
        double t0 = fq_bench_thread_seconds();
        sink = isa == FQ_ISA_AVX512VNNI ? fq_bench_vnni_peak_loop__avx512vnni(iterations)
                                        : fq_bench_vnni_peak_loop__avxvnni(iterations);
        rates[r] = ops_per_iteration * (double)iterations / (fq_bench_thread_seconds() - t0) * 1e-9;
    }
    return fq_bench_median(rates, runs);
}
#else
/* The peak loops are x86 code: elsewhere there is no VNNI ceiling to measure. */
static double vnni_peak_gops(fq_isa isa, int runs, int64_t iterations)
{
    (void)isa;
    (void)runs;
    (void)iterations;
    return 0.0;
}
#endif

typedef struct gemm_buffers {
    uint8_t *a, *c;
    int8_t *w;
    int32_t *bias;
    float *multiplier;
    void *packed;
} gemm_buffers;

static int buffers_make(const fq_qs8_gemm_kernel *kernel, const gemm_shape *s, gemm_buffers *b)
{
    b->a = fq_malloc_aligned(s->m * s->k);
    b->c = fq_malloc_aligned(s->m * s->n);
    b->w = fq_malloc_aligned(s->n * s->k);
    b->bias = fq_malloc_aligned(s->n * sizeof(int32_t));
    b->multiplier = fq_malloc_aligned(s->n * sizeof(float));
    b->packed = fq_malloc_aligned(fq_qs8_gemm_packed_size(kernel, s->n, s->k));
    if (!b->a || !b->c || !b->w || !b->bias || !b->multiplier || !b->packed)
        return -1;
    for (size_t i = 0; i < s->m * s->k; i++)
        b->a[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < s->n * s->k; i++)
        b->w[i] = (int8_t)(i * 13 + 5);
    for (size_t j = 0; j < s->n; j++) {
        b->bias[j] = (int32_t)j;
        b->multiplier[j] = 1.0f / (float)(s->k * 64);
    }
    return fq_qs8_gemm_pack(kernel, s->n, s->k, b->w, b->bias, 128, b->multiplier, b->packed,
                            NULL) == FQ_OK ? 0 : -1;
}

static void buffers_free(gemm_buffers *b)
{
    fq_free_aligned(b->a);
    fq_free_aligned(b->c);
    fq_free_aligned(b->w);
    fq_free_aligned(b->bias);
    fq_free_aligned(b->multiplier);
    fq_free_aligned(b->packed);
}

/* A rate, and its median share of the VNNI peak measured just before each run (the machine's
 * speed drifts with its other load; a ratio of neighbouring runs drifts less). */
typedef struct rate {
    double gops;
    double share;
} rate;

/* Iterations of the peak loop measured beside each run: about 0.02 s. */
enum { PEAK_PROBE_ITERATIONS = 2 * 1000 * 1000 };

/* The peak a kernel of `isa` is held to: AVX-VNNI kernels the 256-bit loop, every other kernel
 * the AVX512-VNNI loop (0 without it). */
static double peak_probe(fq_isa isa)
{
    if (isa == FQ_ISA_AVXVNNI && fq_isa_supported(FQ_ISA_AVXVNNI))
        return vnni_peak_gops(FQ_ISA_AVXVNNI, 1, PEAK_PROBE_ITERATIONS);
    return fq_isa_supported(FQ_ISA_AVX512VNNI)
               ? vnni_peak_gops(FQ_ISA_AVX512VNNI, 1, PEAK_PROBE_ITERATIONS) : 0.0;
}

static rate gemm_gops(const fq_qs8_gemm_kernel *kernel, const gemm_shape *s, int runs)
{
    gemm_buffers b;
    rate result = {-1.0, 0.0};
    if (buffers_make(kernel, s, &b) != 0) {
        buffers_free(&b);
        return result;
    }
    fq_qs8_requant_params params;
    fq_qs8_requant_params_init(128, 0, 255, &params, NULL);

    double ops = 2.0 * (double)s->m * (double)s->n * (double)s->k, rates[MAX_RUNS];
    double shares[MAX_RUNS];
    fq_qs8_gemm_run(kernel, s->m, s->n, s->k, b.a, s->k, b.packed, b.c, s->n, &params);
    for (int r = 0; r < runs; r++) {
        double peak = peak_probe(kernel->isa);
        int reps = 0;
        double t0 = fq_bench_thread_seconds(), t;
        do {
            fq_qs8_gemm_run(kernel, s->m, s->n, s->k, b.a, s->k, b.packed, b.c, s->n, &params);
            reps++;
            t = fq_bench_thread_seconds() - t0;
        } while (t < min_run_seconds);
        rates[r] = ops * reps / t * 1e-9;
        shares[r] = peak > 0.0 ? rates[r] / peak : 0.0;
    }
    buffers_free(&b);
    result.gops = fq_bench_median(rates, runs);
    result.share = fq_bench_median(shares, runs);
    return result;
}

/* Depthwise 3x3 stride 1 pad 1 on 56 x 56 x 128 (MobileFaceNet's first depthwise layer). */
static rate dwconv_gops(const fq_qs8_dwconv_kernel *kernel, int runs)
{
    fq_qs8_dwconv_shape s = {1, 56, 56, 128, 1, 1, 1, 1, 56, 56, 128};
    size_t pixels = s.in_height * s.in_width;
    uint8_t *x = fq_malloc_aligned(pixels * s.channels);
    uint8_t *y = fq_malloc_aligned(pixels * s.channels);
    uint8_t *pad = fq_malloc_aligned(s.channels);
    int8_t w[9 * 128];
    float mult[128];
    void *packed = fq_malloc_aligned(fq_qs8_dwconv3x3_packed_size(s.channels));
    rate result = {-1.0, 0.0};
    double rates[MAX_RUNS], shares[MAX_RUNS];
    if (x == NULL || y == NULL || pad == NULL || packed == NULL)
        goto done;
    for (size_t i = 0; i < pixels * s.channels; i++)
        x[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < 9 * 128; i++)
        w[i] = (int8_t)(i * 5);
    for (size_t c = 0; c < 128; c++)
        mult[c] = 0.01f;
    if (fq_qs8_dwconv3x3_pack(s.channels, w, NULL, 128, mult, packed, NULL) != FQ_OK)
        goto done;
    fq_qs8_requant_params params;
    fq_qs8_requant_params_init(128, 0, 255, &params, NULL);

    double ops = 2.0 * 9.0 * (double)(pixels * s.channels);
    for (int r = 0; r < runs; r++) {
        double peak = peak_probe(kernel->isa);
        int reps = 0;
        double t0 = fq_bench_thread_seconds(), t;
        do {
            fq_qs8_dwconv3x3_run(kernel, &s, x, packed, y, pad, &params);
            reps++;
            t = fq_bench_thread_seconds() - t0;
        } while (t < min_run_seconds);
        rates[r] = ops * reps / t * 1e-9;
        shares[r] = peak > 0.0 ? rates[r] / peak : 0.0;
    }
    result.gops = fq_bench_median(rates, runs);
    result.share = fq_bench_median(shares, runs);
done:
    fq_free_aligned(x);
    fq_free_aligned(y);
    fq_free_aligned(pad);
    fq_free_aligned(packed);
    return result;
}

static void print_rate(const char *kernel, const char *shape, rate r)
{
    if (r.gops < 0.0)
        printf("%-30s %-40s   (allocation failed)\n", kernel, shape);
    else if (r.share > 0.0)
        printf("%-30s %-40s %8.1f GOP/s %6.1f%%\n", kernel, shape, r.gops, 100.0 * r.share);
    else
        printf("%-30s %-40s %8.1f GOP/s\n", kernel, shape, r.gops);
}

int main(int argc, char **argv)
{
    int runs = 5;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--runs N] [--kernel SUBSTRING]\n", argv[0]);
            return 2;
        }
    }
    runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;

#if defined(FQ_BENCH_VNNI_PEAK)
    int64_t peak_iterations = 20 * 1000 * 1000;
    if (fq_isa_supported(FQ_ISA_AVX512VNNI))
        printf("avx512vnni vpdpbusd peak: %.1f GOP/s (median of %d)\n",
               vnni_peak_gops(FQ_ISA_AVX512VNNI, runs, peak_iterations), runs);
    else
        printf("avx512vnni: not on this CPU (no peak; percentages left out)\n");
    if (fq_isa_supported(FQ_ISA_AVXVNNI))
        printf("avxvnni vpdpbusd peak: %.1f GOP/s\n",
               vnni_peak_gops(FQ_ISA_AVXVNNI, runs, peak_iterations));
    else
        printf("avxvnni: not on this CPU\n");
#else
    printf("no VNNI peak on this architecture: GOP/s only\n");
#endif
    printf("percentages: median over runs of the rate over the peak measured just before it: "
           "the avxvnni loop for avxvnni kernels, the avx512vnni loop for the others\n\n");

    int count;
    const fq_qs8_gemm_kernel *kernels = fq_qs8_gemm_kernels(&count);
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(kernels[i].isa) || (only && !strstr(kernels[i].name, only)))
            continue;
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
            print_rate(kernels[i].name, shapes[s].label, gemm_gops(&kernels[i], &shapes[s], runs));
    }

    const fq_qs8_dwconv_kernel *dw = fq_qs8_dwconv3x3_kernels(&count);
    for (int i = 0; i < count; i++)
        if (fq_isa_supported(dw[i].isa) && (!only || strstr(dw[i].name, only)))
            print_rate(dw[i].name, "dw3x3 56x56x128 stride 1", dwconv_gops(&dw[i], runs));
    return 0;
}
