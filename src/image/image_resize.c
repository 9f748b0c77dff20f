/* Antialiased bilinear resize, bit-exact with Pillow's Image.resize(size, Image.BILINEAR), and
 * the letterbox the detectors take.
 *
 * Each output pixel i of an axis has its centre at (i + 0.5) * scale in input coordinates, with
 * scale = in / out. The triangle filter is stretched by max(scale, 1), so a downscale averages
 * every input pixel under the output pixel. Weights are computed in double, normalized to sum 1
 * and rounded to fixed point with 22 fraction bits; a pass adds half a unit and shifts, then
 * clamps to 0..255. The horizontal pass runs first, over the input rows the vertical pass reads,
 * into an 8-bit intermediate. Integer sums cannot overflow: weights are non-negative and sum to
 * about 1 << 22, so a sum stays below 256 << 22.
 */
#include <math.h>
#include <string.h>

#include "facequant/alloc.h"
#include "image/image_internal.h"

#define WEIGHT_BITS 22
#define WEIGHT_HALF (1 << (WEIGHT_BITS - 1))

/* The filter taps of every output pixel of one axis. */
typedef struct resample_axis {
    int taps;         /* room for weights per output pixel */
    int *first;       /* first input pixel of each output pixel */
    int *count;       /* number of input pixels it reads */
    int32_t *weights; /* taps per output pixel, WEIGHT_BITS fraction bits */
} resample_axis;

static void axis_free(resample_axis *axis)
{
    fq_free(axis->first);
    fq_free(axis->count);
    fq_free(axis->weights);
    memset(axis, 0, sizeof(*axis));
}

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Weights of one output pixel centred at centre, for input pixels *first onwards; returns how
 * many input pixels it reads. */
static int pixel_weights(double centre, double support, double filter_scale, int in_size,
                         int taps, double *w, int *first)
{
    double inverse_scale = 1.0 / filter_scale;
    int lo = (int)(centre - support + 0.5);
    int hi = (int)(centre + support + 0.5);
    lo = lo < 0 ? 0 : lo;
    hi = hi > in_size ? in_size : hi;
    int count = hi - lo;
    count = count > taps ? taps : count;
    *first = lo;

    double sum = 0.0;
    for (int j = 0; j < count; j++) {
        w[j] = triangle(((double)(lo + j) - centre + 0.5) * inverse_scale);
        sum += w[j];
    }
    for (int j = 0; j < count && sum != 0.0; j++)
        w[j] /= sum;
    return count;
}

static fq_status axis_init(resample_axis *axis, int in_size, int out_size, fq_error *err)
{
    memset(axis, 0, sizeof(*axis));
    double scale = (double)in_size / (double)out_size;
    double filter_scale = scale < 1.0 ? 1.0 : scale;
    double support = filter_scale;
    axis->taps = (int)ceil(support) * 2 + 1;

    size_t n = (size_t)out_size;
    axis->first = fq_malloc(n * sizeof(int));
    axis->count = fq_malloc(n * sizeof(int));
    axis->weights = fq_calloc(n * (size_t)axis->taps, sizeof(int32_t));
    double *w = fq_malloc((size_t)axis->taps * sizeof(double));
    if (axis->first == NULL || axis->count == NULL || axis->weights == NULL || w == NULL) {
        fq_free(w);
        axis_free(axis);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "resize: filter taps for %d -> %d pixels",
                            in_size, out_size);
    }

    for (int i = 0; i < out_size; i++) {
        double centre = ((double)i + 0.5) * scale;
        int count = pixel_weights(centre, support, filter_scale, in_size, axis->taps, w,
                                  &axis->first[i]);
        int32_t *k = axis->weights + (size_t)i * (size_t)axis->taps;
        for (int j = 0; j < count; j++)
            k[j] = (int32_t)(0.5 + w[j] * (double)(1 << WEIGHT_BITS));
        axis->count[i] = count;
    }
    fq_free(w);
    return FQ_OK;
}

static uint8_t clamp_fixed(int32_t sum)
{
    if (sum <= 0)
        return 0;
    int32_t value = sum >> WEIGHT_BITS;
    return (uint8_t)(value > 255 ? 255 : value);
}

