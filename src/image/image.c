/* Pixel buffers: allocation, views and the argument checks every image operation starts with. */
#include <string.h>

#include "facequant/alloc.h"
#include "image/image_internal.h"

const char *fq_image_format_name(fq_pixel_format format)
{
    switch (format) {
    case FQ_PIXEL_RGB: return "rgb";
    case FQ_PIXEL_BGR: return "bgr";
    case FQ_PIXEL_RGBA: return "rgba";
    case FQ_PIXEL_BGRA: return "bgra";
    case FQ_PIXEL_GRAY: return "gray";
    case FQ_PIXEL_NV21: return "nv21";
    }
    return "invalid";
}

int fq_image_channels(fq_pixel_format format)
{
    switch (format) {
    case FQ_PIXEL_RGB:
    case FQ_PIXEL_BGR: return 3;
    case FQ_PIXEL_RGBA:
    case FQ_PIXEL_BGRA: return 4;
    case FQ_PIXEL_GRAY:
    case FQ_PIXEL_NV21: return 1;
    }
    return 0;
}

size_t fq_image_min_stride(int width, fq_pixel_format format)
{
    if (format == FQ_PIXEL_NV21)
        return 2 * (((size_t)width + 1) / 2);
    return (size_t)width * (size_t)fq_image_channels(format);
}

size_t fq_image_data_size(int height, size_t stride, fq_pixel_format format)
{
    size_t rows = (size_t)height;
    if (format == FQ_PIXEL_NV21)
        rows += ((size_t)height + 1) / 2;
    return rows * stride;
}

fq_status fq_image_check_size(int width, int height, const char *what, fq_error *err)
{
    if (width < 1 || height < 1 || width > FQ_IMAGE_MAX_SIDE || height > FQ_IMAGE_MAX_SIDE)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "%s: size %d x %d is outside 1..%d on a side", what, width, height,
                            FQ_IMAGE_MAX_SIDE);
    return FQ_OK;
}

fq_status fq_image_check(const fq_image *image, const char *what, fq_error *err)
{
    if (image == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: image is NULL", what);
    if (image->data == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: image has no data", what);
    if (fq_image_channels(image->format) == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: pixel format %d is not a known format",
                            what, (int)image->format);

    fq_status st = fq_image_check_size(image->width, image->height, what, err);
    if (st != FQ_OK)
        return st;

    size_t need = fq_image_min_stride(image->width, image->format);
    if (image->stride < need)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "%s: stride %zu is less than the %zu bytes a %d pixel %s row needs",
                            what, image->stride, need, image->width,
                            fq_image_format_name(image->format));
    return FQ_OK;
}

fq_status fq_image_check_resamplable(const fq_image *image, const char *what, fq_error *err)
{
    fq_status st = fq_image_check(image, what, err);
    if (st != FQ_OK)
        return st;
    if (image->format != FQ_PIXEL_RGB && image->format != FQ_PIXEL_BGR &&
        image->format != FQ_PIXEL_GRAY)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED,
                            "%s: pixel format %s is not resampled (convert it with "
                            "fq_image_to_rgb first)", what, fq_image_format_name(image->format));
    return FQ_OK;
}

fq_status fq_image_alloc(fq_image *image, int width, int height, fq_pixel_format format,
                         fq_error *err)
{
    if (image == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "image alloc: image is NULL");
    memset(image, 0, sizeof(*image));
    if (fq_image_channels(format) == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "image alloc: pixel format %d is not a known format", (int)format);
    fq_status st = fq_image_check_size(width, height, "image alloc", err);
    if (st != FQ_OK)
        return st;

    size_t stride = fq_image_min_stride(width, format);
    size_t size = fq_image_data_size(height, stride, format);
    uint8_t *data = fq_calloc(size, 1);
    if (data == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "image alloc: %zu bytes for a %d x %d %s image",
                            size, width, height, fq_image_format_name(format));

    image->width = width;
    image->height = height;
    image->format = format;
    image->stride = stride;
    image->data = data;
    image->owned = true;
    return FQ_OK;
}

void fq_image_free(fq_image *image)
{
    if (image == NULL || !image->owned)
        return;
    fq_free(image->data);
    memset(image, 0, sizeof(*image));
}

fq_image fq_image_view(uint8_t *data, int width, int height, fq_pixel_format format,
                       size_t stride)
{
    fq_image image = {
        .width = width,
        .height = height,
        .format = format,
        .stride = stride,
        .data = data,
        .owned = false,
    };
    return image;
}
