/* Image file decoding for the tools: JPEG, PNG, WebP and PPM chosen by their bytes, EXIF
 * orientation, size limits, refusals, PNG writing and drawing. Every fixture is made here in
 * memory with the encoders of the same libraries; the real photos come from ../shared/images. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>
#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>

#include "facequant/alloc.h"
#include "facequant/npy.h"
#include "image/image_io.h"
#include "test_util.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

typedef struct encoded {
    uint8_t *data; /* malloc'd */
    size_t size;
} encoded;

static int make_tmp_dir(void **state)
{
    (void)state;
    return fq_test_tmp_dir_create("fq_image_io");
}

static int remove_tmp_dir(void **state)
{
    (void)state;
    return fq_test_tmp_dir_remove();
}


static void write_file(const char *path, const void *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
}

/* A smooth colour gradient, easy on JPEG. */
static uint8_t *gradient_pixels(int width, int height)
{
    uint8_t *pixels = malloc((size_t)width * height * 3);
    assert_non_null(pixels);
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            uint8_t *p = pixels + ((size_t)y * width + x) * 3;
            p[0] = (uint8_t)(40 + 160 * x / width);
            p[1] = (uint8_t)(30 + 180 * y / height);
            p[2] = (uint8_t)(200 - 100 * (x + y) / (width + height));
        }
    }
    return pixels;
}

/* Every byte different from its neighbours, so an exact decode is a real check. */
static uint8_t *noise_pixels(int width, int height, unsigned long long seed)
{
    uint8_t *pixels = malloc((size_t)width * height * 3);
    assert_non_null(pixels);
    fq_test_seed(seed);
    for (size_t i = 0; i < (size_t)width * height * 3; i++)
        pixels[i] = (uint8_t)fq_test_rand_int(0, 255);
    return pixels;
}

/* Grey with a red 8x8 block in the top-left corner. */
static uint8_t *corner_marker_pixels(int width, int height)
{
    uint8_t *pixels = malloc((size_t)width * height * 3);
    assert_non_null(pixels);
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            uint8_t *p = pixels + ((size_t)y * width + x) * 3;
            bool marker = x < 8 && y < 8;
            p[0] = marker ? 255 : 128;
            p[1] = marker ? 0 : 128;
            p[2] = marker ? 0 : 128;
        }
    }
    return pixels;
}

static void put_u16(uint8_t *p, unsigned v, bool big_endian)
{
    p[big_endian ? 0 : 1] = (uint8_t)(v >> 8);
    p[big_endian ? 1 : 0] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v, bool big_endian)
{
    for (int i = 0; i < 4; i++)
        p[big_endian ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

enum { EXIF_TIFF_SIZE = 38 };

/* A TIFF block whose IFD0 holds a Software tag, then the orientation. Returns its size. */
static size_t exif_tiff_block(uint8_t *out, int orientation, bool big_endian)
{
    memset(out, 0, EXIF_TIFF_SIZE);
    memcpy(out, big_endian ? "MM" : "II", 2);
    put_u16(out + 2, 42, big_endian);
    put_u32(out + 4, 8, big_endian);
    put_u16(out + 8, 2, big_endian);
    put_u16(out + 10, 0x0131, big_endian); /* Software, ASCII, 4 bytes inline */
    put_u16(out + 12, 2, big_endian);
    put_u32(out + 14, 4, big_endian);
    memcpy(out + 18, "fq\0\0", 4);
    put_u16(out + 22, 0x0112, big_endian);
    put_u16(out + 24, 3, big_endian);
    put_u32(out + 26, 1, big_endian);
    put_u16(out + 30, (unsigned)orientation, big_endian);
    put_u32(out + 34, 0, big_endian); /* no next IFD */
    return EXIF_TIFF_SIZE;
}

typedef struct jpeg_options {
    int quality;
    bool progressive;
    bool full_chroma;      /* 4:4:4 instead of libjpeg's 4:2:0 */
    const uint8_t *app1;   /* an APP1 payload to insert, or NULL */
    size_t app1_size;
} jpeg_options;

static encoded encode_jpeg(const uint8_t *pixels, int width, int height, jpeg_options options)
{
    struct jpeg_compress_struct info;
    struct jpeg_error_mgr errors;
    unsigned char *out = NULL;
    unsigned long out_size = 0;

    info.err = jpeg_std_error(&errors);
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, &out, &out_size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, options.quality, TRUE);
    if (options.full_chroma)
        info.comp_info[0].h_samp_factor = info.comp_info[0].v_samp_factor = 1;
    if (options.progressive)
        jpeg_simple_progression(&info);

    jpeg_start_compress(&info, TRUE);
    if (options.app1 != NULL)
        jpeg_write_marker(&info, JPEG_APP0 + 1, options.app1, (unsigned)options.app1_size);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * width * 3);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    return (encoded){out, out_size};
}

static encoded encode_jpeg_with_orientation(const uint8_t *pixels, int width, int height,
                                            int orientation, bool big_endian)
{
    uint8_t app1[6 + EXIF_TIFF_SIZE];
    memcpy(app1, "Exif\0\0", 6);
    size_t size = 6 + exif_tiff_block(app1 + 6, orientation, big_endian);
    jpeg_options options = {.quality = 95, .full_chroma = true, .app1 = app1,
                            .app1_size = size};
    return encode_jpeg(pixels, width, height, options);
}

typedef struct png_options {
    uint8_t color_type;
    uint8_t bit_depth;
    const struct spng_plte *palette;
    const uint8_t *exif;
    size_t exif_size;
} png_options;

static encoded encode_png(const void *pixels, size_t size, int width, int height,
                          png_options options)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    assert_non_null(ctx);
    struct spng_ihdr ihdr = {.width = (uint32_t)width, .height = (uint32_t)height,
                             .bit_depth = options.bit_depth,
                             .color_type = options.color_type};
    assert_int_equal(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1), 0);
    assert_int_equal(spng_set_ihdr(ctx, &ihdr), 0);
    if (options.palette != NULL)
        assert_int_equal(spng_set_plte(ctx, (struct spng_plte *)options.palette), 0);
    if (options.exif != NULL) {
        struct spng_exif exif = {.length = options.exif_size, .data = (char *)options.exif};
        assert_int_equal(spng_set_exif(ctx, &exif), 0);
    }
    assert_int_equal(spng_encode_image(ctx, pixels, size, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
                     0);

    int error = 0;
    size_t png_size = 0;
    void *png = spng_get_png_buffer(ctx, &png_size, &error);
    assert_non_null(png);
    spng_ctx_free(ctx);
    return (encoded){png, png_size};
}

