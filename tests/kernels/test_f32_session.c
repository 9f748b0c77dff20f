/* Sessions on the fast fp32 kernels: outputs identical for 1, 2 and 3 threads (a synthetic conv
 * graph and a real detector), an ISA cap choosing a lower kernel, and the kernel names of the
 * elementwise nodes. */
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

/* x (1x6x23x29) -> 3x3 conv pad 1 + relu -> depthwise 3x3 stride 2 -> 1x1 conv -> y. */
static fq_graph *conv_graph(void)
{
    static const int64_t x_dims[] = {1, 6, 23, 29};
    static const int64_t w0[] = {13, 6, 3, 3}, w1[] = {13, 1, 3, 3}, w2[] = {7, 13, 1, 1};
    static const int64_t b0[] = {13}, b2[] = {7};
    static const int64_t pads[] = {1, 1, 1, 1}, strides[] = {2, 2};
    fq_test_seed(21);
    fq_graph *g = gb_graph(13);
    int v = gb_input(g, "x", 4, x_dims);
    int in0[] = {v, gb_const_f32(g, "w0", 4, w0, NULL), gb_const_f32(g, "b0", 1, b0, NULL)};
    v = gb_node(g, "Conv", in0, 3, "c0");
    gb_attr_ints(g, "pads", 4, pads);
    v = gb_node(g, "Relu", &v, 1, "r0");
    int in1[] = {v, gb_const_f32(g, "w1", 4, w1, NULL)};
    v = gb_node(g, "Conv", in1, 2, "c1");
    gb_attr_ints(g, "pads", 4, pads);
    gb_attr_ints(g, "strides", 2, strides);
    gb_attr_int(g, "group", 13);
    int in2[] = {v, gb_const_f32(g, "w2", 4, w2, NULL), gb_const_f32(g, "b2", 1, b2, NULL)};
    v = gb_node(g, "Conv", in2, 3, "y");
    gb_output(g, v);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static fq_session *session_of(const fq_graph *g, int threads, fq_isa isa)
{
    fq_session_options o = fq_session_options_default();
    o.threads = threads;
    o.isa = isa;
    fq_session *s = NULL;
    fq_error err = {0};
    if (fq_session_create(g, &o, &s, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return s;
}

/* Runs g with `threads` threads on seeded inputs; returns a malloc'd copy of every output. */
static float *run_outputs(const fq_graph *g, int threads, size_t *bytes)
{
    fq_session *s = session_of(g, threads, FQ_ISA_AUTO);
    fq_error err = {0};
    fq_test_seed(99);
    for (int i = 0; i < g->n_inputs; i++) {
        fq_tensor t;
        assert_int_equal(fq_session_input(s, i, &t, &err), FQ_OK);
        float *d = t.data;
        for (int64_t k = 0; k < fq_shape_numel(&t.shape); k++)
            d[k] = fq_test_rand_float(-1.0f, 1.0f);
    }
    assert_int_equal(fq_session_run(s, &err), FQ_OK);
    size_t total = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        fq_tensor t;
        fq_session_output(s, i, &t, &err);
        total += (size_t)fq_shape_numel(&t.shape) * sizeof(float);
    }
    unsigned char *out = malloc(total), *p = out;
    for (int i = 0; i < g->n_outputs; i++) {
        fq_tensor t;
        fq_session_output(s, i, &t, &err);
        size_t n = (size_t)fq_shape_numel(&t.shape) * sizeof(float);
        memcpy(p, t.data, n);
        p += n;
    }
    fq_session_free(s);
    *bytes = total;
    return (float *)out;
}

static void expect_same_for_thread_counts(const fq_graph *g)
{
    size_t n1, n2, n3;
    float *y1 = run_outputs(g, 1, &n1), *y2 = run_outputs(g, 2, &n2);
    float *y3 = run_outputs(g, 3, &n3);
    assert_int_equal(n1, n2);
    assert_int_equal(n1, n3);
    assert_memory_equal(y1, y2, n1);
    assert_memory_equal(y1, y3, n1);
    free(y1), free(y2), free(y3);
}

static void test_conv_graph_outputs_are_identical_for_one_two_and_three_threads(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    expect_same_for_thread_counts(g);
    fq_graph_free(g);
}

static void test_det_500m_outputs_are_identical_for_one_two_and_three_threads(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char path[4096];
    snprintf(path, sizeof(path), "%s/models/det_500m.onnx", shared);
    fq_graph *g = NULL;
    fq_error err = {0};
    assert_int_equal(fq_onnx_read_file(path, &g, &err), FQ_OK);
    fq_input_size size = {.width = 320, .height = 320, .batch = 1};
    assert_int_equal(fq_passes_run(g, &size, &err), FQ_OK);
    expect_same_for_thread_counts(g);
    fq_graph_free(g);
}

/* The kernel name of the first conv under a cap. */
static const char *first_conv_kernel(const fq_graph *g, fq_isa isa, char *buf, size_t size)
{
    fq_session *s = session_of(g, 1, isa);
    snprintf(buf, size, "%s", fq_session_kernel_name(s, 0));
    fq_session_free(s);
    return buf;
}

static void test_an_isa_cap_picks_a_lower_kernel(void **state)
{
    (void)state;
    fq_graph *g = conv_graph();
    char name[128];
    assert_non_null(strstr(first_conv_kernel(g, FQ_ISA_SCALAR, name, sizeof(name)),
                           "__scalar"));
    if (fq_isa_supported(FQ_ISA_SSE41))
        assert_non_null(strstr(first_conv_kernel(g, FQ_ISA_SSE41, name, sizeof(name)),
                               "__sse41"));
    if (fq_isa_supported(FQ_ISA_AVX2))
        assert_non_null(strstr(first_conv_kernel(g, FQ_ISA_AVX2, name, sizeof(name)),
                               "__avx2"));
    if (fq_isa_supported(FQ_ISA_AVX512))
        assert_non_null(strstr(first_conv_kernel(g, FQ_ISA_AUTO, name, sizeof(name)),
                               "__avx512"));
    fq_graph_free(g);
}

static void test_the_fq_isa_variable_caps_an_auto_session(void **state)
{
    (void)state;
    if (!fq_isa_supported(FQ_ISA_AVX2)) {
        skip();
        return;
    }
    fq_graph *g = conv_graph();
    char name[128];
    setenv("FQ_ISA", "avx2", 1);
    first_conv_kernel(g, FQ_ISA_AUTO, name, sizeof(name));
    unsetenv("FQ_ISA");
    assert_non_null(strstr(name, "__avx2"));
    fq_graph_free(g);
}

/* x -> Add c -> Sub c -> Mul c -> Div c -> y, every operand fp32 and (1, 4, 5, 6). */
static fq_graph *elementwise_graph(void)
{
    static const int64_t dims[] = {1, 4, 5, 6};
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div"};
    fq_test_seed(5);
    fq_graph *g = gb_graph(13);
    int v = gb_input(g, "x", 4, dims);
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "c%d", i);
        int in[] = {v, gb_const_f32(g, name, 4, dims, NULL)};
        v = gb_node(g, ops[i], in, 2, ops[i]);
    }
    gb_output(g, v);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static const char *kernel_of(const fq_graph *g, const fq_session *s, const char *op)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (strcmp(g->nodes[n].op_type, op) == 0)
            return fq_session_kernel_name(s, n);
    fail_msg("no %s node left after the passes", op);
    return NULL;
}

static void test_fp32_add_sub_and_mul_name_the_rows_they_run(void **state)
{
    (void)state;
    fq_graph *g = elementwise_graph();
    fq_session *s = session_of(g, 1, FQ_ISA_AUTO);
    assert_string_equal(kernel_of(g, s, "Add"), "f32_binary_add");
    assert_string_equal(kernel_of(g, s, "Sub"), "f32_binary_sub");
    assert_string_equal(kernel_of(g, s, "Mul"), "f32_binary_mul");
    assert_string_equal(kernel_of(g, s, "Div"), "reference");
    fq_session_free(s);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_graph_outputs_are_identical_for_one_two_and_three_threads),
        cmocka_unit_test(test_det_500m_outputs_are_identical_for_one_two_and_three_threads),
        cmocka_unit_test(test_an_isa_cap_picks_a_lower_kernel),
        cmocka_unit_test(test_the_fq_isa_variable_caps_an_auto_session),
        cmocka_unit_test(test_fp32_add_sub_and_mul_name_the_rows_they_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
