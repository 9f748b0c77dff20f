/* Elementwise operators: f32 math and activations, Clip, PRelu, the broadcasting binary ops
 * (arithmetic and comparisons), the variadic Max/Min/Sum/Mean, and Where. */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "f32_binary.h"
#include "ops/ops_tensor.h"
#include "ref/f32_activation_ref.h"
#include "ref/f32_elementwise_ref.h"
#include "ref/tensor_binary_ref.h"
#include "ref/tensor_clip_ref.h"
#include "ref/tensor_select_ref.h"
#include "runtime/threadpool.h"

/* ---- f32 unary ops ---------------------------------------------------------------------- */

static fq_status f32_unary_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    if (x->dtype != FQ_DTYPE_F32)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s; only f32 is "
                           "supported", x->name, fq_dtype_name(x->dtype));
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &x->shape);
    return FQ_OK;
}

/* Unary ops run in tasks of UNARY_TASK_ELEMENTS elements over the pool's threads; each element
 * is the reference's own function of its input, so the bits do not depend on the split. */
enum { UNARY_TASK_ELEMENTS = 16384 };

typedef struct unary_job {
    const fq_f32_activation *act; /* an activation, or NULL for math_op */
    fq_f32_math_op math_op;
    const float *x;
    float *y;
    int64_t n;
} unary_job;

static void unary_task(void *ctx, size_t index)
{
    const unary_job *job = ctx;
    int64_t begin = (int64_t)index * UNARY_TASK_ELEMENTS;
    int64_t count = job->n - begin < UNARY_TASK_ELEMENTS ? job->n - begin : UNARY_TASK_ELEMENTS;
    if (job->act != NULL)
        fq_f32_activation_ref(job->act, job->x + begin, job->y + begin, count);
    else
        fq_f32_math_ref(job->math_op, job->x + begin, job->y + begin, count);
}

static void run_unary(const fq_exec_ctx *ctx, unary_job *job)
{
    job->x = ctx->inputs[0].data;
    job->y = ctx->outputs[0].data;
    job->n = fq_shape_numel(&ctx->inputs[0].shape);
    size_t tasks = (size_t)((job->n + UNARY_TASK_ELEMENTS - 1) / UNARY_TASK_ELEMENTS);
    fq_threadpool_parallel_for_work(ctx->pool, tasks, (uint64_t)job->n, unary_task, job);
}

static fq_status math_exec(const fq_exec_ctx *ctx, fq_f32_math_op op)
{
    unary_job job = {.act = NULL, .math_op = op};
    run_unary(ctx, &job);
    return FQ_OK;
}

static fq_status activation_exec(const fq_exec_ctx *ctx, fq_f32_activation_kind kind,
                                 float alpha, float beta)
{
    fq_f32_activation act = {kind, alpha, beta};
    unary_job job = {.act = &act};
    run_unary(ctx, &job);
    return FQ_OK;
}

#define DEFINE_F32_UNARY_INFER(name)                                                            \
    fq_status fq_op_##name##_infer(fq_graph *graph, fq_node *node, fq_error *err)               \
    {                                                                                           \
        return f32_unary_infer(graph, node, err);                                               \
    }

#define DEFINE_MATH_OP(name, op)                                                                \
    DEFINE_F32_UNARY_INFER(name)                                                                \
    fq_status fq_op_##name##_exec(const fq_exec_ctx *ctx)                                       \
    {                                                                                           \
        return math_exec(ctx, op);                                                              \
    }

DEFINE_MATH_OP(neg, FQ_F32_NEG)
DEFINE_MATH_OP(abs, FQ_F32_ABS)
DEFINE_MATH_OP(exp, FQ_F32_EXP)
DEFINE_MATH_OP(log, FQ_F32_LOG)
DEFINE_MATH_OP(sqrt, FQ_F32_SQRT)
DEFINE_MATH_OP(tanh, FQ_F32_TANH)
DEFINE_MATH_OP(floor, FQ_F32_FLOOR)
DEFINE_MATH_OP(ceil, FQ_F32_CEIL)
DEFINE_MATH_OP(reciprocal, FQ_F32_RECIPROCAL)

