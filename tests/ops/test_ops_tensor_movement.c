/* Data-movement operators: Transpose, Concat, Slice, Gather, Tile; u8 through them and the
 * shape operators. */
#include <stdlib.h>

#include "test_ops_tensor_util.h"

#include "runtime/threadpool.h"

static const float six[6] = {1, 2, 3, 4, 5, 6};
static const float twelve[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

/* ---- Transpose ---- */

static void test_transpose_default_reverses_dims(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Transpose", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(3, 2), F32S(1, 4, 2, 5, 3, 6), 0);
    fq_harness_free(&h);
}

static void test_transpose_3d_perm(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Transpose", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 3, DIMS(2, 3, 2), twelve, false);
    fq_harness_attr_ints(&h, "perm", 3, I64S(1, 2, 0));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* out[j][k][i] = in[i][j][k] = 6i + 2j + k */
    fq_harness_expect_f32(&h, 0, 3, DIMS(3, 2, 2),
                          F32S(0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11), 0);
    fq_harness_free(&h);
}

static void test_transpose_nchw_to_nhwc_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Transpose", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 4, DIMS(1, 2, 1, 3), U8S(1, 2, 3, 4, 5, 6), false);
    fq_harness_attr_ints(&h, "perm", 4, I64S(0, 2, 3, 1));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 4, DIMS(1, 1, 3, 2), U8S(1, 4, 2, 5, 3, 6));
    fq_harness_free(&h);
}

static void test_transpose_f16_and_i64_elements(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Transpose", 13);
    fq_harness_input(&h, FQ_DTYPE_F16, 2, DIMS(2, 2), ((const uint16_t[]){1, 2, 3, 4}), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_F16, 2, DIMS(2, 2), ((const uint16_t[]){1, 3, 2, 4}));
    fq_harness_free(&h);

    fq_harness_init(&h, "Transpose", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 2, DIMS(1, 3), I64S(7, 8, 9), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 2, DIMS(3, 1), I64S(7, 8, 9));
    fq_harness_free(&h);
}

static void test_transpose_refuses_non_permutation(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Transpose", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_attr_ints(&h, "perm", 2, I64S(0, 0));
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

/* ---- Concat ---- */

static void test_concat_along_axis1(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Concat", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 1), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(3, 4, 5, 6), false);
    fq_harness_attr_int(&h, "axis", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), F32S(1, 3, 4, 2, 5, 6), 0);
    fq_harness_free(&h);
}

static void test_concat_i64_shape_pieces_with_negative_axis(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Concat", 11);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(-1, 2), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(0), I64S(0), true);
    fq_harness_attr_int(&h, "axis", -1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(3), I64S(1, -1, 2));
    fq_harness_free(&h);
}

static void test_concat_refuses_mismatched_dims(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Concat", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 1), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(3, 1), F32S(3, 4, 5), false);
    fq_harness_attr_int(&h, "axis", 1);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_concat_refuses_missing_axis(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Concat", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1, 2), false);
    expect_refusal(&h, FQ_ERR_PARSE);
    fq_harness_free(&h);
}

/* ---- Slice ---- */

static void test_slice_opset1_reads_attributes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 9);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(3, 4), twelve, false);
    fq_harness_attr_ints(&h, "starts", 2, I64S(1, 0));
    fq_harness_attr_ints(&h, "ends", 2, I64S(1000, 3));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 3), F32S(4, 5, 6, 8, 9, 10), 0);
    fq_harness_free(&h);
}

static void test_slice_opset1_with_axes_attribute(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 7);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(3, 4), twelve, false);
    fq_harness_attr_ints(&h, "starts", 1, I64S(-2));
    fq_harness_attr_ints(&h, "ends", 1, I64S(-1));
    fq_harness_attr_ints(&h, "axes", 1, I64S(1));
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(3, 1), F32S(2, 6, 10), 0);
    fq_harness_free(&h);
}

static void test_slice_opset10_inputs_with_steps(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 10);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(3, 4), twelve, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(4), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(3), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(3, 2), F32S(0, 3, 4, 7, 8, 11), 0);
    fq_harness_free(&h);
}

static void test_slice_negative_step_reverses(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(-1), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(INT64_MIN), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(-2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(6, 4, 2), 0);
    fq_harness_free(&h);
}

