/* Reference N-D pad of a tensor of any element type (elements are copied as bytes).
 *
 * Output coordinate o along an axis reads input coordinate o - pad_begin. Outside [0, in):
 * constant mode writes the fill value, edge mode reads the nearest edge sample, reflect mode
 * mirrors about the edge samples (without repeating them), repeatedly if needed. Negative
 * pad_begin (and out shorter than in) crops. */
#ifndef FQ_KERNELS_REF_ANY_PAD_ND_REF_H
#define FQ_KERNELS_REF_ANY_PAD_ND_REF_H

#include <stddef.h>
#include <stdint.h>

#define FQ_PAD_MAX_RANK 8

typedef enum fq_pad_mode {
    FQ_PAD_CONSTANT = 0,
    FQ_PAD_REFLECT,
    FQ_PAD_EDGE
} fq_pad_mode;

typedef struct fq_pad_nd_params {
    int rank;                              /* 1 .. FQ_PAD_MAX_RANK */
    int64_t in_dims[FQ_PAD_MAX_RANK];      /* each >= 1 unless mode is constant */
    int64_t out_dims[FQ_PAD_MAX_RANK];
    int64_t pad_begin[FQ_PAD_MAX_RANK];
    fq_pad_mode mode;
    size_t element_size;
    const void *fill;                      /* constant mode: one element */
} fq_pad_nd_params;

void fq_ref_pad_nd_any(const fq_pad_nd_params *p, const void *x, void *y);

#endif
