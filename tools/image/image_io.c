/* The front door of image file decoding: limits, choosing the decoder by the first bytes, and
 * reading files. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "facequant/alloc.h"
#include "image/image_codecs.h"

typedef fq_status (*image_decoder)(const uint8_t *data, size_t size,
                                   const fq_decode_limits *limits, fq_image *rgb,
                                   fq_error *err);

/* A format told by `length` bytes at `offset` (and, if tag is not NULL, by four more bytes at
 * tag_offset); decoder NULL means recognised but not decoded. */
typedef struct image_signature {
    size_t offset;
    size_t length;
    const char *bytes;
    size_t tag_offset;
    const char *tag;
    const char *name;
    image_decoder decoder;
} image_signature;

static fq_status decode_pnm(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                            fq_image *rgb, fq_error *err);

static const image_signature SIGNATURES[] = {
    {0, 4, "RIFF", 8, "WEBP", "WebP image", fq_decode_webp},
    {0, 3, "\xFF\xD8\xFF", 0, NULL, "JPEG image", fq_decode_jpeg},
    {0, 8, "\x89PNG\r\n\x1A\n", 0, NULL, "PNG image", fq_decode_png},
    {0, 2, "P6", 0, NULL, "PPM image", decode_pnm},
    {0, 2, "P5", 0, NULL, "PGM image", decode_pnm},
    {0, 4, "GIF8", 0, NULL, "GIF image", NULL},
    {0, 2, "BM", 0, NULL, "BMP image", NULL},
    {0, 4, "II*\0", 0, NULL, "TIFF image", NULL},
    {0, 4, "MM\0*", 0, NULL, "TIFF image", NULL},
    {4, 8, "ftypavif", 0, NULL, "AVIF image", NULL},
    {4, 8, "ftypheic", 0, NULL, "HEIF image", NULL},
    {4, 8, "ftypmif1", 0, NULL, "HEIF image", NULL},
    {0, 12, "\0\0\0\x0CjP  \r\n\x87\n", 0, NULL, "JPEG 2000 image", NULL},
    {0, 12, "\0\0\0\x0CJXL \r\n\x87\n", 0, NULL, "JPEG XL image", NULL},
    {0, 2, "\xFF\x0A", 0, NULL, "JPEG XL image", NULL},
    {0, 4, "qoif", 0, NULL, "QOI image", NULL},
    {0, 4, "8BPS", 0, NULL, "Photoshop document", NULL},
    {0, 4, "%PDF", 0, NULL, "PDF document", NULL},
    {0, 2, "P1", 0, NULL, "ASCII PBM image (only binary P5/P6 are read)", NULL},
    {0, 2, "P2", 0, NULL, "ASCII PGM image (only binary P5/P6 are read)", NULL},
    {0, 2, "P3", 0, NULL, "ASCII PPM image (only binary P5/P6 are read)", NULL},
    {0, 2, "P4", 0, NULL, "PBM bitmap (only binary P5/P6 are read)", NULL},
    {0, 2, "P7", 0, NULL, "PAM image (only binary P5/P6 are read)", NULL},
    {0, 4, "RIFF", 0, NULL, "RIFF file that is not WebP", NULL},
};

fq_decode_limits fq_decode_default_limits(void)
{
    return (fq_decode_limits){
        .max_side = FQ_DECODE_DEFAULT_MAX_SIDE,
        .max_pixels = FQ_DECODE_DEFAULT_MAX_PIXELS,
        .max_file_bytes = FQ_DECODE_DEFAULT_MAX_FILE_BYTES,
    };
}

fq_status fq_check_decode_size(const char *format, int64_t width, int64_t height,
                               const fq_decode_limits *limits, fq_error *err)
{
    if (width < 1 || height < 1)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: empty image of %lldx%lld pixels", format,
                            (long long)width, (long long)height);
    if (width > limits->max_side || height > limits->max_side)
        return fq_error_set(err, FQ_ERR_PARSE,
                            "%s: image of %lldx%lld pixels exceeds the size limit of %d pixels "
                            "a side", format, (long long)width, (long long)height,
                            limits->max_side);
    if (width * height > limits->max_pixels)
        return fq_error_set(err, FQ_ERR_PARSE,
                            "%s: image of %lldx%lld pixels exceeds the size limit of %lld pixels",
                            format, (long long)width, (long long)height,
                            (long long)limits->max_pixels);
    return FQ_OK;
}

/* The PNM reader of the core library bounds the image by the bytes present; the limits are
 * checked on the result. */
