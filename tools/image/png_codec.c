/* PNG decoding and encoding with libspng, its allocations going through fq_malloc.
 *
 * Decoding asks libspng for 8-bit RGB: gray and palette images are expanded, the alpha channel
 * (and tRNS transparency) is dropped without compositing, 16-bit samples keep their high byte.
 * An eXIf chunk's orientation is applied. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <spng.h>

#include "facequant/alloc.h"
#include "image/image_codecs.h"

/* Ancillary chunks (text, ICC profile, EXIF) libspng keeps in memory, at most. */
#define PNG_MAX_CACHED_CHUNK_BYTES ((size_t)16 << 20)
/* The PNG format's own bound on a chunk's length. */
#define PNG_MAX_CHUNK_LENGTH ((size_t)0x7fffffff)

static spng_ctx *new_spng_context(int flags)
{
    struct spng_alloc allocator = {fq_malloc, fq_realloc, fq_calloc, fq_free};
    return spng_ctx_new2(&allocator, flags);
}

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set_decoder_limits(spng_ctx *ctx, const fq_decode_limits *limits)
{
    size_t chunk_limit = limits->max_file_bytes < PNG_MAX_CHUNK_LENGTH ? limits->max_file_bytes
                                                                      : PNG_MAX_CHUNK_LENGTH;
    spng_set_image_limits(ctx, (uint32_t)limits->max_side, (uint32_t)limits->max_side);
    spng_set_chunk_limits(ctx, chunk_limit, PNG_MAX_CACHED_CHUNK_BYTES);
}

/* Reads IHDR and checks the declared size before anything image-sized is allocated. libspng
 * refuses a side over its image limit without saying the size, so the message takes the size
 * from the IHDR bytes (signature 8, chunk length and type 8, then width and height). */
static fq_status read_header(spng_ctx *ctx, const uint8_t *data, size_t size,
                             const fq_decode_limits *limits, struct spng_ihdr *ihdr,
                             fq_error *err)
{
    int ret = spng_get_ihdr(ctx, ihdr);
    if ((ret == SPNG_EUSER_WIDTH || ret == SPNG_EUSER_HEIGHT) && size >= 24)
        return fq_check_decode_size("PNG", read_be32(data + 16), read_be32(data + 20), limits,
                                    err);
    if (ret != SPNG_OK)
        return fq_error_set(err, FQ_ERR_PARSE, "PNG: %s", spng_strerror(ret));
    return fq_check_decode_size("PNG", ihdr->width, ihdr->height, limits, err);
}

static int png_exif_orientation(spng_ctx *ctx)
{
    struct spng_exif exif;
    if (spng_get_exif(ctx, &exif) != SPNG_OK)
        return 1;
    return fq_exif_orientation((const uint8_t *)exif.data, exif.length);
}

static fq_status decode_pixels(spng_ctx *ctx, const struct spng_ihdr *ihdr, fq_image *rgb,
                               fq_error *err)
{
    size_t length;
    int ret = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &length);
    if (ret != SPNG_OK)
        return fq_error_set(err, FQ_ERR_PARSE, "PNG: %s", spng_strerror(ret));

    fq_status status = fq_image_alloc(rgb, (int)ihdr->width, (int)ihdr->height, FQ_PIXEL_RGB,
                                      err);
    if (status != FQ_OK)
        return status;
    if (length != rgb->stride * (size_t)rgb->height)
        return fq_error_set(err, FQ_ERR_INTERNAL, "PNG: libspng wants %zu bytes for %ux%u RGB",
                            length, ihdr->width, ihdr->height);

    ret = spng_decode_image(ctx, rgb->data, length, SPNG_FMT_RGB8, 0);
    if (ret != SPNG_OK)
        return fq_error_set(err, FQ_ERR_PARSE, "PNG: %s", spng_strerror(ret));
    return FQ_OK;
}

