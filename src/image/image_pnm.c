/* Binary PPM (P6) and PGM (P5) with maxval 255, following the netpbm format specification.
 *
 * The header is the magic number, width, height and maxval, each separated by whitespace
 * (blanks, TABs, CRs, LFs); a '#' before the maxval starts a comment that runs through the next
 * CR or LF and counts as whitespace. Exactly one whitespace character follows the maxval, and
 * the raster starts after it; when a comment follows the maxval directly, the CR or LF ending
 * it is that character. Bytes after the first image are ignored (the format allows several
 * images in one file).
 */
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "image/image_internal.h"

/* Larger numbers are only reported, never kept. */
#define NUMBER_LIMIT 100000000u

typedef struct pnm_reader {
    const uint8_t *data;
    size_t size;
    size_t pos;
} pnm_reader;

static bool is_pnm_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Skips from a '#' through the CR or LF that ends the comment. */
static fq_status skip_comment(pnm_reader *r, const char *what, fq_error *err)
{
    size_t start = r->pos;
    while (r->pos < r->size && r->data[r->pos] != '\r' && r->data[r->pos] != '\n')
        r->pos++;
    if (r->pos == r->size)
        return fq_error_set(err, FQ_ERR_PARSE,
                            "pnm: the comment at byte %zu runs to the end of the file before the "
                            "%s", start, what);
    r->pos++;
    return FQ_OK;
}

/* Skips whitespace and comments before a number; at least one is required. */
static fq_status skip_separators(pnm_reader *r, const char *what, fq_error *err)
{
    size_t start = r->pos;
    while (r->pos < r->size) {
        uint8_t c = r->data[r->pos];
        if (is_pnm_space(c)) {
            r->pos++;
        } else if (c == '#') {
            fq_status st = skip_comment(r, what, err);
            if (st != FQ_OK)
                return st;
        } else {
            break;
        }
    }
    if (r->pos == r->size)
        return fq_error_set(err, FQ_ERR_PARSE, "pnm: the header ends at byte %zu before the %s",
                            r->pos, what);
    if (r->pos == start)
        return fq_error_set(err, FQ_ERR_PARSE,
                            "pnm: no whitespace before the %s at byte %zu", what, r->pos);
    return FQ_OK;
}

/* Reads the decimal number that names what; it must be followed by whitespace or a comment. */
static fq_status read_number(pnm_reader *r, const char *what, unsigned *value, fq_error *err)
{
    fq_status st = skip_separators(r, what, err);
    if (st != FQ_OK)
        return st;

    size_t start = r->pos;
    unsigned n = 0;
    while (r->pos < r->size && is_digit(r->data[r->pos])) {
        unsigned digit = (unsigned)(r->data[r->pos] - '0');
        n = n > NUMBER_LIMIT ? n : n * 10 + digit;
        r->pos++;
    }
    if (r->pos == start)
        return fq_error_set(err, FQ_ERR_PARSE, "pnm: expected the %s at byte %zu, found 0x%02x",
                            what, start, r->data[start]);
    if (r->pos == r->size)
        return fq_error_set(err, FQ_ERR_PARSE, "pnm: the header ends at byte %zu after the %s",
                            r->pos, what);
    uint8_t next = r->data[r->pos];
    if (!is_pnm_space(next) && next != '#')
        return fq_error_set(err, FQ_ERR_PARSE, "pnm: unexpected byte 0x%02x at byte %zu after "
                            "the %s", next, r->pos, what);
    *value = n;
    return FQ_OK;
}

/* Reads "P5" or "P6" and returns the channels of the raster (1 or 3). */
static fq_status read_magic(pnm_reader *r, int *channels, fq_error *err)
{
    if (r->size < 2 || r->data[0] != 'P')
        return fq_error_set(err, FQ_ERR_PARSE, "pnm: not a PNM file (no 'P' magic at byte 0)");

    uint8_t kind = r->data[1];
    r->pos = 2;
    if (kind == '5' || kind == '6') {
        *channels = kind == '6' ? 3 : 1;
        return FQ_OK;
    }
    if (kind >= '1' && kind <= '4')
        return fq_error_set(err, FQ_ERR_UNSUPPORTED,
                            "pnm: P%c (%s) is not supported: only binary P6 and P5", kind,
                            kind == '4' ? "binary bitmap" : "ASCII");
    if (kind == '7')
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "pnm: PAM (P7) is not supported");
    return fq_error_set(err, FQ_ERR_PARSE, "pnm: unknown magic number 'P' 0x%02x", kind);
}

static fq_status check_side(unsigned side, const char *what, fq_error *err)
{
    if (side < 1 || side > FQ_IMAGE_MAX_SIDE)
        return fq_error_set(err, FQ_ERR_PARSE, "pnm: %s %u%s is outside 1..%d", what,
                            side, side > NUMBER_LIMIT ? " or more" : "", FQ_IMAGE_MAX_SIDE);
    return FQ_OK;
}

