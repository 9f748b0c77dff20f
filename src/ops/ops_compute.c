/* Compute operators: Conv, BatchNormalization, Gemm, MatMul, pooling, Resize, Pad, Softmax. */
#include "ops/op_util.h"
#include "ops/registry.h"

const fq_op_info fq_ops_compute[] = {
    {.name = ""}, /* placeholder until the first op lands */
};
const int fq_ops_compute_count = 0;