#define DEFINE_ACTIVATION_OP(name, kind)                                                        \
    DEFINE_F32_UNARY_INFER(name)                                                                \
    fq_status fq_op_##name##_exec(const fq_exec_ctx *ctx)                                       \
    {                                                                                           \
        return activation_exec(ctx, kind, 0.0f, 0.0f);                                          \
    }

DEFINE_ACTIVATION_OP(relu, FQ_F32_RELU)
DEFINE_ACTIVATION_OP(sigmoid, FQ_F32_SIGMOID)
DEFINE_ACTIVATION_OP(hard_swish, FQ_F32_HARD_SWISH)
DEFINE_ACTIVATION_OP(softplus, FQ_F32_SOFTPLUS)

/* The activations with parameters read them from the node's attributes, with ONNX's defaults. */
DEFINE_F32_UNARY_INFER(leaky_relu)
DEFINE_F32_UNARY_INFER(hard_sigmoid)
DEFINE_F32_UNARY_INFER(elu)
DEFINE_F32_UNARY_INFER(selu)

fq_status fq_op_leaky_relu_exec(const fq_exec_ctx *ctx)
{
    float alpha = fq_node_attr_float(ctx->node, "alpha", 0.01f);
    return activation_exec(ctx, FQ_F32_LEAKY_RELU, alpha, 0.0f);
}

fq_status fq_op_hard_sigmoid_exec(const fq_exec_ctx *ctx)
{
    float alpha = fq_node_attr_float(ctx->node, "alpha", 0.2f);
    float beta = fq_node_attr_float(ctx->node, "beta", 0.5f);
    return activation_exec(ctx, FQ_F32_HARD_SIGMOID, alpha, beta);
}

fq_status fq_op_elu_exec(const fq_exec_ctx *ctx)
{
    float alpha = fq_node_attr_float(ctx->node, "alpha", 1.0f);
    return activation_exec(ctx, FQ_F32_ELU, alpha, 0.0f);
}

fq_status fq_op_selu_exec(const fq_exec_ctx *ctx)
{
    float alpha = fq_node_attr_float(ctx->node, "alpha", 1.67326319217681884765625f);
    float gamma = fq_node_attr_float(ctx->node, "gamma", 1.05070102214813232421875f);
    return activation_exec(ctx, FQ_F32_SELU, alpha, gamma);
}

/* ---- Clip ------------------------------------------------------------------------------- */

static bool is_integer(fq_dtype dtype)
{
    return dtype == FQ_DTYPE_I8 || dtype == FQ_DTYPE_U8 || dtype == FQ_DTYPE_I32 ||
           dtype == FQ_DTYPE_I64;
}

/* Clip before opset 11 takes min and max as attributes; from 11 as optional scalar inputs of
 * the input's dtype (integer dtypes from 12). */
fq_status fq_op_clip_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    bool bounds_are_inputs = graph->opset >= 11;
    fq_status status = fq_op_check_arity(node, 1, bounds_are_inputs ? 3 : 1, err);
    if (status != FQ_OK)
        return status;
    if (bounds_are_inputs && (fq_node_attr(node, "min") != NULL ||
                              fq_node_attr(node, "max") != NULL))
        return fq_op_error(err, FQ_ERR_PARSE, node, "min and max are inputs from opset 11, not "
                           "attributes");
    const fq_value *x = fq_node_input(graph, node, 0);
    bool integer_ok = graph->opset >= 12 && is_integer(x->dtype);
    if (x->dtype != FQ_DTYPE_F32 && !integer_ok)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s; supported: f32, "
                           "and i8/u8/i32/i64 from opset 12", x->name, fq_dtype_name(x->dtype));
    for (int i = 1; i < node->n_inputs; i++) {
        const fq_value *bound = fq_node_input(graph, node, i);
        if (bound == NULL)
            continue;
        if (bound->dtype != x->dtype || fq_shape_numel(&bound->shape) != 1)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "%s '%s' must be a %s scalar",
                               i == 1 ? "min" : "max", bound->name, fq_dtype_name(x->dtype));
    }
    fq_op_set_output(graph, node, 0, x->dtype, &x->shape);
    return FQ_OK;
}

