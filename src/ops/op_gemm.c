/* Gemm (alpha, beta, transA, transB, C broadcast to M x N, fused activation) and MatMul (numpy
 * semantics: 1-D operands promoted, batch dimensions broadcast), in f32. Gemm's B may be an
 * fp16 constant (fp16 storage, fp32 arithmetic). In a session, a Gemm whose B and C are
 * constants (C the same for every row of A) runs the packed GEMM kernels of f32_gemm.h (see
 * "the planned path" below; fp16 B stays fp16 in the packed panels); otherwise, and in constant
 * folding, exec runs the reference, widening an fp16 B into its workspace on each run. */
#include <string.h>

#include "f32_gemm.h"
#include "facequant/alloc.h"
#include "ops/op_util.h"
#include "ops/ops_compute.h"
#include "ref/f32_bias_activation_ref.h"
#include "ref/f32_gemm_ref.h"
#include "ref/tensor_cast_ref.h"
#include "runtime/threadpool.h"

typedef struct gemm_dims {
    int64_t m, n, k;
    bool trans_a, trans_b;
    bool f16_b;             /* B is an fp16 constant */
    int64_t c_rows, c_cols; /* C's extent, each 1 or m / n; 0 when C is absent */
} gemm_dims;

static int gemm_slope_input(const fq_node *node)
{
    return node->act.kind == FQ_ACT_PRELU ? node->n_inputs - 1 : -1;
}

static int gemm_c_input(const fq_node *node)
{
    int slopes = gemm_slope_input(node);
    return node->n_inputs > 2 && slopes != 2 && node->inputs[2] >= 0 ? 2 : -1;
}

static fq_status gemm_c_extent(const fq_graph *graph, const fq_node *node, gemm_dims *d,
                               fq_error *err)
{
    int c = gemm_c_input(node);
    d->c_rows = d->c_cols = 0;
    if (c < 0)
        return FQ_OK;
    fq_status status = fq_op_require_f32(graph, node, c, err);
    if (status != FQ_OK)
        return status;
    const fq_shape *shape = &fq_node_input(graph, node, c)->shape;
    if (shape->rank > 2)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "C has rank %d, expects at most 2",
                           shape->rank);
    d->c_rows = shape->rank == 2 ? shape->dims[0] : 1;
    d->c_cols = shape->rank >= 1 ? shape->dims[shape->rank - 1] : 1;
    if ((d->c_rows != 1 && d->c_rows != d->m) || (d->c_cols != 1 && d->c_cols != d->n))
        return fq_op_error(err, FQ_ERR_SHAPE, node, "C of %lld x %lld does not broadcast to "
                           "%lld x %lld", (long long)d->c_rows, (long long)d->c_cols,
                           (long long)d->m, (long long)d->n);
    return FQ_OK;
}

static fq_status gemm_slopes(const fq_graph *graph, const fq_node *node, int64_t n,
                             fq_error *err)
{
    int s = gemm_slope_input(node);
    if (s < 0)
        return FQ_OK;
    if (s < 2 || node->inputs[s] < 0)
        return fq_op_error(err, FQ_ERR_PARSE, node, "fused PRelu has no slope input");
    fq_status status = fq_op_require_f32(graph, node, s, err);
    int64_t count = fq_shape_numel(&fq_node_input(graph, node, s)->shape);
    if (status == FQ_OK && count != 1 && count != n)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "PRelu slopes of %lld entries do not "
                           "broadcast over %lld columns", (long long)count, (long long)n);
    return status;
}

/* B is f32, or an f16 constant. */
static fq_status gemm_check_b(const fq_graph *graph, const fq_node *node, gemm_dims *d,
                              fq_error *err)
{
    const fq_value *b = fq_node_input(graph, node, 1);
    d->f16_b = b != NULL && b->dtype == FQ_DTYPE_F16;
    if (!d->f16_b)
        return fq_op_require_f32(graph, node, 1, err);
    if (b->kind != FQ_VALUE_CONSTANT || b->data == NULL)
        return fq_op_error(err, FQ_ERR_UNSUPPORTED, node, "fp16 B ('%s') must be a constant",
                           b->name);
    return FQ_OK;
}

