/* Byte matrix transpose, the layout change at the borders of an int8 region: NCHW -> NHWC is
 * one [C, H*W] -> [H*W, C] transpose per image, NHWC -> NCHW the reverse.
 *
 * out[j * rows + i] = in[i * cols + j] for rows i in [block->row_begin, block->row_end) and
 * columns j in [block->col_begin, block->col_end), so callers can split the matrix over
 * threads. The loop goes in square tiles that stay in L1. */
#ifndef FQ_KERNELS_REF_QU8_TRANSPOSE2D_REF_H
#define FQ_KERNELS_REF_QU8_TRANSPOSE2D_REF_H

#include <stdint.h>

enum { FQ_QU8_TRANSPOSE_TILE = 32 };

typedef struct fq_qu8_transpose_block {
    int64_t row_begin, row_end;
    int64_t col_begin, col_end;
} fq_qu8_transpose_block;

void fq_qu8_transpose2d_ref(int64_t rows, int64_t cols, const fq_qu8_transpose_block *block,
                            const uint8_t *in, uint8_t *out);

#endif
