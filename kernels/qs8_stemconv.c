/* qs8 small-channel convolution: the kernel table and weight packing (see qs8_stemconv.h). */
#include <math.h>
#include <string.h>

#include "qs8_stemconv.h"

static const fq_qs8_stemconv_kernel kernels[] = {
    {"qs8_stemconv_1x16c4__scalar", FQ_ISA_SCALAR, fq_qs8_stemconv_ukernel_1x16c4__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512VNNI)
    {"qs8_stemconv_8x16c4__avx512vnni", FQ_ISA_AVX512VNNI,
     fq_qs8_stemconv_ukernel_8x16c4__avx512vnni},
#endif
};

const fq_qs8_stemconv_kernel *fq_qs8_stemconv_kernels(int *count)
{
    *count = (int)(sizeof(kernels) / sizeof(kernels[0]));
    return kernels;
}

const fq_qs8_stemconv_kernel *fq_qs8_stemconv_select(fq_isa cap)
{
    for (int i = (int)(sizeof(kernels) / sizeof(kernels[0])) - 1; i > 0; i--)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return NULL;
}

size_t fq_qs8_stemconv_groups(size_t kernel_w, size_t in_channels)
{
    return (kernel_w * in_channels + 3) / 4;
}

static size_t panel_bytes(size_t kernel_h, size_t groups)
{
    return FQ_QS8_STEMCONV_PANEL * (2 * sizeof(int32_t) + kernel_h * groups * 4);
}

size_t fq_qs8_stemconv_packed_size(size_t out_channels, size_t kernel_h, size_t groups)
{
    size_t panels = (out_channels + FQ_QS8_STEMCONV_PANEL - 1) / FQ_QS8_STEMCONV_PANEL;
    return panels * panel_bytes(kernel_h, groups);
}

static fq_status check_channel(size_t j, size_t depth, const int32_t *bias,
                               const float *multiplier, fq_error *err)
{
    if (!(multiplier[j] > 0.0f) || !isfinite(multiplier[j]))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 stemconv pack: multiplier of channel "
                            "%zu is %g, not finite and positive", j, (double)multiplier[j]);
    int64_t b = bias != NULL ? bias[j] : 0;
    if ((b < 0 ? -b : b) + 2 * (int64_t)depth * 255 * 128 > INT32_MAX)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 stemconv pack: bias %lld of channel "
                            "%zu could overflow its int32 accumulator", (long long)b, j);
    return FQ_OK;
}

fq_status fq_qs8_stemconv_pack(size_t out_channels, size_t in_channels, size_t kernel_h,
                               size_t kernel_w, const int8_t *w, const int32_t *bias,
                               int32_t input_zero_point, const float *multiplier, void *packed,
                               fq_error *err)
{
    size_t run = kernel_w * in_channels, groups = fq_qs8_stemconv_groups(kernel_w, in_channels);
    if (out_channels == 0 || run == 0 || run > FQ_QS8_STEMCONV_MAX_ROW_BYTES || kernel_h == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 stemconv pack: %zu x %zu x %zu "
                            "weights do not fit kernel rows of at most %d bytes", out_channels,
                            kernel_h, run, FQ_QS8_STEMCONV_MAX_ROW_BYTES);
    memset(packed, 0, fq_qs8_stemconv_packed_size(out_channels, kernel_h, groups));

    uint8_t *panel = packed;
    for (size_t j0 = 0; j0 < out_channels; j0 += FQ_QS8_STEMCONV_PANEL) {
        int32_t *packed_bias = (int32_t *)(void *)panel;
        int8_t *packed_w = (int8_t *)(panel + FQ_QS8_STEMCONV_PANEL * sizeof(int32_t));
        float *packed_multiplier =
            (float *)(void *)(packed_w + kernel_h * groups * 4 * FQ_QS8_STEMCONV_PANEL);
        for (size_t i = 0; i < FQ_QS8_STEMCONV_PANEL; i++) {
            size_t j = j0 + i;
            packed_multiplier[i] = 1.0f;
            if (j >= out_channels)
                continue;
            fq_status status = check_channel(j, kernel_h * run, bias, multiplier, err);
            if (status != FQ_OK)
                return status;
            int32_t sum = 0;
            for (size_t r = 0; r < kernel_h; r++)
                for (size_t t = 0; t < run; t++) {
                    size_t kw = t / in_channels, c = t % in_channels;
                    int8_t v = w[((j * in_channels + c) * kernel_h + r) * kernel_w + kw];
                    packed_w[((r * groups + t / 4) * FQ_QS8_STEMCONV_PANEL + i) * 4 + t % 4] = v;
                    sum += v;
                }
            packed_bias[i] = (bias != NULL ? bias[j] : 0) - input_zero_point * sum;
            packed_multiplier[i] = multiplier[j];
        }
        panel += panel_bytes(kernel_h, groups);
    }
    return FQ_OK;
}
