/* Tiled 32-bit transpose: see x32_transpose2d_ref.h. */
#include "ref/x32_transpose2d_ref.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

void fq_x32_transpose2d_ref(int64_t rows, int64_t cols, const fq_qu8_transpose_block *block,
                            const uint32_t *in, uint32_t *out)
{
    const int64_t tile = FQ_QU8_TRANSPOSE_TILE;
    for (int64_t i0 = block->row_begin; i0 < block->row_end; i0 += tile) {
        int64_t i1 = min64(i0 + tile, block->row_end);
        for (int64_t j0 = block->col_begin; j0 < block->col_end; j0 += tile) {
            int64_t j1 = min64(j0 + tile, block->col_end);
            for (int64_t j = j0; j < j1; j++)
                for (int64_t i = i0; i < i1; i++)
                    out[j * rows + i] = in[i * cols + j];
        }
    }
}