static fq_status gemm_shape(const fq_graph *graph, const fq_node *node, gemm_dims *d,
                            fq_error *err)
{
    int slopes = gemm_slope_input(node);
    fq_status status = fq_op_check_arity(node, 2, slopes >= 0 ? 4 : 3, err);
    if (status == FQ_OK)
        status = fq_op_require_f32(graph, node, 0, err);
    if (status == FQ_OK)
        status = gemm_check_b(graph, node, d, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *a = &fq_node_input(graph, node, 0)->shape;
    const fq_shape *b = &fq_node_input(graph, node, 1)->shape;
    if (a->rank != 2 || b->rank != 2)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "A and B must be 2-D (ranks %d, %d)",
                           a->rank, b->rank);
    d->trans_a = fq_node_attr_int(node, "transA", 0) != 0;
    d->trans_b = fq_node_attr_int(node, "transB", 0) != 0;
    d->m = a->dims[d->trans_a ? 1 : 0];
    d->k = a->dims[d->trans_a ? 0 : 1];
    d->n = b->dims[d->trans_b ? 0 : 1];
    if (b->dims[d->trans_b ? 1 : 0] != d->k)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "inner dimensions differ: %lld and %lld",
                           (long long)d->k, (long long)b->dims[d->trans_b ? 1 : 0]);
    status = gemm_c_extent(graph, node, d, err);
    if (status == FQ_OK)
        status = gemm_slopes(graph, node, d->n, err);
    return status;
}

fq_status fq_gemm_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    gemm_dims d;
    fq_status status = gemm_shape(graph, node, &d, err);
    if (status != FQ_OK)
        return status;
    fq_shape out = {.rank = 2, .dims = {d.m, d.n}};
    fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &out);
    return FQ_OK;
}

/* Scratch: the transposed copies of A and B that the GEMM kernel reads row-major, and B widened
 * from fp16 (before its transposition). */
static size_t gemm_scratch(const gemm_dims *d)
{
    return (size_t)((d->trans_a ? d->m * d->k : 0) + (d->trans_b ? d->k * d->n : 0) +
                    (d->f16_b ? d->k * d->n : 0)) * sizeof(float);
}

static void widen(const uint16_t *src, int64_t n, float *dst)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = fq_f32_from_f16(src[i]);
}

size_t fq_gemm_workspace_size(const fq_graph *graph, const fq_node *node)
{
    gemm_dims d;
    return gemm_shape(graph, node, &d, NULL) == FQ_OK ? gemm_scratch(&d) : 0;
}

/* dst (cols x rows) = transpose of src (rows x cols). */
static void transpose(const float *src, int64_t rows, int64_t cols, float *dst)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            dst[c * rows + r] = src[r * cols + c];
}

/* y = alpha * y + beta * C, C broadcast from c_rows x c_cols. */
static void gemm_scale_add(const gemm_dims *d, float alpha, float beta, const float *c,
                           float *y)
{
    for (int64_t i = 0; i < d->m; i++) {
        float *row = y + i * d->n;
        for (int64_t j = 0; j < d->n; j++) {
            float cv = 0.0f;
            if (c != NULL)
                cv = c[(d->c_rows == 1 ? 0 : i) * d->c_cols + (d->c_cols == 1 ? 0 : j)];
            row[j] = alpha * row[j] + (c != NULL ? beta * cv : 0.0f);
        }
    }
}

/* The fused activation; a PRELU slope belongs to a column. */
static void gemm_activation(const fq_exec_ctx *ctx, const gemm_dims *d, float *y)
{
    const fq_activation *act = &ctx->node->act;
    fq_epilogue_f32 e = {.alpha = act->alpha, .beta = act->beta};
    switch (act->kind) {
    case FQ_ACT_NONE: return;
    case FQ_ACT_RELU: e.kind = FQ_EPILOGUE_F32_RELU; break;
    case FQ_ACT_CLIP: e.kind = FQ_EPILOGUE_F32_CLIP; break;
    case FQ_ACT_LEAKY_RELU: e.kind = FQ_EPILOGUE_F32_LEAKY_RELU; break;
    case FQ_ACT_PRELU: e.kind = FQ_EPILOGUE_F32_PRELU; break;
    case FQ_ACT_SIGMOID: e.kind = FQ_EPILOGUE_F32_SIGMOID; break;
    }
    if (e.kind != FQ_EPILOGUE_F32_PRELU) {
        fq_ref_bias_activation_f32(y, d->m * d->n, 0.0f, &e, 0);
        return;
    }
    const fq_tensor *slopes = &ctx->inputs[gemm_slope_input(ctx->node)];
    e.slopes = slopes->data;
    e.slope_count = fq_shape_numel(&slopes->shape);
    for (int64_t i = 0; i < d->m; i++)
        for (int64_t j = 0; j < d->n; j++)
            fq_ref_bias_activation_f32(y + i * d->n + j, 1, 0.0f, &e, j);
}