static int64_t int_bound(const fq_tensor *t, int64_t fallback)
{
    if (t->data == NULL)
        return fallback;
    switch (t->dtype) {
    case FQ_DTYPE_I8: return *(const int8_t *)t->data;
    case FQ_DTYPE_U8: return *(const uint8_t *)t->data;
    case FQ_DTYPE_I32: return *(const int32_t *)t->data;
    default: return *(const int64_t *)t->data;
    }
}

static void int_limits(fq_dtype dtype, int64_t *lo, int64_t *hi)
{
    switch (dtype) {
    case FQ_DTYPE_I8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case FQ_DTYPE_U8: *lo = 0; *hi = UINT8_MAX; break;
    case FQ_DTYPE_I32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
    }
}

static const fq_tensor *optional_input(const fq_exec_ctx *ctx, int i)
{
    static const fq_tensor absent = {0};
    return i < ctx->n_inputs ? &ctx->inputs[i] : &absent;
}

fq_status fq_op_clip_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *x = &ctx->inputs[0];
    int64_t n = fq_shape_numel(&x->shape);
    const fq_tensor *min = optional_input(ctx, 1);
    const fq_tensor *max = optional_input(ctx, 2);
    if (is_integer(x->dtype)) {
        int64_t lo, hi;
        int_limits(x->dtype, &lo, &hi);
        fq_int_clip_ref(x->dtype, x->data, ctx->outputs[0].data, n, int_bound(min, lo),
                        int_bound(max, hi));
        return FQ_OK;
    }
    float lo = -FLT_MAX, hi = FLT_MAX;
    if (ctx->graph->opset < 11) {
        lo = fq_node_attr_float(ctx->node, "min", lo);
        hi = fq_node_attr_float(ctx->node, "max", hi);
    }
    if (min->data != NULL)
        lo = *(const float *)min->data;
    if (max->data != NULL)
        hi = *(const float *)max->data;
    fq_f32_activation act = {FQ_F32_CLIP, lo, hi};
    fq_f32_activation_ref(&act, x->data, ctx->outputs[0].data, n);
    return FQ_OK;
}

/* ---- binary broadcasting ops ------------------------------------------------------------ */

static fq_status binary_infer(fq_graph *graph, fq_node *node, fq_binary_op op, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 2, err);
    if (status != FQ_OK)
        return status;
    const fq_value *a = fq_node_input(graph, node, 0);
    const fq_value *b = fq_node_input(graph, node, 1);
    if (a->dtype != b->dtype)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "inputs '%s' (%s) and '%s' (%s) "
                           "differ in dtype", a->name, fq_dtype_name(a->dtype), b->name,
                           fq_dtype_name(b->dtype));
    if (fq_binary_row_ref(op, a->dtype) == NULL)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "dtype %s is not supported",
                           fq_dtype_name(a->dtype));

    fq_shape out;
    if (fq_broadcast_shape(&a->shape, &b->shape, &out) != FQ_OK) {
        char sa[64], sb[64];
        return fq_op_error(err, FQ_ERR_SHAPE, node, "shapes %s and %s do not broadcast",
                           fq_shape_format(&a->shape, sa, sizeof(sa)),
                           fq_shape_format(&b->shape, sb, sizeof(sb)));
    }
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_dtype out_dtype = fq_binary_op_is_comparison(op) ? FQ_DTYPE_BOOL : a->dtype;
    fq_op_set_output(graph, node, 0, out_dtype, &out);
    return FQ_OK;
}

static bool has_zero(const fq_tensor *t)
{
    int64_t n = fq_shape_numel(&t->shape);
    size_t elem = fq_dtype_size(t->dtype);
    static const unsigned char zero[8];
    for (int64_t i = 0; i < n; i++)
        if (memcmp((const unsigned char *)t->data + (size_t)i * elem, zero, elem) == 0)
            return true;
    return false;
}

