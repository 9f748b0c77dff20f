/* qs8 small-channel convolution, 8 output pixels x up to 3 full panels (48 channels) a step,
 * then the split tail panel, AVX512-VNNI (see kernels/qs8_stemconv.h). Each group of 4 input
 * bytes is broadcast once and multiplied into every panel of the step by vpdpbusd (u8 x s8,
 * four products into each int32 lane, without saturation). Steps take 3 panels, then 2 or 1
 * for the rest (4 panels as 2 + 2). A tail of t <= 8 channels broadcasts S groups at once
 * (8, 16 or 32 bytes) to its t sets of S lanes and sums each set at the end. Pixels past
 * `pixels` repeat the last one: computed, and stored over it with the same values. */
#include <immintrin.h>
#include <string.h>

#include "qs8_stemconv.h"

enum { MR = 8, MAX_PANELS = 3 };

/* MR pixels: pixel i's kernel row r starts at rows[r] + offset[i]. */
typedef struct pixel_set {
    const uint8_t *const *rows;
    size_t offset[MR];
} pixel_set;

static inline __m512i broadcast_group(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof(v));
    return _mm512_set1_epi32(v);
}

/* acc += x (u8) . w (s8) by groups of 4; an asm statement, as in the qs8 GEMM kernels, keeps
 * GCC from copying each accumulator around the intrinsic. */
static inline __m512i dot(__m512i acc, __m512i x, __m512i w)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
    return acc;
}

/* The output quantization as vectors. */
typedef struct requant {
    __m512 lo, hi;
    __m512i zero_point;
} requant;

static inline requant requant_load(const fq_qs8_requant_params *params)
{
    return (requant){_mm512_set1_ps(params->min_less_zero_point),
                     _mm512_set1_ps(params->max_less_zero_point),
                     _mm512_set1_epi32(params->output_zero_point)};
}

static inline void store_panel(__m512i acc, const uint8_t *multiplier_at, size_t cols,
                               uint8_t *dst, requant q)
{
    const __m512 multiplier = _mm512_loadu_ps((const float *)(const void *)multiplier_at);
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), multiplier);
    v = _mm512_min_ps(_mm512_max_ps(v, q.lo), q.hi);
    __m512i y = _mm512_add_epi32(_mm512_cvtps_epi32(v), q.zero_point);
    const __mmask16 mask = (__mmask16)(cols >= 16 ? 0xFFFFu : (1u << cols) - 1);
    __m128i bytes = _mm512_cvtusepi32_epi8(y);
    /* Narrowed in a register, then stored: the memory form of vpmovusdb is slow on Zen 4. */
    __asm__("" : "+v"(bytes));
    _mm_mask_storeu_epi8(dst, mask, bytes);
}

/* NP consecutive panels (panel_bytes apart) for the pixels of `set`; cols channels of them
 * are stored. */
static inline __attribute__((always_inline)) void
panels_block(size_t kernel_h, size_t groups, const pixel_set *set,
             const uint8_t *panel, size_t panel_bytes, size_t cols, uint8_t *const out[MR],
             const fq_qs8_requant_params *params, const int NP)
{
    __m512i acc[MR][MAX_PANELS];
#pragma GCC unroll 3
    for (int v = 0; v < NP; v++) {
        const __m512i bias = _mm512_loadu_si512(panel + (size_t)v * panel_bytes);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
            acc[i][v] = bias;
    }

    const uint8_t *w = panel + 64;
    for (size_t r = 0; r < kernel_h; r++) {
        const uint8_t *row[MR];
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
            row[i] = set->rows[r] + set->offset[i];
        for (size_t g = 0; g < groups; g++, w += 64) {
            __m512i wv[MAX_PANELS];
#pragma GCC unroll 3
            for (int v = 0; v < NP; v++)
                wv[v] = _mm512_loadu_si512(w + (size_t)v * panel_bytes);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++) {
                __m512i x = broadcast_group(row[i] + 4 * g);
#pragma GCC unroll 3
                for (int v = 0; v < NP; v++)
                    acc[i][v] = dot(acc[i][v], x, wv[v]);
            }
        }
    }

    /* Loaded once: the byte stores below could alias *params. */
    const requant q = requant_load(params);
#pragma GCC unroll 3
    for (int v = 0; v < NP; v++) {
        if ((size_t)v * 16 >= cols)
            break;
        const uint8_t *multiplier_at = w + (size_t)v * panel_bytes;
#pragma GCC unroll 8
        for (int i = MR - 1; i >= 0; i--)
            store_panel(acc[i][v], multiplier_at, cols - (size_t)v * 16, out[i] + 16 * v, q);
    }
}

/* The S groups at p, repeated over the 16 lanes. */
static inline __m512i broadcast_split(const uint8_t *p, const int S)
{
    if (S == 2) {
        /* A 64-bit broadcast: a plain load, where vbroadcasti32x2 takes a shuffle too. */
        int64_t v;
        memcpy(&v, p, sizeof(v));
        return _mm512_set1_epi64(v);
    }
    if (S == 4)
        return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)p));
    return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(const void *)p));
}

