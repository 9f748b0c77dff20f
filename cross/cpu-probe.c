/* Prints the CPU features an emulated CPU shows to a program, one name a line, asked directly
 * (CPUID and XGETBV on x86, the kernel's HWCAP words on Arm Linux), then "isa=NAME", the level
 * facequant's own detection picks. scripts/run-cross-tests.sh runs it under each qemu CPU and
 * checks what must and must not be there before it trusts the tests to run the paths it means
 * to test. */
#include <stdio.h>

#include "facequant/cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif

static void show(const char *name, unsigned long word, int bit)
{
    if ((word >> bit) & 1)
        printf("%s\n", name);
}

#if defined(__x86_64__)
static unsigned long read_xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long)hi << 32) | lo;
}

static void probe(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    show("sse4_1", c, 19);
    show("sse4_2", c, 20);
    show("fma", c, 12);
    show("f16c", c, 29);
    show("avx", c, 28);

    unsigned long xcr0 = ((c >> 27) & 1) ? read_xcr0() : 0;
    show("os_ymm", (xcr0 & 0x6) == 0x6, 0);
    show("os_zmm", (xcr0 & 0xe6) == 0xe6, 0);
    if (__get_cpuid_max(0, NULL) < 7)
        return;

    __cpuid_count(7, 0, a, b, c, d);
    show("avx2", b, 5);
    show("avx512f", b, 16);
    show("avx512bw", b, 30);
    show("avx512vnni", c, 11);
    show("avx512fp16", d, 23);
    __cpuid_count(7, 1, a, b, c, d);
    show("avxvnni", a, 4);
}
#elif defined(__aarch64__)
static void probe(void)
{
    unsigned long hw = getauxval(AT_HWCAP);
    show("asimd", hw, 1);
    show("fphp", hw, 9);
    show("asimdhp", hw, 10);
    show("asimddp", hw, 20);
    show("sve", hw, 22);
    show("i8mm", getauxval(AT_HWCAP2), 13);
}
#elif defined(__arm__)
static void probe(void)
{
    unsigned long hw = getauxval(AT_HWCAP);
    show("vfpv3", hw, 13);
    show("neon", hw, 12);
    show("vfpv4", hw, 16);
    show("asimdhp", hw, 23);
    show("asimddp", hw, 24);
}
#else
#error "cpu-probe knows x86-64 and Arm Linux only"
#endif

int main(void)
{
    probe();
    printf("isa=%s\n", fq_isa_name(fq_isa_best()));
    return 0;
}
