/* Nearest resize as copies (see any_resize2d_nearest.h). */
#include <string.h>

#include "any_resize2d_nearest.h"

size_t fq_resize2d_nearest_workspace_size(const fq_resize2d_f32_params *p)
{
    return (size_t)(p->out_h + p->out_w) * sizeof(int64_t);
}

void fq_resize2d_nearest_plan_init(const fq_resize2d_f32_params *p, size_t pixel_bytes,
                                   void *workspace, fq_resize2d_nearest_plan *plan)
{
    int64_t *rows = workspace, *cols = rows + p->out_h;
    for (int64_t oh = 0; oh < p->out_h; oh++)
        rows[oh] = fq_ref_resize2d_nearest_index(p, 0, oh);
    bool doubles = true;
    for (int64_t ow = 0; ow < p->out_w; ow++) {
        cols[ow] = fq_ref_resize2d_nearest_index(p, 1, ow);
        doubles = doubles && cols[ow] == ow / 2;
    }
    *plan = (fq_resize2d_nearest_plan){
        .outer = p->planes, .in_h = p->in_h, .in_w = p->in_w, .out_h = p->out_h,
        .out_w = p->out_w, .pixel_bytes = pixel_bytes, .rows = rows, .cols = cols,
        .doubles_columns = doubles};
}

/* Each 4-byte element twice: the common case of fp32 NCHW upsampling by 2. */
static void double_elements_4(const uint8_t *x, int64_t out_w, uint8_t *y)
{
    int64_t pairs = out_w / 2;
    for (int64_t i = 0; i < pairs; i++) {
        uint32_t v;
        memcpy(&v, x + 4 * i, 4);
        memcpy(y + 8 * i, &v, 4);
        memcpy(y + 8 * i + 4, &v, 4);
    }
    if (out_w % 2 != 0)
        memcpy(y + 4 * (out_w - 1), x + 4 * pairs, 4);
}

static void build_row(const fq_resize2d_nearest_plan *plan, const uint8_t *src, uint8_t *dst)
{
    size_t bytes = plan->pixel_bytes;
    if (plan->doubles_columns && bytes == 4) {
        double_elements_4(src, plan->out_w, dst);
        return;
    }
    for (int64_t ow = 0; ow < plan->out_w; ow++)
        memcpy(dst + (size_t)ow * bytes, src + (size_t)plan->cols[ow] * bytes, bytes);
}

void fq_resize2d_nearest_rows(const fq_resize2d_nearest_plan *plan, const void *x, void *y,
                              int64_t row_begin, int64_t row_end)
{
    size_t in_row = (size_t)plan->in_w * plan->pixel_bytes;
    size_t out_row = (size_t)plan->out_w * plan->pixel_bytes;
    const uint8_t *xb = x;
    uint8_t *yb = y;
    for (int64_t r = row_begin; r < row_end; r++) {
        int64_t image = r / plan->out_h, oh = r % plan->out_h;
        uint8_t *dst = yb + (size_t)r * out_row;
        if (r > row_begin && oh > 0 && plan->rows[oh] == plan->rows[oh - 1]) {
            memcpy(dst, dst - out_row, out_row);
            continue;
        }
        const uint8_t *src = xb + ((size_t)image * (size_t)plan->in_h + (size_t)plan->rows[oh])
                                      * in_row;
        build_row(plan, src, dst);
    }
}
