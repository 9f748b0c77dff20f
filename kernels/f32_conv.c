/* fp32 convolution plans: pointwise GEMM, im2col GEMM with panels built in the workspace,
 * depthwise planes, and offset-table GEMM over padded planes (taps; see f32_conv.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "f32_conv.h"
#include "f32_pointwise.h"
#include "facequant/alloc.h"
#include "ref/tensor_cast_ref.h"
#include "runtime/threadpool.h"

/* The constant operands a plan is made from: OIHW weights in fp32 or fp16 (exactly one of f32
 * and f16 set) and an optional fp32 bias. */
typedef struct conv_weights {
    const float *f32;
    const uint16_t *f16;
    const float *bias;
} conv_weights;

static bool is_depthwise(const fq_conv2d_f32_params *p)
{
    return p->groups == p->in_channels && p->groups == p->out_channels;
}

static bool is_pointwise(const fq_conv2d_f32_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w;
}

static const fq_f32_dwconv_kernel *depthwise_kernel(const fq_conv2d_f32_params *p, fq_isa cap)
{
    if (fq_f32_dwconv_is_global(p))
        return fq_f32_dwconv_select_global(cap);
    if (p->kernel_h != 3 || p->kernel_w != 3 || p->dilation_h != 1 || p->dilation_w != 1 ||
        p->stride_h != p->stride_w || (p->stride_h != 1 && p->stride_h != 2))
        return NULL;
    return fq_f32_dwconv_select(cap, (int)p->stride_h);
}

/* Depthwise weights are few (9 per channel for 3x3), so fp16 ones are widened to fp32 here and
 * the fp32 depthwise kernels run unchanged. */
