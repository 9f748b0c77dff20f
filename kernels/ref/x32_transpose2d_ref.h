/* 32-bit element matrix transpose (f32 or i32 data moved as words), the twin of
 * ref/qu8_transpose2d_ref.h for float tensors at the borders of an int8 region (a detector
 * head's Transpose after its DequantizeLinear):
 *
 * out[j * rows + i] = in[i * cols + j] over the block, in tiles of FQ_QU8_TRANSPOSE_TILE. */
#ifndef FQ_KERNELS_REF_X32_TRANSPOSE2D_REF_H
#define FQ_KERNELS_REF_X32_TRANSPOSE2D_REF_H

#include <stdint.h>

#include "ref/qu8_transpose2d_ref.h"

void fq_x32_transpose2d_ref(int64_t rows, int64_t cols, const fq_qu8_transpose_block *block,
                            const uint32_t *in, uint32_t *out);

#endif
