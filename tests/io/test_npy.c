/* .npy reading and writing: round trips, numpy's own files, and malformed files refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "facequant/alloc.h"
#include "facequant/npy.h"
#include "test_util.h"

static int make_tmp_dir(void **state)
{
    (void)state;
    return fq_test_tmp_dir_create("fq_npy");
}

static int remove_tmp_dir(void **state)
{
    (void)state;
    return fq_test_tmp_dir_remove();
}


/* An npy image: magic, version major.0, the header text exactly as given, then data_size bytes
 * of 0x11. */
static unsigned char *make_npy(int major, const char *header, size_t data_size, size_t *size)
{
    size_t len_bytes = major == 1 ? 2 : 4;
    size_t header_size = strlen(header);
    size_t start = 8 + len_bytes;
    unsigned char *buf = malloc(start + header_size + data_size + 1);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < len_bytes; i++)
        buf[8 + i] = (unsigned char)(header_size >> (8 * i));
    memcpy(buf + start, header, header_size);
    memset(buf + start + header_size, 0x11, data_size);
    *size = start + header_size + data_size;
    return buf;
}

/* Reads an image made by make_npy and returns the status; the error is kept in *err. */
static fq_status read_image(int major, const char *header, size_t data_size, fq_npy *npy,
                            fq_error *err)
{
    size_t size = 0;
    unsigned char *buf = make_npy(major, header, data_size, &size);
    fq_error_clear(err);
    fq_status st = fq_npy_read_memory(buf, size, npy, err);
    free(buf);
    return st;
}

static void assert_refused(int major, const char *header, size_t data_size, fq_status expected,
                           const char *needle)
{
    fq_npy npy;
    fq_error err;
    fq_status st = read_image(major, header, data_size, &npy, &err);
    if (st != expected)
        fail_msg("header %s: status %s, expected %s (%s)", header, fq_status_name(st),
                 fq_status_name(expected), err.message);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' does not mention '%s'", err.message, needle);
    assert_null(npy.data);
}

static void fill_random(unsigned char *data, size_t size, fq_dtype dtype)
{
    for (size_t i = 0; i < size; i++)
        data[i] = (unsigned char)fq_test_rand();
    if (dtype == FQ_DTYPE_BOOL)
        for (size_t i = 0; i < size; i++)
            data[i] &= 1;
}

static void round_trip(fq_dtype dtype, const fq_shape *shape)
{
    size_t size = (size_t)fq_shape_numel(shape) * fq_dtype_size(dtype);
    unsigned char *data = malloc(size + 1);
    fill_random(data, size, dtype);

    fq_error err;
    const char *path = fq_test_tmp_path("round_trip.npy");
    fq_status st = fq_npy_write_file(path, dtype, shape, data, &err);
    if (st != FQ_OK)
        fail_msg("write %s: %s", fq_dtype_name(dtype), err.message);

    fq_npy npy;
    st = fq_npy_read_file(path, &npy, &err);
    if (st != FQ_OK)
        fail_msg("read %s rank %d: %s", fq_dtype_name(dtype), shape->rank, err.message);
    assert_int_equal(npy.dtype, dtype);
    assert_true(fq_shape_equal(&npy.shape, shape));
    assert_int_equal(npy.size, size);
    assert_non_null(npy.data);
    if (size > 0)
        assert_memory_equal(npy.data, data, size);
    assert_int_equal((uintptr_t)npy.data % FQ_ALIGNMENT, 0);
    fq_npy_free(&npy);
    free(data);
}

/* Ranks 0..8 with sizes 1..3 per dimension, then a shape with a zero dimension. */
static void round_trip_all_ranks(fq_dtype dtype)
{
    fq_test_seed(1000 + (unsigned)dtype);
    for (int rank = 0; rank <= FQ_MAX_RANK; rank++) {
        fq_shape shape = {.rank = rank};
        for (int i = 0; i < rank; i++)
            shape.dims[i] = 1 + (i + rank) % 3;
        round_trip(dtype, &shape);
    }
    fq_shape empty = {.rank = 3, .dims = {2, 0, 5}};
    round_trip(dtype, &empty);
}

