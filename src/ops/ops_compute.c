/* Compute operators: Conv, BatchNormalization, Gemm, MatMul, pooling, Resize, Upsample, Pad,
 * Softmax, LogSoftmax. The functions are in op_conv.c, op_gemm.c, op_pool.c, op_resize.c,
 * op_pad.c, op_softmax.c and op_batchnorm.c. */
#include "ops/ops_compute.h"
#include "ops/registry.h"

const fq_op_info fq_ops_compute[] = {
    {"Conv", 1, 17, fq_conv_infer, fq_conv_workspace_size, fq_conv_exec, fq_conv_flops, false,
     fq_conv_prepare, fq_conv_release, fq_conv_kernel_name, fq_conv_fuse_next},
    {"BatchNormalization", 7, 15, fq_batchnorm_infer, NULL, fq_batchnorm_exec,
     fq_output_elements},
    {"Gemm", 7, 17, fq_gemm_infer, fq_gemm_workspace_size, fq_gemm_exec, fq_gemm_flops, false,
     fq_gemm_prepare, fq_gemm_release, fq_gemm_kernel_name},
    {"MatMul", 1, 17, fq_matmul_infer, NULL, fq_matmul_exec, fq_matmul_flops},
    {"MaxPool", 1, 17, fq_maxpool_infer, NULL, fq_maxpool_exec, fq_output_elements, false,
     fq_maxpool_prepare, NULL, fq_maxpool_kernel_name},
    {"AveragePool", 7, 17, fq_avgpool_infer, NULL, fq_avgpool_exec, fq_output_elements, false,
     fq_avgpool_prepare, NULL, fq_avgpool_kernel_name},
    {"GlobalAveragePool", 1, 17, fq_global_pool_infer, NULL, fq_global_avgpool_exec,
     fq_output_elements},
    {"GlobalMaxPool", 1, 17, fq_global_pool_infer, NULL, fq_global_maxpool_exec,
     fq_output_elements},
    {"Resize", 10, 17, fq_resize_infer, fq_resize_workspace_size, fq_resize_exec,
     fq_output_elements},
    {"Upsample", 7, 9, fq_upsample_infer, fq_resize_workspace_size, fq_resize_exec,
     fq_output_elements},
    {"Pad", 2, 17, fq_pad_infer, NULL, fq_pad_exec, fq_output_elements},
    {"Softmax", 1, 17, fq_softmax_infer, NULL, fq_softmax_exec, fq_output_elements},
    {"LogSoftmax", 1, 17, fq_softmax_infer, NULL, fq_log_softmax_exec, fq_output_elements},
};
const int fq_ops_compute_count = (int)(sizeof(fq_ops_compute) / sizeof(fq_ops_compute[0]));
