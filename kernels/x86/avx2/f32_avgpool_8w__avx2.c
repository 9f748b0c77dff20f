/* fp32 average pooling for AVX2, 8 output columns per vector, undilated, stride_w 1 or 2
 * (contract in f32_pool.h).
 *
 * For each tap (kh, kw) in the reference's order, the 8 outputs' input columns are one masked
 * load (stride 1) or the even lanes of two (stride 2); columns outside the input load as +0.
 * The divisor of every lane is its count of taps inside the input (or the padded input), rows
 * times columns, converted to float as the reference does. */
#include <immintrin.h>

#include "f32_pool.h"

/* All-ones in lanes j with lo <= j < hi. */
static __m256i lane_range(int64_t lo, int64_t hi)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    lo = lo < 0 ? 0 : lo > 8 ? 8 : lo;
    hi = hi < 0 ? 0 : hi > 8 ? 8 : hi;
    __m256i above = _mm256_cmpgt_epi32(lane, _mm256_set1_epi32((int)lo - 1));
    __m256i below = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), lane);
    return _mm256_and_si256(above, below);
}

/* Lanes j with 0 <= at + j < in, +0 elsewhere. */
static __m256 load_inside(const float *row, int64_t at, int64_t in)
{
    return _mm256_maskload_ps(row + at, lane_range(-at, in - at));
}

static __m256 load_taps(const fq_pool2d_f32_params *p, const float *row, int64_t at)
{
    __m256 a = load_inside(row, at, p->in_w);
    if (p->stride_w == 1)
        return a;
    __m256 b = load_inside(row, at + 8, p->in_w);
    __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even),
                                                  _MM_SHUFFLE(3, 1, 2, 0)));
}

/* Per lane: taps of [start, start + kernel) inside [lo, hi). */
static __m256i taps_inside(__m256i start, int64_t kernel, int64_t lo, int64_t hi)
{
    __m256i end = _mm256_min_epi32(_mm256_add_epi32(start, _mm256_set1_epi32((int)kernel)),
                                   _mm256_set1_epi32((int)hi));
    __m256i begin = _mm256_max_epi32(start, _mm256_set1_epi32((int)lo));
    return _mm256_max_epi32(_mm256_sub_epi32(end, begin), _mm256_setzero_si256());
}

static __m256i column_counts(const fq_pool2d_f32_params *p, int64_t ow0)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i start = _mm256_add_epi32(_mm256_set1_epi32((int)(ow0 * p->stride_w - p->pad_left)),
                                     _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)p->stride_w)));
    if (p->count_include_pad)
        return taps_inside(start, p->kernel_w, -p->pad_left, p->in_w + p->pad_right);
    return taps_inside(start, p->kernel_w, 0, p->in_w);
}

static int64_t row_count(const fq_pool2d_f32_params *p, int64_t h0)
{
    int64_t lo = p->count_include_pad ? -p->pad_top : 0;
    int64_t hi = p->count_include_pad ? p->in_h + p->pad_bottom : p->in_h;
    int64_t begin = h0 > lo ? h0 : lo;
    int64_t end = h0 + p->kernel_h < hi ? h0 + p->kernel_h : hi;
    return end > begin ? end - begin : 0;
}

static void output_chunk(const fq_pool2d_f32_params *p, const float *x, int64_t h0,
                         int64_t ow0, float *y)
{
    int64_t at0 = ow0 * p->stride_w - p->pad_left;
    __m256 sum = _mm256_setzero_ps();
    for (int64_t kh = 0; kh < p->kernel_h; kh++) {
        int64_t ih = h0 + kh;
        if (ih < 0 || ih >= p->in_h)
            continue;
        const float *row = x + ih * p->in_w;
        for (int64_t kw = 0; kw < p->kernel_w; kw++)
            sum = _mm256_add_ps(sum, load_taps(p, row, at0 + kw));
    }
    __m256i count = _mm256_mullo_epi32(column_counts(p, ow0),
                                       _mm256_set1_epi32((int)row_count(p, h0)));
    __m256 counted = _mm256_castsi256_ps(_mm256_cmpgt_epi32(count, _mm256_setzero_si256()));
    __m256 mean = _mm256_and_ps(counted, _mm256_div_ps(sum, _mm256_cvtepi32_ps(count)));
    _mm256_maskstore_ps(y, lane_range(0, p->out_w - ow0), mean);
}

void fq_f32_avgpool_ukernel_8w__avx2(const fq_pool2d_f32_params *p, const float *x, float *y)
{
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        int64_t h0 = oh * p->stride_h - p->pad_top;
        for (int64_t ow0 = 0; ow0 < p->out_w; ow0 += 8)
            output_chunk(p, x, h0, ow0, y + oh * p->out_w + ow0);
    }
}