static fq_status check_maxval(unsigned maxval, fq_error *err)
{
    if (maxval < 1 || maxval > 65535)
        return fq_error_set(err, FQ_ERR_PARSE, "pnm: maxval %u is outside 1..65535", maxval);
    if (maxval != 255)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED,
                            "pnm: maxval %u is not supported: only 255 (8-bit samples)", maxval);
    return FQ_OK;
}

typedef struct pnm_header {
    int channels;
    unsigned width;
    unsigned height;
    size_t raster_offset;
} pnm_header;

static fq_status read_header(pnm_reader *r, pnm_header *h, fq_error *err)
{
    unsigned maxval = 0;
    fq_status st = read_magic(r, &h->channels, err);
    if (st == FQ_OK)
        st = read_number(r, "width", &h->width, err);
    if (st == FQ_OK)
        st = check_side(h->width, "width", err);
    if (st == FQ_OK)
        st = read_number(r, "height", &h->height, err);
    if (st == FQ_OK)
        st = check_side(h->height, "height", err);
    if (st == FQ_OK)
        st = read_number(r, "maxval", &maxval, err);
    if (st == FQ_OK)
        st = check_maxval(maxval, err);
    if (st != FQ_OK)
        return st;

    if (r->data[r->pos] == '#')
        st = skip_comment(r, "raster", err);
    else
        r->pos++;
    h->raster_offset = r->pos;
    return st;
}

static fq_status check_raster_present(const pnm_reader *r, const pnm_header *h, fq_error *err)
{
    size_t row_bytes = (size_t)h->width * (size_t)h->channels;
    size_t need = row_bytes * h->height;
    size_t present = r->size - h->raster_offset;
    if (present >= need)
        return FQ_OK;
    return fq_error_set(err, FQ_ERR_PARSE,
                        "pnm: the raster is truncated: a %u x %u %s image needs %zu bytes from "
                        "byte offset %zu, %zu are present (%zu bytes missing, rows %zu to %u "
                        "incomplete)", h->width, h->height, h->channels == 3 ? "P6" : "P5", need,
                        h->raster_offset, present, need - present, present / row_bytes,
                        h->height - 1);
}

static void raster_to_rgb(const uint8_t *raster, const pnm_header *h, fq_image *rgb)
{
    size_t row_bytes = (size_t)h->width * (size_t)h->channels;
    for (int y = 0; y < rgb->height; y++) {
        const uint8_t *in = raster + (size_t)y * row_bytes;
        uint8_t *out = fq_image_row_mut(rgb, y);
        if (h->channels == 3) {
            memcpy(out, in, row_bytes);
            continue;
        }
        for (int x = 0; x < rgb->width; x++)
            memset(out + 3 * x, in[x], 3);
    }
}

fq_status fq_image_read_pnm(const void *data, size_t size, fq_image *rgb, fq_error *err)
{
    if (data == NULL || rgb == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "pnm: %s is NULL",
                            data == NULL ? "data" : "output image");

    pnm_reader r = {.data = data, .size = size, .pos = 0};
    pnm_header h;
    fq_status st = read_header(&r, &h, err);
    if (st == FQ_OK)
        st = check_raster_present(&r, &h, err);
    if (st != FQ_OK)
        return st;

    fq_image out;
    st = fq_image_alloc(&out, (int)h.width, (int)h.height, FQ_PIXEL_RGB, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "pnm");
    raster_to_rgb(r.data + h.raster_offset, &h, &out);
    *rgb = out;
    return FQ_OK;
}

static fq_status write_rgb_ppm(const fq_image *rgb, void **data, size_t *size, fq_error *err)
{
    char header[64];
    int header_size = snprintf(header, sizeof(header), "P6\n%d %d\n255\n", rgb->width,
                               rgb->height);
    size_t row_bytes = (size_t)rgb->width * 3;
    size_t total = (size_t)header_size + row_bytes * (size_t)rgb->height;
    uint8_t *out = fq_malloc(total);
    if (out == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "write_ppm: %zu bytes for a %d x %d image",
                            total, rgb->width, rgb->height);

    memcpy(out, header, (size_t)header_size);
    for (int y = 0; y < rgb->height; y++)
        memcpy(out + (size_t)header_size + (size_t)y * row_bytes, fq_image_row(rgb, y),
               row_bytes);
    *data = out;
    *size = total;
    return FQ_OK;
}

/* An image in another format is converted to RGB first. */
fq_status fq_image_write_ppm(const fq_image *rgb, void **data, size_t *size, fq_error *err)
{
    fq_status st = fq_image_check(rgb, "write_ppm source", err);
    if (st != FQ_OK)
        return st;
    if (data == NULL || size == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "write_ppm: %s is NULL",
                            data == NULL ? "data" : "size");
    if (rgb->format == FQ_PIXEL_RGB)
        return write_rgb_ppm(rgb, data, size, err);

    fq_image converted;
    st = fq_image_to_rgb(rgb, &converted, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "write_ppm");
    st = write_rgb_ppm(&converted, data, size, err);
    fq_image_free(&converted);
    return st;
}
