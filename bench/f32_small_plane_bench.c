/* fp32 layers of small planes (MobileFaceNet at 112x112: 56x56 down to 1x1), one thread:
 * microseconds per pointwise layer through the GEMM driver (X read in place) and through the
 * pointwise block driver, with the kernel fq_f32_gemm_select_rows picks for the best ISA; its
 * depthwise 3x3 layers, every plane through the selected kernel; and the global depthwise
 * layer (512 planes of 7x7 to 1x1) through the reference convolution of one plane and
 * through the global kernel. An argument names a lower ISA cap ("avx2").
 * Each figure is the median of 15 samples of 20 calls; `fq_bench` figures on a shared machine
 * vary by several percent, so compare builds side by side. */
#include <stdio.h>
#include <stdlib.h>

#include "bench_peak.h"
#include "f32_dwconv.h"
#include "f32_gemm.h"
#include "f32_pointwise.h"
#include "facequant/alloc.h"
#include "ref/f32_conv2d_ref.h"

enum { SAMPLES = 15, CALLS = 20 };

typedef struct layer {
    const char *what;
    int64_t m, k, pixels;
} layer;

static const layer layers[] = {
    {"56x56 64->64", 64, 64, 56 * 56},     {"56x56 64->128", 128, 64, 56 * 56},
    {"28x28 128->64", 64, 128, 28 * 28},   {"28x28 64->128", 128, 64, 28 * 28},
    {"28x28 64->256", 256, 64, 28 * 28},   {"14x14 256->128", 128, 256, 14 * 14},
    {"14x14 128->256", 256, 128, 14 * 14}, {"14x14 128->512", 512, 128, 14 * 14},
    {"7x7 512->128", 128, 512, 7 * 7},     {"7x7 128->256", 256, 128, 7 * 7},
    {"7x7 256->128", 128, 256, 7 * 7},     {"7x7 128->512", 512, 128, 7 * 7},
    {"1x1 512->128", 128, 512, 1},
};