static encoded encode_rgb_png(const uint8_t *pixels, int width, int height)
{
    png_options options = {.color_type = SPNG_COLOR_TYPE_TRUECOLOR, .bit_depth = 8};
    return encode_png(pixels, (size_t)width * height * 3, width, height, options);
}

static uint32_t png_crc(const uint8_t *data, size_t size)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* Appends a chunk (length, type, data, CRC over type and data) at out + *used. */
static void append_png_chunk(uint8_t *out, size_t *used, const char *type, const uint8_t *data,
                             uint32_t length)
{
    uint8_t *chunk = out + *used;
    put_u32(chunk, length, true);
    memcpy(chunk + 4, type, 4);
    if (length > 0)
        memcpy(chunk + 8, data, length);
    put_u32(chunk + 8 + length, png_crc(chunk + 4, 4 + length), true);
    *used += 12 + length;
}

/* A valid PNG signature and IHDR declaring side x side RGB, a tiny IDAT and IEND. */
static size_t png_bomb(uint8_t *out, uint32_t side)
{
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    /* zlib stream of a few zero bytes */
    static const uint8_t idat[] = {0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01};
    uint8_t ihdr[13] = {0};
    put_u32(ihdr, side, true);
    put_u32(ihdr + 4, side, true);
    ihdr[8] = 8;
    ihdr[9] = 2;

    size_t used = sizeof(signature);
    memcpy(out, signature, used);
    append_png_chunk(out, &used, "IHDR", ihdr, sizeof(ihdr));
    append_png_chunk(out, &used, "IDAT", idat, sizeof(idat));
    append_png_chunk(out, &used, "IEND", NULL, 0);
    return used;
}

static encoded encode_lossless_webp(const uint8_t *pixels, int width, int height)
{
    uint8_t *out = NULL;
    size_t size = WebPEncodeLosslessRGB(pixels, width, height, width * 3, &out);
    assert_true(size > 0);
    uint8_t *copy = malloc(size);
    assert_non_null(copy);
    memcpy(copy, out, size);
    WebPFree(out);
    return (encoded){copy, size};
}

/* ---- checks ------------------------------------------------------------------------------ */

static const uint8_t *pixel_at(const fq_image *image, int x, int y)
{
    return image->data + (size_t)y * image->stride + (size_t)x * 3;
}

static void assert_rgb_equals(const fq_image *image, const uint8_t *pixels, int width,
                              int height)
{
    assert_int_equal(image->format, FQ_PIXEL_RGB);
    assert_int_equal(image->width, width);
    assert_int_equal(image->height, height);
    for (int y = 0; y < height; y++)
        assert_memory_equal(pixel_at(image, 0, y), pixels + (size_t)y * width * 3,
                            (size_t)width * 3);
}

static double mean_abs_difference(const fq_image *image, const uint8_t *pixels)
{
    double total = 0;
    for (int y = 0; y < image->height; y++) {
        for (int x = 0; x < image->width * 3; x++)
            total += abs(pixel_at(image, 0, y)[x] - pixels[((size_t)y * image->width) * 3 + x]);
    }
    return total / ((double)image->width * image->height * 3);
}

static bool is_red(const fq_image *image, int x, int y)
{
    const uint8_t *p = pixel_at(image, x, y);
    return p[0] > 200 && p[1] < 60 && p[2] < 60;
}

static fq_status decode(const encoded *file, fq_image *rgb, fq_error *err)
{
    return fq_image_decode(file->data, file->size, NULL, rgb, err);
}

/* ---- JPEG -------------------------------------------------------------------------------- */

static void check_jpeg_decodes_close(jpeg_options options)
{
    uint8_t *pixels = gradient_pixels(64, 48);
    encoded jpeg = encode_jpeg(pixels, 64, 48, options);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&jpeg, &rgb, &err), FQ_OK);

    assert_int_equal(rgb.width, 64);
    assert_int_equal(rgb.height, 48);
    assert_true(mean_abs_difference(&rgb, pixels) < 2.0);
    fq_image_free(&rgb);
    free(jpeg.data);
    free(pixels);
}

static void test_baseline_jpeg_decodes_to_nearly_the_encoded_pixels(void **state)
{
    (void)state;
    check_jpeg_decodes_close((jpeg_options){.quality = 95});
}

static void test_progressive_jpeg_decodes_to_nearly_the_encoded_pixels(void **state)
{
    (void)state;
    check_jpeg_decodes_close((jpeg_options){.quality = 95, .progressive = true});
}

static void test_full_chroma_jpeg_decodes_to_nearly_the_encoded_pixels(void **state)
{
    (void)state;
    check_jpeg_decodes_close((jpeg_options){.quality = 95, .full_chroma = true});
}

/* The source pixel an upright output pixel (x, y) shows, for an image of width x height. */
static void source_of(int orientation, int width, int height, int x, int y, int *sx, int *sy)
{
    int mapping[9][2] = {
        {x, y}, {x, y}, {width - 1 - x, y}, {width - 1 - x, height - 1 - y},
        {x, height - 1 - y}, {y, x}, {y, height - 1 - x}, {width - 1 - y, height - 1 - x},
        {width - 1 - y, x},
    };
    *sx = mapping[orientation][0];
    *sy = mapping[orientation][1];
}

/* Decodes the marker image with and without the orientation tag: the oriented result must have
 * the expected size, show every pixel of the plain decode at its rotated place, and have the
 * red marker at (marker_x, marker_y). */
static void check_orientation(int orientation, bool big_endian, int marker_x, int marker_y)
{
    const int width = 32, height = 16;
    uint8_t *pixels = corner_marker_pixels(width, height);
    encoded plain = encode_jpeg(pixels, width, height,
                                (jpeg_options){.quality = 95, .full_chroma = true});
    encoded tagged = encode_jpeg_with_orientation(pixels, width, height, orientation,
                                                  big_endian);
    fq_image upright, stored;
    fq_error err;

    assert_int_equal(decode(&tagged, &upright, &err), FQ_OK);
    assert_int_equal(decode(&plain, &stored, &err), FQ_OK);

    bool swapped = orientation >= 5;
    assert_int_equal(upright.width, swapped ? height : width);
    assert_int_equal(upright.height, swapped ? width : height);
    assert_true(is_red(&upright, marker_x, marker_y));
    for (int y = 0; y < upright.height; y++) {
        for (int x = 0; x < upright.width; x++) {
            int sx, sy;
            source_of(orientation, width, height, x, y, &sx, &sy);
            assert_memory_equal(pixel_at(&upright, x, y), pixel_at(&stored, sx, sy), 3);
        }
    }
    fq_image_free(&upright);
    fq_image_free(&stored);
    free(plain.data);
    free(tagged.data);
    free(pixels);
}

