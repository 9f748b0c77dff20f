/* fp32 GEMM microkernel, 12 rows x 32 columns, AVX-512F with FMA (the body is
 * f32_gemm_x32_avx512.h). */
#define FQ_GEMM_MR 12
#define FQ_GEMM_NAME fq_f32_gemm_ukernel_12x32__avx512
#define FQ_GEMM_GEMV_NAME fq_f32_gemm_gemv_12x32__avx512
#include "f32_gemm_x32_avx512.h"
