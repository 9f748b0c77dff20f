/* fp32 GEMM: kernel selection, weight packing and the blocked, threaded driver (the layout and
 * the microkernel contract are in f32_gemm.h). */
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "f32_gemm.h"
#include "facequant/alloc.h"
#include "runtime/threadpool.h"

static const fq_f32_gemm_kernel scalar_4x8 = {
    "f32_gemm_4x8__scalar", FQ_ISA_SCALAR, 4, 8, 256, fq_f32_gemm_ukernel_4x8__scalar,
    fq_f32_gemm_f16w_ukernel_4x8__scalar, "f32_gemm_f16w_4x8__scalar",
    fq_f32_gemm_offsets_ukernel_4x8__scalar, "f32_gemm_offsets_4x8__scalar",
    fq_f32_gemm_f16w_offsets_ukernel_4x8__scalar, "f32_gemm_f16w_offsets_4x8__scalar"};
#if defined(FQ_HAVE_ISA_SSE41)
static const fq_f32_gemm_kernel sse41_4x8 = {
    "f32_gemm_4x8__sse41", FQ_ISA_SSE41, 4, 8, 256, fq_f32_gemm_ukernel_4x8__sse41, NULL, NULL,
    fq_f32_gemm_offsets_ukernel_4x8__sse41, "f32_gemm_offsets_4x8__sse41"};
#endif
#if defined(FQ_HAVE_ISA_AVX2)
static const fq_f32_gemm_kernel avx2_6x16 = {
    "f32_gemm_6x16__avx2", FQ_ISA_AVX2, 6, 16, 256, fq_f32_gemm_ukernel_6x16__avx2,
    fq_f32_gemm_f16w_ukernel_6x16__avx2, "f32_gemm_f16w_6x16__avx2",
    fq_f32_gemm_offsets_ukernel_6x16__avx2, "f32_gemm_offsets_6x16__avx2",
    fq_f32_gemm_f16w_offsets_ukernel_6x16__avx2, "f32_gemm_f16w_offsets_6x16__avx2"};
#endif
#if defined(FQ_HAVE_ISA_AVX512)
static const fq_f32_gemm_kernel avx512_12x32 = {
    "f32_gemm_12x32__avx512", FQ_ISA_AVX512, 12, 32, 256, fq_f32_gemm_ukernel_12x32__avx512,
    fq_f32_gemm_f16w_ukernel_12x32__avx512, "f32_gemm_f16w_12x32__avx512",
    fq_f32_gemm_offsets_ukernel_12x32__avx512, "f32_gemm_offsets_12x32__avx512",
    fq_f32_gemm_f16w_offsets_ukernel_12x32__avx512, "f32_gemm_f16w_offsets_12x32__avx512",
    true, fq_f32_gemm_gemv_12x32__avx512};
static const fq_f32_gemm_kernel avx512_8x32 = {
    "f32_gemm_8x32__avx512", FQ_ISA_AVX512, 8, 32, 256, fq_f32_gemm_ukernel_8x32__avx512,
    fq_f32_gemm_f16w_ukernel_8x32__avx512, "f32_gemm_f16w_8x32__avx512",
    fq_f32_gemm_offsets_ukernel_8x32__avx512, "f32_gemm_offsets_8x32__avx512",
    fq_f32_gemm_f16w_offsets_ukernel_8x32__avx512, "f32_gemm_f16w_offsets_8x32__avx512",
    true, fq_f32_gemm_gemv_8x32__avx512};
static const fq_f32_gemm_kernel avx512_4x32 = {
    "f32_gemm_4x32__avx512", FQ_ISA_AVX512, 4, 32, 256, fq_f32_gemm_ukernel_4x32__avx512, NULL,
    NULL, fq_f32_gemm_offsets_ukernel_4x32__avx512, "f32_gemm_offsets_4x32__avx512", NULL,
    NULL, true, fq_f32_gemm_gemv_4x32__avx512};
