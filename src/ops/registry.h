/* The parts of the operator table; see registry.c. */
#ifndef FQ_OPS_REGISTRY_H
#define FQ_OPS_REGISTRY_H

#include "facequant/ops.h"

extern const fq_op_info fq_ops_compute[];
extern const int fq_ops_compute_count;
extern const fq_op_info fq_ops_tensor[];
extern const int fq_ops_tensor_count;
/* Quantized operators (docs/QUANTIZATION.md): QLinearConv; QLinearAdd, the quantized pools and
 * QLinearMatMul; FqDynamicConv. */
extern const fq_op_info fq_ops_qconv[];
extern const int fq_ops_qconv_count;
extern const fq_op_info fq_ops_qlinear[];
extern const int fq_ops_qlinear_count;
extern const fq_op_info fq_ops_dynamic[];
extern const int fq_ops_dynamic_count;

#endif
