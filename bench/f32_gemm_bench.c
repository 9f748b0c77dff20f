/* fp32 GEMM benchmark: for each kernel whose ISA this CPU has, GFLOP/s on square and model-layer
 * shapes, single thread, and the share of that ISA's multiply-add peak measured beside each
 * sample (medians). Each product runs as a caller of fq_f32_gemm_run would run it, with scratch
 * for X's panels where the driver packs them ahead (fq_f32_gemm_x_panels_floats), unless
 * --copy-x-per-range leaves them out (the driver then copies X's panels once per range).
 *
 *   f32_gemm_bench [--runs N] [--kernel SUBSTRING] [--copy-x-per-range]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peak.h"
#include "f32_gemm.h"
#include "facequant/alloc.h"

enum { MAX_SAMPLES = 31 };

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

static bool copy_x_per_range;

/* Runs one sample lasts at least, in thread CPU time. */
static const double min_sample_seconds = 0.1;

/* A kernel's rate on one shape and its share of the ISA's peak: medians over samples, each
 * timed right after a short run of the peak loop. */
typedef struct rate {
    double gflops;
    double share;
    double best; /* the fastest sample's GFLOP/s: the machine's speed with no co-tenant */
} rate;

static rate measure(const fq_f32_gemm_kernel *kernel, const shape *s, int samples)
{
    rate result = {0.0, 0.0, 0.0};
    float *w = random_floats(s->m * s->k), *x = random_floats(s->k * s->n);
    float *y = random_floats(s->m * s->n);
    void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(kernel, 1));
    fq_f32_gemm_packed packed;
    fq_error err = {0};
    if (w != NULL && x != NULL && y != NULL && ws != NULL &&
        fq_f32_gemm_pack(kernel, s->m, s->k, w, s->k, NULL, 1.0f, &packed, &err) == FQ_OK) {
        size_t panel_floats = fq_f32_gemm_x_panels_floats(kernel, &packed, s->n, s->n);
        float *panels = panel_floats > 0 && !copy_x_per_range
                            ? fq_malloc_aligned(panel_floats * sizeof(float))
                            : NULL;
        fq_f32_gemm_input in = {.x = x, .x_stride = s->n, .panels = panels};
        fq_epilogue_f32 act = {.kind = FQ_EPILOGUE_F32_NONE};
        double flops = 2.0 * (double)s->m * (double)s->n * (double)s->k;
        double rates[MAX_SAMPLES], shares[MAX_SAMPLES];
        fq_f32_gemm_run(kernel, &packed, s->n, &in, y, s->n, &act, ws, NULL);
        for (int r = 0; r < samples; r++) {
            double peak = fq_bench_peak_probe(kernel->isa);
            int reps = 0;
            double t0 = fq_bench_thread_seconds(), t;
            do {
                fq_f32_gemm_run(kernel, &packed, s->n, &in, y, s->n, &act, ws, NULL);
                reps++;
                t = fq_bench_thread_seconds() - t0;
            } while (t < min_sample_seconds);
            rates[r] = flops * reps / t * 1e-9;
            shares[r] = peak > 0.0 ? rates[r] / peak : 0.0;
        }
        result.gflops = fq_bench_median(rates, samples);
        result.best = rates[samples - 1]; /* sorted by fq_bench_median */
        result.share = fq_bench_median(shares, samples);
        fq_free_aligned(panels);
        fq_f32_gemm_packed_free(&packed);
    }
    fq_free_aligned(w), fq_free_aligned(x), fq_free_aligned(y), fq_free_aligned(ws);
    return result;
}

int main(int argc, char **argv)
{
    int samples = 7;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            samples = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--copy-x-per-range") == 0) {
            copy_x_per_range = true;
        } else {
            fprintf(stderr, "usage: f32_gemm_bench [--runs N (1..%d)] [--kernel SUBSTRING] "
                    "[--copy-x-per-range]\n",
                    MAX_SAMPLES);
            return 2;
        }
    }
    if (samples < 1 || samples > MAX_SAMPLES) {
        fprintf(stderr, "f32_gemm_bench: --runs takes 1 to %d\n", MAX_SAMPLES);
        return 2;
    }
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    printf("fp32 GEMM, one thread, GFLOP/s (2 per multiply-add), medians of %d samples of at "
           "least %.1f s of thread CPU time, each beside a run of its ISA's peak loop\n",
           samples, min_sample_seconds);
    for (int i = 0; i < count; i++) {
        if (only != NULL && strstr(all[i]->name, only) == NULL)
            continue;
        if (!fq_isa_supported(all[i]->isa)) {
            printf("\n%s: skipped, this CPU lacks %s\n", all[i]->name,
                   fq_isa_name(all[i]->isa));
            continue;
        }
        double peak = fq_bench_peak_gflops(all[i]->isa);
        printf("\n%s (peak of %s multiply-add loop: %.1f GFLOP/s)\n", all[i]->name,
               fq_isa_name(all[i]->isa), peak);
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            rate r = measure(all[i], &shapes[s], samples);
            printf("  %-40s m %5lld n %6lld k %5lld  %7.1f GFLOP/s", shapes[s].what,
                   (long long)shapes[s].m, (long long)shapes[s].n, (long long)shapes[s].k,
                   r.gflops);
            if (r.share > 0.0)
                printf("  %5.1f%% of peak", 100.0 * r.share);
            printf("  (best %.1f)", r.best);
            printf("\n");
        }
    }
    return 0;
}
