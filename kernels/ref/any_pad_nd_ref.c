/* Reference N-D constant / edge / reflect pad. */
#include <stdbool.h>
#include <string.h>

#include "ref/any_pad_nd_ref.h"

/* Input coordinate read by output coordinate o along an axis of length in; -1 for the fill. */
static int64_t source_index(const fq_pad_nd_params *p, int64_t o, int64_t pad, int64_t in)
{
    int64_t i = o - pad;
    if (i >= 0 && i < in)
        return i;
    if (p->mode == FQ_PAD_CONSTANT)
        return -1;
    if (p->mode == FQ_PAD_EDGE || in == 1)
        return i < 0 ? 0 : in - 1;

    int64_t period = 2 * (in - 1);
    int64_t r = i % period;
    r = r < 0 ? r + period : r;
    return r < in ? r : period - r;
}

void fq_ref_pad_nd_any(const fq_pad_nd_params *p, const void *x, void *y)
{
    int rank = p->rank;
    int64_t in_strides[FQ_PAD_MAX_RANK];
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
        in_strides[d] = stride;
        stride *= p->in_dims[d];
    }

    int64_t total = 1;
    for (int d = 0; d < rank; d++)
        total *= p->out_dims[d];

    int64_t coord[FQ_PAD_MAX_RANK] = {0};
    const unsigned char *src = x;
    unsigned char *dst = y;
    size_t size = p->element_size;
    for (int64_t n = 0; n < total; n++) {
        int64_t offset = 0;
        bool fill = false;
        for (int d = 0; d < rank && !fill; d++) {
            int64_t i = source_index(p, coord[d], p->pad_begin[d], p->in_dims[d]);
            fill = i < 0;
            offset += i * in_strides[d];
        }
        memcpy(dst + (size_t)n * size, fill ? p->fill : src + (size_t)offset * size, size);

        for (int d = rank - 1; d >= 0; d--) {
            if (++coord[d] < p->out_dims[d])
                break;
            coord[d] = 0;
        }
    }
}
