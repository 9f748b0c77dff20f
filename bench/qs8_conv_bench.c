/* qs8 convolution driver benchmark (kernels/qs8_conv.h): SCRFD det_500m-like layers (and the
 * heaviest dense layers of det_2.5g) at a 640x640 input, NHWC, in GOP/s (2 ops per
 * multiply-add), on one and two threads. Each figure is the median of several runs, timed on
 * the monotonic clock (the pool's threads work in parallel, so CPU time of one thread would not
 * do) or, with --cpu-time and one thread, on the
 * calling thread's CPU clock, which a loaded machine disturbs less.
 *
 *   qs8_conv_bench [--runs N] [--threads T] [--isa NAME] [--dw KERNEL] [--cpu-time 1]
 *                  [--layer TEXT] [--stem KERNEL]
 *
 * --dw runs the depthwise layers on the named kernel of fq_qs8_dwconv3x3_kernels instead of
 * the selected one (all share one packed layout), to compare kernels in one process; --stem
 * does the same for the layers on the stem path (fq_qs8_stemconv_kernels); --layer
 * runs only the layers whose label contains TEXT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peak.h"
#include "facequant/alloc.h"
#include "qs8_conv.h"
#include "runtime/threadpool.h"

enum { MAX_RUNS = 31 };

/* Seconds a timed run lasts at least (it repeats the convolution until then). */
static const double min_run_seconds = 0.1;

typedef struct layer {
    const char *label;
    size_t in_channels, out_channels, size, kernel, stride, groups;
} layer;

static const layer layers[] = {
    {"stem 3x3 s2 3->16 @640", 3, 16, 640, 3, 2, 1},
    {"dw 3x3 s1 16 @320", 16, 16, 320, 3, 1, 16},
    {"1x1 16->32 @320", 16, 32, 320, 1, 1, 1},
    {"dw 3x3 s2 32 @320", 32, 32, 320, 3, 2, 32},
    {"1x1 32->64 @160", 32, 64, 160, 1, 1, 1},
    {"dw 3x3 s2 64 @80", 64, 64, 80, 3, 2, 64},
    {"1x1 64->128 @40", 64, 128, 40, 1, 1, 1},
    {"head 3x3 s1 64->64 @80", 64, 64, 80, 3, 1, 1},
    {"head 3x3 s1 64->64 @20", 64, 64, 20, 3, 1, 1},
    {"det_2.5g 3x3 s2 3->12 @640", 3, 12, 640, 3, 2, 1},
    {"det_2.5g 3x3 s1 12->12 @320", 12, 12, 320, 3, 1, 1},
    {"det_2.5g 3x3 s1 12->24 @320", 12, 24, 320, 3, 1, 1},
    {"det_2.5g 3x3 s1 24->24 @160", 24, 24, 160, 3, 1, 1},
    {"det_2.5g 3x3 s2 24->48 @160", 24, 48, 160, 3, 2, 1},
    {"det_2.5g 3x3 s1 48->48 @80", 48, 48, 80, 3, 1, 1},
    {"det_2.5g 3x3 s1 48->48 @40", 48, 48, 40, 3, 1, 1},
    {"det_2.5g 3x3 s1 80->80 @20", 80, 80, 20, 3, 1, 1},
    {"det_2.5g 3x3 s1 24->64 @80", 24, 64, 80, 3, 1, 1},
    {"det_2.5g head 3x3 64->2 @80", 64, 2, 80, 3, 1, 1},
    {"det_2.5g head 3x3 64->8 @80", 64, 8, 80, 3, 1, 1},
    {"det_2.5g head 3x3 64->20 @80", 64, 20, 80, 3, 1, 1},
};