static void horizontal_row_rgb(const uint8_t *in, uint8_t *out, const resample_axis *axis,
                               int out_width)
{
    for (int i = 0; i < out_width; i++) {
        const uint8_t *p = in + (size_t)axis->first[i] * 3;
        const int32_t *k = axis->weights + (size_t)i * (size_t)axis->taps;
        int32_t s0 = WEIGHT_HALF, s1 = WEIGHT_HALF, s2 = WEIGHT_HALF;
        for (int j = 0; j < axis->count[i]; j++) {
            s0 += p[3 * j + 0] * k[j];
            s1 += p[3 * j + 1] * k[j];
            s2 += p[3 * j + 2] * k[j];
        }
        out[3 * i + 0] = clamp_fixed(s0);
        out[3 * i + 1] = clamp_fixed(s1);
        out[3 * i + 2] = clamp_fixed(s2);
    }
}

static void horizontal_row_gray(const uint8_t *in, uint8_t *out, const resample_axis *axis,
                                int out_width)
{
    for (int i = 0; i < out_width; i++) {
        const uint8_t *p = in + axis->first[i];
        const int32_t *k = axis->weights + (size_t)i * (size_t)axis->taps;
        int32_t sum = WEIGHT_HALF;
        for (int j = 0; j < axis->count[i]; j++)
            sum += p[j] * k[j];
        out[i] = clamp_fixed(sum);
    }
}

/* Filters rows first_row .. first_row + dst->height - 1 of src into the rows of dst. */
static void horizontal_pass(const fq_image *src, int first_row, const resample_axis *axis,
                            fq_image *dst)
{
    for (int y = 0; y < dst->height; y++) {
        const uint8_t *in = fq_image_row(src, first_row + y);
        uint8_t *out = fq_image_row_mut(dst, y);
        if (fq_image_channels(src->format) == 3)
            horizontal_row_rgb(in, out, axis, dst->width);
        else
            horizontal_row_gray(in, out, axis, dst->width);
    }
}

/* Filters columns; row indices in axis are relative to the first row of src. The sum for a whole
 * output row is built in sums (one int32 per byte of the row), one input row at a time. */
static void vertical_pass(const fq_image *src, int row_offset, const resample_axis *axis,
                          int32_t *sums, fq_image *dst)
{
    size_t row_bytes = (size_t)dst->width * (size_t)fq_image_channels(dst->format);

    for (int y = 0; y < dst->height; y++) {
        const int32_t *k = axis->weights + (size_t)y * (size_t)axis->taps;
        for (size_t b = 0; b < row_bytes; b++)
            sums[b] = WEIGHT_HALF;

        for (int j = 0; j < axis->count[y]; j++) {
            const uint8_t *in = fq_image_row(src, axis->first[y] - row_offset + j);
            int32_t weight = k[j];
            for (size_t b = 0; b < row_bytes; b++)
                sums[b] += in[b] * weight;
        }

        uint8_t *out = fq_image_row_mut(dst, y);
        for (size_t b = 0; b < row_bytes; b++)
            out[b] = clamp_fixed(sums[b]);
    }
}

static void copy_rows(const fq_image *src, fq_image *dst)
{
    size_t row_bytes = (size_t)src->width * (size_t)fq_image_channels(src->format);
    for (int y = 0; y < src->height; y++)
        memcpy(fq_image_row_mut(dst, y), fq_image_row(src, y), row_bytes);
}

/* The vertical pass with its row of sums; axis rows are relative to row row_offset of the
 * original image, which is row 0 of src. */
static fq_status run_vertical(const fq_image *src, int row_offset, const resample_axis *axis,
                              fq_image *dst, fq_error *err)
{
    size_t row_bytes = (size_t)dst->width * (size_t)fq_image_channels(dst->format);
    int32_t *sums = fq_malloc(row_bytes * sizeof(int32_t));
    if (sums == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "resize: row sums of %zu bytes", row_bytes);
    vertical_pass(src, row_offset, axis, sums, dst);
    fq_free(sums);
    return FQ_OK;
}

/* Horizontal pass into an intermediate holding only the rows the vertical pass reads. */
static fq_status run_both(const fq_image *src, const resample_axis *horizontal,
                          const resample_axis *vertical, fq_image *dst, fq_error *err)
{
    int first_row = vertical->first[0];
    int last_row = vertical->first[dst->height - 1] + vertical->count[dst->height - 1];

    fq_image tmp;
    fq_status st = fq_image_alloc(&tmp, dst->width, last_row - first_row, src->format, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "resize intermediate");
    horizontal_pass(src, first_row, horizontal, &tmp);
    st = run_vertical(&tmp, first_row, vertical, dst, err);
    fq_image_free(&tmp);
    return st;
}

/* Resizes src into dst, an image (or a view into a larger one) of the target size and the
 * source's format. A pass whose size does not change is skipped, as Pillow skips it. */
