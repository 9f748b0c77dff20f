/* Sessions running a detector-like backbone as one NCHW16c chain (kernels/f32_nchwc.h, built
 * by the Conv op's fuse_next): stem 3x3 stride 2 -> 1x1 -> depthwise 3x3 -> MaxPool -> 1x1 ->
 * depthwise 3x3 is one step of 6 nodes on AVX-512, its output equal to keep_intermediates bit
 * for bit for 1, 2 and 3 threads; the nodes inside it are named "fused into" the first, the
 * observer still sees every node and the values inside get no memory; a caller arena of the
 * planned size runs it; and the chain stops at a value with a second reader. Skipped on CPUs
 * without AVX-512. */
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
#include "ref/tensor_cast_ref.h"
#include "test_util.h"

/* 320x320 input: the stem's 160x160 output and the pool's 80x80 keep every 1x1 on planes a
 * chain takes (FQ_F32_NCHWC_MIN_PIXELS). */
#define SIDE 320
#define IN (3 * SIDE * SIDE)
#define OUT (16 * 80 * 80)

static const int64_t x_dims[] = {1, 3, SIDE, SIDE};
static const int64_t pads[] = {1, 1, 1, 1};

/* Weights of fp16 models: fp16 constants (IEEE half bit patterns). */
static bool half_weights;

static int weights(fq_graph *g, const char *name, const int64_t dims[4])
{
    if (!half_weights)
        return gb_const_f32(g, name, 4, dims, NULL);
    fq_shape shape = {.rank = 4, .dims = {dims[0], dims[1], dims[2], dims[3]}};
    int64_t n = dims[0] * dims[1] * dims[2] * dims[3];
    uint16_t *half = malloc((size_t)n * sizeof(uint16_t));
    assert_non_null(half);
    for (int64_t i = 0; i < n; i++)
        half[i] = fq_f16_from_f32(fq_test_rand_float(-1.0f, 1.0f));
    int w;
    assert_int_equal(fq_graph_add_value(g, name, FQ_DTYPE_F16, &shape, &w, NULL), FQ_OK);
    assert_int_equal(fq_value_set_data(g, w, half, false, NULL), FQ_OK);
    free(half);
    return w;
}

static int conv(fq_graph *g, int x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                int64_t groups, const char *name)
{
    char wname[32], bname[32];
    snprintf(wname, sizeof(wname), "%s_w", name);
    snprintf(bname, sizeof(bname), "%s_b", name);
    const int64_t w_dims[] = {cout, cin / groups, k, k}, b_dims[] = {cout};
    int in[] = {x, weights(g, wname, w_dims), gb_const_f32(g, bname, 1, b_dims, NULL)};
    int v = gb_node(g, "Conv", in, 3, name);
    if (groups > 1)
        gb_attr_int(g, "group", groups);
    if (k == 3)
        gb_attr_ints(g, "pads", 4, pads);
    gb_attr_ints(g, "strides", 2, (const int64_t[]){stride, stride});
    return v;
}

static int relu(fq_graph *g, int v, const char *name)
{
    return gb_node(g, "Relu", &v, 1, name);
}

