/* The body of the AVX-512 fp32 GEMM microkernels with 32-column tiles (two zmm per row), for
 * every tile height and both ways of reading X: each tile file defines
 *
 *   FQ_GEMM_MR       rows per tile (4, 8 or 12)
 *   FQ_GEMM_NAME     the function (f32_gemm.h declares it)
 *   FQ_GEMM_OFFSETS  (optional) row k of X is at x + offsets[k]; without it, rows are x_stride
 *                    bytes apart
 *
 * and includes this header once. The contract and the packed-weight layout are in f32_gemm.h.
 * Short column tiles use masked loads and stores, and tiles of at most 16 columns compute only
 * the first vector column. Tiles of at most half as many columns as rows run a vector per
 * column along the tile's rows instead, over the packed weights as they lie, and so does the
 * last column of a 17-column tile; short row tiles compute every row and store the first mr.
 * Every path and both forms sum in the same order, so they give the same bits. */
#include <immintrin.h>
#include <stddef.h>

#include "f32_gemm.h"
#include "f32_activate_avx512.h"

#ifdef FQ_GEMM_OFFSETS
#define FQ_GEMM_X_DECL const ptrdiff_t *offsets
#define FQ_GEMM_X_ARG offsets
#define FQ_GEMM_X_ROW(k) (x + offsets[k])
#else
#define FQ_GEMM_X_DECL size_t x_stride
#define FQ_GEMM_X_ARG x_stride
#define FQ_GEMM_X_ROW(k) ((const float *)((const char *)x + (k) * x_stride))
#endif

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

/* The activation of tile row `row`: PRELU with that row's slope. */
static inline __m512 activate_row(__m512 v, const fq_f32_gemm_params *p, size_t row)
{
    return activate_slope(v, p, p->kind == FQ_EPILOGUE_F32_PRELU ? p->slopes[row] : p->alpha);
}

/* activate_row() for a vector whose lane r is row r of the tile (rows [0, mr) hold results). */
static __m512 activate_rows(__m512 v, const fq_f32_gemm_params *p, size_t mr)
{
    if (p->kind != FQ_EPILOGUE_F32_LEAKY_RELU && p->kind != FQ_EPILOGUE_F32_PRELU)
        return activate_row(v, p, 0);
    __m512 slopes = p->kind == FQ_EPILOGUE_F32_PRELU
                        ? _mm512_maskz_loadu_ps(column_mask(mr, 0), p->slopes)
                        : _mm512_set1_ps(p->alpha);
    __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(v, negative, v, slopes);
}

/* v, row i of the tile at columns [col, col + 16) (lanes in mask), plus the same lanes of
 * params->residual on a LAST call that has one (f32_gemm.h). */
static inline __m512 plus_residual(__m512 v, const fq_f32_gemm_params *p, unsigned flags,
                                   size_t i, size_t col, size_t c_stride, __mmask16 mask)
{
    if (!(flags & FQ_F32_GEMM_LAST) || p->residual == NULL)
        return v;
    const float *r = (const float *)((const char *)p->residual + i * c_stride) + col;
    return _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, r));
}

/* The residual rows of a LAST call, into L1 while the depth loop runs: the rows are a plane
 * apart, and loaded only at the stores they would stall them. */
static inline void prefetch_residual(const fq_f32_gemm_params *p, unsigned flags, size_t mr,
                                     size_t c_stride)
{
    if (!(flags & FQ_F32_GEMM_LAST) || p->residual == NULL)
        return;
    for (size_t i = 0; i < mr; i++) {
        const char *r = (const char *)p->residual + i * c_stride;
        _mm_prefetch(r, _MM_HINT_T0);
        _mm_prefetch(r + 64, _MM_HINT_T0);
    }
}

/* Column 0 of a tile as one vector, lane r holding row r (FQ_GEMM_MR <= 16): the packed
 * panel's bias slot under FQ_F32_GEMM_FIRST, else the column's values in C. */
static __m512 column_start(size_t mr, const float *c, size_t c_stride, unsigned flags,
                           const float *w)
{
    _Static_assert(FQ_GEMM_MR <= 16, "one vector holds the rows of a tile");
    if (flags & FQ_F32_GEMM_FIRST)
        return _mm512_maskz_loadu_ps(column_mask(FQ_GEMM_MR, 0), w);
    float lanes[16] = {0};
    for (size_t i = 0; i < mr; i++)
        lanes[i] = *(const float *)((const char *)c + i * c_stride);
    return _mm512_loadu_ps(lanes);
}

/* Depth step k of a column vector: the packed weights of step k (MR floats in a row) times
 * the column's x[k]. */
