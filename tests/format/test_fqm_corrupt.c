/* Damaged and hostile .fqm images: each gives a clear error naming where it is, never a crash.
 * Flipped bytes in every section (CRC), truncation at every section boundary and at random
 * offsets, wrong magic, a newer major version, tables and records pointing outside the file,
 * and edits whose CRCs were recomputed so that only the reader's own checks can catch them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/crc32.h"
#include "format/fqm_layout.h"
#include "fqm_test_util.h"
#include "test_util.h"

static const char *const section_names[] = {
    "", "STRINGS", "GRAPH", "VALUES", "NODES", "WEIGHTS", "META",
};

typedef struct image {
    unsigned char *data; /* fq_malloc_aligned */
    size_t size;
} image;

static image make_image(void)
{
    fq_graph *g = fqm_build_quant_graph();
    const fq_fqm_meta meta[] = {{"source", "hand-built"}, {"input_size", "4x4"}};
    void *data = NULL;
    image im;
    assert_int_equal(fq_fqm_write_memory(g, meta, 2, &data, &im.size, NULL), FQ_OK);
    im.data = fq_malloc_aligned(im.size + 64);
    memcpy(im.data, data, im.size);
    fq_free(data);
    fq_graph_free(g);
    return im;
}

static unsigned char *entry_of(const image *im, uint32_t type)
{
    uint32_t count = fqm_get_u32(im->data + FQM_HEADER_SECTION_COUNT);
    for (uint32_t s = 0; s < count; s++) {
        unsigned char *e = im->data + FQM_HEADER_SIZE + (size_t)s * FQM_ENTRY_BYTES;
        if (fqm_get_u32(e + FQM_ENTRY_TYPE) == type)
            return e;
    }
    fail_msg("no section of type %u", type);
    return NULL;
}

/* Recomputes every CRC after an edit, so that only the reader's structural checks remain. */
static void refresh_crcs(image *im)
{
    fq_crc32_table table;
    fq_crc32_table_init(&table);
    uint32_t count = fqm_get_u32(im->data + FQM_HEADER_SECTION_COUNT);
    for (uint32_t s = 0; s < count; s++) {
        unsigned char *e = im->data + FQM_HEADER_SIZE + (size_t)s * FQM_ENTRY_BYTES;
        uint64_t offset = fqm_get_u64(e + FQM_ENTRY_OFFSET), size = fqm_get_u64(e + FQM_ENTRY_SIZE);
        if (offset <= im->size && size <= im->size - offset)
            fqm_put_u32(e + FQM_ENTRY_CRC, fq_crc32(&table, 0, im->data + offset, (size_t)size));
    }
    fqm_put_u32(im->data + FQM_HEADER_TABLE_CRC,
                fq_crc32(&table, 0, im->data + FQM_HEADER_SIZE, (size_t)count * FQM_ENTRY_BYTES));
    fqm_put_u32(im->data + FQM_HEADER_HEADER_CRC, 0);
    fqm_put_u32(im->data + FQM_HEADER_HEADER_CRC, fq_crc32(&table, 0, im->data, FQM_HEADER_SIZE));
}

static fq_status read_image(const image *im, size_t size, unsigned flags, fq_error *err)
{
    fq_graph *g = (fq_graph *)1;
    fq_fqm_read_options options = {flags};
    fq_error_clear(err);
    fq_status status = fq_fqm_read_memory(im->data, size, &options, &g, NULL, NULL, err);
    if (status == FQ_OK)
        fq_graph_free(g);
    else
        assert_null(g);
    return status;
}

static void assert_parse_error(const image *im, size_t size, const char *expected)
{
    fq_error err;
    fq_status status = read_image(im, size, 0, &err);
    if (status != FQ_ERR_PARSE)
        fail_msg("expected a parse error with '%s', got %s: %s", expected,
                 fq_status_name(status), err.message);
    if (strstr(err.message, expected) == NULL)
        fail_msg("message '%s' does not say '%s'", err.message, expected);
    if (strstr(err.message, "byte") == NULL)
        fail_msg("message '%s' names no byte offset", err.message);
}

static void unchanged_image_reads(void **state)
{
    (void)state;
    image im = make_image();
    fq_error err;
    assert_int_equal(read_image(&im, im.size, 0, &err), FQ_OK);
    fq_free_aligned(im.data);
}