/* out = row(a, b), broadcasting a and b to out's shape. */
static void run_row(fq_binary_row_fn row, const fq_tensor *a, const fq_tensor *b, fq_tensor *out)
{
    const fq_shape *operands[2] = {&a->shape, &b->shape};
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &out->shape, 2, operands);
    fq_binary_ref(&plan, row, a->data, b->data, out->data, fq_dtype_size(a->dtype),
                  fq_dtype_size(b->dtype), fq_dtype_size(out->dtype));
}

static void run_binary(fq_binary_op op, const fq_tensor *a, const fq_tensor *b, fq_tensor *out)
{
    run_row(fq_binary_row_ref(op, a->dtype), a, b, out);
}

/* fp32 Add, Sub and Mul run the vectorized rows of f32_binary.h (the same bits), in tasks of
 * about F32_TASK_ELEMENTS outputs: whole rows, or pieces of one long row; with a Relu fused
 * after them (fuse_next), each piece is rectified while it is in L1. */
enum { F32_TASK_ELEMENTS = 16384 };

typedef struct f32_binary_job {
    fq_f32_binary_kind kind;
    const fq_broadcast_plan *plan;
    const float *a, *b;
    float *out;
    int64_t rows_per_task, pieces_per_row, piece;
    bool relu;
} f32_binary_job;

static void f32_binary_task(void *ctx, size_t index)
{
    const f32_binary_job *job = ctx;
    const fq_broadcast_plan *plan = job->plan;
    int64_t a_step = fq_broadcast_row_step(plan, 0), b_step = fq_broadcast_row_step(plan, 1);
    int64_t first = (int64_t)index / job->pieces_per_row * job->rows_per_task;
    int64_t begin = (int64_t)index % job->pieces_per_row * job->piece;
    int64_t end = begin + job->piece < plan->row_len ? begin + job->piece : plan->row_len;
    for (int64_t r = first; r < first + job->rows_per_task && r < plan->rows; r++) {
        int64_t offsets[2];
        fq_broadcast_row_offsets(plan, r, offsets);
        float *out = job->out + r * plan->row_len + begin;
        fq_f32_binary_row(job->kind, job->a + offsets[0] + begin * a_step, a_step,
                          job->b + offsets[1] + begin * b_step, b_step, out, end - begin);
        if (job->relu) {
            static const fq_f32_activation relu = {FQ_F32_RELU, 0.0f, 0.0f};
            fq_f32_activation_ref(&relu, out, out, end - begin);
        }
    }
}

static void run_f32_binary(const fq_exec_ctx *ctx, fq_f32_binary_kind kind)
{
    const fq_tensor *a = &ctx->inputs[0], *b = &ctx->inputs[1];
    /* A fused Relu (fuse_next) writes the Relu's output in place of the node's own. */
    fq_tensor *out = ctx->next != NULL ? &ctx->next->outputs[0] : &ctx->outputs[0];
    const fq_shape *operands[2] = {&a->shape, &b->shape};
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &out->shape, 2, operands);
    if (plan.rows <= 0 || plan.row_len <= 0)
        return;

    f32_binary_job job = {kind, &plan, a->data, b->data, out->data, 1, 1, plan.row_len,
                          ctx->next != NULL};
    if (plan.row_len >= F32_TASK_ELEMENTS) {
        job.pieces_per_row = (plan.row_len + F32_TASK_ELEMENTS - 1) / F32_TASK_ELEMENTS;
        job.piece = (plan.row_len + job.pieces_per_row - 1) / job.pieces_per_row;
    } else {
        job.rows_per_task = F32_TASK_ELEMENTS / plan.row_len;
    }
    int64_t row_tasks = (plan.rows + job.rows_per_task - 1) / job.rows_per_task;
    fq_threadpool_parallel_for(ctx->pool, (size_t)(row_tasks * job.pieces_per_row),
                               f32_binary_task, &job);
}

