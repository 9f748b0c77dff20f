/* Binary PPM/PGM: header variants of the netpbm specification, refused and truncated files, and
 * the writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/image.h"
#include "test_util.h"

/* header followed by raster_size bytes 1, 2, 3, ...; the size goes to *size. */
static uint8_t *make_file(const char *header, size_t raster_size, size_t *size)
{
    size_t header_size = strlen(header);
    uint8_t *file = malloc(header_size + raster_size + 1);
    memcpy(file, header, header_size);
    for (size_t i = 0; i < raster_size; i++)
        file[header_size + i] = (uint8_t)(i + 1);
    *size = header_size + raster_size;
    return file;
}

/* Reads header + raster and expects a width x height image whose bytes are 1, 2, 3, ... */
static void assert_reads_ppm(const char *header, int width, int height)
{
    size_t raster = (size_t)width * (size_t)height * 3;
    size_t size;
    uint8_t *file = make_file(header, raster, &size);
    fq_image rgb;
    fq_error err;
    if (fq_image_read_pnm(file, size, &rgb, &err) != FQ_OK)
        fail_msg("header \"%s\": %s", header, err.message);
    assert_int_equal(rgb.width, width);
    assert_int_equal(rgb.height, height);
    assert_int_equal(rgb.format, FQ_PIXEL_RGB);
    for (int y = 0; y < height; y++)
        assert_memory_equal(rgb.data + (size_t)y * rgb.stride,
                            file + strlen(header) + (size_t)y * (size_t)width * 3,
                            (size_t)width * 3);
    fq_image_free(&rgb);
    free(file);
}

/* Reads header + raster_size bytes and expects status with needle in the message. */
static void assert_refused(const char *header, size_t raster_size, fq_status status,
                           const char *needle)
{
    size_t size;
    uint8_t *file = make_file(header, raster_size, &size);
    fq_image rgb;
    fq_error err;
    fq_error_clear(&err);
    fq_status st = fq_image_read_pnm(file, size, &rgb, &err);
    free(file);
    if (st != status)
        fail_msg("header \"%s\": status %s (%s), expected %s", header, fq_status_name(st),
                 err.message, fq_status_name(status));
    if (strstr(err.message, needle) == NULL)
        fail_msg("message \"%s\" does not say \"%s\"", err.message, needle);
}

static void test_p6_with_single_spaces_is_read(void **state)
{
    (void)state;
    assert_reads_ppm("P6 3 2 255 ", 3, 2);
}

static void test_p6_with_newlines_tabs_and_crs_is_read(void **state)
{
    (void)state;
    assert_reads_ppm("P6\n\t3\r\n  2\t\t255\n", 3, 2);
}

static void test_comments_between_fields_are_whitespace(void **state)
{
    (void)state;
    assert_reads_ppm("P6\n# made by hand\n3 # width\n#\n2\n# maxval next\r255\n", 3, 2);
    assert_reads_ppm("P6#comment right after the magic\n3 2\n255\n", 3, 2);
}

static void test_a_comment_after_the_maxval_ends_with_the_raster_delimiter(void **state)
{
    (void)state;
    assert_reads_ppm("P6\n3 2\n255#last word\n", 3, 2);
}

static void test_raster_starting_with_whitespace_bytes_is_kept(void **state)
{
    (void)state;
    /* Only one whitespace byte follows the maxval: the next byte, a space, is a sample. */
    const char file[] = "P5\n2 1\n255\n \n";
    fq_image rgb;
    assert_int_equal(fq_image_read_pnm(file, sizeof(file) - 1, &rgb, NULL), FQ_OK);
    assert_int_equal(rgb.data[0], ' ');
    assert_int_equal(rgb.data[3], '\n');
    fq_image_free(&rgb);
}

static void test_p5_gray_becomes_rgb(void **state)
{
    (void)state;
    const char file[] = "P5\n2 2\n255\n\x00\x10\x80\xff";
    fq_image rgb;
    assert_int_equal(fq_image_read_pnm(file, sizeof(file) - 1, &rgb, NULL), FQ_OK);
    const uint8_t expected[] = {0, 0, 0, 0x10, 0x10, 0x10, 0x80, 0x80, 0x80, 0xff, 0xff, 0xff};
    assert_memory_equal(rgb.data, expected, 6);
    assert_memory_equal(rgb.data + rgb.stride, expected + 6, 6);
    fq_image_free(&rgb);
}

static void test_bytes_after_the_raster_are_ignored(void **state)
{
    (void)state;
    size_t size;
    uint8_t *file = make_file("P6 1 1 255\n", 3 + 40, &size);
    fq_image rgb;
    assert_int_equal(fq_image_read_pnm(file, size, &rgb, NULL), FQ_OK);
    assert_int_equal(rgb.data[2], 3);
    fq_image_free(&rgb);
    free(file);
}

static void test_truncated_raster_names_the_missing_bytes_and_rows(void **state)
{
    (void)state;
    /* 4 x 3 RGB needs 36 bytes from offset 11; 20 are there: rows 1 and 2 are incomplete. */
    assert_refused("P6\n4 3\n255\n", 20, FQ_ERR_PARSE,
                   "needs 36 bytes from byte offset 11, 20 are present (16 bytes missing, rows "
                   "1 to 2 incomplete)");
}

static void test_truncated_header_is_refused(void **state)
{
    (void)state;
    assert_refused("P6\n4 3", 0, FQ_ERR_PARSE, "after the height");
    assert_refused("P6\n4 ", 0, FQ_ERR_PARSE, "before the height");
    assert_refused("P6\n4 3\n255", 0, FQ_ERR_PARSE, "after the maxval");
    assert_refused("P6\n4 3\n# unfinished", 0, FQ_ERR_PARSE, "comment at byte 7");
    assert_refused("P", 0, FQ_ERR_PARSE, "not a PNM file");
}