/* Lane j: the sum of lane set j (lanes j * S .. j * S + S - 1), for j < 16 / S. */
static inline __m512i sum_lane_sets(__m512i acc, __m512i first_lanes, const int S)
{
    acc = _mm512_add_epi32(acc, _mm512_shuffle_epi32(acc, _MM_PERM_CDAB));
    if (S >= 4)
        acc = _mm512_add_epi32(acc, _mm512_shuffle_epi32(acc, _MM_PERM_BADC));
    if (S >= 8)
        acc = _mm512_add_epi32(acc, _mm512_shuffle_i32x4(acc, acc, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_permutexvar_epi32(first_lanes, acc);
}

/* The tail panel of split S (t = cols channels) for the pixels of `set`. */
static inline __attribute__((always_inline)) void
tail_block(size_t kernel_h, size_t groups, const pixel_set *set,
           const uint8_t *panel, size_t cols, uint8_t *const out[MR],
           const fq_qs8_requant_params *params, const int S)
{
    __m512i acc[MR];
    const __m512i bias = _mm512_loadu_si512(panel);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        acc[i] = bias;

    const size_t steps = groups / (size_t)S;
    const uint8_t *w = panel + 64;
    for (size_t r = 0; r < kernel_h; r++) {
        const uint8_t *row[MR];
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++)
            row[i] = set->rows[r] + set->offset[i];
        for (size_t s = 0; s < steps; s++, w += 64) {
            __m512i wv = _mm512_loadu_si512(w);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++)
                acc[i] = dot(acc[i], broadcast_split(row[i] + 4 * (size_t)S * s, S), wv);
        }
    }

    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i first_lanes = _mm512_and_si512(_mm512_mullo_epi32(lane, _mm512_set1_epi32(S)),
                                                 _mm512_set1_epi32(15));
    const requant q = requant_load(params);
#pragma GCC unroll 8
    for (int i = MR - 1; i >= 0; i--)
        store_panel(sum_lane_sets(acc[i], first_lanes, S), w, cols, out[i], q);
}

/* Panels in one step when `left` remain: 3, and 2 + 2 for 4. */
static size_t step_panels(size_t left)
{
    if (left >= 3 && left != 4)
        return 3;
    return left >= 2 ? 2 : 1;
}

/* The full panels (and a tail of split 1) of MR pixels. */
static void full_panels(size_t kernel_h, size_t groups, const pixel_set *set,
                        const uint8_t *packed_w, size_t panels, size_t channels,
                        uint8_t *const out[MR], const fq_qs8_requant_params *params)
{
    size_t panel_bytes = fq_qs8_stemconv_panel_bytes(kernel_h, groups, 1);
    for (size_t j = 0; j < panels;) {
        size_t step = step_panels(panels - j), j0 = j * FQ_QS8_STEMCONV_PANEL;
        const uint8_t *panel = packed_w + j * panel_bytes;
        uint8_t *out_j[MR];
        for (int i = 0; i < MR; i++)
            out_j[i] = out[i] + j0;
        if (step == 3)
            panels_block(kernel_h, groups, set, panel, panel_bytes, channels - j0, out_j,
                         params, 3);
        else if (step == 2)
            panels_block(kernel_h, groups, set, panel, panel_bytes, channels - j0, out_j,
                         params, 2);
        else
            panels_block(kernel_h, groups, set, panel, panel_bytes, channels - j0, out_j,
                         params, 1);
        j += step;
    }
}

static void split_tail(size_t kernel_h, size_t groups, const pixel_set *set,
                       const uint8_t *panel, size_t split, size_t cols, uint8_t *const out[MR],
                       const fq_qs8_requant_params *params)
{
    if (split == 2)
        tail_block(kernel_h, groups, set, panel, cols, out, params, 2);
    else if (split == 4)
        tail_block(kernel_h, groups, set, panel, cols, out, params, 4);
    else
        tail_block(kernel_h, groups, set, panel, cols, out, params, 8);
}

void fq_qs8_stemconv_ukernel_8x48c4__avx512vnni(size_t pixels, size_t kernel_h, size_t groups,
                                                const uint8_t *const *rows, size_t pixel_step,
                                                const void *packed_w, size_t channels,
                                                uint8_t *output, size_t output_stride,
                                                const fq_qs8_requant_params *params)
{
    size_t split = fq_qs8_stemconv_split(channels);
    size_t full = channels / FQ_QS8_STEMCONV_PANEL, tail = channels % FQ_QS8_STEMCONV_PANEL;
    size_t panels = split == 1 ? full + (tail != 0) : full;
    const uint8_t *tail_panel =
        (const uint8_t *)packed_w + full * fq_qs8_stemconv_panel_bytes(kernel_h, groups, 1);
    pixel_set set = {.rows = rows};
    for (size_t p0 = 0; p0 < pixels; p0 += MR) {
        uint8_t *out[MR], *out_tail[MR];
        for (size_t i = 0; i < MR; i++) {
            size_t p = p0 + i < pixels ? p0 + i : pixels - 1;
            set.offset[i] = p * pixel_step;
            out[i] = output + p * output_stride;
            out_tail[i] = out[i] + full * FQ_QS8_STEMCONV_PANEL;
        }
        full_panels(kernel_h, groups, &set, packed_w, panels, channels, out, params);
        if (split > 1)
            split_tail(kernel_h, groups, &set, tail_panel, split, tail, out_tail, params);
    }
}
