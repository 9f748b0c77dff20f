/* fp16 GEMM, convolution and depthwise 3x3 kernels, and the fp16 range check of the converter.
 *
 * Two kernel families share one packed-weight layout:
 *
 *   f16 GEMM       fp16 activations in, fp16 out, fp16 arithmetic and fp16 accumulation. Runs
 *                  only where the ISA has fp16 arithmetic: AVX512-FP16 (vfmadd231ph) and ARMv8.2
 *                  fp16 (vfmaq_f16). fq_f16_gemm_select() returns NULL elsewhere.
 *   f16w_f32 GEMM  "fp16 storage, fp32 compute": fp32 activations in and out, fp16 packed weights
 *                  converted to fp32 in registers (F16C vcvtph2ps on AVX2 and AVX-512,
 *                  vcvt_f32_f16 on aarch64 NEON), fp32 fused multiply-add and fp32
 *                  accumulation. The scalar reference twin makes it available on every CPU.
 *
 * fp16 values are IEEE binary16 bit patterns in uint16_t (fq_f16_from_f32 / fq_f32_from_f16 in
 * ref/tensor_cast_ref.h convert them, rounding to nearest even).
 *
 * Packed weights (both families, and the convolution): the N output columns are cut into panels
 * of nr columns; panel p holds nr biases, then for every k in 0..K-1 the nr weights of row k
 * (columns p*nr .. p*nr+nr-1), all fp16. Panel p starts at element p * nr * (K + 1). Columns past
 * N in the last panel are zero. The bias is fp16 in both families: the f16w_f32 kernels widen it
 * to fp32 before the first product, so both families see the same rounded bias.
 *
 * Microkernel contract: C[i][j] = clamp(bias[j] + sum over k = 0..kc-1 in increasing order of
 * A[i][k] * W[k][j]) for i < mr (1 <= mr <= MR of the kernel) and j < nc (nc >= 1, any number of
 * panels); kc >= 1. Strides count elements, not bytes. The sum starts from the bias and adds one
 * product at a time with a fused multiply-add, in the kernel's arithmetic:
 *   - f16: every step rounds to fp16. Accuracy consequence: the running sum keeps 11 significant
 *     bits, so each addition can lose up to 2^-11 of the running sum; over K terms the error
 *     grows like K * 2^-11 of the sum of magnitudes in the worst case (about sqrt(K) * 2^-11
 *     typically), and a product smaller than 2^-12 of the running sum is lost entirely. Sums
 *     above 65504 become infinity. The converter must keep layers with long K (thousands) or
 *     large dynamic range in the f16w_f32 or fp32 path.
 *   - f16w_f32: every step rounds to fp32, as in the fp32 reference.
 * Then the result is clamped to [min, max] (ReLU, ReLU6 and Clip fuse into it; pass -inf, +inf
 * for none), and the f16 family rounds nothing more (it is already fp16).
 *
 * Tolerances the tests hold the SIMD kernels to against the reference twins (kernels/ref/
 * f16_gemm_ref.h), which follow the same order and precision:
 *   f16       |C - C_ref| <= 1e-2 * (|bias| + sum |A * W|) + 2^-24 (covers the rare case where the
 *             reference's fmaf-then-round-to-fp16 rounds twice where the ISA rounds once, and
 *             the effect of that step on later sums)
 *   f16w_f32  |C - C_ref| <= 1e-5 * (|bias| + sum |A * W|) (in practice bit-exact: every
 *             kernel, the scalar one included, fuses each step in the reference's order)
 */
#ifndef FQ_KERNELS_F16_GEMM_H
#define FQ_KERNELS_F16_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facequant/cpu.h"

/* Largest finite fp16 value. */
#define FQ_F16_MAX 65504.0f

/* Output clamp of the f16 family, fp16 bit patterns. */
typedef struct fq_f16_minmax {
    uint16_t min;
    uint16_t max;
} fq_f16_minmax;

/* Output clamp of the f16w_f32 family. */
typedef struct fq_f16w_f32_minmax {
    float min;
    float max;
} fq_f16w_f32_minmax;

typedef void (*fq_f16_gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const uint16_t *a,
                                       size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                                       size_t c_stride, const fq_f16_minmax *params);

typedef void (*fq_f16w_f32_gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float *a,
                                            size_t a_stride, const uint16_t *packed_w, float *c,
                                            size_t c_stride, const fq_f16w_f32_minmax *params);

