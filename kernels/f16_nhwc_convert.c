/* Scalar twins and the choice of the f16 NHWC conversions (f16_nhwc_convert.h). */
#include "f16_nhwc_convert.h"
#include "ref/tensor_cast_ref.h"

void fq_f32_nchw_to_f16_nhwc__scalar(size_t channels, size_t pixels, const float *x,
                                     uint16_t *y)
{
    for (size_t c = 0; c < channels; c++)
        for (size_t i = 0; i < pixels; i++)
            y[i * channels + c] = fq_f16_from_f32(x[c * pixels + i]);
}

void fq_f16_nhwc_to_f32_nchw__scalar(size_t channels, size_t pixels, const uint16_t *x,
                                     float *y)
{
    for (size_t c = 0; c < channels; c++)
        for (size_t i = 0; i < pixels; i++)
            y[c * pixels + i] = fq_f32_from_f16(x[i * channels + c]);
}

/* Slowest first: selection walks the table from the end. */
static const fq_f16_nhwc_convert converts[] = {
    {"f16_nhwc_convert__scalar", FQ_ISA_SCALAR, fq_f32_nchw_to_f16_nhwc__scalar,
     fq_f16_nhwc_to_f32_nchw__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"f16_nhwc_convert_8x8__avx2", FQ_ISA_AVX2, fq_f32_nchw_to_f16_nhwc_8x8__avx2,
     fq_f16_nhwc_to_f32_nchw_8x8__avx2},
#endif
};

const fq_f16_nhwc_convert *fq_f16_nhwc_converts(int *count)
{
    *count = (int)(sizeof(converts) / sizeof(converts[0]));
    return converts;
}

const fq_f16_nhwc_convert *fq_f16_nhwc_convert_select(fq_isa cap)
{
    for (int i = (int)(sizeof(converts) / sizeof(converts[0])) - 1; i > 0; i--)
        if (fq_isa_allowed(converts[i].isa, cap) && fq_isa_supported(converts[i].isa))
            return &converts[i];
    return &converts[0];
}
