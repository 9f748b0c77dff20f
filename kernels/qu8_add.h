/* QLinearAdd on u8 codes, contiguous operands of one shape: the kernels of the numerics of
 * ref/qu8_add_ref.h, every one equal to fq_qu8_add_row_ref bit for bit.
 *
 * The SIMD kernels evaluate the reference's expression operation by operation: the two
 * products and their sum through the rounding intrinsics (_MM_FROUND_CUR_DIRECTION), which the
 * compiler does not contract into a fused multiply-add, then the add-and-subtract rounding,
 * the NaN select, the clamps and the truncating conversion of fq_qu8_requantize. */
#ifndef FQ_KERNELS_QU8_ADD_H
#define FQ_KERNELS_QU8_ADD_H

#include <stdint.h>

#include "facequant/cpu.h"
#include "ref/qu8_add_ref.h"

/* c[i] = QLinearAdd(a[i], b[i]) for i < n. */
typedef void (*fq_qu8_add_ukernel)(const fq_qu8_add_params *p, int64_t n, const uint8_t *a,
                                   const uint8_t *b, uint8_t *c);

typedef struct fq_qu8_add_kernel {
    const char *name;  /* such as "qu8_add_16__avx512" */
    fq_isa isa;
    fq_qu8_add_ukernel ukernel;
} fq_qu8_add_kernel;

/* Every kernel compiled in, the portable one first. */
const fq_qu8_add_kernel *fq_qu8_add_kernels(int *count);
/* The fastest kernel allowed under cap; never NULL. */
const fq_qu8_add_kernel *fq_qu8_add_select(fq_isa cap);

void fq_qu8_add_ukernel_1__scalar(const fq_qu8_add_params *p, int64_t n, const uint8_t *a,
                                  const uint8_t *b, uint8_t *c);
void fq_qu8_add_ukernel_16__avx512(const fq_qu8_add_params *p, int64_t n, const uint8_t *a,
                                   const uint8_t *b, uint8_t *c);

#endif
