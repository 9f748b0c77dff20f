/* EXIF orientation: reading tag 0x0112 from IFD0 of a TIFF-structured block, every offset
 * checked against the block's size, and turning the pixels upright. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/image_codecs.h"

enum {
    TIFF_HEADER_SIZE = 8,
    TIFF_MAGIC = 42,
    IFD_ENTRY_SIZE = 12,
    EXIF_TAG_ORIENTATION = 0x0112,
    TIFF_TYPE_SHORT = 3
};

static unsigned read_u16(const uint8_t *p, bool big_endian)
{
    return big_endian ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t read_u32(const uint8_t *p, bool big_endian)
{
    if (big_endian)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* True when size bytes starting at offset lie inside a block of block_size bytes. */
static bool fits(size_t offset, size_t size, size_t block_size)
{
    return offset <= block_size && size <= block_size - offset;
}

static int orientation_of_entry(const uint8_t *entry, bool big_endian)
{
    unsigned type = read_u16(entry + 2, big_endian);
    uint32_t count = read_u32(entry + 4, big_endian);
    if (type != TIFF_TYPE_SHORT || count != 1)
        return 1;

    /* A single SHORT sits in the first two bytes of the value field. */
    unsigned value = read_u16(entry + 8, big_endian);
    return value >= 1 && value <= 8 ? (int)value : 1;
}

int fq_exif_orientation(const uint8_t *tiff, size_t size)
{
    if (tiff == NULL || size < TIFF_HEADER_SIZE)
        return 1;

    bool big_endian;
    if (tiff[0] == 'I' && tiff[1] == 'I')
        big_endian = false;
    else if (tiff[0] == 'M' && tiff[1] == 'M')
        big_endian = true;
    else
        return 1;
    if (read_u16(tiff + 2, big_endian) != TIFF_MAGIC)
        return 1;

    size_t ifd = read_u32(tiff + 4, big_endian);
    if (!fits(ifd, 2, size))
        return 1;
    size_t entry_count = read_u16(tiff + ifd, big_endian);

    for (size_t i = 0; i < entry_count; i++) {
        size_t entry = ifd + 2 + i * IFD_ENTRY_SIZE;
        if (!fits(entry, IFD_ENTRY_SIZE, size))
            return 1;
        if (read_u16(tiff + entry, big_endian) == EXIF_TAG_ORIENTATION)
            return orientation_of_entry(tiff + entry, big_endian);
    }
    return 1;
}

/* Where output pixel (x, y) is read from: byte offset start + x * step_x + y * step_y of the
 * source. */
typedef struct pixel_walk {
    ptrdiff_t start;
    ptrdiff_t step_x;
    ptrdiff_t step_y;
} pixel_walk;

static pixel_walk walk_for_orientation(const fq_image *src, int orientation)
{
    ptrdiff_t pixel = 3;
    ptrdiff_t row = (ptrdiff_t)src->stride;
    ptrdiff_t last_column = (ptrdiff_t)(src->width - 1) * pixel;
    ptrdiff_t last_row = (ptrdiff_t)(src->height - 1) * row;

    switch (orientation) {
    case 2: return (pixel_walk){last_column, -pixel, row};
    case 3: return (pixel_walk){last_row + last_column, -pixel, -row};
    case 4: return (pixel_walk){last_row, pixel, -row};
    case 5: return (pixel_walk){0, row, pixel};
    case 6: return (pixel_walk){last_row, -row, pixel};
    case 7: return (pixel_walk){last_row + last_column, -row, -pixel};
    case 8: return (pixel_walk){last_column, row, -pixel};
    default: return (pixel_walk){0, pixel, row};
    }
}

fq_status fq_image_apply_orientation(fq_image *rgb, int orientation, fq_error *err)
{
    if (orientation < 2 || orientation > 8)
        return FQ_OK;

    bool swaps_sides = orientation >= 5;
    fq_image upright = {0};
    fq_status status = fq_image_alloc(&upright, swaps_sides ? rgb->height : rgb->width,
                                      swaps_sides ? rgb->width : rgb->height, FQ_PIXEL_RGB, err);
    if (status != FQ_OK)
        return status;

    pixel_walk walk = walk_for_orientation(rgb, orientation);
    for (int y = 0; y < upright.height; y++) {
        uint8_t *out = upright.data + (size_t)y * upright.stride;
        ptrdiff_t from = walk.start + y * walk.step_y;
        for (int x = 0; x < upright.width; x++) {
            memcpy(out + (size_t)x * 3, rgb->data + from, 3);
            from += walk.step_x;
        }
    }

    fq_image_free(rgb);
    *rgb = upright;
    return FQ_OK;
}
