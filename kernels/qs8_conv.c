/* qs8 convolution plans: pointwise GEMM, im2col GEMM with rows built in the workspace, and the
 * depthwise 3x3 kernel (see qs8_conv.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "qs8_conv.h"
#include "runtime/threadpool.h"

/* Bytes of im2col rows one task builds at once, and the bounds on its pixel count. */
#define IM2COL_BLOCK_BYTES (64u * 1024u)
#define MAX_BLOCK_PIXELS 256u
#define POINTWISE_BLOCK_PIXELS 128u
/* Output pixels of one row per stem block: their kernel-row pointers and staged rows. */
#define STEM_BLOCK_PIXELS 64u

static size_t round_up(size_t x, size_t q)
{
    return (x + q - 1) / q * q;
}

static size_t in_per_group(const fq_qs8_conv_params *p)
{
    return p->in_channels / p->groups;
}

static size_t out_per_group(const fq_qs8_conv_params *p)
{
    return p->out_channels / p->groups;
}

static size_t group_depth(const fq_qs8_conv_params *p)
{
    return p->kernel_h * p->kernel_w * in_per_group(p);
}

static size_t output_pixels(const fq_qs8_conv_params *p)
{
    return p->batch * p->out_height * p->out_width;
}

static bool is_pointwise(const fq_qs8_conv_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_top == 0 && p->pad_left == 0 && p->out_height == p->in_height &&
           p->out_width == p->in_width;
}

static fq_qs8_dwconv_shape dwconv_shape(const fq_qs8_conv_params *p)
{
    return (fq_qs8_dwconv_shape){
        .batch = p->batch, .in_height = p->in_height, .in_width = p->in_width,
        .channels = p->in_channels, .stride_h = p->stride_h, .stride_w = p->stride_w,
        .pad_top = p->pad_top, .pad_left = p->pad_left, .out_height = p->out_height,
        .out_width = p->out_width, .input_zero_point = p->input_zero_point};
}

static bool is_dwconv3x3(const fq_qs8_conv_params *p)
{
    if (p->groups != p->in_channels || p->groups != p->out_channels || p->kernel_h != 3 ||
        p->kernel_w != 3 || p->dilation_h != 1 || p->dilation_w != 1)
        return false;
    fq_qs8_dwconv_shape s = dwconv_shape(p);
    return fq_qs8_dwconv3x3_check_shape(&s, NULL) == FQ_OK;
}

/* Layers the stem kernels take: one group, contiguous kernel rows of at most
 * FQ_QS8_STEMCONV_MAX_ROW_BYTES, and not a plain pointwise layer (which runs the GEMM straight
 * on the input). */
static bool is_stem(const fq_qs8_conv_params *p, fq_isa cap)
{
    return p->groups == 1 && p->dilation_w == 1 && !is_pointwise(p) &&
           p->kernel_w * p->in_channels <= FQ_QS8_STEMCONV_MAX_ROW_BYTES &&
           p->kernel_h <= FQ_QS8_STEMCONV_MAX_KERNEL_H && fq_qs8_stemconv_select(cap) != NULL;
}

/* Windows may lie wholly in the padding (they read the zero point only), so any output size
 * is accepted. */
static fq_status check_params(const fq_qs8_conv_params *p, fq_error *err)
{
    if (p->batch == 0 || p->in_channels == 0 || p->in_height == 0 || p->in_width == 0 ||
        p->out_channels == 0 || p->out_height == 0 || p->out_width == 0 || p->kernel_h == 0 ||
        p->kernel_w == 0 || p->stride_h == 0 || p->stride_w == 0 || p->dilation_h == 0 ||
        p->dilation_w == 0 || p->groups == 0)
        return fq_error_set(err, FQ_ERR_SHAPE, "qs8 conv: a size, stride or dilation is 0");
    if (p->in_channels % p->groups != 0 || p->out_channels % p->groups != 0)
        return fq_error_set(err, FQ_ERR_SHAPE, "qs8 conv: %zu groups do not divide %zu input "
                            "and %zu output channels", p->groups, p->in_channels,
                            p->out_channels);
    if (p->input_zero_point < 0 || p->input_zero_point > 255)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 conv: input zero point %d is "
                            "outside 0..255", (int)p->input_zero_point);
    return FQ_OK;
}

