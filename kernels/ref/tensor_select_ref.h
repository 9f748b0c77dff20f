/* Where: out = cond ? x : y with numpy broadcasting of all three, for any dtype of x and y by
 * element size (elem bytes); cond is bool (one byte per element). */
#ifndef FQ_KERNELS_TENSOR_SELECT_REF_H
#define FQ_KERNELS_TENSOR_SELECT_REF_H

#include "ref/tensor_broadcast_ref.h"

/* plan has three operands in the order cond, x, y. */
void fq_select_ref(const fq_broadcast_plan *plan, size_t elem, const uint8_t *cond,
                   const void *x, const void *y, void *out);

#endif
