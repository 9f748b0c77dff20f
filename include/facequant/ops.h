/* facequant: the operator table.
 *
 * Each supported ONNX operator has one entry: the opset range it is implemented for, a shape
 * function and an execution function. The shape function sets the dtype and shape of the node's
 * outputs from its inputs (reading constant inputs, such as a Reshape target, where the op needs
 * them) and rejects attributes or inputs it does not handle, naming the node. The execution
 * function computes the outputs into buffers already sized from those shapes; it is the same code
 * for constant folding and for sessions, and it never allocates: scratch memory it needs is asked
 * for in advance through workspace_size and handed over in fq_exec_ctx.workspace.
 */
#ifndef FACEQUANT_OPS_H
#define FACEQUANT_OPS_H

#include "facequant/cpu.h"
#include "facequant/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tensor as an execution function sees it. An omitted optional input has data NULL and dtype
 * FQ_DTYPE_UNDEFINED. */
typedef struct fq_tensor {
    fq_dtype dtype;
    fq_shape shape;
    void *data;
    const fq_quant *quant; /* NULL or the value's quantization parameters */
} fq_tensor;

struct fq_threadpool;

/* What a session lets kernels use: the ISA cap (see facequant/cpu.h) and the thread pool. */
typedef struct fq_kernel_config {
    fq_isa isa_cap;
    struct fq_threadpool *pool;  /* NULL: one thread */
    bool fp16_arithmetic;        /* fq_session_options.fp16_arithmetic */
} fq_kernel_config;

typedef struct fq_exec_ctx {
    const fq_graph *graph;
    const fq_node *node;
    int n_inputs;
    const fq_tensor *inputs;
    int n_outputs;
    fq_tensor *outputs;
    void *workspace;          /* workspace_size bytes, FQ_ALIGNMENT aligned, or NULL if 0 */
    size_t workspace_size;
    fq_error *err;
    const void *state;        /* what prepare made for this node, or NULL (constant folding,
                                 ops without prepare): exec then uses the reference kernel */
    struct fq_threadpool *pool; /* NULL: run on the calling thread */
    /* Set when this node's state also computes the next node (see fuse_next in fq_op_info):
     * that node's context, whose outputs exec must write too; its own next is set when the
     * step holds a third node. NULL otherwise. */
    const struct fq_exec_ctx *next;
} fq_exec_ctx;

/* Most nodes a session runs in one fused step (see fuse_next): an NCHW16c chain of Conv takes
 * up to three a stage. */
enum { FQ_SESSION_MAX_FUSED = 32 };

typedef struct fq_op_info {
    const char *name;      /* ONNX op_type in the default domain */
    int min_opset;         /* lowest ai.onnx opset version whose semantics are implemented */
    int max_opset;         /* highest */
    /* Sets dtype and shape of every output. Inputs have known shapes when this is called. */
    fq_status (*infer)(fq_graph *graph, fq_node *node, fq_error *err);
    /* Scratch bytes exec needs for this node (shapes known); NULL means none. */
    size_t (*workspace_size)(const fq_graph *graph, const fq_node *node);
    fq_status (*exec)(const fq_exec_ctx *ctx);
    /* Multiply-accumulates (or elementwise operations) of one run, for `fq inspect`; NULL: 0. */
    int64_t (*flops)(const fq_graph *graph, const fq_node *node);
    /* True when the output is the input's bytes reinterpreted (Reshape, Flatten, Squeeze,
     * Unsqueeze, Identity): the memory plan lets output 0 share input 0's buffer. */
    bool is_view;
    /* Optional, called once per node when a session is created: chooses the kernel for the
     * session's ISA cap and CPU, packs weights, and allocates *state (NULL is allowed). Sets
     * *workspace to the scratch bytes exec will need with that state. The graph is read only. */
    fq_status (*prepare)(const fq_graph *graph, const fq_node *node,
                         const fq_kernel_config *config, void **state, size_t *workspace,
                         fq_error *err);
    /* Frees a state made by prepare. */
    void (*release)(void *state);
    /* Name of the kernel a state runs, for `fq cpu MODEL`, such as "f32_gemm_6x16__avx512". */
    const char *(*kernel_name)(const void *state);
    /* Optional, called by a session after prepare, for node `node` and the node after it,
     * `next`, when next is the sole reader of node's only output, that output is not a graph
     * output, and the session's options allow fusion. Returns true when node's state will
     * also compute next: node's exec then gets fq_exec_ctx.next (next's inputs, outputs and
     * state, whose exec the session skips) and writes next's outputs; node's own outputs
     * then stay unwritten (the session gives them no memory: data NULL). May enlarge
     * *workspace, node's workspace. Returning false leaves both states as they were. The IR
     * is not changed: the two nodes stay two nodes for every other reader of the graph.
     * After a true, the session offers the node after next the same way (next is then the
     * sole reader of the previous next's only output), up to FQ_SESSION_MAX_FUSED nodes in
     * one step: exec then gets the chain ctx->next->next and writes only the last node's
     * outputs. */
    bool (*fuse_next)(const fq_graph *graph, const fq_node *node, void *state,
                      const fq_node *next, void *next_state, size_t *workspace);
} fq_op_info;

/* The table, and look-up by name. */
int fq_op_count(void);
const fq_op_info *fq_op_get(int op);
/* Index of the op named name, or -1. */
int fq_op_find(const char *name);

/* Resolves node->op for every node and checks its opset support: an unknown op, or an opset
 * outside [min_opset, max_opset], is refused naming the node, the op and the version. */
fq_status fq_graph_bind_ops(fq_graph *graph, fq_error *err);

/* Runs the shape function of one node; the graph-level driver is in facequant/passes.h. */
fq_status fq_node_infer(fq_graph *graph, int node, fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
