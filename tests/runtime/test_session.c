/* Sessions and the memory plan: sharing by lifetime, caller-provided arenas with no heap
 * allocation during a run, identical results across threads, and the plan of a real detector. */
#include <math.h>
#include <pthread.h>
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
#include "runtime/memory_plan.h"
#include "test_util.h"

#define C 8
#define H 16
#define W 16
#define N (C * H * W)

static const int64_t x_dims[] = {1, C, H, W};

/* x -> conv -> relu -> conv -> sigmoid -> reshape -> y: a chain where at most two activations
 * are alive at once. */
static fq_graph *chain_graph(void)
{
    static const int64_t w_dims[] = {C, C, 3, 3};
    static const int64_t b_dims[] = {C};
    static const int64_t t_dims[] = {2};
    static const int64_t target[] = {1, -1};
    static const int64_t pads[] = {1, 1, 1, 1};
    fq_test_seed(11);
    fq_graph *g = gb_graph(13);
    int v = gb_input(g, "x", 4, x_dims);
    for (int i = 0; i < 2; i++) {
        int in[] = {v, gb_const_f32(g, "w", 4, w_dims, NULL),
                    gb_const_f32(g, "b", 1, b_dims, NULL)};
        v = gb_node(g, "Conv", in, 3, i == 0 ? "c0" : "c1");
        gb_attr_ints(g, "pads", 4, pads);
        v = gb_node(g, i == 0 ? "Relu" : "Sigmoid", &v, 1, i == 0 ? "r0" : "s1");
    }
    int in[] = {v, gb_const_i64(g, "target", 1, t_dims, target)};
    v = gb_node(g, "Reshape", in, 2, "y");
    gb_output(g, v);
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

static void fill_input(float *x)
{
    for (int i = 0; i < N; i++)
        x[i] = sinf((float)i * 0.37f);
}

static size_t value_size(const fq_value *v)
{
    return (size_t)fq_shape_numel(&v->shape) * fq_dtype_size(v->dtype);
}

static void test_plan_never_overlaps_values_alive_at_the_same_time(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    fq_memory_plan plan;
    assert_int_equal(fq_memory_plan_build(g, NULL, &plan, NULL), FQ_OK);
    /* Every node's inputs and outputs are alive together during its step. */
    for (int n = 0; n < g->n_nodes; n++) {
        const fq_node *node = &g->nodes[n];
        int vals[16], count = 0;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0 && plan.value_offset[node->inputs[i]] != FQ_PLAN_NONE)
                vals[count++] = node->inputs[i];
        for (int o = 0; o < node->n_outputs; o++)
            vals[count++] = node->outputs[o];
        for (int a = 0; a < count; a++) {
            for (int b = a + 1; b < count; b++) {
                size_t oa = plan.value_offset[vals[a]], ob = plan.value_offset[vals[b]];
                if (oa == ob && strcmp(node->op_type, "Reshape") == 0)
                    continue; /* a view shares its input's buffer on purpose */
                bool apart = oa + value_size(&g->values[vals[a]]) <= ob ||
                             ob + value_size(&g->values[vals[b]]) <= oa;
                assert_true(apart);
            }
        }
    }
    fq_memory_plan_free(&plan);
    fq_graph_free(g);
}

static void test_plan_shares_memory_between_values_whose_lifetimes_do_not_overlap(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    fq_session *s;
    assert_int_equal(fq_session_create(g, NULL, &s, NULL), FQ_OK);
    fq_memory_plan_stats stats = fq_session_memory_stats(s);
    /* x, c0, c1 (relu/sigmoid fused) and y (a view of c1): three buffers' worth in the values,
     * at most two alive at once plus the im2col workspace. */
    assert_int_equal(stats.values_bytes, 4 * N * sizeof(float));
    assert_true(stats.arena_bytes < stats.values_bytes + stats.workspace_bytes);
    assert_true(stats.arena_bytes <= 2 * N * sizeof(float) + stats.workspace_bytes);
    fq_session_free(s);
    fq_graph_free(g);
}

