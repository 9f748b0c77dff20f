/* fp32 GEMM microkernel, 4 rows x 8 columns, SSE4.1 (the body is f32_gemm_4x8_sse41.h). */
#define FQ_GEMM_NAME fq_f32_gemm_ukernel_4x8__sse41
#include "f32_gemm_4x8_sse41.h"
