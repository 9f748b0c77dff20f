/* The protobuf wire reader: varints, tags, wire types, repeated fields, skipping, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "onnx/protobuf.h"

static fq_pb_cursor cursor_over(const uint8_t *bytes, size_t size, size_t base)
{
    fq_pb_cursor c;
    fq_pb_cursor_init(&c, bytes, size, base);
    return c;
}

static void varint_of_each_length_decodes(void **state)
{
    (void)state;
    /* 2^(7k) - 1 needs exactly k bytes; 2^63 and above need 10. */
    for (int length = 1; length <= 10; length++) {
        uint8_t bytes[10];
        for (int i = 0; i < length - 1; i++)
            bytes[i] = 0xff;
        bytes[length - 1] = length == 10 ? 0x01 : 0x7f;
        uint64_t expect = length == 10 ? UINT64_MAX : (UINT64_C(1) << (7 * length)) - 1;

        fq_pb_cursor c = cursor_over(bytes, (size_t)length, 0);
        uint64_t value = 0;
        assert_int_equal(fq_pb_read_varint(&c, &value, "test", NULL), FQ_OK);
        assert_true(value == expect);
        assert_true(fq_pb_at_end(&c));
    }
}

static void varint_of_300_decodes(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0xac, 0x02};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    uint64_t value;
    assert_int_equal(fq_pb_read_varint(&c, &value, "test", NULL), FQ_OK);
    assert_int_equal(value, 300);
}

static void varint_longer_than_ten_bytes_is_refused(void **state)
{
    (void)state;
    uint8_t bytes[11];
    memset(bytes, 0x80, sizeof(bytes));
    bytes[10] = 0x00;
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 100);
    uint64_t value;
    fq_error err;
    assert_int_equal(fq_pb_read_varint(&c, &value, "TensorProto.dims", &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "byte 100: TensorProto.dims"));
}

static void varint_beyond_64_bits_is_refused(void **state)
{
    (void)state;
    uint8_t bytes[10];
    memset(bytes, 0xff, 9);
    bytes[9] = 0x02;
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    uint64_t value;
    assert_int_equal(fq_pb_read_varint(&c, &value, "test", NULL), FQ_ERR_PARSE);
}

static void truncated_varint_is_refused(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x80, 0x80};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 7);
    uint64_t value;
    fq_error err;
    assert_int_equal(fq_pb_read_varint(&c, &value, "NodeProto.name", &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "byte 7: NodeProto.name"));
}

static void tag_gives_field_number_and_wire_type(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x4a}; /* field 9, length-delimited */
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 40);
    fq_pb_field f;
    assert_int_equal(fq_pb_read_tag(&c, &f, "TensorProto", NULL), FQ_OK);
    assert_int_equal(f.number, 9);
    assert_int_equal(f.wire, FQ_PB_LEN);
    assert_int_equal(f.offset, 40);
}

static void field_number_zero_is_refused(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x02, 0x00};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    fq_error err;
    assert_int_equal(fq_pb_read_tag(&c, &f, "ModelProto", &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "field number 0"));
}

static void group_and_invalid_wire_types_are_refused(void **state)
{
    (void)state;
    const unsigned refused[] = {3, 4, 6, 7};
    for (size_t i = 0; i < 4; i++) {
        uint8_t tag = (uint8_t)(1 << 3 | refused[i]);
        fq_pb_cursor c = cursor_over(&tag, 1, 0);
        fq_pb_field f;
        assert_int_equal(fq_pb_read_tag(&c, &f, "ModelProto", NULL), FQ_ERR_PARSE);
    }
}

static void each_wire_type_reads_its_value(void **state)
{
    (void)state;
    const uint8_t bytes[] = {
        0x08, 0x96, 0x01,                         /* 1: varint 150 */
        0x11, 1, 2, 3, 4, 5, 6, 7, 8,             /* 2: fixed64 */
        0x1a, 0x03, 'a', 'b', 'c',                /* 3: length-delimited "abc" */
        0x25, 0x00, 0x00, 0x80, 0x3f,             /* 4: fixed32 1.0f */
    };
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    uint64_t u64;
    uint32_t u32;
    fq_pb_cursor sub;

    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_varint(&c, &f, &u64, "M.a", NULL), FQ_OK);
    assert_int_equal(u64, 150);
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(f.wire, FQ_PB_FIXED64);
    assert_int_equal(fq_pb_read_fixed64(&c, &u64, "M.b", NULL), FQ_OK);
    assert_true(u64 == UINT64_C(0x0807060504030201));
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_bytes(&c, &f, &sub, "M.c", NULL), FQ_OK);
    assert_int_equal(sub.size, 3);
    assert_int_equal(sub.base, 14);
    assert_memory_equal(sub.data, "abc", 3);
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_fixed32(&c, &f, &u32, "M.d", NULL), FQ_OK);
    assert_int_equal(u32, 0x3f800000);
    assert_true(fq_pb_at_end(&c));
}

