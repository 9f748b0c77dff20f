/* Numpy-style broadcasting for the elementwise kernels.
 *
 * A plan describes how up to FQ_BROADCAST_MAX_OPERANDS contiguous operands map onto one
 * contiguous output: the output is walked row by row (a row is the innermost dimension after
 * adjacent dimensions are merged), and each operand advances by 0 or 1 element per output
 * element within a row. Merging makes the common cases cheap: equal shapes become a single row,
 * and a per-channel operand such as [C,1,1] against [N,C,H,W] becomes rows of H*W elements with a
 * constant operand value.
 */
#ifndef FQ_KERNELS_TENSOR_BROADCAST_REF_H
#define FQ_KERNELS_TENSOR_BROADCAST_REF_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/ir.h"

#define FQ_BROADCAST_MAX_OPERANDS 3

typedef struct fq_broadcast_plan {
    int rank;                /* merged rank, at least 1 */
    int n_operands;
    int64_t dims[FQ_MAX_RANK];
    int64_t strides[FQ_BROADCAST_MAX_OPERANDS][FQ_MAX_RANK]; /* elements; 0 where broadcast */
    int64_t rows;            /* product of every merged dim but the last */
    int64_t row_len;         /* the last merged dim */
} fq_broadcast_plan;

/* Builds the plan for operands whose shapes broadcast to out (the caller has checked that with
 * fq_broadcast_shape). n_operands is at most FQ_BROADCAST_MAX_OPERANDS. */
void fq_broadcast_plan_init(fq_broadcast_plan *plan, const fq_shape *out, int n_operands,
                            const fq_shape *const *operands);

/* Element offset of every operand at the start of output row `row`. */
void fq_broadcast_row_offsets(const fq_broadcast_plan *plan, int64_t row, int64_t *offsets);

/* Step (0 or 1) of operand k along a row. */
static inline int64_t fq_broadcast_row_step(const fq_broadcast_plan *plan, int k)
{
    return plan->strides[k][plan->rank - 1];
}

/* Copies operand 0 of a one-operand plan into out, repeating it where it is broadcast (Expand).
 * elem is the element size in bytes. */
void fq_broadcast_copy_ref(const fq_broadcast_plan *plan, size_t elem, const void *in, void *out);

#endif
