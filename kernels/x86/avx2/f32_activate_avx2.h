/* The fused activation of fq_f32_gemm_params (f32_gemm.h) on one AVX2 vector, shared by the
 * GEMM, depthwise and Winograd kernels of this folder (compiled with its flags only).
 *
 *     activate_slope(v, p, slope)   LEAKY_RELU and PRELU with `slope` in every lane (the GEMM
 *                                   tiles pass a row's PRELU slope)
 *     activate(v, p)                LEAKY_RELU with p->alpha; PRELU is left to the caller, which
 *                                   passes it as LEAKY_RELU with the channel's slope
 * SIGMOID is left to the caller in both. */
#ifndef FQ_KERNELS_X86_AVX2_F32_ACTIVATE_AVX2_H
#define FQ_KERNELS_X86_AVX2_F32_ACTIVATE_AVX2_H

#include <immintrin.h>

#include "f32_gemm.h"

static inline __m256 activate_slope(__m256 v, const fq_f32_gemm_params *p, float slope)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return _mm256_max_ps(v, _mm256_setzero_ps());
    case FQ_EPILOGUE_F32_CLIP:
        return _mm256_min_ps(_mm256_set1_ps(p->beta),
                             _mm256_max_ps(_mm256_set1_ps(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU:
    case FQ_EPILOGUE_F32_PRELU: {
        __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(slope)), negative);
    }
    default:
        return v;
    }
}

static inline __m256 activate(__m256 v, const fq_f32_gemm_params *p)
{
    return p->kind == FQ_EPILOGUE_F32_PRELU ? v : activate_slope(v, p, p->alpha);
}

#endif
