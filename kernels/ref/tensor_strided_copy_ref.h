/* Data-movement kernels that read the input with per-dimension strides: Transpose and Slice.
 * They work on any dtype by element size (elem bytes). Shapes are checked by the caller. */
#ifndef FQ_KERNELS_TENSOR_STRIDED_COPY_REF_H
#define FQ_KERNELS_TENSOR_STRIDED_COPY_REF_H

#include <stddef.h>
#include <stdint.h>

/* out (contiguous, out_dims) gets in[base + sum(i_d * in_strides[d])]; strides are in elements
 * and may be negative or 0. */
void fq_strided_copy_ref(size_t elem, int rank, const int64_t *out_dims,
                         const int64_t *in_strides, int64_t base, const void *in, void *out);

/* out = in with dimensions permuted: out dim i is in dim perm[i]. */
void fq_transpose_ref(size_t elem, int rank, const int64_t *in_dims, const int *perm,
                      const void *in, void *out);

/* out[i] = in[starts + i * steps] per dimension; out_dims are the slice's sizes. */
void fq_slice_ref(size_t elem, int rank, const int64_t *in_dims, const int64_t *starts,
                  const int64_t *steps, const int64_t *out_dims, const void *in, void *out);

/* out (out_dims, each a multiple of in_dims) repeats in along every dimension (Tile). */
void fq_tile_ref(size_t elem, int rank, const int64_t *in_dims, const int64_t *out_dims,
                 const void *in, void *out);

#endif