#endif
/* fp16-weight twins of the NEON kernels widen with vcvt_f32_f16, which only aarch64 has: on
 * 32-bit Arm fp16 weights run on the scalar twin. */
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
static const fq_f32_gemm_kernel neon_8x12 = {
    "f32_gemm_8x12__neon", FQ_ISA_NEON, 8, 12, 256, fq_f32_gemm_ukernel_8x12__neon,
    fq_f32_gemm_f16w_ukernel_8x12__neon, "f32_gemm_f16w_8x12__neon",
    fq_f32_gemm_offsets_ukernel_8x12__neon, "f32_gemm_offsets_8x12__neon",
    fq_f32_gemm_f16w_offsets_ukernel_8x12__neon, "f32_gemm_f16w_offsets_8x12__neon"};
static const fq_f32_gemm_kernel neon_4x8 = {
    "f32_gemm_4x8__neon", FQ_ISA_NEON, 4, 8, 256, fq_f32_gemm_ukernel_4x8__neon,
    fq_f32_gemm_f16w_ukernel_4x8__neon, "f32_gemm_f16w_4x8__neon",
    fq_f32_gemm_offsets_ukernel_4x8__neon, "f32_gemm_offsets_4x8__neon",
    fq_f32_gemm_f16w_offsets_ukernel_4x8__neon, "f32_gemm_f16w_offsets_4x8__neon"};
#elif defined(FQ_HAVE_ISA_NEON)
static const fq_f32_gemm_kernel neon_4x8 = {
    "f32_gemm_4x8__neon", FQ_ISA_NEON, 4, 8, 256, fq_f32_gemm_ukernel_4x8__neon, NULL, NULL,
    fq_f32_gemm_offsets_ukernel_4x8__neon, "f32_gemm_offsets_4x8__neon"};
#endif

/* Best first; fq_f32_gemm_select takes the first one allowed. */
static const fq_f32_gemm_kernel *const kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512)
    &avx512_12x32,
    &avx512_8x32,
    &avx512_4x32,
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    &avx2_6x16,
#endif
#if defined(FQ_HAVE_ISA_SSE41)
    &sse41_4x8,
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    &neon_8x12,
#endif
#if defined(FQ_HAVE_ISA_NEON)
    &neon_4x8,
#endif
    &scalar_4x8,
};

const fq_f32_gemm_kernel *const *fq_f32_gemm_kernels(int *count)
{
    *count = (int)(sizeof(kernels) / sizeof(kernels[0]));
    return kernels;
}

/* The first kernel allowed under cap (with an fp16-weight twin when f16w). */
static const fq_f32_gemm_kernel *first_allowed(fq_isa cap, bool f16w)
{
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    for (int i = 0; i < count; i++)
        if (fq_isa_allowed(all[i]->isa, cap) && (!f16w || all[i]->ukernel_f16w != NULL))
            return all[i];
    return &scalar_4x8;
}

const fq_f32_gemm_kernel *fq_f32_gemm_select(fq_isa cap)
{
    return first_allowed(cap, false);
}

/* Among the kernels of the best ISA allowed, the tile height with the least work: the rows m
 * pads to, each row 2% dearer per row of height below the tallest tile (ties go to the taller
 * tile). A taller tile loads less per multiply-add and runs fewer tiles: on AVX-512 the 12-row
 * tile ran MobileFaceNet's 14x14 and 7x7 1x1 layers (128 to 512 rows, padded to 132 to 516)
 * 4-9% faster than the 8-row one, and lost 4% at 64 rows (padded to 72), so 8 rows cost 8%
 * more per row than 12. Tiles of fewer than 8 rows load X twice as often per multiply-add as
 * 8-row ones and keep fewer sums in flight, so they are taken only for products that fit in
 * one of them (the 2-channel score heads of the detectors), where a taller tile would mostly
 * compute padding rows. */
static const fq_f32_gemm_kernel *select_rows(fq_isa cap, int64_t m, bool f16w)
{
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    const fq_f32_gemm_kernel *best = first_allowed(cap, f16w);
    int tallest = best->mr;
    /* Work in fiftieths of a row: a row of an mr-row tile costs 50 + (tallest - mr). */
    int64_t best_work = (m + best->mr - 1) / best->mr * best->mr * 50;
    for (int i = 0; i < count; i++) {
        int64_t rows = (m + all[i]->mr - 1) / all[i]->mr * all[i]->mr;
        int64_t work = rows * (50 + tallest - all[i]->mr);
        bool usable = (!f16w || all[i]->ukernel_f16w != NULL) && (all[i]->mr >= 8 ||
                                                                  m <= all[i]->mr);
        if (all[i]->isa == best->isa && usable && work < best_work) {
            best = all[i];
            best_work = work;
        }
    }
    return best;
}