static fq_status plan_depthwise(fq_f32_conv_plan *plan, const conv_weights *cw, fq_isa cap,
                                fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t taps = p->kernel_h * p->kernel_w;
    plan->path = FQ_F32_CONV_DEPTHWISE;
    plan->dw = depthwise_kernel(p, cap);
    plan->dw_weights = fq_malloc_aligned((size_t)(p->out_channels * (taps + 1)) * sizeof(float));
    if (plan->dw_weights == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate depthwise weights");
    if (cw->f16 != NULL)
        for (int64_t i = 0; i < p->out_channels * taps; i++)
            plan->dw_weights[i] = fq_f32_from_f16(cw->f16[i]);
    else
        memcpy(plan->dw_weights, cw->f32, (size_t)(p->out_channels * taps) * sizeof(float));
    plan->dw_bias = plan->dw_weights + p->out_channels * taps;
    for (int64_t c = 0; c < p->out_channels; c++)
        plan->dw_bias[c] = cw->bias != NULL ? cw->bias[c] : 0.0f;
    snprintf(plan->name, sizeof(plan->name), "%s",
             plan->dw != NULL ? plan->dw->name : "f32_dwconv__ref");
    return FQ_OK;
}

/* The GEMM kernel for m rows: one with an fp16-weight twin when the weights are fp16. */
static const fq_f32_gemm_kernel *gemm_kernel(const conv_weights *cw, fq_isa cap, int64_t m)
{
    return cw->f16 != NULL ? fq_f32_gemm_select_rows_f16w(cap, m)
                           : fq_f32_gemm_select_rows(cap, m);
}

/* Packs rows [row0, row0 + m) of the weights, depth values each (rows w_stride apart). */
static fq_status pack_rows(const fq_f32_gemm_kernel *kernel, const conv_weights *cw,
                           int64_t row0, int64_t m, int64_t depth, int64_t w_stride,
                           fq_f32_gemm_packed *out, fq_error *err)
{
    const float *bias = cw->bias != NULL ? cw->bias + row0 : NULL;
    if (cw->f16 != NULL)
        return fq_f32_gemm_pack_f16(kernel, m, depth, cw->f16 + row0 * w_stride, w_stride,
                                    bias, out, err);
    return fq_f32_gemm_pack(kernel, m, depth, cw->f32 + row0 * w_stride, w_stride, bias, 1.0f,
                            out, err);
}

/* The name the plan reports: the microkernel that runs (the fp16-weight twin for fp16). */
static const char *gemm_name(const fq_f32_conv_plan *plan)
{
    return plan->packed[0].data_f16 != NULL ? plan->gemm->name_f16w : plan->gemm->name;
}

/* Ungrouped pointwise convolutions on large planes run through f32_pointwise.h. */
static bool uses_pointwise_driver(const fq_f32_conv_plan *plan)
{
    const fq_conv2d_f32_params *p = &plan->p;
    return plan->path == FQ_F32_CONV_POINTWISE && p->groups == 1 &&
           p->out_h * p->out_w >= FQ_F32_POINTWISE_MIN_PIXELS;
}

static fq_status plan_gemm(fq_f32_conv_plan *plan, const conv_weights *cw, fq_isa cap,
                           fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t out_per_group = p->out_channels / p->groups;
    int64_t depth = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    plan->path = is_pointwise(p) ? FQ_F32_CONV_POINTWISE : FQ_F32_CONV_IM2COL;
    plan->gemm = gemm_kernel(cw, cap, out_per_group);
    plan->packed = fq_calloc((size_t)p->groups, sizeof(fq_f32_gemm_packed));
    if (plan->packed == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate packed weights");
    for (int64_t g = 0; g < p->groups; g++) {
        fq_status status = pack_rows(plan->gemm, cw, g * out_per_group, out_per_group, depth,
                                     depth, &plan->packed[g], err);
        if (status != FQ_OK)
            return status;
    }
    plan->workspace = fq_f32_gemm_workspace_size(plan->gemm, plan->slots);
    if (uses_pointwise_driver(plan))
        plan->workspace = fq_f32_pointwise_workspace_size(plan->gemm, depth, plan->slots);
    snprintf(plan->name, sizeof(plan->name), "%s%s", gemm_name(plan),
             uses_pointwise_driver(plan) ? "+blocks"
             : plan->path == FQ_F32_CONV_IM2COL ? "+im2col" : "");
    return FQ_OK;
}

/* The taps path needs the offset-table form of the kernel for the weights' precision. fp16
 * weights take it from 8 input channels on; below that they stay on im2col. */
static bool uses_taps(const fq_conv2d_f32_params *p, const conv_weights *cw, fq_isa cap)
{
    if (p->groups != 1 || p->kernel_h * p->kernel_w == 1 || p->stride_h != p->stride_w ||
        (p->stride_w != 1 && p->stride_w != 2) || p->dilation_h != 1 || p->dilation_w != 1)
        return false;
    const fq_f32_gemm_kernel *kernel = gemm_kernel(cw, cap, p->out_channels);
    if (cw->f16 != NULL)
        return kernel->ukernel_f16w_offsets != NULL && p->in_channels >= 8;
    return kernel->ukernel_offsets != NULL;
}

/* Depth rows per block of the taps path: the depth split into equal blocks of at most 256
 * rows (the last one shorter). */
static int64_t taps_block(int64_t depth)
{
    int64_t blocks = (depth + 255) / 256;
    return (depth + blocks - 1) / blocks;
}

static size_t round16(size_t floats)
{
    return (floats + 15) & ~(size_t)15;
}

enum { TAPS_BAND_BYTES = 192 * 1024 };

/* Output rows per band of the taps path (see run_taps): the band's planes, every phase and
 * channel with the kernel's halo of rows, fit in TAPS_BAND_BYTES, so they stay in L2 while
 * its panels read them; with several threads, bands are at most a quarter of a thread's rows
 * so the load balances. Bands only change which rows a task copies: the sums are the same. */
static int64_t taps_band_rows(const fq_conv2d_f32_params *p, int64_t padded_w, int slots,
                              int nr)
{
    int64_t s = p->stride_w, halo = (p->kernel_h - 1) / s;
    int64_t row_bytes = s * s * p->in_channels * padded_w * (int64_t)sizeof(float);
    int64_t rows = TAPS_BAND_BYTES / row_bytes - halo;
    if (slots > 1) {
        /* About four bands a thread, but no band narrower than two column panels: on a
         * small plane (7x7) one-row bands would be 9-column tiles that fill a third of the
         * kernel's width. Too few bands then split their output channels (taps_job). */
        int64_t balanced = (p->out_h + 4 * slots - 1) / (4 * slots);
        int64_t least = (2 * nr + padded_w - 1) / padded_w;
        balanced = balanced > least ? balanced : least;
        rows = rows < balanced ? rows : balanced;
    }
    rows = rows < p->out_h ? rows : p->out_h;
    return rows > 1 ? rows : 1;
}

/* Floats per task of the taps path: a tile of C for panels that straddle output rows. */
static size_t tap_slot_floats(const fq_f32_conv_plan *plan)
{
    const fq_f32_gemm_kernel *k = &plan->tap_kernel;
    return round16((size_t)((plan->p.out_channels + k->mr - 1) / k->mr * k->mr * k->nr));
}

/* Where depth row k of X starts in the planes, relative to the first plane (see taps_job
 * below). Rows follow the OIHW weights: channel c = k / taps, tap t = k % taps. */
static fq_status plan_tap_offsets(fq_f32_conv_plan *plan, fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t s = p->stride_w, taps = p->kernel_h * p->kernel_w;
    plan->tap_offsets = fq_malloc((size_t)(taps * p->in_channels) * sizeof(ptrdiff_t));
    if (plan->tap_offsets == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate the taps' offset table");
    for (int64_t k = 0; k < taps * p->in_channels; k++) {
        int64_t c = k / taps, kh = k % taps / p->kernel_w, kw = k % p->kernel_w;
        int64_t phase = kh % s * s + kw % s;
        plan->tap_offsets[k] = (ptrdiff_t)((phase * p->in_channels + c) * plan->plane_stride +
                                           kh / s * plan->padded_w + kw / s);
    }
    return FQ_OK;
}

static fq_status plan_taps(fq_f32_conv_plan *plan, const conv_weights *cw, fq_isa cap,
                           fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t s = p->stride_w, depth = p->kernel_h * p->kernel_w * p->in_channels;
    plan->path = FQ_F32_CONV_TAPS;
    plan->gemm = gemm_kernel(cw, cap, p->out_channels);
    plan->tap_kernel = *plan->gemm;
    plan->tap_kernel.kc = (int)taps_block(depth);
    plan->packed = fq_calloc(1, sizeof(fq_f32_gemm_packed));
    if (plan->packed == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate packed weights");
    fq_status status = pack_rows(&plan->tap_kernel, cw, 0, p->out_channels, depth, depth,
                                 &plan->packed[0], err);
    if (status != FQ_OK)
        return status;

    plan->padded_w = p->out_w + (p->kernel_w - 1) / s;
    plan->band_rows = taps_band_rows(p, plan->padded_w, plan->slots, plan->gemm->nr);
    plan->padded_h = plan->band_rows + (p->kernel_h - 1) / s;
    plan->plane_stride = (int64_t)round16((size_t)(plan->padded_h * plan->padded_w +
                                                   plan->gemm->nr));
    status = plan_tap_offsets(plan, err);
    if (status != FQ_OK)
        return status;
    plan->workspace = ((size_t)(s * s * p->in_channels * plan->plane_stride) +
                       tap_slot_floats(plan)) * (size_t)plan->slots * sizeof(float);
    snprintf(plan->name, sizeof(plan->name), "%s+taps",
             cw->f16 != NULL ? plan->gemm->name_f16w_offsets : plan->gemm->name_offsets);
    return FQ_OK;
}

/* Winograd F(4x4, 3x3) takes dense 3x3 stride-1 convolutions (of fp32 weights, or fp16 ones
 * widened when the plan is made) where it was measured to win over taps (layers of det_2.5g,
 * scrfd_500m and iresnet50, one thread, AVX-512). It saves 108 of every 144 multiply-adds of a
 * tile per channel pair, while the input transforms cost in proportion to in_channels and the
 * output transforms to out_channels, so what counts is h = in * out / (in + out); and each
 * transform vector holds tiles of one tile row, so narrow planes fill few lanes. Measured against
 * taps: h 6 (12 -> 12) and 7.1 (64 -> 8) never won; h 8 (16 -> 16) won at 80 columns (0.44 of the
 * time), tied at 40 and lost at 28 (1.4); h 12 to 17.5 won at 40 columns (0.62 to 0.78) and tied
 * at 20 (0.78 to 1.02); h 32 and 40 won at 20 (0.71, 0.54); 10 columns lost at any h. The AVX2
 * kernels (8 lanes, 6x16 GEMM tiles) need more channels: h 12 tied at 40 to 160 columns, 15.2 and
 * 17.5 won at 40 (0.75, 0.9). The SSE4.1 kernels (4 lanes, 4x8 tiles, no FMA: the taps path
 * is slow there) win from fewer: h 5.3 and 6 won at 80 to 320 columns (0.71 to 0.89), h 4 tied
 * (0.93, 1.03); h 8 won at 32 and 40 (0.94, 0.90) and lost at 20 (1.36); h 24 to 128 won at 14
 * to 20 columns (0.33 to 0.68); 7 and 10 columns tied (0.98 to 1.01). Hence the least output
 * width for each h below. */
static bool winograd_wins(int64_t in, int64_t out, int64_t width, fq_isa isa)
{
    int64_t product = in * out, sum = in + out;
    if (isa == FQ_ISA_AVX2)
        return (width >= 32 && product >= 15 * sum) || (width >= 16 && product >= 24 * sum);
    if (isa == FQ_ISA_SSE41)
        return (width >= 48 && product >= 5 * sum) || (width >= 32 && product >= 8 * sum) ||
               (width >= 14 && product >= 24 * sum);
    if (width >= 48 && product >= 8 * sum)
        return true;
    if (width >= 32 && product >= 12 * sum)
        return true;
    return width >= 16 && product >= 24 * sum;
}

/* The transforms must be of the GEMM kernel's ISA: scalar ones beside the AVX2 GEMM kernel
 * made the layers above 1.5 to 4 times slower than taps. NEON has none, so its plans keep the
 * taps path. */
static bool uses_winograd(const fq_conv2d_f32_params *p, fq_isa cap)
{
    if (p->groups != 1 || p->kernel_h != 3 || p->kernel_w != 3 ||
        p->stride_h != 1 || p->stride_w != 1 || p->dilation_h != 1 || p->dilation_w != 1 ||
        p->pad_top < 0 || p->pad_top > 1 || p->pad_left < 0 || p->pad_left > 1)
        return false;
    fq_isa isa = fq_f32_winograd_select(cap)->isa;
    return isa == fq_f32_gemm_select_rows(cap, p->out_channels)->isa &&
           winograd_wins(p->in_channels, p->out_channels, p->out_w, isa);
}

/* A band's transformed inputs (36 x in_channels x tiles) and products (36 x out_channels x
 * tiles) together fit in WINOGRAD_BAND_BYTES of L2. */
enum { WINOGRAD_BAND_BYTES = 512 * 1024, WINOGRAD_MAX_TILES = 256 };

static int64_t winograd_tiles_w(const fq_conv2d_f32_params *p)
{
    return (p->out_w + FQ_F32_WINOGRAD_TILE - 1) / FQ_F32_WINOGRAD_TILE;
}

static int64_t winograd_grid(const fq_conv2d_f32_params *p)
{
    return winograd_tiles_w(p) * ((p->out_h + FQ_F32_WINOGRAD_TILE - 1) / FQ_F32_WINOGRAD_TILE);
}

/* Tiles per band: whole panels of the GEMM kernel's nr columns, at least one, no more than
 * the grid needs; with several threads, at most a quarter of a thread's share of the grid, so
 * small planes (IResNet-50's 28x28 and 14x14 at 112x112 input, one band each otherwise) still
 * spread over the threads. Every tile is transformed and summed the same way whichever band
 * holds it, so results do not depend on the band size or the threads. */
static int64_t winograd_band_tiles(const fq_conv2d_f32_params *p, int nr, int slots)
{
    int64_t per_tile = FQ_F32_WINOGRAD_ELEMENTS * (p->in_channels + p->out_channels) *
                       (int64_t)sizeof(float);
    int64_t tiles = WINOGRAD_BAND_BYTES / per_tile / nr * nr;
    int64_t grid = (winograd_grid(p) + nr - 1) / nr * nr;
    tiles = tiles < WINOGRAD_MAX_TILES ? tiles : WINOGRAD_MAX_TILES / nr * nr;
    tiles = tiles < grid ? tiles : grid;
    if (slots > 1) {
        int64_t share = (winograd_grid(p) + 4 * slots - 1) / (4 * slots);
        share = (share + nr - 1) / nr * nr;
        tiles = tiles < share ? tiles : share;
    }
    return tiles > nr ? tiles : nr;
}

static size_t winograd_slot_floats(const fq_f32_conv_plan *plan)
{
    const fq_conv2d_f32_params *p = &plan->p;
    return round16((size_t)(FQ_F32_WINOGRAD_ELEMENTS * (p->in_channels + p->out_channels) *
                            plan->wino_tiles));
}

/* The 36 matrices U[e] (out_channels x in_channels) of the transformed filters, each packed
 * for the GEMM kernel with a zero bias. */
static fq_status pack_winograd(fq_f32_conv_plan *plan, const float *w, fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t pairs = p->out_channels * p->in_channels;
    float *u = fq_malloc((size_t)(FQ_F32_WINOGRAD_ELEMENTS * pairs) * sizeof(float));
    if (u == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate Winograd filters for %lld "
                            "x %lld channels", (long long)p->out_channels,
                            (long long)p->in_channels);
    for (int64_t k = 0; k < pairs; k++) {
        float one[FQ_F32_WINOGRAD_ELEMENTS];
        fq_f32_winograd_filter_4x3(w + k * 9, one);
        for (int e = 0; e < FQ_F32_WINOGRAD_ELEMENTS; e++)
            u[e * pairs + k] = one[e];
    }

    fq_status status = FQ_OK;
    for (int e = 0; e < FQ_F32_WINOGRAD_ELEMENTS && status == FQ_OK; e++)
        status = fq_f32_gemm_pack(plan->gemm, p->out_channels, p->in_channels, u + e * pairs,
                                  p->in_channels, NULL, 1.0f, &plan->packed[e], err);
    fq_free(u);
    return status;
}

/* fp16 weights are widened once and transformed as fp32 ones, so the plan equals the fp32
 * plan on the rounded weights bit for bit. */
static fq_status pack_winograd_weights(fq_f32_conv_plan *plan, const conv_weights *cw,
                                       fq_error *err)
{
    if (cw->f16 == NULL)
        return pack_winograd(plan, cw->f32, err);
    int64_t n = plan->p.out_channels * plan->p.in_channels * 9;
    float *wide = fq_malloc((size_t)n * sizeof(float));
    if (wide == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot widen %lld fp16 weights",
                            (long long)n);
    for (int64_t i = 0; i < n; i++)
        wide[i] = fq_f32_from_f16(cw->f16[i]);
    fq_status status = pack_winograd(plan, wide, err);
    fq_free(wide);
    return status;
}

static fq_status plan_winograd(fq_f32_conv_plan *plan, const conv_weights *cw, fq_isa cap,
                               fq_error *err)
{
    const fq_conv2d_f32_params *p = &plan->p;
    plan->path = FQ_F32_CONV_WINOGRAD;
    plan->gemm = fq_f32_gemm_select_rows(cap, p->out_channels);
    plan->wino = fq_f32_winograd_select(cap);
    plan->packed = fq_calloc(FQ_F32_WINOGRAD_ELEMENTS, sizeof(fq_f32_gemm_packed));
    plan->wino_bias = fq_malloc((size_t)p->out_channels * sizeof(float));
    if (plan->packed == NULL || plan->wino_bias == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate packed Winograd weights");
    for (int64_t o = 0; o < p->out_channels; o++)
        plan->wino_bias[o] = cw->bias != NULL ? cw->bias[o] : 0.0f;
    fq_status status = pack_winograd_weights(plan, cw, err);
    if (status != FQ_OK)
        return status;

    plan->wino_tiles = winograd_band_tiles(p, plan->gemm->nr, plan->slots);
    plan->workspace = winograd_slot_floats(plan) * (size_t)plan->slots * sizeof(float);
    snprintf(plan->name, sizeof(plan->name), "%s+winograd4x3", plan->gemm->name);
    return FQ_OK;
}

/* winograd: whether the Winograd path may be taken. */
static fq_status plan_create(const fq_conv2d_f32_params *p, const conv_weights *cw, fq_isa cap,
                             int threads, bool winograd, fq_f32_conv_plan **out, fq_error *err)
{
    *out = NULL;
    fq_f32_conv_plan *plan = fq_calloc(1, sizeof(*plan));
    if (plan == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate a convolution plan");
    plan->p = *p;
    plan->p.act.slopes = NULL;
    plan->slots = threads > 1 ? threads : 1;
    fq_status status;
    if (is_depthwise(p))
        status = plan_depthwise(plan, cw, cap, err);
    else if (winograd && uses_winograd(p, cap))
        status = plan_winograd(plan, cw, cap, err);
    else if (uses_taps(p, cw, cap))
        status = plan_taps(plan, cw, cap, err);
    else
        status = plan_gemm(plan, cw, cap, err);
    if (status != FQ_OK) {
        fq_f32_conv_plan_free(plan);
        return status;
    }
    *out = plan;
    return FQ_OK;
}

fq_status fq_f32_conv_plan_create(const fq_conv2d_f32_params *p, const float *w,
                                  const float *bias, fq_isa cap, int threads,
                                  fq_f32_conv_plan **out, fq_error *err)
{
    conv_weights cw = {.f32 = w, .bias = bias};
    return plan_create(p, &cw, cap, threads, true, out, err);
}

fq_status fq_f32_conv_plan_create_direct(const fq_conv2d_f32_params *p, const float *w,
                                         const float *bias, fq_isa cap, int threads,
                                         fq_f32_conv_plan **out, fq_error *err)
{
    conv_weights cw = {.f32 = w, .bias = bias};
    return plan_create(p, &cw, cap, threads, false, out, err);
}

fq_status fq_f32_conv_plan_create_f16(const fq_conv2d_f32_params *p, const uint16_t *w,
                                      const float *bias, fq_isa cap, int threads,
                                      fq_f32_conv_plan **out, fq_error *err)
{
    conv_weights cw = {.f16 = w, .bias = bias};
    return plan_create(p, &cw, cap, threads, true, out, err);
}

void fq_f32_conv_plan_free(fq_f32_conv_plan *plan)
{
    if (plan == NULL)
        return;
    int64_t packs = plan->path == FQ_F32_CONV_TAPS       ? 1
                    : plan->path == FQ_F32_CONV_WINOGRAD ? FQ_F32_WINOGRAD_ELEMENTS
                                                         : plan->p.groups;
    for (int64_t g = 0; plan->packed != NULL && g < packs; g++)
        fq_f32_gemm_packed_free(&plan->packed[g]);
    fq_free(plan->packed);
    fq_free(plan->tap_offsets);
    fq_free(plan->wino_bias);
    fq_free_aligned(plan->dw_weights);
    fq_free(plan);
}

/* What the im2col packing function reads: one group of one image. */
typedef struct im2col_ctx {
    const fq_conv2d_f32_params *p;
    const float *x;  /* the group's first input channel */
} im2col_ctx;

/* Zero-fills dst[0, n). */
static void zero(float *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = 0.0f;
}

/* run output columns from ow of one output row, tap row ih and tap column offset (kw term),
 * into dst: the columns whose tap falls outside the row read zero. */
static void im2col_run(const fq_conv2d_f32_params *p, const float *xc, int64_t ih, int64_t ow,
                       int64_t run, int64_t offset, float *dst)
{
    if (ih < 0 || ih >= p->in_h) {
        zero(dst, run);
        return;
    }
    int64_t s = p->stride_w;
    int64_t first = ow * s + offset;
    /* Valid t: 0 <= first + t * s < in_w (strides 1 and 2 without a division). */
    int64_t left = p->in_w - first;
    int64_t lo = first >= 0 ? 0
                 : s == 1 ? -first
                 : s == 2 ? (1 - first) >> 1
                          : (-first + s - 1) / s;
    int64_t hi = left <= 0 ? 0 : s == 1 ? left : s == 2 ? (left + 1) >> 1 : (left + s - 1) / s;
    lo = lo < run ? lo : run;
    hi = hi < run ? hi : run;
    hi = hi > lo ? hi : lo;
    const float *row = xc + ih * p->in_w + first;
    zero(dst, lo);
    if (s == 1)
        memcpy(dst + lo, row + lo, (size_t)(hi - lo) * sizeof(float));
    else if (s == 2)
        for (int64_t t = lo; t < hi; t++)  /* a constant stride vectorizes */
            dst[t] = row[2 * t];
    else
        for (int64_t t = lo; t < hi; t++)
            dst[t] = row[t * s];
    zero(dst + hi, run - hi);
}

static void im2col_pack(const void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int nr,
                        float *panel)
{
    const im2col_ctx *ic = ctx;
    const fq_conv2d_f32_params *p = ic->p;
    int64_t taps = p->kernel_h * p->kernel_w;
    int64_t plane = p->in_h * p->in_w;
    int64_t c = k0 / taps, kh = k0 % taps / p->kernel_w, kw = k0 % p->kernel_w;
    int64_t oh0 = j0 / p->out_w, ow0 = j0 % p->out_w;
    for (int64_t k = 0; k < kc; k++) {
        float *dst = panel + k * nr;
        const float *xc = ic->x + c * plane;
        int64_t offset = kw * p->dilation_w - p->pad_left;
        int64_t oh = oh0, ow = ow0;
        for (int64_t j = 0; j < nc; oh++, ow = 0) {
            int64_t run = p->out_w - ow < nc - j ? p->out_w - ow : nc - j;
            int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
            im2col_run(p, xc, ih, ow, run, offset, dst + j);
            j += run;
        }
        zero(dst + nc, nr - nc);
        if (++kw == p->kernel_w) {
            kw = 0;
            if (++kh == p->kernel_h) {
                kh = 0;
                c++;
            }
        }
    }
}

/* r: NULL, or the residual added to y (fq_f32_conv_run_add; not on the pointwise driver). */
static void run_gemm(const fq_f32_conv_plan *plan, const float *x, const fq_epilogue_f32 *act,
                     const float *r, float *y, void *workspace, struct fq_threadpool *pool)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t in_per_group = p->in_channels / p->groups;
    int64_t out_per_group = p->out_channels / p->groups;
    int64_t in_plane = p->in_h * p->in_w;
    int64_t pixels = p->out_h * p->out_w;
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t g = 0; g < p->groups; g++) {
            const float *xg = x + (b * p->in_channels + g * in_per_group) * in_plane;
            float *yg = y + (b * p->out_channels + g * out_per_group) * pixels;
            im2col_ctx ic = {p, xg};
            fq_f32_gemm_input in = {.x = xg, .x_stride = in_plane};
            if (plan->path == FQ_F32_CONV_IM2COL)
                in = (fq_f32_gemm_input){.pack = im2col_pack, .pack_ctx = &ic};
            if (uses_pointwise_driver(plan)) {
                fq_f32_pointwise_run(plan->gemm, &plan->packed[0], pixels, xg, yg, act,
                                     workspace, plan->slots, pool);
                continue;
            }
            fq_epilogue_f32 group_act = *act;
            if (act->kind == FQ_EPILOGUE_F32_PRELU && act->slope_count > 1)
                group_act.slopes = act->slopes + g * out_per_group;
            if (r != NULL)
                fq_f32_gemm_run_add(plan->gemm, &plan->packed[g], pixels, &in,
                                    r + (yg - y), yg, pixels, &group_act, workspace, pool);
            else
                fq_f32_gemm_run(plan->gemm, &plan->packed[g], pixels, &in, yg, pixels,
                                &group_act, workspace, pool);
        }
    }
}

typedef struct depthwise_job {
    const fq_f32_conv_plan *plan;
    const float *x;
    float *y;
    const fq_epilogue_f32 *act;
    size_t planes, per_task; /* planes in all, and per task */
} depthwise_job;

static float channel_slope(const fq_epilogue_f32 *act, int64_t c)
{
    if (act->slope_count <= 1)
        return act->slope_count == 1 ? act->slopes[0] : 0.0f;
    return act->slopes[c % act->slope_count];
}

/* A reference convolution of one plane: the depthwise parameters narrowed to one channel. */
static void reference_plane(const fq_conv2d_f32_params *p, const float *x, const float *w,
                            float bias, float *y)
{
    fq_conv2d_f32_params one = *p;
    one.batch = 1;
    one.in_channels = one.out_channels = one.groups = 1;
    one.act.kind = FQ_EPILOGUE_F32_NONE;
    fq_ref_conv2d_f32(&one, x, w, &bias, y, NULL);
}

static void depthwise_plane(void *ctx, size_t index)
{
    const depthwise_job *job = ctx;
    const fq_f32_conv_plan *plan = job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t c = (int64_t)index % p->out_channels;
    int64_t taps = p->kernel_h * p->kernel_w;
    const float *x = job->x + (int64_t)index * p->in_h * p->in_w;
    float *y = job->y + (int64_t)index * p->out_h * p->out_w;
    const float *w = plan->dw_weights + c * taps;
    int64_t pixels = p->out_h * p->out_w;

    fq_f32_gemm_params params = {.kind = job->act->kind, .alpha = job->act->alpha,
                                 .beta = job->act->beta};
    if (job->act->kind == FQ_EPILOGUE_F32_PRELU) {
        params.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        params.alpha = channel_slope(job->act, c);
    }
    if (plan->dw == NULL) {
        reference_plane(p, x, w, plan->dw_bias[c], y);
        fq_ref_bias_activation_f32(y, pixels, 0.0f, job->act, c);
        return;
    }
    fq_f32_dwconv_geometry g = {p->in_h, p->in_w, p->out_h, p->out_w, p->pad_top, p->pad_left};
    plan->dw->ukernel(&g, x, w, plan->dw_bias[c], y, &params);
    if (job->act->kind == FQ_EPILOGUE_F32_SIGMOID)
        fq_ref_bias_activation_f32(y, pixels, 0.0f, job->act, c);
}

/* Planes [index * per_task, (index + 1) * per_task) of the job. */
static void depthwise_planes(void *ctx, size_t index)
{
    const depthwise_job *job = ctx;
    size_t end = (index + 1) * job->per_task;
    for (size_t plane = index * job->per_task; plane < end && plane < job->planes; plane++)
        depthwise_plane(ctx, plane);
}

/* The taps path on one image runs in bands of output rows spread over threads: a task copies
 * the input rows its band reads into zero-padded phase planes in its own workspace slot, then
 * sums the band's column panels, so the planes stay in L2 while they are read. A plane with
 * fewer bands than four a thread (7x7 and 14x14 layers) splits each band's output channels
 * into groups of row panels too, one task each. With stride S,
 * padded input row S * i + a, column S * j + b (input row minus pad_top, column minus
 * pad_left) sits at row i - oh0, column j of phase plane a * S + b of its channel, oh0 the
 * band's first output row; tap (kh, kw) of output (oh, ow) is then row oh - oh0 + kh / S,
 * column ow + kw / S of phase (kh % S) * S + kw % S, so over the planes' width a tap's X is
 * one shifted run of a plane. Planes are indexed phase * in_channels + c. */
typedef struct taps_job {
    const fq_f32_conv_plan *plan;
    const float *x;
    float *y;
    float *workspace;
    const fq_epilogue_f32 *act;
    fq_f32_gemm_params params;
    bool per_row_slopes;
    size_t bands;
    size_t groups; /* tasks per band, each a range of the output channels' row panels */
    atomic_size_t next;
} taps_job;

/* One band as a task works on it. */
typedef struct taps_band {
    const taps_job *job;
    float *planes;      /* the task's phase planes */
    float *tile;        /* the task's tile of C */
    float *y;           /* the band's first output row in output plane 0 */
    int64_t oh0, rows;  /* output rows [oh0, oh0 + rows) */
    int64_t columns;    /* over the planes' width, up to the band's last real output column */
    int64_t row_panels; /* panels per output row, or 0: panels run over the planes' width */
    int64_t panels;
    int64_t o_lo, o_hi; /* the task's output channels, whole row panels of the kernel */
} taps_band;

/* Padded row i of phase (a, b) of channel plane src into dst (padded_w floats). */
static void phase_row(const fq_f32_conv_plan *plan, const float *src, int64_t i, int64_t a,
                      int64_t b, float *dst)
{
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t s = p->stride_w, wq = plan->padded_w;
    int64_t ih = i * s + a - p->pad_top;
    if (ih < 0 || ih >= p->in_h) {
        zero(dst, wq);
        return;
    }
    const float *row = src + ih * p->in_w;
    int64_t first = b - p->pad_left;  /* input column of dst[0] */
    /* Valid j: 0 <= first + j * s < in_w. */
    int64_t lo = first >= 0 ? 0 : (-first + s - 1) / s;
    int64_t hi = p->in_w - first > 0 ? (p->in_w - first + s - 1) / s : 0;
    lo = lo < wq ? lo : wq;
    hi = hi < wq ? hi : wq;
    hi = hi > lo ? hi : lo;
    zero(dst, lo);
    const float *from = row + first;
    if (s == 1)
        memcpy(dst + lo, from + lo, (size_t)(hi - lo) * sizeof(float));
    else
        for (int64_t j = lo; j < hi; j++)  /* s is 2: a constant stride vectorizes */
            dst[j] = from[2 * j];
    zero(dst + hi, wq - hi);
}

/* The band's planes: its rows plus the kernel's halo of every phase and channel, zero after
 * them up to the next plane. Row by row across the phases, so the phases of stride 2 read an
 * input row while it is in L1. */
static void pad_band(const taps_band *band)
{
    const fq_f32_conv_plan *plan = band->job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t s = p->stride_w, rows = band->rows + (p->kernel_h - 1) / s;
    int64_t used = rows * plan->padded_w, phase_stride = p->in_channels * plan->plane_stride;
    for (int64_t c = 0; c < p->in_channels; c++) {
        const float *src = band->job->x + c * p->in_h * p->in_w;
        float *first = band->planes + c * plan->plane_stride;
        for (int64_t i = 0; i < rows; i++)
            for (int64_t phase = 0; phase < s * s; phase++)
                phase_row(plan, src, band->oh0 + i, phase / s, phase % s,
                          first + phase * phase_stride + i * plan->padded_w);
        for (int64_t phase = 0; phase < s * s; phase++)
            zero(first + phase * phase_stride + used, plan->plane_stride - used);
    }
}

/* dst[0, n) = src[0, n); a full 32-float run is a fixed-size copy the compiler inlines. */
static void copy_run(float *dst, const float *src, int64_t n)
{
    if (n == 32)
        memcpy(dst, src, 32 * sizeof(float));
    else
        memcpy(dst, src, (size_t)n * sizeof(float));
}

/* Copies the real output columns of a finished tile (rows nr floats apart) into y. */
static void scatter_tile(const taps_band *band, int64_t j0, int64_t nc, const float *tile)
{
    const fq_f32_conv_plan *plan = band->job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t wp = plan->padded_w, nr = plan->tap_kernel.nr;
    int64_t pixels = p->out_h * p->out_w;
    for (int64_t j = 0; j < nc;) {
        int64_t oh = (j0 + j) / wp, ow = (j0 + j) % wp;
        int64_t run = wp - ow < nc - j ? wp - ow : nc - j;
        int64_t valid = ow < p->out_w ? p->out_w - ow : 0;
        valid = valid < run ? valid : run;
        for (int64_t o = band->o_lo; valid > 0 && o < band->o_hi; o++)
            copy_run(band->y + o * pixels + oh * p->out_w + ow, tile + o * nr + j, valid);
        j += run;
    }
}

/* Sums one column panel into c (rows c_stride floats apart) through the offset table: every
 * tap and channel of a depth block in one call, C stored only between blocks. */
static void sum_by_offsets(const taps_band *band, int64_t j0, int64_t nc, float *c,
                           int64_t c_stride)
{
    const taps_job *job = band->job;
    const fq_f32_gemm_kernel *kernel = &job->plan->tap_kernel;
    const fq_f32_gemm_packed *w = &job->plan->packed[0];
    fq_f32_gemm_params params = job->params;
    for (int64_t k0 = 0; k0 < w->k; k0 += kernel->kc) {
        int64_t kb = w->k - k0 < kernel->kc ? w->k - k0 : kernel->kc;
        unsigned flags = (k0 == 0 ? FQ_F32_GEMM_FIRST : 0u) |
                         (k0 + kb >= w->k ? FQ_F32_GEMM_LAST : 0u);
        for (int64_t i0 = band->o_lo; i0 < band->o_hi; i0 += kernel->mr) {
            if (job->per_row_slopes)
                params.slopes = job->act->slopes + i0;
            fq_f32_gemm_tile_offsets(kernel, w, i0, k0, (size_t)nc, (size_t)kb,
                                     band->planes + j0, job->plan->tap_offsets,
                                     c + i0 * c_stride, (size_t)c_stride * sizeof(float), flags,
                                     &params);
        }
    }
}

/* The band's rows of c (c_stride floats apart), nc columns each, through the reference
 * sigmoid. */
static void sigmoid_rows(const taps_band *band, float *c, int64_t c_stride, int64_t nc)
{
    if (band->job->act->kind != FQ_EPILOGUE_F32_SIGMOID)
        return;
    for (int64_t o = band->o_lo; o < band->o_hi; o++)
        fq_ref_bias_activation_f32(c + o * c_stride, nc, 0.0f, band->job->act, o);
}

static void taps_panel(const taps_band *band, int64_t index)
{
    const fq_f32_conv_plan *plan = band->job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t nr = plan->tap_kernel.nr, pixels = p->out_h * p->out_w;
    int64_t j0 = index * nr;
    int64_t nc = band->columns - j0 < nr ? band->columns - j0 : nr;
    if (band->row_panels > 0) {
        int64_t column = index % band->row_panels * nr;
        j0 = index / band->row_panels * plan->padded_w + column;
        nc = p->out_w - column < nr ? p->out_w - column : nr;
    }
    int64_t oh = j0 / plan->padded_w, ow = j0 % plan->padded_w;
    /* A panel inside one output row, summed in one depth block, goes straight to the output.
     * Otherwise sums build up in the tile: output planes are often a multiple of 4 KiB apart,
     * and rows of C there would evict each other from L1 between depth blocks. */
    if (ow + nc <= p->out_w && plan->packed[0].k <= plan->tap_kernel.kc) {
        float *c = band->y + oh * p->out_w + ow;
        sum_by_offsets(band, j0, nc, c, pixels);
        sigmoid_rows(band, c, pixels, nc);
        return;
    }
    sum_by_offsets(band, j0, nc, band->tile, nr);
    sigmoid_rows(band, band->tile, nr, nc);
    scatter_tile(band, j0, nc, band->tile);
}

/* Band b's rows and panels. When output rows are whole panels, panels follow them: no junk
 * columns are summed, and every panel stores straight into the output at the rows'
 * alignment. */
static void band_geometry(taps_band *band, int64_t b)
{
    const fq_f32_conv_plan *plan = band->job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t nr = plan->tap_kernel.nr;
    band->oh0 = b * plan->band_rows;
    band->rows = p->out_h - band->oh0 < plan->band_rows ? p->out_h - band->oh0
                                                         : plan->band_rows;
    band->y = band->job->y + band->oh0 * p->out_w;
    band->columns = (band->rows - 1) * plan->padded_w + p->out_w;
    band->row_panels = p->out_w % nr == 0 ? p->out_w / nr : 0;
    band->panels = band->row_panels > 0 ? band->rows * band->row_panels
                                        : (band->columns + nr - 1) / nr;
}

static void taps_slot(void *ctx, size_t slot)
{
    taps_job *job = ctx;
    const fq_f32_conv_plan *plan = job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    size_t planes = (size_t)(p->stride_w * p->stride_w * p->in_channels * plan->plane_stride);
    taps_band band = {.job = job};
    band.planes = job->workspace + slot * (planes + tap_slot_floats(plan));
    band.tile = band.planes + planes;
    int64_t mr = plan->tap_kernel.mr, row_panels = (p->out_channels + mr - 1) / mr;
    int64_t groups = (int64_t)job->groups, padded = -1;
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (t >= job->bands * job->groups)
            return;
        int64_t b = (int64_t)(t / job->groups), g = (int64_t)(t % job->groups);
        band_geometry(&band, b);
        band.o_lo = g * row_panels / groups * mr;
        band.o_hi = (g + 1) * row_panels / groups * mr;
        band.o_hi = band.o_hi < p->out_channels ? band.o_hi : p->out_channels;
        if (padded != b)
            pad_band(&band);
        padded = b;
        for (int64_t index = 0; index < band.panels; index++)
            taps_panel(&band, index);
    }
}

static fq_f32_gemm_params tap_params(const fq_epilogue_f32 *act, bool *per_row)
{
    fq_f32_gemm_params p = {.kind = act->kind, .alpha = act->alpha, .beta = act->beta};
    *per_row = act->kind == FQ_EPILOGUE_F32_PRELU && act->slope_count > 1;
    if (act->kind == FQ_EPILOGUE_F32_PRELU && !*per_row) {
        p.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        p.alpha = act->slope_count == 1 ? act->slopes[0] : 0.0f;
    }
    return p;
}

static void run_taps(const fq_f32_conv_plan *plan, const float *x, const fq_epilogue_f32 *act,
                     float *y, void *workspace, struct fq_threadpool *pool)
{
    const fq_conv2d_f32_params *p = &plan->p;
    taps_job job = {.plan = plan, .workspace = workspace, .act = act, .next = 0,
                    .bands = (size_t)((p->out_h + plan->band_rows - 1) / plan->band_rows),
                    .groups = 1};
    job.params = tap_params(act, &job.per_row_slopes);
    size_t slots = (size_t)fq_threadpool_size(pool);
    slots = slots < (size_t)plan->slots ? slots : (size_t)plan->slots;
    /* Fewer than four bands a thread: the bands' output channels are split as well. */
    size_t row_panels = (size_t)((p->out_channels + plan->tap_kernel.mr - 1) /
                                 plan->tap_kernel.mr);
    if (slots > 1 && job.bands < 4 * slots) {
        job.groups = (4 * slots + job.bands - 1) / job.bands;
        job.groups = job.groups < row_panels ? job.groups : row_panels;
    }
    slots = slots < job.bands * job.groups ? slots : job.bands * job.groups;
    for (int64_t b = 0; b < p->batch; b++) {
        job.x = x + b * p->in_channels * p->in_h * p->in_w;
        job.y = y + b * p->out_channels * p->out_h * p->out_w;
        atomic_store_explicit(&job.next, 0, memory_order_relaxed);
        fq_threadpool_parallel_for(pool, slots, taps_slot, &job);
    }
}

/* The Winograd path on one image runs in bands of tiles spread over threads; a task's slot of
 * the workspace holds its band's transformed inputs V (element e, channel c, tile t at
 * (e * in_channels + c) * tiles + t) and the products M (the same with out_channels). */
typedef struct winograd_job {
    const fq_f32_conv_plan *plan;
    const float *x;
    float *y;
    float *workspace;
    const fq_epilogue_f32 *act;
    fq_f32_winograd_geometry geometry;
    int64_t grid;
    size_t bands;
    atomic_size_t next;
} winograd_job;

/* M[e] = U[e] * V[e] over n tiles for one transform element e: column panels of nr, each
 * summed over the depth blocks of every row panel while it is in L1. */
static void winograd_product(const fq_f32_conv_plan *plan, int e, const float *v, float *m,
                             int64_t n)
{
    const fq_f32_gemm_kernel *kernel = plan->gemm;
    int64_t tiles = plan->wino_tiles, nr = kernel->nr;
    size_t stride = (size_t)tiles * sizeof(float);
    fq_f32_gemm_params none = {.kind = FQ_EPILOGUE_F32_NONE};
    const fq_f32_gemm_packed *u = &plan->packed[e];
    const float *ve = v + e * u->k * tiles;
    float *me = m + e * u->m * tiles;
    for (int64_t j0 = 0; j0 < n; j0 += nr) {
        size_t nc = (size_t)(n - j0 < nr ? n - j0 : nr);
        for (int64_t k0 = 0; k0 < u->k; k0 += u->kc) {
            int64_t kb = u->k - k0 < u->kc ? u->k - k0 : u->kc;
            unsigned flags = (k0 == 0 ? FQ_F32_GEMM_FIRST : 0u) |
                             (k0 + kb >= u->k ? FQ_F32_GEMM_LAST : 0u);
            for (int64_t i0 = 0; i0 < u->m; i0 += u->mr)
                fq_f32_gemm_tile(kernel, u, i0, k0, nc, (size_t)kb, ve + k0 * tiles + j0,
                                 stride, me + i0 * tiles + j0, stride, flags, &none);
        }
    }
}

/* The activation of output channel o as the output transform applies it: PRELU as LEAKY_RELU
 * with the channel's slope, SIGMOID left for afterwards. */
static fq_f32_gemm_params winograd_params(const fq_epilogue_f32 *act, int64_t o)
{
    fq_f32_gemm_params params = {.kind = act->kind, .alpha = act->alpha, .beta = act->beta};
    if (act->kind == FQ_EPILOGUE_F32_PRELU) {
        params.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        params.alpha = channel_slope(act, o);
    }
    if (act->kind == FQ_EPILOGUE_F32_SIGMOID)
        params.kind = FQ_EPILOGUE_F32_NONE;
    return params;
}

/* The three steps of a band of tiles from t0, in the buffers of slot: the input transform of
 * channel c, the products of element e, the output transform of channel o. A band runs them
 * in turn on one thread, or each step spread over the threads (run_winograd_steps). */
typedef struct winograd_band_buffers {
    int64_t t0, n;
    float *v, *m;
} winograd_band_buffers;

static winograd_band_buffers winograd_buffers(const winograd_job *job, float *slot, int64_t t0)
{
    const fq_f32_conv_plan *plan = job->plan;
    int64_t tiles = plan->wino_tiles;
    winograd_band_buffers b = {t0, job->grid - t0 < tiles ? job->grid - t0 : tiles, slot, NULL};
    b.m = slot + FQ_F32_WINOGRAD_ELEMENTS * plan->p.in_channels * tiles;
    return b;
}

static void winograd_input(const winograd_job *job, const winograd_band_buffers *b, int64_t c)
{
    const fq_f32_conv_plan *plan = job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    int64_t tiles = plan->wino_tiles;
    plan->wino->input(&job->geometry, job->x + c * p->in_h * p->in_w, b->t0, b->n,
                      b->v + c * tiles, (size_t)(p->in_channels * tiles));
}

static void winograd_output(const winograd_job *job, const winograd_band_buffers *b, int64_t o)
{
    const fq_f32_conv_plan *plan = job->plan;
    const fq_conv2d_f32_params *p = &plan->p;
    fq_f32_gemm_params params = winograd_params(job->act, o);
    plan->wino->output(&job->geometry, b->m + o * plan->wino_tiles,
                       (size_t)(p->out_channels * plan->wino_tiles), b->t0, b->n,
                       plan->wino_bias[o], &params, job->y + o * p->out_h * p->out_w);
}

static void winograd_band(const winograd_job *job, float *slot, int64_t t0)
{
    const fq_conv2d_f32_params *p = &job->plan->p;
    winograd_band_buffers b = winograd_buffers(job, slot, t0);
    for (int64_t c = 0; c < p->in_channels; c++)
        winograd_input(job, &b, c);
    for (int e = 0; e < FQ_F32_WINOGRAD_ELEMENTS; e++)
        winograd_product(job->plan, e, b.v, b.m, b.n);
    for (int64_t o = 0; o < p->out_channels; o++)
        winograd_output(job, &b, o);
}

/* One band's steps spread over the threads, each step a parallel loop over its channels or
 * elements: the same tiles, transforms and sums as winograd_band. */
typedef struct winograd_step_job {
    const winograd_job *job;
    winograd_band_buffers b;
} winograd_step_job;

static void winograd_input_task(void *ctx, size_t c)
{
    const winograd_step_job *s = ctx;
    winograd_input(s->job, &s->b, (int64_t)c);
}

static void winograd_product_task(void *ctx, size_t e)
{
    const winograd_step_job *s = ctx;
    winograd_product(s->job->plan, (int)e, s->b.v, s->b.m, s->b.n);
}

static void winograd_output_task(void *ctx, size_t o)
{
    const winograd_step_job *s = ctx;
    winograd_output(s->job, &s->b, (int64_t)o);
}

static void run_winograd_steps(const winograd_job *job, struct fq_threadpool *pool)
{
    const fq_conv2d_f32_params *p = &job->plan->p;
    for (size_t band = 0; band < job->bands; band++) {
        winograd_step_job s = {job, winograd_buffers(job, job->workspace,
                                                     (int64_t)band * job->plan->wino_tiles)};
        fq_threadpool_parallel_for(pool, (size_t)p->in_channels, winograd_input_task, &s);
        fq_threadpool_parallel_for(pool, FQ_F32_WINOGRAD_ELEMENTS, winograd_product_task, &s);
        fq_threadpool_parallel_for(pool, (size_t)p->out_channels, winograd_output_task, &s);
    }
}

static void winograd_slot(void *ctx, size_t slot)
{
    winograd_job *job = ctx;
    float *mine = job->workspace + slot * winograd_slot_floats(job->plan);
    for (;;) {
        size_t b = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (b >= job->bands)
            return;
        winograd_band(job, mine, (int64_t)b * job->plan->wino_tiles);
    }
}

/* Sigmoid runs over finished output planes, one task per plane, through the reference. */
static void winograd_sigmoid_plane(void *ctx, size_t index)
{
    const winograd_job *job = ctx;
    const fq_conv2d_f32_params *p = &job->plan->p;
    int64_t pixels = p->out_h * p->out_w;
    fq_ref_bias_activation_f32(job->y + (int64_t)index * pixels, pixels, 0.0f, job->act,
                               (int64_t)index);
}

static void run_winograd(const fq_f32_conv_plan *plan, const float *x,
                         const fq_epilogue_f32 *act, float *y, void *workspace,
                         struct fq_threadpool *pool)
{
    const fq_conv2d_f32_params *p = &plan->p;
    winograd_job job = {.plan = plan, .workspace = workspace, .act = act, .next = 0,
                        .grid = winograd_grid(p)};
    job.geometry = (fq_f32_winograd_geometry){p->in_h, p->in_w, p->out_h, p->out_w,
                                              p->pad_top, p->pad_left, winograd_tiles_w(p)};
    job.bands = (size_t)((job.grid + plan->wino_tiles - 1) / plan->wino_tiles);
    size_t slots = (size_t)fq_threadpool_size(pool);
    slots = slots < (size_t)plan->slots ? slots : (size_t)plan->slots;
    /* Fewer bands than threads (a plane of at most a few panels of tiles): the threads share
     * each band's steps instead of idling. */
    bool steps = job.bands < slots;
    slots = slots < job.bands ? slots : job.bands;
    for (int64_t b = 0; b < p->batch; b++) {
        job.x = x + b * p->in_channels * p->in_h * p->in_w;
        job.y = y + b * p->out_channels * p->out_h * p->out_w;
        atomic_store_explicit(&job.next, 0, memory_order_relaxed);
        if (steps)
            run_winograd_steps(&job, pool);
        else
            fq_threadpool_parallel_for(pool, slots, winograd_slot, &job);
        if (act->kind == FQ_EPILOGUE_F32_SIGMOID)
            fq_threadpool_parallel_for(pool, (size_t)p->out_channels, winograd_sigmoid_plane,
                                       &job);
    }
}

void fq_f32_conv_run(const fq_f32_conv_plan *plan, const float *x, const float *slopes,
                     int64_t slope_count, float *y, void *workspace,
                     struct fq_threadpool *pool)
{
    fq_epilogue_f32 act = plan->p.act;
    act.slopes = slopes;
    act.slope_count = slopes != NULL ? slope_count : 0;
    if (plan->path == FQ_F32_CONV_TAPS) {
        run_taps(plan, x, &act, y, workspace, pool);
        return;
    }
    if (plan->path == FQ_F32_CONV_WINOGRAD) {
        run_winograd(plan, x, &act, y, workspace, pool);
        return;
    }
    if (plan->path != FQ_F32_CONV_DEPTHWISE) {
        run_gemm(plan, x, &act, NULL, y, workspace, pool);
        return;
    }
    const fq_conv2d_f32_params *p = &plan->p;
    depthwise_job job = {plan, x, y, &act, (size_t)(p->batch * p->out_channels), 1};
    /* A plane of a small layer is a few hundred cycles, less than handing out an index costs
     * when the threads share its counter: each thread takes about four runs of planes. */
    size_t runs = (size_t)fq_threadpool_size(pool) * 4;
    job.per_task = (job.planes + runs - 1) / runs;
    uint64_t work = (uint64_t)job.planes * (uint64_t)(p->out_h * p->out_w * p->kernel_h *
                                                      p->kernel_w);
    fq_threadpool_parallel_for_work(pool, (job.planes + job.per_task - 1) / job.per_task, work,
                                    depthwise_planes, &job);
}

bool fq_f32_conv_adds(const fq_f32_conv_plan *plan)
{
    return (plan->path == FQ_F32_CONV_POINTWISE || plan->path == FQ_F32_CONV_IM2COL) &&
           plan->p.groups == 1 && !uses_pointwise_driver(plan) && plan->gemm->adds_residual &&
           plan->p.act.kind != FQ_EPILOGUE_F32_SIGMOID;
}

void fq_f32_conv_run_add(const fq_f32_conv_plan *plan, const float *x, const float *slopes,
                         int64_t slope_count, const float *r, float *y, void *workspace,
                         struct fq_threadpool *pool)
{
    fq_epilogue_f32 act = plan->p.act;
    act.slopes = slopes;
    act.slope_count = slopes != NULL ? slope_count : 0;
    run_gemm(plan, x, &act, r, y, workspace, pool);
}
