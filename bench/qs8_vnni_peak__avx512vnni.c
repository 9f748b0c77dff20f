/* The AVX512-VNNI int8 ceiling: vpdpbusd on 16 independent zmm accumulators, so throughput,
 * not latency, bounds the loop. One asm block: with intrinsics GCC 12 keeps the accumulators in
 * memory or copies them around each instruction, and would measure that instead. */
#include <stdint.h>

#include "qs8_vnni_peak.h"

int32_t fq_bench_vnni_peak_loop__avx512vnni(int64_t iterations)
{
    int32_t lane = 0;
    __asm__ volatile(
        "vpternlogd $0xff, %%zmm16, %%zmm16, %%zmm16\n"
        "vpabsb %%zmm16, %%zmm17\n"
        "1:\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm0\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm1\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm2\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm3\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm4\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm5\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm6\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm7\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm8\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm9\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm10\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm11\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm12\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm13\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm14\n"
        "vpdpbusd %%zmm17, %%zmm16, %%zmm15\n"
        "dec %[n]\n"
        "jnz 1b\n"
        "vmovd %%xmm0, %[lane]\n"
        : [n] "+r"(iterations), [lane] "=r"(lane)
        :
        : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9",
          "zmm10", "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "cc");
    return lane;
}