static fq_qs8_conv_params layer_params(const layer *l)
{
    size_t pad = l->kernel / 2;
    size_t out = (l->size + 2 * pad - l->kernel) / l->stride + 1;
    fq_qs8_conv_params p = {
        .batch = 1, .in_channels = l->in_channels, .in_height = l->size, .in_width = l->size,
        .out_channels = l->out_channels, .out_height = out, .out_width = out,
        .kernel_h = l->kernel, .kernel_w = l->kernel, .stride_h = l->stride,
        .stride_w = l->stride, .dilation_h = 1, .dilation_w = 1, .pad_top = pad,
        .pad_left = pad, .groups = l->groups, .channels_last = true, .input_zero_point = 7};
    fq_qs8_requant_params_init(3, 3, 255, &p.requant, NULL);
    return p;
}

static double layer_ops(const fq_qs8_conv_params *p)
{
    return 2.0 * (double)(p->out_height * p->out_width * p->out_channels) *
           (double)(p->in_channels / p->groups * p->kernel_h * p->kernel_w);
}

typedef struct operands {
    uint8_t *x, *y, *workspace;
    int8_t *w;
    int32_t *bias;
    float *multiplier;
} operands;

static bool operands_make(const fq_qs8_conv_params *p, operands *o)
{
    size_t x_size = p->in_height * p->in_width * p->in_channels;
    size_t y_size = p->out_height * p->out_width * p->out_channels;
    size_t w_size = p->out_channels * p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    o->x = fq_malloc_aligned(x_size);
    o->y = fq_malloc_aligned(y_size);
    o->w = fq_malloc_aligned(w_size);
    o->bias = fq_malloc_aligned(p->out_channels * sizeof(int32_t));
    o->multiplier = fq_malloc_aligned(p->out_channels * sizeof(float));
    o->workspace = NULL;
    if (!o->x || !o->y || !o->w || !o->bias || !o->multiplier)
        return false;
    for (size_t i = 0; i < x_size; i++)
        o->x[i] = (uint8_t)(i * 37 + 11);
    for (size_t i = 0; i < w_size; i++)
        o->w[i] = (int8_t)((int)(i * 13 % 255) - 127);
    for (size_t j = 0; j < p->out_channels; j++) {
        o->bias[j] = (int32_t)(j * 101) - 2000;
        o->multiplier[j] = 1.0f / (float)(w_size / p->out_channels * 64 + 1);
    }
    return true;
}

static void operands_free(operands *o)
{
    fq_free_aligned(o->x);
    fq_free_aligned(o->y);
    fq_free_aligned(o->w);
    fq_free_aligned(o->bias);
    fq_free_aligned(o->multiplier);
    fq_free_aligned(o->workspace);
}

static const char *dw_override;
static const char *stem_override;
static const char *layer_filter;
static bool use_cpu_time;

/* The kernel named by --dw, or NULL. */
static const fq_qs8_dwconv_kernel *dw_kernel(void)
{
    int count;
    const fq_qs8_dwconv_kernel *all = fq_qs8_dwconv3x3_kernels(&count);
    for (int i = 0; dw_override != NULL && i < count; i++)
        if (strcmp(all[i].name, dw_override) == 0)
            return &all[i];
    return NULL;
}

/* The kernel named by --stem, or NULL. */
static const fq_qs8_stemconv_kernel *stem_kernel(void)
{
    int count;
    const fq_qs8_stemconv_kernel *all = fq_qs8_stemconv_kernels(&count);
    for (int i = 0; stem_override != NULL && i < count; i++)
        if (strcmp(all[i].name, stem_override) == 0)
            return &all[i];
    return NULL;
}

/* Median GOP/s of `runs` timed runs. */
static double measure(const fq_qs8_conv_plan *plan, const operands *o, fq_threadpool *pool,
                      int runs)
{
    double rates[MAX_RUNS];
    double ops = layer_ops(&plan->p);
    double (*now)(void) = use_cpu_time ? fq_bench_thread_seconds : fq_bench_now;
    fq_qs8_conv_run(plan, o->x, o->y, o->workspace, pool);
    for (int r = 0; r < runs; r++) {
        long reps = 0;
        double t0 = now(), elapsed;
        do {
            fq_qs8_conv_run(plan, o->x, o->y, o->workspace, pool);
            reps++;
            elapsed = now() - t0;
        } while (elapsed < min_run_seconds);
        rates[r] = ops * (double)reps / elapsed * 1e-9;
    }
    return fq_bench_median(rates, runs);
}