const fq_f32_gemm_kernel *fq_f32_gemm_select_rows(fq_isa cap, int64_t m)
{
    return select_rows(cap, m, false);
}

const fq_f32_gemm_kernel *fq_f32_gemm_select_rows_f16w(fq_isa cap, int64_t m)
{
    return select_rows(cap, m, true);
}

/* A panel of X read in place has its rows a row of X apart. From a page apart (4 KiB, so at
 * 1024 pixels and more) every row is in a page of its own, which the hardware prefetchers do
 * not follow, and rows a multiple of 4 KiB apart fall in the same few L1 sets: there the driver
 * copies each panel to the workspace once, for all the row panels of its range to read. Below,
 * the copy costs more than it saves (MobileFaceNet's 1x1 products 2-4% slower packed). */
enum { PACK_STRIDE_MIN = 1024 };

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t depth_blocks(int64_t k, int kc)
{
    return k > 0 ? (k + kc - 1) / kc : 1;
}

/* Floats of one packed panel: a bias slot per depth block and MR weights per depth row. */
static size_t panel_floats(int64_t k, int mr, int kc)
{
    return (size_t)(depth_blocks(k, kc) + k) * (size_t)mr;
}

static void pack_panel(const fq_f32_gemm_packed *p, int64_t i0, const float *w, int64_t w_stride,
                       const float *bias, float scale, float *out)
{
    int64_t rows = min64(p->mr, p->m - i0);
    for (int64_t k0 = 0; k0 < p->k || k0 == 0; k0 += p->kc) {
        int64_t kb = min64(p->kc, p->k - k0);
        for (int64_t r = 0; r < rows; r++)
            out[r] = k0 == 0 && bias != NULL ? bias[i0 + r] : 0.0f;
        out += p->mr;
        for (int64_t k = k0; k < k0 + kb; k++, out += p->mr)
            for (int64_t r = 0; r < rows; r++)
                out[r] = w[(i0 + r) * w_stride + k] * scale;
    }
}

fq_status fq_f32_gemm_pack(const fq_f32_gemm_kernel *kernel, int64_t m, int64_t k,
                           const float *w, int64_t w_stride, const float *bias, float scale,
                           fq_f32_gemm_packed *out, fq_error *err)
{
    memset(out, 0, sizeof(*out));
    if (m < 1 || k < 0 || w_stride < k)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "cannot pack a %lld x %lld weight matrix "
                            "with row stride %lld", (long long)m, (long long)k,
                            (long long)w_stride);
    int64_t panels = (m + kernel->mr - 1) / kernel->mr;
    size_t per_panel = panel_floats(k, kernel->mr, kernel->kc);
    out->m = m;
    out->k = k;
    out->mr = kernel->mr;
    out->kc = kernel->kc;
    out->floats = (size_t)panels * per_panel;
    out->data = fq_malloc_aligned(out->floats * sizeof(float));
    if (out->data == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate %zu bytes of packed "
                            "weights", out->floats * sizeof(float));
    memset(out->data, 0, out->floats * sizeof(float));
    for (int64_t p = 0; p < panels; p++)
        pack_panel(out, p * kernel->mr, w, w_stride, bias, scale, out->data + p * per_panel);
    return FQ_OK;
}

/* uint16_t elements of one fp16 panel: an fp32 bias slot (2 MR) per depth block, MR per row. */
static size_t panel_halves(int64_t k, int mr, int kc)
{
    return (size_t)(2 * depth_blocks(k, kc) + k) * (size_t)mr;
}

static void pack_panel_f16(const fq_f32_gemm_packed *p, int64_t i0, const uint16_t *w,
                           int64_t w_stride, const float *bias, uint16_t *out)
{
    int64_t rows = min64(p->mr, p->m - i0);
    for (int64_t k0 = 0; k0 < p->k || k0 == 0; k0 += p->kc) {
        int64_t kb = min64(p->kc, p->k - k0);
        if (k0 == 0 && bias != NULL)
            memcpy(out, bias + i0, (size_t)rows * sizeof(float));
        out += 2 * p->mr;
        for (int64_t k = k0; k < k0 + kb; k++, out += p->mr)
            for (int64_t r = 0; r < rows; r++)
                out[r] = w[(i0 + r) * w_stride + k];
    }
}

