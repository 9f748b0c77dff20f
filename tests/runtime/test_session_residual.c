/* Sessions fusing a residual Add into the Conv before it (the Conv op's fuse_next, fuse_add):
 * MobileFaceNet's block, x -> 1x1 -> depthwise 3x3 -> 1x1 -> Add(., x), runs its last 1x1 and
 * the Add as one step that equals keep_intermediates bit for bit for 1 to 3 threads, with the
 * residual on either side of the Add and through an im2col Conv; the Add is named "fused
 * into" the Conv and its input gets no memory. An Add that broadcasts, one with a second
 * reader of the Conv's output, and a 1x1 on the pointwise block driver's planes stay apart.
 * On CPUs without AVX-512 no Add fuses, with the same outputs. */
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

#define C 24

/* How the block ends. */
typedef enum block_end {
    ADD_CONV_FIRST,    /* Add(proj, x) */
    ADD_RESIDUAL_FIRST, /* Add(x, proj) */
    ADD_BROADCAST,     /* Add(proj, a [1, C, 1, 1] constant) */
    ADD_AND_OUTPUT,    /* Add(proj, x), proj also a graph output */
    ADD_AFTER_IM2COL,  /* Add(proj, x), proj a dilated 3x3 Conv of x */
} block_end;

static int conv(fq_graph *g, int x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                int64_t groups, const char *name)
{
    char wname[32], bname[32];
    snprintf(wname, sizeof(wname), "%s_w", name);
    snprintf(bname, sizeof(bname), "%s_b", name);
    const int64_t w_dims[] = {cout, cin / groups, k, k}, b_dims[] = {cout};
    int in[] = {x, gb_const_f32(g, wname, 4, w_dims, NULL),
                gb_const_f32(g, bname, 1, b_dims, NULL)};
    int v = gb_node(g, "Conv", in, 3, name);
    if (groups > 1)
        gb_attr_int(g, "group", groups);
    if (k == 3)
        gb_attr_ints(g, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    gb_attr_ints(g, "strides", 2, (const int64_t[]){stride, stride});
    return v;
}

/* The block on a side x side input (C channels); odd sides leave short column tiles. */
static fq_graph *block(block_end end, int64_t side)
{
    fq_test_seed(41);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, (const int64_t[]){1, C, side, side});
    int proj;
    int residual = x;
    if (end == ADD_AFTER_IM2COL) {
        /* Dilated: the im2col path (the taps path takes dense 3x3 layers). */
        int in[] = {x, gb_const_f32(g, "proj_w", 4, (const int64_t[]){C, C, 3, 3}, NULL),
                    gb_const_f32(g, "proj_b", 1, (const int64_t[]){C}, NULL)};
        proj = gb_node(g, "Conv", in, 3, "proj");
        gb_attr_ints(g, "pads", 4, (const int64_t[]){2, 2, 2, 2});
        gb_attr_ints(g, "dilations", 2, (const int64_t[]){2, 2});
    } else {
        int v = gb_node(g, "Relu", (int[]){conv(g, x, C, 2 * C, 1, 1, 1, "expand")}, 1, "e");
        v = gb_node(g, "Relu", (int[]){conv(g, v, 2 * C, 2 * C, 3, 1, 2 * C, "dw")}, 1, "d");
        proj = conv(g, v, 2 * C, C, 1, 1, 1, "proj");
    }
    if (end == ADD_BROADCAST)
        residual = gb_const_f32(g, "shift", 4, (const int64_t[]){1, C, 1, 1}, NULL);
    int in[2] = {proj, residual};
    if (end == ADD_RESIDUAL_FIRST)
        in[0] = residual, in[1] = proj;
    gb_output(g, gb_node(g, "Add", in, 2, "y"));
    if (end == ADD_AND_OUTPUT)
        gb_output(g, proj);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
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

/* Runs s on seeded inputs; returns output "y" (*count floats). */
static float *run_session(fq_session *s, const fq_graph *g, int64_t *count)
{
    fq_error err = {0};
    fq_test_seed(43);
    float *inputs[2] = {NULL, NULL};
    for (int i = 0; i < g->n_inputs; i++) {
        int64_t n = fq_shape_numel(&g->values[g->inputs[i]].shape);
        inputs[i] = fq_test_rand_floats(n);
        assert_int_equal(fq_session_set_input(s, i, inputs[i], (size_t)n * sizeof(float), &err),
                         FQ_OK);
    }
    assert_int_equal(fq_session_run(s, &err), FQ_OK);
    fq_tensor out;
    assert_int_equal(fq_session_output(s, fq_session_output_index(s, "y"), &out, &err), FQ_OK);
    *count = fq_shape_numel(&out.shape);
    float *y = malloc((size_t)*count * sizeof(float));
    assert_non_null(y);
    memcpy(y, out.data, (size_t)*count * sizeof(float));
    free(inputs[0]), free(inputs[1]);
    return y;
}

/* Index of the node whose output is named name. */
static int node_named(const fq_graph *g, const char *name)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (strcmp(g->values[g->nodes[n].outputs[0]].name, name) == 0)
            return n;
    fail_msg("no node writes %s", name);
    return -1;
}

