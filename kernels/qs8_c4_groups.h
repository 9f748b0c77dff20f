/* Activations read by groups of 4 consecutive k values of a row, as the c4 int8 tiles take them
 * (VNNI and dot-product kernels: one 32-bit broadcast feeds four products per lane). */
#ifndef FQ_KERNELS_QS8_C4_GROUPS_H
#define FQ_KERNELS_QS8_C4_GROUPS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* k values [0, 4) at p. */
static inline uint32_t fq_qs8_c4_group(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* The first n (1 to 4) k values at p, zero-extended to a group (a row's last 1..3 values): never
 * reads past p + n. */
static inline uint32_t fq_qs8_c4_tail(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    memcpy(&v, p, n);
    return v;
}

#endif