static void flipped_byte_in_each_section_fails_its_crc(void **state)
{
    (void)state;
    for (uint32_t type = FQM_SECTION_STRINGS; type <= FQM_SECTION_META; type++) {
        image im = make_image();
        const unsigned char *e = entry_of(&im, type);
        uint64_t offset = fqm_get_u64(e + FQM_ENTRY_OFFSET), size = fqm_get_u64(e + FQM_ENTRY_SIZE);
        assert_true(size > 0);
        im.data[offset + size / 2] ^= 0x10;
        char expected[64];
        snprintf(expected, sizeof(expected), "%s section, bytes", section_names[type]);
        assert_parse_error(&im, im.size, expected);
        assert_parse_error(&im, im.size, "CRC32");
        fq_free_aligned(im.data);
    }
}

static void flipped_header_byte_fails_the_header_crc(void **state)
{
    (void)state;
    image im = make_image();
    im.data[FQM_HEADER_SIZE - 1] ^= 1; /* a reserved byte */
    assert_parse_error(&im, im.size, "header, bytes 0..64: CRC32");
    fq_free_aligned(im.data);
}

static void flipped_table_byte_fails_the_table_crc(void **state)
{
    (void)state;
    image im = make_image();
    im.data[FQM_HEADER_SIZE + FQM_ENTRY_RESERVED] ^= 1;
    assert_parse_error(&im, im.size, "section table, byte 64: CRC32");
    fq_free_aligned(im.data);
}

static void damaged_weights_load_when_their_crc_is_skipped(void **state)
{
    (void)state;
    image im = make_image();
    const unsigned char *e = entry_of(&im, FQM_SECTION_WEIGHTS);
    im.data[fqm_get_u64(e + FQM_ENTRY_OFFSET) + 1] ^= 0x40;
    fq_error err;
    assert_int_equal(read_image(&im, im.size, 0, &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "WEIGHTS"));
    assert_int_equal(read_image(&im, im.size, FQ_FQM_READ_SKIP_WEIGHTS_CRC, &err), FQ_OK);
    fq_free_aligned(im.data);
}

static void truncation_at_every_section_boundary_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    size_t cuts[2 + 2 * 6];
    int n = 0;
    cuts[n++] = FQM_HEADER_SIZE;
    cuts[n++] = FQM_HEADER_SIZE + 6 * FQM_ENTRY_BYTES;
    for (uint32_t type = FQM_SECTION_STRINGS; type <= FQM_SECTION_META; type++) {
        const unsigned char *e = entry_of(&im, type);
        cuts[n++] = (size_t)fqm_get_u64(e + FQM_ENTRY_OFFSET);
        cuts[n++] = (size_t)(fqm_get_u64(e + FQM_ENTRY_OFFSET) + fqm_get_u64(e + FQM_ENTRY_SIZE));
    }
    for (int i = 0; i < n; i++)
        if (cuts[i] < im.size)
            assert_parse_error(&im, cuts[i], "truncated");
    assert_parse_error(&im, 10, "ends inside the 64-byte header");
    fq_free_aligned(im.data);
}

static void truncation_at_random_offsets_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    fq_test_seed(21);
    for (int i = 0; i < 300; i++) {
        size_t cut = (size_t)fq_test_rand() % im.size;
        fq_error err;
        assert_int_equal(read_image(&im, cut, 0, &err), FQ_ERR_PARSE);
        assert_non_null(strstr(err.message, "byte"));
    }
    fq_free_aligned(im.data);
}

static void shared_model_cut_at_random_offsets_is_a_parse_error(void **state)
{
    (void)state;
    fq_graph *g = fqm_load_shared_model("mobilefacenet_128d");
    image im;
    im.data = fqm_write_aligned(g, &im.size);
    fq_graph_free(g);
    fq_test_seed(22);
    for (int i = 0; i < 100; i++) {
        size_t cut = (size_t)fq_test_rand() % im.size;
        fq_error err;
        assert_int_equal(read_image(&im, cut, 0, &err), FQ_ERR_PARSE);
        assert_non_null(strstr(err.message, "byte"));
    }
    fq_free_aligned(im.data);
}

static void padded_file_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    im.data[im.size] = 0;
    assert_parse_error(&im, im.size + 1, "truncated or padded");
    fq_free_aligned(im.data);
}

static void wrong_magic_says_it_is_not_an_fqm_file(void **state)
{
    (void)state;
    image im = make_image();
    im.data[1] = 'X';
    assert_parse_error(&im, im.size, "not an .fqm file");
    fq_free_aligned(im.data);
}

