/* fp16-storage fp32-compute GEMM, 8 rows x 32 columns, AVX-512F: see f16_gemm.h.
 * Each k step widens 32 packed fp16 weights with vcvtph2ps (zmm) and adds one fp32 FMA per row
 * and half panel; the 16 accumulators stay in registers. */
#include <immintrin.h>

#include "f16_gemm.h"

enum { MR = 8, NR = 32 };

static __m512 load_f16x16(const uint16_t *w)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
}

static __mmask16 column_mask(size_t count)
{
    return count >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << count) - 1u);
}

static void panel(size_t mr, size_t cols, size_t kc, const float *const *rows,
                  const uint16_t *w, float *c, size_t c_stride,
                  const fq_f16w_f32_minmax *params)
{
    __m512 acc[MR][2];
    __m512 bias0 = load_f16x16(w);
    __m512 bias1 = load_f16x16(w + 16);
    for (int r = 0; r < MR; r++) {
        acc[r][0] = bias0;
        acc[r][1] = bias1;
    }
    w += NR;

    for (size_t k = 0; k < kc; k++, w += NR) {
        __m512 b0 = load_f16x16(w);
        __m512 b1 = load_f16x16(w + 16);
        for (int r = 0; r < MR; r++) {
            __m512 va = _mm512_set1_ps(rows[r][k]);
            acc[r][0] = _mm512_fmadd_ps(va, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(va, b1, acc[r][1]);
        }
    }

    __m512 lo = _mm512_set1_ps(params->min);
    __m512 hi = _mm512_set1_ps(params->max);
    __mmask16 mask0 = column_mask(cols);
    __mmask16 mask1 = column_mask(cols > 16 ? cols - 16 : 0);
    for (int r = 0; r < MR; r++) {
        if ((size_t)r >= mr)
            break;
        float *dst = c + (size_t)r * c_stride;
        _mm512_mask_storeu_ps(dst, mask0, _mm512_min_ps(_mm512_max_ps(acc[r][0], lo), hi));
        _mm512_mask_storeu_ps(dst + 16, mask1, _mm512_min_ps(_mm512_max_ps(acc[r][1], lo), hi));
    }
}

void fq_f16w_f32_gemm_ukernel_8x32__avx512(size_t mr, size_t nc, size_t kc, const float *a,
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