static void test_caller_arena_too_small_is_refused(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    size_t need;
    assert_int_equal(fq_session_plan_arena_size(g, NULL, &need, NULL), FQ_OK);
    void *arena = fq_malloc_aligned(need);
    fq_session_options opts = fq_session_options_default();
    opts.arena = arena;
    opts.arena_size = need - 64;
    fq_session *s;
    fq_error err;
    assert_int_equal(fq_session_create(g, &opts, &s, &err), FQ_ERR_NO_MEMORY);
    assert_non_null(strstr(err.message, "arena"));
    fq_free_aligned(arena);
    fq_graph_free(g);
}

/* x (1x16x64x64) -> 1x1 conv -> y: the pointwise block driver keeps a packed block of X per
 * thread in its workspace. */
static fq_graph *pointwise_graph(void)
{
    static const int64_t dims[] = {1, 16, 64, 64}, w_dims[] = {16, 16, 1, 1};
    fq_test_seed(12);
    fq_graph *g = gb_graph(13);
    int in[] = {gb_input(g, "x", 4, dims), gb_const_f32(g, "w", 4, w_dims, NULL)};
    gb_output(g, gb_node(g, "Conv", in, 2, "y"));
    fq_error err = {0};
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

/* The size planned for 2 threads is what a 2-thread session needs (more than for one, whose
 * plan would be refused), and an arena of exactly that size is taken. */
static void test_planned_arena_size_counts_the_sessions_threads(void **state)
{
    (void)state;
    fq_graph *g = pointwise_graph();
    fq_session_options opts = fq_session_options_default();
    size_t one, two;
    assert_int_equal(fq_session_plan_arena_size(g, &opts, &one, NULL), FQ_OK);
    opts.threads = 2;
    assert_int_equal(fq_session_plan_arena_size(g, &opts, &two, NULL), FQ_OK);
    assert_true(two > one);
    void *arena = fq_malloc_aligned(two);
    opts.arena = arena;
    opts.arena_size = two;
    fq_session *s;
    fq_error err = {0};
    if (fq_session_create(g, &opts, &s, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(fq_session_memory_stats(s).arena_bytes, two);
    fq_session_free(s);
    fq_free_aligned(arena);
    fq_graph_free(g);
}

static size_t heap_calls;

static void *counting_alloc(void *user, size_t size)
{
    (void)user;
    heap_calls++;
    return malloc(size);
}

static void *counting_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    heap_calls++;
    return realloc(ptr, size);
}

static void counting_free(void *user, void *ptr)
{
    (void)user;
    heap_calls++;
    free(ptr);
}

static void test_run_with_caller_arena_makes_no_heap_allocation(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    size_t need;
    assert_int_equal(fq_session_plan_arena_size(g, NULL, &need, NULL), FQ_OK);
    void *arena = fq_malloc_aligned(need);
    fq_session_options opts = fq_session_options_default();
    opts.arena = arena;
    opts.arena_size = need;
    fq_session *s;
    assert_int_equal(fq_session_create(g, &opts, &s, NULL), FQ_OK);
    float x[N];
    fill_input(x);
    assert_int_equal(fq_session_set_input(s, 0, x, sizeof(x), NULL), FQ_OK);

    fq_allocator hooks = {counting_alloc, counting_realloc, counting_free, NULL};
    fq_set_allocator(&hooks);
    heap_calls = 0;
    fq_status status = fq_session_run(s, NULL);
    status = status == FQ_OK ? fq_session_run(s, NULL) : status;
    fq_set_allocator(NULL);
    assert_int_equal(status, FQ_OK);
    assert_int_equal(heap_calls, 0);

    /* The counter does count: creating a session goes through it. */
    fq_set_allocator(&hooks);
    fq_session *other;
    assert_int_equal(fq_session_create(g, NULL, &other, NULL), FQ_OK);
    fq_session_free(other);
    fq_set_allocator(NULL);
    assert_true(heap_calls > 0);

    fq_session_free(s);
    fq_free_aligned(arena);
    fq_graph_free(g);
}

typedef struct worker {
    const fq_graph *graph;
    float out[N];
    fq_status status;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    fq_session *s;
    float x[N];
    fill_input(x);
    w->status = fq_session_create(w->graph, NULL, &s, NULL);
    for (int i = 0; i < 20 && w->status == FQ_OK; i++) {
        fq_tensor t;
        w->status = fq_session_set_input(s, 0, x, sizeof(x), NULL);
        if (w->status == FQ_OK)
            w->status = fq_session_run(s, NULL);
        if (w->status == FQ_OK)
            w->status = fq_session_output(s, 0, &t, NULL);
        if (w->status == FQ_OK)
            memcpy(w->out, t.data, sizeof(w->out));
    }
    if (s != NULL)
        fq_session_free(s);
    return NULL;
}

static void test_two_sessions_of_one_graph_in_two_threads_agree(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    static worker a, b;
    a.graph = b.graph = g;
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, run_worker, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, run_worker, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.status, FQ_OK);
    assert_int_equal(b.status, FQ_OK);
    assert_memory_equal(a.out, b.out, sizeof(a.out));

    float single[N], x[N];
    fill_input(x);
    gb_run(g, x, N, 0, single, N);
    assert_memory_equal(a.out, single, sizeof(single));
    fq_graph_free(g);
}

static void test_session_refuses_a_graph_with_unknown_shapes(void **state)
{
    (void)state;
    int64_t dims[] = {1, C, FQ_DIM_UNKNOWN, FQ_DIM_UNKNOWN};
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims);
    int y = gb_node(g, "Relu", &x, 1, "y");
    gb_output(g, y);
    assert_int_equal(fq_graph_bind_ops(g, NULL), FQ_OK);
    fq_session *s;
    fq_error err;
    assert_int_equal(fq_session_create(g, NULL, &s, &err), FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "unknown shape"));
    fq_graph_free(g);
}

