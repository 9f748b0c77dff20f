/* The fused activation of fq_f32_gemm_params (f32_gemm.h) on one SSE4.1 vector, with
 * LEAKY_RELU's alpha as the slope of every lane; SIGMOID and PRELU are left to the caller. Shared
 * by the depthwise and Winograd kernels of this folder (compiled with its flags only). */
#ifndef FQ_KERNELS_X86_SSE41_F32_ACTIVATE_SSE41_H
#define FQ_KERNELS_X86_SSE41_F32_ACTIVATE_SSE41_H

#include <smmintrin.h>

#include "f32_gemm.h"

static inline __m128 activate(__m128 v, const fq_f32_gemm_params *p)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return _mm_max_ps(v, _mm_setzero_ps());
    case FQ_EPILOGUE_F32_CLIP:
        return _mm_min_ps(_mm_set1_ps(p->beta), _mm_max_ps(_mm_set1_ps(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU: {
        __m128 negative = _mm_cmplt_ps(v, _mm_setzero_ps());
        return _mm_blendv_ps(v, _mm_mul_ps(v, _mm_set1_ps(p->alpha)), negative);
    }
    default:
        return v;
    }
}

#endif