/* The weights of group g reordered OIHW -> OHWI: row j holds (kh, kw, c) for channel j. */
static void reorder_group(const fq_qs8_conv_params *p, const int8_t *w, size_t g, int8_t *dst)
{
    size_t cg = in_per_group(p), mg = out_per_group(p), taps = p->kernel_h * p->kernel_w;
    for (size_t j = 0; j < mg; j++) {
        const int8_t *src = w + (g * mg + j) * cg * taps;
        int8_t *row = dst + j * taps * cg;
        for (size_t c = 0; c < cg; c++)
            for (size_t t = 0; t < taps; t++)
                row[t * cg + c] = src[c * taps + t];
    }
}

/* The kernel fq_qs8_gemm_select picks, or a narrower one of the same ISA when the channels of
 * a group fit it: its panels then waste fewer columns. */
static const fq_qs8_gemm_kernel *gemm_kernel(fq_isa cap, size_t channels)
{
    const fq_qs8_gemm_kernel *best = fq_qs8_gemm_select(cap);
    int count;
    const fq_qs8_gemm_kernel *all = fq_qs8_gemm_kernels(&count);
    for (int i = 0; i < count; i++)
        if (all[i].isa == best->isa && all[i].nr < best->nr && all[i].nr >= channels &&
            fq_isa_allowed(all[i].isa, cap))
            best = &all[i];
    return best;
}

static fq_status plan_gemm(fq_qs8_conv_plan *plan, const int8_t *w, const int32_t *bias,
                           const float *multiplier, fq_isa cap, fq_error *err)
{
    const fq_qs8_conv_params *p = &plan->p;
    size_t mg = out_per_group(p), k = group_depth(p);
    plan->path = is_pointwise(p) ? FQ_QS8_CONV_POINTWISE : FQ_QS8_CONV_IM2COL;
    plan->gemm = gemm_kernel(cap, mg);
    plan->group_packed_size = round_up(fq_qs8_gemm_packed_size(plan->gemm, mg, k),
                                       FQ_ALIGNMENT);
    plan->packed = fq_malloc_aligned(plan->group_packed_size * p->groups);
    int8_t *reordered = fq_malloc(mg * k);
    if (plan->packed == NULL || reordered == NULL) {
        fq_free(reordered);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "qs8 conv: cannot allocate packed weights");
    }

    fq_status status = FQ_OK;
    for (size_t g = 0; g < p->groups && status == FQ_OK; g++) {
        reorder_group(p, w, g, reordered);
        status = fq_qs8_gemm_pack(plan->gemm, mg, k, reordered,
                                  bias != NULL ? bias + g * mg : NULL, p->input_zero_point,
                                  multiplier + g * mg,
                                  (uint8_t *)plan->packed + g * plan->group_packed_size, err);
    }
    fq_free(reordered);
    if (status != FQ_OK)
        return status;

    size_t mr = plan->gemm->mr;
    if (plan->path == FQ_QS8_CONV_POINTWISE) {
        plan->block_pixels = POINTWISE_BLOCK_PIXELS;
    } else {
        size_t fit = IM2COL_BLOCK_BYTES / k / mr * mr;
        plan->block_pixels = fit < mr ? mr : fit > MAX_BLOCK_PIXELS ? MAX_BLOCK_PIXELS : fit;
        plan->slot_bytes = round_up(plan->block_pixels * k, FQ_ALIGNMENT);
    }
    snprintf(plan->name, sizeof(plan->name), "%s (%s)", plan->gemm->name,
             plan->path == FQ_QS8_CONV_POINTWISE ? "1x1" : "im2col");
    return FQ_OK;
}