static void newer_major_version_is_unsupported_naming_both_versions(void **state)
{
    (void)state;
    image im = make_image();
    fqm_put_u16(im.data + FQM_HEADER_VERSION_MAJOR, 2);
    fqm_put_u16(im.data + FQM_HEADER_VERSION_MINOR, 3);
    refresh_crcs(&im);
    fq_error err;
    assert_int_equal(read_image(&im, im.size, 0, &err), FQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "2.3"));
    assert_non_null(strstr(err.message, "1.1"));
    fq_free_aligned(im.data);
}

static void newer_minor_version_with_an_unknown_section_reads(void **state)
{
    (void)state;
    image im = make_image();
    fqm_put_u16(im.data + FQM_HEADER_VERSION_MINOR, 7);
    fqm_put_u32(entry_of(&im, FQM_SECTION_META) + FQM_ENTRY_TYPE, 99);
    refresh_crcs(&im);
    fq_graph *g = NULL;
    fq_fqm_meta *meta = NULL;
    int n_meta = -1;
    fq_error err = {0};
    if (fq_fqm_read_memory(im.data, im.size, NULL, &g, &meta, &n_meta, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(n_meta, 0); /* META is now of the unknown type 99, so it is skipped */
    fq_graph_free(g);
    fq_free_aligned(im.data);
}

static void section_table_outside_the_file_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    fqm_put_u64(im.data + FQM_HEADER_TABLE_OFFSET, im.size + 100);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "does not fit");
    fq_free_aligned(im.data);
}

static void section_outside_the_file_is_a_parse_error(void **state)
{
    (void)state;
    for (uint32_t type = FQM_SECTION_STRINGS; type <= FQM_SECTION_META; type++) {
        image im = make_image();
        unsigned char *e = entry_of(&im, type);
        fqm_put_u64(e + FQM_ENTRY_SIZE, im.size);
        refresh_crcs(&im);
        char expected[64];
        snprintf(expected, sizeof(expected), "%s section", section_names[type]);
        assert_parse_error(&im, im.size, expected);
        assert_parse_error(&im, im.size, "lies outside");
        fq_free_aligned(im.data);
    }
}

static void missing_required_section_is_named(void **state)
{
    (void)state;
    image im = make_image();
    fqm_put_u32(entry_of(&im, FQM_SECTION_NODES) + FQM_ENTRY_TYPE, 98);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "no NODES section");
    fq_free_aligned(im.data);
}

/* The record of value v in VALUES. */
static unsigned char *value_record(image *im, int v)
{
    const unsigned char *e = entry_of(im, FQM_SECTION_VALUES);
    return im->data + fqm_get_u64(e + FQM_ENTRY_OFFSET) + FQM_VALUES_HEAD +
           (size_t)v * FQM_VALUE_RECORD;
}

static int value_index(const char *name)
{
    fq_graph *g = fqm_build_quant_graph();
    int v = fq_graph_find_value(g, name);
    fq_graph_free(g);
    assert_true(v >= 0);
    return v;
}

static void shape_that_contradicts_its_op_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    unsigned char *rec = value_record(&im, value_index("y"));
    fqm_put_u64(rec + FQM_VALUE_DIMS + 8 * 3, 5); /* Conv gives 4 */
    refresh_crcs(&im);
    fq_error err;
    assert_int_equal(read_image(&im, im.size, 0, &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "value 'y' is f32 1x2x4x5 in the file"));
    fq_free_aligned(im.data);
}

/* Found by fuzz_fqm_reader: dimensions whose product overflows reached a shape function. */
static void shape_of_overflowing_size_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    unsigned char *rec = value_record(&im, value_index("x"));
    fqm_put_u64(rec + FQM_VALUE_DIMS + 8 * 2, 7061644215716937731ull);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "the shape holds more than");
    fq_free_aligned(im.data);
}

/* Found by fuzz_fqm_reader too: a zero dimension hid the overflow of the others' product. */
static void zero_dimension_does_not_hide_an_overflowing_shape(void **state)
{
    (void)state;
    image im = make_image();
    unsigned char *rec = value_record(&im, value_index("x"));
    fqm_put_u64(rec + FQM_VALUE_DIMS + 8 * 1, 0);
    fqm_put_u64(rec + FQM_VALUE_DIMS + 8 * 2, 1ull << 48);
    fqm_put_u64(rec + FQM_VALUE_DIMS + 8 * 3, 12976152);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "the shape holds more than");
    fq_free_aligned(im.data);
}