static void test_slice_negative_step_clamps_start(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(100), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(2), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(-1), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(3), F32S(6, 5, 4), 0);
    fq_harness_free(&h);
}

static void test_slice_clamps_int64_max_end(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(4), I64S(1, 3, 224, 224), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(2), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(INT64_MAX), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 1, DIMS(2), I64S(224, 224));
    fq_harness_free(&h);
}

static void test_slice_start_beyond_the_end_is_empty(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1000), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1001), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_F32, 2, DIMS(2, 0), six);
    fq_harness_free(&h);
}

static void test_slice_negative_axes(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(3, 4), twelve, false);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(2), I32S(1, 2), true);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(2), I32S(3, 3), true);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(2), I32S(-1, -2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(1, 2), F32S(9, 10), 0);
    fq_harness_free(&h);
}

static void test_slice_opset10_refuses_starts_attribute(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 10);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(3), true);
    fq_harness_attr_ints(&h, "starts", 1, I64S(1));
    expect_refusal(&h, FQ_ERR_PARSE);
    fq_harness_free(&h);
}

static void test_slice_refuses_zero_step(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(3), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_slice_refuses_runtime_starts(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(3), true);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

/* ---- Gather ---- */

static void test_gather_axis0_rows(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(3, 2), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 2, DIMS(2, 2), I64S(0, 1, 2, 0), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 3, DIMS(2, 2, 2), F32S(1, 2, 3, 4, 5, 6, 1, 2), 0);
    fq_harness_free(&h);
}

static void test_gather_axis1_with_i32_indices(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 11);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 3), six, false);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(2), I32S(2, 0), false);
    fq_harness_attr_int(&h, "axis", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(2, 2), F32S(3, 1, 6, 4), 0);
    fq_harness_free(&h);
}

static void test_gather_negative_indices_wrap(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(-1, -6), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 1, DIMS(2), F32S(6, 1), 0);
    fq_harness_free(&h);
}

static void test_gather_scalar_index_of_a_shape(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(4), I64S(1, 3, 480, 640), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 0, NULL, I64S(3), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_i64(&h, 0, 0, NULL, I64S(640));
    fq_harness_free(&h);
}

static void test_gather_out_of_range_index_is_an_error(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(0, 6), false);
    expect_refusal(&h, FQ_ERR_INVALID_ARG);
    expect_message(&h, "index 6");
    fq_harness_free(&h);
}

static void test_gather_index_below_minus_dim_is_an_error(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_I32, 1, DIMS(1), I32S(-7), false);
    expect_refusal(&h, FQ_ERR_INVALID_ARG);
    fq_harness_free(&h);
}

static void test_gather_bool_data(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_BOOL, 2, DIMS(2, 2), U8S(1, 0, 0, 1), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1), false);
    fq_harness_attr_int(&h, "axis", -1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_BOOL, 2, DIMS(2, 1), U8S(0, 1));
    fq_harness_free(&h);
}

static void test_gather_refuses_float_indices(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(6), six, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(1), F32S(0), false);
    expect_refusal(&h, FQ_ERR_UNSUPPORTED);
    fq_harness_free(&h);
}

/* ---- Tile ---- */

static void test_tile_repeats_each_dim(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Tile", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(1, 2, 3, 4), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(2, 2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_harness_expect_f32(&h, 0, 2, DIMS(4, 4),
                          F32S(1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4), 0);
    fq_harness_free(&h);
}

static void test_tile_refuses_wrong_repeat_count(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Tile", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 2, DIMS(2, 2), F32S(1, 2, 3, 4), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(2), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

static void test_tile_refuses_overflowing_repeats(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Tile", 13);
    fq_harness_input(&h, FQ_DTYPE_F32, 1, DIMS(2), F32S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(INT64_C(1) << 62), true);
    expect_refusal(&h, FQ_ERR_SHAPE);
    fq_harness_free(&h);
}

/* ---- u8 through the data-movement and shape operators ---- */

/* Runs the harness's node again on a pool of `threads` threads; returns output 0's bytes
 * (malloc'd). */
static uint8_t *rerun_on_threads(fq_harness *h, int threads)
{
    fq_graph *g = h->graph;
    const fq_node *node = &g->nodes[h->node];
    fq_tensor inputs[16];
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(g, node, i);
        inputs[i] = (fq_tensor){v->dtype, v->shape, v->data, &v->quant};
    }
    fq_tensor out = h->outputs[0];
    size_t bytes = (size_t)fq_shape_numel(&out.shape);
    out.data = malloc(bytes);
    memset(out.data, 0xcd, bytes);
    fq_threadpool *pool = NULL;
    assert_int_equal(fq_threadpool_create(threads, &pool, &h->err), FQ_OK);
    fq_exec_ctx ctx = {g, node, node->n_inputs, inputs, 1, &out, NULL, 0, &h->err, NULL, pool};
    assert_int_equal(fq_op_get(node->op)->exec(&ctx), FQ_OK);
    fq_threadpool_free(pool);
    return out.data;
}

