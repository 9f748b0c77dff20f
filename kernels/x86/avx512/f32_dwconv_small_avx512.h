/* Small planes for the AVX-512 depthwise 3x3 kernels (both strides): planes of at most 16
 * output columns at stride 2 and 32 at stride 1, as MobileFaceNet's 28x28, 14x14 and 7x7
 * layers have.
 *
 * The row passes of the including file fill 7 or 14 of a vector's 16 lanes there and spend
 * most of their time on the edges of the plane. Here a vector holds one output row, or, at
 * stride 2, two when the rows have at most 8 columns (lanes 0-7 row r, lanes 8-15 row r + 1).
 * Each tap kw of a vector is one permute of the input rows it reads (at stride 2, row r's in
 * the first source and row r + 1's in the second, or the two halves of a row up to 32 columns
 * wide) by an index and a zero mask computed once per plane; columns in the padding get the
 * mask's zero. Stride 1 goes input-major (rolling_rows): three permutes per input row serve
 * the three output rows that read it. The sums run kh-major from the bias like the row
 * passes; at stride 2 a padded row of a pair adds a multiply of zero (the passes skip it,
 * which is the same sum unless it is -0). Included after f32_activate_avx512.h, with STRIDE
 * set. */

/* The plane fits: stride 1 with at most 32 input and output columns (rolling_rows); stride 2
 * with two output rows per vector at most 8 columns wide reading at most 16 input columns
 * each, or one row of at most 16 columns reading at most 32. */
static bool small_plane(const fq_f32_dwconv_geometry *g)
{
    if (STRIDE == 1)
        return g->in_w <= 32 && g->out_w <= 32;
    return (g->out_w <= 8 && g->in_w <= 16) || (g->out_w <= 16 && g->in_w <= 32);
}

/* Stride 1, input-major: each input row is loaded once and permuted into its three taps per
 * output vector (V vectors of 16 columns per row, the row's columns [0, 16) and [16, 32) the
 * two permute sources), and the taps feed the three output rows that read the row (o =
 * ih + pad_top with kh 0, o - 1 with kh 1, o - 2 with kh 2), so each output row still sums
 * kh-major from the bias; o - 2 is then complete and stored. Padded rows are skipped, as in
 * the row passes. */
static inline __attribute__((always_inline)) void
rolling_rows(const int V, const fq_f32_dwconv_geometry *g, const float *x, const float *w,
             float bias, float *y, const fq_f32_gemm_params *params)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i index[2][3];
    __mmask16 use[2][3], store[2];
    for (int v = 0; v < V; v++) {
        __m512i j = _mm512_add_epi32(lane, _mm512_set1_epi32(16 * v));
        __mmask16 in_row = _mm512_cmplt_epi32_mask(j, _mm512_set1_epi32((int)g->out_w));
        store[v] = in_row;
        for (int kw = 0; kw < 3; kw++) {
            index[v][kw] = _mm512_add_epi32(j, _mm512_set1_epi32(kw - (int)g->pad_left));
            use[v][kw] = in_row & _mm512_cmpge_epi32_mask(index[v][kw], _mm512_setzero_si512()) &
                         _mm512_cmplt_epi32_mask(index[v][kw], _mm512_set1_epi32((int)g->in_w));
        }
    }
    __m512 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm512_set1_ps(w[t]);
    const __m512 bv = _mm512_set1_ps(bias);
    const __mmask16 lo_mask = (__mmask16)((1u << (g->in_w < 16 ? g->in_w : 16)) - 1);
    const __mmask16 hi_mask = (__mmask16)((1u << (g->in_w > 16 ? g->in_w - 16 : 0)) - 1);

    __m512 a0[2], a1[2], a2[2]; /* output rows o - 2, o - 1 and o */
    for (int v = 0; v < V; v++)
        a0[v] = a1[v] = a2[v] = bv;
    for (int64_t o = 0; o < g->out_h + 2; o++) {
        int64_t ih = o - g->pad_top;
        if (ih >= 0 && ih < g->in_h) {
            const float *row = x + ih * g->in_w;
            __m512 lo = _mm512_maskz_loadu_ps(lo_mask, row);
            __m512 hi = V == 2 ? _mm512_maskz_loadu_ps(hi_mask, row + 16) : lo;
            for (int v = 0; v < V; v++) {
                __m512 t[3];
                for (int kw = 0; kw < 3; kw++)
                    t[kw] = V == 2 ? _mm512_maskz_permutex2var_ps(use[v][kw], lo, index[v][kw], hi)
                                   : _mm512_maskz_permutexvar_ps(use[v][kw], index[v][kw], lo);
                for (int kw = 0; kw < 3; kw++)
                    a2[v] = _mm512_fmadd_ps(wv[kw], t[kw], a2[v]);
                for (int kw = 0; kw < 3; kw++)
                    a1[v] = _mm512_fmadd_ps(wv[3 + kw], t[kw], a1[v]);
                for (int kw = 0; kw < 3; kw++)
                    a0[v] = _mm512_fmadd_ps(wv[6 + kw], t[kw], a0[v]);
            }
        }
        for (int v = 0; v < V; v++) {
            if (o >= 2)
                _mm512_mask_storeu_ps(y + (o - 2) * g->out_w + 16 * v, store[v],
                                      activate(a0[v], params));
            a0[v] = a1[v];
            a1[v] = a2[v];
            a2[v] = bv;
        }
    }
}

