/* Reference fp32 bias + activation epilogue. */
#include <math.h>

#include "ref/f32_bias_activation_ref.h"

static float prelu_slope(const fq_epilogue_f32 *act, int64_t channel)
{
    if (act->slope_count <= 1)
        return act->slope_count == 1 ? act->slopes[0] : 0.0f;
    return act->slopes[channel % act->slope_count];
}

/* exp of a large positive argument is +inf, and 1 / inf is 0: no NaN for any finite input. */
static float sigmoid(float v)
{
    return 1.0f / (1.0f + expf(-v));
}

void fq_ref_bias_activation_f32(float *y, int64_t n, float bias, const fq_epilogue_f32 *act,
                                int64_t channel)
{
    switch (act->kind) {
    case FQ_EPILOGUE_F32_NONE:
        for (int64_t i = 0; i < n; i++)
            y[i] += bias;
        break;
    case FQ_EPILOGUE_F32_RELU:
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] + bias;
            y[i] = v > 0.0f ? v : 0.0f;
        }
        break;
    case FQ_EPILOGUE_F32_CLIP:
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] + bias;
            v = v < act->alpha ? act->alpha : v;
            y[i] = v > act->beta ? act->beta : v;
        }
        break;
    case FQ_EPILOGUE_F32_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] + bias;
            y[i] = v < 0.0f ? act->alpha * v : v;
        }
        break;
    case FQ_EPILOGUE_F32_PRELU: {
        float slope = prelu_slope(act, channel);
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] + bias;
            y[i] = v < 0.0f ? slope * v : v;
        }
        break;
    }
    case FQ_EPILOGUE_F32_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = sigmoid(y[i] + bias);
        break;
    }
}
