/* Selection of the depthwise 3x3 and global kernels (f32_dwconv.h). */
#include <stddef.h>

#include "f32_dwconv.h"

static const fq_f32_dwconv_kernel kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512)
    {"f32_dwconv_3x3s1__avx512", FQ_ISA_AVX512, 1, fq_f32_dwconv_ukernel_3x3s1__avx512},
    {"f32_dwconv_3x3s2__avx512", FQ_ISA_AVX512, 2, fq_f32_dwconv_ukernel_3x3s2__avx512},
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    {"f32_dwconv_3x3s1__avx2", FQ_ISA_AVX2, 1, fq_f32_dwconv_ukernel_3x3s1__avx2},
    {"f32_dwconv_3x3s2__avx2", FQ_ISA_AVX2, 2, fq_f32_dwconv_ukernel_3x3s2__avx2},
#endif
#if defined(FQ_HAVE_ISA_SSE41)
    {"f32_dwconv_3x3s1__sse41", FQ_ISA_SSE41, 1, fq_f32_dwconv_ukernel_3x3s1__sse41},
    {"f32_dwconv_3x3s2__sse41", FQ_ISA_SSE41, 2, fq_f32_dwconv_ukernel_3x3s2__sse41},
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    {"f32_dwconv_3x3s1__neon", FQ_ISA_NEON, 1, fq_f32_dwconv_ukernel_3x3s1__neon},
    {"f32_dwconv_3x3s2__neon", FQ_ISA_NEON, 2, fq_f32_dwconv_ukernel_3x3s2__neon},
#endif
    {NULL, FQ_ISA_SCALAR, 0, NULL},
};

const fq_f32_dwconv_kernel *fq_f32_dwconv_select(fq_isa cap, int stride)
{
    for (int i = 0; kernels[i].name != NULL; i++)
        if (kernels[i].stride == stride && fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return NULL;
}

static const fq_f32_dwconv_kernel global_kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512)
    {"f32_dwconv_global__avx512", FQ_ISA_AVX512, 0, fq_f32_dwconv_ukernel_global__avx512},
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    {"f32_dwconv_global__avx2", FQ_ISA_AVX2, 0, fq_f32_dwconv_ukernel_global__avx2},
#endif
#if defined(FQ_HAVE_ISA_SSE41)
    {"f32_dwconv_global__sse41", FQ_ISA_SSE41, 0, fq_f32_dwconv_ukernel_global__sse41},
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    {"f32_dwconv_global__neon", FQ_ISA_NEON, 0, fq_f32_dwconv_ukernel_global__neon},
#endif
    {"f32_dwconv_global__scalar", FQ_ISA_SCALAR, 0, fq_f32_dwconv_ukernel_global__scalar},
};

bool fq_f32_dwconv_is_global(const fq_conv2d_f32_params *p)
{
    return p->kernel_h == p->in_h && p->kernel_w == p->in_w && p->out_h == 1 &&
           p->out_w == 1 && p->pad_top == 0 && p->pad_left == 0 && p->dilation_h == 1 &&
           p->dilation_w == 1;
}

const fq_f32_dwconv_kernel *fq_f32_dwconv_select_global(fq_isa cap)
{
    size_t count = sizeof(global_kernels) / sizeof(global_kernels[0]);
    for (size_t i = 0; i < count; i++)
        if (fq_isa_allowed(global_kernels[i].isa, cap))
            return &global_kernels[i];
    return NULL;
}
