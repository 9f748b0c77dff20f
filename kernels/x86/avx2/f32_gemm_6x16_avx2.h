/* The body of the AVX2 fp32 GEMM microkernel, 6 rows x 16 columns (two ymm per row) with FMA,
 * for both ways of reading X: a tile file defines FQ_GEMM_NAME (the function f32_gemm.h
 * declares) and, for the offset-table form, FQ_GEMM_OFFSETS (row k of X at x + offsets[k];
 * without it rows are x_stride bytes apart), then includes this header once. The contract and
 * the packed-weight layout are in f32_gemm.h. A short tile (fewer rows or columns) runs through
 * a local 6 x 16 buffer, so the inner loop never tests bounds; one of at most 8 columns
 * computes only the left vector column, and a one-column tile (a matrix-vector product) runs
 * its vector along the tile's rows, over the packed weights as they lie. Every path and both
 * forms sum in the same order, so they give the same bits. */
#include <immintrin.h>
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
#include "f32_activate_avx2.h"

enum { MR = 6, NR = 16 };

/* A full tile; rows at or past mr only read slope 0. */
static void full_tile(size_t mr, size_t kc, const float *x, FQ_GEMM_X_DECL, const float *w,
                      float *c, size_t c_stride, unsigned flags,
                      const fq_f32_gemm_params *params)
{
    __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_FIRST) {
            acc0[i] = _mm256_set1_ps(w[i]);
            acc1[i] = acc0[i];
        } else {
            acc0[i] = _mm256_loadu_ps(row);
            acc1[i] = _mm256_loadu_ps(row + 8);
        }
    }
    w += MR;

    for (size_t k = 0; k < kc; k++) {
        __m256 x0 = _mm256_loadu_ps(FQ_GEMM_X_ROW(k));
        __m256 x1 = _mm256_loadu_ps(FQ_GEMM_X_ROW(k) + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            __m256 wi = _mm256_broadcast_ss(w + i);
            acc0[i] = _mm256_fmadd_ps(wi, x0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(wi, x1, acc1[i]);
        }
        w += MR;
    }
#pragma GCC unroll 6

    for (int i = 0; i < MR; i++) {
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_LAST) {
            float slope = params->kind == FQ_EPILOGUE_F32_PRELU
                              ? ((size_t)i < mr ? params->slopes[i] : 0.0f)
                              : params->alpha;
            acc0[i] = activate_slope(acc0[i], params, slope);
            acc1[i] = activate_slope(acc1[i], params, slope);
        }
        _mm256_storeu_ps(row, acc0[i]);
        _mm256_storeu_ps(row + 8, acc1[i]);
    }
}

/* activate_slope() for a vector whose lane r is row r of the tile (rows [0, mr) hold results). */
static __m256 activate_rows(__m256 v, const fq_f32_gemm_params *p, size_t mr)
{
    if (p->kind != FQ_EPILOGUE_F32_LEAKY_RELU && p->kind != FQ_EPILOGUE_F32_PRELU)
        return activate_slope(v, p, 0.0f);
    float slopes[8] = {0};
    for (size_t i = 0; i < mr; i++)
        slopes[i] = p->kind == FQ_EPILOGUE_F32_PRELU ? p->slopes[i] : p->alpha;
    __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_loadu_ps(slopes)), negative);
}

/* A one-column tile: lane r of one vector holds row r, and depth step k adds the packed
 * weights of step k (MR floats in a row) times x[k]. */
static void one_column_tile(size_t mr, size_t kc, const float *x, FQ_GEMM_X_DECL,
                            const float *w, float *c, size_t c_stride, unsigned flags,
                            const fq_f32_gemm_params *params)
{
    __m256i rows = _mm256_cmpgt_epi32(_mm256_set1_epi32(MR),
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    float lanes[8] = {0};
    for (size_t i = 0; i < mr && !(flags & FQ_F32_GEMM_FIRST); i++)
        lanes[i] = *(const float *)((const char *)c + i * c_stride);
    __m256 acc = flags & FQ_F32_GEMM_FIRST ? _mm256_maskload_ps(w, rows)
                                           : _mm256_loadu_ps(lanes);
    w += MR;

    for (size_t k = 0; k < kc; k++, w += MR)
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(w, rows), _mm256_set1_ps(*FQ_GEMM_X_ROW(k)),
                              acc);

    if (flags & FQ_F32_GEMM_LAST)
        acc = activate_rows(acc, params, mr);
    _mm256_storeu_ps(lanes, acc);
    for (size_t i = 0; i < mr; i++)
        *(float *)((char *)c + i * c_stride) = lanes[i];
}

/* The left 8 columns of a full tile alone, the same sums as full_tile's first vector. */
static void left_half_tile(size_t mr, size_t kc, const float *x, FQ_GEMM_X_DECL,
                           const float *w, float *c, size_t c_stride, unsigned flags,
                           const fq_f32_gemm_params *params)
{
    __m256 acc[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        acc[i] = flags & FQ_F32_GEMM_FIRST ? _mm256_set1_ps(w[i]) : _mm256_loadu_ps(row);
    }
    w += MR;

    for (size_t k = 0; k < kc; k++) {
        __m256 x0 = _mm256_loadu_ps(FQ_GEMM_X_ROW(k));
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++)
            acc[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(w + i), x0, acc[i]);
        w += MR;
    }

#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_LAST) {
            float slope = params->kind == FQ_EPILOGUE_F32_PRELU
                              ? ((size_t)i < mr ? params->slopes[i] : 0.0f)
                              : params->alpha;
            acc[i] = activate_slope(acc[i], params, slope);
        }
        _mm256_storeu_ps(row, acc[i]);
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
    if (nc == 1) {
        one_column_tile(mr, kc, x, FQ_GEMM_X_ARG, w, c, c_stride, flags, params);
        return;
    }

    float tile[MR * NR] = {0};
    for (size_t i = 0; i < mr && !(flags & FQ_F32_GEMM_FIRST); i++)
        memcpy(tile + i * NR, (const char *)c + i * c_stride, nc * sizeof(float));
    if (nc <= NR / 2)
        left_half_tile(mr, kc, x, FQ_GEMM_X_ARG, w, tile, NR * sizeof(float), flags, params);
    else
        full_tile(mr, kc, x, FQ_GEMM_X_ARG, w, tile, NR * sizeof(float), flags, params);
    for (size_t i = 0; i < mr; i++)
        memcpy((char *)c + i * c_stride, tile + i * NR, nc * sizeof(float));
}
