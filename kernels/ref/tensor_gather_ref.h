/* Gather and Concat: block copies along one axis, for any dtype by element size (elem bytes).
 * A tensor is seen as [outer, axis, inner]; shapes and index ranges are checked by the caller. */
#ifndef FQ_KERNELS_TENSOR_GATHER_REF_H
#define FQ_KERNELS_TENSOR_GATHER_REF_H

#include <stddef.h>
#include <stdint.h>

/* out[o, j, :] = in[o, indices[j], :] for j < n_indices, where a negative index counts from the
 * end of the axis. indices are int64 when indices_i64 is nonzero, else int32; every index is in
 * [-axis_dim, axis_dim). */
void fq_gather_ref(size_t elem, int64_t outer, int64_t axis_dim, int64_t inner, const void *in,
                   const void *indices, int indices_i64, int64_t n_indices, void *out);

/* Copies one input of a Concat: in is [outer, in_block] and lands in out ([outer, out_block])
 * at column offset; blocks and offset are in elements. */
void fq_concat_part_ref(size_t elem, int64_t outer, int64_t in_block, int64_t out_block,
                        int64_t offset, const void *in, void *out);

#endif
