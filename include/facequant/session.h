/* facequant: sessions, the runnable form of a graph.
 *
 * A session is created from a graph whose shapes are all known (after fq_passes_run). It binds
 * each node to its kernel and plans one arena for every intermediate value and every kernel's
 * workspace, from value lifetimes: values whose lifetimes do not overlap share memory. The graph
 * must outlive the session and is only read, so several sessions (one per thread) can share one
 * graph. fq_session_run allocates nothing: with a caller-provided arena it runs with no heap
 * allocation at all.
 */
#ifndef FACEQUANT_SESSION_H
#define FACEQUANT_SESSION_H

#include "facequant/ir.h"
#include "facequant/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fq_session fq_session;

typedef struct fq_session_options {
    /* Caller-provided arena (FQ_ALIGNMENT aligned) of arena_size bytes, or NULL to let the
     * session allocate one. fq_session_plan_arena_size tells the size needed. */
    void *arena;
    size_t arena_size;
    /* Threads for kernels (0 or 1: the calling thread only). Outputs are identical for every
     * thread count. */
    int threads;
    /* ISA cap (facequant/cpu.h). Zero-initialized options mean FQ_ISA_SCALAR, so set it, or
     * use fq_session_options_default() which sets FQ_ISA_AUTO ($FQ_ISA, else the best). */
    fq_isa isa;
    /* Runs every node on its own, writing every intermediate value. By default (false) a
     * session runs a node with the one or two after it in one step where their ops can compute
     * them at once (fq_op_info.fuse_next, e.g. a 1x1 Conv, the depthwise 3x3 Conv that reads
     * it and a 2x2 MaxPool after that), and the values between them are then never written.
     * Set it when observing intermediates (fq_session_run_observed). */
    bool keep_intermediates;
    /* Runs fp16-weight convolutions in fp16 arithmetic where the CPU has it (AVX512-FP16,
     * ARMv8.2 fp16) and the layer fits (kernels/f16_conv_plan.h). Off by default: the fp16
     * plan converts each layer's input and output between f32 NCHW and f16 NHWC on one
     * thread, which made det_500m 11-20x slower on a Xeon with AVX512-FP16 than the default,
     * fp32 arithmetic on the same fp16 weights (fp16 storage, half the weight bytes). */
    bool fp16_arithmetic;
} fq_session_options;

/* No arena, one thread, FQ_ISA_AUTO. Passing NULL options to fq_session_create means the same. */
fq_session_options fq_session_options_default(void);

typedef struct fq_memory_plan_stats {
    size_t arena_bytes;        /* planned arena: intermediates, graph inputs/outputs, workspace */
    size_t values_bytes;       /* sum of the sizes of all non-constant values, unshared */
    size_t workspace_bytes;    /* largest kernel workspace (part of arena_bytes) */
    size_t constant_bytes;     /* weights and other constants (held by the graph) */
} fq_memory_plan_stats;

/* Arena bytes a session of graph with these options would need (for a caller-provided arena);
 * options may be NULL. Kernels are chosen as fq_session_create would, for options->threads
 * threads (a pool of them is started and stopped), since their workspace depends on both. */
fq_status fq_session_plan_arena_size(const fq_graph *graph, const fq_session_options *options,
                                     size_t *size, fq_error *err);

fq_status fq_session_create(const fq_graph *graph, const fq_session_options *options,
                            fq_session **out, fq_error *err);
void fq_session_free(fq_session *session);

fq_memory_plan_stats fq_session_memory_stats(const fq_session *session);
/* The ISA cap in force (after FQ_ISA) and the threads used. */
fq_isa fq_session_isa_cap(const fq_session *session);
int fq_session_threads(const fq_session *session);
/* The kernel node n runs: the op's kernel name, or "reference" when it has no choice. The
 * first node of a fused step names its kernels ("f32_gemm_8x32__avx512+dw3x3s1"), the others
 * say "fused into NAME", NAME the first node's name. */
const char *fq_session_kernel_name(const fq_session *session, int node);

/* Graph inputs and outputs by position (graph->inputs / graph->outputs order) or name. */
int fq_session_input_index(const fq_session *session, const char *name);
int fq_session_output_index(const fq_session *session, const char *name);
/* Buffer of input i inside the arena, to be filled before fq_session_run; *tensor gets its dtype,
 * shape and data pointer. */
fq_status fq_session_input(fq_session *session, int i, fq_tensor *tensor, fq_error *err);
/* Copies size bytes into input i; size must equal the input's byte size. */
fq_status fq_session_set_input(fq_session *session, int i, const void *data, size_t size,
                               fq_error *err);
fq_status fq_session_run(fq_session *session, fq_error *err);
/* Called after node `node` has run with its output tensors, which are valid only during the
 * call (values share arena memory). A status other than FQ_OK stops the run and is returned.
 * For a fused step (see keep_intermediates) the observer is called for each of its nodes after
 * the step ran, in node order: the outputs of every node but the last were then not written
 * and have no memory (data NULL), so a caller that reads intermediates must set
 * keep_intermediates. */
typedef fq_status (*fq_session_observer)(void *user, int node, const fq_tensor *outputs,
                                         int n_outputs, fq_error *err);
/* fq_session_run with an observer called after every node (observer NULL: a plain run). */
fq_status fq_session_run_observed(fq_session *session, fq_session_observer observer, void *user,
                                  fq_error *err);
/* Output i after a run; the data stays valid until the next run or fq_session_free. */
fq_status fq_session_output(const fq_session *session, int i, fq_tensor *tensor, fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
