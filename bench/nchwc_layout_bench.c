/* What the channel-blocked layout gives yunet's large layers, one thread: the engine's NCHW
 * plans (f32_conv.h: the 1x1 "+blocks" driver and the depthwise 3x3 kernel) against the
 * NCHW16c kernels of f32_nchwc.h run over whole planes of the same layer, each round timing
 * both over the same six buffer pairs (78 MB or more: every layer reads and writes memory, as
 * layers run one at a time do), rounds interleaved, medians and minimums of ROUNDS. This is the
 * layout alone: a chain (f32_nchwc.h) also keeps the planes between its layers out of memory.
 * The outputs are compared after reordering; both sum in the same order, so they agree bit for
 * bit.
 *
 * Run: build/bench/nchwc_layout_bench (AVX-512 CPUs only). Figures: bench/README.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peak.h"
#include "f32_conv.h"
#include "f32_nchwc.h"
#include "facequant/alloc.h"

enum { BUFFERS = 6, ROUNDS = 9, BLOCK = 16 };

typedef struct layer {
    const char *what;
    int64_t in_channels, out_channels, side; /* out_channels 0: depthwise */
} layer;

static const layer layers[] = {
    {"1x1 64->64 @160x160", 64, 64, 160},
    {"1x1 16->64 @160x160", 16, 64, 160},
    {"dw 3x3 64 @160x160", 64, 0, 160},
};

/* Channel c, pixel p of NCHW planes, in the NCHW16c layout. */
static void to_blocked(const float *nchw, int64_t channels, int64_t pixels, float *blocked)
{
    for (int64_t c = 0; c < channels; c++)
        for (int64_t p = 0; p < pixels; p++)
            blocked[(c / BLOCK) * pixels * BLOCK + p * BLOCK + c % BLOCK] = nchw[c * pixels + p];
}

static fq_conv2d_f32_params params_of(const layer *l)
{
    bool dw = l->out_channels == 0;
    int64_t k = dw ? 3 : 1;
    fq_conv2d_f32_params p = {
        .batch = 1, .in_channels = l->in_channels, .in_h = l->side, .in_w = l->side,
        .out_channels = dw ? l->in_channels : l->out_channels, .out_h = l->side,
        .out_w = l->side, .kernel_h = k, .kernel_w = k, .stride_h = 1, .stride_w = 1,
        .dilation_h = 1, .dilation_w = 1, .pad_top = dw ? 1 : 0, .pad_left = dw ? 1 : 0,
        .groups = dw ? l->in_channels : 1, .act = {.kind = FQ_EPILOGUE_F32_RELU}};
    return p;
}

/* Weights (OIHW) and bias of a layer, and the same in the blocked loops' order. */
static void make_weights(const fq_conv2d_f32_params *p, float *w, float *bias, float *wb)
{
    bool dw = p->groups > 1;
    int64_t per = dw ? 9 : p->in_channels;
    for (int64_t i = 0; i < p->out_channels * per; i++)
        w[i] = sinf((float)i * 0.37f) * 0.2f;
    for (int64_t o = 0; o < p->out_channels; o++) {
        bias[o] = 0.01f * (float)(o % 7) - 0.02f;
        for (int64_t k = 0; k < per; k++)
            wb[((o / BLOCK) * per + k) * BLOCK + o % BLOCK] = w[o * per + k];
    }
}

/* The layer over whole NCHW16c planes with the chain kernels: the 1x1 over all pixels as one
 * run, the depthwise layer row by row. */
static void run_blocked(const fq_f32_nchwc_kernel *k, const fq_conv2d_f32_params *p,
                        const float *x, const float *wb, const float *bias, float *y)
{
    fq_f32_gemm_params relu = {.kind = FQ_EPILOGUE_F32_RELU};
    int64_t pixels = p->in_h * p->in_w;
    if (p->groups == 1) {
        fq_f32_nchwc_pw_args a = {.x = x, .x_block = BLOCK * pixels, .x_lane = 1,
                                  .x_pixel = BLOCK, .k = p->in_channels, .pixels = pixels,
                                  .out_blocks = p->out_channels / BLOCK, .w = wb, .bias = bias,
                                  .y = y, .y_block = BLOCK * pixels, .act = &relu};
        k->pw(&a);
        return;
    }
    for (int64_t b = 0; b < p->in_channels / BLOCK; b++) {
        const float *xb = x + b * pixels * BLOCK;
        for (int64_t oh = 0; oh < p->out_h; oh++) {
            const float *rows[3];
            for (int kh = 0; kh < 3; kh++) {
                int64_t ih = oh + kh - 1;
                rows[kh] = ih >= 0 && ih < p->in_h ? xb + ih * p->in_w * BLOCK : NULL;
            }
            k->dw_row(rows, p->in_w, wb + b * 9 * BLOCK, bias + b * BLOCK, &relu, NULL,
                      y + (b * pixels + oh * p->out_w) * BLOCK);
        }
    }
}

