/* .fqm round trips of hand-built graphs (f16, int8 with per-channel parameters, i64 and every
 * attribute type), metadata, the file writer's temporary-and-rename, and the memory reader's
 * alignment rule and copy flag. */
#include <dirent.h>
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

static void assert_round_trip_exact(fq_graph *g)
{
    void *image = NULL;
    size_t size = 0;
    fq_graph *back = fqm_roundtrip(g, NULL, 0, &image, &size);
    fqm_assert_graphs_equal(g, back);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static void f16_weights_round_trip_exactly(void **state)
{
    (void)state;
    assert_round_trip_exact(fqm_build_f16_graph());
}

static void int8_graph_with_per_channel_parameters_round_trips_exactly(void **state)
{
    (void)state;
    assert_round_trip_exact(fqm_build_quant_graph());
}

static void i64_constants_and_every_attribute_type_round_trip_exactly(void **state)
{
    (void)state;
    assert_round_trip_exact(fqm_build_i64_graph());
}

static void read_back_values_keep_their_quantization_parameters(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_quant_graph();
    void *image = NULL;
    size_t size = 0;
    fq_graph *back = fqm_roundtrip(g, NULL, 0, &image, &size);
    const fq_value *w = &back->values[fq_graph_find_value(back, "w_i8")];
    assert_int_equal(w->dtype, FQ_DTYPE_I8);
    assert_int_equal(w->quant.axis, 0);
    assert_int_equal(w->quant.count, 2);
    assert_true(w->quant.scale[1] == 0.03f);
    const fq_value *q = &back->values[fq_graph_find_value(back, "x_q")];
    assert_int_equal(q->dtype, FQ_DTYPE_U8);
    assert_int_equal(q->quant.zero_point[0], 128);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static void metadata_entries_come_back_in_order(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    const fq_fqm_meta meta[] = {
        {FQ_FQM_META_SOURCE, "det_500m.onnx"}, {FQ_FQM_META_INPUT_SIZE, "640x640"},
        {FQ_FQM_META_MEAN, "127.5,127.5,127.5"}, {"empty", ""},
    };
    void *data = NULL;
    size_t size = 0;
    assert_int_equal(fq_fqm_write_memory(g, meta, 4, &data, &size, NULL), FQ_OK);

    fq_graph *back = NULL;
    fq_fqm_meta *got = NULL;
    int n_got = -1;
    fq_fqm_read_options copy = {FQ_FQM_READ_COPY};
    assert_int_equal(fq_fqm_read_memory(data, size, &copy, &back, &got, &n_got, NULL), FQ_OK);
    assert_int_equal(n_got, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(got[i].key, meta[i].key);
        assert_string_equal(got[i].value, meta[i].value);
    }
    assert_string_equal(fq_fqm_meta_find(got, n_got, FQ_FQM_META_INPUT_SIZE), "640x640");
    assert_null(fq_fqm_meta_find(got, n_got, "absent"));
    fq_fqm_meta_free(got);
    fq_graph_free(back);
    fq_free(data);
    fq_graph_free(g);
}

static void file_without_metadata_reads_as_no_entries(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    size_t size = 0;
    void *image = fqm_write_aligned(g, &size);
    fq_graph *back = NULL;
    fq_fqm_meta *meta = (fq_fqm_meta *)1;
    int n_meta = -1;
    assert_int_equal(fq_fqm_read_memory(image, size, NULL, &back, &meta, &n_meta, NULL), FQ_OK);
    assert_null(meta);
    assert_int_equal(n_meta, 0);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static void unaligned_buffer_is_refused_without_the_copy_flag(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    size_t size = 0;
    unsigned char *image = fqm_write_aligned(g, &size);
    unsigned char *shifted = fq_malloc_aligned(size + 8);
    memcpy(shifted + 8, image, size);
    fq_graph *back = (fq_graph *)1;
    fq_error err = {0};
    assert_int_equal(fq_fqm_read_memory(shifted + 8, size, NULL, &back, NULL, NULL, &err),
                     FQ_ERR_INVALID_ARG);
    assert_null(back);
    assert_non_null(strstr(err.message, "FQ_FQM_READ_COPY"));
    fq_free_aligned(shifted);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static void copy_flag_gives_the_graph_its_own_bytes(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    size_t size = 0;
    unsigned char *image = fqm_write_aligned(g, &size);
    unsigned char *shifted = fq_malloc_aligned(size + 8);
    memcpy(shifted + 8, image, size);
    fq_graph *back = NULL;
    fq_fqm_read_options copy = {FQ_FQM_READ_COPY};
    assert_int_equal(fq_fqm_read_memory(shifted + 8, size, &copy, &back, NULL, NULL, NULL),
                     FQ_OK);
    memset(shifted, 0xAB, size + 8); /* the caller's buffer is no longer needed */
    fq_free_aligned(shifted);
    assert_non_null(back->backing);
    fqm_assert_graphs_equal(g, back);
    const fq_value *w16 = &back->values[fq_graph_find_value(back, "w16")];
    assert_true((const unsigned char *)w16->data >= (const unsigned char *)back->backing);
    assert_true((const unsigned char *)w16->data < (const unsigned char *)back->backing + size);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

static char temp_dir[256];

static int make_temp_dir(void **state)
{
    (void)state;
    snprintf(temp_dir, sizeof(temp_dir), "/tmp/fq-fqm-roundtrip.XXXXXX");
    return mkdtemp(temp_dir) != NULL ? 0 : -1;
}

static int remove_temp_dir(void **state)
{
    (void)state;
    char command[512];
    snprintf(command, sizeof(command), "rm -rf '%s'", temp_dir);
    return system(command) == 0 ? 0 : -1;
}

static int count_dir_entries(const char *path)
{
    DIR *dir = opendir(path);
    assert_non_null(dir);
    int count = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir))
        count += e->d_name[0] != '.';
    closedir(dir);
    return count;
}

static void written_file_reads_back_and_leaves_no_temporary(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_quant_graph();
    char path[512];
    snprintf(path, sizeof(path), "%s/written.fqm", temp_dir);
    fq_error err = {0};
    if (fq_fqm_write_file(g, NULL, 0, path, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(count_dir_entries(temp_dir), 1);
    fq_graph *back = NULL;
    if (fq_fqm_read_file(path, NULL, &back, NULL, NULL, &err) != FQ_OK)
        fail_msg("%s", err.message);
    fqm_assert_graphs_equal(g, back);
    fq_graph_free(back);
    fq_graph_free(g);
    unlink(path);
}

static void refused_graph_leaves_no_file(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    int w16 = fq_graph_find_value(g, "w16");
    g->values[w16].kind = FQ_VALUE_INTERMEDIATE; /* data on a value that is not a constant */
    char path[512];
    snprintf(path, sizeof(path), "%s/refused.fqm", temp_dir);
    fq_error err = {0};
    assert_int_equal(fq_fqm_write_file(g, NULL, 0, path, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "w16"));
    assert_int_equal(count_dir_entries(temp_dir), 0);
    g->values[w16].kind = FQ_VALUE_CONSTANT;
    fq_graph_free(g);
}

static void unwritable_path_is_an_io_error_and_leaves_no_file(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    char path[512];
    snprintf(path, sizeof(path), "%s/missing-dir/model.fqm", temp_dir);
    fq_error err = {0};
    assert_int_equal(fq_fqm_write_file(g, NULL, 0, path, &err), FQ_ERR_IO);
    assert_non_null(strstr(err.message, "missing-dir"));
    assert_int_equal(count_dir_entries(temp_dir), 0);
    fq_graph_free(g);
}

static void constant_without_data_is_refused_naming_it(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    int b = fq_graph_find_value(g, "b");
    void *data = g->values[b].data;
    g->values[b].data = NULL;
    fq_error err = {0};
    void *image = NULL;
    size_t size = 0;
    assert_int_equal(fq_fqm_write_memory(g, NULL, 0, &image, &size, &err), FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'b'"));
    assert_null(image);
    g->values[b].data = data;
    fq_graph_free(g);
}

static void magic_bytes_tell_fqm_from_onnx(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_f16_graph();
    size_t size = 0;
    void *image = fqm_write_aligned(g, &size);
    assert_true(fq_fqm_is_fqm(image, size));
    assert_false(fq_fqm_is_fqm("\x08\x07\x12\x07pytorch", 12));
    assert_false(fq_fqm_is_fqm(image, 7));
    fq_free_aligned(image);
    fq_graph_free(g);
}

static void constants_of_1024_bytes_or_more_are_64_byte_aligned_smaller_ones_16(void **state)
{
    (void)state;
    fq_graph *g = fqm_build_quant_graph();
    /* one constant of each kind, whatever the builder made */
    float scalar = 0.5f, block[256] = {0};
    fq_shape scalar_shape = {0}, block_shape = {1, {256}};
    int sv, bv;
    assert_int_equal(fq_graph_add_value(g, "extra_scalar", FQ_DTYPE_F32, &scalar_shape, &sv,
                                        NULL), FQ_OK);
    assert_int_equal(fq_value_set_data(g, sv, &scalar, false, NULL), FQ_OK);
    assert_int_equal(fq_graph_add_value(g, "extra_block", FQ_DTYPE_F32, &block_shape, &bv, NULL),
                     FQ_OK);
    assert_int_equal(fq_value_set_data(g, bv, block, false, NULL), FQ_OK);
    void *image = NULL;
    size_t size = 0;
    fq_graph *back = fqm_roundtrip(g, NULL, 0, &image, &size);
    int small = 0, large = 0;
    for (int v = 0; v < back->n_values; v++) {
        const fq_value *value = &back->values[v];
        const unsigned char *p = value->data;
        if (p == NULL)
            continue;
        size_t bytes = (size_t)fq_shape_numel(&value->shape) * fq_dtype_size(value->dtype);
        size_t offset = (size_t)(p - (const unsigned char *)image);
        assert_int_equal(offset % (bytes >= 1024 ? 64 : 16), 0);
        small += bytes < 1024;
        large += bytes >= 1024;
    }
    assert_true(small > 0 && large > 0);
    fq_graph_free(back);
    fq_free_aligned(image);
    fq_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(f16_weights_round_trip_exactly),
        cmocka_unit_test(int8_graph_with_per_channel_parameters_round_trips_exactly),
        cmocka_unit_test(i64_constants_and_every_attribute_type_round_trip_exactly),
        cmocka_unit_test(read_back_values_keep_their_quantization_parameters),
        cmocka_unit_test(metadata_entries_come_back_in_order),
        cmocka_unit_test(file_without_metadata_reads_as_no_entries),
        cmocka_unit_test(unaligned_buffer_is_refused_without_the_copy_flag),
        cmocka_unit_test(copy_flag_gives_the_graph_its_own_bytes),
        cmocka_unit_test(written_file_reads_back_and_leaves_no_temporary),
        cmocka_unit_test(refused_graph_leaves_no_file),
        cmocka_unit_test(unwritable_path_is_an_io_error_and_leaves_no_file),
        cmocka_unit_test(constant_without_data_is_refused_naming_it),
        cmocka_unit_test(magic_bytes_tell_fqm_from_onnx),
        cmocka_unit_test(constants_of_1024_bytes_or_more_are_64_byte_aligned_smaller_ones_16),
    };
    return cmocka_run_group_tests(tests, make_temp_dir, remove_temp_dir);
}
