/* fp32 GEMM family: microkernels per ISA, the packed-weight layout, packing, selection and the
 * blocked, threaded driver that convolutions and Gemm use.
 *
 * The product is C[M x N] = W[M x K] * X[K x N] + bias[M], then an activation. W is the constant
 * operand (convolution weights OIHW read as M x K, or a Gemm's B transposed), packed once; X is
 * the data (an NCHW input read as K x HW, or an im2col of it), so output channels are the rows
 * of C and pixels its columns: a row of C is a contiguous run of one NCHW output plane, and the
 * vector lanes of every kernel run along pixels.
 *
 * Packed weights, per panel of MR rows (the last panel padded with zero rows) and, inside it,
 * per depth block of KC rows of X (the last block shorter):
 *
 *     [MR floats: the panel's bias in the first block, zero in later blocks]
 *     [kc x MR floats: W[r][k] at k * MR + r, for k in the block]
 *
 * Microkernel contract (every ISA, every tile):
 *
 *     ukernel(mr, nc, kc, x, x_stride, w, c, c_stride, flags, params)
 *
 * computes rows [0, mr) and columns [0, nc) of one tile, 1 <= mr <= MR, 1 <= nc <= NR:
 *   x         kc rows of X, x_stride bytes apart, NR floats readable in each row (the driver
 *             packs short blocks into a zero-padded panel);
 *   w         one depth block of one packed panel (bias slot, then kc x MR weights);
 *   c         mr rows of C, c_stride bytes apart; only columns [0, nc) are read or written;
 *   flags     FQ_F32_GEMM_FIRST: sums start from the bias slot, else from C (a later depth
 *             block); FQ_F32_GEMM_LAST: the activation of params is applied before storing;
 *   params    the fused activation; PRELU slopes are per row, params->slopes[r] for row r.
 * Sums run over k in increasing order starting from the bias, with FMA where the ISA has it, so
 * a result differs from the reference (sum, then bias, no FMA) by rounding only: the tests hold
 * every kernel to |simd - ref| <= 1e-5 * (sum over k of |w * x| + |bias|) + 1e-6, a bound on the
 * rounding error of any summation order. Sigmoid is not applied by microkernels: the driver runs
 * the reference sigmoid over finished rows, so it is bit-identical to the reference.
 *
 * fp16 weights ("f16w"): a kernel may have a twin, ukernel_f16w, with the same tile, contract and
 * order of operations that reads the weights as fp16 (IEEE binary16 bit patterns) and widens each
 * to fp32 before its multiply-add. Its packed panels (fq_f32_gemm_pack_f16) have the layout above
 * in uint16_t elements, except that the bias slot stays fp32: per depth block
 *
 *     [MR fp32 biases as 2 * MR uint16_t (the float's bytes), zero in later blocks]
 *     [kc x MR fp16 weights: W[r][k] at k * MR + r]
 *
 * so a twin's result equals the fp32 kernel's on the fp16-rounded weights bit for bit.
 *
 * Offset-table variant ("offsets"): a kernel may have a second form, ukernel_offsets, with the
 * same tile, contract and order of sums except for how X is addressed: row k of X starts at
 * x + offsets[k] (offsets in floats, NR floats readable at each), so X may be any set of runs
 * of one buffer, for instance every tap of a convolution over padded input planes, and one call
 * sums a whole depth block however its rows lie. The caller builds the table once. The form's
 * fp16-weight twin, ukernel_f16w_offsets, reads the fp16 layout above as ukernel_f16w does.
 */
#ifndef FQ_KERNELS_F32_GEMM_H
#define FQ_KERNELS_F32_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/cpu.h"
#include "facequant/status.h"
#include "ref/f32_bias_activation_ref.h"

struct fq_threadpool;

enum { FQ_F32_GEMM_FIRST = 1, FQ_F32_GEMM_LAST = 2 };

/* Activation a microkernel applies under FQ_F32_GEMM_LAST. kind is one of NONE, RELU, CLIP
 * (alpha = min, beta = max), LEAKY_RELU (alpha) and PRELU (slopes per row); SIGMOID is treated
 * as NONE by microkernels (see above). */
typedef struct fq_f32_gemm_params {
    fq_epilogue_f32_kind kind;
    float alpha;
    float beta;
    const float *slopes;
    /* Kernels with adds_residual, FQ_F32_GEMM_LAST calls: NULL, or R at the tile's origin,
     * its rows c_stride bytes apart like C's: each stored element is fl(act(sum) + R). */
    const float *residual;
} fq_f32_gemm_params;