static uint8_t *counting_bytes(int64_t n)
{
    uint8_t *x = malloc((size_t)n);
    for (int64_t i = 0; i < n; i++)
        x[i] = (uint8_t)(i * 7 + i / 251);
    return x;
}

/* out = x with axes permuted by perm, by the definition (rank 4). */
static void permute4(const uint8_t *x, const int64_t *dims, const int *perm, uint8_t *out)
{
    int64_t od[4], in_stride[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
    for (int d = 0; d < 4; d++)
        od[d] = dims[perm[d]];
    int64_t k = 0;
    for (int64_t a = 0; a < od[0]; a++)
        for (int64_t b = 0; b < od[1]; b++)
            for (int64_t c = 0; c < od[2]; c++)
                for (int64_t e = 0; e < od[3]; e++)
                    out[k++] = x[a * in_stride[perm[0]] + b * in_stride[perm[1]] +
                                 c * in_stride[perm[2]] + e * in_stride[perm[3]]];
}

static void run_layout_transpose(fq_harness *h, const int64_t *dims, const uint8_t *x,
                                 const int *perm)
{
    fq_harness_init(h, "Transpose", 13);
    fq_harness_input(h, FQ_DTYPE_U8, 4, dims, x, false);
    fq_harness_attr_ints(h, "perm", 4, I64S(perm[0], perm[1], perm[2], perm[3]));
    assert_int_equal(fq_harness_run(h), FQ_OK);
}

static void test_transpose_u8_layout_perms_match_the_definition(void **state)
{
    (void)state;
    static const int perms[2][4] = {{0, 2, 3, 1}, {0, 3, 1, 2}};
    const int64_t dims[4] = {2, 37, 9, 41}; /* ragged against the tiles */
    uint8_t *x = counting_bytes(2 * 37 * 9 * 41);
    uint8_t *expected = malloc(2 * 37 * 9 * 41);
    for (int p = 0; p < 2; p++) {
        fq_harness h;
        run_layout_transpose(&h, dims, x, perms[p]);
        permute4(x, dims, perms[p], expected);
        int64_t od[4];
        for (int d = 0; d < 4; d++)
            od[d] = dims[perms[p][d]];
        expect_output(&h, 0, FQ_DTYPE_U8, 4, od, expected);
        fq_harness_free(&h);
    }
    free(expected);
    free(x);
}

static void test_transpose_u8_layout_same_bytes_for_1_2_3_threads(void **state)
{
    (void)state;
    static const int perms[2][4] = {{0, 2, 3, 1}, {0, 3, 1, 2}};
    const int64_t dims[4] = {2, 16, 48, 40};
    const size_t n = 2 * 16 * 48 * 40;
    uint8_t *x = counting_bytes((int64_t)n);
    for (int p = 0; p < 2; p++) {
        fq_harness h;
        run_layout_transpose(&h, dims, x, perms[p]);
        for (int threads = 1; threads <= 3; threads++) {
            uint8_t *again = rerun_on_threads(&h, threads);
            assert_memory_equal(again, h.outputs[0].data, n);
            free(again);
        }
        fq_harness_free(&h);
    }
    free(x);
}

static void test_concat_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Concat", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(2, 1), U8S(1, 2), false);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(2, 2), U8S(3, 4, 5, 6), false);
    fq_harness_attr_int(&h, "axis", 1);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(2, 3), U8S(1, 3, 4, 2, 5, 6));
    fq_harness_free(&h);
}

static void test_reshape_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Reshape", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(2, 3), U8S(1, 2, 3, 4, 5, 250), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(3, -1), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(3, 2), U8S(1, 2, 3, 4, 5, 250));
    fq_harness_free(&h);
}

