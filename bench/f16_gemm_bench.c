/* fp16 GEMM benchmarks, single thread, at M = N = K = 1024: the fp32 FMA ceilings (AVX-512,
 * AVX2: bench_peak.h's loops), every fp16-storage fp32-compute kernel (F16C conversion) this
 * CPU can run, the selected fp32 GEMM for comparison, and, where the CPU has AVX512-FP16, its
 * peak and the fp16-arithmetic GEMM. GFLOP/s count 2 flops per multiply-add; each figure is the
 * median of several runs timed in thread CPU time.
 *
 *   f16_gemm_bench [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f16_gemm.h"
#include "f32_gemm.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "bench_peak.h"
#include "ref/tensor_cast_ref.h"

#if defined(FQ_BENCH_F16_PEAK)
#include "f16_fma_peak.h"
#endif

enum { MAX_RUNS = 31, SIZE = 1024, PEAK_STEPS = 1 << 22 };

/* Seconds a timed run lasts at least (it repeats the work until then). */
static const double min_run_seconds = 0.2;

/* Runs the work once and returns the floating-point operations it did. */
typedef double (*bench_fn)(void *ctx);

/* Median over runs of the flops per second of fn(ctx), in thread CPU time. */
static double measure(bench_fn fn, void *ctx, int runs)
{
    double rates[MAX_RUNS];
    fn(ctx); /* warm the caches and the page tables */
    for (int r = 0; r < runs; r++) {
        double flops = 0.0;
        double start = fq_bench_thread_seconds(), elapsed;
        do {
            flops += fn(ctx);
            elapsed = fq_bench_thread_seconds() - start;
        } while (elapsed < min_run_seconds);
        rates[r] = flops / elapsed;
    }
    return fq_bench_median(rates, runs);
}

static const double gemm_flops = 2.0 * SIZE * SIZE * SIZE;

#if defined(FQ_HAVE_ISA_AVX512)
static double peak_avx512(void *ctx)
{
    (void)ctx;
    return fq_bench_fma_peak__avx512(PEAK_STEPS);
}
#endif

#if defined(FQ_HAVE_ISA_AVX2)
static double peak_avx2(void *ctx)
{
    (void)ctx;
    return fq_bench_fma_peak__avx2(PEAK_STEPS);
}
#endif

#if defined(FQ_BENCH_F16_PEAK)
static double peak_avx512fp16(void *ctx)
{
    (void)ctx;
    fq_bench_sink = fq_bench_fma_peak_loop__avx512fp16(PEAK_STEPS);
    return FQ_BENCH_AVX512FP16_FLOPS_PER_ITERATION * (double)PEAK_STEPS;
}
#endif

/* Operands shared by every GEMM: A and W hold the same random values in fp32 and fp16. */
typedef struct operands {
    float *a, *w, *c;
    uint16_t *a_half, *c_half;
} operands;

static bool operands_make(operands *o)
{
    size_t count = (size_t)SIZE * SIZE;
    o->a = fq_malloc_aligned(count * sizeof(float));
    o->w = fq_malloc_aligned(count * sizeof(float));
    o->c = fq_malloc_aligned(count * sizeof(float));
    o->a_half = fq_malloc_aligned(count * sizeof(uint16_t));
    o->c_half = fq_malloc_aligned(count * sizeof(uint16_t));
    if (!o->a || !o->w || !o->c || !o->a_half || !o->c_half)
        return false;
    unsigned state = 1;
    for (size_t i = 0; i < count; i++) {
        state = state * 1664525u + 1013904223u;
        o->a[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
        o->w[i] = (float)((state >> 4) & 0xffff) / 65536.0f - 0.5f;
        o->a_half[i] = fq_f16_from_f32(o->a[i]);
    }
    return true;
}

static void operands_free(operands *o)
{
    fq_free_aligned(o->a);
    fq_free_aligned(o->w);
    fq_free_aligned(o->c);
    fq_free_aligned(o->a_half);
    fq_free_aligned(o->c_half);
}

typedef struct f16w_job {
    const fq_f16w_f32_gemm_kernel *kernel;
    const operands *o;
    const uint16_t *packed;
} f16w_job;

static double run_f16w(void *ctx)
{
    const f16w_job *job = ctx;
    fq_f16w_f32_minmax none = {-3.4e38f, 3.4e38f};
    fq_f16w_f32_gemm_run(job->kernel, SIZE, SIZE, SIZE, job->o->a, SIZE, job->packed,
                         job->o->c, SIZE, &none);
    return gemm_flops;
}

typedef struct f16_job {
    const fq_f16_gemm_kernel *kernel;
    const operands *o;
    const uint16_t *packed;
} f16_job;

static double run_f16(void *ctx)
{
    const f16_job *job = ctx;
    fq_f16_minmax none = {0xfc00u, 0x7c00u};
    fq_f16_gemm_run(job->kernel, SIZE, SIZE, SIZE, job->o->a_half, SIZE, job->packed,
                    job->o->c_half, SIZE, &none);
    return gemm_flops;
}

typedef struct f32_job {
    const fq_f32_gemm_kernel *kernel;
    const fq_f32_gemm_packed *packed;
    const operands *o;
    void *workspace;
} f32_job;

static double run_f32(void *ctx)
{
    const f32_job *job = ctx;
    fq_f32_gemm_input x = {job->o->a, SIZE, NULL, NULL};
    fq_epilogue_f32 none = {FQ_EPILOGUE_F32_NONE, 0.0f, 0.0f, NULL, 0};
    fq_f32_gemm_run(job->kernel, job->packed, SIZE, &x, job->o->c, SIZE, &none, job->workspace,
                    NULL);
    return gemm_flops;
}

static void report(const char *what, double rate, double peak)
{
    if (peak > 0.0)
        printf("%-44s %8.1f GFLOP/s  %5.1f%% of peak\n", what, rate * 1e-9, 100.0 * rate / peak);
    else
        printf("%-44s %8.1f GFLOP/s\n", what, rate * 1e-9);
}

static double peak_of(fq_isa isa, double avx512_peak, double avx2_peak)
{
    return isa == FQ_ISA_AVX512 ? avx512_peak : isa == FQ_ISA_AVX2 ? avx2_peak : 0.0;
}

static void bench_f16w(const operands *o, int runs, double avx512_peak, double avx2_peak)
{
    const fq_isa levels[] = {FQ_ISA_AVX512, FQ_ISA_AVX2, FQ_ISA_NEON};
    const fq_f16w_f32_gemm_kernel *last = NULL;

    for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
        const fq_f16w_f32_gemm_kernel *kernel = fq_f16w_f32_gemm_select(levels[l]);
        if (kernel == last || kernel->isa == FQ_ISA_SCALAR)
            continue;
        last = kernel;
        size_t count = fq_f16_gemm_packed_count(SIZE, SIZE, kernel->nr);
        uint16_t *packed = fq_malloc_aligned(count * sizeof(uint16_t));
        if (packed == NULL)
            return;
        fq_f16_gemm_pack(SIZE, SIZE, kernel->nr, o->w, SIZE, 1, NULL, packed);
        f16w_job job = {kernel, o, packed};
        report(kernel->name, measure(run_f16w, &job, runs),
               peak_of(kernel->isa, avx512_peak, avx2_peak));
        fq_free_aligned(packed);
    }
}

