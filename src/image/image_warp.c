/* Affine warp with bilinear sampling, in OpenCV's warpAffine convention (INTER_LINEAR,
 * BORDER_CONSTANT 0): destination pixel (x, y), at integer coordinates, takes the source at
 * M^-1 (x, y); each of the four neighbours that falls outside the source counts as black, so
 * edges fade over one pixel and a pixel mapping wholly outside is 0.
 *
 * Sampling is in double with weights rounded to the nearest level; OpenCV quantizes positions
 * to 1/32 pixel and weights to 15 bits, so the two can differ by a level.
 */
#include <math.h>
#include <string.h>

#include "image/image_internal.h"

/* The inverse of x' = m0 x + m1 y + m2, y' = m3 x + m4 y + m5, in the same layout. */
static fq_status invert_affine(const float m[6], double inverse[6], fq_error *err)
{
    double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
    double det = a * e - b * d;
    if (!isfinite(det) || !isfinite(c) || !isfinite(f) || det == 0.0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "warp_affine: matrix [%g %g %g; %g %g %g] is not invertible",
                            a, b, c, d, e, f);

    double r = 1.0 / det;
    inverse[0] = e * r;
    inverse[1] = -b * r;
    inverse[3] = -d * r;
    inverse[4] = a * r;
    inverse[2] = -inverse[0] * c - inverse[1] * f;
    inverse[5] = -inverse[3] * c - inverse[4] * f;
    return FQ_OK;
}

/* Source pixel (x, y) channel ch, or 0 outside the image. */
static double source_value(const fq_image *src, int channels, int x, int y, int ch)
{
    if (x < 0 || y < 0 || x >= src->width || y >= src->height)
        return 0.0;
    return fq_image_row(src, y)[(size_t)x * (size_t)channels + (size_t)ch];
}

static void sample(const fq_image *src, int channels, double sx, double sy, uint8_t *out)
{
    double fx0 = floor(sx), fy0 = floor(sy);
    /* Far outside, the four neighbours are all black; this also keeps the casts in range. */
    if (fx0 < -1.0 || fy0 < -1.0 || fx0 >= (double)src->width || fy0 >= (double)src->height) {
        memset(out, 0, (size_t)channels);
        return;
    }

    int x0 = (int)fx0, y0 = (int)fy0;
    double ax = sx - fx0, ay = sy - fy0;
    for (int ch = 0; ch < channels; ch++) {
        double top = (1.0 - ax) * source_value(src, channels, x0, y0, ch) +
                     ax * source_value(src, channels, x0 + 1, y0, ch);
        double bottom = (1.0 - ax) * source_value(src, channels, x0, y0 + 1, ch) +
                        ax * source_value(src, channels, x0 + 1, y0 + 1, ch);
        double value = floor((1.0 - ay) * top + ay * bottom + 0.5);
        out[ch] = (uint8_t)(value < 0.0 ? 0.0 : value > 255.0 ? 255.0 : value);
    }
}

static void warp_rows(const fq_image *src, const double inverse[6], fq_image *dst)
{
    int channels = fq_image_channels(src->format);
    for (int y = 0; y < dst->height; y++) {
        uint8_t *out = fq_image_row_mut(dst, y);
        for (int x = 0; x < dst->width; x++) {
            double sx = inverse[0] * x + inverse[1] * y + inverse[2];
            double sy = inverse[3] * x + inverse[4] * y + inverse[5];
            sample(src, channels, sx, sy, out + (size_t)x * (size_t)channels);
        }
    }
}

/* The source may also be BGR or GRAY; the output has the source's format. */
fq_status fq_image_warp_affine(const fq_image *src, const float m[6], int out_width,
                               int out_height, fq_image *dst, fq_error *err)
{
    fq_status st = fq_image_check_resamplable(src, "warp_affine source", err);
    if (st != FQ_OK)
        return st;
    if (m == NULL || dst == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "warp_affine: %s is NULL",
                            m == NULL ? "matrix" : "output image");
    st = fq_image_check_size(out_width, out_height, "warp_affine output", err);
    if (st != FQ_OK)
        return st;

    double inverse[6] = {0};
    st = invert_affine(m, inverse, err);
    if (st != FQ_OK)
        return st;

    fq_image out;
    st = fq_image_alloc(&out, out_width, out_height, src->format, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "warp_affine");
    warp_rows(src, inverse, &out);
    *dst = out;
    return FQ_OK;
}