static __m512 column_step(__m512 acc, const float *wk, const float *xk)
{
    return _mm512_fmadd_ps(_mm512_maskz_loadu_ps(column_mask(FQ_GEMM_MR, 0), wk),
                           _mm512_set1_ps(*xk), acc);
}

/* Column col of the tile at c from a column vector (lane r row r). */
static void column_store(__m512 acc, size_t mr, float *c, size_t col, size_t c_stride,
                         unsigned flags, const fq_f32_gemm_params *params)
{
    float lanes[16];
    if (flags & FQ_F32_GEMM_LAST)
        acc = activate_rows(acc, params, mr);
    _mm512_storeu_ps(lanes, acc);
    for (size_t i = 0; i < mr; i++) {
        if ((flags & FQ_F32_GEMM_LAST) && params->residual != NULL)
            lanes[i] += ((const float *)((const char *)params->residual + i * c_stride))[col];
        ((float *)((char *)c + i * c_stride))[col] = lanes[i];
    }
}

/* A tile of `cols` columns, far fewer than the tile has rows (the last pixels of a plane, or a
 * matrix-vector product): a vector per column running along the tile's rows, `cols`
 * multiply-adds per depth step where the row vectors would take one per row. Inlined with a
 * constant `cols` and unrolled, so that the accumulators stay in registers. */
static inline __attribute__((always_inline)) void column_strip(
    size_t cols, size_t mr, size_t kc, const float *x, FQ_GEMM_X_DECL, const float *w,
    float *c, size_t c_stride, unsigned flags, const fq_f32_gemm_params *params)
{
    __m512 acc[16];
    _Pragma("GCC unroll 16")
    for (size_t j = 0; j < cols; j++)
        acc[j] = column_start(mr, c + j, c_stride, flags, w);
    w += FQ_GEMM_MR;

    for (size_t k = 0; k < kc; k++, w += FQ_GEMM_MR) {
        const float *xk = FQ_GEMM_X_ROW(k);
        __m512 wk = _mm512_maskz_loadu_ps(column_mask(FQ_GEMM_MR, 0), w);
        _Pragma("GCC unroll 16")
        for (size_t j = 0; j < cols; j++)
            acc[j] = _mm512_fmadd_ps(wk, _mm512_set1_ps(xk[j]), acc[j]);
    }

    /* Row i of C takes lane i of every column vector: one gather from the stored columns and
     * one masked store per row. */
    float sums[16 * 16];
    _Pragma("GCC unroll 16")
    for (size_t j = 0; j < cols; j++)
        _mm512_storeu_ps(sums + 16 * j, acc[j]);
    for (size_t j = 0; j < cols && (flags & FQ_F32_GEMM_LAST); j++)
        _mm512_storeu_ps(sums + 16 * j, activate_rows(_mm512_loadu_ps(sums + 16 * j), params, mr));
    __mmask16 mask = column_mask(cols, 0);
    __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
                                                        3, 2, 1, 0),
                                       _mm512_set1_epi32(16));
    for (size_t i = 0; i < mr; i++) {
        __m512 row = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask,
                                              _mm512_add_epi32(lanes, _mm512_set1_epi32((int)i)),
                                              sums, 4);
        row = plus_residual(row, params, flags, i, 0, c_stride, mask);
        _mm512_mask_storeu_ps((char *)c + i * c_stride, mask, row);
    }
}

/* A 17-column tile (a 7x7 plane is one full tile and this one): a vector column for columns
 * [0, 16) and a column vector along the rows for column 16, in one pass over the depth. */
static void vector_and_column_tile(size_t mr, size_t kc, const float *x, FQ_GEMM_X_DECL,
                                   const float *w, float *c, size_t c_stride, unsigned flags,
                                   const fq_f32_gemm_params *params)
{
    __m512 acc[FQ_GEMM_MR];
    __m512 last = column_start(mr, c + 16, c_stride, flags, w);

    FQ_GEMM_UNROLL
    for (int i = 0; i < FQ_GEMM_MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_FIRST)
            acc[i] = _mm512_set1_ps(w[i]);
        else if ((size_t)i < mr)
            acc[i] = _mm512_loadu_ps(row);
        else
            acc[i] = _mm512_setzero_ps();
    }
    w += FQ_GEMM_MR;

    for (size_t k = 0; k < kc; k++) {
        const float *xk = FQ_GEMM_X_ROW(k);
        __m512 x0 = _mm512_loadu_ps(xk);
        FQ_GEMM_UNROLL
        for (int i = 0; i < FQ_GEMM_MR; i++)
            acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(w[i]), x0, acc[i]);
        last = column_step(last, w, xk + 16);
        w += FQ_GEMM_MR;
    }

    FQ_GEMM_UNROLL
    for (int i = 0; i < FQ_GEMM_MR; i++) {
        if ((size_t)i >= mr)
            break;
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_LAST)
            acc[i] = activate_row(acc[i], params, (size_t)i);
        _mm512_storeu_ps(row, plus_residual(acc[i], params, flags, (size_t)i, 0, c_stride,
                                            (__mmask16)0xffff));
    }
    column_store(last, mr, c, 16, c_stride, flags, params);
}

