/* Selection of the max pooling kernels (f32_maxpool.h). */
#include <stddef.h>

#include "f32_maxpool.h"

static const fq_f32_maxpool_kernel kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512)
    {"f32_maxpool__avx512", FQ_ISA_AVX512, fq_f32_maxpool_ukernel__avx512},
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    {"f32_maxpool__avx2", FQ_ISA_AVX2, fq_f32_maxpool_ukernel__avx2},
#endif
#if defined(FQ_HAVE_ISA_SSE41)
    {"f32_maxpool__sse41", FQ_ISA_SSE41, fq_f32_maxpool_ukernel__sse41},
#endif
#if defined(FQ_HAVE_ISA_NEON)
    {"f32_maxpool__neon", FQ_ISA_NEON, fq_f32_maxpool_ukernel__neon},
#endif
    {NULL, FQ_ISA_SCALAR, NULL},
};

static bool takes(const fq_pool2d_f32_params *p)
{
    return p->dilation_h == 1 && p->dilation_w == 1 && p->stride_h == p->stride_w &&
           (p->stride_w == 1 || p->stride_w == 2) && p->kernel_w >= 1 &&
           p->kernel_w <= FQ_F32_MAXPOOL_MAX_KW && p->kernel_h >= 1 && p->out_h >= 1 &&
           p->out_w >= 1;
}

const fq_f32_maxpool_kernel *fq_f32_maxpool_select(fq_isa cap, const fq_pool2d_f32_params *p)
{
    if (!takes(p))
        return NULL;
    for (int i = 0; kernels[i].name != NULL; i++)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return NULL;
}