typedef void (*fq_f32_gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float *x,
                                       size_t x_stride, const float *w, float *c,
                                       size_t c_stride, unsigned flags,
                                       const fq_f32_gemm_params *params);

/* A matrix-vector product (one column) over `panels` consecutive packed panels of one depth
 * block, panel_floats apart, the last with last_mr rows: the tile's contract for each panel at
 * nc = 1, with C's rows of panel q from c + q * MR rows and params' slopes and residual moved
 * along with them; several panels' sums in flight at once (a column's sums are one chain of
 * multiply-adds), each in the tile's order. */
typedef void (*fq_f32_gemm_gemv_fn)(size_t panels, size_t last_mr, size_t kc, const float *x,
                                    size_t x_stride, const float *w, size_t panel_floats,
                                    float *c, size_t c_stride, unsigned flags,
                                    const fq_f32_gemm_params *params);

typedef void (*fq_f32_gemm_f16w_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float *x,
                                            size_t x_stride, const uint16_t *w, float *c,
                                            size_t c_stride, unsigned flags,
                                            const fq_f32_gemm_params *params);

typedef void (*fq_f32_gemm_offsets_ukernel_fn)(size_t mr, size_t nc, size_t kc,
                                               const float *x, const ptrdiff_t *offsets,
                                               const float *w, float *c, size_t c_stride,
                                               unsigned flags,
                                               const fq_f32_gemm_params *params);

typedef void (*fq_f32_gemm_f16w_offsets_ukernel_fn)(size_t mr, size_t nc, size_t kc,
                                                    const float *x, const ptrdiff_t *offsets,
                                                    const uint16_t *w, float *c,
                                                    size_t c_stride, unsigned flags,
                                                    const fq_f32_gemm_params *params);

typedef struct fq_f32_gemm_kernel {
    const char *name;      /* "f32_gemm_12x32__avx512" */
    fq_isa isa;
    int mr;                /* rows per tile (output channels) */
    int nr;                /* columns per tile (pixels), a multiple of the vector width */
    int kc;                /* depth block: a kc x nr panel of X stays in L1 */
    fq_f32_gemm_ukernel_fn ukernel;
    fq_f32_gemm_f16w_ukernel_fn ukernel_f16w; /* the fp16-weight twin, or NULL */
    const char *name_f16w;                   /* "f32_gemm_f16w_12x32__avx512", or NULL */
    fq_f32_gemm_offsets_ukernel_fn ukernel_offsets; /* the offset-table form, or NULL */
    const char *name_offsets;                       /* "f32_gemm_offsets_12x32__avx512" */
    fq_f32_gemm_f16w_offsets_ukernel_fn ukernel_f16w_offsets; /* its fp16 twin, or NULL */
    const char *name_f16w_offsets;                  /* "f32_gemm_f16w_offsets_12x32__avx512" */
    bool adds_residual; /* its tiles add fq_f32_gemm_params.residual (else the driver does) */
    fq_f32_gemm_gemv_fn ukernel_gemv; /* one-column products over many panels, or NULL */
} fq_f32_gemm_kernel;

/* The best kernel allowed under cap on this CPU (the portable scalar one when no SIMD kernel
 * is). Never NULL. */
const fq_f32_gemm_kernel *fq_f32_gemm_select(fq_isa cap);
/* Like fq_f32_gemm_select, then among kernels of the same ISA the one whose tile height pads
 * m rows the least. */
const fq_f32_gemm_kernel *fq_f32_gemm_select_rows(fq_isa cap, int64_t m);
/* Like fq_f32_gemm_select_rows among the kernels that have an fp16-weight twin. Never NULL (the
 * scalar kernel has one). */
const fq_f32_gemm_kernel *fq_f32_gemm_select_rows_f16w(fq_isa cap, int64_t m);
/* Every compiled kernel, best first, ending with the scalar one; *count gets their number. */
const fq_f32_gemm_kernel *const *fq_f32_gemm_kernels(int *count);

/* Weights packed for one kernel, fp32 (data) or fp16 (data_f16, the other NULL); FQ_ALIGNMENT
 * aligned, freed by fq_f32_gemm_packed_free. */