static void test_exif_orientation_2_mirrors_left_to_right(void **state)
{
    (void)state;
    check_orientation(2, false, 28, 4);
}

static void test_exif_orientation_3_turns_by_180_degrees(void **state)
{
    (void)state;
    check_orientation(3, false, 28, 12);
}

static void test_exif_orientation_6_turns_clockwise_and_swaps_sides(void **state)
{
    (void)state;
    check_orientation(6, false, 12, 4);
}

static void test_exif_orientation_8_turns_counter_clockwise_and_swaps_sides(void **state)
{
    (void)state;
    check_orientation(8, false, 4, 28);
}

static void test_exif_orientations_4_5_7_flip_transpose_and_transverse(void **state)
{
    (void)state;
    check_orientation(4, false, 4, 12);
    check_orientation(5, false, 4, 4);
    check_orientation(7, false, 12, 28);
}

static void test_big_endian_exif_orientation_is_read(void **state)
{
    (void)state;
    check_orientation(6, true, 12, 4);
}

static void check_exif_block_ignored(const uint8_t *tiff, size_t tiff_size)
{
    uint8_t app1[64];
    memcpy(app1, "Exif\0\0", 6);
    memcpy(app1 + 6, tiff, tiff_size);
    uint8_t *pixels = corner_marker_pixels(32, 16);
    encoded jpeg = encode_jpeg(pixels, 32, 16,
                               (jpeg_options){.quality = 95, .full_chroma = true, .app1 = app1,
                                              .app1_size = 6 + tiff_size});
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&jpeg, &rgb, &err), FQ_OK);

    assert_int_equal(rgb.width, 32);
    assert_true(is_red(&rgb, 4, 4));
    fq_image_free(&rgb);
    free(jpeg.data);
    free(pixels);
}

static void test_exif_with_ifd_offset_past_the_end_is_ignored(void **state)
{
    (void)state;
    uint8_t tiff[EXIF_TIFF_SIZE];
    exif_tiff_block(tiff, 6, false);
    put_u32(tiff + 4, 0xFFFFFFF0u, false);
    check_exif_block_ignored(tiff, sizeof(tiff));
}

static void test_exif_with_entries_past_the_end_is_ignored(void **state)
{
    (void)state;
    uint8_t tiff[EXIF_TIFF_SIZE];
    exif_tiff_block(tiff, 6, false);
    put_u16(tiff + 8, 0xFFFF, false);
    put_u16(tiff + 22, 0x0110, false); /* the orientation entry no longer matches */
    check_exif_block_ignored(tiff, sizeof(tiff));
}

static void test_exif_orientation_out_of_range_is_ignored(void **state)
{
    (void)state;
    uint8_t tiff[EXIF_TIFF_SIZE];
    exif_tiff_block(tiff, 9, false);
    check_exif_block_ignored(tiff, sizeof(tiff));
}

static void test_exif_cut_inside_its_header_is_ignored(void **state)
{
    (void)state;
    uint8_t tiff[EXIF_TIFF_SIZE];
    exif_tiff_block(tiff, 6, false);
    check_exif_block_ignored(tiff, 6);
}

static void check_truncated_jpeg_refused(bool progressive)
{
    uint8_t *pixels = gradient_pixels(64, 48);
    encoded jpeg = encode_jpeg(pixels, 64, 48,
                               (jpeg_options){.quality = 90, .progressive = progressive});
    encoded truncated = {jpeg.data, jpeg.size * 2 / 3};
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&truncated, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "JPEG"));
    assert_null(rgb.data);
    free(jpeg.data);
    free(pixels);
}

static void test_truncated_baseline_jpeg_is_a_parse_error(void **state)
{
    (void)state;
    check_truncated_jpeg_refused(false);
}

static void test_truncated_progressive_jpeg_is_a_parse_error(void **state)
{
    (void)state;
    check_truncated_jpeg_refused(true);
}

static void test_jpeg_cut_inside_its_header_is_a_parse_error(void **state)
{
    (void)state;
    uint8_t *pixels = gradient_pixels(16, 16);
    encoded jpeg = encode_jpeg(pixels, 16, 16, (jpeg_options){.quality = 90});
    encoded truncated = {jpeg.data, 40};
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&truncated, &rgb, &err), FQ_ERR_PARSE);

    free(jpeg.data);
    free(pixels);
}

static encoded encode_cmyk_jpeg(int width, int height)
{
    struct jpeg_compress_struct info;
    struct jpeg_error_mgr errors;
    unsigned char *out = NULL;
    unsigned long out_size = 0;
    uint8_t row_pixels[16 * 4];
    memset(row_pixels, 0x40, sizeof(row_pixels));

    info.err = jpeg_std_error(&errors);
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, &out, &out_size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 4;
    info.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&info);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = row_pixels;
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    return (encoded){out, out_size};
}

static void test_cmyk_jpeg_is_refused_as_unsupported(void **state)
{
    (void)state;
    encoded jpeg = encode_cmyk_jpeg(16, 8);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&jpeg, &rgb, &err), FQ_ERR_UNSUPPORTED);

    assert_non_null(strstr(err.message, "CMYK"));
    free(jpeg.data);
}

/* Rewrites the frame size in a JPEG's SOF0 segment. */
static void patch_jpeg_size(encoded *jpeg, unsigned width, unsigned height)
{
    for (size_t i = 2; i + 9 < jpeg->size; i++) {
        if (jpeg->data[i] == 0xFF && jpeg->data[i + 1] == 0xC0) {
            put_u16(jpeg->data + i + 5, height, true);
            put_u16(jpeg->data + i + 7, width, true);
            return;
        }
    }
    fail_msg("no SOF0 marker");
}

static void test_jpeg_declaring_a_huge_frame_is_refused_before_decoding(void **state)
{
    (void)state;
    uint8_t *pixels = gradient_pixels(16, 16);
    encoded jpeg = encode_jpeg(pixels, 16, 16, (jpeg_options){.quality = 90});
    patch_jpeg_size(&jpeg, 60000, 60000);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&jpeg, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "60000x60000"));
    assert_non_null(strstr(err.message, "size limit"));
    free(jpeg.data);
    free(pixels);
}

