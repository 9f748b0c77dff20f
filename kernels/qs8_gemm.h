/* Static int8 GEMM: the kernel family quantized convolution and fully connected layers run on.
 *
 * Operands ("qs8": the weights are signed 8-bit, symmetric per output channel)
 *   A  activations, m x k, uint8 with one zero point zp_x per tensor: real = scale_x * (a - zp_x).
 *      Unsigned because the x86 dot-product instruction (vpdpbusd) multiplies unsigned bytes by
 *      signed bytes: u8 activations times s8 weights is the pairing every x86 kernel can use
 *      directly, and an asymmetric u8 range loses nothing on post-ReLU tensors.
 *   W  weights, n x k, int8, zero point 0, one scale_w[j] per output channel j; -128 is allowed.
 *   b  bias, int32 per output channel, in units of scale_x * scale_w[j].
 *   C  output, m x n, uint8 with zero point zp_y and scale scale_y.
 *
 * Accumulation is exact int32:
 *   acc[i][j] = b[j] + sum_k (a[i][k] - zp_x) * w[j][k]
 * Every term is at most 255 * 128 in magnitude; packing refuses shapes where
 * |b[j]| + k * 255 * 128 could exceed INT32_MAX, so acc never overflows, and kernels that sum in
 * another order (or wrap in between) still reach the same value.
 *
 * Requantization, the one scheme of every qs8 kernel and of the reference (fq_qs8_requantize):
 *   multiplier[j] = scale_x * scale_w[j] / scale_y       (float, finite, > 0: the caller's)
 *   v = (float)acc * multiplier[j]                        one IEEE single rounding each
 *   v = min(max(v, output_min - zp_y), output_max - zp_y) clamp in float (bounds are integers)
 *   y = round_half_to_even(v) + zp_y                      as lrintf / cvtps2dq / fcvtns
 * in the default rounding mode. int32 to float, the product and the rounding are each correctly
 * rounded by IEEE 754 on every ISA, so SIMD kernels and the reference agree bit for bit. No
 * float addition follows the product before the clamp, so FMA contraction cannot change it; the
 * clamped value lies in [-255, 255], so ARMv7 (no round-to-even conversion) rounds it exactly by
 * adding and subtracting 1.5 * 2^23. A fused ReLU or ReLU6 is output_min/output_max (ReLU:
 * output_min = zp_y).
 *
 * Kernels, all bit-exact with the reference:
 *   2x4c1 scalar              portable C, unsigned (wrapping) int32 sums
 *   4x8c2 sse41, 4x16c2 avx2  u8 and s8 widened to int16, vpmaddwd sums each pair into int32;
 *                             pmaddubsw is not used: its int16 sum of two products saturates
 *   8x8c4, 6x16c4 avxvnni     256-bit vpdpbusd (u8 x s8, four products into int32, no saturation);
 *                             6x16 is the one selected (12 accumulators in 16 ymm registers)
 *   8x16c4, 8x32c4 avx512vnni 512-bit vpdpbusd; 8x32 is the one selected
 *   4x8c1 neon                int16 widening, vmlal_lane_s16 (AArch64 and ARMv7)
 *   4x8c4 neondot             sdot (s8 x s8) on activations flipped to s8, activation_offset 128
 *
 * Packed weights, per panel of nr output channels (the last panel zero-padded to nr):
 *   int32  bias'[nr]            b[j] - zp_x * sum_k w[j][k] + activation_offset * sum_k w[j][k]
 *   int8   w[kc_pad / kr][nr][kr] groups of kr consecutive k of one channel, channel-major inside
 *                               a group; kc_pad = k rounded up to kr, the padding is zero
 *   float  multiplier[nr]
 * so a panel is nr * (8 + kc_pad) bytes, and panels follow each other. Kernels that flip
 * activations to signed bytes (a ^ 0x80, for s8 x s8 dot products) have activation_offset 128;
 * the others 0. The buffer should be 64-byte aligned (fq_malloc_aligned); kernels do not need it.
 *
 * Microkernel contract (fq_qs8_gemm_ukernel): rows 1 <= mr <= kernel.mr of A starting at a, row
 * stride a_stride bytes; columns 1 <= nc (any count: the kernel walks panels nr at a time); depth
 * kc >= 1 (the real k; the kernel pads to kr itself and never reads A past kc bytes of a row).
 * Writes C[0..mr)[0..nc) with row stride c_stride bytes and nothing else.
 */
#ifndef FQ_KERNELS_QS8_GEMM_H
#define FQ_KERNELS_QS8_GEMM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "facequant/cpu.h"
#include "facequant/status.h"

/* Output quantization shared by the whole tensor. Build it with fq_qs8_requant_params_init. */
typedef struct fq_qs8_requant_params {
    int32_t output_zero_point;  /* zp_y, 0..255 */
    int32_t output_min;         /* qmin, 0..255 */
    int32_t output_max;         /* qmax, output_min..255 */
    float min_less_zero_point;  /* output_min - zp_y, the float clamp bounds */
    float max_less_zero_point;  /* output_max - zp_y */
} fq_qs8_requant_params;

