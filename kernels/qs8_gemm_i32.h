/* int8 GEMM with int32 output: the kernel family of dynamic int8 (FqDynamicConv).
 *
 * The operands and the packed weights are those of kernels/qs8_gemm.h: A is m x k uint8, W is
 * n x k int8 packed by fq_qs8_gemm_pack with bias NULL and input zero point 0, so that each
 * panel's int32 bias' is activation_offset * sum_k w[j][k]. For the kernels that flip
 * activations to signed bytes (neondot, activation_offset 128) that bias' cancels the flip; for
 * the others it is zero. The panels' multipliers are packed as 1 and never read.
 *
 * Instead of requantizing, a microkernel writes the raw accumulators
 *   c[i][j] = sum_k a[i][k] * w[j][k]           (exact int32)
 * for rows 0 <= i < mr and columns 0 <= j < nc, row stride c_stride bytes, and nothing else.
 * The caller subtracts zp_x * sum_k w[j][k] itself. Packing refuses depths where k * 255 * 128
 * could exceed INT32_MAX, so every partial sum fits and every kernel equals the reference
 * (fq_qs8_gemm_i32_ref) bit for bit.
 *
 * Kernels, one per ISA family of the qs8 GEMM, with the same tiles:
 *   2x4c1 scalar, 4x8c2 sse41, 4x16c2 avx2 (int16 widening and vpmaddwd: pmaddubsw would
 *   saturate), 8x8c4 avxvnni, 8x32c4 avx512vnni (vpdpbusd), 4x8c1 neon, 4x8c4 neondot (sdot).
 */
#ifndef FQ_KERNELS_QS8_GEMM_I32_H
#define FQ_KERNELS_QS8_GEMM_I32_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/cpu.h"
#include "facequant/status.h"

typedef void (*fq_qs8_gemm_i32_ukernel)(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                        size_t a_stride, const void *packed_w, int32_t *c,
                                        size_t c_stride);

typedef struct fq_qs8_gemm_i32_kernel {
    const char *name;            /* such as "qs8_gemm_i32_8x32c4__avx512vnni" */
    fq_isa isa;
    uint8_t mr;
    uint8_t nr;
    uint8_t kr;
    uint8_t activation_offset;   /* as in qs8_gemm.h */
    fq_qs8_gemm_i32_ukernel ukernel;
} fq_qs8_gemm_i32_kernel;

/* Every kernel compiled in for this architecture, the portable one first. Kernels whose ISA the
 * CPU lacks are listed too. */
const fq_qs8_gemm_i32_kernel *fq_qs8_gemm_i32_kernels(int *count);

/* The fastest kernel allowed under cap (fq_isa_allowed); never NULL. */
const fq_qs8_gemm_i32_kernel *fq_qs8_gemm_i32_select(fq_isa cap);

/* Bytes of packed weights for n channels of depth k. */
size_t fq_qs8_gemm_i32_packed_size(const fq_qs8_gemm_i32_kernel *kernel, size_t n, size_t k);

/* Packs w (n x k, row-major) for kernel into packed (fq_qs8_gemm_i32_packed_size bytes), in the
 * layout of fq_qs8_gemm_pack with bias NULL and input zero point 0. Refuses n or k of 0 and
 * depths whose accumulators could overflow int32. */
fq_status fq_qs8_gemm_i32_pack(const fq_qs8_gemm_i32_kernel *kernel, size_t n, size_t k,
                               const int8_t *w, void *packed, fq_error *err);

/* C (m x n int32, row stride c_stride bytes) = A (m x k, row stride a_stride bytes) * W^T. */
void fq_qs8_gemm_i32_run(const fq_qs8_gemm_i32_kernel *kernel, size_t m, size_t n, size_t k,
                         const uint8_t *a, size_t a_stride, const void *packed, int32_t *c,
                         size_t c_stride);

/* The kernels, by ISA folder. */
void fq_qs8_gemm_i32_ukernel_2x4c1__scalar(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                           size_t a_stride, const void *packed_w, int32_t *c,
                                           size_t c_stride);
void fq_qs8_gemm_i32_ukernel_4x8c2__sse41(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                          size_t a_stride, const void *packed_w, int32_t *c,
                                          size_t c_stride);
void fq_qs8_gemm_i32_ukernel_4x16c2__avx2(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                          size_t a_stride, const void *packed_w, int32_t *c,
                                          size_t c_stride);
void fq_qs8_gemm_i32_ukernel_8x8c4__avxvnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                            size_t a_stride, const void *packed_w, int32_t *c,
                                            size_t c_stride);
void fq_qs8_gemm_i32_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc,
                                                const uint8_t *a, size_t a_stride,
                                                const void *packed_w, int32_t *c,
                                                size_t c_stride);
void fq_qs8_gemm_i32_ukernel_4x8c1__neon(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                         size_t a_stride, const void *packed_w, int32_t *c,
                                         size_t c_stride);
void fq_qs8_gemm_i32_ukernel_4x8c4__neondot(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                            size_t a_stride, const void *packed_w, int32_t *c,
                                            size_t c_stride);

/* ---- the input quantization of dynamic int8 ----
 *
 * q[i] = saturate_u8(round_half_to_even(x[i] / scale) + zero_point), NaN giving zero_point: the
 * QuantizeLinear of ONNX, with one IEEE division per value, so every kernel equals the scalar
 * one bit for bit. scale is finite and positive, zero_point in 0..255. */
typedef void (*fq_f32_quantize_u8_fn)(const float *x, size_t n, float scale, int32_t zero_point,
                                      uint8_t *q);

void fq_f32_quantize_u8__scalar(const float *x, size_t n, float scale, int32_t zero_point,
                                uint8_t *q);
void fq_f32_quantize_u8__avx2(const float *x, size_t n, float scale, int32_t zero_point,
                              uint8_t *q);

/* The fastest quantizer allowed under cap; *isa receives its ISA. */
fq_f32_quantize_u8_fn fq_f32_quantize_u8_select(fq_isa cap, fq_isa *isa);

/* *lo = min(0, x[0..n)) and *hi = max(0, x[0..n)) over the values that are not NaN
 * (infinities count). Signs of zero aside, every kernel gives the scalar one's result. */
typedef void (*fq_f32_range_fn)(const float *x, size_t n, float *lo, float *hi);

void fq_f32_range__scalar(const float *x, size_t n, float *lo, float *hi);
void fq_f32_range__avx2(const float *x, size_t n, float *lo, float *hi);

fq_f32_range_fn fq_f32_range_select(fq_isa cap);

#endif
