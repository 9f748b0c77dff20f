/* facequant: CPU features and instruction-set levels.
 *
 * The CPU is asked once (CPUID and XGETBV on x86, HWCAP on Arm); sessions then pick, for every
 * node, the best kernel whose instruction set the CPU has and that does not exceed the session's
 * cap. A cap can only lower the choice: asking for an ISA the CPU lacks gives the best it has
 * below that.
 *
 * Levels in cap order, per architecture:
 *   x86: scalar < sse41 < avx2 (with FMA and F16C) < avxvnni < avx512 (F, BW, VL, DQ)
 *        < avx512vnni < avx512fp16
 *   Arm: scalar < neon < neondot (dot product) < neonfp16 (ARMv8.2 fp16 arithmetic)
 */
#ifndef FACEQUANT_CPU_H
#define FACEQUANT_CPU_H

#include <stdbool.h>
#include <stddef.h>

#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fq_isa {
    FQ_ISA_SCALAR = 0,
    FQ_ISA_SSE41,
    FQ_ISA_AVX2,
    FQ_ISA_AVXVNNI,
    FQ_ISA_AVX512,
    FQ_ISA_AVX512VNNI,
    FQ_ISA_AVX512FP16,
    FQ_ISA_NEON,
    FQ_ISA_NEONDOT,
    FQ_ISA_NEONFP16,
    FQ_ISA_COUNT,
    FQ_ISA_AUTO = FQ_ISA_COUNT /* no cap: the best the CPU has (or FQ_ISA from the environment) */
} fq_isa;

typedef struct fq_cpu_features {
    bool sse41;
    bool avx2;
    bool fma;
    bool f16c;
    bool avx512f;
    bool avx512bw;
    bool avx512vl;
    bool avx512dq;
    bool avx512vnni;
    bool avxvnni;
    bool avx512fp16;
    bool neon;       /* asimd */
    bool neon_dot;   /* asimddp */
    bool neon_fp16;  /* asimdhp */
    bool i8mm;
    size_t l2_bytes; /* L2 cache of one core; 0 where the CPU does not say (Arm under Linux) */
} fq_cpu_features;

/* What this CPU has; detected on the first call, thread-safe. */
const fq_cpu_features *fq_cpu_features_get(void);

/* Whether the CPU has every feature of isa (scalar: always). */
bool fq_isa_supported(fq_isa isa);
/* The highest level the CPU supports. */
fq_isa fq_isa_best(void);
/* Whether kernels of level isa may run under cap: same architecture (or scalar), not above the
 * cap in cap order, and supported by the CPU. FQ_ISA_AUTO caps nothing. */
bool fq_isa_allowed(fq_isa isa, fq_isa cap);
/* The cap a session uses for a requested one: FQ_ISA_AUTO becomes $FQ_ISA when it is set and
 * valid, else stays FQ_ISA_AUTO. */
fq_isa fq_isa_resolve_cap(fq_isa requested);

/* "scalar", "sse41", "avx2", "avxvnni", "avx512", "avx512vnni", "avx512fp16", "neon",
 * "neondot", "neonfp16"; "auto" for FQ_ISA_AUTO. */
const char *fq_isa_name(fq_isa isa);
/* Parses a name of fq_isa_name (and "auto"); an unknown name lists the valid ones. */
fq_status fq_isa_parse(const char *name, fq_isa *isa, fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