/* The fp32 operations with a vectorized row, or false. */
static bool f32_binary_kind_of(fq_binary_op op, fq_f32_binary_kind *kind)
{
    switch (op) {
    case FQ_BINARY_ADD:
        *kind = FQ_F32_BINARY_ADD;
        return true;
    case FQ_BINARY_SUB:
        *kind = FQ_F32_BINARY_SUB;
        return true;
    case FQ_BINARY_MUL:
        *kind = FQ_F32_BINARY_MUL;
        return true;
    default:
        return false;
    }
}

static fq_status binary_exec(const fq_exec_ctx *ctx, fq_binary_op op)
{
    const fq_tensor *a = &ctx->inputs[0];
    const fq_tensor *b = &ctx->inputs[1];
    if (op == FQ_BINARY_DIV && is_integer(b->dtype) && has_zero(b))
        return fq_op_error(ctx->err, FQ_ERR_INVALID_ARG, ctx->node,
                           "integer division by zero");
    fq_f32_binary_kind kind;
    if (a->dtype == FQ_DTYPE_F32 && b->dtype == FQ_DTYPE_F32 && f32_binary_kind_of(op, &kind)) {
        run_f32_binary(ctx, kind);
        return FQ_OK;
    }
    run_binary(op, a, b, &ctx->outputs[0]);
    return FQ_OK;
}

/* Add, Sub and Mul of two fp32 inputs name the rows binary_exec runs them on, for `fq cpu
 * MODEL`: the state is the static name (nothing to release). Other dtypes and ops keep no
 * state and are reported as the reference rows. */
static fq_status binary_prepare(const fq_graph *graph, const fq_node *node, fq_binary_op op,
                                void **state, size_t *workspace)
{
    static const char *const names[] = {
        [FQ_F32_BINARY_ADD] = "f32_binary_add",
        [FQ_F32_BINARY_SUB] = "f32_binary_sub",
        [FQ_F32_BINARY_MUL] = "f32_binary_mul",
    };
    fq_f32_binary_kind kind;
    *workspace = 0;
    *state = NULL;
    if (node->n_inputs == 2 && node->inputs[0] >= 0 && node->inputs[1] >= 0 &&
        graph->values[node->inputs[0]].dtype == FQ_DTYPE_F32 &&
        graph->values[node->inputs[1]].dtype == FQ_DTYPE_F32 && f32_binary_kind_of(op, &kind))
        *state = (void *)names[kind];
    return FQ_OK;
}

const char *fq_op_f32_binary_kernel_name(const void *state)
{
    return state;
}

/* An fp32 Add, Sub or Mul (a state from binary_prepare) computes the fp32 Relu that reads its
 * output: relu(a op b) per element, the two nodes' own bits. */
bool fq_op_f32_binary_fuse_next(const fq_graph *graph, const fq_node *node, void *state,
                                const fq_node *next, void *next_state, size_t *workspace)
{
    (void)next_state, (void)workspace;
    if (state == NULL || strcmp(next->op_type, "Relu") != 0 || next->n_inputs != 1 ||
        next->inputs[0] != node->outputs[0] || next->n_outputs != 1 || next->outputs[0] < 0)
        return false;
    return graph->values[next->outputs[0]].dtype == FQ_DTYPE_F32;
}

#define DEFINE_F32_ROWS_PREPARE(name, op)                                                       \
    fq_status fq_op_##name##_prepare(const fq_graph *graph, const fq_node *node,               \
                                     const fq_kernel_config *config, void **state,              \
                                     size_t *workspace, fq_error *err)                          \
    {                                                                                           \
        (void)config, (void)err;                                                                \
        return binary_prepare(graph, node, op, state, workspace);                               \
    }

DEFINE_F32_ROWS_PREPARE(add, FQ_BINARY_ADD)
DEFINE_F32_ROWS_PREPARE(sub, FQ_BINARY_SUB)
DEFINE_F32_ROWS_PREPARE(mul, FQ_BINARY_MUL)

