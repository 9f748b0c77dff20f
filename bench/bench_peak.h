/* Measured multiply-add peaks per ISA and the timing helpers the benchmarks share. */
#ifndef FQ_BENCH_PEAK_H
#define FQ_BENCH_PEAK_H

#include "facequant/cpu.h"

/* Written by the peak loops so the compiler keeps them. */
extern volatile float fq_bench_sink;

double fq_bench_fma_peak__sse41(long steps);
double fq_bench_fma_peak__avx2(long steps);
double fq_bench_fma_peak__avx512(long steps);

/* Seconds on a monotonic clock. */
double fq_bench_now(void);
/* Seconds of CPU time of the calling thread. */
double fq_bench_thread_seconds(void);
/* The median of n values (sorts them). */
double fq_bench_median(double *values, int n);
/* Measured GFLOP/s of isa's multiply-add loop (median of 5), or 0 when this build or CPU has
 * none; scalar reports 0. */
double fq_bench_peak_gflops(fq_isa isa);
/* One short run (about 0.01 s) of the same loop: the peak right now, for a rate measured beside
 * it (this machine's speed drifts with its other load; neighbouring runs drift less). */
double fq_bench_peak_probe(fq_isa isa);

#endif