static void test_jpeg_over_the_pixel_limit_is_refused(void **state)
{
    (void)state;
    uint8_t *pixels = gradient_pixels(64, 48);
    encoded jpeg = encode_jpeg(pixels, 64, 48, (jpeg_options){.quality = 90});
    fq_decode_limits limits = fq_decode_default_limits();
    limits.max_pixels = 64 * 48 - 1;
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(jpeg.data, jpeg.size, &limits, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "size limit of 3071 pixels"));
    free(jpeg.data);
    free(pixels);
}

static void test_data_over_the_byte_limit_is_refused(void **state)
{
    (void)state;
    uint8_t *pixels = gradient_pixels(64, 48);
    encoded jpeg = encode_jpeg(pixels, 64, 48, (jpeg_options){.quality = 90});
    fq_decode_limits limits = fq_decode_default_limits();
    limits.max_file_bytes = jpeg.size - 1;
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(jpeg.data, jpeg.size, &limits, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "exceeds the limit"));
    free(jpeg.data);
    free(pixels);
}

static void test_limits_out_of_range_are_an_invalid_argument(void **state)
{
    (void)state;
    static const uint8_t bytes[4] = {0xFF, 0xD8, 0xFF, 0xE0};
    fq_decode_limits limits = fq_decode_default_limits();
    limits.max_side = FQ_IMAGE_MAX_SIDE + 1;
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(bytes, sizeof(bytes), &limits, &rgb, &err),
                     FQ_ERR_INVALID_ARG);
}

/* ---- PNG --------------------------------------------------------------------------------- */

static void test_rgb_png_decodes_exactly(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(37, 23, 1);
    encoded png = encode_rgb_png(pixels, 37, 23);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&png, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, pixels, 37, 23);
    fq_image_free(&rgb);
    free(png.data);
    free(pixels);
}

static void test_gray_png_is_expanded_to_rgb(void **state)
{
    (void)state;
    uint8_t gray[5 * 3];
    uint8_t expected[5 * 3 * 3];
    for (int i = 0; i < 15; i++) {
        gray[i] = (uint8_t)(i * 17);
        memset(expected + i * 3, gray[i], 3);
    }
    png_options options = {.color_type = SPNG_COLOR_TYPE_GRAYSCALE, .bit_depth = 8};
    encoded png = encode_png(gray, sizeof(gray), 5, 3, options);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&png, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, expected, 5, 3);
    fq_image_free(&rgb);
    free(png.data);
}

static void test_rgba_png_drops_alpha_without_compositing(void **state)
{
    (void)state;
    uint8_t rgba[4 * 2 * 4];
    uint8_t expected[4 * 2 * 3];
    for (int i = 0; i < 8; i++) {
        rgba[i * 4 + 0] = expected[i * 3 + 0] = (uint8_t)(200 + i);
        rgba[i * 4 + 1] = expected[i * 3 + 1] = (uint8_t)(10 * i);
        rgba[i * 4 + 2] = expected[i * 3 + 2] = (uint8_t)(255 - 7 * i);
        rgba[i * 4 + 3] = (uint8_t)(i * 30);
    }
    png_options options = {.color_type = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, .bit_depth = 8};
    encoded png = encode_png(rgba, sizeof(rgba), 4, 2, options);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&png, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, expected, 4, 2);
    fq_image_free(&rgb);
    free(png.data);
}

static void test_16_bit_png_keeps_the_high_byte(void **state)
{
    (void)state;
    uint16_t samples[3 * 3]; /* 16-bit RGB, host order as libspng's encoder takes it */
    uint8_t expected[3 * 3];
    for (int i = 0; i < 9; i++) {
        expected[i] = (uint8_t)(i * 29);
        samples[i] = (uint16_t)(expected[i] << 8 | (0xFF - i));
    }
    png_options options = {.color_type = SPNG_COLOR_TYPE_TRUECOLOR, .bit_depth = 16};
    encoded png = encode_png(samples, sizeof(samples), 3, 1, options);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&png, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, expected, 3, 1);
    fq_image_free(&rgb);
    free(png.data);
}

static void test_palette_png_is_expanded_to_rgb(void **state)
{
    (void)state;
    struct spng_plte palette = {.n_entries = 3};
    palette.entries[0] = (struct spng_plte_entry){255, 0, 0, 0};
    palette.entries[1] = (struct spng_plte_entry){0, 128, 0, 0};
    palette.entries[2] = (struct spng_plte_entry){10, 20, 30, 0};
    uint8_t indices[4] = {2, 0, 1, 2};
    uint8_t expected[4 * 3] = {10, 20, 30, 255, 0, 0, 0, 128, 0, 10, 20, 30};
    png_options options = {.color_type = SPNG_COLOR_TYPE_INDEXED, .bit_depth = 8,
                           .palette = &palette};
    encoded png = encode_png(indices, sizeof(indices), 2, 2, options);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&png, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, expected, 2, 2);
    fq_image_free(&rgb);
    free(png.data);
}

static void test_png_exif_orientation_is_applied(void **state)
{
    (void)state;
    uint8_t *pixels = corner_marker_pixels(32, 16);
    uint8_t tiff[EXIF_TIFF_SIZE];
    size_t tiff_size = exif_tiff_block(tiff, 6, false);
    png_options options = {.color_type = SPNG_COLOR_TYPE_TRUECOLOR, .bit_depth = 8,
                           .exif = tiff, .exif_size = tiff_size};
    encoded png = encode_png(pixels, 32 * 16 * 3, 32, 16, options);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&png, &rgb, &err), FQ_OK);

    assert_int_equal(rgb.width, 16);
    assert_int_equal(rgb.height, 32);
    assert_true(is_red(&rgb, 12, 4));
    assert_false(is_red(&rgb, 4, 4));
    fq_image_free(&rgb);
    free(png.data);
    free(pixels);
}

/* Records the largest single allocation made through fq_malloc and friends. */
static size_t largest_allocation;

static void *counting_alloc(void *user, size_t size)
{
    (void)user;
    largest_allocation = size > largest_allocation ? size : largest_allocation;
    return malloc(size);
}

static void *counting_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    largest_allocation = size > largest_allocation ? size : largest_allocation;
    return realloc(ptr, size);
}

static void counting_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void test_png_bomb_is_refused_without_a_large_allocation(void **state)
{
    (void)state;
    uint8_t bomb[128];
    size_t size = png_bomb(bomb, 60000);
    fq_allocator counting = {counting_alloc, counting_realloc, counting_free, NULL};
    largest_allocation = 0;
    fq_set_allocator(&counting);
    fq_image rgb;
    fq_error err;

    fq_status status = fq_image_decode(bomb, size, NULL, &rgb, &err);
    fq_set_allocator(NULL);

    assert_int_equal(status, FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "60000x60000"));
    assert_non_null(strstr(err.message, "size limit"));
    assert_true(largest_allocation < ((size_t)1 << 20));
}

