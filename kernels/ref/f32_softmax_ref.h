/* Reference fp32 softmax and log-softmax along one axis of a tensor viewed as
 * outer x length x inner (row-major): each of the outer * inner lines of `length` elements,
 * `inner` apart, is normalized on its own. The maximum is subtracted first, so large inputs do
 * not overflow. */
#ifndef FQ_KERNELS_REF_F32_SOFTMAX_REF_H
#define FQ_KERNELS_REF_F32_SOFTMAX_REF_H

#include <stdint.h>

typedef struct fq_softmax_f32_params {
    int64_t outer;
    int64_t length; /* >= 1 */
    int64_t inner;
} fq_softmax_f32_params;

void fq_ref_softmax_f32(const fq_softmax_f32_params *p, const float *x, float *y);
void fq_ref_log_softmax_f32(const fq_softmax_f32_params *p, const float *x, float *y);

#endif
