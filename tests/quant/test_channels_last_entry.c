/* The fused entry of an int8 region: a QuantizeLinear with channels_last = 1 writes u8 NHWC
 * from a float NCHW input. It equals QuantizeLinear then Transpose (0, 2, 3, 1) bit for bit for
 * every shape, ISA cap and thread count; fq_pass_channels_last makes it; a quantized model
 * gives the same outputs with it as with the two nodes (the form of .fqm files written before
 * it existed, which keep working), and it survives an .fqm round trip. */
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
#include "quant/quantize_internal.h"
#include "quant_fixture.h"
#include "test_util.h"

static const int64_t to_nhwc[4] = {0, 2, 3, 1};

/* x [n, c, h, w] -> QuantizeLinear(scale, zero point), fused (channels_last) or followed by a
 * Transpose to NHWC; the u8 NHWC value is the output. */
static fq_graph *entry_graph(const int64_t *dims, float scale, int zero_point, bool fused)
{
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims);
    int s = -1, z = -1;
    assert_int_equal(fq_quant_add_scale(g, "scale", scale, &s, NULL), FQ_OK);
    assert_int_equal(fq_quant_add_zero_point_u8(g, "zero_point", zero_point, &z, NULL), FQ_OK);
    int inputs[] = {x, s, z};
    int y = gb_node(g, "QuantizeLinear", inputs, 3, fused ? "y" : "y_nchw");
    if (fused) {
        gb_attr_int(g, "channels_last", 1);
    } else {
        y = gb_node(g, "Transpose", &y, 1, "y");
        gb_attr_ints(g, "perm", 4, to_nhwc);
    }
    gb_output(g, y);
    qf_prepare(g);
    return g;
}

/* Runs g (one f32 input) with the ISA cap and threads; returns a malloc'd copy of output 0. */
static uint8_t *run_u8(const fq_graph *g, const float *x, size_t count, fq_isa isa, int threads,
                       size_t *size)
{
    fq_session_options options = fq_session_options_default();
    options.isa = isa;
    options.threads = threads;
    fq_session *s = NULL;
    fq_error err = {0};
    if (fq_session_create(g, &options, &s, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    assert_int_equal(fq_session_set_input(s, 0, x, count * sizeof(float), &err), FQ_OK);
    if (fq_session_run(s, &err) != FQ_OK)
        fail_msg("run: %s", err.message);
    fq_tensor t;
    assert_int_equal(fq_session_output(s, 0, &t, &err), FQ_OK);
    *size = (size_t)fq_shape_numel(&t.shape) * fq_dtype_size(t.dtype);
    uint8_t *copy = malloc(*size);
    assert_non_null(copy);
    memcpy(copy, t.data, *size);
    fq_session_free(s);
    return copy;
}

static float *random_input(const int64_t *dims, float scale, size_t *count)
{
    *count = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
    float *x = malloc(*count * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < *count; i++)
        x[i] = fq_test_rand_float(-160.0f, 160.0f) * scale;
    return x;
}

static void check_entry(const int64_t *dims)
{
    float scale = fq_test_rand_float(0.002f, 0.05f);
    int zero_point = fq_test_rand_int(0, 255);
    fq_graph *fused = entry_graph(dims, scale, zero_point, true);
    fq_graph *pair = entry_graph(dims, scale, zero_point, false);
    size_t count, want_size, got_size;
    float *x = random_input(dims, scale, &count);
    uint8_t *want = run_u8(pair, x, count, FQ_ISA_SCALAR, 1, &want_size);
    static const fq_isa caps[] = {FQ_ISA_SCALAR, FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512,
                                  FQ_ISA_NEON, FQ_ISA_AUTO};
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        if (caps[c] != FQ_ISA_AUTO && !fq_isa_supported(caps[c]))
            continue;
        for (int threads = 1; threads <= 3; threads++) {
            uint8_t *got = run_u8(fused, x, count, caps[c], threads, &got_size);
            assert_int_equal(got_size, want_size);
            if (memcmp(got, want, want_size) != 0)
                fail_msg("[%lld, %lld, %lld, %lld] cap %s, %d threads: the fused entry differs "
                         "from QuantizeLinear + Transpose", (long long)dims[0],
                         (long long)dims[1], (long long)dims[2], (long long)dims[3],
                         fq_isa_name(caps[c]), threads);
            free(got);
        }
    }
    free(want);
    free(x);
    fq_graph_free(fused);
    fq_graph_free(pair);
}

static void test_fused_entry_equals_quantize_then_transpose(void **state)
{
    (void)state;
    fq_test_seed(3);
    for (int64_t channels = 1; channels <= 5; channels++) {
        const int64_t dims[] = {fq_test_rand_int(1, 2), channels, fq_test_rand_int(1, 23),
                                2 * fq_test_rand_int(1, 20) + 1};
        check_entry(dims);
    }
}

/* Images large enough to be split into several runs of rows over the threads. */
static void test_fused_entry_of_a_large_image_is_the_same_for_every_thread_count(void **state)
{
    (void)state;
    fq_test_seed(4);
    const int64_t dims[] = {2, 3, 131, 97};
    check_entry(dims);
}

static void test_fused_entry_shape_is_nhwc(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 3, 5, 7};
    fq_graph *g = entry_graph(dims, 0.01f, 128, true);
    const fq_value *y = &g->values[g->outputs[0]];
    const int64_t nhwc[] = {2, 5, 7, 3};
    assert_int_equal(y->dtype, FQ_DTYPE_U8);
    assert_int_equal(y->shape.rank, 4);
    assert_memory_equal(y->shape.dims, nhwc, sizeof(nhwc));
    fq_graph_free(g);
}

