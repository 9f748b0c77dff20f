/* fp32 GEMM benchmark: for each kernel whose ISA this CPU has, GFLOP/s on square and model-layer
 * shapes, single thread, against that ISA's measured multiply-add peak (medians of 5). */
#include <stdio.h>
#include <stdlib.h>

#include "bench_peak.h"
#include "f32_gemm.h"
#include "facequant/alloc.h"

typedef struct shape {
    const char *what;
    int64_t m, n, k;
} shape;

static const shape shapes[] = {
    {"square 512", 512, 512, 512},
    {"square 1024", 1024, 1024, 1024},
    {"det_2.5g 3x3 64->64 @80x80 (im2col)", 64, 6400, 576},
    {"det_2.5g 3x3 12->24 @320x320 (im2col)", 24, 102400, 108},
    {"det_2.5g 3x3 48->48 @80x80 (im2col)", 48, 6400, 432},
    {"det_500m 1x1 72->72 @80x80", 72, 6400, 72},
    {"det_500m 1x1 288->288 @20x20", 288, 400, 288},
};

static float *random_floats(int64_t n)
{
    float *v = fq_malloc_aligned((size_t)n * sizeof(float));
    for (int64_t i = 0; v != NULL && i < n; i++)
        v[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return v;
}

static double gflops(const fq_f32_gemm_kernel *kernel, const shape *s)
{
    float *w = random_floats(s->m * s->k), *x = random_floats(s->k * s->n);
    float *y = random_floats(s->m * s->n);
    void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(kernel, 1));
    fq_f32_gemm_packed packed;
    fq_error err = {0};
    double rate = 0.0;
    if (w != NULL && x != NULL && y != NULL && ws != NULL &&
        fq_f32_gemm_pack(kernel, s->m, s->k, w, s->k, NULL, 1.0f, &packed, &err) == FQ_OK) {
        fq_f32_gemm_input in = {.x = x, .x_stride = s->n};
        fq_epilogue_f32 act = {.kind = FQ_EPILOGUE_F32_NONE};
        double rates[5];
        fq_f32_gemm_run(kernel, &packed, s->n, &in, y, s->n, &act, ws, NULL);
        for (int r = 0; r < 5; r++) {
            double t0 = fq_bench_now();
            fq_f32_gemm_run(kernel, &packed, s->n, &in, y, s->n, &act, ws, NULL);
            rates[r] = 2.0 * (double)s->m * (double)s->n * (double)s->k /
                       (fq_bench_now() - t0) * 1e-9;
        }
        rate = fq_bench_median(rates, 5);
        fq_f32_gemm_packed_free(&packed);
    }
    fq_free_aligned(w), fq_free_aligned(x), fq_free_aligned(y), fq_free_aligned(ws);
    return rate;
}

int main(void)
{
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    printf("fp32 GEMM, one thread, GFLOP/s (2 per multiply-add), medians of 5\n");
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(all[i]->isa)) {
            printf("\n%s: skipped, this CPU lacks %s\n", all[i]->name,
                   fq_isa_name(all[i]->isa));
            continue;
        }
        double peak = fq_bench_peak_gflops(all[i]->isa);
        printf("\n%s (peak of %s multiply-add loop: %.1f GFLOP/s)\n", all[i]->name,
               fq_isa_name(all[i]->isa), peak);
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            double rate = gflops(all[i], &shapes[s]);
            printf("  %-40s m %5lld n %6lld k %5lld  %7.1f GFLOP/s", shapes[s].what,
                   (long long)shapes[s].m, (long long)shapes[s].n, (long long)shapes[s].k, rate);
            if (peak > 0.0)
                printf("  %5.1f%% of peak", 100.0 * rate / peak);
            printf("\n");
        }
    }
    return 0;
}
