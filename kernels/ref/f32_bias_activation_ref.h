/* Reference fp32 convolution/GEMM epilogue: bias plus an optional fused activation, applied to
 * one output channel's row of values after accumulation. */
#ifndef FQ_KERNELS_REF_F32_BIAS_ACTIVATION_REF_H
#define FQ_KERNELS_REF_F32_BIAS_ACTIVATION_REF_H

#include <stdint.h>

typedef enum fq_epilogue_f32_kind {
    FQ_EPILOGUE_F32_NONE = 0,
    FQ_EPILOGUE_F32_RELU,       /* max(x, 0) */
    FQ_EPILOGUE_F32_CLIP,       /* min(max(x, alpha), beta) */
    FQ_EPILOGUE_F32_LEAKY_RELU, /* x < 0 ? alpha * x : x */
    FQ_EPILOGUE_F32_PRELU,      /* x < 0 ? slopes[channel] * x : x */
    FQ_EPILOGUE_F32_SIGMOID     /* 1 / (1 + exp(-x)) */
} fq_epilogue_f32_kind;

typedef struct fq_epilogue_f32 {
    fq_epilogue_f32_kind kind;
    float alpha;
    float beta;
    const float *slopes;  /* PRELU: slope_count values, one per channel, or a single one */
    int64_t slope_count;
} fq_epilogue_f32;

/* y[i] = act(y[i] + bias) for i < n; channel selects the PRELU slope. */
void fq_ref_bias_activation_f32(float *y, int64_t n, float bias, const fq_epilogue_f32 *act,
                                int64_t channel);

#endif