static void test_png_bomb_within_the_side_limit_is_refused_by_the_pixel_limit(void **state)
{
    (void)state;
    uint8_t bomb[128];
    size_t size = png_bomb(bomb, 10000);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(bomb, size, NULL, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "size limit of 40000000 pixels"));
}

static void test_truncated_png_is_a_parse_error(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(40, 40, 2);
    encoded png = encode_rgb_png(pixels, 40, 40);
    encoded truncated = {png.data, png.size / 2};
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&truncated, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "PNG"));
    free(png.data);
    free(pixels);
}

static void test_png_with_a_bad_crc_is_a_parse_error(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(8, 8, 3);
    encoded png = encode_rgb_png(pixels, 8, 8);
    png.data[8 + 8 + 4] ^= 0x01; /* a byte of the IHDR width */
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&png, &rgb, &err), FQ_ERR_PARSE);

    free(png.data);
    free(pixels);
}

/* ---- WebP -------------------------------------------------------------------------------- */

static void test_lossless_webp_decodes_exactly(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(29, 17, 4);
    encoded webp = encode_lossless_webp(pixels, 29, 17);
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&webp, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, pixels, 29, 17);
    fq_image_free(&rgb);
    free(webp.data);
    free(pixels);
}

static void test_lossy_webp_decodes_to_nearly_the_encoded_pixels(void **state)
{
    (void)state;
    uint8_t *pixels = gradient_pixels(64, 48);
    uint8_t *out = NULL;
    size_t size = WebPEncodeRGB(pixels, 64, 48, 64 * 3, 95.0f, &out);
    assert_true(size > 0);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(out, size, NULL, &rgb, &err), FQ_OK);

    assert_int_equal(rgb.width, 64);
    assert_true(mean_abs_difference(&rgb, pixels) < 3.0);
    fq_image_free(&rgb);
    WebPFree(out);
    free(pixels);
}

static void test_truncated_webp_is_a_parse_error(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(40, 40, 5);
    encoded webp = encode_lossless_webp(pixels, 40, 40);
    encoded truncated = {webp.data, webp.size / 2};
    fq_image rgb;
    fq_error err;

    assert_int_equal(decode(&truncated, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "WebP"));
    free(webp.data);
    free(pixels);
}

static void test_webp_named_jpg_is_decoded_by_its_bytes(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(21, 13, 6);
    encoded webp = encode_lossless_webp(pixels, 21, 13);
    const char *path = fq_test_tmp_path("actually_webp.jpg");
    write_file(path, webp.data, webp.size);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_load_file(path, NULL, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, pixels, 21, 13);
    fq_image_free(&rgb);
    free(webp.data);
    free(pixels);
}

/* ---- other formats ----------------------------------------------------------------------- */

static void test_gif_is_refused_by_name(void **state)
{
    (void)state;
    static const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0};
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(gif, sizeof(gif), NULL, &rgb, &err), FQ_ERR_UNSUPPORTED);

    assert_non_null(strstr(err.message, "GIF image"));
}

static void test_unknown_bytes_are_refused_naming_the_first_bytes(void **state)
{
    (void)state;
    uint8_t bytes[64];
    fq_test_seed(7);
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (uint8_t)fq_test_rand_int(0, 255);
    bytes[0] = 0x13;
    bytes[1] = 0x37;
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(bytes, sizeof(bytes), NULL, &rgb, &err),
                     FQ_ERR_UNSUPPORTED);

    assert_non_null(strstr(err.message, "unknown format starting with bytes 13 37"));
}

static void test_riff_that_is_not_webp_is_refused(void **state)
{
    (void)state;
    static const uint8_t wav[16] = {'R', 'I', 'F', 'F', 8, 0, 0, 0, 'W', 'A', 'V', 'E'};
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(wav, sizeof(wav), NULL, &rgb, &err), FQ_ERR_UNSUPPORTED);

    assert_non_null(strstr(err.message, "not WebP"));
}

static void test_empty_data_is_a_parse_error(void **state)
{
    (void)state;
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode("", 0, NULL, &rgb, &err), FQ_ERR_PARSE);
}

static void test_ppm_decodes_through_the_front_door(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(3, 2, 8);
    uint8_t ppm[64];
    int header = snprintf((char *)ppm, sizeof(ppm), "P6\n3 2\n255\n");
    memcpy(ppm + header, pixels, 18);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(ppm, (size_t)header + 18, NULL, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, pixels, 3, 2);
    fq_image_free(&rgb);
    free(pixels);
}

static void test_pgm_decodes_through_the_front_door_as_rgb(void **state)
{
    (void)state;
    static const uint8_t pgm[] = {'P', '5', '\n', '2', ' ', '1', '\n', '2', '5', '5', '\n',
                                  7, 200};
    static const uint8_t expected[6] = {7, 7, 7, 200, 200, 200};
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(pgm, sizeof(pgm), NULL, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, expected, 2, 1);
    fq_image_free(&rgb);
}

static void test_ppm_over_the_side_limit_is_refused(void **state)
{
    (void)state;
    uint8_t ppm[64] = {0};
    int header = snprintf((char *)ppm, sizeof(ppm), "P6\n4 2\n255\n");
    fq_decode_limits limits = fq_decode_default_limits();
    limits.max_side = 3;
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(ppm, (size_t)header + 24, &limits, &rgb, &err),
                     FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "size limit"));
    assert_null(rgb.data);
}

/* ---- files ------------------------------------------------------------------------------- */

static void test_missing_file_is_an_io_error_naming_the_path(void **state)
{
    (void)state;
    const char *path = fq_test_tmp_path("no_such_image.png");
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_load_file(path, NULL, &rgb, &err), FQ_ERR_IO);

    assert_int_equal(strncmp(err.message, path, strlen(path)), 0);
}

static void test_decode_error_in_a_file_starts_with_the_path(void **state)
{
    (void)state;
    uint8_t *pixels = gradient_pixels(64, 48);
    encoded jpeg = encode_jpeg(pixels, 64, 48, (jpeg_options){.quality = 90});
    const char *path = fq_test_tmp_path("truncated.jpg");
    write_file(path, jpeg.data, jpeg.size / 2);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_load_file(path, NULL, &rgb, &err), FQ_ERR_PARSE);

    assert_int_equal(strncmp(err.message, path, strlen(path)), 0);
    assert_non_null(strstr(err.message, "JPEG"));
    free(jpeg.data);
    free(pixels);
}