static fq_status plan_dwconv(fq_qs8_conv_plan *plan, const int8_t *w, const int32_t *bias,
                             const float *multiplier, fq_isa cap, fq_error *err)
{
    const fq_qs8_conv_params *p = &plan->p;
    size_t c = p->in_channels;
    plan->path = FQ_QS8_CONV_DWCONV3X3;
    plan->dw = fq_qs8_dwconv3x3_select(cap);
    plan->packed = fq_malloc_aligned(fq_qs8_dwconv3x3_packed_size(c));
    int8_t *hwc = fq_malloc(FQ_QS8_DWCONV_TAPS * c);
    if (plan->packed == NULL || hwc == NULL) {
        fq_free(hwc);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "qs8 conv: cannot allocate packed weights");
    }
    for (size_t ch = 0; ch < c; ch++)
        for (size_t t = 0; t < FQ_QS8_DWCONV_TAPS; t++)
            hwc[t * c + ch] = w[ch * FQ_QS8_DWCONV_TAPS + t];
    fq_status status = fq_qs8_dwconv3x3_pack(c, hwc, bias, p->input_zero_point, multiplier,
                                             plan->packed, err);
    fq_free(hwc);
    plan->slot_bytes = round_up(c, FQ_ALIGNMENT);
    snprintf(plan->name, sizeof(plan->name), "%s", plan->dw->name);
    return status;
}

/* Bytes the kernel rows of `count` pixels of one output row span together: the pixels are
 * stride_w * in_channels bytes apart, and the last one reads `groups` groups. */
static size_t stem_span(const fq_qs8_conv_plan *plan, size_t count)
{
    const fq_qs8_conv_params *p = &plan->p;
    return (count - 1) * p->stride_w * p->in_channels + plan->stem_groups * 4;
}

static fq_status plan_stem(fq_qs8_conv_plan *plan, const int8_t *w, const int32_t *bias,
                           const float *multiplier, fq_isa cap, fq_error *err)
{
    const fq_qs8_conv_params *p = &plan->p;
    size_t groups = fq_qs8_stemconv_groups(p->kernel_w, p->in_channels, p->out_channels);
    plan->path = FQ_QS8_CONV_STEM;
    plan->stem_groups = groups;
    plan->stem = fq_qs8_stemconv_select(cap);
    plan->packed = fq_malloc_aligned(fq_qs8_stemconv_packed_size(p->out_channels, p->kernel_h,
                                                                 groups));
    if (plan->packed == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "qs8 conv: cannot allocate packed weights");
    plan->block_pixels = STEM_BLOCK_PIXELS;
    plan->stem_rows_bytes = round_up(p->kernel_h * sizeof(uint8_t *), FQ_ALIGNMENT);
    plan->stem_segment_bytes = round_up(stem_span(plan, STEM_BLOCK_PIXELS), FQ_ALIGNMENT);
    plan->slot_bytes = plan->stem_rows_bytes + p->kernel_h * plan->stem_segment_bytes;
    snprintf(plan->name, sizeof(plan->name), "%s", plan->stem->name);
    return fq_qs8_stemconv_pack(p->out_channels, p->in_channels, p->kernel_h, p->kernel_w, w,
                                bias, p->input_zero_point, multiplier, plan->packed, err);
}

static void finish_workspace(fq_qs8_conv_plan *plan)
{
    const fq_qs8_conv_params *p = &plan->p;
    if (!p->channels_last) {
        size_t x_bytes = p->batch * p->in_height * p->in_width * p->in_channels;
        plan->layout_bytes = round_up(x_bytes, FQ_ALIGNMENT) +
                             round_up(output_pixels(p) * p->out_channels, FQ_ALIGNMENT);
        size_t used = strlen(plan->name);
        snprintf(plan->name + used, sizeof(plan->name) - used, " nchw");
    }
    plan->workspace = plan->layout_bytes + plan->slot_bytes * (size_t)plan->slots;
}

fq_status fq_qs8_conv_plan_create(const fq_qs8_conv_params *p, const int8_t *w,
                                  const int32_t *bias, const float *multiplier, fq_isa cap,
                                  int threads, fq_qs8_conv_plan **out, fq_error *err)
{
    *out = NULL;
    fq_status status = check_params(p, err);
    if (status != FQ_OK)
        return status;
    fq_qs8_conv_plan *plan = fq_calloc(1, sizeof(*plan));
    if (plan == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "qs8 conv: cannot allocate a plan");
    plan->p = *p;
    plan->slots = threads > 1 ? threads : 1;

    if (is_dwconv3x3(p))
        status = plan_dwconv(plan, w, bias, multiplier, cap, err);
    else if (is_stem(p, cap))
        status = plan_stem(plan, w, bias, multiplier, cap, err);
    else
        status = plan_gemm(plan, w, bias, multiplier, cap, err);
    if (status != FQ_OK) {
        fq_qs8_conv_plan_free(plan);
        return status;
    }
    finish_workspace(plan);
    *out = plan;
    return FQ_OK;
}