static void string_reference_out_of_range_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    fqm_put_u32(value_record(&im, 2) + FQM_VALUE_NAME, 100000);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "value 2, byte");
    assert_parse_error(&im, im.size, "refers to string 100000");
    fq_free_aligned(im.data);
}

static void data_outside_weights_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    unsigned char *rec = value_record(&im, value_index("w_i8"));
    fqm_put_u64(rec + FQM_VALUE_DATA_OFFSET, UINT64_MAX - 63);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "lies outside the section");
    fq_free_aligned(im.data);
}

static void data_size_that_contradicts_the_shape_is_a_parse_error(void **state)
{
    (void)state;
    image im = make_image();
    unsigned char *rec = value_record(&im, value_index("w_i8"));
    fqm_put_u64(rec + FQM_VALUE_DATA_SIZE, 7);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "constant of 7 data bytes");
    fq_free_aligned(im.data);
}

static void huge_value_count_is_refused_before_allocating(void **state)
{
    (void)state;
    image im = make_image();
    const unsigned char *e = entry_of(&im, FQM_SECTION_VALUES);
    fqm_put_u32(im.data + fqm_get_u64(e + FQM_ENTRY_OFFSET), 0x7FFFFFFF);
    refresh_crcs(&im);
    assert_parse_error(&im, im.size, "value records need more than");
    fq_free_aligned(im.data);
}

/* Random edits with valid CRCs reach the structural checks: never a crash or a leak. */
static void random_edits_with_valid_crcs_never_crash(void **state)
{
    (void)state;
    image original = make_image();
    image im = {fq_malloc_aligned(original.size), original.size};
    fq_test_seed(99);
    int refused = 0;
    for (int i = 0; i < 2000; i++) {
        memcpy(im.data, original.data, im.size);
        for (int k = fq_test_rand_int(1, 4); k > 0; k--)
            im.data[FQM_HEADER_SIZE + (size_t)fq_test_rand() % (im.size - FQM_HEADER_SIZE)] ^=
                (unsigned char)(1u << fq_test_rand_int(0, 7));
        refresh_crcs(&im);
        fq_error err;
        fq_status status = read_image(&im, im.size, 0, &err);
        assert_true(status == FQ_OK || status == FQ_ERR_PARSE || status == FQ_ERR_UNSUPPORTED ||
                    status == FQ_ERR_SHAPE);
        refused += status != FQ_OK;
    }
    print_message("random edits: %d of 2000 refused\n", refused);
    assert_true(refused > 0);
    fq_free_aligned(im.data);
    fq_free_aligned(original.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unchanged_image_reads),
        cmocka_unit_test(flipped_byte_in_each_section_fails_its_crc),
        cmocka_unit_test(flipped_header_byte_fails_the_header_crc),
        cmocka_unit_test(flipped_table_byte_fails_the_table_crc),
        cmocka_unit_test(damaged_weights_load_when_their_crc_is_skipped),
        cmocka_unit_test(truncation_at_every_section_boundary_is_a_parse_error),
        cmocka_unit_test(truncation_at_random_offsets_is_a_parse_error),
        cmocka_unit_test(shared_model_cut_at_random_offsets_is_a_parse_error),
        cmocka_unit_test(padded_file_is_a_parse_error),
        cmocka_unit_test(wrong_magic_says_it_is_not_an_fqm_file),
        cmocka_unit_test(newer_major_version_is_unsupported_naming_both_versions),
        cmocka_unit_test(newer_minor_version_with_an_unknown_section_reads),
        cmocka_unit_test(section_table_outside_the_file_is_a_parse_error),
        cmocka_unit_test(section_outside_the_file_is_a_parse_error),
        cmocka_unit_test(missing_required_section_is_named),
        cmocka_unit_test(shape_that_contradicts_its_op_is_a_parse_error),
        cmocka_unit_test(shape_of_overflowing_size_is_a_parse_error),
        cmocka_unit_test(zero_dimension_does_not_hide_an_overflowing_shape),
        cmocka_unit_test(string_reference_out_of_range_is_a_parse_error),
        cmocka_unit_test(data_outside_weights_is_a_parse_error),
        cmocka_unit_test(data_size_that_contradicts_the_shape_is_a_parse_error),
        cmocka_unit_test(huge_value_count_is_refused_before_allocating),
        cmocka_unit_test(random_edits_with_valid_crcs_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
