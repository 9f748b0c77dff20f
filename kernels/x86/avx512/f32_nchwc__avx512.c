/* The NCHW16c chain kernels for AVX-512F (contract and numerics: f32_nchwc.h).
 *
 * pw: a tile of OB output blocks x PX pixels in OB * PX <= 24 accumulators; per input channel,
 * OB weight vectors and one broadcast of each pixel's value. dw_row: 4 pixels a pass in the
 * row's interior, each tap one whole-vector load. pool_row and to_nchw move whole vectors; the
 * transposition gathers each channel's 16 pixels from the block. */
#include <float.h>
#include <immintrin.h>

#include "f32_activate_avx512.h"
#include "f32_nchwc.h"

enum { BLOCK = FQ_F32_NCHWC_BLOCK };

/* The activation of one block; PRELU with its 16 channels' slopes. */
static inline __m512 activate_block(__m512 v, const fq_f32_gemm_params *p, const float *slopes)
{
    if (p->kind != FQ_EPILOGUE_F32_PRELU)
        return activate(v, p);
    __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(v, negative, v, _mm512_loadu_ps(slopes));
}

/* Output blocks [ob0, ob0 + OB) of pixels [p, p + count), count <= PX; pixels XP floats apart
 * (0: a->x_pixel), a constant where inlined so that every broadcast has a fixed offset. */
static inline __attribute__((always_inline)) void
pw_tile(const fq_f32_nchwc_pw_args *a, int64_t ob0, int64_t p, const int OB, const int PX,
        const int count, const int XP)
{
    const ptrdiff_t x_pixel = XP > 0 ? XP : a->x_pixel;
    __m512 acc[4][24];
#pragma GCC unroll 4
    for (int o = 0; o < OB; o++) {
        __m512 b = _mm512_loadu_ps(a->bias + (ob0 + o) * BLOCK);
#pragma GCC unroll 24
        for (int j = 0; j < PX; j++)
            acc[o][j] = b;
    }
    const float *xp = a->x + p * x_pixel;
    const float *wp = a->w + ob0 * a->k * BLOCK;
    ptrdiff_t w_stride = (ptrdiff_t)a->k * BLOCK;
    for (int64_t k0 = 0; k0 < a->k; k0 += BLOCK) {
        const float *xk = xp + (k0 / BLOCK) * a->x_block;
        const float *wk = wp + k0 * BLOCK;
        int64_t lanes = a->k - k0 < BLOCK ? a->k - k0 : BLOCK;
        for (int64_t l = 0; l < lanes; l++, xk += a->x_lane, wk += BLOCK) {
            if (a->offsets != NULL)
                xk = xp + a->offsets[k0 + l];
            __m512 wv[4];
#pragma GCC unroll 4
            for (int o = 0; o < OB; o++)
                wv[o] = _mm512_loadu_ps(wk + o * w_stride);
#pragma GCC unroll 24
            for (int j = 0; j < PX; j++) {
                if (j >= count)
                    break;
                __m512 xv = _mm512_set1_ps(xk[j * x_pixel]);
#pragma GCC unroll 4
                for (int o = 0; o < OB; o++)
                    acc[o][j] = _mm512_fmadd_ps(wv[o], xv, acc[o][j]);
            }
        }
    }
#pragma GCC unroll 4
    for (int o = 0; o < OB; o++) {
        const float *slopes = a->act->slopes != NULL ? a->act->slopes + (ob0 + o) * BLOCK : NULL;
        float *y = a->y + (ob0 + o) * a->y_block + p * BLOCK;
#pragma GCC unroll 24
        for (int j = 0; j < PX; j++) {
            if (j >= count)
                break;
            _mm512_storeu_ps(y + j * BLOCK, activate_block(acc[o][j], a->act, slopes));
        }
    }
}

/* Every pixel of output blocks [ob0, ob0 + OB): whole tiles, then the pixels left. */
static inline __attribute__((always_inline)) void
pw_blocks(const fq_f32_nchwc_pw_args *a, int64_t ob0, const int OB, const int PX, const int XP)
{
    int64_t p = 0;
    for (; p + PX <= a->pixels; p += PX)
        pw_tile(a, ob0, p, OB, PX, PX, XP);
    for (; p < a->pixels; p++)
        pw_tile(a, ob0, p, OB, PX, 1, XP);
}

