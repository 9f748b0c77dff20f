/* WebP decoding with libwebp: still images, lossy or lossless, alpha dropped. The EXIF chunk of
 * an extended WebP is not read, so no orientation is applied. */
#include <stdio.h>

#include <webp/decode.h>

#include "image/image_codecs.h"

static const char *webp_status_text(VP8StatusCode status)
{
    switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "malformed bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "decoding suspended";
    case VP8_STATUS_USER_ABORT: return "decoding aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated data";
    default: return "unknown failure";
    }
}

fq_status fq_decode_webp(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                         fq_image *rgb, fq_error *err)
{
    WebPBitstreamFeatures features;
    VP8StatusCode code = WebPGetFeatures(data, size, &features);
    if (code != VP8_STATUS_OK)
        return fq_error_set(err, code == VP8_STATUS_OUT_OF_MEMORY ? FQ_ERR_NO_MEMORY
                                                                   : FQ_ERR_PARSE,
                            "WebP: header: %s", webp_status_text(code));
    if (features.has_animation)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "WebP: animated WebP is not supported");

    fq_status status = fq_check_decode_size("WebP", features.width, features.height, limits,
                                            err);
    if (status == FQ_OK)
        status = fq_image_alloc(rgb, features.width, features.height, FQ_PIXEL_RGB, err);
    if (status != FQ_OK)
        return status;

    size_t capacity = rgb->stride * (size_t)rgb->height;
    if (WebPDecodeRGBInto(data, size, rgb->data, capacity, (int)rgb->stride) == NULL) {
        fq_image_free(rgb);
        return fq_error_set(err, FQ_ERR_PARSE, "WebP: the image data is truncated or corrupt");
    }
    return FQ_OK;
}
