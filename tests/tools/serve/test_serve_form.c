/* The multipart field collector of fq serve: fields, chunks, repeats and its limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "serve_form.h"

static void add(serve_form *form, const char *name, const char *filename, const char *text,
                uint64_t offset)
{
    assert_true(serve_form_add(form, name, filename, text, offset, strlen(text)));
}

static void test_plain_value_is_kept_as_text(void **state)
{
    (void)state;
    serve_form form;
    serve_form_init(&form, 1024);
    add(&form, "model_type", NULL, "int8", 0);

    const serve_field *field = serve_form_find(&form, "model_type");
    assert_non_null(field);
    assert_null(field->filename);
    assert_int_equal(field->size, 4);
    assert_string_equal((const char *)field->data, "int8");
    serve_form_free(&form);
}

static void test_chunks_of_one_part_are_joined(void **state)
{
    (void)state;
    serve_form form;
    serve_form_init(&form, 1024);
    add(&form, "image", "a.jpg", "abc", 0);
    add(&form, "image", "a.jpg", "def", 3);

    assert_int_equal(form.count, 1);
    assert_string_equal((const char *)form.fields[0].data, "abcdef");
    assert_string_equal(form.fields[0].filename, "a.jpg");
    serve_form_free(&form);
}

static void test_repeated_name_starts_a_new_field(void **state)
{
    (void)state;
    serve_form form;
    serve_form_init(&form, 1024);
    add(&form, "calibration_images", "a.jpg", "aaa", 0);
    add(&form, "calibration_images", "a.jpg", "bbb", 0);
    add(&form, "calibration_images", "c.jpg", "ccc", 0);

    assert_int_equal(serve_form_count(&form, "calibration_images"), 3);
    assert_string_equal((const char *)form.fields[1].data, "bbb");
    serve_form_free(&form);
}

static void test_empty_value_is_a_field(void **state)
{
    (void)state;
    serve_form form;
    serve_form_init(&form, 1024);
    assert_true(serve_form_add(&form, "known_labels", NULL, "", 0, 0));

    assert_int_equal(form.count, 1);
    assert_int_equal(form.fields[0].size, 0);
    assert_string_equal((const char *)form.fields[0].data, "");
    serve_form_free(&form);
}

static void test_values_over_the_limit_stop_the_collection(void **state)
{
    (void)state;
    serve_form form;
    serve_form_init(&form, 5);
    add(&form, "image", "a.jpg", "abc", 0);

    assert_false(serve_form_add(&form, "image", "a.jpg", "def", 3, 3));
    assert_int_equal(form.fault, SERVE_FORM_TOO_LARGE);
    assert_false(serve_form_add(&form, "other", NULL, "x", 0, 1));
    assert_int_equal(form.total_bytes, 3);
    serve_form_free(&form);
}

static void test_too_many_fields_are_refused(void **state)
{
    (void)state;
    serve_form form;
    serve_form_init(&form, 1 << 20);
    for (int i = 0; i < SERVE_FORM_MAX_FIELDS; i++)
        add(&form, "f", NULL, "x", 0);

    assert_false(serve_form_add(&form, "f", NULL, "x", 0, 1));
    assert_int_equal(form.fault, SERVE_FORM_TOO_MANY);
    serve_form_free(&form);
}

static void test_empty_or_long_names_are_refused(void **state)
{
    (void)state;
    char long_name[SERVE_FORM_MAX_NAME + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    serve_form form;
    serve_form_init(&form, 1024);
    assert_false(serve_form_add(&form, "", NULL, "x", 0, 1));
    assert_int_equal(form.fault, SERVE_FORM_BAD_NAME);
    serve_form_free(&form);

    serve_form_init(&form, 1024);
    assert_false(serve_form_add(&form, long_name, NULL, "x", 0, 1));
    assert_int_equal(form.fault, SERVE_FORM_BAD_NAME);
    assert_false(serve_form_add(&form, NULL, NULL, "x", 0, 1));
    serve_form_free(&form);
}

static void test_missing_field_is_not_found(void **state)
{
    (void)state;
    serve_form form;
    serve_form_init(&form, 1024);
    add(&form, "image", "a.jpg", "abc", 0);

    assert_null(serve_form_find(&form, "model_type"));
    assert_int_equal(serve_form_count(&form, "model_type"), 0);
    serve_form_free(&form);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_value_is_kept_as_text),
        cmocka_unit_test(test_chunks_of_one_part_are_joined),
        cmocka_unit_test(test_repeated_name_starts_a_new_field),
        cmocka_unit_test(test_empty_value_is_a_field),
        cmocka_unit_test(test_values_over_the_limit_stop_the_collection),
        cmocka_unit_test(test_too_many_fields_are_refused),
        cmocka_unit_test(test_empty_or_long_names_are_refused),
        cmocka_unit_test(test_missing_field_is_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