fq_status fq_decode_png(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                        fq_image *rgb, fq_error *err)
{
    spng_ctx *ctx = new_spng_context(0);
    if (ctx == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "PNG: out of memory for the decoder");
    set_decoder_limits(ctx, limits);
    spng_set_png_buffer(ctx, data, size);

    struct spng_ihdr ihdr;
    fq_status status = read_header(ctx, data, size, limits, &ihdr, err);
    if (status == FQ_OK)
        status = decode_pixels(ctx, &ihdr, rgb, err);
    int orientation = status == FQ_OK ? png_exif_orientation(ctx) : 1;
    spng_ctx_free(ctx);

    if (status == FQ_OK)
        status = fq_image_apply_orientation(rgb, orientation, err);
    if (status != FQ_OK)
        fq_image_free(rgb);
    return status;
}

static fq_status encode_rows(spng_ctx *ctx, const fq_image *rgb, fq_error *err)
{
    struct spng_ihdr ihdr = {
        .width = (uint32_t)rgb->width,
        .height = (uint32_t)rgb->height,
        .bit_depth = 8,
        .color_type = SPNG_COLOR_TYPE_TRUECOLOR,
    };
    int ret = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    if (ret == SPNG_OK)
        ret = spng_set_ihdr(ctx, &ihdr);
    if (ret == SPNG_OK)
        ret = spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG,
                                SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);

    size_t row_bytes = (size_t)rgb->width * 3;
    for (int y = 0; y < rgb->height && ret == SPNG_OK; y++)
        ret = spng_encode_row(ctx, rgb->data + (size_t)y * rgb->stride, row_bytes);
    if (ret != SPNG_OK && ret != SPNG_EOI)
        return fq_error_set(err, FQ_ERR_INTERNAL, "PNG encoding: %s", spng_strerror(ret));
    return FQ_OK;
}

static fq_status write_whole_file(const char *path, const void *data, size_t size,
                                  fq_error *err)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot create %s", path);
    bool written = fwrite(data, 1, size, file) == size;
    bool closed = fclose(file) == 0;
    if (!written || !closed) {
        remove(path);
        return fq_error_set(err, FQ_ERR_IO, "cannot write %zu bytes to %s", size, path);
    }
    return FQ_OK;
}

/* Writes to PATH.tmp.<pid>, then renames it to path. */
static fq_status replace_file(const char *path, const void *data, size_t size, fq_error *err)
{
    size_t tmp_size = strlen(path) + 32;
    char *tmp_path = fq_malloc(tmp_size);
    if (tmp_path == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "out of memory for the name of %s", path);
    snprintf(tmp_path, tmp_size, "%s.tmp.%ld", path, (long)getpid());

    fq_status status = write_whole_file(tmp_path, data, size, err);
    if (status == FQ_OK && rename(tmp_path, path) != 0) {
        remove(tmp_path);
        status = fq_error_set(err, FQ_ERR_IO, "cannot rename %s to %s", tmp_path, path);
    }
    fq_free(tmp_path);
    return status;
}

fq_status fq_image_write_png(const char *path, const fq_image *rgb, fq_error *err)
{
    if (path == NULL || rgb == NULL || rgb->data == NULL || rgb->format != FQ_PIXEL_RGB ||
        rgb->width < 1 || rgb->height < 1 || rgb->stride < (size_t)rgb->width * 3)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "writing PNG %s: needs a path and a non-empty RGB image",
                            path != NULL ? path : "(null)");

    spng_ctx *ctx = new_spng_context(SPNG_CTX_ENCODER);
    if (ctx == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "%s: out of memory for the encoder", path);
    fq_status status = encode_rows(ctx, rgb, err);

    size_t size = 0;
    int ret = SPNG_OK;
    void *png = status == FQ_OK ? spng_get_png_buffer(ctx, &size, &ret) : NULL;
    spng_ctx_free(ctx);
    if (status == FQ_OK && png == NULL)
        status = fq_error_set(err, FQ_ERR_INTERNAL, "PNG encoding: %s", spng_strerror(ret));
    if (status == FQ_OK)
        status = replace_file(path, png, size, err);
    fq_free(png);

    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);
    return FQ_OK;
}