#define DEFINE_BINARY_OP(name, op)                                                              \
    fq_status fq_op_##name##_infer(fq_graph *graph, fq_node *node, fq_error *err)               \
    {                                                                                           \
        return binary_infer(graph, node, op, err);                                              \
    }                                                                                           \
    fq_status fq_op_##name##_exec(const fq_exec_ctx *ctx)                                       \
    {                                                                                           \
        return binary_exec(ctx, op);                                                            \
    }

DEFINE_BINARY_OP(add, FQ_BINARY_ADD)
DEFINE_BINARY_OP(sub, FQ_BINARY_SUB)
DEFINE_BINARY_OP(mul, FQ_BINARY_MUL)
DEFINE_BINARY_OP(div, FQ_BINARY_DIV)
DEFINE_BINARY_OP(equal, FQ_BINARY_EQUAL)
DEFINE_BINARY_OP(less, FQ_BINARY_LESS)
DEFINE_BINARY_OP(greater, FQ_BINARY_GREATER)

/* Pow: base and exponent may differ in dtype (each f32, i32 or i64); the output has the base's. */
fq_status fq_op_pow_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 2, err);
    if (status != FQ_OK)
        return status;
    const fq_value *base = fq_node_input(graph, node, 0);
    const fq_value *exponent = fq_node_input(graph, node, 1);
    if (fq_pow_row_ref(base->dtype, exponent->dtype) == NULL)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "%s ** %s is not supported",
                           fq_dtype_name(base->dtype), fq_dtype_name(exponent->dtype));
    fq_shape out;
    if (fq_broadcast_shape(&base->shape, &exponent->shape, &out) != FQ_OK)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "base and exponent do not broadcast");
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, base->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_pow_exec(const fq_exec_ctx *ctx)
{
    const fq_tensor *base = &ctx->inputs[0];
    const fq_tensor *exponent = &ctx->inputs[1];
    run_row(fq_pow_row_ref(base->dtype, exponent->dtype), base, exponent, &ctx->outputs[0]);
    return FQ_OK;
}

/* PRelu: the slope broadcasts to X in one direction only (the output has X's shape). */
fq_status fq_op_prelu_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = binary_infer(graph, node, FQ_BINARY_PRELU, err);
    if (status != FQ_OK)
        return status;
    const fq_value *x = fq_node_input(graph, node, 0);
    if (!fq_shape_equal(&fq_node_output(graph, node, 0)->shape, &x->shape)) {
        char sx[64], ss[64];
        return fq_op_error(err, FQ_ERR_SHAPE, node, "slope %s does not broadcast to input %s",
                           fq_shape_format(&fq_node_input(graph, node, 1)->shape, ss,
                                           sizeof(ss)),
                           fq_shape_format(&x->shape, sx, sizeof(sx)));
    }
    return FQ_OK;
}

fq_status fq_op_prelu_exec(const fq_exec_ctx *ctx)
{
    return binary_exec(ctx, FQ_BINARY_PRELU);
}

/* ---- variadic Max, Min, Sum, Mean ------------------------------------------------------- */

static fq_status variadic_infer(fq_graph *graph, fq_node *node, fq_binary_op op, bool f32_only,
                                fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 1, node->n_inputs > 1 ? node->n_inputs : 1, err);
    if (status != FQ_OK)
        return status;
    const fq_value *first = fq_node_input(graph, node, 0);
    if (fq_binary_row_ref(op, first->dtype) == NULL ||
        (f32_only && first->dtype != FQ_DTYPE_F32))
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "dtype %s is not supported",
                           fq_dtype_name(first->dtype));

    fq_shape out = first->shape;
    for (int i = 1; i < node->n_inputs; i++) {
        const fq_value *in = fq_node_input(graph, node, i);
        if (in == NULL)
            return fq_op_error(err, FQ_ERR_PARSE, node, "input %d is missing", i);
        if (in->dtype != first->dtype)
            return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "input '%s' is %s, expects %s",
                               in->name, fq_dtype_name(in->dtype), fq_dtype_name(first->dtype));
        if (fq_broadcast_shape(&out, &in->shape, &out) != FQ_OK)
            return fq_op_error(err, FQ_ERR_SHAPE, node, "input '%s' does not broadcast with "
                               "the inputs before it", in->name);
    }
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, first->dtype, &out);
    return FQ_OK;
}

