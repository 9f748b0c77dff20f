/* int8 GEMM with int32 output: the kernel table, packing (through fq_qs8_gemm_pack) and the
 * driver. */
#include "qs8_gemm_i32.h"

#include "facequant/alloc.h"
#include "qs8_gemm.h"

/* Packed weights per column block that the driver keeps in the L2 cache. */
#define GEMM_BLOCK_BYTES (256u * 1024u)

/* Slowest first: selection walks the table from the end. */
static const fq_qs8_gemm_i32_kernel kernels[] = {
    {"qs8_gemm_i32_2x4c1__scalar", FQ_ISA_SCALAR, 2, 4, 1, 0,
     fq_qs8_gemm_i32_ukernel_2x4c1__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_SSE41)
    {"qs8_gemm_i32_4x8c2__sse41", FQ_ISA_SSE41, 4, 8, 2, 0,
     fq_qs8_gemm_i32_ukernel_4x8c2__sse41},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"qs8_gemm_i32_4x16c2__avx2", FQ_ISA_AVX2, 4, 16, 2, 0,
     fq_qs8_gemm_i32_ukernel_4x16c2__avx2},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVXVNNI)
    {"qs8_gemm_i32_8x8c4__avxvnni", FQ_ISA_AVXVNNI, 8, 8, 4, 0,
     fq_qs8_gemm_i32_ukernel_8x8c4__avxvnni},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512VNNI)
    {"qs8_gemm_i32_8x32c4__avx512vnni", FQ_ISA_AVX512VNNI, 8, 32, 4, 0,
     fq_qs8_gemm_i32_ukernel_8x32c4__avx512vnni},
#endif
#if (defined(FQ_KERNELS_AARCH64) || defined(FQ_KERNELS_ARMV7)) && defined(FQ_HAVE_ISA_NEON)
    {"qs8_gemm_i32_4x8c1__neon", FQ_ISA_NEON, 4, 8, 1, 0, fq_qs8_gemm_i32_ukernel_4x8c1__neon},
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEONDOT)
    {"qs8_gemm_i32_4x8c4__neondot", FQ_ISA_NEONDOT, 4, 8, 4, 128,
     fq_qs8_gemm_i32_ukernel_4x8c4__neondot},
#endif
};

#define N_KERNELS ((int)(sizeof(kernels) / sizeof(kernels[0])))

const fq_qs8_gemm_i32_kernel *fq_qs8_gemm_i32_kernels(int *count)
{
    *count = N_KERNELS;
    return kernels;
}

const fq_qs8_gemm_i32_kernel *fq_qs8_gemm_i32_select(fq_isa cap)
{
    for (int i = N_KERNELS - 1; i > 0; i--)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return &kernels[0];
}

/* The static GEMM's description of the same layout, for its packing and sizes. */
static fq_qs8_gemm_kernel layout_of(const fq_qs8_gemm_i32_kernel *kernel)
{
    return (fq_qs8_gemm_kernel){.name = kernel->name, .isa = kernel->isa, .mr = kernel->mr,
                                .nr = kernel->nr, .kr = kernel->kr,
                                .activation_offset = kernel->activation_offset};
}

size_t fq_qs8_gemm_i32_packed_size(const fq_qs8_gemm_i32_kernel *kernel, size_t n, size_t k)
{
    fq_qs8_gemm_kernel layout = layout_of(kernel);
    return fq_qs8_gemm_packed_size(&layout, n, k);
}

fq_status fq_qs8_gemm_i32_pack(const fq_qs8_gemm_i32_kernel *kernel, size_t n, size_t k,
                               const int8_t *w, void *packed, fq_error *err)
{
    if (n == 0 || k == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "qs8 i32 gemm pack: %zu x %zu weights are empty", n, k);
    float *ones = fq_malloc(n * sizeof(float));
    if (ones == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY,
                            "qs8 i32 gemm pack: out of memory for %zu channels", n);
    for (size_t j = 0; j < n; j++)
        ones[j] = 1.0f;

    fq_qs8_gemm_kernel layout = layout_of(kernel);
    fq_status status = fq_qs8_gemm_pack(&layout, n, k, w, NULL, 0, ones, packed, err);
    fq_free(ones);
    return status;
}

void fq_qs8_gemm_i32_run(const fq_qs8_gemm_i32_kernel *kernel, size_t m, size_t n, size_t k,
                         const uint8_t *a, size_t a_stride, const void *packed, int32_t *c,
                         size_t c_stride)
{
    size_t panel = fq_qs8_gemm_i32_packed_size(kernel, kernel->nr, k);
    size_t block_panels = GEMM_BLOCK_BYTES / panel > 0 ? GEMM_BLOCK_BYTES / panel : 1;
    size_t block_cols = block_panels * kernel->nr;
    uint8_t *c_bytes = (uint8_t *)c;

    for (size_t j0 = 0; j0 < n; j0 += block_cols) {
        size_t nc = n - j0 < block_cols ? n - j0 : block_cols;
        const uint8_t *w = (const uint8_t *)packed + j0 / kernel->nr * panel;
        for (size_t i = 0; i < m; i += kernel->mr) {
            size_t mr = m - i < kernel->mr ? m - i : kernel->mr;
            int32_t *c_tile = (int32_t *)(void *)(c_bytes + i * c_stride) + j0;
            kernel->ukernel(mr, nc, k, a + i * a_stride, a_stride, w, c_tile, c_stride);
        }
    }
}

fq_f32_quantize_u8_fn fq_f32_quantize_u8_select(fq_isa cap, fq_isa *isa)
{
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_allowed(FQ_ISA_AVX2, cap)) {
        *isa = FQ_ISA_AVX2;
        return fq_f32_quantize_u8__avx2;
    }
#endif
    (void)cap;
    *isa = FQ_ISA_SCALAR;
    return fq_f32_quantize_u8__scalar;
}

fq_f32_range_fn fq_f32_range_select(fq_isa cap)
{
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_allowed(FQ_ISA_AVX2, cap))
        return fq_f32_range__avx2;
#endif
    (void)cap;
    return fq_f32_range__scalar;
}
