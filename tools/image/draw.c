/* Drawing boxes and points on RGB images, clipped to the image. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/image_io.h"

/* Coordinates are clamped to this range before rounding, so no float-to-int conversion
 * overflows; anything beyond it is off the image anyway. */
#define DRAW_COORDINATE_BOUND 1.0e9f

typedef struct draw_color {
    uint8_t r, g, b;
} draw_color;

static bool can_draw_on(const fq_image *image)
{
    return image != NULL && image->data != NULL && image->format == FQ_PIXEL_RGB &&
           image->width > 0 && image->height > 0;
}

static int64_t to_pixel(float coordinate)
{
    float bounded = fminf(fmaxf(coordinate, -DRAW_COORDINATE_BOUND), DRAW_COORDINATE_BOUND);
    return (int64_t)lrintf(bounded);
}

static int64_t clamp64(int64_t value, int64_t lo, int64_t hi)
{
    return value < lo ? lo : value > hi ? hi : value;
}

static void put_pixel(fq_image *image, int64_t x, int64_t y, draw_color color)
{
    uint8_t *pixel = image->data + (size_t)y * image->stride + (size_t)x * 3;
    pixel[0] = color.r;
    pixel[1] = color.g;
    pixel[2] = color.b;
}

/* Fills columns x0..x1 and rows y0..y1 (inclusive), the part inside the image. */
static void fill_rect(fq_image *image, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
                      draw_color color)
{
    x0 = clamp64(x0, 0, image->width);
    x1 = clamp64(x1, -1, image->width - 1);
    y0 = clamp64(y0, 0, image->height);
    y1 = clamp64(y1, -1, image->height - 1);
    for (int64_t y = y0; y <= y1; y++) {
        for (int64_t x = x0; x <= x1; x++)
            put_pixel(image, x, y, color);
    }
}

void fq_draw_box(fq_image *rgb, const float box[4], uint8_t r, uint8_t g, uint8_t b,
                 int thickness)
{
    if (!can_draw_on(rgb) || box == NULL || thickness < 1)
        return;
    for (int i = 0; i < 4; i++) {
        if (isnan(box[i]))
            return;
    }

    /* The box covers columns round(x1) .. round(x2) - 1, and rows alike. */
    int64_t left = to_pixel(fminf(box[0], box[2]));
    int64_t right = to_pixel(fmaxf(box[0], box[2])) - 1;
    int64_t top = to_pixel(fminf(box[1], box[3]));
    int64_t bottom = to_pixel(fmaxf(box[1], box[3])) - 1;
    right = right < left ? left : right;
    bottom = bottom < top ? top : bottom;

    draw_color color = {r, g, b};
    int64_t t = thickness;
    fill_rect(rgb, left, top, right, top + t - 1, color);
    fill_rect(rgb, left, bottom - t + 1, right, bottom, color);
    fill_rect(rgb, left, top, left + t - 1, bottom, color);
    fill_rect(rgb, right - t + 1, top, right, bottom, color);
}

void fq_draw_point(fq_image *rgb, float x, float y, int radius, uint8_t r, uint8_t g,
                   uint8_t b)
{
    if (!can_draw_on(rgb) || isnan(x) || isnan(y) || radius < 0)
        return;

    int64_t cx = to_pixel(x);
    int64_t cy = to_pixel(y);
    int64_t reach = radius;
    int64_t y0 = clamp64(cy - reach, 0, rgb->height);
    int64_t y1 = clamp64(cy + reach, -1, rgb->height - 1);
    int64_t x0 = clamp64(cx - reach, 0, rgb->width);
    int64_t x1 = clamp64(cx + reach, -1, rgb->width - 1);
    draw_color color = {r, g, b};

    for (int64_t py = y0; py <= y1; py++) {
        for (int64_t px = x0; px <= x1; px++) {
            int64_t dx = px - cx;
            int64_t dy = py - cy;
            if (dx * dx + dy * dy <= reach * reach)
                put_pixel(rgb, px, py, color);
        }
    }
}
