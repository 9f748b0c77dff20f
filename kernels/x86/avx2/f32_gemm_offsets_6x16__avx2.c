/* fp32 GEMM microkernel, offset-table form, 6 rows x 16 columns, AVX2 with FMA (the body is
 * f32_gemm_6x16_avx2.h). */
#define FQ_GEMM_NAME fq_f32_gemm_offsets_ukernel_6x16__avx2
#define FQ_GEMM_OFFSETS
#include "f32_gemm_6x16_avx2.h"
