/* Image files for the fq tools: decoding JPEG, PNG, WebP and PPM/PGM into packed RGB, writing
 * PNG, and drawing detections. This code links libjpeg-turbo, libspng and libwebp and is never
 * part of libfacequant.
 *
 * The decoder is chosen by the first bytes of the data, never by a file name:
 *   JPEG   FF D8 FF                      libjpeg-turbo with its defaults (JDCT_ISLOW, fancy
 *                                        upsampling), the settings Pillow decodes with, so the
 *                                        pixels match tensors made by Pillow; baseline and
 *                                        progressive; gray is expanded to RGB. CMYK and YCCK
 *                                        JPEGs are refused (FQ_ERR_UNSUPPORTED).
 *   PNG    89 50 4E 47 0D 0A 1A 0A       libspng; gray and palette are expanded, alpha is dropped
 *                                        (not composited), 16-bit samples keep their high byte.
 *   WebP   "RIFF" size "WEBP"            libwebp, still images; alpha is dropped. Animated WebP
 *                                        is refused.
 *   PPM    "P6" / PGM "P5"               fq_image_read_pnm of the core library (maxval 255).
 * Anything else is refused with FQ_ERR_UNSUPPORTED and a message naming what was found ("GIF
 * image", "unknown format starting with bytes 00 01 02 03").
 *
 * EXIF orientation (tag 0x0112 of IFD0, values 1-8) is applied to the pixels, so the result is
 * upright: from the first APP1 "Exif" segment of a JPEG and from the eXIf chunk of a PNG. A
 * malformed EXIF block is ignored (the image is returned as stored). WebP EXIF chunks are not
 * read: a WebP is returned as stored.
 *
 * A truncated or corrupt file is an error (FQ_ERR_PARSE with the decoder's message), never a
 * partly grey image. The size an image declares in its header is checked against the limits
 * before any pixel memory is allocated, so a small file declaring a huge image is refused at
 * once.
 */
#ifndef FQ_TOOLS_IMAGE_IMAGE_IO_H
#define FQ_TOOLS_IMAGE_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/image.h"
#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a decoder accepts. Every field must be positive; max_side is at most FQ_IMAGE_MAX_SIDE. */
typedef struct fq_decode_limits {
    int max_side;           /* largest width or height, in pixels */
    int64_t max_pixels;     /* largest width * height */
    size_t max_file_bytes;  /* largest encoded size */
} fq_decode_limits;

#define FQ_DECODE_DEFAULT_MAX_SIDE 16384
#define FQ_DECODE_DEFAULT_MAX_PIXELS ((int64_t)40 * 1000 * 1000)
#define FQ_DECODE_DEFAULT_MAX_FILE_BYTES ((size_t)64 << 20)

/* The limits used when NULL is passed: 16384 pixels a side, 40 megapixels, 64 MiB of file. */
fq_decode_limits fq_decode_default_limits(void);

/* Decodes an image held in memory into a new packed RGB image (free it with fq_image_free).
 * limits may be NULL for the defaults. An image over a limit is FQ_ERR_PARSE; a format that is
 * recognised but not handled is FQ_ERR_UNSUPPORTED. On failure rgb is left empty. */
fq_status fq_image_decode(const void *data, size_t size, const fq_decode_limits *limits,
                          fq_image *rgb, fq_error *err);

/* Reads a file and decodes it as fq_image_decode does. Every message starts with the path. */
fq_status fq_image_load_file(const char *path, const fq_decode_limits *limits, fq_image *rgb,
                             fq_error *err);

/* Writes an RGB image (any stride) as an 8-bit RGB PNG. The file is written to PATH.tmp.<pid>
 * and then renamed to path, so a reader never sees a half-written file. */
fq_status fq_image_write_png(const char *path, const fq_image *rgb, fq_error *err);

/* Drawing on an RGB image, for `fq detect --draw`. Everything is clipped to the image; an image
 * that is not RGB, a NaN coordinate, a thickness below 1 or a negative radius draws nothing. */

/* Outlines the box {x1, y1, x2, y2}, which covers pixel columns round(x1) .. round(x2) - 1 and
 * rows round(y1) .. round(y2) - 1, with lines `thickness` pixels wide lying inside the box. */
void fq_draw_box(fq_image *rgb, const float box[4], uint8_t r, uint8_t g, uint8_t b,
                 int thickness);

/* Fills the disc of the given radius centred on (x, y); radius 0 is one pixel. */
void fq_draw_point(fq_image *rgb, float x, float y, int radius, uint8_t r, uint8_t g,
                   uint8_t b);

#ifdef __cplusplus
}
#endif

#endif
