/* QLinearAdd on u8 codes (onnxruntime's contrib op).
 *
 * With a_mult = A_scale / C_scale and b_mult = B_scale / C_scale (each a float division), every
 * output element is
 *   v = a_mult * (float)(a - a_zero) + b_mult * (float)(b - b_zero)
 *   c = fq_qu8_requantize(v, c_zero, c_min)              (ref/qu8_requant_ref.h)
 * in float, the two products rounded to float before the sum, in that order. c_min is 0, or
 * c_zero for a fused Relu. Every path (broadcast rows, the contiguous loop, any split over
 * threads) evaluates exactly this expression, so all give identical bytes. */
#ifndef FQ_KERNELS_REF_QU8_ADD_REF_H
#define FQ_KERNELS_REF_QU8_ADD_REF_H

#include <stdint.h>

typedef struct fq_qu8_add_params {
    float a_mult, b_mult;
    int32_t a_zero, b_zero, c_zero, c_min;
} fq_qu8_add_params;

/* n elements; a and b advance by a_step and b_step (0 or 1) per element, c by 1. */
void fq_qu8_add_row_ref(const fq_qu8_add_params *p, int64_t n, const uint8_t *a, int64_t a_step,
                        const uint8_t *b, int64_t b_step, uint8_t *c);

#endif
