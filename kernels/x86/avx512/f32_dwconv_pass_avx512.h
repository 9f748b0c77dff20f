/* The pass of the AVX-512 depthwise 3x3 kernels (both strides): one span of the pass's rows,
 * all together: ROWS (4), or the 1 to 3 rows of a plane's last pass (small planes, 7 or 14
 * rows, spend a large part of their time there). Each row count is its own inlined copy of
 * the including file's vectors(), which unrolls over it. Included after vectors() and span. */
_Static_assert(ROWS == 4, "pass() has a case for every row count up to ROWS");

static inline __attribute__((always_inline)) void
pass(const fq_f32_dwconv_geometry *g, const float *const *in, float *const *out, int rows,
     const int left, const __m512 wv[9], __m512 bias, const span *s,
     const fq_f32_gemm_params *params)
{
    switch (rows) {
    case 4:
        vectors(g, in, out, 4, left, wv, bias, s, params);
        break;
    case 3:
        vectors(g, in, out, 3, left, wv, bias, s, params);
        break;
    case 2:
        vectors(g, in, out, 2, left, wv, bias, s, params);
        break;
    default:
        vectors(g, in, out, 1, left, wv, bias, s, params);
        break;
    }
}