void fq_qs8_conv_plan_free(fq_qs8_conv_plan *plan)
{
    if (plan == NULL)
        return;
    fq_free_aligned(plan->packed);
    fq_free(plan);
}

/* ---- running ---- */

typedef struct conv_job {
    const fq_qs8_conv_plan *plan;
    const uint8_t *x;       /* NHWC */
    uint8_t *y;             /* NHWC */
    uint8_t *slots;
    size_t blocks;
    atomic_size_t next;
} conv_job;

/* dst[0, n) = src[0, n). Runs of at most 16 bytes, such as the 9 bytes of a 3-channel stem's
 * kernel row, are two overlapping moves each instead of a library call. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 8 && n <= 16) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else {
        memcpy(dst, src, n);
    }
}

/* Taps kw0.. of one kernel row: runs of the group's channels, the input zero point where a
 * tap falls in the padding. With one group and no dilation the taps of a row that lies inside
 * the input are one contiguous run of NHWC bytes. */
static void im2col_taps(const fq_qs8_conv_params *p, const uint8_t *image_row, size_t ow,
                        uint8_t *dst)
{
    size_t cg = in_per_group(p);
    size_t iw0 = ow * p->stride_w - p->pad_left; /* wraps left of the input */
    if (p->groups == 1 && p->dilation_w == 1 && iw0 < p->in_width &&
        p->in_width - iw0 >= p->kernel_w) {
        copy_run(dst, image_row + iw0 * p->in_channels, p->kernel_w * cg);
        return;
    }
    for (size_t kw = 0; kw < p->kernel_w; kw++, dst += cg) {
        size_t iw = iw0 + kw * p->dilation_w;
        if (iw < p->in_width)
            copy_run(dst, image_row + iw * p->in_channels, cg);
        else
            memset(dst, p->input_zero_point, cg);
    }
}

/* Where an output pixel is: image n, row oh, column ow. */
typedef struct pixel_pos {
    size_t n, oh, ow;
} pixel_pos;

static pixel_pos pixel_position(const fq_qs8_conv_params *p, size_t pixel)
{
    size_t plane = p->out_height * p->out_width;
    return (pixel_pos){pixel / plane, pixel % plane / p->out_width, pixel % p->out_width};
}

static void next_pixel(const fq_qs8_conv_params *p, pixel_pos *at)
{
    if (++at->ow < p->out_width)
        return;
    at->ow = 0;
    if (++at->oh < p->out_height)
        return;
    at->oh = 0;
    at->n++;
}

/* The im2col row of the output pixel at `at` for group g, in (kh, kw, c) order. */
static void im2col_row(const fq_qs8_conv_params *p, const uint8_t *x, pixel_pos at, size_t g,
                       uint8_t *dst)
{
    size_t cg = in_per_group(p), run = p->kernel_w * cg;
    size_t n = at.n, oh = at.oh, ow = at.ow;
    size_t row_bytes = p->in_width * p->in_channels;
    const uint8_t *image = x + n * p->in_height * row_bytes + g * cg;
    for (size_t kh = 0; kh < p->kernel_h; kh++, dst += run) {
        size_t ih = oh * p->stride_h + kh * p->dilation_h - p->pad_top; /* wraps above */
        if (ih < p->in_height)
            im2col_taps(p, image + ih * row_bytes, ow, dst);
        else
            memset(dst, p->input_zero_point, run);
    }
}

