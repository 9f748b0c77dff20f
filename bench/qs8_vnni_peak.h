/* Peak-throughput loops of the int8 dot-product instructions, one file per ISA flag set. Each
 * iteration does 16 (AVX512-VNNI: 16 zmm x 64 products) or 12 (AVX-VNNI: 12 ymm x 32 products)
 * vpdpbusd; callers run them only on a CPU that has the ISA. */
#ifndef FQ_BENCH_QS8_VNNI_PEAK_H
#define FQ_BENCH_QS8_VNNI_PEAK_H

#include <stdint.h>

#define FQ_BENCH_AVX512VNNI_OPS_PER_ITERATION (16.0 * 64.0 * 2.0)
#define FQ_BENCH_AVXVNNI_OPS_PER_ITERATION (12.0 * 32.0 * 2.0)

int32_t fq_bench_vnni_peak_loop__avx512vnni(int64_t iterations);
int32_t fq_bench_vnni_peak_loop__avxvnni(int64_t iterations);

#endif
