/* f32 reductions: see tensor_reduce_ref.h. */
#include <math.h>

#include "ref/tensor_reduce_ref.h"

static float identity_of(fq_reduce_op op)
{
    switch (op) {
    case FQ_REDUCE_MAX: return -INFINITY;
    case FQ_REDUCE_MIN: return INFINITY;
    default: return 0.0f;
    }
}

static float fold(fq_reduce_op op, float acc, float v)
{
    switch (op) {
    case FQ_REDUCE_MAX: return isnan(v) || v > acc ? v : acc;
    case FQ_REDUCE_MIN: return isnan(v) || v < acc ? v : acc;
    default: return acc + v;
    }
}

static void fold_row(fq_reduce_op op, const float *in, float *out, int64_t out_step, int64_t n)
{
    if (out_step == 1) {
        for (int64_t i = 0; i < n; i++)
            out[i] = fold(op, out[i], in[i]);
        return;
    }
    float acc = out[0];
    for (int64_t i = 0; i < n; i++)
        acc = fold(op, acc, in[i]);
    out[0] = acc;
}

void fq_f32_reduce_ref(fq_reduce_op op, const fq_broadcast_plan *plan, const float *in,
                       float *out, int64_t out_numel, int64_t reduced_count)
{
    float start = identity_of(op);
    for (int64_t i = 0; i < out_numel; i++)
        out[i] = start;

    int64_t out_step = fq_broadcast_row_step(plan, 1);
    for (int64_t r = 0; r < plan->rows; r++) {
        int64_t offsets[2];
        fq_broadcast_row_offsets(plan, r, offsets);
        fold_row(op, in + offsets[0], out + offsets[1], out_step, plan->row_len);
    }

    if (op == FQ_REDUCE_MEAN && reduced_count > 0)
        for (int64_t i = 0; i < out_numel; i++)
            out[i] /= (float)reduced_count;
}
