/* Reference fp32 softmax and log-softmax. */
#include <math.h>
#include <stdbool.h>

#include "ref/f32_softmax_ref.h"

static float line_max(const float *x, int64_t length, int64_t inner)
{
    float best = x[0];
    for (int64_t i = 1; i < length; i++)
        best = x[i * inner] > best ? x[i * inner] : best;
    return best;
}

/* One line: y = exp(x - max) / sum, or (x - max) - log(sum) for log-softmax. */
static void normalize_line(const float *x, float *y, int64_t length, int64_t inner, bool log_form)
{
    float max = line_max(x, length, inner);
    float sum = 0.0f;
    for (int64_t i = 0; i < length; i++)
        sum += expf(x[i * inner] - max);

    if (log_form) {
        float log_sum = logf(sum);
        for (int64_t i = 0; i < length; i++)
            y[i * inner] = x[i * inner] - max - log_sum;
        return;
    }
    for (int64_t i = 0; i < length; i++)
        y[i * inner] = expf(x[i * inner] - max) / sum;
}

static void normalize_all(const fq_softmax_f32_params *p, const float *x, float *y, bool log_form)
{
    for (int64_t o = 0; o < p->outer; o++) {
        int64_t base = o * p->length * p->inner;
        for (int64_t i = 0; i < p->inner; i++)
            normalize_line(x + base + i, y + base + i, p->length, p->inner, log_form);
    }
}

void fq_ref_softmax_f32(const fq_softmax_f32_params *p, const float *x, float *y)
{
    normalize_all(p, x, y, false);
}

void fq_ref_log_softmax_f32(const fq_softmax_f32_params *p, const float *x, float *y)
{
    normalize_all(p, x, y, true);
}
