/* Sessions pairing a pointwise Conv with the depthwise 3x3 Conv that reads it
 * (fq_op_info.fuse_next): the same outputs as with keep_intermediates, bit for bit and for
 * every thread count; no pairing where the 1x1 output has another reader or is a graph output;
 * the observer still sees every node; a MaxPool after the pair joins its step; and the kernel
 * names that say where a pair runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"
#include "test_util.h"

/* The 1x1 output has 1.08 MB: enough for the session to pair (FQ_F32_PWDW_MIN_MIDDLE_BYTES). */
#define C 16
#define H 130
#define W 130
#define N (C * H * W)

static const int64_t x_dims[] = {1, C, H, W};

/* How the 1x1 output is read besides the depthwise Conv. */
typedef enum extra_reader { READ_BY_DW_ONLY, READ_ALSO_BY_RELU, READ_ALSO_AS_OUTPUT } extra_reader;

/* x -> Conv 1x1 (C -> C) "mid" -> Conv depthwise 3x3, pads 1, stride s -> Relu -> "y", with
 * the extra reader of "mid" asked for. The input has the output's size at stride 1, so a plan
 * that let them share memory would corrupt a fused run. */
static fq_graph *chain_graph(extra_reader extra, int64_t stride, bool pooled)
{
    static const int64_t pw_dims[] = {C, C, 1, 1};
    static const int64_t dw_dims[] = {C, 1, 3, 3};
    static const int64_t b_dims[] = {C};
    static const int64_t pads[] = {1, 1, 1, 1};
    fq_test_seed(21);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, x_dims);
    int pw_in[] = {x, gb_const_f32(g, "pw_w", 4, pw_dims, NULL),
                   gb_const_f32(g, "pw_b", 1, b_dims, NULL)};
    int mid = gb_node(g, "Conv", pw_in, 3, "mid");
    int dw_in[] = {mid, gb_const_f32(g, "dw_w", 4, dw_dims, NULL),
                   gb_const_f32(g, "dw_b", 1, b_dims, NULL)};
    int v = gb_node(g, "Conv", dw_in, 3, "dw");
    gb_attr_int(g, "group", C);
    gb_attr_ints(g, "pads", 4, pads);
    gb_attr_ints(g, "strides", 2, (const int64_t[]){stride, stride});
    v = gb_node(g, "Relu", &v, 1, pooled ? "dw_relu" : "y");
    if (pooled) {
        v = gb_node(g, "MaxPool", &v, 1, "y");
        gb_attr_ints(g, "kernel_shape", 2, (const int64_t[]){2, 2});
        gb_attr_ints(g, "strides", 2, (const int64_t[]){2, 2});
    }
    gb_output(g, v);
    if (extra == READ_ALSO_BY_RELU)
        gb_output(g, gb_node(g, "Relu", &mid, 1, "mid_relu"));
    if (extra == READ_ALSO_AS_OUTPUT)
        gb_output(g, mid);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static fq_graph *pair_graph(extra_reader extra, int64_t stride)
{
    return chain_graph(extra, stride, false);
}

