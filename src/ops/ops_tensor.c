/* Elementwise, activation, shape and data-movement operators. */
#include "ops/op_util.h"
#include "ops/registry.h"

const fq_op_info fq_ops_tensor[] = {
    {.name = ""}, /* placeholder until the first op lands */
};
const int fq_ops_tensor_count = 0;