static float *random_floats(int64_t n)
{
    float *v = fq_malloc_aligned((size_t)n * sizeof(float));
    for (int64_t i = 0; v != NULL && i < n; i++)
        v[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return v;
}

typedef struct operands {
    const fq_f32_gemm_kernel *kernel;
    fq_f32_gemm_packed packed;
    float *x, *y;
    void *workspace;
    int64_t pixels;
} operands;

static void run_gemm(const operands *o)
{
    fq_f32_gemm_input in = {.x = o->x, .x_stride = o->pixels};
    fq_epilogue_f32 act = {.kind = FQ_EPILOGUE_F32_NONE};
    fq_f32_gemm_run(o->kernel, &o->packed, o->pixels, &in, o->y, o->pixels, &act, o->workspace,
                    NULL);
}

static void run_blocks(const operands *o)
{
    fq_epilogue_f32 act = {.kind = FQ_EPILOGUE_F32_NONE};
    fq_f32_pointwise_run(o->kernel, &o->packed, o->pixels, o->x, o->y, &act, o->workspace, 1,
                         NULL);
}

/* Median microseconds per call of fn. */
static double time_calls(void (*fn)(const operands *), const operands *o)
{
    double samples[SAMPLES];
    fn(o);
    for (int s = 0; s < SAMPLES; s++) {
        double t0 = fq_bench_now();
        for (int c = 0; c < CALLS; c++)
            fn(o);
        samples[s] = (fq_bench_now() - t0) * 1e6 / CALLS;
    }
    return fq_bench_median(samples, SAMPLES);
}

static void bench_layer(const layer *l, fq_isa cap)
{
    operands o = {.kernel = fq_f32_gemm_select_rows(cap, l->m), .pixels = l->pixels};
    float *w = random_floats(l->m * l->k);
    o.x = random_floats(l->k * l->pixels);
    o.y = random_floats(l->m * l->pixels);
    size_t gemm_ws = fq_f32_gemm_workspace_size(o.kernel, 1);
    size_t block_ws = fq_f32_pointwise_workspace_size(o.kernel, l->k, 1);
    o.workspace = fq_malloc_aligned(gemm_ws > block_ws ? gemm_ws : block_ws);
    fq_error err = {0};
    if (w == NULL || o.x == NULL || o.y == NULL || o.workspace == NULL ||
        fq_f32_gemm_pack(o.kernel, l->m, l->k, w, l->k, NULL, 1.0f, &o.packed, &err) != FQ_OK) {
        printf("  %-16s cannot allocate its operands\n", l->what);
    } else {
        double gemm = time_calls(run_gemm, &o), blocks = time_calls(run_blocks, &o);
        double flop = 2.0 * (double)l->m * (double)l->k * (double)l->pixels;
        printf("  %-16s %-24s gemm %8.2f us %6.1f GFLOP/s   blocks %8.2f us %6.1f GFLOP/s\n",
               l->what, o.kernel->name, gemm, flop / gemm * 1e-3, blocks, flop / blocks * 1e-3);
        fq_f32_gemm_packed_free(&o.packed);
    }
    fq_free_aligned(w), fq_free_aligned(o.x), fq_free_aligned(o.y);
    fq_free_aligned(o.workspace);
}

enum { GDCONV_CHANNELS = 512, GDCONV_SIDE = 7 };

typedef struct gdconv {
    const fq_f32_dwconv_kernel *kernel;
    float *x, *w, *y;
} gdconv;

/* Every plane as the convolution plan's reference path runs it: one channel's parameters. */
static void gdconv_reference(const gdconv *d)
{
    fq_conv2d_f32_params p = {.batch = 1, .in_channels = 1, .in_h = GDCONV_SIDE,
                              .in_w = GDCONV_SIDE, .out_channels = 1, .out_h = 1, .out_w = 1,
                              .kernel_h = GDCONV_SIDE, .kernel_w = GDCONV_SIDE, .stride_h = 1,
                              .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .groups = 1};
    int64_t taps = GDCONV_SIDE * GDCONV_SIDE;
    float bias = 0.0f;
    for (int64_t c = 0; c < GDCONV_CHANNELS; c++)
        fq_ref_conv2d_f32(&p, d->x + c * taps, d->w + c * taps, &bias, d->y + c, NULL);
}

static void gdconv_kernel(const gdconv *d)
{
    fq_f32_dwconv_geometry g = {GDCONV_SIDE, GDCONV_SIDE, 1, 1, 0, 0};
    fq_f32_gemm_params params = {.kind = FQ_EPILOGUE_F32_NONE};
    int64_t taps = GDCONV_SIDE * GDCONV_SIDE;
    for (int64_t c = 0; c < GDCONV_CHANNELS; c++)
        d->kernel->ukernel(&g, d->x + c * taps, d->w + c * taps, 0.0f, d->y + c, &params);
}

static double time_gdconv(void (*fn)(const gdconv *), const gdconv *d)
{
    double samples[SAMPLES];
    fn(d);
    for (int s = 0; s < SAMPLES; s++) {
        double t0 = fq_bench_now();
        for (int c = 0; c < CALLS; c++)
            fn(d);
        samples[s] = (fq_bench_now() - t0) * 1e6 / CALLS;
    }
    return fq_bench_median(samples, SAMPLES);
}

static void bench_gdconv(fq_isa cap)
{
    int64_t floats = GDCONV_CHANNELS * GDCONV_SIDE * GDCONV_SIDE;
    gdconv d = {fq_f32_dwconv_select_global(cap), random_floats(floats),
                random_floats(floats), random_floats(GDCONV_CHANNELS)};
    if (d.kernel != NULL && d.x != NULL && d.w != NULL && d.y != NULL)
        printf("  GDConv 512x7x7->1x1: reference %.2f us, %s %.2f us\n",
               time_gdconv(gdconv_reference, &d), d.kernel->name, time_gdconv(gdconv_kernel, &d));
    fq_free_aligned(d.x), fq_free_aligned(d.w), fq_free_aligned(d.y);
}

/* MobileFaceNet's depthwise 3x3 layers (pads 1). */
typedef struct dw_layer {
    const char *what;
    int64_t channels, side, stride;
} dw_layer;

static const dw_layer dw_layers[] = {
    {"dw 128 @28x28", 128, 28, 1},   {"dw 256 @28x28 s2", 256, 28, 2},
    {"dw 256 @14x14", 256, 14, 1},   {"dw 512 @14x14 s2", 512, 14, 2},
    {"dw 256 @7x7", 256, 7, 1},
};

typedef struct dw_operands {
    const fq_f32_dwconv_kernel *kernel;
    fq_f32_dwconv_geometry g;
    int64_t channels;
    float *x, *w, *y;
} dw_operands;

static void run_dw(const dw_operands *d)
{
    fq_f32_gemm_params params = {.kind = FQ_EPILOGUE_F32_NONE};
    int64_t in = d->g.in_h * d->g.in_w, out = d->g.out_h * d->g.out_w;
    for (int64_t c = 0; c < d->channels; c++)
        d->kernel->ukernel(&d->g, d->x + c * in, d->w + c * 9, 0.0f, d->y + c * out, &params);
}

static void bench_dw(const dw_layer *l, fq_isa cap)
{
    int64_t out_side = (l->side + 2 - 3) / l->stride + 1;
    dw_operands d = {fq_f32_dwconv_select(cap, (int)l->stride),
                     {l->side, l->side, out_side, out_side, 1, 1}, l->channels,
                     random_floats(l->channels * l->side * l->side),
                     random_floats(l->channels * 9),
                     random_floats(l->channels * out_side * out_side)};
    if (d.kernel != NULL && d.x != NULL && d.w != NULL && d.y != NULL) {
        double samples[SAMPLES];
        run_dw(&d);
        for (int s = 0; s < SAMPLES; s++) {
            double t0 = fq_bench_now();
            for (int c = 0; c < CALLS; c++)
                run_dw(&d);
            samples[s] = (fq_bench_now() - t0) * 1e6 / CALLS;
        }
        double us = fq_bench_median(samples, SAMPLES);
        double flop = 18.0 * (double)(l->channels * out_side * out_side);
        printf("  %-16s %-24s %8.2f us %6.1f GFLOP/s\n", l->what, d.kernel->name, us,
               flop / us * 1e-3);
    }
    fq_free_aligned(d.x), fq_free_aligned(d.w), fq_free_aligned(d.y);
}

int main(int argc, char **argv)
{
    fq_isa cap = fq_isa_best();
    fq_error err = {0};
    if (argc > 1 && fq_isa_parse(argv[1], &cap, &err) != FQ_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    printf("fp32 layers of small planes, one thread, %s, medians of %d x %d calls\n",
           fq_isa_name(cap), SAMPLES, CALLS);
    for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++)
        bench_layer(&layers[i], cap);
    for (size_t i = 0; i < sizeof(dw_layers) / sizeof(dw_layers[0]); i++)
        bench_dw(&dw_layers[i], cap);
    bench_gdconv(cap);
    return 0;
}