/* A tile of at most 16 columns: the first vector column of the two-column path alone, the
 * same sums in the same order. */
static void one_vector_tile(size_t mr, size_t nc, size_t kc, const float *x, FQ_GEMM_X_DECL,
                            const float *w, float *c, size_t c_stride, unsigned flags,
                            const fq_f32_gemm_params *params)
{
    __mmask16 mask = column_mask(nc, 0);
    __m512 acc[FQ_GEMM_MR];

    FQ_GEMM_UNROLL
    for (int i = 0; i < FQ_GEMM_MR; i++) {
        const float *row = (const float *)((const char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_FIRST)
            acc[i] = _mm512_set1_ps(w[i]);
        else if ((size_t)i < mr)
            acc[i] = _mm512_maskz_loadu_ps(mask, row);
        else
            acc[i] = _mm512_setzero_ps();
    }
    w += FQ_GEMM_MR;

    for (size_t k = 0; k < kc; k++) {
        __m512 x0 = _mm512_maskz_loadu_ps(mask, FQ_GEMM_X_ROW(k));
        FQ_GEMM_UNROLL
        for (int i = 0; i < FQ_GEMM_MR; i++)
            acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(w[i]), x0, acc[i]);
        w += FQ_GEMM_MR;
    }

    FQ_GEMM_UNROLL
    for (int i = 0; i < FQ_GEMM_MR; i++) {
        if ((size_t)i >= mr)
            break;
        float *row = (float *)((char *)c + (size_t)i * c_stride);
        if (flags & FQ_F32_GEMM_LAST)
            acc[i] = activate_row(acc[i], params, (size_t)i);
        _mm512_mask_storeu_ps(row, mask,
                              plus_residual(acc[i], params, flags, (size_t)i, 0, c_stride, mask));
    }
}

#define FQ_GEMM_STRIP(n)                                                                     \
    case n:                                                                                  \
        column_strip(n, mr, kc, x, FQ_GEMM_X_ARG, w, c, c_stride, flags, params);            \
        return

/* Tiles of at most 17 columns, each on its own path: up to half as many columns as rows as
 * column strips (at 6 of 8 columns a strip and a vector column took the same time). */
static void narrow_tile(size_t mr, size_t nc, size_t kc, const float *x, FQ_GEMM_X_DECL,
                        const float *w, float *c, size_t c_stride, unsigned flags,
                        const fq_f32_gemm_params *params)
{
    _Static_assert(FQ_GEMM_MR <= 12, "strips of up to 6 columns");
    if (2 * nc <= FQ_GEMM_MR) {
        switch (nc) {
            FQ_GEMM_STRIP(1);
            FQ_GEMM_STRIP(2);
            FQ_GEMM_STRIP(3);
            FQ_GEMM_STRIP(4);
            FQ_GEMM_STRIP(5);
            FQ_GEMM_STRIP(6);
        default:
            break;
        }
    }
    if (nc == 17)
        vector_and_column_tile(mr, kc, x, FQ_GEMM_X_ARG, w, c, c_stride, flags, params);
    else
        one_vector_tile(mr, nc, kc, x, FQ_GEMM_X_ARG, w, c, c_stride, flags, params);
}

/* Tiles of 18 to 32 columns (the common full tile) run here, two vector columns per row. */
void FQ_GEMM_NAME(size_t mr, size_t nc, size_t kc, const float *x, FQ_GEMM_X_DECL,
                  const float *w, float *c, size_t c_stride, unsigned flags,
                  const fq_f32_gemm_params *params)
{
    if (nc <= 17) {
        narrow_tile(mr, nc, kc, x, FQ_GEMM_X_ARG, w, c, c_stride, flags, params);
        return;
    }

    __mmask16 mask0 = column_mask(nc, 0);
    __mmask16 mask1 = column_mask(nc, 16);
    __m512 acc0[FQ_GEMM_MR], acc1[FQ_GEMM_MR];
    prefetch_residual(params, flags, mr, c_stride);

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
        const float *xk = FQ_GEMM_X_ROW(k);
        __m512 x0 = _mm512_loadu_ps(xk);
        __m512 x1 = _mm512_loadu_ps(xk + 16);
        /* The packed weights of large products come from L2, a row at a time: ask for them
         * 16 steps ahead (+4-6% at 1024^3 in A/B runs on a Xeon with 2 MiB of L2). */
        _mm_prefetch((const char *)(w + FQ_GEMM_MR * 16), _MM_HINT_T0);
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
            acc0[i] = activate_row(acc0[i], params, (size_t)i);
            acc1[i] = activate_row(acc1[i], params, (size_t)i);
        }
        _mm512_mask_storeu_ps(
            row, mask0, plus_residual(acc0[i], params, flags, (size_t)i, 0, c_stride, mask0));
        _mm512_mask_storeu_ps(
            row + 16, mask1,
            plus_residual(acc1[i], params, flags, (size_t)i, 16, c_stride, mask1));
    }
}

