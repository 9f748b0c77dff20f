/* JPEG decoding for the face tests (see jpeg_decode.h). */
#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>

#include "jpeg_decode.h"

typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
} jpeg_failure;

static void on_jpeg_error(j_common_ptr cinfo)
{
    longjmp(((jpeg_failure *)cinfo->err)->jump, 1);
}

static bool decode_rows(struct jpeg_decompress_struct *cinfo, fq_image *rgb)
{
    jpeg_start_decompress(cinfo);
    if (fq_image_alloc(rgb, (int)cinfo->output_width, (int)cinfo->output_height, FQ_PIXEL_RGB,
                       NULL) != FQ_OK)
        return false;
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = rgb->data + (size_t)cinfo->output_scanline * rgb->stride;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);
    return true;
}

bool fq_test_read_jpeg(const char *path, fq_image *rgb)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    volatile bool ok = false;
    rgb->data = NULL;
    rgb->owned = false;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = on_jpeg_error;
    if (setjmp(failure.jump) == 0) {
        jpeg_create_decompress(&cinfo);
        jpeg_stdio_src(&cinfo, f);
        jpeg_read_header(&cinfo, TRUE);
        cinfo.out_color_space = JCS_RGB;
        ok = decode_rows(&cinfo, rgb);
    } else {
        fq_image_free(rgb);
    }
    jpeg_destroy_decompress(&cinfo);
    fclose(f);
    return ok;
}