static void test_flatten_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Flatten", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 4, DIMS(1, 2, 1, 2), U8S(9, 8, 7, 6), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(1, 4), U8S(9, 8, 7, 6));
    fq_harness_free(&h);
}

static void test_squeeze_and_unsqueeze_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Squeeze", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 3, DIMS(1, 2, 1), U8S(200, 100), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(0, 2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(2), U8S(200, 100));
    fq_harness_free(&h);

    fq_harness_init(&h, "Unsqueeze", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(2), U8S(200, 100), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(1, 2), U8S(200, 100));
    fq_harness_free(&h);
}

static void test_identity_u8(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Identity", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 1, DIMS(3), U8S(0, 128, 255), false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 1, DIMS(3), U8S(0, 128, 255));
    fq_harness_free(&h);
}

static void test_slice_u8_with_step(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Slice", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(2, 4), U8S(1, 2, 3, 4, 5, 6, 7, 8), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(0), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(4), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(1), true);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(1), I64S(2), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(2, 2), U8S(1, 3, 5, 7));
    fq_harness_free(&h);
}

static void test_gather_u8_rows(void **state)
{
    (void)state;
    fq_harness h;
    fq_harness_init(&h, "Gather", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 2, DIMS(3, 2), U8S(1, 2, 3, 4, 5, 6), false);
    fq_harness_input(&h, FQ_DTYPE_I64, 1, DIMS(2), I64S(2, 0), true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    expect_output(&h, 0, FQ_DTYPE_U8, 2, DIMS(2, 2), U8S(5, 6, 1, 2));
    fq_harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_default_reverses_dims),
        cmocka_unit_test(test_transpose_3d_perm),
        cmocka_unit_test(test_transpose_nchw_to_nhwc_u8),
        cmocka_unit_test(test_transpose_f16_and_i64_elements),
        cmocka_unit_test(test_transpose_refuses_non_permutation),
        cmocka_unit_test(test_concat_along_axis1),
        cmocka_unit_test(test_concat_i64_shape_pieces_with_negative_axis),
        cmocka_unit_test(test_concat_refuses_mismatched_dims),
        cmocka_unit_test(test_concat_refuses_missing_axis),
        cmocka_unit_test(test_slice_opset1_reads_attributes),
        cmocka_unit_test(test_slice_opset1_with_axes_attribute),
        cmocka_unit_test(test_slice_opset10_inputs_with_steps),
        cmocka_unit_test(test_slice_negative_step_reverses),
        cmocka_unit_test(test_slice_negative_step_clamps_start),
        cmocka_unit_test(test_slice_clamps_int64_max_end),
        cmocka_unit_test(test_slice_start_beyond_the_end_is_empty),
        cmocka_unit_test(test_slice_negative_axes),
        cmocka_unit_test(test_slice_opset10_refuses_starts_attribute),
        cmocka_unit_test(test_slice_refuses_zero_step),
        cmocka_unit_test(test_slice_refuses_runtime_starts),
        cmocka_unit_test(test_gather_axis0_rows),
        cmocka_unit_test(test_gather_axis1_with_i32_indices),
        cmocka_unit_test(test_gather_negative_indices_wrap),
        cmocka_unit_test(test_gather_scalar_index_of_a_shape),
        cmocka_unit_test(test_gather_out_of_range_index_is_an_error),
        cmocka_unit_test(test_gather_index_below_minus_dim_is_an_error),
        cmocka_unit_test(test_gather_bool_data),
        cmocka_unit_test(test_gather_refuses_float_indices),
        cmocka_unit_test(test_tile_repeats_each_dim),
        cmocka_unit_test(test_tile_refuses_wrong_repeat_count),
        cmocka_unit_test(test_tile_refuses_overflowing_repeats),
        cmocka_unit_test(test_transpose_u8_layout_perms_match_the_definition),
        cmocka_unit_test(test_transpose_u8_layout_same_bytes_for_1_2_3_threads),
        cmocka_unit_test(test_concat_u8),
        cmocka_unit_test(test_reshape_u8),
        cmocka_unit_test(test_flatten_u8),
        cmocka_unit_test(test_squeeze_and_unsqueeze_u8),
        cmocka_unit_test(test_identity_u8),
        cmocka_unit_test(test_slice_u8_with_step),
        cmocka_unit_test(test_gather_u8_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
