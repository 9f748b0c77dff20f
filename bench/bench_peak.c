/* Timing helpers and the per-ISA peak measurement. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <time.h>

#include "bench_peak.h"

volatile float fq_bench_sink;

double fq_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double fq_bench_thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double fq_bench_median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof(double), compare);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

typedef double (*peak_loop_fn)(long steps);

static peak_loop_fn peak_loop(fq_isa isa)
{
    peak_loop_fn loop = NULL;
#if defined(FQ_HAVE_ISA_SSE41)
    if (isa == FQ_ISA_SSE41)
        loop = fq_bench_fma_peak__sse41;
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    if (isa == FQ_ISA_AVX2)
        loop = fq_bench_fma_peak__avx2;
#endif
#if defined(FQ_HAVE_ISA_AVX512)
    if (isa == FQ_ISA_AVX512)
        loop = fq_bench_fma_peak__avx512;
#endif
    return loop != NULL && fq_isa_supported(isa) ? loop : NULL;
}

/* GFLOP/s of one run of loop over steps. */
static double peak_run(peak_loop_fn loop, long steps)
{
    double t0 = fq_bench_now();
    double flops = loop(steps);
    return flops / (fq_bench_now() - t0) * 1e-9;
}

double fq_bench_peak_gflops(fq_isa isa)
{
    peak_loop_fn loop = peak_loop(isa);
    if (loop == NULL)
        return 0.0;
    double rates[5];
    for (int r = 0; r < 5; r++)
        rates[r] = peak_run(loop, 20000000);
    return fq_bench_median(rates, 5);
}

double fq_bench_peak_probe(fq_isa isa)
{
    peak_loop_fn loop = peak_loop(isa);
    return loop != NULL ? peak_run(loop, 4000000) : 0.0;
}
