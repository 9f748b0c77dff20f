/* CRC32 (IEEE): known check values, chaining, and agreement with a bit-at-a-time reference
 * over every length and misalignment the eight-byte loop can meet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "format/crc32.h"
#include "test_util.h"

static fq_crc32_table table;

static int init_table(void **state)
{
    (void)state;
    fq_crc32_table_init(&table);
    return 0;
}

static uint32_t bitwise_crc32(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 1 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

static void check_value_of_123456789_is_cbf43926(void **state)
{
    (void)state;
    assert_int_equal(fq_crc32(&table, 0, "123456789", 9), 0xCBF43926u);
}

static void empty_message_has_crc_zero(void **state)
{
    (void)state;
    assert_int_equal(fq_crc32(&table, 0, "", 0), 0);
}

static void quick_brown_fox_matches_the_published_value(void **state)
{
    (void)state;
    const char *text = "The quick brown fox jumps over the lazy dog";
    assert_int_equal(fq_crc32(&table, 0, text, strlen(text)), 0x414FA339u);
}

static void crc_of_two_parts_chains_to_the_crc_of_the_whole(void **state)
{
    (void)state;
    unsigned char data[1000];
    fq_test_seed(3);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)fq_test_rand();
    uint32_t whole = fq_crc32(&table, 0, data, sizeof(data));
    for (size_t cut = 0; cut <= sizeof(data); cut += 37)
        assert_int_equal(fq_crc32(&table, fq_crc32(&table, 0, data, cut), data + cut,
                                  sizeof(data) - cut), whole);
}

static void every_length_and_offset_matches_the_bitwise_reference(void **state)
{
    (void)state;
    unsigned char data[300];
    fq_test_seed(11);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)fq_test_rand();
    for (size_t offset = 0; offset < 9; offset++)
        for (size_t n = 0; n + offset <= sizeof(data); n++)
            assert_int_equal(fq_crc32(&table, 0, data + offset, n),
                             bitwise_crc32(data + offset, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_value_of_123456789_is_cbf43926),
        cmocka_unit_test(empty_message_has_crc_zero),
        cmocka_unit_test(quick_brown_fox_matches_the_published_value),
        cmocka_unit_test(crc_of_two_parts_chains_to_the_crc_of_the_whole),
        cmocka_unit_test(every_length_and_offset_matches_the_bitwise_reference),
    };
    return cmocka_run_group_tests(tests, init_table, NULL);
}