static void test_file_over_the_byte_limit_is_refused_before_reading(void **state)
{
    (void)state;
    uint8_t *pixels = noise_pixels(16, 16, 9);
    encoded png = encode_rgb_png(pixels, 16, 16);
    const char *path = fq_test_tmp_path("big.png");
    write_file(path, png.data, png.size);
    fq_decode_limits limits = fq_decode_default_limits();
    limits.max_file_bytes = 100;
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_load_file(path, &limits, &rgb, &err), FQ_ERR_PARSE);

    assert_non_null(strstr(err.message, "exceeds the limit of 100 bytes"));
    free(png.data);
    free(pixels);
}

static int count_directory_entries(const char *path)
{
    DIR *dir = opendir(path);
    assert_non_null(dir);
    int count = 0;
    for (struct dirent *entry = readdir(dir); entry != NULL; entry = readdir(dir))
        count += entry->d_name[0] != '.';
    closedir(dir);
    return count;
}

static void test_written_png_reads_back_exactly_and_leaves_no_temporary(void **state)
{
    (void)state;
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/written", fq_test_tmp_dir());
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[400];
    snprintf(path, sizeof(path), "%s/out.png", dir);
    uint8_t *pixels = noise_pixels(19, 11, 10);
    fq_image image = fq_image_view(pixels, 19, 11, FQ_PIXEL_RGB, 19 * 3);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_write_png(path, &image, &err), FQ_OK);
    assert_int_equal(fq_image_load_file(path, NULL, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, pixels, 19, 11);
    assert_int_equal(count_directory_entries(dir), 1);
    fq_image_free(&rgb);
    free(pixels);
}

static void test_png_written_from_a_padded_view_skips_the_padding(void **state)
{
    (void)state;
    const size_t stride = 5 * 3 + 7;
    uint8_t *padded = noise_pixels(22, 4, 11);
    uint8_t tight[5 * 4 * 3];
    for (int y = 0; y < 4; y++)
        memcpy(tight + y * 15, padded + y * stride, 15);
    fq_image view = fq_image_view(padded, 5, 4, FQ_PIXEL_RGB, stride);
    const char *path = fq_test_tmp_path("padded.png");
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_write_png(path, &view, &err), FQ_OK);
    assert_int_equal(fq_image_load_file(path, NULL, &rgb, &err), FQ_OK);

    assert_rgb_equals(&rgb, tight, 5, 4);
    fq_image_free(&rgb);
    free(padded);
}

static void test_writing_png_into_a_missing_folder_is_an_io_error(void **state)
{
    (void)state;
    uint8_t pixels[3] = {1, 2, 3};
    fq_image image = fq_image_view(pixels, 1, 1, FQ_PIXEL_RGB, 3);
    const char *path = fq_test_tmp_path("missing/out.png");
    fq_error err;

    assert_int_equal(fq_image_write_png(path, &image, &err), FQ_ERR_IO);

    assert_int_equal(strncmp(err.message, path, strlen(path)), 0);
}

static void test_writing_a_gray_image_as_png_is_an_invalid_argument(void **state)
{
    (void)state;
    uint8_t pixels[4] = {0};
    fq_image image = fq_image_view(pixels, 2, 2, FQ_PIXEL_GRAY, 2);
    fq_error err;

    assert_int_equal(fq_image_write_png(fq_test_tmp_path("gray.png"), &image, &err),
                     FQ_ERR_INVALID_ARG);
}

/* ---- the photos in ../shared/images ------------------------------------------------------ */

static void test_every_shared_photo_decodes_at_its_manifest_size(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char images[512];
    snprintf(images, sizeof(images), "%s/images", shared);
    FILE *manifest = fopen(fq_test_path(images, "MANIFEST.tsv"), "r");
    assert_non_null(manifest);

    char line[4096];
    int decoded = 0;
    assert_non_null(fgets(line, sizeof(line), manifest)); /* header */
    while (fgets(line, sizeof(line), manifest) != NULL) {
        char name[1024], format[32];
        int width, height;
        if (sscanf(line, "%1023[^\t]\t%*[^\t]\t%*[^\t]\t%d\t%d\t%31[^\t]", name, &width,
                   &height, format) != 4 ||
            (strcmp(format, "JPEG") != 0 && strcmp(format, "PNG") != 0))
            continue;
        char path[1600];
        snprintf(path, sizeof(path), "%s/%s", images, name);
        fq_image rgb;
        fq_error err;

        fq_status status = fq_image_load_file(path, NULL, &rgb, &err);
        if (status != FQ_OK)
            fail_msg("%s", err.message);
        assert_int_equal(rgb.width, width);
        assert_int_equal(rgb.height, height);
        fq_image_free(&rgb);
        decoded++;
    }
    fclose(manifest);
    assert_true(decoded >= 40);
}

/* The frame marker (SOF0 baseline, SOF2 progressive) and whether every component has sampling
 * factors 1x1 (4:4:4). */
static void jpeg_frame_of(const uint8_t *data, size_t size, int *marker, bool *full_chroma)
{
    size_t i = 2;
    while (i + 4 <= size && data[i] == 0xFF) {
        int type = data[i + 1];
        size_t length = (size_t)data[i + 2] << 8 | data[i + 3];
        if (type == 0xC0 || type == 0xC2) {
            *marker = type;
            *full_chroma = true;
            for (int c = 0; c < data[i + 9]; c++)
                *full_chroma = *full_chroma && data[i + 11 + 3 * c] == 0x11;
            return;
        }
        i += 2 + length;
    }
    fail_msg("no SOF0/SOF2 marker");
}

static double channel_spread(const fq_image *rgb)
{
    double sum = 0, squares = 0;
    size_t count = 0;
    for (int y = 0; y < rgb->height; y += 7) {
        for (int x = 0; x < rgb->width; x += 7) {
            double v = pixel_at(rgb, x, y)[1];
            sum += v;
            squares += v * v;
            count++;
        }
    }
    double mean = sum / (double)count;
    return squares / (double)count - mean * mean;
}

static void check_shared_jpeg(const char *name, int marker, bool full_chroma, int width,
                              int height)
{
    const char *shared = fq_test_require_shared();
    char path[512];
    snprintf(path, sizeof(path), "%s/images/%s", shared, name);
    size_t size;
    uint8_t *data = fq_test_read_file(path, &size);
    assert_non_null(data);
    int found_marker = 0;
    bool found_full_chroma = false;
    jpeg_frame_of(data, size, &found_marker, &found_full_chroma);
    assert_int_equal(found_marker, marker);
    assert_int_equal(found_full_chroma, full_chroma);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_decode(data, size, NULL, &rgb, &err), FQ_OK);

    assert_int_equal(rgb.width, width);
    assert_int_equal(rgb.height, height);
    assert_true(channel_spread(&rgb) > 100.0); /* a photo, not a flat grey fill */
    fq_image_free(&rgb);
    free(data);
}

