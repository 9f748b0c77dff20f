/* The fused activation of fq_f32_gemm_params (f32_gemm.h) on one AVX-512 vector, shared by the
 * GEMM, depthwise and Winograd kernels of this folder (compiled with its flags only).
 *
 *     activate_slope(v, p, slope)   LEAKY_RELU and PRELU with `slope` in every lane (the GEMM
 *                                   tiles pass a row's PRELU slope)
 *     activate(v, p)                LEAKY_RELU with p->alpha; PRELU is left to the caller, which
 *                                   passes it as LEAKY_RELU with the channel's slope
 * SIGMOID is left to the caller in both. */
#ifndef FQ_KERNELS_X86_AVX512_F32_ACTIVATE_AVX512_H
#define FQ_KERNELS_X86_AVX512_F32_ACTIVATE_AVX512_H

#include <immintrin.h>

#include "f32_gemm.h"

static inline __m512 activate_slope(__m512 v, const fq_f32_gemm_params *p, float slope)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return _mm512_max_ps(v, _mm512_setzero_ps());
    case FQ_EPILOGUE_F32_CLIP:
        return _mm512_min_ps(_mm512_set1_ps(p->beta),
                             _mm512_max_ps(_mm512_set1_ps(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU:
    case FQ_EPILOGUE_F32_PRELU: {
        __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, negative, v, _mm512_set1_ps(slope));
    }
    default:
        return v;
    }
}

static inline __m512 activate(__m512 v, const fq_f32_gemm_params *p)
{
    return p->kind == FQ_EPILOGUE_F32_PRELU ? v : activate_slope(v, p, p->alpha);
}

#endif
