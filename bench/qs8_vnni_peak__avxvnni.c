/* The AVX-VNNI int8 ceiling: 256-bit vpdpbusd (VEX encoded) on 12 independent ymm accumulators,
 * in one asm block for the reason given in qs8_vnni_peak__avx512vnni.c. */
#include <stdint.h>

#include "qs8_vnni_peak.h"

int32_t fq_bench_vnni_peak_loop__avxvnni(int64_t iterations)
{
    int32_t lane = 0;
    __asm__ volatile(
        "vpcmpeqd %%ymm12, %%ymm12, %%ymm12\n"
        "vpabsb %%ymm12, %%ymm13\n"
        "1:\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm0\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm1\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm2\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm3\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm4\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm5\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm6\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm7\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm8\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm9\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm10\n"
        "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm11\n"
        "dec %[n]\n"
        "jnz 1b\n"
        "vmovd %%xmm0, %[lane]\n"
        : [n] "+r"(iterations), [lane] "=r"(lane)
        :
        : "ymm0", "ymm1", "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9",
          "ymm10", "ymm11", "ymm12", "ymm13", "cc");
    return lane;
}
