/* CPU feature detection (CPUID/XGETBV on x86, HWCAP on Linux/Arm) and ISA levels. */
#include <stdlib.h>
#include <string.h>

#include "facequant/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#define FQ_ARCH_X86 1
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__arm__)
#define FQ_ARCH_ARM 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

#if defined(FQ_HAVE_THREADS)
#include <pthread.h>
#endif

static const char *const isa_names[FQ_ISA_COUNT] = {
    "scalar", "sse41", "avx2", "avxvnni", "avx512", "avx512vnni", "avx512fp16",
    "neon", "neondot", "neonfp16",
};

static fq_cpu_features detected;

#if defined(FQ_ARCH_X86)
static unsigned long long read_xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

/* L2 bytes per core from the extended leaf 0x80000006 (ECX bits 31-16, in KiB), which Intel and
 * AMD both fill; 0 where the leaf is missing. */
static size_t detect_l2_bytes(void)
{
    unsigned int a, b, c, d;
    if (__get_cpuid_max(0x80000000u, NULL) < 0x80000006u)
        return 0;
    __cpuid(0x80000006u, a, b, c, d);
    return (size_t)(c >> 16) * 1024u;
}

static void detect(fq_cpu_features *f)
{
    unsigned int a, b, c, d;
    f->l2_bytes = detect_l2_bytes();
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    bool osxsave = (c >> 27) & 1;
    bool avx = (c >> 28) & 1;
    f->sse41 = (c >> 19) & 1;
    f->fma = (c >> 12) & 1;
    f->f16c = (c >> 29) & 1;

    /* The OS must save the YMM (bits 1-2) and ZMM (bits 5-7) registers. */
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    bool ymm_os = (xcr0 & 0x6) == 0x6;
    bool zmm_os = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, NULL) < 7)
        return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = avx && ymm_os && ((b >> 5) & 1);
    f->avx512f = zmm_os && ((b >> 16) & 1);
    f->avx512dq = zmm_os && ((b >> 17) & 1);
    f->avx512bw = zmm_os && ((b >> 30) & 1);
    f->avx512vl = zmm_os && ((b >> 31) & 1);
    f->avx512vnni = zmm_os && ((c >> 11) & 1);
    f->avx512fp16 = zmm_os && ((d >> 23) & 1);
    __cpuid_count(7, 1, a, b, c, d);
    f->avxvnni = ymm_os && ((a >> 4) & 1);
    if (!ymm_os) {
        f->fma = false;
        f->f16c = false;
    }
}
#elif defined(FQ_ARCH_ARM) && defined(__linux__)
static void detect(fq_cpu_features *f)
{
#if defined(__aarch64__)
    unsigned long hw = getauxval(AT_HWCAP);
    unsigned long hw2 = getauxval(AT_HWCAP2);
    f->neon = (hw >> 1) & 1;       /* HWCAP_ASIMD */
    f->neon_fp16 = (hw >> 10) & 1; /* HWCAP_ASIMDHP */
    f->neon_dot = (hw >> 20) & 1;  /* HWCAP_ASIMDDP */
    f->i8mm = (hw2 >> 13) & 1;     /* HWCAP2_I8MM */
#else
    unsigned long hw = getauxval(AT_HWCAP);
    f->neon = (hw >> 12) & 1;      /* HWCAP_NEON on 32-bit Arm */
#endif
}
#else
/* No detection on this platform: only the scalar kernels run. */
static void detect(fq_cpu_features *f)
{
    (void)f;
}
#endif

#if defined(FQ_HAVE_THREADS)
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void run_detection(void)
{
    detect(&detected);
}

const fq_cpu_features *fq_cpu_features_get(void)
{
    pthread_once(&detect_once, run_detection);
    return &detected;
}
#else
static bool detect_done;

const fq_cpu_features *fq_cpu_features_get(void)
{
    if (!detect_done) {
        detect(&detected);
        detect_done = true;
    }
    return &detected;
}
#endif

bool fq_isa_supported(fq_isa isa)
{
    const fq_cpu_features *f = fq_cpu_features_get();
    bool avx2 = f->avx2 && f->fma && f->f16c;
    bool avx512 = avx2 && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq;
    switch (isa) {
    case FQ_ISA_SCALAR: return true;
    case FQ_ISA_SSE41: return f->sse41;
    case FQ_ISA_AVX2: return avx2;
    case FQ_ISA_AVXVNNI: return avx2 && f->avxvnni;
    case FQ_ISA_AVX512: return avx512;
    case FQ_ISA_AVX512VNNI: return avx512 && f->avx512vnni;
    case FQ_ISA_AVX512FP16: return avx512 && f->avx512fp16;
    case FQ_ISA_NEON: return f->neon;
    case FQ_ISA_NEONDOT: return f->neon && f->neon_dot;
    case FQ_ISA_NEONFP16: return f->neon && f->neon_fp16;
    default: return false;
    }
}

static bool is_arm(fq_isa isa)
{
    return isa >= FQ_ISA_NEON && isa <= FQ_ISA_NEONFP16;
}

fq_isa fq_isa_best(void)
{
    for (int isa = FQ_ISA_COUNT - 1; isa > FQ_ISA_SCALAR; isa--)
        if (fq_isa_supported((fq_isa)isa))
            return (fq_isa)isa;
    return FQ_ISA_SCALAR;
}

bool fq_isa_allowed(fq_isa isa, fq_isa cap)
{
    if (!fq_isa_supported(isa))
        return false;
    if (isa == FQ_ISA_SCALAR || cap == FQ_ISA_AUTO)
        return true;
    if (cap == FQ_ISA_SCALAR || is_arm(isa) != is_arm(cap))
        return false;
    return isa <= cap;
}

fq_isa fq_isa_resolve_cap(fq_isa requested)
{
    if (requested != FQ_ISA_AUTO)
        return requested;
    const char *env = getenv("FQ_ISA");
    fq_isa isa;
    if (env != NULL && env[0] != '\0' && fq_isa_parse(env, &isa, NULL) == FQ_OK)
        return isa;
    return FQ_ISA_AUTO;
}

const char *fq_isa_name(fq_isa isa)
{
    if (isa == FQ_ISA_AUTO)
        return "auto";
    return (unsigned)isa < FQ_ISA_COUNT ? isa_names[isa] : "invalid";
}

fq_status fq_isa_parse(const char *name, fq_isa *isa, fq_error *err)
{
    if (strcmp(name, "auto") == 0) {
        *isa = FQ_ISA_AUTO;
        return FQ_OK;
    }
    for (int i = 0; i < FQ_ISA_COUNT; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            *isa = (fq_isa)i;
            return FQ_OK;
        }
    }
    return fq_error_set(err, FQ_ERR_INVALID_ARG, "unknown ISA '%s' (valid: auto, scalar, sse41, "
                        "avx2, avxvnni, avx512, avx512vnni, avx512fp16, neon, neondot, neonfp16)",
                        name);
}