/* Output pixels [first, first + count) through the GEMM, group by group. */
static void gemm_block(const conv_job *job, size_t first, size_t count, uint8_t *scratch)
{
    const fq_qs8_conv_plan *plan = job->plan;
    const fq_qs8_conv_params *p = &plan->p;
    size_t cg = in_per_group(p), mg = out_per_group(p), k = group_depth(p);
    for (size_t g = 0; g < p->groups; g++) {
        const void *packed = (const uint8_t *)plan->packed + g * plan->group_packed_size;
        uint8_t *c = job->y + first * p->out_channels + g * mg;
        if (plan->path == FQ_QS8_CONV_POINTWISE) {
            fq_qs8_gemm_run(plan->gemm, count, mg, k, job->x + first * p->in_channels + g * cg,
                            p->in_channels, packed, c, p->out_channels, &p->requant);
            continue;
        }
        pixel_pos at = pixel_position(p, first);
        for (size_t i = 0; i < count; i++, next_pixel(p, &at))
            im2col_row(p, job->x, at, g, scratch + i * k);
        fq_qs8_gemm_run(plan->gemm, count, mg, k, scratch, k, packed, c, p->out_channels,
                        &p->requant);
    }
}

/* Output row `row` (image-major) through the depthwise kernel: the shape narrowed to that row
 * of one image, its input starting at the first input row the window touches. */
static void dwconv_row(const conv_job *job, size_t row, uint8_t *pad_row)
{
    const fq_qs8_conv_plan *plan = job->plan;
    const fq_qs8_conv_params *p = &plan->p;
    size_t n = row / p->out_height, oh = row % p->out_height;
    size_t top = oh * p->stride_h;  /* in padded rows */
    size_t first_in = top > p->pad_top ? top - p->pad_top : 0;
    fq_qs8_dwconv_shape s = dwconv_shape(p);
    s.batch = 1;
    s.out_height = 1;
    s.pad_top = top > p->pad_top ? 0 : p->pad_top - top;
    s.in_height = p->in_height - first_in;

    size_t row_bytes = p->in_width * p->in_channels;
    const uint8_t *x = job->x + (n * p->in_height + first_in) * row_bytes;
    uint8_t *y = job->y + row * p->out_width * p->out_channels;
    fq_qs8_dwconv3x3_run(plan->dw, &s, x, plan->packed, y, pad_row, &p->requant);
}

/* Blocks of the stem path per output row. */
static size_t stem_row_blocks(const fq_qs8_conv_params *p)
{
    return (p->out_width + STEM_BLOCK_PIXELS - 1) / STEM_BLOCK_PIXELS;
}

/* The `span` bytes of input row ih of image n from column iw0 on (negative left of the
 * image), copied to seg with the input zero point in the padding and past the row. */
static const uint8_t *stem_stage(const fq_qs8_conv_params *p, const uint8_t *x, size_t n,
                                 size_t ih, ptrdiff_t iw0, size_t span, uint8_t *seg)
{
    size_t c = p->in_channels;
    memset(seg, p->input_zero_point, span);
    if (ih >= p->in_height)
        return seg;
    ptrdiff_t first = iw0 > 0 ? iw0 : 0;
    ptrdiff_t end = iw0 + (ptrdiff_t)((span + c - 1) / c);
    ptrdiff_t last = end < (ptrdiff_t)p->in_width ? end : (ptrdiff_t)p->in_width;
    size_t offset = (size_t)(first - iw0) * c;
    if (first >= last || offset >= span)
        return seg;
    size_t bytes = (size_t)(last - first) * c;
    bytes = bytes < span - offset ? bytes : span - offset;
    memcpy(seg + offset, x + ((n * p->in_height + ih) * p->in_width + (size_t)first) * c, bytes);
    return seg;
}

/* Stem block `block`: up to STEM_BLOCK_PIXELS pixels of one output row, in one kernel call.
 * A kernel row is read in place when the block's taps on it all lie inside the input row and
 * the last pixel's rounded read ends inside the input; otherwise that row of the block is
 * staged with its padding. */