static void wrong_wire_type_for_a_field_is_refused(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x48, 0x05}; /* field 9 as a varint */
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    fq_pb_cursor sub;
    fq_error err;
    assert_int_equal(fq_pb_read_tag(&c, &f, "TensorProto", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_bytes(&c, &f, &sub, "TensorProto.raw_data", &err),
                     FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "byte 0: TensorProto.raw_data: wire type varint"));
}

static void unknown_fields_of_every_wire_type_are_skipped(void **state)
{
    (void)state;
    const uint8_t bytes[] = {
        0xa8, 0x06, 0xff, 0xff, 0x03,       /* 101: varint */
        0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, /* 101: fixed64 */
        0xaa, 0x06, 0x02, 0xaa, 0xbb,       /* 101: length-delimited */
        0xad, 0x06, 1, 2, 3, 4,             /* 101: fixed32 */
        0x08, 0x2a,                         /* 1: varint 42 */
    };
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
        assert_int_equal(f.number, 101);
        assert_int_equal(fq_pb_skip(&c, &f, "M", NULL), FQ_OK);
    }
    uint64_t value;
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_varint(&c, &f, &value, "M.a", NULL), FQ_OK);
    assert_int_equal(value, 42);
}

static void skipping_a_truncated_fixed64_is_refused(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x09, 1, 2, 3};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_skip(&c, &f, "M", NULL), FQ_ERR_PARSE);
}

static void length_beyond_the_bytes_left_is_refused(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x4a, 0x88, 0x27, 1, 2, 3}; /* raw_data of 5000 bytes */
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 1231);
    fq_pb_field f;
    fq_pb_cursor sub;
    fq_error err;
    assert_int_equal(fq_pb_read_tag(&c, &f, "TensorProto", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_bytes(&c, &f, &sub, "TensorProto.raw_data", &err),
                     FQ_ERR_PARSE);
    assert_string_equal(err.message, "byte 1234: TensorProto.raw_data: length 5000 exceeds "
                        "the 3 bytes left");
}

static void nested_length_beyond_its_parent_is_refused(void **state)
{
    (void)state;
    /* The outer message holds 4 bytes; the inner one claims 10. */
    const uint8_t bytes[] = {0x0a, 0x04, 0x12, 0x0a, 'x', 'y', 'z', 'w', 'v', 'u'};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    fq_pb_cursor outer, inner;
    assert_int_equal(fq_pb_read_tag(&c, &f, "A", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_bytes(&c, &f, &outer, "A.b", NULL), FQ_OK);
    assert_int_equal(fq_pb_read_tag(&outer, &f, "B", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_bytes(&outer, &f, &inner, "B.c", NULL), FQ_ERR_PARSE);
}

static void packed_and_unpacked_varints_read_alike(void **state)
{
    (void)state;
    const uint8_t packed[] = {0x0a, 0x04, 0x01, 0xac, 0x02, 0x05};
    const uint8_t unpacked[] = {0x08, 0x01, 0x08, 0xac, 0x02, 0x08, 0x05};
    const uint8_t *inputs[] = {packed, unpacked};
    const size_t sizes[] = {sizeof(packed), sizeof(unpacked)};

    for (int k = 0; k < 2; k++) {
        fq_pb_cursor c = cursor_over(inputs[k], sizes[k], 0);
        fq_pb_list list;
        fq_pb_list_init(&list, sizeof(uint64_t));
        while (!fq_pb_at_end(&c)) {
            fq_pb_field f;
            assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
            assert_int_equal(fq_pb_field_repeated(&c, &f, FQ_PB_VARINT, &list, "M.a", NULL),
                             FQ_OK);
        }
        assert_int_equal(list.count, 3);
        const uint64_t *v = list.items;
        assert_int_equal(v[0], 1);
        assert_int_equal(v[1], 300);
        assert_int_equal(v[2], 5);
        fq_pb_list_free(&list);
    }
}

static void packed_and_unpacked_fixed32_read_alike(void **state)
{
    (void)state;
    const uint8_t packed[] = {0x22, 0x08, 1, 0, 0, 0, 2, 0, 0, 0};
    const uint8_t unpacked[] = {0x25, 1, 0, 0, 0, 0x25, 2, 0, 0, 0};
    const uint8_t *inputs[] = {packed, unpacked};
    const size_t sizes[] = {sizeof(packed), sizeof(unpacked)};

    for (int k = 0; k < 2; k++) {
        fq_pb_cursor c = cursor_over(inputs[k], sizes[k], 0);
        fq_pb_list list;
        fq_pb_list_init(&list, sizeof(uint32_t));
        while (!fq_pb_at_end(&c)) {
            fq_pb_field f;
            assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
            assert_int_equal(fq_pb_field_repeated(&c, &f, FQ_PB_FIXED32, &list, "M.a", NULL),
                             FQ_OK);
        }
        assert_int_equal(list.count, 2);
        assert_int_equal(((const uint32_t *)list.items)[1], 2);
        fq_pb_list_free(&list);
    }
}

static void packed_and_unpacked_fixed64_read_alike(void **state)
{
    (void)state;
    const uint8_t packed[] = {0x0a, 0x10, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80};
    const uint8_t unpacked[] = {0x09, 9, 0, 0, 0, 0, 0, 0, 0, 0x09, 1, 0, 0, 0, 0, 0, 0, 0x80};
    const uint8_t *inputs[] = {packed, unpacked};
    const size_t sizes[] = {sizeof(packed), sizeof(unpacked)};

    for (int k = 0; k < 2; k++) {
        fq_pb_cursor c = cursor_over(inputs[k], sizes[k], 0);
        fq_pb_list list;
        fq_pb_list_init(&list, sizeof(uint64_t));
        while (!fq_pb_at_end(&c)) {
            fq_pb_field f;
            assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
            assert_int_equal(fq_pb_field_repeated(&c, &f, FQ_PB_FIXED64, &list, "M.a", NULL),
                             FQ_OK);
        }
        assert_int_equal(list.count, 2);
        assert_true(((const uint64_t *)list.items)[1] == UINT64_C(0x8000000000000001));
        fq_pb_list_free(&list);
    }
}

static void packed_run_ending_inside_a_varint_is_refused(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x0a, 0x02, 0x01, 0x80};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    fq_pb_list list;
    fq_pb_list_init(&list, sizeof(uint64_t));
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_repeated(&c, &f, FQ_PB_VARINT, &list, "M.a", NULL),
                     FQ_ERR_PARSE);
    fq_pb_list_free(&list);
}