static void small_plane_run(const fq_f32_dwconv_geometry *g, const float *x, const float *w,
                            float bias, float *y, const fq_f32_gemm_params *params)
{
    if (STRIDE == 1) {
        if (g->in_w <= 16 && g->out_w <= 16)
            rolling_rows(1, g, x, w, bias, y, params);
        else
            rolling_rows(2, g, x, w, bias, y, params);
        return;
    }
    const int64_t per = g->out_w <= 8 && g->in_w <= 16 ? 2 : 1; /* output rows per vector */
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    /* Lane l is column j of the vector's row `half`, which is its permute source. */
    const __m512i half = per == 2 ? _mm512_srli_epi32(lane, 3) : _mm512_setzero_si512();
    const __m512i j = per == 2 ? _mm512_and_si512(lane, _mm512_set1_epi32(7)) : lane;
    const __mmask16 in_row = _mm512_cmplt_epi32_mask(j, _mm512_set1_epi32((int)g->out_w));
    __m512i index[3];
    __mmask16 use[3];
    for (int kw = 0; kw < 3; kw++) {
        __m512i col = _mm512_add_epi32(_mm512_mullo_epi32(j, _mm512_set1_epi32(STRIDE)),
                                       _mm512_set1_epi32(kw - (int)g->pad_left));
        use[kw] = in_row & _mm512_cmpge_epi32_mask(col, _mm512_setzero_si512()) &
                  _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32((int)g->in_w));
        index[kw] = _mm512_add_epi32(col, _mm512_slli_epi32(half, 4));
    }
    __m512 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm512_set1_ps(w[t]);
    const __m512 bv = _mm512_set1_ps(bias);
    /* Two rows: row r and row r + 1, each of at most 16 columns. One row: its columns [0, 16)
     * and [16, 32). */
    const __mmask16 row_mask = (__mmask16)((1u << (g->in_w < 16 ? g->in_w : 16)) - 1);
    const __mmask16 tail_mask = (__mmask16)((1u << (g->in_w > 16 ? g->in_w - 16 : 0)) - 1);
    const __mmask16 store = (__mmask16)((1u << g->out_w) - 1);

    for (int64_t oh = 0; oh < g->out_h; oh += per) {
        bool second = per == 2 && oh + 1 < g->out_h;
        __m512 sum = bv;
        for (int kh = 0; kh < 3; kh++) {
            int64_t ia = oh * STRIDE + kh - g->pad_top, ib = ia + STRIDE;
            bool has_a = ia >= 0 && ia < g->in_h, has_b = second && ib >= 0 && ib < g->in_h;
            if (!has_a && !has_b)
                continue;
            __m512 a = _mm512_setzero_ps(), b = a;
            if (has_a)
                a = _mm512_maskz_loadu_ps(row_mask, x + ia * g->in_w);
            if (has_b)
                b = _mm512_maskz_loadu_ps(row_mask, x + ib * g->in_w);
            else if (per == 1)
                b = _mm512_maskz_loadu_ps(tail_mask, x + ia * g->in_w + 16);
            for (int kw = 0; kw < 3; kw++)
                sum = _mm512_fmadd_ps(wv[kh * 3 + kw],
                                      _mm512_maskz_permutex2var_ps(use[kw], a, index[kw], b),
                                      sum);
        }
        sum = activate(sum, params);
        _mm512_mask_storeu_ps(y + oh * g->out_w, store, sum);
        if (second)
            _mm512_mask_storeu_ps(y + (oh + 1) * g->out_w, store,
                                  _mm512_shuffle_f32x4(sum, sum, _MM_SHUFFLE(1, 0, 3, 2)));
    }
}