static void test_maxval_other_than_255_is_unsupported(void **state)
{
    (void)state;
    assert_refused("P6\n2 2\n65535\n", 24, FQ_ERR_UNSUPPORTED, "maxval 65535 is not supported");
    assert_refused("P5\n2 2\n15\n", 4, FQ_ERR_UNSUPPORTED, "maxval 15");
    assert_refused("P5\n2 2\n0\n", 4, FQ_ERR_PARSE, "maxval 0 is outside");
    assert_refused("P5\n2 2\n70000\n", 4, FQ_ERR_PARSE, "maxval 70000 is outside");
}

static void test_ascii_and_other_kinds_are_refused(void **state)
{
    (void)state;
    assert_refused("P3\n1 1\n255\n1 2 3\n", 0, FQ_ERR_UNSUPPORTED, "P3 (ASCII)");
    assert_refused("P2\n1 1\n255\n1\n", 0, FQ_ERR_UNSUPPORTED, "P2 (ASCII)");
    assert_refused("P4\n8 1\n\x01", 0, FQ_ERR_UNSUPPORTED, "P4");
    assert_refused("P7\nWIDTH 1\n", 0, FQ_ERR_UNSUPPORTED, "PAM");
    assert_refused("GIF89a", 0, FQ_ERR_PARSE, "not a PNM file");
}

static void test_malformed_fields_are_refused(void **state)
{
    (void)state;
    assert_refused("P63 2 255\n", 18, FQ_ERR_PARSE, "no whitespace before the width");
    assert_refused("P6\n3x 2 255\n", 18, FQ_ERR_PARSE, "after the width");
    assert_refused("P6\n-3 2 255\n", 18, FQ_ERR_PARSE, "expected the width");
    assert_refused("P6\n0 2 255\n", 18, FQ_ERR_PARSE, "width 0 is outside");
}

static size_t allocations;

static void *counting_alloc(void *user, size_t size)
{
    (void)user;
    allocations++;
    return malloc(size);
}

static void *counting_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    allocations++;
    return realloc(ptr, size);
}

static void counting_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void test_huge_dimensions_are_refused_without_allocating(void **state)
{
    (void)state;
    const fq_allocator counting = {counting_alloc, counting_realloc, counting_free, NULL};
    fq_set_allocator(&counting);
    allocations = 0;
    assert_refused("P6\n16385 16\n255\n", 64, FQ_ERR_PARSE, "width 16385 is outside 1..16384");
    assert_refused("P6\n16 99999999999999999999\n255\n", 64, FQ_ERR_PARSE, "or more");
    /* Within the limit but far more than the file holds: refused before allocating 768 MiB. */
    assert_refused("P6\n16384 16384\n255\n", 64, FQ_ERR_PARSE, "805306368 bytes");
    size_t seen = allocations;
    fq_set_allocator(NULL);
    assert_int_equal(seen, 0);
}

static void test_written_ppm_reads_back_the_same(void **state)
{
    (void)state;
    uint8_t pixels[] = {1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12, 0, 0};
    fq_image src = fq_image_view(pixels, 2, 2, FQ_PIXEL_RGB, 8);
    void *data = NULL;
    size_t size = 0;
    assert_int_equal(fq_image_write_ppm(&src, &data, &size, NULL), FQ_OK);
    assert_int_equal(size, strlen("P6\n2 2\n255\n") + 12);
    assert_memory_equal(data, "P6\n2 2\n255\n", 11);

    fq_image back;
    assert_int_equal(fq_image_read_pnm(data, size, &back, NULL), FQ_OK);
    assert_memory_equal(back.data, pixels, 6);
    assert_memory_equal(back.data + back.stride, pixels + 8, 6);
    fq_image_free(&back);
    fq_free(data);
}

static void test_write_of_a_gray_image_converts_to_rgb(void **state)
{
    (void)state;
    uint8_t gray[] = {9};
    fq_image src = fq_image_view(gray, 1, 1, FQ_PIXEL_GRAY, 1);
    void *data = NULL;
    size_t size = 0;
    assert_int_equal(fq_image_write_ppm(&src, &data, &size, NULL), FQ_OK);
    assert_memory_equal(data, "P6\n1 1\n255\n\x09\x09\x09", size);
    fq_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p6_with_single_spaces_is_read),
        cmocka_unit_test(test_p6_with_newlines_tabs_and_crs_is_read),
        cmocka_unit_test(test_comments_between_fields_are_whitespace),
        cmocka_unit_test(test_a_comment_after_the_maxval_ends_with_the_raster_delimiter),
        cmocka_unit_test(test_raster_starting_with_whitespace_bytes_is_kept),
        cmocka_unit_test(test_p5_gray_becomes_rgb),
        cmocka_unit_test(test_bytes_after_the_raster_are_ignored),
        cmocka_unit_test(test_truncated_raster_names_the_missing_bytes_and_rows),
        cmocka_unit_test(test_truncated_header_is_refused),
        cmocka_unit_test(test_maxval_other_than_255_is_unsupported),
        cmocka_unit_test(test_ascii_and_other_kinds_are_refused),
        cmocka_unit_test(test_malformed_fields_are_refused),
        cmocka_unit_test(test_huge_dimensions_are_refused_without_allocating),
        cmocka_unit_test(test_written_ppm_reads_back_the_same),
        cmocka_unit_test(test_write_of_a_gray_image_converts_to_rgb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