/* ---- the planned path: constant B through the GEMM kernels of f32_gemm.h ----
 *
 * Those kernels compute C (rows x cols) = packed W * X + bias with W the constant operand, so
 * W = alpha * B^T (n x k), the bias is beta * C (one value per output column, C broadcast over
 * the rows of A), X = A^T (k x m) and Y = the result transposed. With one row of A (a face
 * embedding's fully connected layer) A already is X, one float per row, and the result already
 * is Y. Every output is the kernel's sum over k in order from the bias, so the planned path
 * differs from the reference (sum, then alpha, then beta * C) by rounding only. */
typedef struct gemm_state {
    const fq_f32_gemm_kernel *kernel;
    fq_f32_gemm_packed w;
    gemm_dims d;
    int slots;
} gemm_state;

/* B and C are constants, C (if any) is the same for every row of A, and fp16 B comes with alpha
 * 1 (the fp16 packing has no scale). */
static bool planned_fits(const fq_graph *graph, const fq_node *node, const gemm_dims *d)
{
    const fq_value *b = fq_node_input(graph, node, 1);
    int c = gemm_c_input(node);
    const fq_value *cv = c >= 0 ? fq_node_input(graph, node, c) : NULL;
    if (!fq_value_is_constant(b) || b->data == NULL || d->m < 1 || d->n < 1 || d->k < 1)
        return false;
    if (cv != NULL && (!fq_value_is_constant(cv) || cv->data == NULL || d->c_rows > 1))
        return false;
    return !d->f16_b || fq_node_attr_float(node, "alpha", 1.0f) == 1.0f;
}

/* dst (cols x rows) = transpose of src (rows x cols), for fp16 bit patterns. */
static void transpose_u16(const uint16_t *src, int64_t rows, int64_t cols, uint16_t *dst)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            dst[c * rows + r] = src[r * cols + c];
}

static void transpose(const float *src, int64_t rows, int64_t cols, float *dst);

/* Packs alpha * B^T (n x k) with beta * C as the bias; B is transposed first unless transB. */
static fq_status pack_b(const fq_graph *graph, const fq_node *node, gemm_state *s,
                        const float *bias, fq_error *err)
{
    const gemm_dims *d = &s->d;
    const void *b = fq_node_input(graph, node, 1)->data;
    size_t elem = d->f16_b ? sizeof(uint16_t) : sizeof(float);
    void *t = NULL;
    if (!d->trans_b) {
        t = fq_malloc((size_t)(d->k * d->n) * elem);
        if (t == NULL)
            return fq_op_error(err, FQ_ERR_NO_MEMORY, node, "cannot transpose B (%lld x %lld)",
                               (long long)d->k, (long long)d->n);
        if (d->f16_b)
            transpose_u16(b, d->k, d->n, t);
        else
            transpose(b, d->k, d->n, t);
        b = t;
    }
    fq_status status = d->f16_b
        ? fq_f32_gemm_pack_f16(s->kernel, d->n, d->k, b, d->k, bias, &s->w, err)
        : fq_f32_gemm_pack(s->kernel, d->n, d->k, b, d->k, bias,
                           fq_node_attr_float(node, "alpha", 1.0f), &s->w, err);
    fq_free(t);
    return status;
}