fq_status fq_f32_gemm_pack_f16(const fq_f32_gemm_kernel *kernel, int64_t m, int64_t k,
                               const uint16_t *w, int64_t w_stride, const float *bias,
                               fq_f32_gemm_packed *out, fq_error *err)
{
    memset(out, 0, sizeof(*out));
    if (kernel->ukernel_f16w == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s has no fp16-weight twin",
                            kernel->name);
    if (m < 1 || k < 0 || w_stride < k)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "cannot pack a %lld x %lld fp16 weight "
                            "matrix with row stride %lld", (long long)m, (long long)k,
                            (long long)w_stride);
    int64_t panels = (m + kernel->mr - 1) / kernel->mr;
    size_t per_panel = panel_halves(k, kernel->mr, kernel->kc);
    out->m = m;
    out->k = k;
    out->mr = kernel->mr;
    out->kc = kernel->kc;
    out->halves = (size_t)panels * per_panel;
    out->data_f16 = fq_malloc_aligned(out->halves * sizeof(uint16_t));
    if (out->data_f16 == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate %zu bytes of packed fp16 "
                            "weights", out->halves * sizeof(uint16_t));
    memset(out->data_f16, 0, out->halves * sizeof(uint16_t));
    for (int64_t p = 0; p < panels; p++)
        pack_panel_f16(out, p * kernel->mr, w, w_stride, bias, out->data_f16 + p * per_panel);
    return FQ_OK;
}

void fq_f32_gemm_packed_free(fq_f32_gemm_packed *packed)
{
    fq_free_aligned(packed->data);
    fq_free_aligned(packed->data_f16);
    memset(packed, 0, sizeof(*packed));
}

void fq_f32_gemm_tile(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w, int64_t i0,
                      int64_t k0, size_t nc, size_t kb, const float *x, size_t x_stride,
                      float *c, size_t c_stride, unsigned flags,
                      const fq_f32_gemm_params *params)
{
    size_t mr = (size_t)min64(w->mr, w->m - i0);
    size_t panel = (size_t)(i0 / w->mr);
    size_t block = (size_t)(k0 / w->kc);
    if (w->data_f16 != NULL) {
        size_t offset = panel * panel_halves(w->k, w->mr, w->kc) +
                        (2 * block + (size_t)k0) * (size_t)w->mr;
        kernel->ukernel_f16w(mr, nc, kb, x, x_stride, w->data_f16 + offset, c, c_stride, flags,
                             params);
        return;
    }
    size_t offset = panel * panel_floats(w->k, w->mr, w->kc) + (block + (size_t)k0) *
                    (size_t)w->mr;
    kernel->ukernel(mr, nc, kb, x, x_stride, w->data + offset, c, c_stride, flags, params);
}

void fq_f32_gemm_tile_offsets(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w,
                              int64_t i0, int64_t k0, size_t nc, size_t kb, const float *x,
                              const ptrdiff_t *offsets, float *c, size_t c_stride,
                              unsigned flags, const fq_f32_gemm_params *params)
{
    size_t mr = (size_t)min64(w->mr, w->m - i0);
    size_t panel = (size_t)(i0 / w->mr);
    size_t block = (size_t)(k0 / w->kc);
    if (w->data_f16 != NULL) {
        size_t offset = panel * panel_halves(w->k, w->mr, w->kc) +
                        (2 * block + (size_t)k0) * (size_t)w->mr;
        kernel->ukernel_f16w_offsets(mr, nc, kb, x, offsets + k0, w->data_f16 + offset, c,
                                     c_stride, flags, params);
        return;
    }
    size_t offset = panel * panel_floats(w->k, w->mr, w->kc) + (block + (size_t)k0) *
                    (size_t)w->mr;
    kernel->ukernel_offsets(mr, nc, kb, x, offsets + k0, w->data + offset, c, c_stride, flags,
                            params);
}

