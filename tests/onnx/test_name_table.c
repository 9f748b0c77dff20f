/* The value-name hash table of the ONNX reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "onnx/name_table.h"

static int add_named(fq_graph *graph, fq_name_table *table, const char *name)
{
    int index;
    assert_int_equal(fq_graph_add_value(graph, name, FQ_DTYPE_F32, NULL, &index, NULL), FQ_OK);
    assert_true(fq_name_table_add(table, graph, index));
    return index;
}

static void added_names_are_found_and_others_are_not(void **state)
{
    (void)state;
    fq_graph *graph;
    fq_name_table table;
    assert_int_equal(fq_graph_create(&graph, NULL), FQ_OK);
    fq_name_table_init(&table);
    assert_int_equal(fq_name_table_find(&table, graph, "x", 1), -1);

    int x = add_named(graph, &table, "x");
    int conv = add_named(graph, &table, "conv_out");
    assert_int_equal(fq_name_table_find(&table, graph, "x", 1), x);
    assert_int_equal(fq_name_table_find(&table, graph, "conv_out", 8), conv);
    assert_int_equal(fq_name_table_find(&table, graph, "conv", 4), -1);
    fq_name_table_free(&table);
    fq_graph_free(graph);
}

static void thousands_of_names_survive_growth(void **state)
{
    (void)state;
    fq_graph *graph;
    fq_name_table table;
    assert_int_equal(fq_graph_create(&graph, NULL), FQ_OK);
    fq_name_table_init(&table);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "value_%d", i);
        add_named(graph, &table, name);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "value_%d", i);
        assert_int_equal(fq_name_table_find(&table, graph, name, strlen(name)), i);
    }
    assert_true(table.count * 2 <= table.cap);
    fq_name_table_free(&table);
    fq_graph_free(graph);
}

static void look_up_uses_the_given_length_not_a_nul(void **state)
{
    (void)state;
    fq_graph *graph;
    fq_name_table table;
    assert_int_equal(fq_graph_create(&graph, NULL), FQ_OK);
    fq_name_table_init(&table);
    int ab = add_named(graph, &table, "ab");
    assert_int_equal(fq_name_table_find(&table, graph, "abc", 2), ab);
    assert_int_equal(fq_name_table_find(&table, graph, "ab\0cd", 5), -1);
    fq_name_table_free(&table);
    fq_graph_free(graph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(added_names_are_found_and_others_are_not),
        cmocka_unit_test(thousands_of_names_survive_growth),
        cmocka_unit_test(look_up_uses_the_given_length_not_a_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