/* Every output block, 4 at a time, then the 1 to 3 left. */
static inline __attribute__((always_inline)) void pw_all(const fq_f32_nchwc_pw_args *a,
                                                         const int XP)
{
    int64_t ob0 = 0;
    for (; ob0 + 4 <= a->out_blocks; ob0 += 4)
        pw_blocks(a, ob0, 4, 6, XP);
    switch (a->out_blocks - ob0) {
    case 3:
        pw_blocks(a, ob0, 3, 8, XP);
        break;
    case 2:
        pw_blocks(a, ob0, 2, 12, XP);
        break;
    case 1:
        pw_blocks(a, ob0, 1, 24, XP);
        break;
    default:
        break;
    }
}

/* Pixels a block apart (NCHW16c), side by side (NCHW) or 2 apart (a stride-2 stem) each get
 * their own copy. */
void fq_f32_nchwc_pw__avx512(const fq_f32_nchwc_pw_args *a)
{
    switch (a->x_pixel) {
    case BLOCK:
        pw_all(a, BLOCK);
        break;
    case 1:
        pw_all(a, 1);
        break;
    case 2:
        pw_all(a, 2);
        break;
    default:
        pw_all(a, 0);
        break;
    }
}

/* One output pixel with its taps checked against the row's ends (padding: zero vectors). */
static __m512 dw_edge(const float *const rows[3], int64_t w, const __m512 wv[9], __m512 bias,
                      int64_t ow)
{
    __m512 acc = bias;
    for (int kh = 0; kh < 3; kh++) {
        if (rows[kh] == NULL)
            continue;
        for (int kw = 0; kw < 3; kw++) {
            int64_t iw = ow + kw - 1;
            __m512 v = iw >= 0 && iw < w ? _mm512_loadu_ps(rows[kh] + iw * BLOCK)
                                         : _mm512_setzero_ps();
            acc = _mm512_fmadd_ps(wv[kh * 3 + kw], v, acc);
        }
    }
    return acc;
}

void fq_f32_nchwc_dw_row__avx512(const float *const rows[3], int64_t w, const float *wt,
                                 const float *bias, const fq_f32_gemm_params *act,
                                 const float *slopes, float *out)
{
    __m512 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm512_loadu_ps(wt + t * BLOCK);
    __m512 bv = _mm512_loadu_ps(bias);
    int64_t ow = 0;
    _mm512_storeu_ps(out, activate_block(dw_edge(rows, w, wv, bv, 0), act, slopes));
    for (ow = 1; ow + 4 < w; ow += 4) {
        __m512 acc[4] = {bv, bv, bv, bv};
        for (int kh = 0; kh < 3; kh++) {
            if (rows[kh] == NULL)
                continue;
            const float *q = rows[kh] + (ow - 1) * BLOCK;
            __m512 v[6];
#pragma GCC unroll 6
            for (int i = 0; i < 6; i++)
                v[i] = _mm512_loadu_ps(q + i * BLOCK);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                acc[j] = _mm512_fmadd_ps(wv[kh * 3], v[j], acc[j]);
                acc[j] = _mm512_fmadd_ps(wv[kh * 3 + 1], v[j + 1], acc[j]);
                acc[j] = _mm512_fmadd_ps(wv[kh * 3 + 2], v[j + 2], acc[j]);
            }
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
            _mm512_storeu_ps(out + (ow + j) * BLOCK, activate_block(acc[j], act, slopes));
    }
    for (; ow < w; ow++)
        _mm512_storeu_ps(out + ow * BLOCK,
                         activate_block(dw_edge(rows, w, wv, bv, ow), act, slopes));
}

