/* .fqm with the shared models: exact round trips after the passes, identical session outputs,
 * weights used in place (inside the file mapping or the caller's buffer), no large allocation
 * when reading from a caller's buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fqm_test_util.h"
#include "test_util.h"

static char temp_dir[256];

static int make_temp_dir(void **state)
{
    (void)state;
    snprintf(temp_dir, sizeof(temp_dir), "/tmp/fq-fqm-models.XXXXXX");
    return mkdtemp(temp_dir) != NULL ? 0 : -1;
}

static int remove_temp_dir(void **state)
{
    (void)state;
    char command[512];
    snprintf(command, sizeof(command), "rm -rf '%s'", temp_dir);
    return system(command) == 0 ? 0 : -1;
}

static void round_trip_is_exact(void **state)
{
    const char *name = *state;
    fq_graph *g = fqm_load_shared_model(name);
    void *image = NULL;
    size_t size = 0;
    fq_graph *back = fqm_roundtrip(g, NULL, 0, &image, &size);
    fqm_assert_graphs_equal(g, back);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static const char *write_model_file(const fq_graph *g, const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s.fqm", temp_dir, name);
    fq_error err = {0};
    if (fq_fqm_write_file(g, NULL, 0, path, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return path;
}

static fq_graph *read_model_file(const char *path)
{
    fq_graph *g = NULL;
    fq_error err = {0};
    if (fq_fqm_read_file(path, NULL, &g, NULL, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return g;
}

/* Runs g once on seeded random f32 inputs; returns the outputs concatenated (malloc). */
static unsigned char *run_once(const fq_graph *g, size_t *total)
{
    fq_session *session = NULL;
    fq_error err = {0};
    if (fq_session_create(g, NULL, &session, &err) != FQ_OK)
        fail_msg("session: %s", err.message);
    fq_test_seed(7);
    for (int i = 0; i < g->n_inputs; i++) {
        fq_tensor t;
        assert_int_equal(fq_session_input(session, i, &t, &err), FQ_OK);
        assert_int_equal(t.dtype, FQ_DTYPE_F32);
        for (int64_t k = 0; k < fq_shape_numel(&t.shape); k++)
            ((float *)t.data)[k] = fq_test_rand_float(-1.0f, 1.0f);
    }
    if (fq_session_run(session, &err) != FQ_OK)
        fail_msg("run: %s", err.message);

    unsigned char *out = NULL;
    *total = 0;
    for (int o = 0; o < g->n_outputs; o++) {
        fq_tensor t;
        assert_int_equal(fq_session_output(session, o, &t, &err), FQ_OK);
        size_t bytes = (size_t)fq_shape_numel(&t.shape) * fq_dtype_size(t.dtype);
        out = realloc(out, *total + bytes);
        assert_non_null(out);
        memcpy(out + *total, t.data, bytes);
        *total += bytes;
    }
    fq_session_free(session);
    return out;
}

