/* qs8 depthwise 3x3 row kernel, 16 channels a step, AVX512-VNNI: vpdpwssd multiplies and
 * accumulates in one instruction (see x86/avx512/qs8_dwconv3x3_row_avx512.h). */
#define QS8_DW_MAC(acc, x, w) _mm512_dpwssd_epi32((acc), (x), (w))
#include "x86/avx512/qs8_dwconv3x3_row_avx512.h"

void fq_qs8_dwconv3x3_row_ukernel_16c__avx512vnni(const fq_qs8_dwconv_row *row,
                                                  const void *packed_w, uint8_t *output,
                                                  const fq_qs8_requant_params *params)
{
    qs8_dw_row(row, packed_w, output, params);
}
