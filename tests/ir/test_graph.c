/* The graph IR: construction, look-up, compaction, validation, cloning, and the allocator and
 * error conventions it relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "graph_builder.h"

static const int64_t dims4[] = {1, 2, 3, 3};

static void test_shape_numel_is_minus_one_for_unknown_or_overflowing_shapes(void **state)
{
    (void)state;
    fq_shape known = {.rank = 3, .dims = {2, 3, 4}};
    fq_shape unknown = {.rank = 2, .dims = {2, FQ_DIM_UNKNOWN}};
    fq_shape huge = {.rank = 3, .dims = {INT64_MAX / 2, 4, 4}};
    fq_shape scalar = {.rank = 0};
    assert_int_equal(fq_shape_numel(&known), 24);
    assert_int_equal(fq_shape_numel(&unknown), -1);
    assert_int_equal(fq_shape_numel(&huge), -1);
    assert_int_equal(fq_shape_numel(&scalar), 1);
}

static void test_shape_format_marks_unknown_dims(void **state)
{
    (void)state;
    fq_shape shape = {.rank = 4, .dims = {1, 3, FQ_DIM_UNKNOWN, 640}};
    char buf[64];
    assert_string_equal(fq_shape_format(&shape, buf, sizeof(buf)), "1x3x?x640");
}

static void test_dtype_sizes_and_names(void **state)
{
    (void)state;
    assert_int_equal(fq_dtype_size(FQ_DTYPE_F32), 4);
    assert_int_equal(fq_dtype_size(FQ_DTYPE_F16), 2);
    assert_int_equal(fq_dtype_size(FQ_DTYPE_I8), 1);
    assert_int_equal(fq_dtype_size(FQ_DTYPE_I64), 8);
    assert_string_equal(fq_dtype_name(FQ_DTYPE_U8), "u8");
    assert_string_equal(fq_dtype_name((fq_dtype)99), "invalid");
}

static void test_error_prefix_keeps_the_original_message(void **state)
{
    (void)state;
    fq_error err;
    fq_error_set(&err, FQ_ERR_PARSE, "byte %d: bad varint", 17);
    fq_error_prefix(&err, FQ_ERR_PARSE, "model.onnx");
    assert_string_equal(err.message, "model.onnx: byte 17: bad varint");
    assert_int_equal(err.status, FQ_ERR_PARSE);
    assert_int_equal(fq_error_set(NULL, FQ_ERR_IO, "ignored"), FQ_ERR_IO);
}

static void test_find_value_and_use_counts(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims4);
    int a = gb_node(g, "Relu", &x, 1, "a");
    int ab[] = {a, a};
    int b = gb_node(g, "Add", ab, 2, "b");
    gb_output(g, b);
    assert_int_equal(fq_graph_find_value(g, "a"), a);
    assert_int_equal(fq_graph_find_value(g, "missing"), -1);
    assert_int_equal(fq_graph_use_count(g, a), 2);
    assert_int_equal(fq_graph_use_count(g, b), 1);
    assert_int_equal(fq_graph_producer(g, b), 1);
    assert_int_equal(fq_graph_producer(g, x), -1);
    fq_graph_free(g);
}

static void test_compact_drops_dead_nodes_and_unused_values_and_remaps(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims4);
    int unused = gb_const_f32(g, "unused", 4, dims4, NULL);
    int a = gb_node(g, "Relu", &x, 1, "a");
    int b = gb_node(g, "Sigmoid", &a, 1, "b");
    gb_output(g, b);
    (void)unused;
    g->nodes[0].dead = true;
    g->nodes[1].inputs[0] = x;

    assert_int_equal(fq_graph_compact(g, NULL), FQ_OK);
    assert_int_equal(g->n_nodes, 1);
    assert_int_equal(g->n_values, 2);
    assert_string_equal(g->values[g->nodes[0].inputs[0]].name, "x");
    assert_string_equal(g->values[g->outputs[0]].name, "b");
    assert_int_equal(fq_graph_validate(g, NULL), FQ_OK);
    fq_graph_free(g);
}

static void test_compact_keeps_attribute_tensors(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int junk = gb_const_f32(g, "junk", 4, dims4, NULL);
    int t = gb_const_f32(g, "t", 4, dims4, NULL);
    int c = gb_node(g, "Constant", NULL, 0, "c");
    fq_attr *attr;
    assert_int_equal(fq_node_add_attr(g, 0, "value", FQ_ATTR_TENSOR, &attr, NULL), FQ_OK);
    attr->tensor = t;
    gb_output(g, c);
    (void)junk;
    assert_int_equal(fq_graph_compact(g, NULL), FQ_OK);
    int kept = g->nodes[0].attrs[0].tensor;
    assert_string_equal(g->values[kept].name, "t");
    assert_int_equal(g->n_values, 2);
    fq_graph_free(g);
}

static void test_validate_refuses_use_before_production(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims4);
    int a = gb_node(g, "Relu", &x, 1, "a");
    int b = gb_node(g, "Relu", &a, 1, "b");
    gb_output(g, b);
    g->nodes[0].inputs[0] = b;
    fq_error err;
    assert_int_equal(fq_graph_validate(g, &err), FQ_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "used before it is produced"));
    fq_graph_free(g);
}

static void test_validate_refuses_two_producers(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims4);
    int a = gb_node(g, "Relu", &x, 1, "a");
    gb_node(g, "Relu", &x, 1, "b");
    g->nodes[1].outputs[0] = a;
    gb_output(g, a);
    fq_error err;
    assert_int_equal(fq_graph_validate(g, &err), FQ_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "another producer"));
    fq_graph_free(g);
}

static void test_clone_is_deep(void **state)
{
    (void)state;
    float w[18] = {1.0f};
    int64_t wdims[] = {1, 2, 3, 3};
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims4);
    int c = gb_const_f32(g, "w", 4, wdims, w);
    int in[] = {x, c};
    int y = gb_node(g, "Conv", in, 2, "y");
    int64_t pads[] = {1, 1, 1, 1};
    gb_attr_ints(g, "pads", 4, pads);
    gb_output(g, y);

    fq_graph *copy;
    assert_int_equal(fq_graph_clone(g, &copy, NULL), FQ_OK);
    ((float *)copy->values[c].data)[0] = 5.0f;
    copy->nodes[0].attrs[0].ints[0] = 7;
    assert_true(((float *)g->values[c].data)[0] == 1.0f);
    assert_int_equal(g->nodes[0].attrs[0].ints[0], 1);
    assert_string_equal(copy->nodes[0].op_type, "Conv");
    assert_int_equal(copy->n_outputs, 1);
    assert_int_equal(fq_graph_validate(copy, NULL), FQ_OK);
    fq_graph_free(copy);
    fq_graph_free(g);
}

static void test_merge_values_keeps_graph_output_names(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims4);
    int a = gb_node(g, "Relu", &x, 1, "a");
    int b = gb_node(g, "Identity", &a, 1, "b");
    gb_output(g, b);
    g->nodes[1].dead = true;
    assert_true(fq_graph_merge_values(g, a, b));
    assert_int_equal(fq_graph_compact(g, NULL), FQ_OK);
    assert_string_equal(g->values[g->outputs[0]].name, "b");
    assert_int_equal(g->nodes[0].outputs[0], g->outputs[0]);
    assert_int_equal(fq_graph_validate(g, NULL), FQ_OK);
    fq_graph_free(g);
}

static void test_merge_values_refuses_two_graph_outputs(void **state)
{
    (void)state;
    fq_graph *g = gb_graph(13);
    int x = gb_input(g, "x", 4, dims4);
    int a = gb_node(g, "Relu", &x, 1, "a");
    int b = gb_node(g, "Identity", &a, 1, "b");
    gb_output(g, a);
    gb_output(g, b);
    assert_false(fq_graph_merge_values(g, a, b));
    assert_int_equal(g->nodes[1].outputs[0], b);
    fq_graph_free(g);
}

static size_t counted_allocs;

static void *counting_alloc(void *user, size_t size)
{
    (void)user;
    counted_allocs++;
    return malloc(size);
}

static void *counting_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    counted_allocs++;
    return realloc(ptr, size);
}

static void counting_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void test_allocator_hooks_see_every_graph_allocation(void **state)
{
    (void)state;
    fq_allocator hooks = {counting_alloc, counting_realloc, counting_free, NULL};
    counted_allocs = 0;
    fq_set_allocator(&hooks);
    fq_graph *g = gb_graph(13);
    gb_input(g, "x", 4, dims4);
    fq_graph_free(g);
    fq_set_allocator(NULL);
    assert_true(counted_allocs >= 3);
}

static void test_aligned_allocation_is_aligned(void **state)
{
    (void)state;
    for (size_t size = 1; size < 5000; size += 333) {
        void *p = fq_malloc_aligned(size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % FQ_ALIGNMENT, 0);
        memset(p, 1, size);
        fq_free_aligned(p);
    }
    assert_null(fq_malloc_aligned(SIZE_MAX - 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_numel_is_minus_one_for_unknown_or_overflowing_shapes),
        cmocka_unit_test(test_shape_format_marks_unknown_dims),
        cmocka_unit_test(test_dtype_sizes_and_names),
        cmocka_unit_test(test_error_prefix_keeps_the_original_message),
        cmocka_unit_test(test_find_value_and_use_counts),
        cmocka_unit_test(test_compact_drops_dead_nodes_and_unused_values_and_remaps),
        cmocka_unit_test(test_compact_keeps_attribute_tensors),
        cmocka_unit_test(test_validate_refuses_use_before_production),
        cmocka_unit_test(test_validate_refuses_two_producers),
        cmocka_unit_test(test_clone_is_deep),
        cmocka_unit_test(test_merge_values_keeps_graph_output_names),
        cmocka_unit_test(test_merge_values_refuses_two_graph_outputs),
        cmocka_unit_test(test_allocator_hooks_see_every_graph_allocation),
        cmocka_unit_test(test_aligned_allocation_is_aligned),
    };
    return cmocka_run_group_tests_name("ir_graph", tests, NULL, NULL);
}