static void stem_block(const conv_job *job, size_t block, uint8_t *scratch)
{
    const fq_qs8_conv_plan *plan = job->plan;
    const fq_qs8_conv_params *p = &plan->p;
    size_t per_row = stem_row_blocks(p), row = block / per_row;
    size_t n = row / p->out_height, oh = row % p->out_height;
    size_t ow0 = block % per_row * STEM_BLOCK_PIXELS;
    size_t count = p->out_width - ow0 < STEM_BLOCK_PIXELS ? p->out_width - ow0
                                                          : STEM_BLOCK_PIXELS;
    size_t c = p->in_channels, span = stem_span(plan, count);
    size_t total = p->batch * p->in_height * p->in_width * c;
    ptrdiff_t iw0 = (ptrdiff_t)(ow0 * p->stride_w) - (ptrdiff_t)p->pad_left;
    bool columns_inside = iw0 >= 0 && (size_t)iw0 + (count - 1) * p->stride_w + p->kernel_w <=
                                          p->in_width;
    const uint8_t **rows = (const uint8_t **)(void *)scratch;
    uint8_t *stage = scratch + plan->stem_rows_bytes;

    for (size_t kh = 0; kh < p->kernel_h; kh++) {
        size_t ih = oh * p->stride_h + kh * p->dilation_h - p->pad_top; /* wraps above */
        if (ih < p->in_height && columns_inside) {
            size_t start = ((n * p->in_height + ih) * p->in_width + (size_t)iw0) * c;
            if (start + span <= total) {
                rows[kh] = job->x + start;
                continue;
            }
        }
        rows[kh] = stem_stage(p, job->x, n, ih, iw0, span,
                              stage + kh * plan->stem_segment_bytes);
    }
    uint8_t *y = job->y + ((n * p->out_height + oh) * p->out_width + ow0) * p->out_channels;
    plan->stem->ukernel(count, p->kernel_h, plan->stem_groups, rows, p->stride_w * c,
                        plan->packed, p->out_channels, y, p->out_channels, &p->requant);
}

static void conv_slot(void *ctx, size_t slot)
{
    conv_job *job = ctx;
    const fq_qs8_conv_plan *plan = job->plan;
    uint8_t *scratch = job->slots + slot * plan->slot_bytes;
    size_t pixels = output_pixels(&plan->p);
    for (;;) {
        size_t block = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (block >= job->blocks)
            return;
        if (plan->path == FQ_QS8_CONV_DWCONV3X3) {
            dwconv_row(job, block, scratch);
            continue;
        }
        if (plan->path == FQ_QS8_CONV_STEM) {
            stem_block(job, block, scratch);
            continue;
        }
        size_t first = block * plan->block_pixels;
        size_t count = pixels - first < plan->block_pixels ? pixels - first : plan->block_pixels;
        gemm_block(job, first, count, scratch);
    }
}

/* Per image, the a x b byte matrix src transposed into dst (b x a). */
static void transpose_planes(const uint8_t *src, size_t batch, size_t a, size_t b, uint8_t *dst)
{
    for (size_t n = 0; n < batch; n++) {
        const uint8_t *s = src + n * a * b;
        uint8_t *d = dst + n * a * b;
        for (size_t i = 0; i < a; i++)
            for (size_t j = 0; j < b; j++)
                d[j * a + i] = s[i * b + j];
    }
}

void fq_qs8_conv_run(const fq_qs8_conv_plan *plan, const uint8_t *x, uint8_t *y,
                     void *workspace, struct fq_threadpool *pool)
{
    const fq_qs8_conv_params *p = &plan->p;
    uint8_t *ws = workspace;
    size_t in_plane = p->in_height * p->in_width, out_plane = p->out_height * p->out_width;
    uint8_t *x_nhwc = ws;
    uint8_t *y_nhwc = ws + round_up(p->batch * in_plane * p->in_channels, FQ_ALIGNMENT);
    if (!p->channels_last)
        transpose_planes(x, p->batch, p->in_channels, in_plane, x_nhwc);

    conv_job job = {.plan = plan, .x = p->channels_last ? x : x_nhwc,
                    .y = p->channels_last ? y : y_nhwc, .slots = ws + plan->layout_bytes};
    if (plan->path == FQ_QS8_CONV_DWCONV3X3)
        job.blocks = p->batch * p->out_height;
    else if (plan->path == FQ_QS8_CONV_STEM)
        job.blocks = p->batch * p->out_height * stem_row_blocks(p);
    else
        job.blocks = (output_pixels(p) + plan->block_pixels - 1) / plan->block_pixels;
    atomic_store_explicit(&job.next, 0, memory_order_relaxed);
    size_t tasks = job.blocks < (size_t)plan->slots ? job.blocks : (size_t)plan->slots;
    fq_threadpool_parallel_for(pool, tasks, conv_slot, &job);

    if (!p->channels_last)
        transpose_planes(y_nhwc, p->batch, out_plane, p->out_channels, y);
}