/* Checks 0 <= zero_point <= 255 and 0 <= output_min <= output_max <= 255. */
fq_status fq_qs8_requant_params_init(int32_t zero_point, int32_t output_min, int32_t output_max,
                                     fq_qs8_requant_params *params, fq_error *err);

/* The requantization of one accumulator; see the top of this file. */
static inline uint8_t fq_qs8_requantize(int32_t acc, float multiplier,
                                        const fq_qs8_requant_params *params)
{
    float v = (float)acc * multiplier;
    v = v < params->min_less_zero_point ? params->min_less_zero_point : v;
    v = v > params->max_less_zero_point ? params->max_less_zero_point : v;
    return (uint8_t)((int32_t)lrintf(v) + params->output_zero_point);
}

/* Row pointers of a microkernel's tile of `tile` rows over its mr (1 <= mr <= tile) real rows of
 * A and C: rows past mr repeat the last one, computed and stored over it with the same values. */
static inline void fq_qs8_tile_rows(size_t mr, size_t tile, const uint8_t *a, size_t a_stride,
                                    uint8_t *c, size_t c_stride, const uint8_t **arow,
                                    uint8_t **crow)
{
    for (size_t i = 0; i < tile; i++) {
        size_t r = i < mr ? i : mr - 1;
        arow[i] = a + r * a_stride;
        crow[i] = c + r * c_stride;
    }
}

typedef void (*fq_qs8_gemm_ukernel)(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                    size_t a_stride, const void *packed_w, uint8_t *c,
                                    size_t c_stride, const fq_qs8_requant_params *params);

typedef struct fq_qs8_gemm_kernel {
    const char *name;            /* such as "qs8_gemm_8x16c4__avx512vnni" */
    fq_isa isa;
    uint8_t mr;                  /* rows per call */
    uint8_t nr;                  /* channels per panel */
    uint8_t kr;                  /* k values per group */
    uint8_t activation_offset;   /* 128 when the kernel flips activations to s8, else 0 */
    fq_qs8_gemm_ukernel ukernel;
} fq_qs8_gemm_kernel;

/* Every kernel compiled in for this architecture, the portable one first; *count receives how
 * many. Kernels whose ISA the CPU lacks are listed too (tests skip them). */
const fq_qs8_gemm_kernel *fq_qs8_gemm_kernels(int *count);

/* The fastest kernel allowed under cap (fq_isa_allowed): never NULL, the portable kernel runs
 * anywhere. */
const fq_qs8_gemm_kernel *fq_qs8_gemm_select(fq_isa cap);

/* Bytes of packed weights for n channels of depth k. */
size_t fq_qs8_gemm_packed_size(const fq_qs8_gemm_kernel *kernel, size_t n, size_t k);

/* Packs w (n x k, row-major: channel j's k weights at w + j * k), bias (n values, or NULL for
 * zeros) and multiplier (n values) for kernel into packed (fq_qs8_gemm_packed_size bytes).
 * Refuses n or k of 0, input_zero_point outside 0..255, multipliers that are not finite and
 * positive, and shapes whose accumulators could overflow int32. */
fq_status fq_qs8_gemm_pack(const fq_qs8_gemm_kernel *kernel, size_t n, size_t k, const int8_t *w,
                           const int32_t *bias, int32_t input_zero_point, const float *multiplier,
                           void *packed, fq_error *err);

/* C (m x n, row stride c_stride bytes) = requantize(A (m x k, row stride a_stride) * W), with W
 * packed for kernel. Blocks the columns so that a block of packed weights stays in cache. */
void fq_qs8_gemm_run(const fq_qs8_gemm_kernel *kernel, size_t m, size_t n, size_t k,
                     const uint8_t *a, size_t a_stride, const void *packed, uint8_t *c,
                     size_t c_stride, const fq_qs8_requant_params *params);

/* The kernels, by ISA folder. */
void fq_qs8_gemm_ukernel_2x4c1__scalar(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                       size_t a_stride, const void *packed_w, uint8_t *c,
                                       size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_4x8c2__sse41(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                      size_t a_stride, const void *packed_w, uint8_t *c,
                                      size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_4x16c2__avx2(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                      size_t a_stride, const void *packed_w, uint8_t *c,
                                      size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_8x8c4__avxvnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                        size_t a_stride, const void *packed_w, uint8_t *c,
                                        size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_6x16c4__avxvnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                        size_t a_stride, const void *packed_w, uint8_t *c,
                                        size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_8x16c4__avx512vnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                            size_t a_stride, const void *packed_w, uint8_t *c,
                                            size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                            size_t a_stride, const void *packed_w, uint8_t *c,
                                            size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_4x8c1__neon(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                     size_t a_stride, const void *packed_w, uint8_t *c,
                                     size_t c_stride, const fq_qs8_requant_params *params);
void fq_qs8_gemm_ukernel_4x8c4__neondot(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                        size_t a_stride, const void *packed_w, uint8_t *c,
                                        size_t c_stride, const fq_qs8_requant_params *params);

#endif