static int bench_layer(const layer *l, fq_isa cap, int threads, fq_threadpool *pool, int runs)
{
    fq_qs8_conv_params p = layer_params(l);
    operands o;
    fq_qs8_conv_plan *plan = NULL;
    fq_error err = {0};
    if (!operands_make(&p, &o) ||
        fq_qs8_conv_plan_create(&p, o.w, o.bias, o.multiplier, cap, threads, &plan, &err) !=
            FQ_OK ||
        (o.workspace = fq_malloc_aligned(plan->workspace > 0 ? plan->workspace : 1)) == NULL) {
        fprintf(stderr, "qs8_conv_bench: %s: %s\n", l->label,
                err.message[0] ? err.message : "out of memory");
        fq_qs8_conv_plan_free(plan);
        operands_free(&o);
        return 1;
    }
    if (plan->path == FQ_QS8_CONV_DWCONV3X3 && dw_kernel() != NULL) {
        plan->dw = dw_kernel();
        snprintf(plan->name, sizeof(plan->name), "%s", plan->dw->name);
    }
    if (plan->path == FQ_QS8_CONV_STEM && stem_kernel() != NULL) {
        plan->stem = stem_kernel();
        snprintf(plan->name, sizeof(plan->name), "%s", plan->stem->name);
    }
    double gops = measure(plan, &o, pool, runs);
    printf("%-28s %-40s %2d thread%s %8.1f GOP/s\n", l->label, plan->name, threads,
           threads == 1 ? " " : "s", gops);
    fq_qs8_conv_plan_free(plan);
    operands_free(&o);
    return 0;
}

static int parse_args(int argc, char **argv, int *runs, int *threads, fq_isa *cap)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--runs") == 0)
            *runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            *threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--isa") == 0 && fq_isa_parse(argv[i + 1], cap, NULL) == FQ_OK)
            continue;
        else if (strcmp(argv[i], "--dw") == 0)
            dw_override = argv[i + 1];
        else if (strcmp(argv[i], "--stem") == 0)
            stem_override = argv[i + 1];
        else if (strcmp(argv[i], "--layer") == 0)
            layer_filter = argv[i + 1];
        else if (strcmp(argv[i], "--cpu-time") == 0)
            use_cpu_time = atoi(argv[i + 1]) != 0;
        else
            return 1;
    }
    if (argc % 2 == 0 || *runs < 1 || *runs > MAX_RUNS || *threads < 1)
        return 1;
    if (use_cpu_time && *threads != 1)
        return 1;
    if (dw_override != NULL && dw_kernel() == NULL) {
        fprintf(stderr, "qs8_conv_bench: no depthwise kernel is named %s\n", dw_override);
        return 1;
    }
    if (stem_override != NULL && stem_kernel() == NULL) {
        fprintf(stderr, "qs8_conv_bench: no stem kernel is named %s\n", stem_override);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 5, max_threads = 2;
    fq_isa cap = FQ_ISA_AUTO;
    if (parse_args(argc, argv, &runs, &max_threads, &cap) != 0) {
        fprintf(stderr, "usage: qs8_conv_bench [--runs 1..%d] [--threads T] [--isa NAME] "
                "[--dw KERNEL] [--cpu-time 1] [--layer TEXT] [--stem KERNEL]\n",
                MAX_RUNS);
        return 2;
    }
    int failed = 0;
    for (int threads = 1; threads <= max_threads; threads++) {
        fq_threadpool *pool = NULL;
        if (fq_threadpool_create(threads, &pool, NULL) != FQ_OK)
            return 1;
        for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++)
            if (layer_filter == NULL || strstr(layers[i].label, layer_filter) != NULL)
                failed |= bench_layer(&layers[i], cap, threads, pool, runs);
        fq_threadpool_free(pool);
    }
    return failed;
}
