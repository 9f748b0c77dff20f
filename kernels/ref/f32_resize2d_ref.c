/* Reference fp32 nearest and bilinear resize. */
#include <math.h>

#include "ref/f32_resize2d_ref.h"

/* Where output coordinate x along one axis samples the input. */
typedef struct axis_tap {
    int64_t first;  /* lower neighbour (the nearest sample in nearest mode) */
    int64_t second; /* upper neighbour */
    float weight;   /* of the upper neighbour */
} axis_tap;

static float source_coordinate(fq_resize_coordinates mode, int64_t x, float scale, int64_t in,
                               float length)
{
    float xf = (float)x;
    switch (mode) {
    case FQ_RESIZE_HALF_PIXEL:
        return (xf + 0.5f) / scale - 0.5f;
    case FQ_RESIZE_PYTORCH_HALF_PIXEL:
        return length > 1.0f ? (xf + 0.5f) / scale - 0.5f : 0.0f;
    case FQ_RESIZE_ALIGN_CORNERS:
        return length > 1.0f ? xf * (float)(in - 1) / (length - 1.0f) : 0.0f;
    case FQ_RESIZE_ASYMMETRIC:
        return xf / scale;
    case FQ_RESIZE_TF_HALF_PIXEL_FOR_NEAREST:
        return (xf + 0.5f) / scale;
    }
    return 0.0f;
}

static float round_coordinate(fq_resize_rounding rounding, float v, float scale)
{
    switch (rounding) {
    case FQ_RESIZE_ROUND_PREFER_FLOOR:
        return v == floorf(v) + 0.5f ? floorf(v) : roundf(v);
    case FQ_RESIZE_ROUND_PREFER_CEIL:
        return v == floorf(v) + 0.5f ? ceilf(v) : roundf(v);
    case FQ_RESIZE_FLOOR:
        return floorf(v);
    case FQ_RESIZE_CEIL:
        return ceilf(v);
    case FQ_RESIZE_SIMPLE:
        return scale < 1.0f ? ceilf(v) : floorf(v);
    }
    return v;
}

static int64_t clamp_index(float v, int64_t in)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= (float)(in - 1))
        return in - 1;
    return (int64_t)v;
}

static axis_tap axis_tap_at(const fq_resize2d_f32_params *p, int64_t x, float scale, int64_t in,
                            float length)
{
    float v = source_coordinate(p->coordinates, x, scale, in, length);
    axis_tap tap;
    if (p->mode == FQ_RESIZE_NEAREST) {
        tap.first = clamp_index(round_coordinate(p->rounding, v, scale), in);
        tap.second = tap.first;
        tap.weight = 0.0f;
        return tap;
    }

    float clamped = v < 0.0f ? 0.0f : v > (float)(in - 1) ? (float)(in - 1) : v;
    tap.first = clamp_index(clamped, in);
    tap.second = tap.first + 1 < in ? tap.first + 1 : in - 1;
    tap.weight = clamped - (float)tap.first;
    return tap;
}

size_t fq_ref_resize2d_f32_workspace_size(const fq_resize2d_f32_params *p)
{
    return (size_t)p->out_w * sizeof(axis_tap);
}

static float sample(const fq_resize2d_f32_params *p, const float *xp, axis_tap row,
                    axis_tap col)
{
    int64_t in_w = p->in_w;
    if (p->mode == FQ_RESIZE_NEAREST)
        return xp[row.first * in_w + col.first];
    const float *top = xp + row.first * in_w;
    const float *bottom = xp + row.second * in_w;
    float upper = top[col.first] + col.weight * (top[col.second] - top[col.first]);
    float lower = bottom[col.first] + col.weight * (bottom[col.second] - bottom[col.first]);
    return upper + row.weight * (lower - upper);
}

void fq_ref_resize2d_f32(const fq_resize2d_f32_params *p, const float *x, float *y,
                         void *workspace)
{
    axis_tap *cols = workspace;
    for (int64_t ow = 0; ow < p->out_w; ow++)
        cols[ow] = axis_tap_at(p, ow, p->scale_w, p->in_w, p->length_w);

    for (int64_t plane = 0; plane < p->planes; plane++) {
        const float *xp = x + plane * p->in_h * p->in_w;
        float *yp = y + plane * p->out_h * p->out_w;
        for (int64_t oh = 0; oh < p->out_h; oh++) {
            axis_tap row = axis_tap_at(p, oh, p->scale_h, p->in_h, p->length_h);
            for (int64_t ow = 0; ow < p->out_w; ow++)
                yp[oh * p->out_w + ow] = sample(p, xp, row, cols[ow]);
        }
    }
}

int64_t fq_ref_resize2d_nearest_index(const fq_resize2d_f32_params *p, int axis, int64_t at)
{
    if (axis == 0)
        return axis_tap_at(p, at, p->scale_h, p->in_h, p->length_h).first;
    return axis_tap_at(p, at, p->scale_w, p->in_w, p->length_w).first;
}