static fq_status decode_pnm(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                            fq_image *rgb, fq_error *err)
{
    fq_status status = fq_image_read_pnm(data, size, rgb, err);
    if (status == FQ_OK)
        status = fq_check_decode_size("PNM", rgb->width, rgb->height, limits, err);
    if (status != FQ_OK)
        fq_image_free(rgb);
    return status;
}

static bool matches(const image_signature *signature, const uint8_t *data, size_t size)
{
    if (size < signature->offset + signature->length ||
        memcmp(data + signature->offset, signature->bytes, signature->length) != 0)
        return false;
    return signature->tag == NULL ||
           (size >= signature->tag_offset + 4 &&
            memcmp(data + signature->tag_offset, signature->tag, 4) == 0);
}

static const image_signature *find_signature(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof(SIGNATURES) / sizeof(SIGNATURES[0]); i++) {
        if (matches(&SIGNATURES[i], data, size))
            return &SIGNATURES[i];
    }
    return NULL;
}

static fq_status refuse_unknown_format(const uint8_t *data, size_t size, fq_error *err)
{
    char hex[8 * 3 + 1] = "";
    size_t shown = size < 8 ? size : 8;
    for (size_t i = 0; i < shown; i++)
        snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02X ", data[i]);
    hex[3 * shown - 1] = '\0';
    return fq_error_set(err, FQ_ERR_UNSUPPORTED, "unknown format starting with bytes %s", hex);
}

static fq_status check_limits(const fq_decode_limits *limits, fq_error *err)
{
    if (limits->max_side < 1 || limits->max_side > FQ_IMAGE_MAX_SIDE || limits->max_pixels < 1 ||
        limits->max_file_bytes < 1)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "decode limits need a side in 1..%d and positive pixel and byte "
                            "counts", FQ_IMAGE_MAX_SIDE);
    return FQ_OK;
}

fq_status fq_image_decode(const void *data, size_t size, const fq_decode_limits *limits,
                          fq_image *rgb, fq_error *err)
{
    if (rgb == NULL || (data == NULL && size > 0))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "decoding an image needs data and rgb");
    *rgb = (fq_image){0};

    fq_decode_limits defaults = fq_decode_default_limits();
    const fq_decode_limits *in_force = limits != NULL ? limits : &defaults;
    fq_status status = check_limits(in_force, err);
    if (status != FQ_OK)
        return status;
    if (size == 0)
        return fq_error_set(err, FQ_ERR_PARSE, "empty file: no image data");
    if (size > in_force->max_file_bytes)
        return fq_error_set(err, FQ_ERR_PARSE, "%zu bytes exceeds the limit of %zu bytes", size,
                            in_force->max_file_bytes);

    const image_signature *signature = find_signature(data, size);
    if (signature == NULL)
        return refuse_unknown_format(data, size, err);
    if (signature->decoder == NULL)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s is not supported", signature->name);
    return signature->decoder(data, size, in_force, rgb, err);
}

static fq_status read_whole_file(FILE *file, const fq_decode_limits *limits, void **data,
                                 size_t *size, fq_error *err)
{
    struct stat info;
    if (fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode))
        return fq_error_set(err, FQ_ERR_IO, "not a regular file");
    if ((uint64_t)info.st_size > limits->max_file_bytes)
        return fq_error_set(err, FQ_ERR_PARSE, "%lld bytes exceeds the limit of %zu bytes",
                            (long long)info.st_size, limits->max_file_bytes);

    *size = (size_t)info.st_size;
    *data = fq_malloc(*size > 0 ? *size : 1);
    if (*data == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "out of memory for %zu bytes", *size);
    if (fread(*data, 1, *size, file) != *size) {
        fq_free(*data);
        *data = NULL;
        return fq_error_set(err, FQ_ERR_IO, "cannot read %zu bytes", *size);
    }
    return FQ_OK;
}

fq_status fq_image_load_file(const char *path, const fq_decode_limits *limits, fq_image *rgb,
                             fq_error *err)
{
    if (path == NULL || rgb == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "loading an image needs a path and rgb");
    *rgb = (fq_image){0};

    fq_decode_limits defaults = fq_decode_default_limits();
    const fq_decode_limits *in_force = limits != NULL ? limits : &defaults;
    fq_status status = check_limits(in_force, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);

    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    void *data = NULL;
    size_t size = 0;
    status = read_whole_file(file, in_force, &data, &size, err);
    fclose(file);

    if (status == FQ_OK)
        status = fq_image_decode(data, size, in_force, rgb, err);
    fq_free(data);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);
    return FQ_OK;
}
