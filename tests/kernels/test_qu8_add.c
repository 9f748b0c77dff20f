/* QLinearAdd kernels (kernels/qu8_add.h) against the reference row (ref/qu8_add_ref.h), bit for
 * bit: random codes, zero points and scales, every length tail, a fused Relu, and products
 * large enough to saturate; under every kernel this CPU has. */
#include <string.h>

#include "qs8_test_util.h"
#include "qu8_add.h"

enum { ROUNDS = 200, MAX_N = 100 };

static fq_qu8_add_params random_params(void)
{
    int32_t c_zero = fq_test_rand_int(0, 255);
    float spread = fq_test_rand_int(0, 3) == 0 ? 40.0f : 2.0f;
    fq_qu8_add_params p = {
        .a_mult = spread * (float)fq_test_rand_int(1, 100000) / 100000.0f,
        .b_mult = spread * (float)fq_test_rand_int(1, 100000) / 100000.0f,
        .a_zero = fq_test_rand_int(0, 255), .b_zero = fq_test_rand_int(0, 255),
        .c_zero = c_zero, .c_min = fq_test_rand_int(0, 1) == 0 ? 0 : c_zero};
    return p;
}

static void test_matches_reference(void **state)
{
    const fq_qu8_add_kernel *kernel = *state;
    qs8_require_isa(kernel->isa, kernel->name);
    fq_test_seed(41);
    uint8_t a[MAX_N], b[MAX_N], want[MAX_N], got[MAX_N + 1];
    for (int round = 0; round < ROUNDS; round++) {
        fq_qu8_add_params p = random_params();
        int64_t n = fq_test_rand_int(1, MAX_N);
        qs8_fill_u8(a, (size_t)n, 0, 255);
        qs8_fill_u8(b, (size_t)n, 0, 255);
        fq_qu8_add_row_ref(&p, n, a, 1, b, 1, want);
        memset(got, 0xA5, sizeof(got));
        kernel->ukernel(&p, n, a, b, got);
        assert_memory_equal(got, want, (size_t)n);
        assert_int_equal(got[n], 0xA5);
    }
}

static void test_select_honours_the_cap(void **state)
{
    (void)state;
    for (int cap = 0; cap <= FQ_ISA_AUTO; cap++)
        assert_true(fq_isa_allowed(fq_qu8_add_select((fq_isa)cap)->isa, (fq_isa)cap));
    assert_int_equal(fq_qu8_add_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
}

int main(void)
{
    static qs8_test_list list;
    int count;
    const fq_qu8_add_kernel *kernels = fq_qu8_add_kernels(&count);
    for (int i = 0; i < count; i++)
        qs8_test_add(&list, "matches_reference", kernels[i].name, test_matches_reference,
                     (void *)&kernels[i]);
    qs8_test_add(&list, "select_honours_the_cap", NULL, test_select_honours_the_cap, NULL);
    return qs8_test_run("qu8_add", &list);
}
