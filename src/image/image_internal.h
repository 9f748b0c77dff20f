/* Helpers shared by the image operations: argument checks and pixel layout. */
#ifndef FQ_IMAGE_INTERNAL_H
#define FQ_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "facequant/image.h"

/* Short name of a pixel format, such as "rgb"; "invalid" for a value outside the enum. */
const char *fq_image_format_name(fq_pixel_format format);

/* Bytes per pixel of an interleaved format; 1 for NV21 (its Y plane), 0 for an invalid value. */
int fq_image_channels(fq_pixel_format format);

/* Smallest stride a row of width pixels needs. An NV21 row holds width luma bytes, and its V/U
 * row 2 * ceil(width / 2) bytes, so an odd width needs one byte more than width. */
size_t fq_image_min_stride(int width, fq_pixel_format format);

/* Bytes of an image with the given stride, both planes for NV21. */
size_t fq_image_data_size(int height, size_t stride, fq_pixel_format format);

/* Checks that width and height lie in 1..FQ_IMAGE_MAX_SIDE. what names the caller's image. */
fq_status fq_image_check_size(int width, int height, const char *what, fq_error *err);

/* Checks an image argument: not NULL, data present, size in range, a known format and a stride
 * large enough for its rows. what names the argument in the message, such as "resize source". */
fq_status fq_image_check(const fq_image *image, const char *what, fq_error *err);

/* Checks that an image is one the resamplers handle: interleaved RGB, BGR or GRAY (channels are
 * filtered independently, so their order does not matter). */
fq_status fq_image_check_resamplable(const fq_image *image, const char *what, fq_error *err);

static inline const uint8_t *fq_image_row(const fq_image *image, int y)
{
    return image->data + (size_t)y * image->stride;
}

static inline uint8_t *fq_image_row_mut(fq_image *image, int y)
{
    return image->data + (size_t)y * image->stride;
}

#endif