static void test_shared_progressive_444_jpeg_decodes(void **state)
{
    (void)state;
    check_shared_jpeg("face_recognition/test/obama_and_biden.jpg", 0xC2, true, 2000, 1428);
}

static void test_shared_progressive_420_jpeg_decodes(void **state)
{
    (void)state;
    check_shared_jpeg("face_recognition/test/obama1.jpg", 0xC2, false, 1480, 832);
}

static void test_shared_baseline_444_jpeg_decodes(void **state)
{
    (void)state;
    check_shared_jpeg("face_recognition/extra/obama3.jpg", 0xC0, true, 1434, 2333);
}

static float *read_golden_input(const char *shared, const char *name, fq_npy *npy)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/golden/inputs/%s", shared, name);
    fq_error err;
    if (fq_npy_read_file(path, npy, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return npy->data;
}

/* The golden input was made by Pillow: (pixel - 127.5) / 128 in planar RGB. */
static int golden_pixel(const float *tensor, int size, int channel, int x, int y)
{
    float value = tensor[((size_t)channel * size + y) * size + x];
    return (int)lrintf(value * 128.0f + 127.5f);
}

static void test_png_photo_matches_the_pixels_pillow_decoded(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_npy npy;
    const float *golden = read_golden_input(shared, "arcface_hanks_112.npy", &npy);
    char path[512];
    snprintf(path, sizeof(path), "%s/images/insightface/Tom_Hanks_54745.png", shared);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_load_file(path, NULL, &rgb, &err), FQ_OK);

    assert_int_equal(rgb.width, 112);
    for (int y = 0; y < 112; y++) {
        for (int x = 0; x < 112; x++) {
            for (int c = 0; c < 3; c++)
                assert_int_equal(pixel_at(&rgb, x, y)[c], golden_pixel(golden, 112, c, x, y));
        }
    }
    fq_image_free(&rgb);
    fq_npy_free(&npy);
}

/* Pillow's bilinear halving inside the image: weights 1/8, 3/8, 3/8, 1/8 over source samples
 * 2i-1 .. 2i+2, rounded to 8 bits after each direction (horizontal first). */
static int halve_taps(int a, int b, int c, int d)
{
    return (a + 3 * b + 3 * c + d + 4) >> 3;
}

static int pillow_half_at(const fq_image *rgb, int channel, int x, int y)
{
    int rows[4];
    for (int k = 0; k < 4; k++) {
        int sy = 2 * y - 1 + k;
        rows[k] = halve_taps(pixel_at(rgb, 2 * x - 1, sy)[channel],
                             pixel_at(rgb, 2 * x, sy)[channel],
                             pixel_at(rgb, 2 * x + 1, sy)[channel],
                             pixel_at(rgb, 2 * x + 2, sy)[channel]);
    }
    return halve_taps(rows[0], rows[1], rows[2], rows[3]);
}

/* t1.jpg (1280x886, 4:2:0) was letterboxed to 640x443 for the golden SCRFD input, an exact
 * halving, so away from the border every input value follows from the decoded pixels alone:
 * they must be the ones Pillow's libjpeg-turbo decoded. */
static void test_jpeg_photo_matches_the_pixels_pillow_decoded(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    fq_npy npy;
    const float *golden = read_golden_input(shared, "scrfd_t1_640.npy", &npy);
    char path[512];
    snprintf(path, sizeof(path), "%s/images/insightface/t1.jpg", shared);
    fq_image rgb;
    fq_error err;

    assert_int_equal(fq_image_load_file(path, NULL, &rgb, &err), FQ_OK);

    assert_int_equal(rgb.width, 1280);
    assert_int_equal(rgb.height, 886);
    long mismatches = 0;
    for (int y = 1; y < 442; y++) {
        for (int x = 1; x < 639; x++) {
            for (int c = 0; c < 3; c++)
                mismatches += pillow_half_at(&rgb, c, x, y) != golden_pixel(golden, 640, c, x, y);
        }
    }
    assert_int_equal(mismatches, 0);
    fq_image_free(&rgb);
    fq_npy_free(&npy);
}

/* ---- drawing ----------------------------------------------------------------------------- */

static bool is_color(const fq_image *image, int x, int y, uint8_t r, uint8_t g, uint8_t b)
{
    const uint8_t *p = pixel_at(image, x, y);
    return p[0] == r && p[1] == g && p[2] == b;
}

static void test_box_outline_is_drawn_inside_the_box_and_the_interior_kept(void **state)
{
    (void)state;
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, 20, 20, FQ_PIXEL_RGB, NULL), FQ_OK);
    const float box[4] = {2.0f, 3.0f, 12.0f, 15.0f};

    fq_draw_box(&image, box, 0, 255, 0, 2);

    assert_true(is_color(&image, 2, 3, 0, 255, 0));
    assert_true(is_color(&image, 11, 14, 0, 255, 0));
    assert_true(is_color(&image, 3, 9, 0, 255, 0));
    assert_true(is_color(&image, 10, 9, 0, 255, 0));
    assert_true(is_color(&image, 4, 5, 0, 0, 0));
    assert_true(is_color(&image, 9, 12, 0, 0, 0));
    assert_true(is_color(&image, 1, 3, 0, 0, 0));
    assert_true(is_color(&image, 12, 9, 0, 0, 0));
    assert_true(is_color(&image, 6, 15, 0, 0, 0));
    fq_image_free(&image);
}

static void test_box_reaching_past_the_image_is_clipped(void **state)
{
    (void)state;
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, 10, 8, FQ_PIXEL_RGB, NULL), FQ_OK);
    const float box[4] = {-5.0f, 4.0f, 1e30f, 3e9f};

    fq_draw_box(&image, box, 255, 0, 0, 1);

    assert_true(is_color(&image, 0, 4, 255, 0, 0));
    assert_true(is_color(&image, 9, 4, 255, 0, 0));
    assert_true(is_color(&image, 5, 5, 0, 0, 0));
    assert_true(is_color(&image, 5, 7, 0, 0, 0));
    fq_image_free(&image);
}

static void test_box_with_nan_draws_nothing(void **state)
{
    (void)state;
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, 6, 6, FQ_PIXEL_RGB, NULL), FQ_OK);
    const float box[4] = {1.0f, 1.0f, NAN, 5.0f};

    fq_draw_box(&image, box, 255, 255, 255, 1);

    for (int y = 0; y < 6; y++) {
        for (int x = 0; x < 6; x++)
            assert_true(is_color(&image, x, y, 0, 0, 0));
    }
    fq_image_free(&image);
}