static void test_round_trip_f32(void **state) { (void)state; round_trip_all_ranks(FQ_DTYPE_F32); }
static void test_round_trip_f16(void **state) { (void)state; round_trip_all_ranks(FQ_DTYPE_F16); }
static void test_round_trip_i8(void **state) { (void)state; round_trip_all_ranks(FQ_DTYPE_I8); }
static void test_round_trip_u8(void **state) { (void)state; round_trip_all_ranks(FQ_DTYPE_U8); }
static void test_round_trip_i32(void **state) { (void)state; round_trip_all_ranks(FQ_DTYPE_I32); }
static void test_round_trip_i64(void **state) { (void)state; round_trip_all_ranks(FQ_DTYPE_I64); }
static void test_round_trip_bool(void **state)
{
    (void)state;
    round_trip_all_ranks(FQ_DTYPE_BOOL);
}

static void test_written_header_is_numpy_layout(void **state)
{
    (void)state;
    const float data[6] = {1, 2, 3, 4, 5, 6};
    fq_shape shape = {.rank = 2, .dims = {2, 3}};
    const char *path = fq_test_tmp_path("layout.npy");
    assert_int_equal(fq_npy_write_file(path, FQ_DTYPE_F32, &shape, data, NULL), FQ_OK);

    size_t size = 0;
    unsigned char *bytes = fq_test_read_file(path, &size);
    assert_non_null(bytes);
    const char *expected = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    assert_memory_equal(bytes, "\x93NUMPY\x01\x00", 8);
    size_t header_size = bytes[8] | (size_t)bytes[9] << 8;
    assert_int_equal((10 + header_size) % 64, 0);
    assert_memory_equal(bytes + 10, expected, strlen(expected));
    assert_int_equal(bytes[10 + header_size - 1], '\n');
    assert_int_equal(size, 10 + header_size + sizeof(data));
    free(bytes);
}

static void test_written_one_element_shape_has_trailing_comma(void **state)
{
    (void)state;
    const int64_t data[5] = {0};
    fq_shape shape = {.rank = 1, .dims = {5}};
    const char *path = fq_test_tmp_path("vector.npy");
    assert_int_equal(fq_npy_write_file(path, FQ_DTYPE_I64, &shape, data, NULL), FQ_OK);

    size_t size = 0;
    char *bytes = fq_test_read_file(path, &size);
    assert_non_null(bytes);
    bytes[size] = '\0';
    assert_non_null(strstr(bytes + 10, "'shape': (5,), }"));
    free(bytes);
}

static void test_write_leaves_no_temporary_file(void **state)
{
    (void)state;
    const uint8_t data[1] = {7};
    fq_shape shape = {.rank = 0};
    const char *path = fq_test_tmp_path("scalar.npy");
    assert_int_equal(fq_npy_write_file(path, FQ_DTYPE_U8, &shape, data, NULL), FQ_OK);

    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    struct stat st;
    assert_int_not_equal(stat(tmp, &st), 0);
    assert_int_equal(stat(path, &st), 0);
}

static void test_write_replaces_existing_file(void **state)
{
    (void)state;
    const float first[4] = {1, 2, 3, 4};
    const float second[2] = {9, 8};
    fq_shape shape4 = {.rank = 1, .dims = {4}};
    fq_shape shape2 = {.rank = 1, .dims = {2}};
    const char *path = fq_test_tmp_path("replace.npy");
    assert_int_equal(fq_npy_write_file(path, FQ_DTYPE_F32, &shape4, first, NULL), FQ_OK);
    assert_int_equal(fq_npy_write_file(path, FQ_DTYPE_F32, &shape2, second, NULL), FQ_OK);

    fq_npy npy;
    assert_int_equal(fq_npy_read_file(path, &npy, NULL), FQ_OK);
    assert_true(fq_shape_equal(&npy.shape, &shape2));
    assert_memory_equal(npy.data, second, sizeof(second));
    fq_npy_free(&npy);
}

static void test_write_to_missing_directory_is_io_error(void **state)
{
    (void)state;
    const float data[1] = {0};
    fq_shape shape = {.rank = 1, .dims = {1}};
    fq_error err;
    assert_int_equal(fq_npy_write_file(fq_test_tmp_path("no/such/dir.npy"), FQ_DTYPE_F32, &shape,
                                       data, &err),
                     FQ_ERR_IO);
    assert_non_null(strstr(err.message, "no/such/dir.npy"));
}

static void test_write_refuses_undefined_dtype(void **state)
{
    (void)state;
    const float data[1] = {0};
    fq_shape shape = {.rank = 1, .dims = {1}};
    assert_int_equal(fq_npy_write_file(fq_test_tmp_path("x.npy"), FQ_DTYPE_UNDEFINED, &shape,
                                       data, NULL),
                     FQ_ERR_UNSUPPORTED);
}

