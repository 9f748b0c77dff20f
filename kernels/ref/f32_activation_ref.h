/* Activation functions on f32: y[i] = f(x[i]) with the parameters of the activation. y may
 * equal x (in place). Sigmoid and Softplus are computed in forms that neither overflow nor lose
 * precision for large |x|. */
#ifndef FQ_KERNELS_F32_ACTIVATION_REF_H
#define FQ_KERNELS_F32_ACTIVATION_REF_H

#include <stdint.h>

typedef enum fq_f32_activation_kind {
    FQ_F32_RELU,
    FQ_F32_LEAKY_RELU,   /* x < 0 ? alpha * x : x */
    FQ_F32_CLIP,         /* clamp to [alpha, beta]; NaN stays NaN */
    FQ_F32_SIGMOID,
    FQ_F32_HARD_SIGMOID, /* clamp(alpha * x + beta, 0, 1) */
    FQ_F32_HARD_SWISH,   /* x * clamp(x / 6 + 1/2, 0, 1) */
    FQ_F32_ELU,          /* x < 0 ? alpha * (e^x - 1) : x */
    FQ_F32_SELU,         /* beta * (x <= 0 ? alpha * (e^x - 1) : x); beta is ONNX's gamma */
    FQ_F32_SOFTPLUS      /* log(1 + e^x) */
} fq_f32_activation_kind;

typedef struct fq_f32_activation {
    fq_f32_activation_kind kind;
    float alpha;
    float beta;
} fq_f32_activation;

void fq_f32_activation_ref(const fq_f32_activation *act, const float *x, float *y, int64_t n);

#endif
