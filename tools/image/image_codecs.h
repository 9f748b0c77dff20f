/* Inside the image file code: the decoders fq_image_decode dispatches to, the size check they
 * share and the EXIF orientation they apply. Not for use outside tools/image. */
#ifndef FQ_TOOLS_IMAGE_IMAGE_CODECS_H
#define FQ_TOOLS_IMAGE_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#include "image/image_io.h"

/* Each decoder gets data that starts with its format's signature and limits already checked
 * for validity; it fills rgb with a new upright RGB image or leaves it empty on failure. */
fq_status fq_decode_jpeg(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                         fq_image *rgb, fq_error *err);
fq_status fq_decode_png(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                        fq_image *rgb, fq_error *err);
fq_status fq_decode_webp(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                         fq_image *rgb, fq_error *err);

/* FQ_OK if a width x height image of the named format fits the limits, else FQ_ERR_PARSE with a
 * message giving the declared size and the limit it breaks. */
fq_status fq_check_decode_size(const char *format, int64_t width, int64_t height,
                               const fq_decode_limits *limits, fq_error *err);

/* The orientation (1-8) in a TIFF-structured EXIF block (starting at the "II"/"MM" byte order
 * mark); 1 when the block is malformed, has no orientation tag or holds a value out of range. */
int fq_exif_orientation(const uint8_t *tiff, size_t size);

/* Replaces an RGB image by its upright version for an EXIF orientation: 2 mirrors, 3 turns by
 * 180 degrees, 4 flips, 5 transposes, 6 turns 90 degrees clockwise, 7 transverses, 8 turns 90
 * degrees counter-clockwise. Orientation 1 or a value out of range leaves it as it is. */
fq_status fq_image_apply_orientation(fq_image *rgb, int orientation, fq_error *err);

#endif
