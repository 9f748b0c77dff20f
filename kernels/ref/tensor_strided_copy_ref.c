/* Strided copies: see tensor_strided_copy_ref.h. */
#include <string.h>

#include "facequant/ir.h"

#include "ref/tensor_strided_copy_ref.h"

/* Copies n elements of E bytes from src (advancing stride elements) to contiguous dst; E is a
 * constant in each case so memcpy compiles to one load and store. */
#define COPY_ROW(E)                                                                             \
    for (int64_t i = 0; i < n; i++)                                                             \
        memcpy(dst + (size_t)i * (E), src + (ptrdiff_t)(i * stride) * (E), (E));                 \
    return

static void copy_row(size_t elem, const unsigned char *src, int64_t stride, unsigned char *dst,
                     int64_t n)
{
    if (stride == 1) {
        memcpy(dst, src, (size_t)n * elem);
        return;
    }
    switch (elem) {
    case 1: COPY_ROW(1);
    case 2: COPY_ROW(2);
    case 4: COPY_ROW(4);
    case 8: COPY_ROW(8);
    default: COPY_ROW(elem);
    }
}

void fq_strided_copy_ref(size_t elem, int rank, const int64_t *out_dims,
                         const int64_t *in_strides, int64_t base, const void *in, void *out)
{
    int64_t rows = 1;
    for (int d = 0; d < rank - 1; d++)
        rows *= out_dims[d];
    int64_t row_len = rank > 0 ? out_dims[rank - 1] : 1;
    int64_t row_stride = rank > 0 ? in_strides[rank - 1] : 1;
    if (row_len == 0)
        return;

    int64_t index[FQ_MAX_RANK] = {0};
    int64_t offset = base;
    unsigned char *dst = out;
    for (int64_t r = 0; r < rows; r++) {
        copy_row(elem, (const unsigned char *)in + (ptrdiff_t)offset * (ptrdiff_t)elem,
                 row_stride, dst + (size_t)(r * row_len) * elem, row_len);
        /* Advance the index of the outer dimensions like an odometer. */
        for (int d = rank - 2; d >= 0; d--) {
            offset += in_strides[d];
            if (++index[d] < out_dims[d])
                break;
            offset -= in_strides[d] * out_dims[d];
            index[d] = 0;
        }
    }
}

static void contiguous_strides(int rank, const int64_t *dims, int64_t *strides)
{
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
        strides[d] = stride;
        stride *= dims[d];
    }
}

void fq_transpose_ref(size_t elem, int rank, const int64_t *in_dims, const int *perm,
                      const void *in, void *out)
{
    int64_t in_strides[FQ_MAX_RANK], out_dims[FQ_MAX_RANK], strides[FQ_MAX_RANK];
    contiguous_strides(rank, in_dims, in_strides);
    for (int d = 0; d < rank; d++) {
        out_dims[d] = in_dims[perm[d]];
        strides[d] = in_strides[perm[d]];
    }
    fq_strided_copy_ref(elem, rank, out_dims, strides, 0, in, out);
}

void fq_slice_ref(size_t elem, int rank, const int64_t *in_dims, const int64_t *starts,
                  const int64_t *steps, const int64_t *out_dims, const void *in, void *out)
{
    int64_t in_strides[FQ_MAX_RANK], strides[FQ_MAX_RANK];
    int64_t base = 0;
    contiguous_strides(rank, in_dims, in_strides);
    for (int d = 0; d < rank; d++) {
        base += starts[d] * in_strides[d];
        strides[d] = steps[d] * in_strides[d];
    }
    fq_strided_copy_ref(elem, rank, out_dims, strides, base, in, out);
}

void fq_tile_ref(size_t elem, int rank, const int64_t *in_dims, const int64_t *out_dims,
                 const void *in, void *out)
{
    int64_t in_strides[FQ_MAX_RANK];
    contiguous_strides(rank, in_dims, in_strides);
    int64_t rows = 1;
    for (int d = 0; d < rank - 1; d++)
        rows *= out_dims[d];
    int64_t in_row = rank > 0 ? in_dims[rank - 1] : 1;
    int64_t out_row = rank > 0 ? out_dims[rank - 1] : 1;
    if (in_row == 0 || out_row == 0)
        return;

    size_t in_row_bytes = (size_t)in_row * elem;
    unsigned char *dst = out;
    for (int64_t r = 0; r < rows; r++) {
        int64_t rest = r, offset = 0;
        for (int d = rank - 2; d >= 0; d--) {
            offset += (rest % out_dims[d]) % in_dims[d] * in_strides[d];
            rest /= out_dims[d];
        }
        const unsigned char *src = (const unsigned char *)in + (size_t)offset * elem;
        for (int64_t k = 0; k < out_row / in_row; k++)
            memcpy(dst + (size_t)(r * out_row) * elem + (size_t)k * in_row_bytes, src,
                   in_row_bytes);
    }
}