typedef struct fq_f16_gemm_kernel {
    const char *name; /* the microkernel's name, such as "f16_gemm_8x64__avx512fp16" */
    fq_isa isa;
    size_t mr;        /* rows per call */
    size_t nr;        /* panel width the weights must be packed with */
    fq_f16_gemm_ukernel_fn ukernel;
} fq_f16_gemm_kernel;

typedef struct fq_f16w_f32_gemm_kernel {
    const char *name;
    fq_isa isa;
    size_t mr;
    size_t nr;
    fq_f16w_f32_gemm_ukernel_fn ukernel;
} fq_f16w_f32_gemm_kernel;

/* The best fp16-arithmetic GEMM allowed under cap (fq_isa_allowed), or NULL when the CPU or the
 * cap has no fp16 arithmetic: the caller then uses fq_f16w_f32_gemm_select. */
const fq_f16_gemm_kernel *fq_f16_gemm_select(fq_isa cap);

/* The best fp16-storage fp32-compute GEMM allowed under cap; never NULL (scalar twin last). */
const fq_f16w_f32_gemm_kernel *fq_f16w_f32_gemm_select(fq_isa cap);

/* Elements (uint16_t) of the packed weights of an n x k weight matrix in panels of nr. */
size_t fq_f16_gemm_packed_count(size_t n, size_t k, size_t nr);

/* Packs fp32 weights W[k][j] = w[k * k_stride + j * n_stride] (k < k_count, j < n) and bias
 * (NULL: zero) into the layout above, rounding each to fp16. A K x N row-major matrix is
 * (k_stride = N, n_stride = 1); convolution weights [out][in * kh * kw] are (1, in * kh * kw). */
void fq_f16_gemm_pack(size_t n, size_t k_count, size_t nr, const float *w, size_t k_stride,
                      size_t n_stride, const float *bias, uint16_t *packed);

/* Whole-matrix products over a selected kernel: C (m x n) from A (m x k) and weights packed
 * with the kernel's nr, calling the microkernel on row blocks of mr within column blocks of
 * about 128 (whole panels), single-threaded. */
void fq_f16_gemm_run(const fq_f16_gemm_kernel *kernel, size_t m, size_t n, size_t k,
                     const uint16_t *a, size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                     size_t c_stride, const fq_f16_minmax *params);
void fq_f16w_f32_gemm_run(const fq_f16w_f32_gemm_kernel *kernel, size_t m, size_t n, size_t k,
                          const float *a, size_t a_stride, const uint16_t *packed_w, float *c,
                          size_t c_stride, const fq_f16w_f32_minmax *params);

/* ---- fp16 convolution (NHWC, via the f16 GEMM) ----
 *
 * One image, NHWC: x[ih][iw][c], y[oh][ow][o]. Weights are packed with fq_f16_conv2d_pack from
 * OIHW fp32 (groups = 1), so that K runs over (kh, kw, c) in that order, the order im2col writes
 * a row in. Each block of mr output pixels is gathered into the workspace (taps outside the image
 * read zero) and multiplied by one GEMM call over all output channels. */
typedef struct fq_f16_conv2d_params {
    size_t in_h, in_w, in_channels;
    size_t out_h, out_w, out_channels;
    size_t kernel_h, kernel_w;
    size_t stride_h, stride_w;
    size_t dilation_h, dilation_w;
    size_t pad_top, pad_left;
    fq_f16_minmax clamp;
} fq_f16_conv2d_params;

/* Elements (uint16_t) of the packed weights and of the workspace fq_f16_conv2d needs. */
size_t fq_f16_conv2d_packed_count(const fq_f16_conv2d_params *p, const fq_f16_gemm_kernel *kernel);
size_t fq_f16_conv2d_workspace_count(const fq_f16_conv2d_params *p,
                                     const fq_f16_gemm_kernel *kernel);

/* w is OIHW fp32 [out][in][kh][kw]; bias may be NULL. */
void fq_f16_conv2d_pack(const fq_f16_conv2d_params *p, const fq_f16_gemm_kernel *kernel,
                        const float *w, const float *bias, uint16_t *packed);

void fq_f16_conv2d(const fq_f16_conv2d_params *p, const fq_f16_gemm_kernel *kernel,
                   const uint16_t *x, const uint16_t *packed_w, uint16_t *y, uint16_t *workspace);

