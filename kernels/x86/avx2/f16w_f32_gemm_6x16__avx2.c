/* fp16-storage fp32-compute GEMM, 6 rows x 16 columns, AVX2 + FMA + F16C: see f16_gemm.h.
 * Each k step widens 16 packed fp16 weights with vcvtph2ps and adds one fp32 FMA per row and
 * half panel; the 12 accumulators stay in registers. */
#include <immintrin.h>

#include "f16_gemm.h"

enum { MR = 6, NR = 16 };

static __m256 load_f16x8(const uint16_t *w)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w));
}

static void store_columns(float *dst, __m256 v, size_t count)
{
    if (count >= 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), lanes);
    _mm256_maskstore_ps(dst, mask, v);
}

static void panel(size_t mr, size_t cols, size_t kc, const float *const *rows,
                  const uint16_t *w, float *c, size_t c_stride,
                  const fq_f16w_f32_minmax *params)
{
    __m256 acc[MR][2];
    __m256 bias0 = load_f16x8(w);
    __m256 bias1 = load_f16x8(w + 8);
    for (int r = 0; r < MR; r++) {
        acc[r][0] = bias0;
        acc[r][1] = bias1;
    }
    w += NR;

    for (size_t k = 0; k < kc; k++, w += NR) {
        __m256 b0 = load_f16x8(w);
        __m256 b1 = load_f16x8(w + 8);
        for (int r = 0; r < MR; r++) {
            __m256 va = _mm256_broadcast_ss(rows[r] + k);
            acc[r][0] = _mm256_fmadd_ps(va, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(va, b1, acc[r][1]);
        }
    }

    __m256 lo = _mm256_set1_ps(params->min);
    __m256 hi = _mm256_set1_ps(params->max);
    for (int r = 0; r < MR; r++) {
        if ((size_t)r >= mr)
            break;
        float *dst = c + (size_t)r * c_stride;
        __m256 v0 = _mm256_min_ps(_mm256_max_ps(acc[r][0], lo), hi);
        __m256 v1 = _mm256_min_ps(_mm256_max_ps(acc[r][1], lo), hi);
        store_columns(dst, v0, cols);
        if (cols > 8)
            store_columns(dst + 8, v1, cols - 8);
    }
}

void fq_f16w_f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *a,
                                         size_t a_stride, const uint16_t *packed_w, float *c,
                                         size_t c_stride, const fq_f16w_f32_minmax *params)
{
    /* Rows past mr repeat the last real row, so every row reads valid memory. */
    const float *rows[MR];
    for (size_t r = 0; r < MR; r++)
        rows[r] = r < mr ? a + r * a_stride : rows[r - 1];

    for (size_t j = 0; j < nc; j += NR) {
        size_t cols = nc - j < NR ? nc - j : NR;
        panel(mr, cols, kc, rows, packed_w, c + j, c_stride, params);
        packed_w += NR * (kc + 1);
    }
}