/* Folds the inputs into the output one by one: out = in0 (broadcast), then out = out op in_k. */
static fq_status variadic_exec(const fq_exec_ctx *ctx, fq_binary_op op)
{
    fq_tensor *out = &ctx->outputs[0];
    const fq_shape *first = &ctx->inputs[0].shape;
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &out->shape, 1, &first);
    fq_broadcast_copy_ref(&plan, fq_dtype_size(out->dtype), ctx->inputs[0].data, out->data);
    for (int i = 1; i < ctx->n_inputs; i++)
        run_binary(op, out, &ctx->inputs[i], out);
    return FQ_OK;
}

#define DEFINE_VARIADIC_OP(name, op, f32_only)                                                  \
    fq_status fq_op_##name##_infer(fq_graph *graph, fq_node *node, fq_error *err)               \
    {                                                                                           \
        return variadic_infer(graph, node, op, f32_only, err);                                  \
    }

DEFINE_VARIADIC_OP(max, FQ_BINARY_MAX, false)
DEFINE_VARIADIC_OP(min, FQ_BINARY_MIN, false)
DEFINE_VARIADIC_OP(sum, FQ_BINARY_ADD, true)
DEFINE_VARIADIC_OP(mean, FQ_BINARY_ADD, true)

fq_status fq_op_max_exec(const fq_exec_ctx *ctx)
{
    return variadic_exec(ctx, FQ_BINARY_MAX);
}

fq_status fq_op_min_exec(const fq_exec_ctx *ctx)
{
    return variadic_exec(ctx, FQ_BINARY_MIN);
}

fq_status fq_op_sum_exec(const fq_exec_ctx *ctx)
{
    return variadic_exec(ctx, FQ_BINARY_ADD);
}

fq_status fq_op_mean_exec(const fq_exec_ctx *ctx)
{
    fq_status status = variadic_exec(ctx, FQ_BINARY_ADD);
    float *out = ctx->outputs[0].data;
    int64_t n = fq_shape_numel(&ctx->outputs[0].shape);
    for (int64_t i = 0; i < n; i++)
        out[i] /= (float)ctx->n_inputs;
    return status;
}

/* ---- Where ------------------------------------------------------------------------------ */

fq_status fq_op_where_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 3, 3, err);
    if (status != FQ_OK)
        return status;
    const fq_value *cond = fq_node_input(graph, node, 0);
    const fq_value *x = fq_node_input(graph, node, 1);
    const fq_value *y = fq_node_input(graph, node, 2);
    if (cond->dtype != FQ_DTYPE_BOOL)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "condition '%s' is %s, expects bool",
                           cond->name, fq_dtype_name(cond->dtype));
    if (x->dtype != y->dtype)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "inputs '%s' (%s) and '%s' (%s) "
                           "differ in dtype", x->name, fq_dtype_name(x->dtype), y->name,
                           fq_dtype_name(y->dtype));
    fq_shape out;
    if (fq_broadcast_shape(&cond->shape, &x->shape, &out) != FQ_OK ||
        fq_broadcast_shape(&out, &y->shape, &out) != FQ_OK)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "condition, X and Y do not broadcast");
    status = fq_op_check_numel(node, &out, err);
    if (status != FQ_OK)
        return status;
    fq_op_set_output(graph, node, 0, x->dtype, &out);
    return FQ_OK;
}

fq_status fq_op_where_exec(const fq_exec_ctx *ctx)
{
    fq_tensor *out = &ctx->outputs[0];
    const fq_shape *operands[3] = {&ctx->inputs[0].shape, &ctx->inputs[1].shape,
                                   &ctx->inputs[2].shape};
    fq_broadcast_plan plan;
    fq_broadcast_plan_init(&plan, &out->shape, 3, operands);
    fq_select_ref(&plan, fq_dtype_size(out->dtype), ctx->inputs[0].data, ctx->inputs[1].data,
                  ctx->inputs[2].data, out->data);
    return FQ_OK;
}
