/* The two halves of the operator table; see registry.c. */
#ifndef FQ_OPS_REGISTRY_H
#define FQ_OPS_REGISTRY_H

#include "facequant/ops.h"

extern const fq_op_info fq_ops_compute[];
extern const int fq_ops_compute_count;
extern const fq_op_info fq_ops_tensor[];
extern const int fq_ops_tensor_count;

#endif