typedef struct fq_f32_gemm_packed {
    int64_t m, k;
    int mr, kc;
    float *data;
    size_t floats;
    uint16_t *data_f16;
    size_t halves;
} fq_f32_gemm_packed;

/* Packs W (m x k, rows w_stride floats apart) and bias (m values, or NULL for zero) for kernel.
 * scale multiplies every weight (Gemm's alpha; 1 otherwise). */
fq_status fq_f32_gemm_pack(const fq_f32_gemm_kernel *kernel, int64_t m, int64_t k,
                           const float *w, int64_t w_stride, const float *bias, float scale,
                           fq_f32_gemm_packed *out, fq_error *err);
/* The same from fp16 weights (bit patterns, rows w_stride elements apart) and an fp32 bias, into
 * the fp16 layout above; the kernel must have an fp16-weight twin. */
fq_status fq_f32_gemm_pack_f16(const fq_f32_gemm_kernel *kernel, int64_t m, int64_t k,
                               const uint16_t *w, int64_t w_stride, const float *bias,
                               fq_f32_gemm_packed *out, fq_error *err);
void fq_f32_gemm_packed_free(fq_f32_gemm_packed *packed);

/* One microkernel call on the packed panel holding row i0 (a multiple of mr) and the depth block
 * starting at k0 (a multiple of kc): the fp32 kernel or its fp16-weight twin, by w's form. */
void fq_f32_gemm_tile(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w, int64_t i0,
                      int64_t k0, size_t nc, size_t kb, const float *x, size_t x_stride,
                      float *c, size_t c_stride, unsigned flags,
                      const fq_f32_gemm_params *params);

/* The same through the offset-table form or its fp16-weight twin (the kernel must have the one
 * w's form needs): row k of X, for k in [k0, k0 + kb), is read at x + offsets[k]. */
void fq_f32_gemm_tile_offsets(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w,
                              int64_t i0, int64_t k0, size_t nc, size_t kb, const float *x,
                              const ptrdiff_t *offsets, float *c, size_t c_stride,
                              unsigned flags, const fq_f32_gemm_params *params);

/* Fills panel (kc x nr floats, row k at panel + k * nr) with rows [k0, k0 + kc) and columns
 * [j0, j0 + nc) of X, zero in columns [nc, nr). ctx describes X. */
typedef void (*fq_f32_gemm_pack_x_fn)(const void *ctx, int64_t k0, int64_t kc, int64_t j0,
                                      int64_t nc, int nr, float *panel);

/* X as the driver reads it: either rows of a matrix (rows x_stride floats apart, packed only
 * where packing pays), or a packing function (im2col) that builds every panel.
 *
 * panels (optional, for a matrix X) is scratch of fq_f32_gemm_x_panels_floats() floats, 64-byte
 * aligned. Where that count is not 0 (weights in several ranges, each reading every panel of X
 * copied from rows a page or more apart), the driver first packs all of X into it, one k x nr
 * panel per column panel, split over the threads, and every range then reads the panels in
 * place: X is copied once instead of once per range, and each range reads it sequentially. */
typedef struct fq_f32_gemm_input {
    const float *x;
    int64_t x_stride;
    fq_f32_gemm_pack_x_fn pack;
    const void *pack_ctx;
    float *panels;
} fq_f32_gemm_input;

/* Packed weights of more than fq_f32_gemm_range_bytes() run in ranges of row panels: each
 * range over every column panel in turn, while its weights stay in L2. The range is half of
 * the L2 cache the CPU reports, and FQ_F32_GEMM_RANGE_MIN_BYTES where it reports none or less
 * than twice that. */
#define FQ_F32_GEMM_RANGE_MIN_BYTES (256u * 1024u)
size_t fq_f32_gemm_range_bytes(void);

/* Workspace bytes fq_f32_gemm_run needs for one of `slots` concurrent tasks. */
size_t fq_f32_gemm_workspace_size(const fq_f32_gemm_kernel *kernel, int slots);

/* Floats of fq_f32_gemm_input.panels the driver uses for a product of w and an n-column X read
 * in place with rows x_stride floats apart: 0 where it would not pack X ahead of the ranges. */
size_t fq_f32_gemm_x_panels_floats(const fq_f32_gemm_kernel *kernel,
                                   const fq_f32_gemm_packed *w, int64_t n, int64_t x_stride);

