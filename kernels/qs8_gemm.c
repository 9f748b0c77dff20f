/* qs8 GEMM: requantization parameters, the kernel table, weight packing and the driver. */
#include <string.h>

#include "qs8_gemm.h"

/* Packed weights per column block that the driver keeps in the L2 cache. */
#define GEMM_BLOCK_BYTES (256u * 1024u)

fq_status fq_qs8_requant_params_init(int32_t zero_point, int32_t output_min, int32_t output_max,
                                     fq_qs8_requant_params *params, fq_error *err)
{
    if (zero_point < 0 || zero_point > 255)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "qs8 requantization: output zero point %d is outside 0..255",
                            (int)zero_point);
    if (output_min < 0 || output_max > 255 || output_min > output_max)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "qs8 requantization: output range [%d, %d] is not inside 0..255",
                            (int)output_min, (int)output_max);

    params->output_zero_point = zero_point;
    params->output_min = output_min;
    params->output_max = output_max;
    params->min_less_zero_point = (float)(output_min - zero_point);
    params->max_less_zero_point = (float)(output_max - zero_point);
    return FQ_OK;
}

/* Slowest first: selection walks the table from the end. */
static const fq_qs8_gemm_kernel kernels[] = {
    {"qs8_gemm_2x4c1__scalar", FQ_ISA_SCALAR, 2, 4, 1, 0, fq_qs8_gemm_ukernel_2x4c1__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_SSE41)
    {"qs8_gemm_4x8c2__sse41", FQ_ISA_SSE41, 4, 8, 2, 0, fq_qs8_gemm_ukernel_4x8c2__sse41},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"qs8_gemm_4x16c2__avx2", FQ_ISA_AVX2, 4, 16, 2, 0, fq_qs8_gemm_ukernel_4x16c2__avx2},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVXVNNI)
    {"qs8_gemm_8x8c4__avxvnni", FQ_ISA_AVXVNNI, 8, 8, 4, 0, fq_qs8_gemm_ukernel_8x8c4__avxvnni},
    {"qs8_gemm_6x16c4__avxvnni", FQ_ISA_AVXVNNI, 6, 16, 4, 0,
     fq_qs8_gemm_ukernel_6x16c4__avxvnni},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512VNNI)
    {"qs8_gemm_8x16c4__avx512vnni", FQ_ISA_AVX512VNNI, 8, 16, 4, 0,
     fq_qs8_gemm_ukernel_8x16c4__avx512vnni},
    {"qs8_gemm_8x32c4__avx512vnni", FQ_ISA_AVX512VNNI, 8, 32, 4, 0,
     fq_qs8_gemm_ukernel_8x32c4__avx512vnni},
#endif
#if (defined(FQ_KERNELS_AARCH64) || defined(FQ_KERNELS_ARMV7)) && defined(FQ_HAVE_ISA_NEON)
    {"qs8_gemm_4x8c1__neon", FQ_ISA_NEON, 4, 8, 1, 0, fq_qs8_gemm_ukernel_4x8c1__neon},
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEONDOT)
    {"qs8_gemm_4x8c4__neondot", FQ_ISA_NEONDOT, 4, 8, 4, 128,
     fq_qs8_gemm_ukernel_4x8c4__neondot},
#endif
};

const fq_qs8_gemm_kernel *fq_qs8_gemm_kernels(int *count)
{
    *count = (int)(sizeof(kernels) / sizeof(kernels[0]));
    return kernels;
}

const fq_qs8_gemm_kernel *fq_qs8_gemm_select(fq_isa cap)
{
    for (int i = (int)(sizeof(kernels) / sizeof(kernels[0])) - 1; i > 0; i--)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return &kernels[0];
}

static size_t round_up(size_t x, size_t q)
{
    return (x + q - 1) / q * q;
}

static size_t panel_size(const fq_qs8_gemm_kernel *kernel, size_t k)
{
    return (size_t)kernel->nr * (2 * sizeof(int32_t) + round_up(k, kernel->kr));
}

size_t fq_qs8_gemm_packed_size(const fq_qs8_gemm_kernel *kernel, size_t n, size_t k)
{
    return round_up(n, kernel->nr) / kernel->nr * panel_size(kernel, k);
}

