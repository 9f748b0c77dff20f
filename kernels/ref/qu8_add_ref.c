/* QLinearAdd rows: see qu8_add_ref.h. */
#include "ref/qu8_add_ref.h"
#include "ref/qu8_requant_ref.h"

static inline uint8_t add_one(const fq_qu8_add_params *p, int32_t a, int32_t b)
{
    float v = p->a_mult * (float)(a - p->a_zero) + p->b_mult * (float)(b - p->b_zero);
    return fq_qu8_requantize(v, p->c_zero, p->c_min);
}

/* The loops are written out per step pattern so that the contiguous ones vectorize. */
void fq_qu8_add_row_ref(const fq_qu8_add_params *p, int64_t n, const uint8_t *a, int64_t a_step,
                        const uint8_t *b, int64_t b_step, uint8_t *c)
{
    if (a_step != 0 && b_step != 0) {
        for (int64_t i = 0; i < n; i++)
            c[i] = add_one(p, a[i], b[i]);
    } else if (a_step != 0) {
        for (int64_t i = 0; i < n; i++)
            c[i] = add_one(p, a[i], b[0]);
    } else if (b_step != 0) {
        for (int64_t i = 0; i < n; i++)
            c[i] = add_one(p, a[0], b[i]);
    } else {
        uint8_t value = add_one(p, a[0], b[0]);
        for (int64_t i = 0; i < n; i++)
            c[i] = value;
    }
}