/* The fused (or not) session equals keep_intermediates bit for bit for 1 to 3 threads; the
 * Add's kernel name says whether it ran in the Conv's step. Only the AVX-512 GEMM tiles add a
 * residual: elsewhere nothing fuses. */
static void expect_block(block_end end, int64_t side, bool fused)
{
    if (!fq_isa_supported(FQ_ISA_AVX512)) {
        printf("no AVX-512: the Add of %d at %lld runs on its own\n", (int)end, (long long)side);
        fused = false;
    }
    fq_graph *g = block(end, side);
    fq_session *plain = open_session(g, 1, true);
    int64_t count, got_count;
    float *want = run_session(plain, g, &count);
    fq_session_free(plain);
    int add = node_named(g, "y");
    char fused_name[64];
    snprintf(fused_name, sizeof(fused_name), "fused into %s", g->nodes[node_named(g, "proj")].name);
    for (int threads = 1; threads <= 3; threads++) {
        fq_session *s = open_session(g, threads, false);
        const char *name = fq_session_kernel_name(s, add);
        if (fused)
            assert_string_equal(name, fused_name);
        else
            assert_null(strstr(name, "fused"));
        float *got = run_session(s, g, &got_count);
        assert_int_equal(got_count, count);
        assert_memory_equal(got, want, (size_t)count * sizeof(float));
        free(got);
        fq_session_free(s);
    }
    free(want);
    fq_graph_free(g);
}

static void test_residual_add_runs_in_the_projection_bit_for_bit(void **state)
{
    (void)state;
    expect_block(ADD_CONV_FIRST, 14, true); /* 196 pixels: 6 tiles of 32 and one of 4 */
    expect_block(ADD_CONV_FIRST, 7, true);
    expect_block(ADD_CONV_FIRST, 28, true);
}

static void test_residual_on_the_left_of_the_add_fuses_too(void **state)
{
    (void)state;
    expect_block(ADD_RESIDUAL_FIRST, 13, true);
}

static void test_add_after_an_im2col_conv_fuses(void **state)
{
    (void)state;
    expect_block(ADD_AFTER_IM2COL, 15, true);
}

static void test_broadcast_add_stays_apart(void **state)
{
    (void)state;
    expect_block(ADD_BROADCAST, 14, false);
}

static void test_projection_with_a_second_reader_stays_apart(void **state)
{
    (void)state;
    expect_block(ADD_AND_OUTPUT, 14, false);
}

/* 56x56: the 1x1 runs on the pointwise block driver, which does not add residuals. */
static void test_projection_on_the_block_driver_stays_apart(void **state)
{
    (void)state;
    expect_block(ADD_CONV_FIRST, 56, false);
}

typedef struct seen_outputs {
    int count;
    bool proj_has_data;
    int proj;
} seen_outputs;

static fq_status record(void *user, int node, const fq_tensor *outputs, int n_outputs,
                        fq_error *err)
{
    (void)err;
    seen_outputs *seen = user;
    if (node == seen->proj)
        seen->proj_has_data = n_outputs > 0 && outputs[0].data != NULL;
    seen->count++;
    return FQ_OK;
}

static void test_projection_output_of_a_fused_add_has_no_memory(void **state)
{
    (void)state;
    fq_graph *g = block(ADD_CONV_FIRST, 14);
    fq_session *s = open_session(g, 1, false);
    float *x = calloc(C * 14 * 14, sizeof(float));
    assert_non_null(x);
    assert_int_equal(fq_session_set_input(s, 0, x, C * 14 * 14 * sizeof(float), NULL), FQ_OK);
    seen_outputs seen = {.proj = node_named(g, "proj"), .proj_has_data = true};
    assert_int_equal(fq_session_run_observed(s, record, &seen, NULL), FQ_OK);
    assert_int_equal(seen.count, g->n_nodes);
    /* Without AVX-512 nothing fuses, and the projection's output is a tensor of its own. */
    assert_int_equal(seen.proj_has_data, !fq_isa_supported(FQ_ISA_AVX512));
    free(x);
    fq_session_free(s);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_residual_add_runs_in_the_projection_bit_for_bit),
        cmocka_unit_test(test_residual_on_the_left_of_the_add_fuses_too),
        cmocka_unit_test(test_add_after_an_im2col_conv_fuses),
        cmocka_unit_test(test_broadcast_add_stays_apart),
        cmocka_unit_test(test_projection_with_a_second_reader_stays_apart),
        cmocka_unit_test(test_projection_on_the_block_driver_stays_apart),
        cmocka_unit_test(test_projection_output_of_a_fused_add_has_no_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