/* The backbone; with second_reader, the first depthwise output is also a graph output. */
static fq_graph *backbone(bool second_reader)
{
    fq_test_seed(31);
    fq_graph *g = gb_graph(13);
    int v = gb_input(g, "x", 4, x_dims);
    v = relu(g, conv(g, v, 3, 16, 3, 2, 1, "stem"), "stem_relu");
    v = relu(g, conv(g, v, 16, 32, 1, 1, 1, "pw1"), "pw1_relu");
    int dw1 = relu(g, conv(g, v, 32, 32, 3, 1, 32, "dw1"), "dw1_relu");
    v = gb_node(g, "MaxPool", &dw1, 1, "pool");
    gb_attr_ints(g, "kernel_shape", 2, (const int64_t[]){2, 2});
    gb_attr_ints(g, "strides", 2, (const int64_t[]){2, 2});
    v = conv(g, v, 32, 16, 1, 1, 1, "pw2");
    v = conv(g, v, 16, 16, 3, 1, 16, "y");
    gb_output(g, v);
    if (second_reader)
        gb_output(g, dw1);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static fq_session *open_session(const fq_graph *g, int threads, bool keep, void *arena,
                                size_t arena_size)
{
    fq_session_options options = fq_session_options_default();
    options.threads = threads;
    options.keep_intermediates = keep;
    options.arena = arena;
    options.arena_size = arena_size;
    fq_session *s = NULL;
    fq_error err = {0};
    if (fq_session_create(g, &options, &s, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return s;
}

static float *run_session(fq_session *s)
{
    float *x = malloc(IN * sizeof(float)), *y = malloc(OUT * sizeof(float));
    assert_non_null(x);
    assert_non_null(y);
    for (int i = 0; i < IN; i++)
        x[i] = (float)(((int64_t)i * 7919) % 2003) / 1001.0f - 1.0f;
    fq_error err = {0};
    assert_int_equal(fq_session_set_input(s, 0, x, IN * sizeof(float), &err), FQ_OK);
    assert_int_equal(fq_session_run(s, &err), FQ_OK);
    fq_tensor out;
    assert_int_equal(fq_session_output(s, fq_session_output_index(s, "y"), &out, &err), FQ_OK);
    assert_int_equal(fq_shape_numel(&out.shape), OUT);
    memcpy(y, out.data, OUT * sizeof(float));
    free(x);
    return y;
}

static float *unfused_output(const fq_graph *g)
{
    fq_session *s = open_session(g, 1, true, NULL, 0);
    float *y = run_session(s);
    fq_session_free(s);
    return y;
}

/* s, run, gives the output of g's nodes run alone, bit for bit. */
static void expect_unfused_output(fq_session *s, const fq_graph *g)
{
    float *got = run_session(s);
    float *want = unfused_output(g);
    assert_memory_equal(got, want, OUT * sizeof(float));
    free(got);
    free(want);
}

static bool chains_here(void)
{
    if (fq_isa_supported(FQ_ISA_AVX512))
        return true;
    printf("skipping: NCHW16c chains run on AVX-512 only, which this CPU lacks\n");
    return false;
}

static void test_backbone_is_one_chain_equal_to_its_nodes_bit_for_bit(void **state)
{
    (void)state;
    if (!chains_here())
        skip();
    fq_graph *g = backbone(false);
    assert_int_equal(g->n_nodes, 6); /* the Relus are fused into their Convs */
    float *want = unfused_output(g);
    char fused[64];
    snprintf(fused, sizeof(fused), "fused into %s", g->nodes[0].name);
    for (int threads = 1; threads <= 3; threads++) {
        fq_session *s = open_session(g, threads, false, NULL, 0);
        assert_non_null(strstr(fq_session_kernel_name(s, 0), "f32_nchwc16__avx512 (3 stages)"));
        for (int n = 1; n < g->n_nodes; n++)
            assert_string_equal(fq_session_kernel_name(s, n), fused);
        float *got = run_session(s);
        assert_memory_equal(got, want, OUT * sizeof(float));
        free(got);
        fq_session_free(s);
    }
    free(want);
    fq_graph_free(g);
}

typedef struct seen_nodes {
    int count;
    int nodes[8];
    bool has_data[8];
} seen_nodes;

static fq_status record_node(void *user, int node, const fq_tensor *outputs, int n_outputs,
                             fq_error *err)
{
    (void)err;
    seen_nodes *seen = user;
    if (seen->count < 8) {
        seen->nodes[seen->count] = node;
        seen->has_data[seen->count] = n_outputs > 0 && outputs[0].data != NULL;
    }
    seen->count++;
    return FQ_OK;
}

static void test_observer_sees_every_node_and_the_values_inside_have_no_memory(void **state)
{
    (void)state;
    if (!chains_here())
        skip();
    fq_graph *g = backbone(false);
    fq_session *s = open_session(g, 1, false, NULL, 0);
    float *x = calloc(IN, sizeof(float));
    assert_non_null(x);
    assert_int_equal(fq_session_set_input(s, 0, x, IN * sizeof(float), NULL), FQ_OK);
    seen_nodes seen = {0};
    assert_int_equal(fq_session_run_observed(s, record_node, &seen, NULL), FQ_OK);
    assert_int_equal(seen.count, g->n_nodes);
    for (int n = 0; n < g->n_nodes; n++) {
        assert_int_equal(seen.nodes[n], n);
        assert_int_equal(seen.has_data[n], n + 1 == g->n_nodes);
    }
    free(x);
    fq_session_free(s);
    fq_graph_free(g);
}

static void test_caller_arena_of_the_planned_size_runs_the_chain(void **state)
{
    (void)state;
    if (!chains_here())
        skip();
    fq_graph *g = backbone(false);
    fq_session_options options = fq_session_options_default();
    options.threads = 2;
    size_t size = 0;
    assert_int_equal(fq_session_plan_arena_size(g, &options, &size, NULL), FQ_OK);
    void *arena = fq_malloc_aligned(size);
    assert_non_null(arena);
    fq_session *s = open_session(g, 2, false, arena, size);
    assert_non_null(strstr(fq_session_kernel_name(s, 0), "nchwc16"));
    expect_unfused_output(s, g);
    fq_session_free(s);
    fq_free_aligned(arena);
    fq_graph_free(g);
}

/* dw1's output is also a graph output: the chain ends there (stem, pw1, dw1: 2 stages) and the
 * pool and the rest run on their own kernels, with the same bytes. */
static void test_chain_ends_at_a_value_with_a_second_reader(void **state)
{
    (void)state;
    if (!chains_here())
        skip();
    fq_graph *g = backbone(true);
    fq_session *s = open_session(g, 1, false, NULL, 0);
    assert_non_null(strstr(fq_session_kernel_name(s, 0), "(2 stages)"));
    assert_null(strstr(fq_session_kernel_name(s, 3), "fused"));
    expect_unfused_output(s, g);
    fq_session_free(s);
    fq_graph_free(g);
}

/* The same backbone with fp16 weights (an fp16 .fqm's Convs): the chain computes with their
 * widened values, as the fp16-weight plans of the nodes do. */
static void test_backbone_with_fp16_weights_is_one_chain_bit_for_bit(void **state)
{
    (void)state;
    if (!chains_here())
        skip();
    half_weights = true;
    fq_graph *g = backbone(false);
    half_weights = false;
    for (int threads = 1; threads <= 2; threads++) {
        fq_session *s = open_session(g, threads, false, NULL, 0);
        assert_non_null(strstr(fq_session_kernel_name(s, 0), "f32_nchwc16__avx512 (3 stages)"));
        expect_unfused_output(s, g);
        fq_session_free(s);
    }
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backbone_is_one_chain_equal_to_its_nodes_bit_for_bit),
        cmocka_unit_test(test_observer_sees_every_node_and_the_values_inside_have_no_memory),
        cmocka_unit_test(test_caller_arena_of_the_planned_size_runs_the_chain),
        cmocka_unit_test(test_chain_ends_at_a_value_with_a_second_reader),
        cmocka_unit_test(test_backbone_with_fp16_weights_is_one_chain_bit_for_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
