/* qs8 depthwise 3x3 row kernel, 16 channels a step, AVX-512 (F, BW, VL): vpmaddwd then vpaddd
 * (see qs8_dwconv3x3_row_avx512.h). */
#define QS8_DW_MAC(acc, x, w) _mm512_add_epi32((acc), _mm512_madd_epi16((x), (w)))
#include "x86/avx512/qs8_dwconv3x3_row_avx512.h"

void fq_qs8_dwconv3x3_row_ukernel_16c__avx512(const fq_qs8_dwconv_row *row,
                                              const void *packed_w, uint8_t *output,
                                              const fq_qs8_requant_params *params)
{
    qs8_dw_row(row, packed_w, output, params);
}
