/* Shape, workspace, execution and cost functions of the compute operators, one group per file
 * (op_conv.c, op_gemm.c, op_pool.c, op_resize.c, op_pad.c, op_softmax.c, op_batchnorm.c), and
 * helpers they share (op_window.c). ops_compute.c lists them in the operator table. */
#ifndef FQ_OPS_OPS_COMPUTE_H
#define FQ_OPS_OPS_COMPUTE_H

#include "facequant/ops.h"

/* Sliding-window geometry of Conv and the pooling ops over 1 or 2 spatial dimensions. */
typedef struct fq_window {
    int spatial;          /* 1 or 2; 1-D windows are stored in index 0 */
    int64_t in[2];
    int64_t out[2];
    int64_t kernel[2];
    int64_t stride[2];
    int64_t dilation[2];
    int64_t pad_begin[2];
    int64_t pad_end[2];
} fq_window;

/* Reads strides, dilations, pads and auto_pad of node for input x (rank 3 or 4, NC + spatial)
 * and the given kernel size, and computes the output size (ceil_mode rounds up, dropping a last
 * window that would start in the end padding). */
fq_status fq_window_resolve(const fq_node *node, const fq_shape *x, const int64_t *kernel,
                            bool ceil_mode, fq_window *win, fq_error *err);

/* Refuses input i unless it is present and f32, naming the dtype. */
fq_status fq_op_require_f32(const fq_graph *graph, const fq_node *node, int i, fq_error *err);
/* Refuses more than the first output. */
fq_status fq_op_single_output(const fq_node *node, const char *what, fq_error *err);

fq_status fq_conv_infer(fq_graph *graph, fq_node *node, fq_error *err);
size_t fq_conv_workspace_size(const fq_graph *graph, const fq_node *node);
fq_status fq_conv_exec(const fq_exec_ctx *ctx);
fq_status fq_conv_prepare(const fq_graph *graph, const fq_node *node,
                          const fq_kernel_config *config, void **state, size_t *workspace,
                          fq_error *err);
void fq_conv_release(void *state);
const char *fq_conv_kernel_name(const void *state);
bool fq_conv_fuse_next(const fq_graph *graph, const fq_node *node, void *state,
                       const fq_node *next, void *next_state, size_t *workspace);
int64_t fq_conv_flops(const fq_graph *graph, const fq_node *node);

fq_status fq_gemm_infer(fq_graph *graph, fq_node *node, fq_error *err);
size_t fq_gemm_workspace_size(const fq_graph *graph, const fq_node *node);
fq_status fq_gemm_exec(const fq_exec_ctx *ctx);
int64_t fq_gemm_flops(const fq_graph *graph, const fq_node *node);
fq_status fq_gemm_prepare(const fq_graph *graph, const fq_node *node,
                          const fq_kernel_config *config, void **state, size_t *workspace,
                          fq_error *err);
void fq_gemm_release(void *state);
const char *fq_gemm_kernel_name(const void *state);

fq_status fq_matmul_infer(fq_graph *graph, fq_node *node, fq_error *err);
fq_status fq_matmul_exec(const fq_exec_ctx *ctx);
int64_t fq_matmul_flops(const fq_graph *graph, const fq_node *node);

fq_status fq_maxpool_infer(fq_graph *graph, fq_node *node, fq_error *err);
/* A MaxPool node's f32 kernel parameters (for a Conv that runs it fused, op_conv.c). */
struct fq_pool2d_f32_params;
fq_status fq_maxpool_f32_params(const fq_graph *graph, const fq_node *node,
                                struct fq_pool2d_f32_params *p, fq_error *err);
fq_status fq_maxpool_exec(const fq_exec_ctx *ctx);
fq_status fq_maxpool_prepare(const fq_graph *graph, const fq_node *node,
                             const fq_kernel_config *config, void **state, size_t *workspace,
                             fq_error *err);
const char *fq_maxpool_kernel_name(const void *state);
fq_status fq_avgpool_infer(fq_graph *graph, fq_node *node, fq_error *err);
fq_status fq_avgpool_exec(const fq_exec_ctx *ctx);
fq_status fq_avgpool_prepare(const fq_graph *graph, const fq_node *node,
                             const fq_kernel_config *config, void **state, size_t *workspace,
                             fq_error *err);
const char *fq_avgpool_kernel_name(const void *state);
fq_status fq_global_pool_infer(fq_graph *graph, fq_node *node, fq_error *err);
fq_status fq_global_avgpool_exec(const fq_exec_ctx *ctx);
fq_status fq_global_maxpool_exec(const fq_exec_ctx *ctx);

fq_status fq_resize_infer(fq_graph *graph, fq_node *node, fq_error *err);
fq_status fq_upsample_infer(fq_graph *graph, fq_node *node, fq_error *err);
size_t fq_resize_workspace_size(const fq_graph *graph, const fq_node *node);
fq_status fq_resize_exec(const fq_exec_ctx *ctx);

fq_status fq_pad_infer(fq_graph *graph, fq_node *node, fq_error *err);
fq_status fq_pad_exec(const fq_exec_ctx *ctx);

fq_status fq_softmax_infer(fq_graph *graph, fq_node *node, fq_error *err);
fq_status fq_softmax_exec(const fq_exec_ctx *ctx);
fq_status fq_log_softmax_exec(const fq_exec_ctx *ctx);

fq_status fq_batchnorm_infer(fq_graph *graph, fq_node *node, fq_error *err);
fq_status fq_batchnorm_exec(const fq_exec_ctx *ctx);

/* Output element count, the cost of the ops that are not multiply-accumulate bound. */
int64_t fq_output_elements(const fq_graph *graph, const fq_node *node);

#endif