static void test_write_refuses_unknown_dimension(void **state)
{
    (void)state;
    const float data[1] = {0};
    fq_shape shape = {.rank = 2, .dims = {1, FQ_DIM_UNKNOWN}};
    assert_int_equal(fq_npy_write_file(fq_test_tmp_path("x.npy"), FQ_DTYPE_F32, &shape, data, NULL),
                     FQ_ERR_INVALID_ARG);
}

static void test_reads_format_2_and_3(void **state)
{
    (void)state;
    const char *header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n";
    for (int major = 2; major <= 3; major++) {
        fq_npy npy;
        fq_error err;
        if (read_image(major, header, 8, &npy, &err) != FQ_OK)
            fail_msg("format %d.0: %s", major, err.message);
        assert_int_equal(npy.dtype, FQ_DTYPE_I32);
        assert_int_equal(npy.shape.rank, 1);
        assert_int_equal(npy.shape.dims[0], 2);
        assert_int_equal(((int32_t *)npy.data)[1], 0x11111111);
        fq_npy_free(&npy);
    }
}

static void test_reads_keys_in_any_order_with_double_quotes(void **state)
{
    (void)state;
    fq_npy npy;
    fq_error err;
    const char *header = "{\"shape\": (3, 1), \"fortran_order\": False, \"descr\": \"<f2\"}  \n";
    if (read_image(1, header, 6, &npy, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(npy.dtype, FQ_DTYPE_F16);
    assert_int_equal(npy.shape.rank, 2);
    assert_int_equal(npy.shape.dims[0], 3);
    fq_npy_free(&npy);
}

static void test_reads_scalar_shape(void **state)
{
    (void)state;
    fq_npy npy;
    fq_error err;
    const char *header = "{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n";
    if (read_image(1, header, 8, &npy, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(npy.shape.rank, 0);
    assert_int_equal(npy.size, 8);
    fq_npy_free(&npy);
}

static void test_reads_byte_order_variants(void **state)
{
    (void)state;
    static const struct {
        const char *descr;
        fq_dtype dtype;
    } cases[] = {
        {"<u1", FQ_DTYPE_U8}, {">i1", FQ_DTYPE_I8}, {"=b1", FQ_DTYPE_BOOL},
        {"|f4", FQ_DTYPE_F32}, {"|i8", FQ_DTYPE_I64},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char header[128];
        snprintf(header, sizeof(header),
                 "{'descr': '%s', 'fortran_order': False, 'shape': (1,), }\n", cases[i].descr);
        fq_npy npy;
        fq_error err;
        size_t elem = fq_dtype_size(cases[i].dtype);
        if (read_image(1, header, elem, &npy, &err) != FQ_OK)
            fail_msg("descr %s: %s", cases[i].descr, err.message);
        assert_int_equal(npy.dtype, cases[i].dtype);
        fq_npy_free(&npy);
    }
}

static void test_refuses_big_endian_multibyte(void **state)
{
    (void)state;
    assert_refused(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", 4,
                   FQ_ERR_UNSUPPORTED, "not little-endian");
}

static void test_refuses_unsupported_element_type(void **state)
{
    (void)state;
    assert_refused(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", 8,
                   FQ_ERR_UNSUPPORTED, "'<f8'");
}

static void test_refuses_fortran_order(void **state)
{
    (void)state;
    assert_refused(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", 16,
                   FQ_ERR_UNSUPPORTED, "Fortran");
}

static void test_refuses_short_data(void **state)
{
    (void)state;
    assert_refused(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", 15,
                   FQ_ERR_PARSE, "truncated");
}

static void test_refuses_trailing_bytes(void **state)
{
    (void)state;
    assert_refused(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", 17,
                   FQ_ERR_PARSE, "trailing");
}

static void test_refuses_one_element_shape_without_comma(void **state)
{
    (void)state;
    assert_refused(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }\n", 8,
                   FQ_ERR_PARSE, "trailing comma");
}

static void test_refuses_malformed_headers(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        const char *needle;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False}\n", "lacks"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", "unknown key"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", "twice"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "final newline"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x\n", "final newline"},
        {"'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", "'{'"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}\n", "','"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}\n", "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n", "non-negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,, 2)}\n", "non-negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}\n", "'('"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2\n", "','"},
        {"{'descr': 'f4', 'fortran_order': False, 'shape': (1,)}\n", "byte-order"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}\n", "byte-order"},
        {"{'descr': '<f4\\', 'fortran_order': False, 'shape': (1,)}\n", "unterminated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}\n", "8 dim"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}\n",
         "overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}\n",
         "does not fit"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_refused(1, cases[i].header, 4, FQ_ERR_PARSE, cases[i].needle);
}

static void test_refuses_bad_magic_and_version(void **state)
{
    (void)state;
    const char *header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
    size_t size = 0;
    unsigned char *buf = make_npy(1, header, 4, &size);
    fq_npy npy;
    fq_error err;

    buf[1] = 'X';
    assert_int_equal(fq_npy_read_memory(buf, size, &npy, &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "magic"));
    buf[1] = 'N';
    buf[6] = 4;
    assert_int_equal(fq_npy_read_memory(buf, size, &npy, &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "4.0"));
    buf[6] = 1;
    buf[7] = 1;
    assert_int_equal(fq_npy_read_memory(buf, size, &npy, &err), FQ_ERR_PARSE);
    free(buf);
}

/* Every prefix of a valid file is refused, never read past. */
static void test_refuses_every_truncation(void **state)
{
    (void)state;
    const char *header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }\n";
    size_t size = 0;
    unsigned char *buf = make_npy(2, header, 16, &size);
    for (size_t cut = 0; cut < size; cut++) {
        unsigned char *prefix = malloc(cut + 1);
        memcpy(prefix, buf, cut);
        fq_npy npy;
        fq_status st = fq_npy_read_memory(prefix, cut, &npy, NULL);
        if (st != FQ_ERR_PARSE)
            fail_msg("prefix of %zu bytes: status %s", cut, fq_status_name(st));
        free(prefix);
    }
    free(buf);
}