static void test_set_input_checks_the_byte_size(void **state)
{
    (void)state;
    fq_graph *g = chain_graph();
    fq_session *s;
    assert_int_equal(fq_session_create(g, NULL, &s, NULL), FQ_OK);
    float x[N] = {0};
    fq_error err;
    assert_int_equal(fq_session_set_input(s, 0, x, sizeof(x) - 4, &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_session_set_input(s, 3, x, sizeof(x), &err), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_session_input_index(s, "x"), 0);
    assert_int_equal(fq_session_output_index(s, "y"), 0);
    assert_int_equal(fq_session_output_index(s, "c0"), -1);
    fq_session_free(s);
    fq_graph_free(g);
}

/* The memory plan of SCRFD-500M at 640x640: the figure the issue asks for. */
static void test_det_500m_arena_is_at_most_60_percent_of_all_values(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char path[4096];
    snprintf(path, sizeof(path), "%s/models/det_500m.onnx", shared);
    fq_graph *g;
    fq_error err = {0};
    if (fq_onnx_read_file(path, &g, &err) != FQ_OK)
        fail_msg("%s", err.message);
    fq_input_size size = {.width = 640, .height = 640};
    if (fq_passes_run(g, &size, &err) != FQ_OK)
        fail_msg("%s", err.message);
    fq_session *s;
    assert_int_equal(fq_session_create(g, NULL, &s, &err), FQ_OK);
    fq_memory_plan_stats stats = fq_session_memory_stats(s);
    print_message("det_500m 640x640: arena %zu bytes, all values %zu bytes (%.1f%%), largest "
                  "workspace %zu bytes\n", stats.arena_bytes, stats.values_bytes,
                  100.0 * (double)stats.arena_bytes / (double)stats.values_bytes,
                  stats.workspace_bytes);
    assert_true((double)stats.arena_bytes <= 0.6 * (double)stats.values_bytes);
    fq_session_free(s);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_never_overlaps_values_alive_at_the_same_time),
        cmocka_unit_test(test_plan_shares_memory_between_values_whose_lifetimes_do_not_overlap),
        cmocka_unit_test(test_caller_arena_too_small_is_refused),
        cmocka_unit_test(test_planned_arena_size_counts_the_sessions_threads),
        cmocka_unit_test(test_run_with_caller_arena_makes_no_heap_allocation),
        cmocka_unit_test(test_two_sessions_of_one_graph_in_two_threads_agree),
        cmocka_unit_test(test_session_refuses_a_graph_with_unknown_shapes),
        cmocka_unit_test(test_set_input_checks_the_byte_size),
        cmocka_unit_test(test_det_500m_arena_is_at_most_60_percent_of_all_values),
    };
    return cmocka_run_group_tests_name("runtime_session", tests, NULL, NULL);
}
