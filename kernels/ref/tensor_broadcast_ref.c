/* Broadcast plans: see tensor_broadcast_ref.h. */
#include <string.h>

#include "ref/tensor_broadcast_ref.h"

/* Strides of a contiguous operand aligned to the right of an output of rank `rank`, 0 along
 * dimensions the operand lacks or has as 1 while the output does not. */
static void operand_strides(const fq_shape *out, const fq_shape *operand, int64_t *strides)
{
    int64_t stride = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int od = d - (out->rank - operand->rank);
        int64_t size = od >= 0 ? operand->dims[od] : 1;
        strides[d] = size == 1 && out->dims[d] != 1 ? 0 : stride;
        stride *= size;
    }
}

/* Dimension d can merge into d + 1 when every operand walks them as one longer dimension. */
static int mergeable(const fq_broadcast_plan *plan, int d)
{
    for (int k = 0; k < plan->n_operands; k++)
        if (plan->strides[k][d] != plan->strides[k][d + 1] * plan->dims[d + 1])
            return 0;
    return 1;
}

static void merge_dims(fq_broadcast_plan *plan, int rank, const int64_t *dims,
                       int64_t (*strides)[FQ_MAX_RANK])
{
    int merged = 0;
    for (int d = 0; d < rank; d++) {
        if (dims[d] == 1)
            continue; /* a size-1 output dim contributes nothing to any offset */
        plan->dims[merged] = dims[d];
        for (int k = 0; k < plan->n_operands; k++)
            plan->strides[k][merged] = strides[k][d];
        if (merged > 0 && mergeable(plan, merged - 1)) {
            plan->dims[merged - 1] *= plan->dims[merged];
            for (int k = 0; k < plan->n_operands; k++)
                plan->strides[k][merged - 1] = plan->strides[k][merged];
        } else {
            merged++;
        }
    }
    if (merged == 0) {
        plan->dims[0] = 1;
        for (int k = 0; k < plan->n_operands; k++)
            plan->strides[k][0] = 1;
        merged = 1;
    }
    plan->rank = merged;
}

void fq_broadcast_plan_init(fq_broadcast_plan *plan, const fq_shape *out, int n_operands,
                            const fq_shape *const *operands)
{
    int64_t strides[FQ_BROADCAST_MAX_OPERANDS][FQ_MAX_RANK];
    memset(plan, 0, sizeof(*plan));
    plan->n_operands = n_operands;
    for (int k = 0; k < n_operands; k++)
        operand_strides(out, operands[k], strides[k]);

    merge_dims(plan, out->rank, out->dims, strides);

    plan->row_len = plan->dims[plan->rank - 1];
    plan->rows = 1;
    for (int d = 0; d < plan->rank - 1; d++)
        plan->rows *= plan->dims[d];
    if (fq_shape_numel(out) == 0)
        plan->rows = 0;
}

void fq_broadcast_row_offsets(const fq_broadcast_plan *plan, int64_t row, int64_t *offsets)
{
    for (int k = 0; k < plan->n_operands; k++)
        offsets[k] = 0;
    for (int d = plan->rank - 2; d >= 0; d--) {
        int64_t index = row % plan->dims[d];
        row /= plan->dims[d];
        for (int k = 0; k < plan->n_operands; k++)
            offsets[k] += index * plan->strides[k][d];
    }
}

void fq_broadcast_copy_ref(const fq_broadcast_plan *plan, size_t elem, const void *in, void *out)
{
    const unsigned char *src = in;
    unsigned char *dst = out;
    int64_t step = fq_broadcast_row_step(plan, 0);
    size_t row_bytes = (size_t)plan->row_len * elem;
    for (int64_t r = 0; r < plan->rows; r++) {
        int64_t offset;
        fq_broadcast_row_offsets(plan, r, &offset);
        unsigned char *row = dst + (size_t)r * row_bytes;
        const unsigned char *from = src + (size_t)offset * elem;
        if (step == 1) {
            memcpy(row, from, row_bytes);
            continue;
        }
        for (int64_t i = 0; i < plan->row_len; i++)
            memcpy(row + (size_t)i * elem, from, elem);
    }
}