static void test_refuses_header_length_past_end(void **state)
{
    (void)state;
    const char *header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
    size_t size = 0;
    unsigned char *buf = make_npy(1, header, 4, &size);
    buf[8] = 0xff;
    buf[9] = 0x7f;
    fq_npy npy;
    fq_error err;
    assert_int_equal(fq_npy_read_memory(buf, size, &npy, &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "past the end"));
    free(buf);
}

static void test_read_file_error_names_the_file(void **state)
{
    (void)state;
    const char *header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n";
    size_t size = 0;
    unsigned char *buf = make_npy(1, header, 10, &size);
    const char *path = fq_test_tmp_path("short.npy");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, size, f), size);
    fclose(f);
    free(buf);

    fq_npy npy;
    fq_error err;
    assert_int_equal(fq_npy_read_file(path, &npy, &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "short.npy"));
    assert_non_null(strstr(err.message, "truncated"));
}

static void test_read_missing_file_is_io_error(void **state)
{
    (void)state;
    fq_npy npy;
    fq_error err;
    assert_int_equal(fq_npy_read_file(fq_test_tmp_path("absent.npy"), &npy, &err), FQ_ERR_IO);
    assert_non_null(strstr(err.message, "absent.npy"));
}

static void test_reads_golden_inputs(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    static const struct {
        const char *file;
        int64_t n, h, w;
    } inputs[] = {
        {"arcface_hanks_112.npy", 1, 112, 112},     {"randn_112.npy", 1, 112, 112},
        {"randn_640.npy", 1, 640, 640},             {"scrfd_batch2_320.npy", 2, 320, 320},
        {"scrfd_t1_640.npy", 1, 640, 640},          {"scrfd_two_people_480x640.npy", 1, 480, 640},
        {"yunet_t1_640.npy", 1, 640, 640},          {"yunet_two_people_320.npy", 1, 320, 320},
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/golden/inputs/%s", shared, inputs[i].file);
        fq_npy npy;
        fq_error err;
        if (fq_npy_read_file(path, &npy, &err) != FQ_OK)
            fail_msg("%s", err.message);
        fq_shape expected = {.rank = 4, .dims = {inputs[i].n, 3, inputs[i].h, inputs[i].w}};
        assert_int_equal(npy.dtype, FQ_DTYPE_F32);
        assert_true(fq_shape_equal(&npy.shape, &expected));
        fq_npy_free(&npy);
    }
}

static void join_path(char *buf, size_t cap, const char *a, const char *b)
{
    if ((size_t)snprintf(buf, cap, "%s/%s", a, b) >= cap)
        fail_msg("path %s/%s is too long", a, b);
}