static void bench_f32(const operands *o, int runs, double avx512_peak, double avx2_peak)
{
    const fq_f32_gemm_kernel *kernel = fq_f32_gemm_select(FQ_ISA_AUTO);
    fq_f32_gemm_packed packed;
    fq_error err = {0};
    if (fq_f32_gemm_pack(kernel, SIZE, SIZE, o->w, SIZE, NULL, 1.0f, &packed, &err) != FQ_OK)
        return;
    void *workspace = malloc(fq_f32_gemm_workspace_size(kernel, 1));
    if (workspace != NULL) {
        f32_job job = {kernel, &packed, o, workspace};
        char label[96];
        snprintf(label, sizeof(label), "%s (fp32 weights)", kernel->name);
        report(label, measure(run_f32, &job, runs),
               peak_of(kernel->isa, avx512_peak, avx2_peak));
    }
    free(workspace);
    fq_f32_gemm_packed_free(&packed);
}

static void bench_f16(const operands *o, int runs)
{
    const fq_f16_gemm_kernel *kernel = fq_f16_gemm_select(FQ_ISA_AUTO);
    if (kernel == NULL) {
        printf("fp16-arithmetic GEMM: skipped, this CPU has neither AVX512-FP16 nor ARMv8.2 "
               "fp16\n");
        return;
    }
    double peak = 0.0;
#if defined(FQ_BENCH_F16_PEAK)
    if (kernel->isa == FQ_ISA_AVX512FP16) {
        peak = measure(peak_avx512fp16, NULL, runs);
        report("AVX512-FP16 FMA peak (vfmadd231ph)", peak, 0.0);
    }
#endif
    /* 64-byte aligned, as the conv plan's are: a panel row is one cache line. */
    size_t count = fq_f16_gemm_packed_count(SIZE, SIZE, kernel->nr);
    uint16_t *packed = fq_malloc_aligned(count * sizeof(uint16_t));
    if (packed == NULL)
        return;
    fq_f16_gemm_pack(SIZE, SIZE, kernel->nr, o->w, SIZE, 1, NULL, packed);
    f16_job job = {kernel, o, packed};
    report(kernel->name, measure(run_f16, &job, runs), peak);
    fq_free_aligned(packed);
}

int main(int argc, char **argv)
{
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: f16_gemm_bench [--runs N]\n");
            return 2;
        }
    }
    runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;

    printf("M = N = K = %d, single thread, median of %d runs; best ISA %s\n", SIZE, runs,
           fq_isa_name(fq_isa_best()));
    /* bench_peak.h's loops, timed like the GEMMs so the shares compare like with like. */
    double avx512_peak = 0.0, avx2_peak = 0.0;
#if defined(FQ_HAVE_ISA_AVX512)
    if (fq_isa_supported(FQ_ISA_AVX512)) {
        avx512_peak = measure(peak_avx512, NULL, runs);
        report("AVX-512 fp32 FMA peak", avx512_peak, 0.0);
    }
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_supported(FQ_ISA_AVX2)) {
        avx2_peak = measure(peak_avx2, NULL, runs);
        report("AVX2 fp32 FMA peak", avx2_peak, 0.0);
    }
#endif

    operands o;
    if (!operands_make(&o)) {
        fprintf(stderr, "f16_gemm_bench: out of memory\n");
        operands_free(&o);
        return 1;
    }
    bench_f16w(&o, runs, avx512_peak, avx2_peak);
    bench_f32(&o, runs, avx512_peak, avx2_peak);
    bench_f16(&o, runs);
    operands_free(&o);
    return 0;
}
