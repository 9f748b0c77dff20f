/* Gather and Concat: see tensor_gather_ref.h. */
#include <string.h>

#include "ref/tensor_gather_ref.h"

static int64_t index_at(const void *indices, int indices_i64, int64_t j, int64_t axis_dim)
{
    int64_t index = indices_i64 ? ((const int64_t *)indices)[j] : ((const int32_t *)indices)[j];
    return index < 0 ? index + axis_dim : index;
}

void fq_gather_ref(size_t elem, int64_t outer, int64_t axis_dim, int64_t inner, const void *in,
                   const void *indices, int indices_i64, int64_t n_indices, void *out)
{
    const unsigned char *src = in;
    unsigned char *dst = out;
    size_t block = (size_t)inner * elem;
    for (int64_t o = 0; o < outer; o++) {
        const unsigned char *plane = src + (size_t)(o * axis_dim) * block;
        for (int64_t j = 0; j < n_indices; j++) {
            int64_t index = index_at(indices, indices_i64, j, axis_dim);
            memcpy(dst, plane + (size_t)index * block, block);
            dst += block;
        }
    }
}

void fq_concat_part_ref(size_t elem, int64_t outer, int64_t in_block, int64_t out_block,
                        int64_t offset, const void *in, void *out)
{
    const unsigned char *src = in;
    unsigned char *dst = (unsigned char *)out + (size_t)offset * elem;
    size_t in_bytes = (size_t)in_block * elem;
    size_t out_bytes = (size_t)out_block * elem;
    for (int64_t o = 0; o < outer; o++)
        memcpy(dst + (size_t)o * out_bytes, src + (size_t)o * in_bytes, in_bytes);
}