size_t fq_f32_gemm_range_bytes(void)
{
    size_t l2 = fq_cpu_features_get()->l2_bytes;
    return l2 >= 2 * FQ_F32_GEMM_RANGE_MIN_BYTES ? l2 / 2 : FQ_F32_GEMM_RANGE_MIN_BYTES;
}

/* Per task: one kc x nr panel of X, rounded up to whole cache lines. */
static size_t slot_floats(const fq_f32_gemm_kernel *kernel)
{
    size_t floats = (size_t)kernel->kc * (size_t)kernel->nr;
    return (floats + 15) & ~(size_t)15;
}

size_t fq_f32_gemm_workspace_size(const fq_f32_gemm_kernel *kernel, int slots)
{
    return slot_floats(kernel) * sizeof(float) * (size_t)(slots > 1 ? slots : 1);
}

static size_t packed_bytes(const fq_f32_gemm_packed *w)
{
    return w->data_f16 != NULL ? w->halves * sizeof(uint16_t) : w->floats * sizeof(float);
}

/* Tasks per column panel: weights over fq_f32_gemm_range_bytes() read by several column panels
 * take ranges of row panels, each run over every column panel while its weights stay in L2;
 * fewer column panels than threads (a product with one column: a fully connected layer on one
 * image, a 1x1 convolution of a 1x1 plane) split the row panels too. */
static size_t row_range_count(const fq_f32_gemm_packed *w, size_t panels, size_t slots)
{
    size_t row_panels = (size_t)((w->m + w->mr - 1) / w->mr);
    size_t range_bytes = fq_f32_gemm_range_bytes();
    size_t ranges = panels > 1 ? (packed_bytes(w) + range_bytes - 1) / range_bytes : 1;
    if (panels < slots && ranges < (slots + panels - 1) / panels)
        ranges = (slots + panels - 1) / panels;
    return ranges < row_panels ? ranges : row_panels;
}

size_t fq_f32_gemm_x_panels_floats(const fq_f32_gemm_kernel *kernel,
                                   const fq_f32_gemm_packed *w, int64_t n, int64_t x_stride)
{
    size_t panels = (size_t)((n + kernel->nr - 1) / kernel->nr);
    if (n < 1 || x_stride < PACK_STRIDE_MIN || row_range_count(w, panels, 1) < 2)
        return 0;
    return panels * (size_t)w->k * (size_t)kernel->nr;
}

typedef struct gemm_job {
    const fq_f32_gemm_kernel *kernel;
    const fq_f32_gemm_packed *w;
    int64_t n;
    const fq_f32_gemm_input *x;
    const float *residual; /* NULL, or R of fq_f32_gemm_run_add */
    float *c;
    int64_t c_stride;
    const fq_epilogue_f32 *act;
    fq_f32_gemm_params params;
    bool per_row_slopes;
    float *workspace;
    size_t panels;
    size_t row_ranges;  /* tasks per column panel, each a range of row panels */
    float *x_panels;    /* X packed ahead (fq_f32_gemm_input.panels), or NULL */
    atomic_size_t next;
} gemm_job;

static void pack_rows(const fq_f32_gemm_input *x, int64_t k0, int64_t kc, int64_t j0,
                      int64_t nc, int nr, float *panel)
{
    for (int64_t k = 0; k < kc; k++) {
        const float *src = x->x + (k0 + k) * x->x_stride + j0;
        float *dst = panel + k * nr;
        memcpy(dst, src, (size_t)nc * sizeof(float));
        for (int64_t j = nc; j < nr; j++)
            dst[j] = 0.0f;
    }
}

/* C += R over rows [i0, i1) and columns [j0, j0 + nc), a tile just finished. */
static void add_residual(const gemm_job *job, int64_t i0, int64_t i1, int64_t j0, int64_t nc)
{
    for (int64_t i = i0; i < i1; i++) {
        float *c = job->c + i * job->c_stride + j0;
        const float *r = job->residual + i * job->c_stride + j0;
        for (int64_t j = 0; j < nc; j++)
            c[j] += r[j];
    }
}

/* run_rows for a one-column panel on a kernel with ukernel_gemv: every row panel in one call,
 * which keeps several panels' sums in flight. */
