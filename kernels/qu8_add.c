/* QLinearAdd kernels: the table and the choice under an ISA cap (see qu8_add.h). */
#include "qu8_add.h"

void fq_qu8_add_ukernel_1__scalar(const fq_qu8_add_params *p, int64_t n, const uint8_t *a,
                                  const uint8_t *b, uint8_t *c)
{
    fq_qu8_add_row_ref(p, n, a, 1, b, 1, c);
}

static const fq_qu8_add_kernel kernels[] = {
    {"qu8_add_1__scalar", FQ_ISA_SCALAR, fq_qu8_add_ukernel_1__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
    {"qu8_add_16__avx512", FQ_ISA_AVX512, fq_qu8_add_ukernel_16__avx512},
#endif
};

const fq_qu8_add_kernel *fq_qu8_add_kernels(int *count)
{
    *count = (int)(sizeof(kernels) / sizeof(kernels[0]));
    return kernels;
}

const fq_qu8_add_kernel *fq_qu8_add_select(fq_isa cap)
{
    for (int i = (int)(sizeof(kernels) / sizeof(kernels[0])) - 1; i > 0; i--)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return &kernels[0];
}