static void test_point_fills_a_disc_of_its_radius(void **state)
{
    (void)state;
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, 11, 11, FQ_PIXEL_RGB, NULL), FQ_OK);

    fq_draw_point(&image, 5.2f, 4.8f, 2, 0, 0, 255);

    assert_true(is_color(&image, 5, 5, 0, 0, 255));
    assert_true(is_color(&image, 7, 5, 0, 0, 255));
    assert_true(is_color(&image, 6, 6, 0, 0, 255));
    assert_true(is_color(&image, 7, 7, 0, 0, 0));
    assert_true(is_color(&image, 8, 5, 0, 0, 0));
    fq_image_free(&image);
}

static void test_point_near_a_corner_is_clipped(void **state)
{
    (void)state;
    fq_image image;
    assert_int_equal(fq_image_alloc(&image, 4, 4, FQ_PIXEL_RGB, NULL), FQ_OK);

    fq_draw_point(&image, -1.0f, -1.0f, 2, 9, 9, 9);

    assert_true(is_color(&image, 0, 0, 9, 9, 9));
    assert_true(is_color(&image, 1, 1, 0, 0, 0));
    fq_image_free(&image);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_jpeg_decodes_to_nearly_the_encoded_pixels),
        cmocka_unit_test(test_progressive_jpeg_decodes_to_nearly_the_encoded_pixels),
        cmocka_unit_test(test_full_chroma_jpeg_decodes_to_nearly_the_encoded_pixels),
        cmocka_unit_test(test_exif_orientation_2_mirrors_left_to_right),
        cmocka_unit_test(test_exif_orientation_3_turns_by_180_degrees),
        cmocka_unit_test(test_exif_orientation_6_turns_clockwise_and_swaps_sides),
        cmocka_unit_test(test_exif_orientation_8_turns_counter_clockwise_and_swaps_sides),
        cmocka_unit_test(test_exif_orientations_4_5_7_flip_transpose_and_transverse),
        cmocka_unit_test(test_big_endian_exif_orientation_is_read),
        cmocka_unit_test(test_exif_with_ifd_offset_past_the_end_is_ignored),
        cmocka_unit_test(test_exif_with_entries_past_the_end_is_ignored),
        cmocka_unit_test(test_exif_orientation_out_of_range_is_ignored),
        cmocka_unit_test(test_exif_cut_inside_its_header_is_ignored),
        cmocka_unit_test(test_truncated_baseline_jpeg_is_a_parse_error),
        cmocka_unit_test(test_truncated_progressive_jpeg_is_a_parse_error),
        cmocka_unit_test(test_jpeg_cut_inside_its_header_is_a_parse_error),
        cmocka_unit_test(test_cmyk_jpeg_is_refused_as_unsupported),
        cmocka_unit_test(test_jpeg_declaring_a_huge_frame_is_refused_before_decoding),
        cmocka_unit_test(test_jpeg_over_the_pixel_limit_is_refused),
        cmocka_unit_test(test_data_over_the_byte_limit_is_refused),
        cmocka_unit_test(test_limits_out_of_range_are_an_invalid_argument),
        cmocka_unit_test(test_rgb_png_decodes_exactly),
        cmocka_unit_test(test_gray_png_is_expanded_to_rgb),
        cmocka_unit_test(test_rgba_png_drops_alpha_without_compositing),
        cmocka_unit_test(test_16_bit_png_keeps_the_high_byte),
        cmocka_unit_test(test_palette_png_is_expanded_to_rgb),
        cmocka_unit_test(test_png_exif_orientation_is_applied),
        cmocka_unit_test(test_png_bomb_is_refused_without_a_large_allocation),
        cmocka_unit_test(test_png_bomb_within_the_side_limit_is_refused_by_the_pixel_limit),
        cmocka_unit_test(test_truncated_png_is_a_parse_error),
        cmocka_unit_test(test_png_with_a_bad_crc_is_a_parse_error),
        cmocka_unit_test(test_lossless_webp_decodes_exactly),
        cmocka_unit_test(test_lossy_webp_decodes_to_nearly_the_encoded_pixels),
        cmocka_unit_test(test_truncated_webp_is_a_parse_error),
        cmocka_unit_test(test_webp_named_jpg_is_decoded_by_its_bytes),
        cmocka_unit_test(test_gif_is_refused_by_name),
        cmocka_unit_test(test_unknown_bytes_are_refused_naming_the_first_bytes),
        cmocka_unit_test(test_riff_that_is_not_webp_is_refused),
        cmocka_unit_test(test_empty_data_is_a_parse_error),
        cmocka_unit_test(test_ppm_decodes_through_the_front_door),
        cmocka_unit_test(test_pgm_decodes_through_the_front_door_as_rgb),
        cmocka_unit_test(test_ppm_over_the_side_limit_is_refused),
        cmocka_unit_test(test_missing_file_is_an_io_error_naming_the_path),
        cmocka_unit_test(test_decode_error_in_a_file_starts_with_the_path),
        cmocka_unit_test(test_file_over_the_byte_limit_is_refused_before_reading),
        cmocka_unit_test(test_written_png_reads_back_exactly_and_leaves_no_temporary),
        cmocka_unit_test(test_png_written_from_a_padded_view_skips_the_padding),
        cmocka_unit_test(test_writing_png_into_a_missing_folder_is_an_io_error),
        cmocka_unit_test(test_writing_a_gray_image_as_png_is_an_invalid_argument),
        cmocka_unit_test(test_every_shared_photo_decodes_at_its_manifest_size),
        cmocka_unit_test(test_shared_progressive_444_jpeg_decodes),
        cmocka_unit_test(test_shared_progressive_420_jpeg_decodes),
        cmocka_unit_test(test_shared_baseline_444_jpeg_decodes),
        cmocka_unit_test(test_png_photo_matches_the_pixels_pillow_decoded),
        cmocka_unit_test(test_jpeg_photo_matches_the_pixels_pillow_decoded),
        cmocka_unit_test(test_box_outline_is_drawn_inside_the_box_and_the_interior_kept),
        cmocka_unit_test(test_box_reaching_past_the_image_is_clipped),
        cmocka_unit_test(test_box_with_nan_draws_nothing),
        cmocka_unit_test(test_point_fills_a_disc_of_its_radius),
        cmocka_unit_test(test_point_near_a_corner_is_clipped),
    };
    return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
