/* qs8 GEMM, 8 rows x 32 channels, k in groups of 4, AVX512-VNNI (see qs8_gemm_c4_avx512vnni.h). */
#include "x86/avx512vnni/qs8_gemm_c4_avx512vnni.h"

void fq_qs8_gemm_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                            size_t a_stride, const void *packed_w, uint8_t *c,
                                            size_t c_stride, const fq_qs8_requant_params *params)
{
    qs8_gemm_c4_avx512vnni(mr, nc, kc, a, a_stride, packed_w, c, c_stride, params, 8, 2);
}