static fq_session *open_session(const fq_graph *g, int threads, bool keep)
{
    fq_session_options options = fq_session_options_default();
    options.threads = threads;
    options.keep_intermediates = keep;
    fq_session *s = NULL;
    fq_error err = {0};
    if (fq_session_create(g, &options, &s, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return s;
}

/* Runs s on the test input and copies output 0 (N floats at most) into y. */
static void run_session(fq_session *s, float *y, size_t count)
{
    float *x = malloc(N * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < N; i++)
        x[i] = (float)((i * 7919) % 2003) / 1001.0f - 1.0f;
    fq_error err = {0};
    assert_int_equal(fq_session_set_input(s, 0, x, N * sizeof(float), &err), FQ_OK);
    assert_int_equal(fq_session_run(s, &err), FQ_OK);
    fq_tensor out;
    assert_int_equal(fq_session_output(s, fq_session_output_index(s, "y"), &out, &err), FQ_OK);
    assert_int_equal((size_t)fq_shape_numel(&out.shape), count);
    memcpy(y, out.data, count * sizeof(float));
    free(x);
}

static size_t output_count(int64_t stride)
{
    int64_t side = (H - 1) / stride + 1;
    return (size_t)(C * side * side);
}

static bool first_node_is_paired(const fq_session *s)
{
    return strstr(fq_session_kernel_name(s, 0), "+dw3x3") != NULL;
}

/* Pairs need the depthwise Conv on a SIMD kernel; a CPU without one (32-bit Arm here) runs
 * the two Convs alone, which the tests of pairing then skip. */
static bool pairing_possible(void)
{
    fq_graph *g = pair_graph(READ_BY_DW_ONLY, 1);
    fq_session *s = open_session(g, 1, true);
    bool simd = strstr(fq_session_kernel_name(s, 1), "__ref") == NULL &&
                strcmp(fq_session_kernel_name(s, 1), "reference") != 0;
    fq_session_free(s);
    fq_graph_free(g);
    if (!simd)
        printf("skipping: the depthwise Conv has no SIMD kernel on this CPU, so nothing pairs\n");
    return simd;
}

/* The output of a session with these options, checking whether it paired the two Convs. */
static float *output_of(const fq_graph *g, int64_t stride, int threads, bool keep,
                        bool expect_paired)
{
    fq_session *s = open_session(g, threads, keep);
    assert_int_equal(first_node_is_paired(s), expect_paired);
    float *y = malloc(output_count(stride) * sizeof(float));
    assert_non_null(y);
    run_session(s, y, output_count(stride));
    fq_session_free(s);
    return y;
}

static void test_paired_session_equals_keep_intermediates_bit_for_bit(void **state)
{
    (void)state;
    if (!pairing_possible())
        skip();
    for (int64_t stride = 1; stride <= 2; stride++) {
        fq_graph *g = pair_graph(READ_BY_DW_ONLY, stride);
        float *want = output_of(g, stride, 1, true, false);
        for (int threads = 1; threads <= 2; threads++) {
            float *got = output_of(g, stride, threads, false, true);
            assert_memory_equal(got, want, output_count(stride) * sizeof(float));
            free(got);
        }
        free(want);
        fq_graph_free(g);
    }
}

static void test_zero_initialised_options_pair(void **state)
{
    (void)state;
    if (!pairing_possible())
        skip();
    fq_graph *g = pair_graph(READ_BY_DW_ONLY, 1);
    fq_session_options options;
    memset(&options, 0, sizeof(options));
    options.isa = FQ_ISA_AUTO;
    fq_session *s = NULL;
    assert_int_equal(fq_session_create(g, &options, &s, NULL), FQ_OK);
    assert_true(first_node_is_paired(s));
    fq_session_free(s);
    fq_graph_free(g);
}

/* The Relu of "dw" is fused into it by the passes, so the session holds Conv, Conv, MaxPool:
 * one fused step of three nodes, equal to the three run alone, for 1 and 2 threads. Only a
 * MaxPool with a SIMD kernel joins (AVX-512, AVX2, SSE4.1 and NEON have one): elsewhere the pair
 * runs fused and the pool alone, with the same bytes. */
static void test_max_pool_after_a_pair_runs_in_its_step_bit_for_bit(void **state)
{
    (void)state;
    if (!pairing_possible())
        skip();
    fq_graph *g = chain_graph(READ_BY_DW_ONLY, 1, true);
    size_t count = (size_t)(C * (H / 2) * (W / 2));
    fq_session *alone = open_session(g, 1, true);
    bool pool_kernel = strcmp(fq_session_kernel_name(alone, 2), "reference") != 0;
    float *want = malloc(count * sizeof(float)), *got = malloc(count * sizeof(float));
    assert_non_null(want);
    assert_non_null(got);
    run_session(alone, want, count);
    fq_session_free(alone);
    if (!pool_kernel)
        printf("note: no SIMD max pool on this CPU: the pool runs after the fused pair\n");
    for (int threads = 1; threads <= 2; threads++) {
        fq_session *s = open_session(g, threads, false);
        char fused[128];
        snprintf(fused, sizeof(fused), "fused into %s", g->nodes[0].name);
        assert_non_null(strstr(fq_session_kernel_name(s, 0),
                               pool_kernel ? "+dw3x3s1+maxpool2" : "+dw3x3s1"));
        assert_string_equal(fq_session_kernel_name(s, 1), fused);
        if (pool_kernel)
            assert_string_equal(fq_session_kernel_name(s, 2), fused);
        else
            assert_string_equal(fq_session_kernel_name(s, 2), "reference");
        run_session(s, got, count);
        assert_memory_equal(got, want, count * sizeof(float));
        fq_session_free(s);
    }
    free(want);
    free(got);
    fq_graph_free(g);
}

static void test_kernel_names_say_where_the_pair_runs(void **state)
{
    (void)state;
    if (!pairing_possible())
        skip();
    fq_graph *g = pair_graph(READ_BY_DW_ONLY, 2);
    fq_session *s = open_session(g, 1, false);
    char want[128];
    snprintf(want, sizeof(want), "fused into %s", g->nodes[0].name);
    assert_non_null(strstr(fq_session_kernel_name(s, 0), "+dw3x3s2"));
    assert_string_equal(fq_session_kernel_name(s, 1), want);
    fq_session_free(s);
    fq_graph_free(g);
}

static void test_pointwise_output_with_a_second_reader_is_not_paired(void **state)
{
    (void)state;
    fq_graph *g = pair_graph(READ_ALSO_BY_RELU, 1);
    fq_session *s = open_session(g, 1, false);
    assert_false(first_node_is_paired(s));
    assert_null(strstr(fq_session_kernel_name(s, 1), "fused"));
    fq_session_free(s);
    fq_graph_free(g);
}

static void test_pointwise_output_that_is_a_graph_output_is_not_paired(void **state)
{
    (void)state;
    fq_graph *g = pair_graph(READ_ALSO_AS_OUTPUT, 1);
    fq_session *s = open_session(g, 1, false);
    assert_false(first_node_is_paired(s));
    fq_session_free(s);
    fq_graph_free(g);
}

/* What the observer saw: the nodes, in order, and their first output's data. */
typedef struct seen_nodes {
    int nodes[16];
    const void *data[16];
    int count;
} seen_nodes;

static fq_status record_node(void *user, int node, const fq_tensor *outputs, int n_outputs,
                             fq_error *err)
{
    (void)err;
    seen_nodes *seen = user;
    if (seen->count < 16) {
        seen->nodes[seen->count] = node;
        seen->data[seen->count] = n_outputs > 0 ? outputs[0].data : NULL;
    }
    seen->count++;
    return FQ_OK;
}

static void test_observer_sees_every_node_of_a_paired_session(void **state)
{
    (void)state;
    if (!pairing_possible())
        skip();
    fq_graph *g = pair_graph(READ_BY_DW_ONLY, 1);
    fq_session *s = open_session(g, 1, false);
    assert_true(first_node_is_paired(s));
    seen_nodes seen = {.count = 0};
    fq_error err = {0};
    assert_int_equal(fq_session_run_observed(s, record_node, &seen, &err), FQ_OK);
    assert_int_equal(seen.count, g->n_nodes);
    for (int n = 0; n < g->n_nodes && n < 16; n++)
        assert_int_equal(seen.nodes[n], n);
    fq_session_free(s);
    fq_graph_free(g);
}

static void test_pointwise_output_of_a_pair_has_no_memory(void **state)
{
    (void)state;
    if (!pairing_possible())
        skip();
    fq_graph *g = pair_graph(READ_BY_DW_ONLY, 1);
    fq_session *s = open_session(g, 1, false);
    seen_nodes seen = {.count = 0};
    assert_int_equal(fq_session_run_observed(s, record_node, &seen, NULL), FQ_OK);
    assert_null(seen.data[0]);
    assert_non_null(seen.data[1]);
    fq_session_free(s);
    fq_graph_free(g);
}

static void test_caller_arena_of_the_planned_size_runs_a_paired_session(void **state)
{
    (void)state;
    if (!pairing_possible())
        skip();
    fq_graph *g = pair_graph(READ_BY_DW_ONLY, 1);
    fq_session_options options = fq_session_options_default();
    size_t size = 0;
    assert_int_equal(fq_session_plan_arena_size(g, &options, &size, NULL), FQ_OK);
    options.arena = fq_malloc_aligned(size);
    options.arena_size = size;
    assert_non_null(options.arena);
    fq_session *s = NULL;
    assert_int_equal(fq_session_create(g, &options, &s, NULL), FQ_OK);
    assert_true(first_node_is_paired(s));
    float *got = malloc(output_count(1) * sizeof(float));
    assert_non_null(got);
    run_session(s, got, output_count(1));
    float *want = output_of(g, 1, 1, true, false);
    assert_memory_equal(got, want, output_count(1) * sizeof(float));
    free(got);
    free(want);
    fq_session_free(s);
    fq_free_aligned(options.arena);
    fq_graph_free(g);
}

/* x + b (b per channel) -> Relu -> "y": the Relu runs in the Add's step, the same bits as the
 * two nodes run alone, and relu(x + b) of every element, on 1, 2 and 3 threads. */
static void test_relu_after_an_add_runs_in_its_step_bit_for_bit(void **state)
{
    (void)state;
    static const int64_t b_dims[] = {1, C, 1, 1};
    float bias[C];
    for (int c = 0; c < C; c++)
        bias[c] = (float)(c % 5) * 0.25f - 0.5f;
    fq_graph *g = gb_graph(13);
    int in[] = {gb_input(g, "x", 4, x_dims), gb_const_f32(g, "b", 4, b_dims, bias)};
    int v = gb_node(g, "Add", in, 2, "sum");
    gb_output(g, gb_node(g, "Relu", &v, 1, "y"));
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    float *want = malloc(N * sizeof(float)), *got = malloc(N * sizeof(float));
    assert_non_null(want);
    assert_non_null(got);
    fq_session *s = open_session(g, 1, true);
    run_session(s, want, N);
    fq_session_free(s);
    for (int i = 0; i < N; i += 101) {
        float sum = ((float)((i * 7919) % 2003) / 1001.0f - 1.0f) + bias[i / (H * W)];
        assert_true(want[i] == (sum < 0.0f ? 0.0f : sum));
    }
    for (int threads = 1; threads <= 3; threads++) {
        s = open_session(g, threads, false);
        assert_non_null(strstr(fq_session_kernel_name(s, 1), g->nodes[0].name));
        assert_non_null(strstr(fq_session_kernel_name(s, 1), "fused into"));
        run_session(s, got, N);
        fq_session_free(s);
        assert_memory_equal(got, want, N * sizeof(float));
    }
    free(want);
    free(got);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paired_session_equals_keep_intermediates_bit_for_bit),
        cmocka_unit_test(test_zero_initialised_options_pair),
        cmocka_unit_test(test_kernel_names_say_where_the_pair_runs),
        cmocka_unit_test(test_max_pool_after_a_pair_runs_in_its_step_bit_for_bit),
        cmocka_unit_test(test_pointwise_output_with_a_second_reader_is_not_paired),
        cmocka_unit_test(test_pointwise_output_that_is_a_graph_output_is_not_paired),
        cmocka_unit_test(test_observer_sees_every_node_of_a_paired_session),
        cmocka_unit_test(test_pointwise_output_of_a_pair_has_no_memory),
        cmocka_unit_test(test_caller_arena_of_the_planned_size_runs_a_paired_session),
        cmocka_unit_test(test_relu_after_an_add_runs_in_its_step_bit_for_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