/* C (m x n, rows c_stride floats apart) = packed W * X + bias, activation act (PRELU slopes
 * per row; slope_count 1 means one slope for all rows). Column panels of nr (and ranges of row
 * panels, see above) are spread over pool's threads; every element is computed by one thread
 * in the same order whatever the thread count. workspace has
 * fq_f32_gemm_workspace_size(kernel, threads of pool) bytes. */
void fq_f32_gemm_run(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w, int64_t n,
                     const fq_f32_gemm_input *x, float *c, int64_t c_stride,
                     const fq_epilogue_f32 *act, void *workspace, struct fq_threadpool *pool);

/* fq_f32_gemm_run, then C += R (m x n, rows c_stride floats apart, as C's): each tile adds R
 * right after its activation, while the tile is in L1 (a residual Add fused into the product
 * before it). Each element is fl(C + R), the Add's own sum. act must not be SIGMOID. */
void fq_f32_gemm_run_add(const fq_f32_gemm_kernel *kernel, const fq_f32_gemm_packed *w,
                         int64_t n, const fq_f32_gemm_input *x, const float *r, float *c,
                         int64_t c_stride, const fq_epilogue_f32 *act, void *workspace,
                         struct fq_threadpool *pool);

/* Kernels per ISA (defined where FQ_HAVE_ISA_<NAME> is). */
void fq_f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *x,
                                     size_t x_stride, const float *w, float *c,
                                     size_t c_stride, unsigned flags,
                                     const fq_f32_gemm_params *params);
void fq_f32_gemm_ukernel_4x8__sse41(size_t mr, size_t nc, size_t kc, const float *x,
                                    size_t x_stride, const float *w, float *c, size_t c_stride,
                                    unsigned flags, const fq_f32_gemm_params *params);
void fq_f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *x,
                                    size_t x_stride, const float *w, float *c, size_t c_stride,
                                    unsigned flags, const fq_f32_gemm_params *params);
void fq_f32_gemm_gemv_12x32__avx512(size_t panels, size_t last_mr, size_t kc, const float *x,
                                 size_t x_stride, const float *w, size_t panel_floats, float *c,
                                 size_t c_stride, unsigned flags,
                                 const fq_f32_gemm_params *params);
void fq_f32_gemm_ukernel_12x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                       size_t x_stride, const float *w, float *c,
                                       size_t c_stride, unsigned flags,
                                       const fq_f32_gemm_params *params);
void fq_f32_gemm_gemv_8x32__avx512(size_t panels, size_t last_mr, size_t kc, const float *x,
                                 size_t x_stride, const float *w, size_t panel_floats, float *c,
                                 size_t c_stride, unsigned flags,
                                 const fq_f32_gemm_params *params);
void fq_f32_gemm_ukernel_8x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                      size_t x_stride, const float *w, float *c,
                                      size_t c_stride, unsigned flags,
                                      const fq_f32_gemm_params *params);
void fq_f32_gemm_gemv_4x32__avx512(size_t panels, size_t last_mr, size_t kc, const float *x,
                                 size_t x_stride, const float *w, size_t panel_floats, float *c,
                                 size_t c_stride, unsigned flags,
                                 const fq_f32_gemm_params *params);
void fq_f32_gemm_ukernel_4x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                      size_t x_stride, const float *w, float *c,
                                      size_t c_stride, unsigned flags,
                                      const fq_f32_gemm_params *params);
void fq_f32_gemm_ukernel_8x12__neon(size_t mr, size_t nc, size_t kc, const float *x,
                                    size_t x_stride, const float *w, float *c, size_t c_stride,
                                    unsigned flags, const fq_f32_gemm_params *params);
void fq_f32_gemm_ukernel_4x8__neon(size_t mr, size_t nc, size_t kc, const float *x,
                                   size_t x_stride, const float *w, float *c, size_t c_stride,
                                   unsigned flags, const fq_f32_gemm_params *params);

