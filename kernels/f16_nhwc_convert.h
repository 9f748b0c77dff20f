/* The layout and precision conversions of the fp16-arithmetic conv plan (f16_conv_plan.h): an
 * image's f32 NCHW planes to f16 NHWC pixels, and f16 NHWC pixels back to f32 NCHW planes.
 *
 *   to_nhwc:  y[i * channels + c] = fq_f16_from_f32(x[c * pixels + i])
 *   to_nchw:  y[c * pixels + i]   = fq_f32_from_f16(x[i * channels + c])
 *
 * for pixels i in [0, pixels) and channels c in [0, channels) (ref/tensor_cast_ref.h: round to
 * nearest even, overflow to infinity). Every kernel gives the scalar twin's bits, except that
 * the F16C widening of a signalling f16 NaN sets its quiet bit (the scalar twin keeps the bits
 * as they are); the f16 kernels produce quiet NaNs only.
 *
 * The F16C kernels (the avx2 level, which includes F16C) convert 8 values per instruction and
 * move blocks of 8 channels x 8 pixels through an 8x8 transposition of 16-bit lanes; channels
 * past the last whole block of 8 convert 8 pixels at a time and store one value at a time, and
 * the last pixels (under 8) take the scalar twin. */
#ifndef FQ_KERNELS_F16_NHWC_CONVERT_H
#define FQ_KERNELS_F16_NHWC_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/cpu.h"

typedef void (*fq_f32_nchw_to_f16_nhwc_fn)(size_t channels, size_t pixels, const float *x,
                                           uint16_t *y);
typedef void (*fq_f16_nhwc_to_f32_nchw_fn)(size_t channels, size_t pixels, const uint16_t *x,
                                           float *y);

typedef struct fq_f16_nhwc_convert {
    const char *name;
    fq_isa isa;
    fq_f32_nchw_to_f16_nhwc_fn to_nhwc;
    fq_f16_nhwc_to_f32_nchw_fn to_nchw;
} fq_f16_nhwc_convert;

/* Every pair this build has, scalar first. */
const fq_f16_nhwc_convert *fq_f16_nhwc_converts(int *count);
/* The fastest pair allowed under cap that this CPU runs. */
const fq_f16_nhwc_convert *fq_f16_nhwc_convert_select(fq_isa cap);

void fq_f32_nchw_to_f16_nhwc__scalar(size_t channels, size_t pixels, const float *x,
                                     uint16_t *y);
void fq_f16_nhwc_to_f32_nchw__scalar(size_t channels, size_t pixels, const uint16_t *x,
                                     float *y);
void fq_f32_nchw_to_f16_nhwc_8x8__avx2(size_t channels, size_t pixels, const float *x,
                                       uint16_t *y);
void fq_f16_nhwc_to_f32_nchw_8x8__avx2(size_t channels, size_t pixels, const uint16_t *x,
                                       float *y);

#endif