static fq_status resize_into(const fq_image *src, fq_image *dst, fq_error *err)
{
    bool horizontal = dst->width != src->width;
    bool vertical = dst->height != src->height;
    if (!horizontal && !vertical) {
        copy_rows(src, dst);
        return FQ_OK;
    }

    resample_axis h_axis = {0}, v_axis = {0};
    fq_status st = FQ_OK;
    if (horizontal)
        st = axis_init(&h_axis, src->width, dst->width, err);
    if (st == FQ_OK && vertical)
        st = axis_init(&v_axis, src->height, dst->height, err);

    if (st == FQ_OK && !vertical)
        horizontal_pass(src, 0, &h_axis, dst);
    else if (st == FQ_OK && !horizontal)
        st = run_vertical(src, 0, &v_axis, dst, err);
    else if (st == FQ_OK)
        st = run_both(src, &h_axis, &v_axis, dst, err);
    axis_free(&h_axis);
    axis_free(&v_axis);
    return st;
}

fq_status fq_image_resize(const fq_image *src, int width, int height, fq_image *dst,
                          fq_error *err)
{
    fq_status st = fq_image_check_resamplable(src, "resize source", err);
    if (st != FQ_OK)
        return st;
    if (dst == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "resize: output image is NULL");
    st = fq_image_check_size(width, height, "resize output", err);
    if (st != FQ_OK)
        return st;

    fq_image out;
    st = fq_image_alloc(&out, width, height, src->format, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "resize");
    st = resize_into(src, &out, err);
    if (st != FQ_OK) {
        fq_image_free(&out);
        return st;
    }
    *dst = out;
    return FQ_OK;
}

/* InsightFace's rule, in double: the side that is longer relative to the output is scaled to
 * the output's size and the other one truncated. */
static fq_status letterbox_size(int width, int height, int out_width, int out_height,
                                fq_letterbox *box, fq_error *err)
{
    double image_ratio = (double)height / (double)width;
    double model_ratio = (double)out_height / (double)out_width;
    if (image_ratio > model_ratio) {
        box->height = out_height;
        box->width = (int)((double)box->height / image_ratio);
    } else {
        box->width = out_width;
        box->height = (int)((double)box->width * image_ratio);
    }
    box->width = box->width > out_width ? out_width : box->width;
    box->height = box->height > out_height ? out_height : box->height;
    box->scale = (float)((double)box->height / (double)height);

    if (box->width < 1 || box->height < 1)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "letterbox: a %d x %d image scaled into %d x %d is %d x %d pixels",
                            width, height, out_width, out_height, box->width, box->height);
    return FQ_OK;
}

static fq_status letterbox_rgb(const fq_image *rgb, int out_width, int out_height,
                               fq_image *dst, fq_letterbox *info, fq_error *err)
{
    fq_letterbox box;
    fq_status st = letterbox_size(rgb->width, rgb->height, out_width, out_height, &box, err);
    if (st != FQ_OK)
        return st;

    fq_image canvas;
    st = fq_image_alloc(&canvas, out_width, out_height, FQ_PIXEL_RGB, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "letterbox");

    fq_image content = fq_image_view(canvas.data, box.width, box.height, FQ_PIXEL_RGB,
                                     canvas.stride);
    st = resize_into(rgb, &content, err);
    if (st != FQ_OK) {
        fq_image_free(&canvas);
        return fq_error_prefix(err, st, "letterbox");
    }
    *dst = canvas;
    if (info != NULL)
        *info = box;
    return FQ_OK;
}

/* A source in another format is converted to RGB first. */
fq_status fq_image_letterbox(const fq_image *src, int out_width, int out_height, fq_image *dst,
                             fq_letterbox *info, fq_error *err)
{
    fq_status st = fq_image_check(src, "letterbox source", err);
    if (st != FQ_OK)
        return st;
    if (dst == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "letterbox: output image is NULL");
    st = fq_image_check_size(out_width, out_height, "letterbox output", err);
    if (st != FQ_OK)
        return st;
    if (src->format == FQ_PIXEL_RGB)
        return letterbox_rgb(src, out_width, out_height, dst, info, err);

    fq_image rgb;
    st = fq_image_to_rgb(src, &rgb, err);
    if (st != FQ_OK)
        return fq_error_prefix(err, st, "letterbox");
    st = letterbox_rgb(&rgb, out_width, out_height, dst, info, err);
    fq_image_free(&rgb);
    return st;
}
