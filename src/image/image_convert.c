/* Pixel format conversion to packed RGB, and RGB to a normalized NCHW float tensor. */
#include <math.h>
#include <string.h>

#include "image/image_internal.h"

/* Copies a row of 3- or 4-byte pixels to RGB; red_at is 0 for RGB order and 2 for BGR. */
static void row_to_rgb(const uint8_t *src, uint8_t *dst, int width, int channels, int red_at)
{
    for (int x = 0; x < width; x++) {
        const uint8_t *p = src + (size_t)x * (size_t)channels;
        dst[3 * x + 0] = p[red_at];
        dst[3 * x + 1] = p[1];
        dst[3 * x + 2] = p[2 - red_at];
    }
}

static void gray_row_to_rgb(const uint8_t *src, uint8_t *dst, int width)
{
    for (int x = 0; x < width; x++)
        memset(dst + 3 * x, src[x], 3);
}

/* value is a channel times 1000; rounds half up and clamps to 0..255. */
static uint8_t round_clamp_milli(int value)
{
    if (value <= 0)
        return 0;
    int rounded = (value + 500) / 1000;
    return (uint8_t)(rounded > 255 ? 255 : rounded);
}

/* BT.601 limited range with three-decimal coefficients, in exact integer arithmetic:
 * R = 1.164 (Y - 16) + 1.596 (V - 128), G = 1.164 (Y - 16) - 0.813 (V - 128) - 0.391 (U - 128),
 * B = 1.164 (Y - 16) + 2.018 (U - 128). */
static void yuv_to_rgb(int y, int u, int v, uint8_t *rgb)
{
    int luma = 1164 * (y - 16);
    rgb[0] = round_clamp_milli(luma + 1596 * (v - 128));
    rgb[1] = round_clamp_milli(luma - 813 * (v - 128) - 391 * (u - 128));
    rgb[2] = round_clamp_milli(luma + 2018 * (u - 128));
}

/* One luma row with its V/U row (one V/U pair for each two pixels, V first). */
static void nv21_row_to_rgb(const uint8_t *luma, const uint8_t *vu, uint8_t *dst, int width)
{
    for (int x = 0; x < width; x++) {
        const uint8_t *pair = vu + 2 * (x / 2);
        yuv_to_rgb(luma[x], pair[1], pair[0], dst + 3 * x);
    }
}

static void convert_rows(const fq_image *src, fq_image *rgb)
{
    const uint8_t *chroma = src->data + (size_t)src->height * src->stride;

    for (int y = 0; y < src->height; y++) {
        const uint8_t *in = fq_image_row(src, y);
        uint8_t *out = fq_image_row_mut(rgb, y);

        switch (src->format) {
        case FQ_PIXEL_RGB: memcpy(out, in, 3 * (size_t)src->width); break;
        case FQ_PIXEL_BGR: row_to_rgb(in, out, src->width, 3, 2); break;
        case FQ_PIXEL_RGBA: row_to_rgb(in, out, src->width, 4, 0); break;
        case FQ_PIXEL_BGRA: row_to_rgb(in, out, src->width, 4, 2); break;
        case FQ_PIXEL_GRAY: gray_row_to_rgb(in, out, src->width); break;
        case FQ_PIXEL_NV21:
            nv21_row_to_rgb(in, chroma + (size_t)(y / 2) * src->stride, out, src->width);
            break;
        }
    }
}

/* Alpha is dropped, not composited: RGBA and BGRA keep their colour channels as they are. */
fq_status fq_image_to_rgb(const fq_image *src, fq_image *rgb, fq_error *err)
{
    fq_status st = fq_image_check(src, "to_rgb source", err);
    if (st != FQ_OK)
        return st;
    if (rgb == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "to_rgb: output image is NULL");

    fq_image out;
    st = fq_image_alloc(&out, src->width, src->height, FQ_PIXEL_RGB, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "to_rgb");

    convert_rows(src, &out);
    *rgb = out;
    return FQ_OK;
}

/* Where each tensor channel comes from in a source pixel. */
static void tensor_channel_sources(fq_pixel_format format, bool bgr, int source[3])
{
    for (int c = 0; c < 3; c++) {
        int rgb_index = bgr ? 2 - c : c;
        if (format == FQ_PIXEL_GRAY)
            source[c] = 0;
        else if (format == FQ_PIXEL_BGR)
            source[c] = 2 - rgb_index;
        else
            source[c] = rgb_index;
    }
}

static fq_status check_normalization(const fq_normalization *norm, fq_error *err)
{
    if (norm == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "to_tensor: normalization is NULL");
    for (int c = 0; c < 3; c++) {
        if (!isfinite(norm->mean[c]) || !isfinite(norm->std[c]) || norm->std[c] == 0.0f)
            return fq_error_set(err, FQ_ERR_INVALID_ARG,
                                "to_tensor: channel %d has mean %g and std %g (std must be "
                                "finite and not 0)", c, (double)norm->mean[c],
                                (double)norm->std[c]);
    }
    return FQ_OK;
}

/* The source may also be BGR or GRAY: channels are taken from where that format keeps them. */
fq_status fq_image_to_tensor(const fq_image *rgb, const fq_normalization *norm, float *out,
                             fq_error *err)
{
    fq_status st = fq_image_check_resamplable(rgb, "to_tensor source", err);
    if (st != FQ_OK)
        return st;
    st = check_normalization(norm, err);
    if (st != FQ_OK)
        return st;
    if (out == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "to_tensor: output tensor is NULL");

    /* A table per channel gives each byte value exactly (v - mean) / std. */
    float table[3][256];
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            table[c][v] = ((float)v - norm->mean[c]) / norm->std[c];

    int source[3];
    tensor_channel_sources(rgb->format, norm->bgr, source);
    int channels = fq_image_channels(rgb->format);
    size_t plane = (size_t)rgb->width * (size_t)rgb->height;

    for (int c = 0; c < 3; c++) {
        float *dst = out + (size_t)c * plane;
        for (int y = 0; y < rgb->height; y++) {
            const uint8_t *row = fq_image_row(rgb, y) + source[c];
            for (int x = 0; x < rgb->width; x++)
                *dst++ = table[c][row[(size_t)x * (size_t)channels]];
        }
    }
    return FQ_OK;
}
