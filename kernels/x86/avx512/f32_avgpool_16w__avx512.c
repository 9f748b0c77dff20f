/* fp32 average pooling for AVX-512, 16 output columns per vector, undilated, stride_w 1 or 2
 * (contract in f32_pool.h).
 *
 * For each tap (kh, kw) in the reference's order, the 16 outputs' input columns are one masked
 * load (stride 1) or the even lanes of two (stride 2); columns outside the input load as +0.
 * The divisor of every lane is its count of taps inside the input (or the padded input), rows
 * times columns, converted to float as the reference does. */
#include <immintrin.h>

#include "f32_pool.h"

static __mmask16 first_lanes(int64_t n)
{
    if (n <= 0)
        return 0;
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* Lanes j with 0 <= at + j < in. */
static __mmask16 inside_lanes(int64_t at, int64_t in)
{
    return (__mmask16)(first_lanes(in - at) & ~first_lanes(-at));
}

static __m512 load_taps(const fq_pool2d_f32_params *p, const float *row, int64_t at)
{
    __m512 a = _mm512_maskz_loadu_ps(inside_lanes(at, p->in_w), row + at);
    if (p->stride_w == 1)
        return a;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    __m512 b = _mm512_maskz_loadu_ps(inside_lanes(at + 16, p->in_w), row + at + 16);
    return _mm512_permutex2var_ps(a, even, b);
}

/* Per lane: taps of [start, start + kernel) inside [lo, hi). */
static __m512i taps_inside(__m512i start, int64_t kernel, int64_t lo, int64_t hi)
{
    __m512i end = _mm512_min_epi32(_mm512_add_epi32(start, _mm512_set1_epi32((int)kernel)),
                                   _mm512_set1_epi32((int)hi));
    __m512i begin = _mm512_max_epi32(start, _mm512_set1_epi32((int)lo));
    return _mm512_max_epi32(_mm512_sub_epi32(end, begin), _mm512_setzero_si512());
}

/* Columns each of the 16 outputs from ow0 counts. */
static __m512i column_counts(const fq_pool2d_f32_params *p, int64_t ow0)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i start = _mm512_add_epi32(_mm512_set1_epi32((int)(ow0 * p->stride_w - p->pad_left)),
                                     _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)p->stride_w)));
    if (p->count_include_pad)
        return taps_inside(start, p->kernel_w, -p->pad_left, p->in_w + p->pad_right);
    return taps_inside(start, p->kernel_w, 0, p->in_w);
}

/* Rows of the window starting at h0 that the divisor counts. */
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
    __m512 sum = _mm512_setzero_ps();
    for (int64_t kh = 0; kh < p->kernel_h; kh++) {
        int64_t ih = h0 + kh;
        if (ih < 0 || ih >= p->in_h)
            continue;
        const float *row = x + ih * p->in_w;
        for (int64_t kw = 0; kw < p->kernel_w; kw++)
            sum = _mm512_add_ps(sum, load_taps(p, row, at0 + kw));
    }
    __m512i count = _mm512_mullo_epi32(column_counts(p, ow0),
                                       _mm512_set1_epi32((int)row_count(p, h0)));
    __mmask16 counted = _mm512_cmpgt_epi32_mask(count, _mm512_setzero_si512());
    __m512 mean = _mm512_maskz_div_ps(counted, sum, _mm512_cvtepi32_ps(count));
    _mm512_mask_storeu_ps(y, first_lanes(p->out_w - ow0), mean);
}

void fq_f32_avgpool_ukernel_16w__avx512(const fq_pool2d_f32_params *p, const float *x,
                                        float *y)
{
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        int64_t h0 = oh * p->stride_h - p->pad_top;
        for (int64_t ow0 = 0; ow0 < p->out_w; ow0 += 16)
            output_chunk(p, x, h0, ow0, y + oh * p->out_w + ow0);
    }
}
