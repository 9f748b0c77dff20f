/* Quantized operators: QLinearConv (docs/QUANTIZATION.md). */
#include "ops/registry.h"

/* The table is filled as the operators land; count 0 leaves it out of look-ups. */
const fq_op_info fq_ops_qconv[1];
const int fq_ops_qconv_count = 0;