/* Output pixel ow of a stride-2 row: input columns 2 * ow - pad_left + kw, zero outside. */
static inline __attribute__((always_inline)) __m512
dw_s2_pixel(const float *const rows[3], int64_t in_w, int64_t pad_left, const __m512 wv[9],
            __m512 bias, int64_t ow, const bool inside)
{
    __m512 acc = bias;
    int64_t iw0 = 2 * ow - pad_left;
    for (int kh = 0; kh < 3; kh++) {
        if (rows[kh] == NULL)
            continue;
        for (int kw = 0; kw < 3; kw++) {
            int64_t iw = iw0 + kw;
            __m512 v = inside || (iw >= 0 && iw < in_w) ? _mm512_loadu_ps(rows[kh] + iw * BLOCK)
                                                        : _mm512_setzero_ps();
            acc = _mm512_fmadd_ps(wv[kh * 3 + kw], v, acc);
        }
    }
    return acc;
}

void fq_f32_nchwc_dw_row_s2__avx512(const float *const rows[3], int64_t in_w, int64_t out_w,
                                    int64_t pad_left, const float *wt, const float *bias,
                                    const fq_f32_gemm_params *act, const float *slopes,
                                    float *out)
{
    __m512 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm512_loadu_ps(wt + t * BLOCK);
    __m512 bv = _mm512_loadu_ps(bias);
    for (int64_t ow = 0; ow < out_w; ow++) {
        int64_t iw0 = 2 * ow - pad_left;
        __m512 acc = iw0 >= 0 && iw0 + 2 < in_w
                         ? dw_s2_pixel(rows, in_w, pad_left, wv, bv, ow, true)
                         : dw_s2_pixel(rows, in_w, pad_left, wv, bv, ow, false);
        _mm512_storeu_ps(out + ow * BLOCK, activate_block(acc, act, slopes));
    }
}

void fq_f32_nchwc_pool_row__avx512(const float *r0, const float *r1, int64_t w, float *out)
{
    const __m512 lowest = _mm512_set1_ps(-FLT_MAX);
    for (int64_t ow = 0; ow < w / 2; ow++) {
        const float *a = r0 + 2 * ow * BLOCK, *b = r1 + 2 * ow * BLOCK;
        __m512 even = _mm512_max_ps(_mm512_loadu_ps(a), lowest);
        __m512 odd = _mm512_max_ps(_mm512_loadu_ps(a + BLOCK), lowest);
        even = _mm512_max_ps(_mm512_loadu_ps(b), even);
        odd = _mm512_max_ps(_mm512_loadu_ps(b + BLOCK), odd);
        __m512 best = _mm512_max_ps(even, lowest);
        _mm512_storeu_ps(out + ow * BLOCK, _mm512_max_ps(odd, best));
    }
}

/* r[i] lane c -> r[c] lane i: pairs of floats, then of pairs, then 128-bit quarters. */
static void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 4; g++) {
        __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
        __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
        r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* r[4g + m], quarter q: rows 4g..4g+3 of column 4q + m */
    for (int m = 0; m < 4; m++) {
        __m512 lo02 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x88);
        __m512 lo13 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xdd);
        __m512 hi02 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x88);
        __m512 hi13 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xdd);
        t[m] = _mm512_shuffle_f32x4(lo02, hi02, 0x88);
        t[8 + m] = _mm512_shuffle_f32x4(lo02, hi02, 0xdd);
        t[4 + m] = _mm512_shuffle_f32x4(lo13, hi13, 0x88);
        t[12 + m] = _mm512_shuffle_f32x4(lo13, hi13, 0xdd);
    }
    for (int i = 0; i < 16; i++)
        r[i] = t[i];
}

void fq_f32_nchwc_to_nchw__avx512(const float *src, int64_t w, float *y, ptrdiff_t plane)
{
    for (int64_t x0 = 0; x0 < w; x0 += BLOCK) {
        int64_t n = w - x0 < BLOCK ? w - x0 : BLOCK;
        __m512 r[16];
        for (int i = 0; i < BLOCK; i++)
            r[i] = i < n ? _mm512_loadu_ps(src + (x0 + i) * BLOCK) : _mm512_setzero_ps();
        transpose16(r);
        __mmask16 mask = (__mmask16)(n == BLOCK ? 0xffff : (1u << n) - 1);
        for (int c = 0; c < BLOCK; c++)
            _mm512_mask_storeu_ps(y + c * plane + x0, mask, r[c]);
    }
}
