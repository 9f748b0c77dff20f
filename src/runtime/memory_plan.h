/* Memory plan: places every non-constant value and every kernel workspace of a graph in one
 * arena, from lifetimes measured in node steps.
 *
 * A value lives from the step that produces it (graph inputs: before step 0) to the last step
 * that reads it (graph outputs: to the end). A view op's output (Reshape, Flatten, ...) shares
 * its input's buffer, so the two form one block whose lifetime is the union. A node's workspace
 * is a block alive during that node's step only. Blocks are placed greedily, largest first, at
 * the lowest offset that overlaps no placed block with an overlapping lifetime.
 */
#ifndef FQ_RUNTIME_MEMORY_PLAN_H
#define FQ_RUNTIME_MEMORY_PLAN_H

#include "facequant/session.h"

#define FQ_PLAN_NONE ((size_t)-1)

typedef struct fq_memory_plan {
    size_t *value_offset;     /* per value: arena offset, FQ_PLAN_NONE for constants/unused */
    size_t *workspace_offset; /* per node: arena offset of its workspace, FQ_PLAN_NONE if none */
    size_t *workspace_size;   /* per node */
    fq_memory_plan_stats stats;
} fq_memory_plan;

/* workspace: per node, the scratch bytes its chosen kernel needs; NULL asks each op's
 * workspace_size (the reference kernels). */
fq_status fq_memory_plan_build(const fq_graph *graph, const size_t *workspace,
                               fq_memory_plan *plan, fq_error *err);
/* The same when nodes do not all run at their own step: node n runs at step[n] (step NULL:
 * n), non-decreasing in n. The later nodes of a fused step run in the first one's step
 * (step[n + 1] == n for a pair, step[n + 2] == n too for three), so their outputs must not
 * share memory with anything alive during that step; the outputs of every node of the step
 * but the last are never written (the values between them), so they get no buffer
 * (FQ_PLAN_NONE) and cost the arena nothing. */
fq_status fq_memory_plan_build_steps(const fq_graph *graph, const size_t *workspace,
                                     const int *step, fq_memory_plan *plan, fq_error *err);
void fq_memory_plan_free(fq_memory_plan *plan);

#endif
