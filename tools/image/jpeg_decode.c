/* JPEG decoding with libjpeg-turbo.
 *
 * The decompressor keeps libjpeg's defaults (JDCT_ISLOW, fancy upsampling): golden tensors were
 * made by Pillow with these settings, so changing them changes the pixels. libjpeg reports
 * errors through error_exit, which here jumps back (longjmp) to the decoding function instead of
 * exiting; its warnings are silent, except that the end of the data before the end of the image
 * ("Premature end of JPEG file") is an error: libjpeg would otherwise fill the missing rows with
 * grey. Bytes after the last scanline are not examined. CMYK and YCCK JPEGs are refused. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "facequant/alloc.h"
#include "image/image_codecs.h"

/* A progressive JPEG may hold any number of scans, each of which makes libjpeg walk the whole
 * coefficient buffer; real encoders write at most a few dozen. */
#define JPEG_MAX_SCANS 500

static const uint8_t EXIF_HEADER[6] = {'E', 'x', 'i', 'f', 0, 0};

typedef struct jpeg_decoder {
    struct jpeg_decompress_struct info; /* first, so a j_common_ptr is also the decoder */
    struct jpeg_error_mgr errors;
    struct jpeg_progress_mgr progress;
    jmp_buf failed;
    char message[JMSG_LENGTH_MAX];
} jpeg_decoder;

static void fail_with_libjpeg_message(j_common_ptr common)
{
    jpeg_decoder *decoder = (jpeg_decoder *)(void *)common;
    common->err->format_message(common, decoder->message);
    longjmp(decoder->failed, 1);
}

static void handle_libjpeg_message(j_common_ptr common, int level)
{
    if (level >= 0)
        return;
    if (common->err->msg_code == JWRN_JPEG_EOF)
        fail_with_libjpeg_message(common);
    common->err->num_warnings++;
}

static void limit_scan_count(j_common_ptr common)
{
    jpeg_decoder *decoder = (jpeg_decoder *)(void *)common;
    if (decoder->info.input_scan_number <= JPEG_MAX_SCANS)
        return;
    snprintf(decoder->message, sizeof(decoder->message), "more than %d scans", JPEG_MAX_SCANS);
    longjmp(decoder->failed, 1);
}

static void set_up_decoder(jpeg_decoder *decoder)
{
    decoder->info.err = jpeg_std_error(&decoder->errors);
    decoder->errors.error_exit = fail_with_libjpeg_message;
    decoder->errors.emit_message = handle_libjpeg_message;
    decoder->progress.progress_monitor = limit_scan_count;
}

static const char *color_space_name(J_COLOR_SPACE space)
{
    switch (space) {
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "unknown";
    }
}

static fq_status check_header(const jpeg_decoder *decoder, const fq_decode_limits *limits,
                              fq_error *err)
{
    J_COLOR_SPACE space = decoder->info.jpeg_color_space;
    if (space != JCS_GRAYSCALE && space != JCS_YCbCr && space != JCS_RGB)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED,
                            "JPEG: %s color space (%d components) is not supported",
                            color_space_name(space), decoder->info.num_components);
    return fq_check_decode_size("JPEG", decoder->info.image_width, decoder->info.image_height,
                                limits, err);
}

static int exif_orientation_of(const jpeg_decoder *decoder)
{
    for (jpeg_saved_marker_ptr m = decoder->info.marker_list; m != NULL; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < sizeof(EXIF_HEADER))
            continue;
        if (memcmp(m->data, EXIF_HEADER, sizeof(EXIF_HEADER)) == 0)
            return fq_exif_orientation(m->data + sizeof(EXIF_HEADER),
                                       m->data_length - sizeof(EXIF_HEADER));
    }
    return 1;
}

static void read_scanlines(jpeg_decoder *decoder, fq_image *rgb)
{
    while (decoder->info.output_scanline < decoder->info.output_height) {
        JSAMPROW row = rgb->data + (size_t)decoder->info.output_scanline * rgb->stride;
        jpeg_read_scanlines(&decoder->info, &row, 1);
    }
}

/* Everything libjpeg may fail in. Returns after a longjmp too, with FQ_ERR_PARSE; rgb lives in
 * the caller's memory, so what it holds then is still valid to free. */
static fq_status run_decoder(jpeg_decoder *decoder, const uint8_t *data, size_t size,
                             const fq_decode_limits *limits, fq_image *rgb, int *orientation,
                             fq_error *err)
{
    if (setjmp(decoder->failed) != 0)
        return fq_error_set(err, FQ_ERR_PARSE, "JPEG: %s", decoder->message);

    jpeg_create_decompress(&decoder->info);
    decoder->info.progress = &decoder->progress;
    jpeg_mem_src(&decoder->info, data, (unsigned long)size);
    jpeg_save_markers(&decoder->info, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&decoder->info, TRUE);

    fq_status status = check_header(decoder, limits, err);
    if (status != FQ_OK)
        return status;
    *orientation = exif_orientation_of(decoder);

    decoder->info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&decoder->info);
    status = fq_image_alloc(rgb, (int)decoder->info.output_width,
                            (int)decoder->info.output_height, FQ_PIXEL_RGB, err);
    if (status != FQ_OK)
        return status;
    read_scanlines(decoder, rgb);
    return FQ_OK;
}

fq_status fq_decode_jpeg(const uint8_t *data, size_t size, const fq_decode_limits *limits,
                         fq_image *rgb, fq_error *err)
{
    if ((unsigned long)size != size)
        return fq_error_set(err, FQ_ERR_PARSE, "JPEG: %zu bytes is too large", size);
    jpeg_decoder *decoder = fq_calloc(1, sizeof(*decoder));
    if (decoder == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "JPEG: out of memory for the decoder");
    set_up_decoder(decoder);

    int orientation = 1;
    fq_status status = run_decoder(decoder, data, size, limits, rgb, &orientation, err);
    jpeg_destroy_decompress(&decoder->info);
    fq_free(decoder);

    if (status == FQ_OK)
        status = fq_image_apply_orientation(rgb, orientation, err);
    if (status != FQ_OK)
        fq_image_free(rgb);
    return status;
}
