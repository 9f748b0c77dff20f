/* Reference twins of the fp16 kernels of f16_gemm.h: the same packed layouts, the same order of
 * operations and the same precision, one scalar step at a time.
 *
 * The f16 family's fused multiply-add is fmaf() rounded to fp16: the exact a * b + c rounded to
 * fp32 and then to fp16. The ISA instruction rounds once; the two differ only when the fp32
 * result lands on an fp16 rounding tie the exact value was not on, which the tolerance in
 * f16_gemm.h covers. */
#ifndef FQ_KERNELS_REF_F16_GEMM_REF_H
#define FQ_KERNELS_REF_F16_GEMM_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f16_gemm.h"

/* fp16(a * b + c) on fp16 bit patterns. */
uint16_t fq_ref_f16_fma(uint16_t a, uint16_t b, uint16_t c);
/* min(max(v, lo), hi) on fp16 bit patterns, NaN passing through. */
uint16_t fq_ref_f16_clamp(uint16_t v, uint16_t lo, uint16_t hi);

/* The microkernel contract of f16_gemm.h for weights packed with any nr and any mr. */
void fq_ref_f16_gemm(size_t mr, size_t nc, size_t kc, size_t nr, const uint16_t *a,
                     size_t a_stride, const uint16_t *packed_w, uint16_t *c, size_t c_stride,
                     const fq_f16_minmax *params);
void fq_ref_f16w_f32_gemm(size_t mr, size_t nc, size_t kc, size_t nr, const float *a,
                          size_t a_stride, const uint16_t *packed_w, float *c, size_t c_stride,
                          const fq_f16w_f32_minmax *params);

/* The scalar entry of fq_f16w_f32_gemm_select: fq_ref_f16w_f32_gemm with nr = 8, mr up to 4. */
void fq_f16w_f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *a,
                                          size_t a_stride, const uint16_t *packed_w, float *c,
                                          size_t c_stride, const fq_f16w_f32_minmax *params);

/* Depthwise 3x3 over weights packed in channel groups of cr. */
void fq_ref_f16_dwconv3x3(const fq_f16_dwconv3x3_params *p, size_t cr, const uint16_t *x,
                          const uint16_t *packed_w, uint16_t *y);

/* Direct NHWC convolution from unpacked fp16 weights w[o][c][kh][kw] and bias[o] (NULL: zero),
 * summing from the bias over (kh, kw, c) in that order, as the im2col GEMM does. */
void fq_ref_f16_conv2d(const fq_f16_conv2d_params *p, const uint16_t *w, const uint16_t *bias,
                       const uint16_t *x, uint16_t *y);

bool fq_f32_exceeds_f16__scalar(const float *x, size_t n);

#endif