static void run_gemv(const gemm_job *job, int64_t i_lo, int64_t i_hi, int64_t j0, int64_t k0,
                     int64_t kb, const float *xp, size_t x_stride, unsigned flags)
{
    const fq_f32_gemm_packed *w = job->w;
    fq_f32_gemm_params params = job->params;
    if (job->per_row_slopes)
        params.slopes = job->act->slopes + i_lo;
    if (job->residual != NULL && (flags & FQ_F32_GEMM_LAST))
        params.residual = job->residual + i_lo * job->c_stride + j0;
    size_t panels = (size_t)((i_hi - i_lo + w->mr - 1) / w->mr);
    size_t last_mr = (size_t)(i_hi - i_lo - (int64_t)(panels - 1) * w->mr);
    size_t floats = panel_floats(w->k, w->mr, w->kc);
    size_t offset = (size_t)(i_lo / w->mr) * floats +
                    ((size_t)(k0 / w->kc) + (size_t)k0) * (size_t)w->mr;
    job->kernel->ukernel_gemv(panels, last_mr, (size_t)kb, xp, x_stride, w->data + offset, floats,
                              job->c + i_lo * job->c_stride + j0,
                              (size_t)job->c_stride * sizeof(float), flags, &params);
}

/* Rows [i_lo, i_hi) of C (whole row panels) of one column panel, depth block k0. */
static void run_rows(const gemm_job *job, int64_t i_lo, int64_t i_hi, int64_t j0, int64_t nc,
                     int64_t k0, int64_t kb, const float *xp, size_t x_stride)
{
    const fq_f32_gemm_packed *w = job->w;
    unsigned flags = (k0 == 0 ? FQ_F32_GEMM_FIRST : 0u) |
                     (k0 + kb >= w->k ? FQ_F32_GEMM_LAST : 0u);
    fq_f32_gemm_params params = job->params;
    if (nc == 1 && job->kernel->ukernel_gemv != NULL && w->data_f16 == NULL) {
        run_gemv(job, i_lo, i_hi, j0, k0, kb, xp, x_stride, flags);
        return;
    }
    for (int64_t i0 = i_lo; i0 < i_hi; i0 += w->mr) {
        if (job->per_row_slopes)
            params.slopes = job->act->slopes + i0;
        float *c = job->c + i0 * job->c_stride + j0;
        bool residual = job->residual != NULL && (flags & FQ_F32_GEMM_LAST);
        if (residual && job->kernel->adds_residual)
            params.residual = job->residual + i0 * job->c_stride + j0;
        fq_f32_gemm_tile(job->kernel, w, i0, k0, (size_t)nc, (size_t)kb, xp, x_stride, c,
                         (size_t)job->c_stride * sizeof(float), flags, &params);
        if (residual && !job->kernel->adds_residual)
            add_residual(job, i0, min64(i0 + w->mr, w->m), j0, nc);
    }
}

/* Task `index`: row range index / panels of the row panels, column panel index % panels. Tasks
 * run in increasing order, so the threads work through one range's weights at a time. */
static void run_panel(const gemm_job *job, size_t index, float *scratch)
{
    const fq_f32_gemm_input *x = job->x;
    int nr = job->kernel->nr;
    int64_t j0 = (int64_t)(index % job->panels) * nr;
    int64_t nc = min64(nr, job->n - j0);
    int64_t row_panels = (job->w->m + job->w->mr - 1) / job->w->mr;
    int64_t range = (int64_t)(index / job->panels), ranges = (int64_t)job->row_ranges;
    int64_t i_lo = range * row_panels / ranges * job->w->mr;
    int64_t i_hi = min64((range + 1) * row_panels / ranges * job->w->mr, job->w->m);
    bool pack = x->pack != NULL || nc < nr ||
                (x->x_stride >= PACK_STRIDE_MIN && i_hi - i_lo > job->w->mr);
    for (int64_t k0 = 0; k0 < job->w->k || k0 == 0; k0 += job->w->kc) {
        int64_t kb = min64(job->w->kc, job->w->k - k0);
        const float *xp = scratch;
        size_t x_stride = (size_t)nr * sizeof(float);
        if (job->x_panels != NULL) {
            xp = job->x_panels + (index % job->panels) * (size_t)job->w->k * (size_t)nr +
                 (size_t)k0 * (size_t)nr;
        } else if (x->pack != NULL) {
            x->pack(x->pack_ctx, k0, kb, j0, nc, nr, scratch);
        } else if (pack) {
            pack_rows(x, k0, kb, j0, nc, nr, scratch);
        } else {
            xp = x->x + k0 * x->x_stride + j0;
            x_stride = (size_t)x->x_stride * sizeof(float);
        }
        run_rows(job, i_lo, i_hi, j0, nc, k0, kb, xp, x_stride);
    }
    if (job->act->kind == FQ_EPILOGUE_F32_SIGMOID)
        for (int64_t i = i_lo; i < i_hi; i++)
            fq_ref_bias_activation_f32(job->c + i * job->c_stride + j0, nc, 0.0f, job->act, i);
}