static void test_channels_last_on_a_3d_input_is_refused(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    const int64_t dims[] = {3, 5, 7};
    int x = gb_input(g, "x", 3, dims);
    int s = -1;
    assert_int_equal(fq_quant_add_scale(g, "scale", 0.1f, &s, NULL), FQ_OK);
    int inputs[] = {x, s};
    gb_output(g, gb_node(g, "QuantizeLinear", inputs, 2, "y"));
    gb_attr_int(g, "channels_last", 1);
    fq_error err = {0};
    assert_int_not_equal(fq_passes_run(g, NULL, &err), FQ_OK);
    assert_non_null(strstr(err.message, "channels_last"));
    fq_graph_free(g);
}

/* ---- quantized models -------------------------------------------------------------------- */

static const int64_t model_dims[] = {1, 3, 9, 11};
enum { MODEL_INPUT = 3 * 9 * 11 };

static fq_graph *quantized_model(unsigned long long seed)
{
    fq_test_seed(seed);
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, model_dims);
    int v = qf_conv(g, x, "conv1", 3, 4, 3, 1, "Relu");
    v = qf_conv(g, v, "conv2", 4, 5, 3, 1, "Relu");
    gb_output(g, v);
    qf_prepare(g);
    qf_feed feed = {3, seed * 13, -1.0f, 1.0f};
    fq_calib_stats *stats = qf_calibrate(g, &feed);
    fq_graph *q = qf_quantize(g, stats, true, NULL, 0, NULL);
    fq_calib_stats_free(stats);
    fq_graph_free(g);
    return q;
}

static int x_of(const fq_graph *g, int node)
{
    return g->nodes[node].inputs[0];
}

/* The fused QuantizeLinear of g back in the two-node form of earlier .fqm files. */
static void unfuse_entry(fq_graph *g)
{
    int q = qf_find_node(g, "QuantizeLinear", 0);
    assert_true(q >= 0);
    int y = g->nodes[q].outputs[0];
    fq_shape nchw = g->values[x_of(g, q)].shape;
    int inner = -1, t = -1;
    assert_int_equal(fq_graph_add_value(g, "entry_nchw", FQ_DTYPE_U8, &nchw, &inner, NULL),
                     FQ_OK);
    const fq_quant *quant = &g->values[y].quant;
    assert_int_equal(fq_quant_set_per_tensor(&g->values[inner], quant->scale[0],
                                             quant->zero_point[0], NULL), FQ_OK);
    g->nodes[q].outputs[0] = inner;
    for (int a = 0; a < g->nodes[q].n_attrs; a++)
        if (strcmp(g->nodes[q].attrs[a].name, "channels_last") == 0)
            g->nodes[q].attrs[a].i = 0;
    assert_int_equal(fq_graph_add_node(g, "entry_nhwc", "Transpose", &inner, 1, &y, 1, &t,
                                       NULL), FQ_OK);
    gb_attr_ints(g, "perm", 4, to_nhwc);
    assert_int_equal(fq_quant_sort_nodes(g, NULL), FQ_OK);
    assert_int_equal(fq_graph_bind_ops(g, NULL), FQ_OK);
    assert_int_equal(fq_pass_infer_shapes(g, NULL), FQ_OK);
}

