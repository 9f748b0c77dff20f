/* Selection of the fp32 average pooling kernels (f32_pool.h). */
#include <stddef.h>

#include "f32_pool.h"

static const fq_f32_avgpool_kernel kernels[] = {
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
    {"f32_avgpool_16w__avx512", FQ_ISA_AVX512, fq_f32_avgpool_ukernel_16w__avx512},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"f32_avgpool_8w__avx2", FQ_ISA_AVX2, fq_f32_avgpool_ukernel_8w__avx2},
#endif
    {NULL, FQ_ISA_SCALAR, NULL},
};

const fq_f32_avgpool_kernel *fq_f32_avgpool_kernels(int *count)
{
    *count = (int)(sizeof(kernels) / sizeof(kernels[0])) - 1;
    return kernels;
}

/* Column positions and counts are computed in int32 lanes. */
enum { LANE_LIMIT = 1 << 28, KERNEL_LIMIT = 1 << 12 };

bool fq_f32_avgpool_takes(const fq_pool2d_f32_params *p)
{
    bool fits = p->in_w < LANE_LIMIT && p->out_w < LANE_LIMIT && p->pad_left < LANE_LIMIT &&
                p->pad_right < LANE_LIMIT && p->kernel_w < KERNEL_LIMIT &&
                p->kernel_h < KERNEL_LIMIT && p->pad_left >= 0 && p->pad_right >= 0;
    return fits && p->dilation_h == 1 && p->dilation_w == 1 &&
           (p->stride_w == 1 || p->stride_w == 2) && p->stride_h >= 1 && p->kernel_h >= 1 &&
           p->kernel_w >= 1 && p->out_h >= 1 && p->out_w >= 1;
}

/* The table lists the kernels fastest first. */
const fq_f32_avgpool_kernel *fq_f32_avgpool_select(fq_isa cap, const fq_pool2d_f32_params *p)
{
    if (!fq_f32_avgpool_takes(p))
        return NULL;
    for (int i = 0; kernels[i].name != NULL; i++)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return NULL;
}
