/* f32 activations: see f32_activation_ref.h. */
#include <math.h>

#include "ref/f32_activation_ref.h"

static float clampf(float v, float lo, float hi)
{
    v = v < lo ? lo : v;
    return v > hi ? hi : v; /* hi wins when lo > hi, as numpy's clip does */
}

static float sigmoid(float v)
{
    if (v >= 0.0f)
        return 1.0f / (1.0f + expf(-v));
    float e = expf(v);
    return e / (1.0f + e);
}

static float softplus(float v)
{
    if (v > 0.0f)
        return v + log1pf(expf(-v));
    return log1pf(expf(v));
}

#define DEFINE_ACT(name, EXPR)                                                                  \
    static void name(const fq_f32_activation *act, const float *x, float *y, int64_t n)        \
    {                                                                                           \
        const float alpha = act->alpha;                                                         \
        const float beta = act->beta;                                                           \
        (void)alpha;                                                                            \
        (void)beta;                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                       \
            float v = x[i];                                                                     \
            y[i] = (EXPR);                                                                      \
        }                                                                                       \
    }

DEFINE_ACT(relu_f32, v < 0.0f ? 0.0f : v)
DEFINE_ACT(leaky_relu_f32, v < 0.0f ? alpha * v : v)
DEFINE_ACT(clip_f32, clampf(v, alpha, beta))
DEFINE_ACT(sigmoid_f32, sigmoid(v))
DEFINE_ACT(hard_sigmoid_f32, clampf(alpha * v + beta, 0.0f, 1.0f))
DEFINE_ACT(hard_swish_f32, v * clampf(v / 6.0f + 0.5f, 0.0f, 1.0f))
DEFINE_ACT(elu_f32, v < 0.0f ? alpha * expm1f(v) : v)
DEFINE_ACT(selu_f32, v <= 0.0f ? beta * alpha * expm1f(v) : beta * v)
DEFINE_ACT(softplus_f32, softplus(v))

void fq_f32_activation_ref(const fq_f32_activation *act, const float *x, float *y, int64_t n)
{
    switch (act->kind) {
    case FQ_F32_RELU: relu_f32(act, x, y, n); break;
    case FQ_F32_LEAKY_RELU: leaky_relu_f32(act, x, y, n); break;
    case FQ_F32_CLIP: clip_f32(act, x, y, n); break;
    case FQ_F32_SIGMOID: sigmoid_f32(act, x, y, n); break;
    case FQ_F32_HARD_SIGMOID: hard_sigmoid_f32(act, x, y, n); break;
    case FQ_F32_HARD_SWISH: hard_swish_f32(act, x, y, n); break;
    case FQ_F32_ELU: elu_f32(act, x, y, n); break;
    case FQ_F32_SELU: selu_f32(act, x, y, n); break;
    case FQ_F32_SOFTPLUS: softplus_f32(act, x, y, n); break;
    }
}
