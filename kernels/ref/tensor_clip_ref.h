/* Clip for the integer dtypes (i8, u8, i32, i64): y[i] = min(max(x[i], lo), hi). The f32 Clip
 * is fq_f32_activation_ref. y may equal x. */
#ifndef FQ_KERNELS_TENSOR_CLIP_REF_H
#define FQ_KERNELS_TENSOR_CLIP_REF_H

#include <stdint.h>

#include "facequant/ir.h"

/* Returns 0 when dtype is not an integer dtype. */
int fq_int_clip_ref(fq_dtype dtype, const void *x, void *y, int64_t n, int64_t lo, int64_t hi);

#endif
