/* The body of the AVX-512 fp32 GEMM microkernels with 32-column tiles (two zmm per row), for
 * every tile height and both ways of reading X: each tile file defines
 *
 *   FQ_GEMM_MR       rows per tile (8 or 12)
 *   FQ_GEMM_NAME     the function (f32_gemm.h declares it)
 *   FQ_GEMM_OFFSETS  (optional) row k of X is at x + offsets[k]; without it, rows are x_stride
 *                    bytes apart
 *
 * and includes this header once. The contract and the packed-weight layout are in f32_gemm.h.
 * Short column tiles use masked loads and stores; short row tiles compute every row and store
 * the first mr. Both forms sum in the same order, so they give the same bits. */
#include <immintrin.h>
#include <stddef.h>

#include "f32_gemm.h"

#define FQ_GEMM_STR2(x) #x
#define FQ_GEMM_STR(x) FQ_GEMM_STR2(x)
#define FQ_GEMM_UNROLL _Pragma(FQ_GEMM_STR(GCC unroll FQ_GEMM_MR))

static __mmask16 column_mask(size_t nc, size_t first)
{
    if (nc <= first)
        return 0;
    size_t count = nc - first;
    return count >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << count) - 1);
}

static __m512 activate(__m512 v, const fq_f32_gemm_params *p, size_t row)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return _mm512_max_ps(v, _mm512_setzero_ps());
    case FQ_EPILOGUE_F32_CLIP:
        return _mm512_min_ps(_mm512_set1_ps(p->beta),
                             _mm512_max_ps(_mm512_set1_ps(p->alpha), v));
    case FQ_EPILOGUE_F32_LEAKY_RELU:
    case FQ_EPILOGUE_F32_PRELU: {
        float slope = p->kind == FQ_EPILOGUE_F32_PRELU ? p->slopes[row] : p->alpha;
        __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, negative, v, _mm512_set1_ps(slope));
    }
    default:
        return v;
    }
}

#ifdef FQ_GEMM_OFFSETS
void FQ_GEMM_NAME(size_t mr, size_t nc, size_t kc, const float *x, const ptrdiff_t *offsets,
                  const float *w, float *c, size_t c_stride, unsigned flags,
                  const fq_f32_gemm_params *params)
#else
void FQ_GEMM_NAME(size_t mr, size_t nc, size_t kc, const float *x, size_t x_stride,
                  const float *w, float *c, size_t c_stride, unsigned flags,
                  const fq_f32_gemm_params *params)
#endif
{
    __mmask16 mask0 = column_mask(nc, 0);
    __mmask16 mask1 = column_mask(nc, 16);
    __m512 acc0[FQ_GEMM_MR], acc1[FQ_GEMM_MR];

    FQ_GEMM_UNROLL
    for (int i = 0; i < FQ_GEMM_MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_FIRST) {
            acc0[i] = _mm512_set1_ps(w[i]);
            acc1[i] = acc0[i];
        } else if ((size_t)i < mr) {
            acc0[i] = _mm512_maskz_loadu_ps(mask0, row);
            acc1[i] = _mm512_maskz_loadu_ps(mask1, row + 16);
        } else {
            acc0[i] = _mm512_setzero_ps();
            acc1[i] = acc0[i];
        }
    }
    w += FQ_GEMM_MR;

    for (size_t k = 0; k < kc; k++) {
#ifdef FQ_GEMM_OFFSETS
        const float *xk = x + offsets[k];
#else
        const float *xk = (const float *)((const char *)x + k * x_stride);
#endif
        __m512 x0 = _mm512_loadu_ps(xk);
        __m512 x1 = _mm512_loadu_ps(xk + 16);
        FQ_GEMM_UNROLL
        for (int i = 0; i < FQ_GEMM_MR; i++) {
            __m512 wi = _mm512_set1_ps(w[i]);
            acc0[i] = _mm512_fmadd_ps(wi, x0, acc0[i]);
            acc1[i] = _mm512_fmadd_ps(wi, x1, acc1[i]);
        }
        w += FQ_GEMM_MR;
    }

    FQ_GEMM_UNROLL
    for (int i = 0; i < FQ_GEMM_MR; i++) {
        if ((size_t)i >= mr)
            break;
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_LAST) {
            acc0[i] = activate(acc0[i], params, (size_t)i);
            acc1[i] = activate(acc1[i], params, (size_t)i);
        }
        _mm512_mask_storeu_ps(row, mask0, acc0[i]);
        _mm512_mask_storeu_ps(row + 16, mask1, acc1[i]);
    }
}
