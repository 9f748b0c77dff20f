/* Peak-throughput loop of AVX512-FP16 fused multiply-adds: 16 independent zmm vfmadd231ph
 * chains of 32 fp16 lanes. Callers run it only on a CPU that has AVX512-FP16; the fp32 peaks
 * are bench_peak.h's. */
#ifndef FQ_BENCH_F16_FMA_PEAK_H
#define FQ_BENCH_F16_FMA_PEAK_H

#include <stdint.h>

#define FQ_BENCH_AVX512FP16_FLOPS_PER_ITERATION (16.0 * 32.0 * 2.0)

float fq_bench_fma_peak_loop__avx512fp16(int64_t iterations);

#endif
