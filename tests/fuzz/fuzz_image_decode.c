/* libFuzzer target: any byte string given to fq_image_decode (format sniffing, the JPEG, PNG,
 * WebP and PNM decoders, EXIF orientation) must come back as a status, never as a crash, leak,
 * hang or sanitizer report. The limits are small so a declared size cannot make the run slow. */
#include <stddef.h>
#include <stdint.h>

#include "image/image_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fq_decode_limits limits = {
        .max_side = 4096,
        .max_pixels = 4 * 1000 * 1000,
        .max_file_bytes = (size_t)1 << 20,
    };
    fq_image rgb;
    fq_error err;
    if (fq_image_decode(data, size, &limits, &rgb, &err) == FQ_OK)
        fq_image_free(&rgb);
    return 0;
}