static void read_back_model_runs_identically(void **state)
{
    const char *name = *state;
    fq_graph *g = fqm_load_shared_model(name);
    fq_graph *back = read_model_file(write_model_file(g, name));
    size_t size_a = 0, size_b = 0;
    unsigned char *a = run_once(g, &size_a);
    unsigned char *b = run_once(back, &size_b);
    assert_int_equal(size_a, size_b);
    assert_true(size_a > 0);
    assert_memory_equal(a, b, size_a);
    free(a);
    free(b);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void assert_constants_inside(const fq_graph *g, const void *start, size_t size)
{
    const unsigned char *lo = start, *hi = lo + size;
    int constants = 0;
    for (int v = 0; v < g->n_values; v++) {
        const fq_value *value = &g->values[v];
        if (value->data == NULL)
            continue;
        const unsigned char *p = value->data;
        size_t bytes = (size_t)fq_shape_numel(&value->shape) * fq_dtype_size(value->dtype);
        if (!value->data_borrowed || p < lo || p + bytes > hi)
            fail_msg("constant '%s' (%zu bytes at %p) is not inside [%p, %p)", value->name,
                     bytes, (const void *)p, (const void *)lo, (const void *)hi);
        assert_int_equal((uintptr_t)p % (bytes >= 1024 ? FQ_FQM_WEIGHT_ALIGNMENT : 16), 0);
        constants++;
    }
    assert_true(constants > 10);
}

static void file_read_weights_lie_in_the_mapping(void **state)
{
    (void)state;
    fq_graph *g = fqm_load_shared_model("det_500m");
    const char *path = write_model_file(g, "det_500m_mapped");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    fq_graph *back = read_model_file(path);
    assert_non_null(back->backing);
    assert_non_null(back->backing_release);
    assert_constants_inside(back, back->backing, (size_t)st.st_size);
    fq_graph_free(back);
    fq_graph_free(g);
}

static void memory_read_weights_lie_in_the_callers_buffer(void **state)
{
    (void)state;
    fq_graph *g = fqm_load_shared_model("det_500m");
    size_t size = 0;
    void *image = fqm_write_aligned(g, &size);
    fq_graph *back = NULL;
    fq_error err = {0};
    assert_int_equal(fq_fqm_read_memory(image, size, NULL, &back, NULL, NULL, &err), FQ_OK);
    assert_null(back->backing);
    assert_constants_inside(back, image, size);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

/* A counting allocator: total bytes and the largest single request. */
typedef struct alloc_count {
    size_t total;
    size_t largest;
} alloc_count;

static void count_request(alloc_count *c, size_t size)
{
    c->total += size;
    c->largest = size > c->largest ? size : c->largest;
}

static void *counting_alloc(void *user, size_t size)
{
    count_request(user, size);
    return malloc(size);
}

static void *counting_realloc(void *user, void *ptr, size_t size)
{
    count_request(user, size);
    return realloc(ptr, size);
}

static void counting_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void callers_buffer_read_makes_no_large_allocation(void **state)
{
    (void)state;
    fq_graph *g = fqm_load_shared_model("det_500m");
    size_t size = 0, weight_bytes = 0, largest_constant = 0;
    void *image = fqm_write_aligned(g, &size);
    for (int v = 0; v < g->n_values; v++) {
        const fq_value *value = &g->values[v];
        size_t bytes = value->data != NULL ? (size_t)fq_shape_numel(&value->shape) *
                                                 fq_dtype_size(value->dtype) : 0;
        weight_bytes += bytes;
        largest_constant = bytes > largest_constant ? bytes : largest_constant;
    }

    alloc_count count = {0, 0};
    fq_allocator counting = {counting_alloc, counting_realloc, counting_free, &count};
    fq_set_allocator(&counting);
    fq_graph *back = NULL;
    fq_error err = {0};
    fq_status status = fq_fqm_read_memory(image, size, NULL, &back, NULL, NULL, &err);
    fq_set_allocator(NULL);

    assert_int_equal(status, FQ_OK);
    print_message("det_500m: %zu weight bytes, largest constant %zu; the read allocated %zu "
                  "bytes, largest %zu\n", weight_bytes, largest_constant, count.total,
                  count.largest);
    assert_true(count.total < weight_bytes / 10);
    assert_true(count.largest < largest_constant);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static void read_back_graph_survives_the_passes_unchanged(void **state)
{
    (void)state;
    fq_graph *g = fqm_load_shared_model("det_500m");
    void *image = NULL;
    size_t size = 0;
    fq_graph *back = fqm_roundtrip(g, NULL, 0, &image, &size);
    fq_input_size keep = {0, 0, 0};
    fq_error err = {0};
    if (fq_passes_run(back, &keep, &err) != FQ_OK)
        fail_msg("%s", err.message);
    fqm_assert_graphs_equal(g, back);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static char test_names[32][96];

static struct CMUnitTest model_test(int n, const char *title, CMUnitTestFunction f,
                                    const char *model)
{
    snprintf(test_names[n], sizeof(test_names[n]), "%s/%s", title, model);
    return (struct CMUnitTest){test_names[n], f, NULL, NULL, (void *)model};
}

int main(void)
{
    struct CMUnitTest tests[32];
    int n = 0;
    for (int m = 0; m < fqm_n_shared_models; m++, n++)
        tests[n] = model_test(n, "round_trip_is_exact", round_trip_is_exact,
                              fqm_shared_models[m]);
    tests[n] = model_test(n, "read_back_model_runs_identically",
                          read_back_model_runs_identically, "det_500m");
    n++;
    tests[n] = model_test(n, "read_back_model_runs_identically",
                          read_back_model_runs_identically, "mobilefacenet_128d");
    n++;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(file_read_weights_lie_in_the_mapping);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(
        memory_read_weights_lie_in_the_callers_buffer);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(
        callers_buffer_read_makes_no_large_allocation);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(
        read_back_graph_survives_the_passes_unchanged);
    return _cmocka_run_group_tests("fqm_models", tests, (size_t)n, make_temp_dir,
                                   remove_temp_dir);
}
