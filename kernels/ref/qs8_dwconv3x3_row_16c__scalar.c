/* Portable qs8 depthwise 3x3 row microkernel on the packed layout of kernels/qs8_dwconv.h: the
 * twin of the SIMD row kernels, computing each output pixel from its nine taps directly. */
#include <string.h>

#include "qs8_dwconv.h"

static const uint8_t *tap(const fq_qs8_dwconv_row *row, size_t r, size_t ix)
{
    return ix < row->in_width ? row->rows[r] + ix * row->pixel_step[r] : row->pad_row;
}

/* Output pixel ox, channels [c0, c0 + n) of one packed tile. */
static void pixel_tile(const fq_qs8_dwconv_row *row, size_t ox, size_t c0, size_t n,
                       const uint8_t *tile, uint8_t *output, const fq_qs8_requant_params *params)
{
    int32_t acc[FQ_QS8_DWCONV_TILE];
    float multiplier[FQ_QS8_DWCONV_TILE];
    const int8_t *w = (const int8_t *)(tile + sizeof(acc));
    memcpy(acc, tile, sizeof(acc));
    memcpy(multiplier, w + FQ_QS8_DWCONV_TAPS * FQ_QS8_DWCONV_TILE, sizeof(multiplier));

    size_t ix0 = ox * row->stride - row->pad_left; /* wraps left of the input */
    for (size_t r = 0; r < 3; r++)
        for (size_t q = 0; q < 3; q++) {
            const uint8_t *x = tap(row, r, ix0 + q) + c0;
            const int8_t *wt = w + (3 * r + q) * FQ_QS8_DWCONV_TILE;
            for (size_t j = 0; j < n; j++)
                acc[j] += (int32_t)x[j] * wt[j];
        }
    for (size_t j = 0; j < n; j++)
        output[c0 + j] = fq_qs8_requantize(acc[j], multiplier[j], params);
}

void fq_qs8_dwconv3x3_row_ukernel_16c__scalar(const fq_qs8_dwconv_row *row,
                                              const void *packed_w, uint8_t *output,
                                              const fq_qs8_requant_params *params)
{
    size_t channels = row->channels;
    for (size_t ox = 0; ox < row->out_width; ox++) {
        const uint8_t *tile = packed_w;
        for (size_t c0 = 0; c0 < channels; c0 += FQ_QS8_DWCONV_TILE) {
            size_t n = channels - c0 < FQ_QS8_DWCONV_TILE ? channels - c0 : FQ_QS8_DWCONV_TILE;
            pixel_tile(row, ox, c0, n, tile, output + ox * channels, params);
            tile += FQ_QS8_DWCONV_TILE_BYTES;
        }
    }
}