/* fp16-weight twins (same tiles as the fp32 kernels above). */
void fq_f32_gemm_f16w_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *x,
                                          size_t x_stride, const uint16_t *w, float *c,
                                          size_t c_stride, unsigned flags,
                                          const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *x,
                                         size_t x_stride, const uint16_t *w, float *c,
                                         size_t c_stride, unsigned flags,
                                         const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_ukernel_12x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                            size_t x_stride, const uint16_t *w, float *c,
                                            size_t c_stride, unsigned flags,
                                            const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_ukernel_8x12__neon(size_t mr, size_t nc, size_t kc, const float *x,
                                         size_t x_stride, const uint16_t *w, float *c,
                                         size_t c_stride, unsigned flags,
                                         const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_ukernel_4x8__neon(size_t mr, size_t nc, size_t kc, const float *x,
                                        size_t x_stride, const uint16_t *w, float *c,
                                        size_t c_stride, unsigned flags,
                                        const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_ukernel_8x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                           size_t x_stride, const uint16_t *w, float *c,
                                           size_t c_stride, unsigned flags,
                                           const fq_f32_gemm_params *params);

/* Offset-table forms (same tiles as the fp32 kernels above). */
void fq_f32_gemm_offsets_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *x,
                                             const ptrdiff_t *offsets, const float *w, float *c,
                                             size_t c_stride, unsigned flags,
                                             const fq_f32_gemm_params *params);
void fq_f32_gemm_offsets_ukernel_4x8__sse41(size_t mr, size_t nc, size_t kc, const float *x,
                                            const ptrdiff_t *offsets, const float *w, float *c,
                                            size_t c_stride, unsigned flags,
                                            const fq_f32_gemm_params *params);
void fq_f32_gemm_offsets_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *x,
                                            const ptrdiff_t *offsets, const float *w, float *c,
                                            size_t c_stride, unsigned flags,
                                            const fq_f32_gemm_params *params);
void fq_f32_gemm_offsets_ukernel_12x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                               const ptrdiff_t *offsets, const float *w, float *c,
                                               size_t c_stride, unsigned flags,
                                               const fq_f32_gemm_params *params);
void fq_f32_gemm_offsets_ukernel_8x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                              const ptrdiff_t *offsets, const float *w, float *c,
                                              size_t c_stride, unsigned flags,
                                              const fq_f32_gemm_params *params);
void fq_f32_gemm_offsets_ukernel_4x32__avx512(size_t mr, size_t nc, size_t kc, const float *x,
                                              const ptrdiff_t *offsets, const float *w, float *c,
                                              size_t c_stride, unsigned flags,
                                              const fq_f32_gemm_params *params);
void fq_f32_gemm_offsets_ukernel_8x12__neon(size_t mr, size_t nc, size_t kc, const float *x,
                                            const ptrdiff_t *offsets, const float *w, float *c,
                                            size_t c_stride, unsigned flags,
                                            const fq_f32_gemm_params *params);
void fq_f32_gemm_offsets_ukernel_4x8__neon(size_t mr, size_t nc, size_t kc, const float *x,
                                           const ptrdiff_t *offsets, const float *w, float *c,
                                           size_t c_stride, unsigned flags,
                                           const fq_f32_gemm_params *params);

/* fp16-weight twins of the offset-table forms. */
void fq_f32_gemm_f16w_offsets_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc,
                                                  const float *x, const ptrdiff_t *offsets,
                                                  const uint16_t *w, float *c, size_t c_stride,
                                                  unsigned flags,
                                                  const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_offsets_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc,
                                                 const float *x, const ptrdiff_t *offsets,
                                                 const uint16_t *w, float *c, size_t c_stride,
                                                 unsigned flags,
                                                 const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_offsets_ukernel_12x32__avx512(size_t mr, size_t nc, size_t kc,
                                                    const float *x, const ptrdiff_t *offsets,
                                                    const uint16_t *w, float *c, size_t c_stride,
                                                    unsigned flags,
                                                    const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_offsets_ukernel_8x32__avx512(size_t mr, size_t nc, size_t kc,
                                                   const float *x, const ptrdiff_t *offsets,
                                                   const uint16_t *w, float *c, size_t c_stride,
                                                   unsigned flags,
                                                   const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_offsets_ukernel_8x12__neon(size_t mr, size_t nc, size_t kc,
                                                 const float *x, const ptrdiff_t *offsets,
                                                 const uint16_t *w, float *c, size_t c_stride,
                                                 unsigned flags,
                                                 const fq_f32_gemm_params *params);
void fq_f32_gemm_f16w_offsets_ukernel_4x8__neon(size_t mr, size_t nc, size_t kc,
                                                const float *x, const ptrdiff_t *offsets,
                                                const uint16_t *w, float *c, size_t c_stride,
                                                unsigned flags,
                                                const fq_f32_gemm_params *params);

#endif
