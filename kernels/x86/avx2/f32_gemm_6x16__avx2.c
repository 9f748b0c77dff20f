/* fp32 GEMM microkernel, 6 rows x 16 columns, AVX2 with FMA (the body is f32_gemm_6x16_avx2.h). */
#define FQ_GEMM_NAME fq_f32_gemm_ukernel_6x16__avx2
#include "f32_gemm_6x16_avx2.h"