static void test_pass_fuses_the_entry_quantize(void **state)
{
    (void)state;
    fq_graph *g = quantized_model(1);
    int q = qf_find_node(g, "QuantizeLinear", 0);
    assert_true(q >= 0);
    assert_int_equal(fq_node_attr_int(&g->nodes[q], "channels_last", 0), 1);
    int reader = -1;
    for (int n = 0; n < g->n_nodes; n++)
        for (int i = 0; i < g->nodes[n].n_inputs; i++)
            if (g->nodes[n].inputs[i] == g->nodes[q].outputs[0])
                reader = n;
    assert_true(reader >= 0);
    assert_string_equal(g->nodes[reader].op_type, "QLinearConv");
    fq_graph_free(g);
}

static void run_model(const fq_graph *g, const float *x, int threads, float *out, size_t count)
{
    size_t size = 0;
    uint8_t *bytes = run_u8(g, x, MODEL_INPUT, FQ_ISA_AUTO, threads, &size);
    assert_int_equal(size, count * sizeof(float));
    memcpy(out, bytes, size);
    free(bytes);
}

static void test_model_outputs_match_the_two_node_entry_bit_for_bit(void **state)
{
    (void)state;
    for (unsigned long long seed = 1; seed <= 3; seed++) {
        fq_graph *fused = quantized_model(seed);
        fq_graph *pair = NULL;
        assert_int_equal(fq_graph_clone(fused, &pair, NULL), FQ_OK);
        unfuse_entry(pair);
        assert_int_equal(gb_count_op(pair, "Transpose"), gb_count_op(fused, "Transpose") + 1);
        float x[MODEL_INPUT];
        for (int i = 0; i < MODEL_INPUT; i++)
            x[i] = fq_test_rand_float(-1.2f, 1.2f);
        size_t count = (size_t)fq_shape_numel(&fused->values[fused->outputs[0]].shape);
        float *a = malloc(count * sizeof(float)), *b = malloc(count * sizeof(float));
        run_model(pair, x, 1, a, count);
        for (int threads = 1; threads <= 2; threads++) {
            run_model(fused, x, threads, b, count);
            if (memcmp(a, b, count * sizeof(float)) != 0)
                fail_msg("seed %llu, %d threads: outputs differ", seed, threads);
        }
        free(a);
        free(b);
        fq_graph_free(fused);
        fq_graph_free(pair);
    }
}

static void test_fused_entry_survives_an_fqm_round_trip(void **state)
{
    (void)state;
    fq_graph *g = quantized_model(7);
    void *data = NULL;
    size_t size = 0;
    fq_error err = {0};
    assert_int_equal(fq_fqm_write_memory(g, NULL, 0, &data, &size, &err), FQ_OK);
    fq_graph *back = NULL;
    fq_fqm_read_options options = {FQ_FQM_READ_COPY};
    if (fq_fqm_read_memory(data, size, &options, &back, NULL, NULL, &err) != FQ_OK)
        fail_msg("read: %s", err.message);
    int q = qf_find_node(back, "QuantizeLinear", 0);
    assert_true(q >= 0);
    assert_int_equal(fq_node_attr_int(&back->nodes[q], "channels_last", 0), 1);
    float x[MODEL_INPUT];
    for (int i = 0; i < MODEL_INPUT; i++)
        x[i] = fq_test_rand_float(-1.0f, 1.0f);
    size_t count = (size_t)fq_shape_numel(&g->values[g->outputs[0]].shape);
    float *a = malloc(count * sizeof(float)), *b = malloc(count * sizeof(float));
    run_model(g, x, 1, a, count);
    run_model(back, x, 1, b, count);
    assert_memory_equal(a, b, count * sizeof(float));
    free(a);
    free(b);
    fq_free(data);
    fq_graph_free(back);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_entry_equals_quantize_then_transpose),
        cmocka_unit_test(test_fused_entry_of_a_large_image_is_the_same_for_every_thread_count),
        cmocka_unit_test(test_fused_entry_shape_is_nhwc),
        cmocka_unit_test(test_channels_last_on_a_3d_input_is_refused),
        cmocka_unit_test(test_pass_fuses_the_entry_quantize),
        cmocka_unit_test(test_model_outputs_match_the_two_node_entry_bit_for_bit),
        cmocka_unit_test(test_fused_entry_survives_an_fqm_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