/* beta * C per output column, or NULL without C. */
static fq_status make_bias(const fq_graph *graph, const fq_node *node, const gemm_dims *d,
                           float **bias, fq_error *err)
{
    int c = gemm_c_input(node);
    *bias = NULL;
    if (c < 0)
        return FQ_OK;
    const float *cv = fq_node_input(graph, node, c)->data;
    float beta = fq_node_attr_float(node, "beta", 1.0f);
    *bias = fq_malloc((size_t)d->n * sizeof(float));
    if (*bias == NULL)
        return fq_op_error(err, FQ_ERR_NO_MEMORY, node, "cannot allocate the bias");
    for (int64_t j = 0; j < d->n; j++)
        (*bias)[j] = beta * cv[d->c_cols == 1 ? 0 : j];
    return FQ_OK;
}

/* Scratch of the planned path after the GEMM driver's: A^T and the result before its
 * transposition, when A has more than one row. */
static size_t planned_scratch(const gemm_dims *d)
{
    return d->m > 1 ? (size_t)((d->k + d->n) * d->m) * sizeof(float) : 0;
}

/* Scratch for X's panels, packed ahead of the driver's ranges (f32_gemm.h): products of many
 * rows (the GEMM's columns) with weights over a range. */
static size_t panel_bytes(const gemm_state *s)
{
    return fq_f32_gemm_x_panels_floats(s->kernel, &s->w, s->d.m, s->d.m) * sizeof(float);
}

void fq_gemm_release(void *state)
{
    gemm_state *s = state;
    if (s == NULL)
        return;
    fq_f32_gemm_packed_free(&s->w);
    fq_free(s);
}

fq_status fq_gemm_prepare(const fq_graph *graph, const fq_node *node,
                          const fq_kernel_config *config, void **state, size_t *workspace,
                          fq_error *err)
{
    gemm_dims d;
    *state = NULL;
    fq_status status = gemm_shape(graph, node, &d, err);
    if (status != FQ_OK)
        return status;
    *workspace = gemm_scratch(&d);
    if (!planned_fits(graph, node, &d))
        return FQ_OK;
    gemm_state *s = fq_calloc(1, sizeof(*s));
    if (s == NULL)
        return fq_op_error(err, FQ_ERR_NO_MEMORY, node, "cannot allocate the Gemm plan");
    s->d = d;
    s->slots = fq_threadpool_size(config->pool);
    s->kernel = d.f16_b ? fq_f32_gemm_select_rows_f16w(config->isa_cap, d.n)
                        : fq_f32_gemm_select_rows(config->isa_cap, d.n);
    float *bias;
    status = make_bias(graph, node, &d, &bias, err);
    if (status == FQ_OK)
        status = pack_b(graph, node, s, bias, err);
    fq_free(bias);
    if (status != FQ_OK) {
        fq_gemm_release(s);
        return status;
    }
    *state = s;
    *workspace = fq_f32_gemm_workspace_size(s->kernel, s->slots) + panel_bytes(s) +
                 planned_scratch(&d);
    return FQ_OK;
}

const char *fq_gemm_kernel_name(const void *state)
{
    const gemm_state *s = state;
    return s->w.data_f16 != NULL ? s->kernel->name_f16w : s->kernel->name;
}

/* The node's fused activation as the GEMM driver applies it (PRELU slopes per output column,
 * which are the kernel's rows). */
static fq_epilogue_f32 planned_activation(const fq_exec_ctx *ctx)
{
    const fq_activation *act = &ctx->node->act;
    fq_epilogue_f32 e = {.kind = FQ_EPILOGUE_F32_NONE, .alpha = act->alpha, .beta = act->beta};
    switch (act->kind) {
    case FQ_ACT_NONE: break;
    case FQ_ACT_RELU: e.kind = FQ_EPILOGUE_F32_RELU; break;
    case FQ_ACT_CLIP: e.kind = FQ_EPILOGUE_F32_CLIP; break;
    case FQ_ACT_LEAKY_RELU: e.kind = FQ_EPILOGUE_F32_LEAKY_RELU; break;
    case FQ_ACT_SIGMOID: e.kind = FQ_EPILOGUE_F32_SIGMOID; break;
    case FQ_ACT_PRELU: {
        const fq_tensor *slopes = &ctx->inputs[gemm_slope_input(ctx->node)];
        e.kind = FQ_EPILOGUE_F32_PRELU;
        e.slopes = slopes->data;
        e.slope_count = fq_shape_numel(&slopes->shape);
        break;
    }
    }
    return e;
}

