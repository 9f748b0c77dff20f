/* The body of the SSE4.1 fp32 GEMM microkernel, 4 rows x 8 columns (two xmm per row; multiply,
 * then add: no FMA), for both ways of reading X: a tile file defines FQ_GEMM_NAME (the function
 * f32_gemm.h declares) and, for the offset-table form, FQ_GEMM_OFFSETS (row k of X at x +
 * offsets[k]; without it rows are x_stride bytes apart), then includes this header once. The
 * contract and the packed-weight layout are in f32_gemm.h. A short tile runs through a local
 * 4 x 8 buffer, so the inner loop never tests bounds. Both forms sum in the same order, so they
 * give the same bits. */
#include <smmintrin.h>
#include <string.h>
#include <stddef.h>

#ifdef FQ_GEMM_OFFSETS
#define FQ_GEMM_X_DECL const ptrdiff_t *offsets
#define FQ_GEMM_X_ARG offsets
#define FQ_GEMM_X_ROW(k) (x + offsets[k])
#else
#define FQ_GEMM_X_DECL size_t x_stride
#define FQ_GEMM_X_ARG x_stride
#define FQ_GEMM_X_ROW(k) ((const float *)((const char *)x + (k) * x_stride))
#endif

#include "f32_gemm.h"
#include "f32_activate_sse41.h"

enum { MR = 4, NR = 8 };

/* A full tile; rows at or past mr only read slope 0. */
static void full_tile(size_t mr, size_t kc, const float *x, FQ_GEMM_X_DECL, const float *w,
                      float *c, size_t c_stride, unsigned flags,
                      const fq_f32_gemm_params *params)
{
    __m128 acc0[MR], acc1[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_FIRST) {
            acc0[i] = _mm_set1_ps(w[i]);
            acc1[i] = acc0[i];
        } else {
            acc0[i] = _mm_loadu_ps(row);
            acc1[i] = _mm_loadu_ps(row + 4);
        }
    }
    w += MR;

    for (size_t k = 0; k < kc; k++) {
        __m128 x0 = _mm_loadu_ps(FQ_GEMM_X_ROW(k));
        __m128 x1 = _mm_loadu_ps(FQ_GEMM_X_ROW(k) + 4);
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            __m128 wi = _mm_set1_ps(w[i]);
            acc0[i] = _mm_add_ps(acc0[i], _mm_mul_ps(wi, x0));
            acc1[i] = _mm_add_ps(acc1[i], _mm_mul_ps(wi, x1));
        }
        w += MR;
    }
#pragma GCC unroll 4

    for (int i = 0; i < MR; i++) {
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_LAST) {
            float slope = params->kind == FQ_EPILOGUE_F32_PRELU
                              ? ((size_t)i < mr ? params->slopes[i] : 0.0f)
                              : params->alpha;
            acc0[i] = activate_slope(acc0[i], params, slope);
            acc1[i] = activate_slope(acc1[i], params, slope);
        }
        _mm_storeu_ps(row, acc0[i]);
        _mm_storeu_ps(row + 4, acc1[i]);
    }
}

void FQ_GEMM_NAME(size_t mr, size_t nc, size_t kc, const float *x, FQ_GEMM_X_DECL,
                  const float *w, float *c, size_t c_stride, unsigned flags,
                  const fq_f32_gemm_params *params)
{
    if (mr == MR && nc == NR) {
        full_tile(mr, kc, x, FQ_GEMM_X_ARG, w, c, c_stride, flags, params);
        return;
    }

    float tile[MR * NR] = {0};
    for (size_t i = 0; i < mr && !(flags & FQ_F32_GEMM_FIRST); i++)
        memcpy(tile + i * NR, (const char *)c + i * c_stride, nc * sizeof(float));
    full_tile(mr, kc, x, FQ_GEMM_X_ARG, w, tile, NR * sizeof(float), flags, params);
    for (size_t i = 0; i < mr; i++)
        memcpy((char *)c + i * c_stride, tile + i * NR, nc * sizeof(float));
}
