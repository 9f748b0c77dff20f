/* fp32 GEMM microkernel, offset-table form, 4 rows x 32 columns, AVX-512F with FMA (the body is
 * f32_gemm_x32_avx512.h). */
#define FQ_GEMM_MR 4
#define FQ_GEMM_NAME fq_f32_gemm_offsets_ukernel_4x32__avx512
#define FQ_GEMM_OFFSETS
#include "f32_gemm_x32_avx512.h"