static fq_status check_pack_args(size_t n, size_t k, const int32_t *bias,
                                 int32_t input_zero_point, const float *multiplier,
                                 fq_error *err)
{
    if (n == 0 || k == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 gemm pack: %zu x %zu weights are empty",
                            n, k);
    if (input_zero_point < 0 || input_zero_point > 255)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "qs8 gemm pack: input zero point %d is outside 0..255",
                            (int)input_zero_point);
    for (size_t j = 0; j < n; j++) {
        if (!(multiplier[j] > 0.0f) || !isfinite(multiplier[j]))
            return fq_error_set(err, FQ_ERR_INVALID_ARG,
                                "qs8 gemm pack: multiplier of channel %zu is %g, not finite and "
                                "positive", j, (double)multiplier[j]);
        int64_t b = bias != NULL ? bias[j] : 0;
        if ((b < 0 ? -b : b) + (int64_t)k * 255 * 128 > INT32_MAX)
            return fq_error_set(err, FQ_ERR_INVALID_ARG,
                                "qs8 gemm pack: channel %zu (bias %lld, depth %zu) could "
                                "overflow its int32 accumulator", j, (long long)b, k);
    }
    return FQ_OK;
}

/* One panel: channels [j0, j0 + cols) of w, zero past cols. */
static void pack_panel(const fq_qs8_gemm_kernel *kernel, size_t k, size_t cols, const int8_t *w,
                       const int32_t *bias, int32_t input_zero_point, const float *multiplier,
                       uint8_t *panel)
{
    size_t nr = kernel->nr, kr = kernel->kr, kc_pad = round_up(k, kr);
    int32_t *packed_bias = (int32_t *)(void *)panel;
    int8_t *packed_w = (int8_t *)(panel + nr * sizeof(int32_t));
    float *packed_multiplier = (float *)(void *)(packed_w + kc_pad * nr);
    memset(panel, 0, nr * (2 * sizeof(int32_t) + kc_pad));

    for (size_t j = 0; j < cols; j++) {
        int64_t sum = 0;
        for (size_t p = 0; p < k; p++) {
            int8_t v = w[j * k + p];
            packed_w[(p / kr) * nr * kr + j * kr + p % kr] = v;
            sum += v;
        }
        int64_t b = (bias != NULL ? bias[j] : 0) +
                    ((int64_t)kernel->activation_offset - input_zero_point) * sum;
        packed_bias[j] = (int32_t)(uint32_t)(uint64_t)b;
        packed_multiplier[j] = multiplier[j];
    }
    for (size_t j = cols; j < nr; j++)
        packed_multiplier[j] = 1.0f;
}

fq_status fq_qs8_gemm_pack(const fq_qs8_gemm_kernel *kernel, size_t n, size_t k, const int8_t *w,
                           const int32_t *bias, int32_t input_zero_point, const float *multiplier,
                           void *packed, fq_error *err)
{
    fq_status st = check_pack_args(n, k, bias, input_zero_point, multiplier, err);
    if (st != FQ_OK)
        return st;

    uint8_t *panel = packed;
    for (size_t j0 = 0; j0 < n; j0 += kernel->nr) {
        size_t cols = n - j0 < kernel->nr ? n - j0 : kernel->nr;
        pack_panel(kernel, k, cols, w + j0 * k, bias != NULL ? bias + j0 : NULL,
                   input_zero_point, multiplier + j0, panel);
        panel += panel_size(kernel, k);
    }
    return FQ_OK;
}

void fq_qs8_gemm_run(const fq_qs8_gemm_kernel *kernel, size_t m, size_t n, size_t k,
                     const uint8_t *a, size_t a_stride, const void *packed, uint8_t *c,
                     size_t c_stride, const fq_qs8_requant_params *params)
{
    size_t panel = panel_size(kernel, k);
    size_t block_panels = GEMM_BLOCK_BYTES / panel > 0 ? GEMM_BLOCK_BYTES / panel : 1;
    size_t block_cols = block_panels * kernel->nr;

    for (size_t j0 = 0; j0 < n; j0 += block_cols) {
        size_t nc = n - j0 < block_cols ? n - j0 : block_cols;
        const uint8_t *w = (const uint8_t *)packed + j0 / kernel->nr * panel;
        for (size_t i = 0; i < m; i += kernel->mr) {
            size_t mr = m - i < kernel->mr ? m - i : kernel->mr;
            kernel->ukernel(mr, nc, k, a + i * a_stride, a_stride, w, c + i * c_stride + j0,
                            c_stride, params);
        }
    }
}
