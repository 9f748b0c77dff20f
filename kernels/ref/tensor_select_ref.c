/* Where: see tensor_select_ref.h. */
#include <string.h>

#include "ref/tensor_select_ref.h"

void fq_select_ref(const fq_broadcast_plan *plan, size_t elem, const uint8_t *cond,
                   const void *x, const void *y, void *out)
{
    const unsigned char *px = x;
    const unsigned char *py = y;
    unsigned char *po = out;
    int64_t cond_step = fq_broadcast_row_step(plan, 0);
    int64_t x_step = fq_broadcast_row_step(plan, 1);
    int64_t y_step = fq_broadcast_row_step(plan, 2);
    for (int64_t r = 0; r < plan->rows; r++) {
        int64_t offsets[3];
        fq_broadcast_row_offsets(plan, r, offsets);
        unsigned char *row = po + (size_t)(r * plan->row_len) * elem;
        for (int64_t i = 0; i < plan->row_len; i++) {
            int take_x = cond[offsets[0] + i * cond_step] != 0;
            const unsigned char *src = take_x ? px + (size_t)(offsets[1] + i * x_step) * elem
                                              : py + (size_t)(offsets[2] + i * y_step) * elem;
            memcpy(row + (size_t)i * elem, src, elem);
        }
    }
}
