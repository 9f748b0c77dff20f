/* The fused activation of fq_f32_gemm_params (f32_gemm.h) on one SSE4.1 vector, shared by the
 * GEMM, depthwise and Winograd kernels of this folder (compiled with its flags only).
 *
 *     activate_slope(v, p, slope)   LEAKY_RELU and PRELU with `slope` in every lane (the GEMM
 *                                   tiles pass a row's PRELU slope)
 *     activate(v, p)                LEAKY_RELU with p->alpha; PRELU is left to the caller, which
 *                                   passes it as LEAKY_RELU with the channel's slope
 * SIGMOID is left to the caller in both. */
#ifndef FQ_KERNELS_X86_SSE41_F32_ACTIVATE_SSE41_H
#define FQ_KERNELS_X86_SSE41_F32_ACTIVATE_SSE41_H

#include <smmintrin.h>

#include "f32_gemm.h"

static inline __m128 activate_slope(__m128 v, const fq_f32_gemm_params *p, float slope)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return _mm_max_ps(v, _mm_setzero_ps());
    case FQ_EPILOGUE_F32_CLIP:
        return _mm_min_ps(_mm_set1_ps(p->beta), _mm_max_ps(_mm_set1_ps(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU:
    case FQ_EPILOGUE_F32_PRELU: {
        __m128 negative = _mm_cmplt_ps(v, _mm_setzero_ps());
        return _mm_blendv_ps(v, _mm_mul_ps(v, _mm_set1_ps(slope)), negative);
    }
    default:
        return v;
    }
}

static inline __m128 activate(__m128 v, const fq_f32_gemm_params *p)
{
    return p->kind == FQ_EPILOGUE_F32_PRELU ? v : activate_slope(v, p, p->alpha);
}

#endif
