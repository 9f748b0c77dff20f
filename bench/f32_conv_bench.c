/* fp32 convolution benchmark: 3x3, 1x1 and depthwise layers of the shared detectors under each
 * ISA cap this CPU has, single thread, GFLOP/s and share of that ISA's measured peak (medians
 * of 5). */
#include <stdio.h>
#include <stdlib.h>

#include "bench_peak.h"
#include "f32_conv.h"
#include "facequant/alloc.h"

typedef struct layer {
    const char *what;
    int64_t cin, cout, size, kernel, stride, groups;
} layer;

static const layer layers[] = {
    {"3x3 64->64 @80x80", 64, 64, 80, 3, 1, 1},
    {"3x3 48->48 @80x80", 48, 48, 80, 3, 1, 1},
    {"3x3 24->24 @160x160", 24, 24, 160, 3, 1, 1},
    {"3x3 12->24 @320x320", 12, 24, 320, 3, 1, 1},
    {"3x3 12->12 @320x320", 12, 12, 320, 3, 1, 1},
    {"3x3 64->20 @40x40", 64, 20, 40, 3, 1, 1},
    {"3x3 80->80 @20x20", 80, 80, 20, 3, 1, 1},
    {"3x3 16->16 @80x80", 16, 16, 80, 3, 1, 1},
    {"3x3 s2 3->12 @640x640", 3, 12, 640, 3, 2, 1},
    {"3x3 s2 3->16 @640x640", 3, 16, 640, 3, 2, 1},
    {"1x1 72->72 @80x80", 72, 72, 80, 1, 1, 1},
    {"1x1 16->40 @160x160", 16, 40, 160, 1, 1, 1},
    {"dw 3x3 72 @80x80", 72, 72, 80, 3, 1, 72},
    {"dw 3x3 s2 40 @160x160", 40, 40, 160, 3, 2, 40},
    {"1x1 16->16 @320x320", 16, 16, 320, 1, 1, 1},
    {"1x1 40->40 @160x160", 40, 40, 160, 1, 1, 1},
    {"1x1 64->64 @160x160", 64, 64, 160, 1, 1, 1},
    {"1x1 16->64 @160x160", 16, 64, 160, 1, 1, 1},
    {"dw 3x3 16 @320x320", 16, 16, 320, 3, 1, 16},
    {"dw 3x3 s2 16 @320x320", 16, 16, 320, 3, 2, 16},
};

static fq_conv2d_f32_params params_of(const layer *l)
{
    int64_t pad = l->kernel / 2;
    int64_t out = (l->size + 2 * pad - l->kernel) / l->stride + 1;
    return (fq_conv2d_f32_params){
        .batch = 1, .in_channels = l->cin, .in_h = l->size, .in_w = l->size,
        .out_channels = l->cout, .out_h = out, .out_w = out, .kernel_h = l->kernel,
        .kernel_w = l->kernel, .stride_h = l->stride, .stride_w = l->stride, .dilation_h = 1,
        .dilation_w = 1, .pad_top = pad, .pad_left = pad, .groups = l->groups,
        .act = {.kind = FQ_EPILOGUE_F32_RELU}};
}

static float *random_floats(int64_t n)
{
    float *v = fq_malloc_aligned((size_t)n * sizeof(float));
    for (int64_t i = 0; v != NULL && i < n; i++)
        v[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return v;
}

static double gflops(const layer *l, fq_isa cap, const char **name)
{
    fq_conv2d_f32_params p = params_of(l);
    int64_t nw = p.out_channels * (p.in_channels / p.groups) * p.kernel_h * p.kernel_w;
    float *x = random_floats(p.in_channels * p.in_h * p.in_w), *w = random_floats(nw);
    float *y = random_floats(p.out_channels * p.out_h * p.out_w);
    double flops = 2.0 * (double)(nw * p.out_h * p.out_w);
    fq_f32_conv_plan *plan = NULL;
    fq_error err = {0};
    double rate = 0.0;
    static char kernel[64];
    if (x != NULL && w != NULL && y != NULL &&
        fq_f32_conv_plan_create(&p, w, NULL, cap, 1, &plan, &err) == FQ_OK) {
        void *ws = fq_malloc_aligned(plan->workspace + 64);
        double rates[5];
        fq_f32_conv_run(plan, x, NULL, 0, y, ws, NULL);
        for (int r = 0; r < 5; r++) {
            double t0 = fq_bench_now();
            fq_f32_conv_run(plan, x, NULL, 0, y, ws, NULL);
            rates[r] = flops / (fq_bench_now() - t0) * 1e-9;
        }
        rate = fq_bench_median(rates, 5);
        snprintf(kernel, sizeof(kernel), "%s", plan->name);
        fq_free_aligned(ws);
        fq_f32_conv_plan_free(plan);
    }
    *name = kernel;
    fq_free_aligned(x), fq_free_aligned(w), fq_free_aligned(y);
    return rate;
}

int main(void)
{
    static const fq_isa caps[] = {FQ_ISA_AVX512, FQ_ISA_AVX2, FQ_ISA_SSE41};
    printf("fp32 convolution, one thread, GFLOP/s (2 per multiply-add), medians of 5\n");
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        if (!fq_isa_supported(caps[c])) {
            printf("\n%s: skipped, this CPU lacks it\n", fq_isa_name(caps[c]));
            continue;
        }
        double peak = fq_bench_peak_gflops(caps[c]);
        printf("\ncap %s (peak %.1f GFLOP/s)\n", fq_isa_name(caps[c]), peak);
        for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
            const char *name;
            double rate = gflops(&layers[i], caps[c], &name);
            printf("  %-24s %-34s %7.1f GFLOP/s  %5.1f%% of peak\n", layers[i].what, name, rate,
                   peak > 0.0 ? 100.0 * rate / peak : 0.0);
        }
    }
    return 0;
}