static fq_status exec_planned(const fq_exec_ctx *ctx, const gemm_state *s)
{
    const gemm_dims *d = &s->d;
    size_t driver = fq_f32_gemm_workspace_size(s->kernel, s->slots), panels = panel_bytes(s);
    if (ctx->workspace_size < driver + panels + planned_scratch(d))
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);
    const float *a = ctx->inputs[0].data;
    float *y = ctx->outputs[0].data;
    float *xt = (float *)((char *)ctx->workspace + driver + panels), *ct = xt + d->k * d->m;
    if (d->m > 1 && !d->trans_a)
        transpose(a, d->m, d->k, xt);
    fq_f32_gemm_input x = {.x = d->m > 1 && !d->trans_a ? xt : a, .x_stride = d->m,
                           .panels = panels > 0 ? (float *)((char *)ctx->workspace + driver)
                                                : NULL};
    fq_epilogue_f32 act = planned_activation(ctx);
    fq_f32_gemm_run(s->kernel, &s->w, d->m, &x, d->m > 1 ? ct : y, d->m, &act, ctx->workspace,
                    ctx->pool);
    if (d->m > 1)
        transpose(ct, d->n, d->m, y);
    return FQ_OK;
}

fq_status fq_gemm_exec(const fq_exec_ctx *ctx)
{
    if (ctx->state != NULL)
        return exec_planned(ctx, ctx->state);
    gemm_dims d;
    fq_status status = gemm_shape(ctx->graph, ctx->node, &d, ctx->err);
    if (status != FQ_OK)
        return status;
    if (ctx->workspace_size < gemm_scratch(&d))
        return fq_op_error(ctx->err, FQ_ERR_INTERNAL, ctx->node, "workspace of %zu bytes is "
                           "too small", ctx->workspace_size);

    const float *a = ctx->inputs[0].data;
    const float *b = ctx->inputs[1].data;
    float *scratch = ctx->workspace;
    if (d.f16_b) {
        widen(ctx->inputs[1].data, d.k * d.n, scratch);
        b = scratch;
        scratch += d.k * d.n;
    }
    if (d.trans_a) {
        transpose(a, d.k, d.m, scratch);
        a = scratch;
        scratch += d.m * d.k;
    }
    if (d.trans_b) {
        transpose(b, d.n, d.k, scratch);
        b = scratch;
    }

    float *y = ctx->outputs[0].data;
    fq_gemm_f32_params p = {.m = d.m, .n = d.n, .k = d.k, .lda = d.k, .ldb = d.n, .ldc = d.n};
    fq_ref_gemm_f32(&p, a, b, y);
    int c = gemm_c_input(ctx->node);
    gemm_scale_add(&d, fq_node_attr_float(ctx->node, "alpha", 1.0f),
                   fq_node_attr_float(ctx->node, "beta", 1.0f),
                   c >= 0 ? ctx->inputs[c].data : NULL, y);
    gemm_activation(ctx, &d, y);
    return FQ_OK;
}

int64_t fq_gemm_flops(const fq_graph *graph, const fq_node *node)
{
    gemm_dims d;
    return gemm_shape(graph, node, &d, NULL) == FQ_OK ? d.m * d.n * d.k : 0;
}

/* MatMul's operands as batches of matrices: batch dims right-aligned to the output's. */
typedef struct matmul_dims {
    int batch_rank;
    int64_t batch[FQ_MAX_RANK];
    int64_t a_stride[FQ_MAX_RANK]; /* matrices to skip per batch step; 0 where broadcast */
    int64_t b_stride[FQ_MAX_RANK];
    int64_t m, n, k;
    fq_shape out;
} matmul_dims;