#ifdef FQ_GEMM_GEMV_NAME
/* `count` panels of a matrix-vector product together: panel q's column vector (lane r row r)
 * sums from its bias slot over k in order, as column_strip(1) does, the panels' chains of
 * multiply-adds in flight side by side. */
static inline __attribute__((always_inline)) void gemv_panels(
    size_t count, size_t last_mr, size_t kc, const float *x, size_t x_stride, const float *w,
    size_t panel_floats, float *c, size_t c_stride, unsigned flags,
    const fq_f32_gemm_params *params)
{
    __m512 acc[4];
    _Pragma("GCC unroll 4")
    for (size_t q = 0; q < count; q++) {
        size_t mr = q + 1 == count ? last_mr : FQ_GEMM_MR;
        acc[q] = column_start(mr, (const float *)((const char *)c + q * FQ_GEMM_MR * c_stride),
                              c_stride, flags, w + q * panel_floats);
    }
    w += FQ_GEMM_MR;
    for (size_t k = 0; k < kc; k++, w += FQ_GEMM_MR) {
        __m512 xk = _mm512_set1_ps(*FQ_GEMM_X_ROW(k));
        _Pragma("GCC unroll 4")
        for (size_t q = 0; q < count; q++)
            acc[q] = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(column_mask(FQ_GEMM_MR, 0), w + q * panel_floats), xk,
                acc[q]);
    }
    _Pragma("GCC unroll 4")
    for (size_t q = 0; q < count; q++) {
        size_t mr = q + 1 == count ? last_mr : FQ_GEMM_MR;
        fq_f32_gemm_params panel = *params;
        if (panel.slopes != NULL && panel.kind == FQ_EPILOGUE_F32_PRELU)
            panel.slopes += q * FQ_GEMM_MR;
        if (panel.residual != NULL)
            panel.residual = (const float *)((const char *)panel.residual +
                                             q * FQ_GEMM_MR * c_stride);
        column_store(acc[q], mr, (float *)((char *)c + q * FQ_GEMM_MR * c_stride), 0, c_stride,
                     flags, &panel);
    }
}

void FQ_GEMM_GEMV_NAME(size_t panels, size_t last_mr, size_t kc, const float *x,
                       size_t x_stride, const float *w, size_t panel_floats, float *c,
                       size_t c_stride, unsigned flags, const fq_f32_gemm_params *params)
{
    fq_f32_gemm_params rest = *params;
    for (size_t p0 = 0; p0 < panels; p0 += 4) {
        size_t count = panels - p0 < 4 ? panels - p0 : 4;
        size_t mr = p0 + count == panels ? last_mr : FQ_GEMM_MR;
        const float *wq = w + p0 * panel_floats;
        float *cq = (float *)((char *)c + p0 * FQ_GEMM_MR * c_stride);
        switch (count) {
        case 4:
            gemv_panels(4, mr, kc, x, x_stride, wq, panel_floats, cq, c_stride, flags, &rest);
            break;
        case 3:
            gemv_panels(3, mr, kc, x, x_stride, wq, panel_floats, cq, c_stride, flags, &rest);
            break;
        case 2:
            gemv_panels(2, mr, kc, x, x_stride, wq, panel_floats, cq, c_stride, flags, &rest);
            break;
        default:
            gemv_panels(1, mr, kc, x, x_stride, wq, panel_floats, cq, c_stride, flags, &rest);
            break;
        }
        if (rest.slopes != NULL && rest.kind == FQ_EPILOGUE_F32_PRELU)
            rest.slopes += 4 * FQ_GEMM_MR;
        if (rest.residual != NULL)
            rest.residual = (const float *)((const char *)rest.residual +
                                            4 * FQ_GEMM_MR * c_stride);
    }
}
#endif