/* One slot of the pool: takes tasks until none are left. */
static void run_slot(void *ctx, size_t slot)
{
    gemm_job *job = ctx;
    float *scratch = job->workspace + slot * slot_floats(job->kernel);
    for (;;) {
        size_t index = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (index >= job->panels * job->row_ranges)
            return;
        run_panel(job, index, scratch);
    }
}

/* One slot of the pool packing X ahead: column panels until none are left. */
static void pack_slot(void *ctx, size_t slot)
{
    (void)slot;
    gemm_job *job = ctx;
    int nr = job->kernel->nr;
    size_t panel_floats_x = (size_t)job->w->k * (size_t)nr;
    for (;;) {
        size_t p = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (p >= job->panels)
            return;
        int64_t j0 = (int64_t)p * nr;
        pack_rows(job->x, 0, job->w->k, j0, min64(nr, job->n - j0), nr,
                  job->x_panels + p * panel_floats_x);
    }
}

static fq_f32_gemm_params kernel_params(const fq_epilogue_f32 *act, bool *per_row)
{
    fq_f32_gemm_params p = {.kind = act->kind, .alpha = act->alpha, .beta = act->beta};
    *per_row = false;
    if (act->kind == FQ_EPILOGUE_F32_PRELU && act->slope_count > 1) {
        *per_row = true;
    } else if (act->kind == FQ_EPILOGUE_F32_PRELU) {
        p.kind = FQ_EPILOGUE_F32_LEAKY_RELU;
        p.alpha = act->slope_count == 1 ? act->slopes[0] : 0.0f;
    }
    return p;
}

static void run(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w, int64_t n,
                const fq_f32_gemm_input *x, const float *r, float *c, int64_t c_stride,
                const fq_epilogue_f32 *act, void *workspace, struct fq_threadpool *pool)
{
    if (n <= 0)
        return;
    gemm_job job = {.kernel = kernel, .w = w, .n = n, .x = x, .residual = r, .c = c,
                    .c_stride = c_stride, .act = act, .workspace = workspace,
                    .panels = (size_t)((n + kernel->nr - 1) / kernel->nr)};
    job.params = kernel_params(act, &job.per_row_slopes);
    atomic_init(&job.next, 0);
    size_t slots = (size_t)fq_threadpool_size(pool);
    job.row_ranges = row_range_count(w, job.panels, slots);
    if (x->pack == NULL && x->panels != NULL &&
        fq_f32_gemm_x_panels_floats(kernel, w, n, x->x_stride) > 0) {
        job.x_panels = x->panels;
        fq_threadpool_parallel_for(pool, slots < job.panels ? slots : job.panels, pack_slot,
                                   &job);
        atomic_store_explicit(&job.next, 0, memory_order_relaxed);
    }
    size_t tasks = job.panels * job.row_ranges;
    fq_threadpool_parallel_for(pool, slots < tasks ? slots : tasks, run_slot, &job);
}

void fq_f32_gemm_run(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w, int64_t n,
                     const fq_f32_gemm_input *x, float *c, int64_t c_stride,
                     const fq_epilogue_f32 *act, void *workspace, struct fq_threadpool *pool)
{
    run(kernel, w, n, x, NULL, c, c_stride, act, workspace, pool);
}

void fq_f32_gemm_run_add(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w,
                         int64_t n, const fq_f32_gemm_input *x, const float *r, float *c,
                         int64_t c_stride, const fq_epilogue_f32 *act, void *workspace,
                         struct fq_threadpool *pool)
{
    run(kernel, w, n, x, r, c, c_stride, act, workspace, pool);
}
