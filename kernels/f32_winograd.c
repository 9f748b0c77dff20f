/* Winograd F(4x4, 3x3): the filter transform and the choice of input and output transforms
 * (f32_winograd.h). */
#include "f32_winograd.h"

static const fq_f32_winograd_kernel scalar = {
    "f32_winograd_4x3__scalar", FQ_ISA_SCALAR, fq_f32_winograd_input_4x3__scalar,
    fq_f32_winograd_output_4x3__scalar};
#if defined(FQ_HAVE_ISA_AVX512)
static const fq_f32_winograd_kernel avx512 = {
    "f32_winograd_4x3__avx512", FQ_ISA_AVX512, fq_f32_winograd_input_4x3__avx512,
    fq_f32_winograd_output_4x3__avx512};
#endif
#if defined(FQ_HAVE_ISA_SSE41)
static const fq_f32_winograd_kernel sse41 = {
    "f32_winograd_4x3__sse41", FQ_ISA_SSE41, fq_f32_winograd_input_4x3__sse41,
    fq_f32_winograd_output_4x3__sse41};
#endif
#if defined(FQ_HAVE_ISA_AVX2)
static const fq_f32_winograd_kernel avx2 = {
    "f32_winograd_4x3__avx2", FQ_ISA_AVX2, fq_f32_winograd_input_4x3__avx2,
    fq_f32_winograd_output_4x3__avx2};
#endif

const fq_f32_winograd_kernel *fq_f32_winograd_select(fq_isa cap)
{
    (void)cap;  /* without x86 SIMD transforms compiled in, every cap gets the scalar ones */
#if defined(FQ_HAVE_ISA_AVX512)
    if (fq_isa_allowed(FQ_ISA_AVX512, cap))
        return &avx512;
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_allowed(FQ_ISA_AVX2, cap))
        return &avx2;
#endif
#if defined(FQ_HAVE_ISA_SSE41)
    if (fq_isa_allowed(FQ_ISA_SSE41, cap))
        return &sse41;
#endif
    return &scalar;
}

/* G g of three values g[0], g[s], g[2 s] into r[0], r[rs], ..., r[5 rs]. */
static void filter_line(const double *g, int s, double *r, int rs)
{
    double even = g[0] + g[2 * s], odd = g[s];
    r[0] = g[0] / 4.0;
    r[rs] = -(even + odd) / 6.0;
    r[2 * rs] = -(even - odd) / 6.0;
    r[3 * rs] = g[0] / 24.0 + odd / 12.0 + g[2 * s] / 6.0;
    r[4 * rs] = g[0] / 24.0 - odd / 12.0 + g[2 * s] / 6.0;
    r[5 * rs] = g[2 * s];
}

void fq_f32_winograd_filter_4x3(const float *g, float *u)
{
    double w[9], rows[18], out[36];
    for (int i = 0; i < 9; i++)
        w[i] = g[i];

    for (int c = 0; c < 3; c++)
        filter_line(w + c, 3, rows + c, 3);
    for (int r = 0; r < 6; r++)
        filter_line(rows + r * 3, 1, out + r * 6, 1);

    for (int e = 0; e < 36; e++)
        u[e] = (float)out[e];
}