/* ---- fp16 depthwise 3x3 convolution (NHWC) ----
 *
 * y[oh][ow][c] = clamp(bias[c] + sum over (kh, kw) in row-major order of
 *     w[c][kh][kw] * x[oh * stride - pad_top + kh][ow * stride - pad_left + kw][c])
 * with fp16 fused multiply-adds; taps outside the image are skipped (they would add zero).
 * Packed weights: channels in groups of cr; group g holds cr biases, then for each of the nine
 * taps (row-major) cr weights; channels past the last are zero. Stride 1 or 2. */
typedef struct fq_f16_dwconv3x3_params {
    size_t in_h, in_w, channels;
    size_t out_h, out_w;
    size_t stride;   /* 1 or 2 */
    size_t pad_top, pad_left;
    fq_f16_minmax clamp;
} fq_f16_dwconv3x3_params;

typedef void (*fq_f16_dwconv3x3_ukernel_fn)(const fq_f16_dwconv3x3_params *p, const uint16_t *x,
                                            const uint16_t *packed_w, uint16_t *y);

typedef struct fq_f16_dwconv3x3_kernel {
    const char *name;
    fq_isa isa;
    size_t cr;       /* channel group the weights must be packed with */
    fq_f16_dwconv3x3_ukernel_fn ukernel;
} fq_f16_dwconv3x3_kernel;

/* The best fp16-arithmetic depthwise 3x3 kernel under cap, or NULL (as fq_f16_gemm_select). */
const fq_f16_dwconv3x3_kernel *fq_f16_dwconv3x3_select(fq_isa cap);

size_t fq_f16_dwconv3x3_packed_count(size_t channels, size_t cr);
/* w is [channels][3][3] fp32 (a depthwise OIHW tensor); bias may be NULL. */
void fq_f16_dwconv3x3_pack(size_t channels, size_t cr, const float *w, const float *bias,
                           uint16_t *packed);

/* ---- fp16 range check for the converter ----
 *
 * Whether any |x[i]| > 65504 (FQ_F16_MAX) for i < n, that is whether fp16 storage of these fp32
 * values would not keep them finite (values up to 65519.99 round down to 65504; this check is
 * stricter by that half ulp). Infinities count as overflow; NaN does not (it stays NaN). */
typedef bool (*fq_f32_exceeds_f16_fn)(const float *x, size_t n);

/* The fastest range check allowed under cap (AVX-512, AVX2 or scalar); never NULL. */
fq_f32_exceeds_f16_fn fq_f32_exceeds_f16_select(fq_isa cap);

/* ---- microkernels, one per ISA folder (compiled only where FQ_HAVE_ISA_<NAME> says) ---- */
void fq_f16w_f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *a,
                                         size_t a_stride, const uint16_t *packed_w, float *c,
                                         size_t c_stride, const fq_f16w_f32_minmax *params);
void fq_f16w_f32_gemm_ukernel_8x32__avx512(size_t mr, size_t nc, size_t kc, const float *a,
                                           size_t a_stride, const uint16_t *packed_w, float *c,
                                           size_t c_stride, const fq_f16w_f32_minmax *params);
void fq_f16w_f32_gemm_ukernel_6x16__neon(size_t mr, size_t nc, size_t kc, const float *a,
                                         size_t a_stride, const uint16_t *packed_w, float *c,
                                         size_t c_stride, const fq_f16w_f32_minmax *params);
void fq_f16_gemm_ukernel_8x64__avx512fp16(size_t mr, size_t nc, size_t kc, const uint16_t *a,
                                          size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                                          size_t c_stride, const fq_f16_minmax *params);
void fq_f16_gemm_ukernel_8x16__neonfp16(size_t mr, size_t nc, size_t kc, const uint16_t *a,
                                        size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                                        size_t c_stride, const fq_f16_minmax *params);
void fq_f16_dwconv3x3_ukernel_c32__avx512fp16(const fq_f16_dwconv3x3_params *p,
                                              const uint16_t *x, const uint16_t *packed_w,
                                              uint16_t *y);
void fq_f16_dwconv3x3_ukernel_c8__neonfp16(const fq_f16_dwconv3x3_params *p, const uint16_t *x,
                                           const uint16_t *packed_w, uint16_t *y);
bool fq_f32_exceeds_f16__avx2(const float *x, size_t n);
bool fq_f32_exceeds_f16__avx512(const float *x, size_t n);

#endif