static void check_golden_output(const char *case_dir, const cJSON *output)
{
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(output, "file");
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(output, "shape");
    assert_true(cJSON_IsString(file) && cJSON_IsArray(dims));

    char path[1024];
    join_path(path, sizeof(path), case_dir, file->valuestring);
    fq_npy npy;
    fq_error err;
    if (fq_npy_read_file(path, &npy, &err) != FQ_OK)
        fail_msg("%s", err.message);

    fq_shape expected = {.rank = cJSON_GetArraySize(dims)};
    assert_in_range(expected.rank, 0, FQ_MAX_RANK);
    for (int d = 0; d < expected.rank; d++)
        expected.dims[d] = (int64_t)cJSON_GetArrayItem(dims, d)->valuedouble;
    char got_s[128], want_s[128];
    if (npy.dtype != FQ_DTYPE_F32 || !fq_shape_equal(&npy.shape, &expected))
        fail_msg("%s: %s %s, case.json says f32 %s", path, fq_dtype_name(npy.dtype),
                 fq_shape_format(&npy.shape, got_s, sizeof(got_s)),
                 fq_shape_format(&expected, want_s, sizeof(want_s)));
    fq_npy_free(&npy);
}

static void check_golden_case(const char *golden, const char *name)
{
    char case_dir[1024], json_path[1024];
    join_path(case_dir, sizeof(case_dir), golden, name);
    join_path(json_path, sizeof(json_path), case_dir, "case.json");
    size_t size = 0;
    char *text = fq_test_read_file(json_path, &size);
    if (text == NULL)
        fail_msg("cannot read %s", json_path);
    text[size] = '\0';
    cJSON *json = cJSON_Parse(text);
    free(text);
    if (json == NULL)
        fail_msg("%s is not JSON", json_path);

    const cJSON *output;
    cJSON_ArrayForEach(output, cJSON_GetObjectItemCaseSensitive(json, "outputs"))
        check_golden_output(case_dir, output);
    cJSON_Delete(json);
}

/* The outputs of a few cases (one per model family), with the shapes case.json lists. */
static void test_reads_golden_outputs_with_case_shapes(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    static const char *cases[] = {
        "det_500m/scrfd_t1_640",
        "scrfd_500m_bnkps_namedout/scrfd_batch2_320",
        "yunet_n_dynamic/yunet_two_people_320",
        "mobilefacenet_128d/arcface_hanks_112",
    };
    char golden[1024];
    snprintf(golden, sizeof(golden), "%s/golden", shared);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_golden_case(golden, cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_f32),
        cmocka_unit_test(test_round_trip_f16),
        cmocka_unit_test(test_round_trip_i8),
        cmocka_unit_test(test_round_trip_u8),
        cmocka_unit_test(test_round_trip_i32),
        cmocka_unit_test(test_round_trip_i64),
        cmocka_unit_test(test_round_trip_bool),
        cmocka_unit_test(test_written_header_is_numpy_layout),
        cmocka_unit_test(test_written_one_element_shape_has_trailing_comma),
        cmocka_unit_test(test_write_leaves_no_temporary_file),
        cmocka_unit_test(test_write_replaces_existing_file),
        cmocka_unit_test(test_write_to_missing_directory_is_io_error),
        cmocka_unit_test(test_write_refuses_undefined_dtype),
        cmocka_unit_test(test_write_refuses_unknown_dimension),
        cmocka_unit_test(test_reads_format_2_and_3),
        cmocka_unit_test(test_reads_keys_in_any_order_with_double_quotes),
        cmocka_unit_test(test_reads_scalar_shape),
        cmocka_unit_test(test_reads_byte_order_variants),
        cmocka_unit_test(test_refuses_big_endian_multibyte),
        cmocka_unit_test(test_refuses_unsupported_element_type),
        cmocka_unit_test(test_refuses_fortran_order),
        cmocka_unit_test(test_refuses_short_data),
        cmocka_unit_test(test_refuses_trailing_bytes),
        cmocka_unit_test(test_refuses_one_element_shape_without_comma),
        cmocka_unit_test(test_refuses_malformed_headers),
        cmocka_unit_test(test_refuses_bad_magic_and_version),
        cmocka_unit_test(test_refuses_every_truncation),
        cmocka_unit_test(test_refuses_header_length_past_end),
        cmocka_unit_test(test_read_file_error_names_the_file),
        cmocka_unit_test(test_read_missing_file_is_io_error),
        cmocka_unit_test(test_reads_golden_inputs),
        cmocka_unit_test(test_reads_golden_outputs_with_case_shapes),
    };
    return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
