/* facequant: pixel buffers and the image operations the face pipeline needs.
 *
 * The core library works on decoded pixels only; decoding JPEG/PNG/WebP files is done by the
 * tools (tools/image_io.h), so a firmware build carries no decoder. PPM/PGM, which needs no
 * library, is read here.
 *
 * All 8-bit formats are interleaved rows of `stride` bytes. NV21 (Android camera) is a full
 * resolution Y plane followed by an interleaved V/U plane at half resolution, both with `stride`
 * bytes per row (at least 2 * ceil(width / 2), so odd widths have room for the last V/U pair);
 * it is converted with BT.601 limited-range coefficients.
 */
#ifndef FACEQUANT_IMAGE_H
#define FACEQUANT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fq_pixel_format {
    FQ_PIXEL_RGB = 0,
    FQ_PIXEL_BGR,
    FQ_PIXEL_RGBA,
    FQ_PIXEL_BGRA,
    FQ_PIXEL_GRAY,
    FQ_PIXEL_NV21
} fq_pixel_format;

typedef struct fq_image {
    int width;
    int height;
    fq_pixel_format format;
    size_t stride;   /* bytes per row (of the Y plane for NV21) */
    uint8_t *data;
    bool owned;      /* data was allocated by fq_image_alloc and is freed by fq_image_free */
} fq_image;

/* Largest width or height any image operation accepts. */
#define FQ_IMAGE_MAX_SIDE 16384

/* Allocates a width x height image of the format with tight rows; contents are zero. */
fq_status fq_image_alloc(fq_image *image, int width, int height, fq_pixel_format format,
                         fq_error *err);
/* Frees an owned image's data; a view (owned false) is left alone. */
void fq_image_free(fq_image *image);
/* A view of caller memory: no copy, nothing to free. */
fq_image fq_image_view(uint8_t *data, int width, int height, fq_pixel_format format,
                       size_t stride);

/* Converts any format to a new packed RGB image. */
fq_status fq_image_to_rgb(const fq_image *src, fq_image *rgb, fq_error *err);

/* Resizes an RGB image with an antialiased bilinear filter, as Pillow's Image.resize with
 * BILINEAR does: a triangle filter whose support grows with the downscale factor, applied
 * horizontally then vertically with 8-bit rounding in between. */
fq_status fq_image_resize(const fq_image *src, int width, int height, fq_image *dst,
                          fq_error *err);

/* Where a letterboxed image sits in the model's input: content of width x height pixels at the
 * top-left corner, scaled by `scale` from the original. */
typedef struct fq_letterbox {
    float scale;
    int width;
    int height;
} fq_letterbox;

/* Keeps the aspect ratio: the longer side (relative to the output) is scaled to the output size,
 * the other side's size is truncated to an integer (as InsightFace does); the resized image is
 * pasted at the top-left of a black out_width x out_height RGB image. */
fq_status fq_image_letterbox(const fq_image *src, int out_width, int out_height, fq_image *dst,
                             fq_letterbox *info, fq_error *err);

/* Warps an RGB image with the 2x3 affine matrix m that maps source pixel coordinates to
 * destination coordinates (x' = m0 x + m1 y + m2, y' = m3 x + m4 y + m5), sampling bilinearly;
 * pixels that map outside the source are black. */
fq_status fq_image_warp_affine(const fq_image *src, const float m[6], int out_width,
                               int out_height, fq_image *dst, fq_error *err);

/* A model's input normalization: out = (pixel - mean[c]) / std[c], channels in RGB order unless
 * bgr is true. */
typedef struct fq_normalization {
    float mean[3];
    float std[3];
    bool bgr;
} fq_normalization;

/* Writes an RGB image as a 1x3xHxW float tensor (out holds 3 * width * height floats). */
fq_status fq_image_to_tensor(const fq_image *rgb, const fq_normalization *norm, float *out,
                             fq_error *err);

/* Reads a binary PPM (P6, RGB) or PGM (P5, gray) with maxval 255 into a new RGB image. Sizes are
 * checked against FQ_IMAGE_MAX_SIDE and the bytes present. */
fq_status fq_image_read_pnm(const void *data, size_t size, fq_image *rgb, fq_error *err);
/* Writes an RGB image as binary PPM into a new fq_malloc buffer. */
fq_status fq_image_write_ppm(const fq_image *rgb, void **data, size_t *size, fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