/* Batch strides (in matrices) of an operand with the given batch dims, right-aligned. */
static void batch_strides(const fq_shape *s, int matrix_dims, const matmul_dims *d,
                          int64_t *strides)
{
    int own = s->rank - matrix_dims;
    int64_t stride = 1;
    for (int i = d->batch_rank - 1; i >= 0; i--) {
        int j = i - (d->batch_rank - own);
        int64_t dim = j >= 0 ? s->dims[j] : 1;
        strides[i] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
}

static fq_status matmul_batch(const fq_node *node, const fq_shape *a, const fq_shape *b,
                              matmul_dims *d, fq_error *err)
{
    fq_shape ab = {.rank = a->rank > 2 ? a->rank - 2 : 0};
    fq_shape bb = {.rank = b->rank > 2 ? b->rank - 2 : 0};
    memcpy(ab.dims, a->dims, sizeof(int64_t) * (size_t)ab.rank);
    memcpy(bb.dims, b->dims, sizeof(int64_t) * (size_t)bb.rank);
    fq_shape batch;
    if (fq_broadcast_shape(&ab, &bb, &batch) != FQ_OK)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "batch dimensions do not broadcast");
    d->batch_rank = batch.rank;
    memcpy(d->batch, batch.dims, sizeof(batch.dims));
    batch_strides(a, a->rank >= 2 ? 2 : 1, d, d->a_stride);
    batch_strides(b, b->rank >= 2 ? 2 : 1, d, d->b_stride);
    return FQ_OK;
}

static fq_status matmul_shape(const fq_graph *graph, const fq_node *node, matmul_dims *d,
                              fq_error *err)
{
    fq_status status = fq_op_check_arity(node, 2, 2, err);
    for (int i = 0; i < 2 && status == FQ_OK; i++)
        status = fq_op_require_f32(graph, node, i, err);
    if (status != FQ_OK)
        return status;

    const fq_shape *a = &fq_node_input(graph, node, 0)->shape;
    const fq_shape *b = &fq_node_input(graph, node, 1)->shape;
    if (a->rank < 1 || b->rank < 1)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "MatMul operands must have rank >= 1");
    d->m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    d->k = a->dims[a->rank - 1];
    d->n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    int64_t kb = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0];
    if (kb != d->k)
        return fq_op_error(err, FQ_ERR_SHAPE, node, "inner dimensions differ: %lld and %lld",
                           (long long)d->k, (long long)kb);
    status = matmul_batch(node, a, b, d, err);
    if (status != FQ_OK)
        return status;

    d->out.rank = d->batch_rank;
    memcpy(d->out.dims, d->batch, sizeof(d->batch));
    if (a->rank >= 2)
        d->out.dims[d->out.rank++] = d->m;
    if (b->rank >= 2)
        d->out.dims[d->out.rank++] = d->n;
    return FQ_OK;
}

fq_status fq_matmul_infer(fq_graph *graph, fq_node *node, fq_error *err)
{
    matmul_dims d;
    fq_status status = matmul_shape(graph, node, &d, err);
    if (status == FQ_OK)
        fq_op_set_output(graph, node, 0, FQ_DTYPE_F32, &d.out);
    return status;
}

fq_status fq_matmul_exec(const fq_exec_ctx *ctx)
{
    matmul_dims d;
    fq_status status = matmul_shape(ctx->graph, ctx->node, &d, ctx->err);
    if (status != FQ_OK)
        return status;

    int64_t batches = 1;
    for (int i = 0; i < d.batch_rank; i++)
        batches *= d.batch[i];
    fq_gemm_f32_params p = {.m = d.m, .n = d.n, .k = d.k, .lda = d.k, .ldb = d.n, .ldc = d.n};
    const float *a = ctx->inputs[0].data;
    const float *b = ctx->inputs[1].data;
    float *y = ctx->outputs[0].data;
    int64_t coord[FQ_MAX_RANK] = {0};
    for (int64_t t = 0; t < batches; t++) {
        int64_t ai = 0, bi = 0;
        for (int i = 0; i < d.batch_rank; i++) {
            ai += coord[i] * d.a_stride[i];
            bi += coord[i] * d.b_stride[i];
        }
        fq_ref_gemm_f32(&p, a + ai * d.m * d.k, b + bi * d.k * d.n, y + t * d.m * d.n);
        for (int i = d.batch_rank - 1; i >= 0; i--) {
            if (++coord[i] < d.batch[i])
                break;
            coord[i] = 0;
        }
    }
    return FQ_OK;
}

int64_t fq_matmul_flops(const fq_graph *graph, const fq_node *node)
{
    matmul_dims d;
    if (matmul_shape(graph, node, &d, NULL) != FQ_OK)
        return 0;
    int64_t macs = d.m * d.n * d.k;
    for (int i = 0; i < d.batch_rank; i++)
        macs *= d.batch[i];
    return macs;
}
