/* The fused activation of fq_f32_gemm_params (f32_gemm.h) on one AVX2 vector, with
 * LEAKY_RELU's alpha as the slope of every lane; SIGMOID and PRELU are left to the caller. Shared
 * by the depthwise and Winograd kernels of this folder (compiled with its flags only). */
#ifndef FQ_KERNELS_X86_AVX2_F32_ACTIVATE_AVX2_H
#define FQ_KERNELS_X86_AVX2_F32_ACTIVATE_AVX2_H

#include <immintrin.h>

#include "f32_gemm.h"

static inline __m256 activate(__m256 v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return _mm256_max_ps(v, _mm256_setzero_ps());
    case FQ_EPILOGUE_F32_CLIP:
        return _mm256_min_ps(_mm256_set1_ps(p->beta),
                             _mm256_max_ps(_mm256_set1_ps(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU: {
        __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(p->alpha)), negative);
    }
    default:
        return v;
    }
}

#endif