static void packed_fixed32_run_of_odd_length_is_refused(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x22, 0x05, 1, 0, 0, 0, 2};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    fq_pb_list list;
    fq_pb_list_init(&list, sizeof(uint32_t));
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_repeated(&c, &f, FQ_PB_FIXED32, &list, "M.a", NULL),
                     FQ_ERR_PARSE);
    fq_pb_list_free(&list);
}

static void packed_run_reserves_only_what_it_holds(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x0a, 0x03, 0x01, 0x02, 0x03};
    fq_pb_cursor c = cursor_over(bytes, sizeof(bytes), 0);
    fq_pb_field f;
    fq_pb_list list;
    fq_pb_list_init(&list, sizeof(uint64_t));
    assert_int_equal(fq_pb_read_tag(&c, &f, "M", NULL), FQ_OK);
    assert_int_equal(fq_pb_field_repeated(&c, &f, FQ_PB_VARINT, &list, "M.a", NULL), FQ_OK);
    assert_int_equal(list.count, 3);
    assert_true(list.cap <= 8);
    fq_pb_list_free(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(varint_of_each_length_decodes),
        cmocka_unit_test(varint_of_300_decodes),
        cmocka_unit_test(varint_longer_than_ten_bytes_is_refused),
        cmocka_unit_test(varint_beyond_64_bits_is_refused),
        cmocka_unit_test(truncated_varint_is_refused),
        cmocka_unit_test(tag_gives_field_number_and_wire_type),
        cmocka_unit_test(field_number_zero_is_refused),
        cmocka_unit_test(group_and_invalid_wire_types_are_refused),
        cmocka_unit_test(each_wire_type_reads_its_value),
        cmocka_unit_test(wrong_wire_type_for_a_field_is_refused),
        cmocka_unit_test(unknown_fields_of_every_wire_type_are_skipped),
        cmocka_unit_test(skipping_a_truncated_fixed64_is_refused),
        cmocka_unit_test(length_beyond_the_bytes_left_is_refused),
        cmocka_unit_test(nested_length_beyond_its_parent_is_refused),
        cmocka_unit_test(packed_and_unpacked_varints_read_alike),
        cmocka_unit_test(packed_and_unpacked_fixed32_read_alike),
        cmocka_unit_test(packed_and_unpacked_fixed64_read_alike),
        cmocka_unit_test(packed_run_ending_inside_a_varint_is_refused),
        cmocka_unit_test(packed_fixed32_run_of_odd_length_is_refused),
        cmocka_unit_test(packed_run_reserves_only_what_it_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
