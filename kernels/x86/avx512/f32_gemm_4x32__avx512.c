/* fp32 GEMM microkernel, 4 rows x 32 columns, AVX-512F with FMA (the body is
 * f32_gemm_x32_avx512.h): the tile for products of at most 4 rows, such as the 2-channel score
 * heads of the SCRFD detectors, which the 8-row tile would compute four times over. */
#define FQ_GEMM_MR 4
#define FQ_GEMM_NAME fq_f32_gemm_ukernel_4x32__avx512
#define FQ_GEMM_GEMV_NAME fq_f32_gemm_gemv_4x32__avx512
#include "f32_gemm_x32_avx512.h"
