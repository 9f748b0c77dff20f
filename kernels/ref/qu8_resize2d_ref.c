/* u8 nearest and linear resize: see qu8_resize2d_ref.h. */
#include <math.h>
#include <stdbool.h>

#include "ref/qu8_requant_ref.h"
#include "ref/qu8_resize2d_ref.h"

typedef struct tap {
    int64_t first;
    int64_t second;
    float weight; /* of second */
} tap;

static float source_coordinate(const fq_resize2d_f32_params *p, int64_t x, float scale,
                               int64_t in, float length)
{
    float xf = (float)x;
    switch (p->coordinates) {
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

static float nearest_coordinate(fq_resize_rounding rounding, float v, float scale)
{
    bool half = v == floorf(v) + 0.5f;
    switch (rounding) {
    case FQ_RESIZE_ROUND_PREFER_FLOOR:
        return half ? floorf(v) : roundf(v);
    case FQ_RESIZE_ROUND_PREFER_CEIL:
        return half ? ceilf(v) : roundf(v);
    case FQ_RESIZE_FLOOR:
        return floorf(v);
    case FQ_RESIZE_CEIL:
        return ceilf(v);
    case FQ_RESIZE_SIMPLE:
        return scale < 1.0f ? ceilf(v) : floorf(v);
    }
    return v;
}

static int64_t index_in(float v, int64_t in)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= (float)(in - 1))
        return in - 1;
    return (int64_t)v;
}

static tap tap_at(const fq_resize2d_f32_params *p, int64_t x, float scale, int64_t in,
                  float length)
{
    float v = source_coordinate(p, x, scale, in, length);
    tap t = {0, 0, 0.0f};
    if (p->mode == FQ_RESIZE_NEAREST) {
        t.first = index_in(nearest_coordinate(p->rounding, v, scale), in);
        t.second = t.first;
        return t;
    }
    float clamped = v < 0.0f ? 0.0f : v > (float)(in - 1) ? (float)(in - 1) : v;
    t.first = index_in(clamped, in);
    t.second = t.first + 1 < in ? t.first + 1 : in - 1;
    t.weight = clamped - (float)t.first;
    return t;
}

size_t fq_qu8_resize2d_workspace_size(const fq_resize2d_f32_params *p)
{
    return (size_t)p->out_w * sizeof(tap);
}

static uint8_t linear_sample(const uint8_t *top, const uint8_t *bottom, int64_t inner, tap row,
                             tap col)
{
    float t0 = top[col.first * inner], t1 = top[col.second * inner];
    float b0 = bottom[col.first * inner], b1 = bottom[col.second * inner];
    float upper = t0 + col.weight * (t1 - t0);
    float lower = b0 + col.weight * (b1 - b0);
    return fq_qu8_requantize(upper + row.weight * (lower - upper), 0, 0);
}

static void resize_row(const fq_resize2d_f32_params *p, int64_t inner, const uint8_t *xp,
                       tap row, const tap *cols, uint8_t *yrow)
{
    const uint8_t *top = xp + row.first * p->in_w * inner;
    const uint8_t *bottom = xp + row.second * p->in_w * inner;
    for (int64_t ow = 0; ow < p->out_w; ow++) {
        uint8_t *out = yrow + ow * inner;
        if (p->mode == FQ_RESIZE_NEAREST) {
            const uint8_t *src = top + cols[ow].first * inner;
            for (int64_t c = 0; c < inner; c++)
                out[c] = src[c];
        } else {
            for (int64_t c = 0; c < inner; c++)
                out[c] = linear_sample(top + c, bottom + c, inner, row, cols[ow]);
        }
    }
}

void fq_qu8_resize2d_ref(const fq_resize2d_f32_params *p, int64_t inner, const uint8_t *x,
                         uint8_t *y, void *workspace)
{
    tap *cols = workspace;
    for (int64_t ow = 0; ow < p->out_w; ow++)
        cols[ow] = tap_at(p, ow, p->scale_w, p->in_w, p->length_w);

    for (int64_t plane = 0; plane < p->planes; plane++) {
        const uint8_t *xp = x + plane * p->in_h * p->in_w * inner;
        uint8_t *yp = y + plane * p->out_h * p->out_w * inner;
        for (int64_t oh = 0; oh < p->out_h; oh++) {
            tap row = tap_at(p, oh, p->scale_h, p->in_h, p->length_h);
            resize_row(p, inner, xp, row, cols, yp + oh * p->out_w * inner);
        }
    }
}