static int bench_layer(const layer *l, const fq_f32_nchwc_kernel *kernel)
{
    fq_conv2d_f32_params p = params_of(l);
    int64_t pixels = p.in_h * p.in_w, per = p.groups > 1 ? 9 : p.in_channels;
    size_t in_floats = (size_t)(p.in_channels * pixels), out_floats = (size_t)(p.out_channels *
                                                                               pixels);
    float *w = fq_malloc_aligned((size_t)(p.out_channels * per) * sizeof(float));
    float *wb = fq_malloc_aligned((size_t)(p.out_channels * per) * sizeof(float));
    float *bias = fq_malloc_aligned((size_t)p.out_channels * sizeof(float));
    float *x[BUFFERS], *xb[BUFFERS], *y[BUFFERS], *yb[BUFFERS];
    for (int i = 0; i < BUFFERS; i++) {
        x[i] = fq_malloc_aligned(in_floats * sizeof(float));
        xb[i] = fq_malloc_aligned(in_floats * sizeof(float));
        y[i] = fq_malloc_aligned(out_floats * sizeof(float));
        yb[i] = fq_malloc_aligned(out_floats * sizeof(float));
        if (x[i] == NULL || xb[i] == NULL || y[i] == NULL || yb[i] == NULL)
            return 1;
        for (size_t j = 0; j < in_floats; j++)
            x[i][j] = cosf((float)(j + (size_t)i) * 0.013f);
        to_blocked(x[i], p.in_channels, pixels, xb[i]);
    }
    make_weights(&p, w, bias, wb);
    fq_f32_conv_plan *plan = NULL;
    fq_error err = {0};
    if (fq_f32_conv_plan_create(&p, w, bias, FQ_ISA_AUTO, 1, &plan, &err) != FQ_OK) {
        fprintf(stderr, "nchwc_layout_bench: %s: %s\n", l->what, err.message);
        return 1;
    }
    void *workspace = fq_malloc_aligned(plan->workspace + 64);

    double nchw[ROUNDS], blocked[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double t = fq_bench_now();
        for (int i = 0; i < BUFFERS; i++)
            fq_f32_conv_run(plan, x[i], NULL, 0, y[i], workspace, NULL);
        nchw[r] = (fq_bench_now() - t) / BUFFERS;
        t = fq_bench_now();
        for (int i = 0; i < BUFFERS; i++)
            run_blocked(kernel, &p, xb[i], wb, bias, yb[i]);
        blocked[r] = (fq_bench_now() - t) / BUFFERS;
    }
    /* The first buffer's outputs, NCHW reordered, against the blocked ones. */
    float *check = fq_malloc_aligned(out_floats * sizeof(float));
    to_blocked(y[0], p.out_channels, pixels, check);
    size_t differ = 0;
    for (size_t j = 0; j < out_floats; j++)
        differ += check[j] != yb[0][j];

    double nchw_min = nchw[0], blocked_min = blocked[0];
    for (int r = 1; r < ROUNDS; r++) {
        nchw_min = nchw[r] < nchw_min ? nchw[r] : nchw_min;
        blocked_min = blocked[r] < blocked_min ? blocked[r] : blocked_min;
    }
    double nchw_med = fq_bench_median(nchw, ROUNDS), blocked_med = fq_bench_median(blocked,
                                                                                   ROUNDS);
    printf("  %-22s %-34s %7.3f %7.3f   %7.3f %7.3f   %5.2f   %zu\n", l->what, plan->name,
           nchw_med * 1e3, nchw_min * 1e3, blocked_med * 1e3, blocked_min * 1e3,
           blocked_med / nchw_med, differ);

    fq_free_aligned(check);
    fq_free_aligned(workspace);
    fq_f32_conv_plan_free(plan);
    for (int i = 0; i < BUFFERS; i++) {
        fq_free_aligned(x[i]);
        fq_free_aligned(xb[i]);
        fq_free_aligned(y[i]);
        fq_free_aligned(yb[i]);
    }
    fq_free_aligned(w);
    fq_free_aligned(wb);
    fq_free_aligned(bias);
    return differ != 0;
}

int main(void)
{
    const fq_f32_nchwc_kernel *kernel = fq_f32_nchwc_select(FQ_ISA_AUTO);
    if (kernel == NULL) {
        printf("nchwc_layout_bench: needs AVX-512; this CPU's best is %s\n",
               fq_isa_name(fq_isa_best()));
        return 0;
    }
    printf("NCHW plans against NCHW16c kernels, one thread, ms per layer (median, minimum of %d "
           "rounds over %d buffer pairs)\n", ROUNDS, BUFFERS);
    printf("  %-22s %-34s %15s   %15s   %5s   %s\n", "layer", "NCHW plan", "NCHW med min",
           "NCHW16c med min", "ratio", "differing");
    int failed = 0;
    for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++)
        failed |= bench_layer(&layers[i], kernel);
    return failed;
}
