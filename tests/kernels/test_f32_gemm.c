/* fp32 GEMM kernels (strided and offset-table forms, fp16-weight twins) and convolution plans
 * against the reference, for every kernel whose ISA this CPU has (lower ISAs forced through
 * explicit caps), over randomized shapes and every activation.
 *
 * Bound: |fast - ref| <= 1e-5 * (sum over terms of |w * x| + |bias|) + 1e-6 per element, the
 * rounding error any summation order (and FMA) may add; a wrong index or tail gives errors of
 * the order of the terms themselves, far above it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_conv.h"
#include "f32_gemm.h"
#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "ref/f32_conv2d_ref.h"
#include "ref/f32_gemm_ref.h"
#include "ref/tensor_cast_ref.h"
#include "runtime/threadpool.h"
#include "test_util.h"

#define TOLERANCE 1e-5

static const fq_epilogue_f32_kind kinds[] = {
    FQ_EPILOGUE_F32_NONE, FQ_EPILOGUE_F32_RELU, FQ_EPILOGUE_F32_CLIP,
    FQ_EPILOGUE_F32_LEAKY_RELU, FQ_EPILOGUE_F32_PRELU, FQ_EPILOGUE_F32_SIGMOID,
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

static float *random_floats(int64_t n)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = fq_test_rand_float(-1.0f, 1.0f);
    return v;
}

static fq_epilogue_f32 random_act(fq_epilogue_f32_kind kind, const float *slopes, int64_t n)
{
    fq_epilogue_f32 act = {.kind = kind, .alpha = -0.25f, .beta = 0.5f};
    if (kind == FQ_EPILOGUE_F32_LEAKY_RELU)
        act.alpha = 0.1f;
    if (kind == FQ_EPILOGUE_F32_PRELU) {
        act.slopes = slopes;
        act.slope_count = fq_test_rand_int(0, 1) ? n : 1;
    }
    return act;
}

/* Element i of a row has error bound bound[i]; the activation is 1-Lipschitz or scaled by a
 * slope of magnitude <= 1, so the pre-activation bound holds after it. */
static void expect_close(const float *got, const float *want, const float *bound, int64_t n,
                         const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        double limit = TOLERANCE * bound[i] + 1e-6;
        if (!(fabs((double)got[i] - want[i]) <= limit))
            fail_msg("%s: element %lld is %.9g, the reference %.9g (bound %.3g)", what,
                     (long long)i, got[i], want[i], limit);
    }
}

/* Sum of |w| |x| + |bias| per element of C = W X + bias. */
static void gemm_bounds(int64_t m, int64_t n, int64_t k, const float *w, const float *x,
                        const float *bias, float *bound)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = fabs(bias[i]);
            for (int64_t p = 0; p < k; p++)
                s += fabs(w[i * k + p]) * fabs(x[p * n + j]);
            bound[i * n + j] = (float)s;
        }
}

static void reference_gemm(int64_t m, int64_t n, int64_t k, const float *w, const float *x,
                           const float *bias, const fq_epilogue_f32 *act, float *y)
{
    fq_gemm_f32_params p = {.m = m, .n = n, .k = k, .lda = k, .ldb = n, .ldc = n};
    fq_ref_gemm_f32(&p, w, x, y);
    for (int64_t i = 0; i < m; i++)
        fq_ref_bias_activation_f32(y + i * n, n, bias[i], act, i);
}

static void check_gemm_case(const fq_f32_gemm_kernel *kernel, int64_t m, int64_t n, int64_t k,
                            fq_epilogue_f32_kind kind, fq_threadpool *pool)
{
    float *w = random_floats(m * k), *x = random_floats(k * n), *bias = random_floats(m);
    float *slopes = random_floats(m);
    float *got = calloc((size_t)(m * n), sizeof(float)), *want = calloc((size_t)(m * n), 4);
    float *bound = calloc((size_t)(m * n), sizeof(float));
    fq_epilogue_f32 act = random_act(kind, slopes, m);
    fq_f32_gemm_packed packed;
    fq_error err = {0};
    assert_int_equal(fq_f32_gemm_pack(kernel, m, k, w, k, bias, 1.0f, &packed, &err), FQ_OK);
    void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(kernel,
                                                            fq_threadpool_size(pool)));
    fq_f32_gemm_input in = {.x = x, .x_stride = n};
    fq_f32_gemm_run(kernel, &packed, n, &in, got, n, &act, ws, pool);
    reference_gemm(m, n, k, w, x, bias, &act, want);
    gemm_bounds(m, n, k, w, x, bias, bound);
    char what[160];
    snprintf(what, sizeof(what), "%s m %lld n %lld k %lld activation %d", kernel->name,
             (long long)m, (long long)n, (long long)k, kind);
    expect_close(got, want, bound, m * n, what);
    fq_free_aligned(ws);
    fq_f32_gemm_packed_free(&packed);
    free(w), free(x), free(bias), free(slopes), free(got), free(want), free(bound);
}

static void test_every_gemm_kernel_matches_the_reference_on_random_shapes(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(1);
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(all[i]->isa)) {
            printf("skipping %s: this CPU lacks %s\n", all[i]->name, fq_isa_name(all[i]->isa));
            continue;
        }
        for (int t = 0; t < fq_test_cases(60); t++) {
            int64_t m = fq_test_rand_int(1, 67), n = fq_test_rand_int(1, 67);
            int64_t k = fq_test_rand_int(1, 67);
            check_gemm_case(all[i], m, n, k, kinds[t % N_KINDS], NULL);
        }
    }
}

static void test_gemm_kernels_handle_depth_blocks_and_wide_outputs(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(2);
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(all[i]->isa))
            continue;
        check_gemm_case(all[i], 29, 131, 2 * all[i]->kc + 7, FQ_EPILOGUE_F32_RELU, NULL);
        check_gemm_case(all[i], 5, 3, all[i]->kc, FQ_EPILOGUE_F32_PRELU, NULL);
    }
}

static void test_gemm_select_respects_the_isa_cap(void **state)
{
    (void)state;
    for (int cap = FQ_ISA_SCALAR; cap <= FQ_ISA_AVX512FP16; cap++) {
        const fq_f32_gemm_kernel *k = fq_f32_gemm_select((fq_isa)cap);
        assert_non_null(k);
        assert_true(fq_isa_allowed(k->isa, (fq_isa)cap));
    }
    assert_int_equal(fq_f32_gemm_select(FQ_ISA_SCALAR)->isa, FQ_ISA_SCALAR);
    if (fq_isa_supported(FQ_ISA_AVX2))
        assert_int_equal(fq_f32_gemm_select(FQ_ISA_AVX2)->isa, FQ_ISA_AVX2);
    if (fq_isa_supported(FQ_ISA_SSE41))
        assert_int_equal(fq_f32_gemm_select(FQ_ISA_SSE41)->isa, FQ_ISA_SSE41);
}

/* Products of at most 4 rows take the 4-row AVX-512 tile; taller ones keep the 8- and 12-row
 * tiles even where 4 rows would pad less (20 rows: 12x32 pads to 24). Between 8 and 12 rows
 * the 12-row tile wins unless it pads over 8% more rows (64 rows: 72 against 64; 128 rows:
 * 132 against 128 goes to 12). */
static void test_gemm_rows_take_the_short_tile_only_for_products_that_fit_it(void **state)
{
    (void)state;
    if (!fq_isa_supported(FQ_ISA_AVX512)) {
        printf("skipping: this CPU lacks AVX-512\n");
        skip();
    }
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 1)->mr, 4);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 2)->mr, 4);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 4)->mr, 4);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 5)->mr, 8);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 20)->mr, 12);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 64)->mr, 8);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 32)->mr, 8);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 128)->mr, 12);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 512)->mr, 12);
    assert_int_equal(fq_f32_gemm_select_rows(FQ_ISA_AVX512, 1024)->mr, 12);
    assert_int_not_equal(fq_f32_gemm_select_rows_f16w(FQ_ISA_AVX512, 2)->mr, 4);
}

/* ---- offset-table microkernels ---- */

/* One microkernel call's operands: kc rows of X at random offsets into one buffer, a packed
 * panel (bias slot, then kc x MR weights), C with a stride wider than the tile. */
typedef struct offsets_case {
    size_t mr, nc, kc, c_stride;
    unsigned flags;
    float *buffer, *w, *c, *slopes;
    ptrdiff_t *offsets;
    fq_f32_gemm_params params;
} offsets_case;

static offsets_case random_offsets_case(const fq_f32_gemm_kernel *kernel, fq_epilogue_f32_kind kind)
{
    offsets_case t = {.mr = (size_t)fq_test_rand_int(1, kernel->mr),
                      .nc = (size_t)fq_test_rand_int(1, kernel->nr),
                      .kc = (size_t)fq_test_rand_int(1, 67),
                      .flags = (unsigned)fq_test_rand_int(0, 3)};
    int64_t span = 4 * 67 + kernel->nr;
    t.c_stride = (size_t)kernel->nr + (size_t)fq_test_rand_int(0, 9);
    t.buffer = random_floats(span);
    t.w = random_floats((int64_t)((t.kc + 1) * (size_t)kernel->mr));
    t.c = random_floats((int64_t)((size_t)kernel->mr * t.c_stride));
    t.slopes = random_floats(kernel->mr);
    t.offsets = malloc(t.kc * sizeof(ptrdiff_t));
    assert_non_null(t.offsets);
    for (size_t k = 0; k < t.kc; k++)
        t.offsets[k] = fq_test_rand_int(0, (int)(span - kernel->nr));
    t.params = (fq_f32_gemm_params){.kind = kind, .alpha = -0.25f, .beta = 0.5f,
                                    .slopes = t.slopes};
    if (kind == FQ_EPILOGUE_F32_LEAKY_RELU)
        t.params.alpha = 0.1f;
    return t;
}

static void free_offsets_case(offsets_case *t)
{
    free(t->buffer), free(t->w), free(t->c), free(t->slopes), free(t->offsets);
}

static float activate_like_a_kernel(float v, const fq_f32_gemm_params *p, size_t row)
{
    switch (p->kind) {
    case FQ_EPILOGUE_F32_RELU:
        return v > 0.0f ? v : 0.0f;
    case FQ_EPILOGUE_F32_CLIP:
        return v < p->alpha ? p->alpha : v > p->beta ? p->beta : v;
    case FQ_EPILOGUE_F32_LEAKY_RELU:
        return v < 0.0f ? p->alpha * v : v;
    case FQ_EPILOGUE_F32_PRELU:
        return v < 0.0f ? p->slopes[row] * v : v;
    default:
        return v;  /* sigmoid is the driver's, not the microkernel's */
    }
}

/* Checks c (after the call) against sums in double over the table, and that the columns past
 * nc and the rows past mr of c are untouched. */
static void expect_offsets_result(const fq_f32_gemm_kernel *kernel, const offsets_case *t,
                                  const float *before, const float *c)
{
    for (size_t i = 0; i < (size_t)kernel->mr; i++)
        for (size_t j = 0; j < t->c_stride; j++) {
            size_t at = i * t->c_stride + j;
            if (i >= t->mr || j >= t->nc) {
                if (memcmp(&c[at], &before[at], sizeof(float)) != 0)
                    fail_msg("%s wrote row %zu column %zu outside its %zu x %zu tile",
                             kernel->name_offsets, i, j, t->mr, t->nc);
                continue;
            }
            double sum = (t->flags & FQ_F32_GEMM_FIRST) ? t->w[i] : before[at];
            double bound = fabs(sum);
            for (size_t k = 0; k < t->kc; k++) {
                double term = (double)t->w[(k + 1) * (size_t)kernel->mr + i] *
                              t->buffer[t->offsets[k] + (ptrdiff_t)j];
                sum += term;
                bound += fabs(term);
            }
            float want = (t->flags & FQ_F32_GEMM_LAST)
                             ? activate_like_a_kernel((float)sum, &t->params, i)
                             : (float)sum;
            if (!(fabs((double)c[at] - want) <= TOLERANCE * bound + 1e-6))
                fail_msg("%s mr %zu nc %zu kc %zu flags %u activation %d: row %zu column %zu "
                         "is %.9g, want %.9g", kernel->name_offsets, t->mr, t->nc, t->kc,
                         t->flags, t->params.kind, i, j, c[at], want);
        }
}

static void test_every_offsets_kernel_matches_sums_over_random_offset_tables(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(11);
    for (int i = 0; i < count; i++) {
        assert_non_null(all[i]->ukernel_offsets);
        if (!fq_isa_supported(all[i]->isa)) {
            printf("skipping %s: this CPU lacks %s\n", all[i]->name_offsets,
                   fq_isa_name(all[i]->isa));
            continue;
        }
        for (int r = 0; r < 300; r++) {
            offsets_case t = random_offsets_case(all[i], kinds[r % N_KINDS]);
            size_t floats = (size_t)all[i]->mr * t.c_stride;
            float *before = malloc(floats * sizeof(float));
            memcpy(before, t.c, floats * sizeof(float));
            all[i]->ukernel_offsets(t.mr, t.nc, t.kc, t.buffer, t.offsets, t.w, t.c,
                                    t.c_stride * sizeof(float), t.flags, &t.params);
            expect_offsets_result(all[i], &t, before, t.c);
            free(before);
            free_offsets_case(&t);
        }
    }
}

/* With offsets k * stride the table form reads what the strided form reads, in the same order
 * of sums: the results are the same bits. */
static void test_offsets_kernels_equal_their_strided_forms_bit_for_bit(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(12);
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(all[i]->isa))
            continue;
        for (int r = 0; r < 100; r++) {
            offsets_case t = random_offsets_case(all[i], kinds[r % N_KINDS]);
            size_t stride = (size_t)fq_test_rand_int(all[i]->nr, 4 * all[i]->nr);
            size_t floats = (size_t)all[i]->mr * t.c_stride;
            float *x = random_floats((int64_t)(t.kc * stride));
            float *strided = malloc(floats * sizeof(float));
            memcpy(strided, t.c, floats * sizeof(float));
            for (size_t k = 0; k < t.kc; k++)
                t.offsets[k] = (ptrdiff_t)(k * stride);
            all[i]->ukernel_offsets(t.mr, t.nc, t.kc, x, t.offsets, t.w, t.c,
                                    t.c_stride * sizeof(float), t.flags, &t.params);
            all[i]->ukernel(t.mr, t.nc, t.kc, x, stride * sizeof(float), t.w, strided,
                            t.c_stride * sizeof(float), t.flags, &t.params);
            if (memcmp(t.c, strided, floats * sizeof(float)) != 0)
                fail_msg("%s differs from %s: mr %zu nc %zu kc %zu", all[i]->name_offsets,
                         all[i]->name, t.mr, t.nc, t.kc);
            free(x), free(strided);
            free_offsets_case(&t);
        }
    }
}

/* One call of `kernel` at nc columns on a random case writes the bits a full-width call writes
 * in those columns, and nothing past them. */
static void expect_narrow_tile_equals_full_tile(const fq_f32_gemm_kernel *kernel, size_t nc,
                                                fq_epilogue_f32_kind kind)
{
    offsets_case t = random_offsets_case(kernel, kind);
    size_t stride = (size_t)kernel->nr * sizeof(float);
    size_t floats = (size_t)kernel->mr * t.c_stride;
    float *x = random_floats((int64_t)(t.kc * (size_t)kernel->nr));
    float *narrow = malloc(floats * sizeof(float)), *before = malloc(floats * sizeof(float));
    memcpy(narrow, t.c, floats * sizeof(float));
    memcpy(before, t.c, floats * sizeof(float));
    kernel->ukernel(t.mr, (size_t)kernel->nr, t.kc, x, stride, t.w, t.c,
                    t.c_stride * sizeof(float), t.flags, &t.params);
    kernel->ukernel(t.mr, nc, t.kc, x, stride, t.w, narrow, t.c_stride * sizeof(float), t.flags,
                    &t.params);
    for (size_t row = 0; row < (size_t)kernel->mr; row++) {
        const float *want = row < t.mr ? t.c : before;
        size_t at = row * t.c_stride;
        if (memcmp(narrow + at, want + at, nc * sizeof(float)) != 0)
            fail_msg("%s: %zu columns differ from the full tile: mr %zu kc %zu flags %u row %zu",
                     kernel->name, nc, t.mr, t.kc, t.flags, row);
        if (memcmp(narrow + at + nc, before + at + nc, (t.c_stride - nc) * sizeof(float)) != 0)
            fail_msg("%s: %zu columns wrote past them: row %zu", kernel->name, nc, row);
    }
    free(x), free(narrow), free(before);
    free_offsets_case(&t);
}

/* Tiles of at most half the kernel's width (the one-vector path of the x86 kernels). */
static void test_narrow_tiles_equal_the_columns_of_full_tiles_bit_for_bit(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(13);
    for (int i = 0; i < count; i++)
        for (int r = 0; fq_isa_supported(all[i]->isa) && r < 200; r++)
            expect_narrow_tile_equals_full_tile(
                all[i], (size_t)fq_test_rand_int(1, all[i]->nr > 1 ? all[i]->nr / 2 : 1),
                kinds[r % N_KINDS]);
}

/* Tiles of one column and of half the width plus one (1 and 17 columns: the paths of the
 * AVX-512 kernels that run a lone last column along the rows), every activation. */
static void test_tiles_with_a_lone_last_column_equal_full_tiles_bit_for_bit(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(14);
    for (int i = 0; i < count; i++)
        for (int r = 0; fq_isa_supported(all[i]->isa) && r < 240; r++)
            expect_narrow_tile_equals_full_tile(
                all[i], r % 2 == 0 ? 1 : (size_t)all[i]->nr / 2 + 1, kinds[r / 2 % N_KINDS]);
}

/* A packed fp16 panel (fp32 bias slot, then kc x MR fp16 weights) and the same panel widened:
 * the twin on the first equals the fp32 form on the second bit for bit. */
static void test_f16w_offsets_twins_equal_their_f32_forms_on_rounded_weights(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(13);
    for (int i = 0; i < count; i++) {
        if (all[i]->ukernel_f16w != NULL)
            assert_non_null(all[i]->ukernel_f16w_offsets);
        if (all[i]->ukernel_f16w_offsets == NULL || !fq_isa_supported(all[i]->isa))
            continue;
        for (int r = 0; r < 60; r++) {
            offsets_case t = random_offsets_case(all[i], kinds[r % N_KINDS]);
            size_t mr = (size_t)all[i]->mr, floats = mr * t.c_stride;
            t.kc = (size_t)fq_test_rand_int(1, (int)t.kc) + (r % 3 == 0 ? 200 : 0);
            t.offsets = realloc(t.offsets, t.kc * sizeof(ptrdiff_t));
            t.w = realloc(t.w, (t.kc + 1) * mr * sizeof(float));
            uint16_t *half = malloc((t.kc + 2) * mr * sizeof(uint16_t));
            memcpy(half, t.w, mr * sizeof(float));
            for (size_t k = 0; k < t.kc; k++) {
                t.offsets[k] = fq_test_rand_int(0, 4 * 67);
                for (size_t j = 0; j < mr; j++) {
                    half[(k + 2) * mr + j] = fq_f16_from_f32(fq_test_rand_float(-1, 1));
                    t.w[(k + 1) * mr + j] = fq_f32_from_f16(half[(k + 2) * mr + j]);
                }
            }
            float *wide = malloc(floats * sizeof(float));
            memcpy(wide, t.c, floats * sizeof(float));
            all[i]->ukernel_f16w_offsets(t.mr, t.nc, t.kc, t.buffer, t.offsets, half, t.c,
                                         t.c_stride * sizeof(float), t.flags, &t.params);
            all[i]->ukernel_offsets(t.mr, t.nc, t.kc, t.buffer, t.offsets, t.w, wide,
                                    t.c_stride * sizeof(float), t.flags, &t.params);
            if (memcmp(t.c, wide, floats * sizeof(float)) != 0)
                fail_msg("%s differs from %s on rounded weights: kc %zu",
                         all[i]->name_f16w_offsets, all[i]->name_offsets, t.kc);
            free(half), free(wide);
            free_offsets_case(&t);
        }
    }
}

/* Conv bound: like the GEMM one over the taps that read the image. */
static void conv_bounds(const fq_conv2d_f32_params *p, const float *x, const float *w,
                        const float *bias, float *bound)
{
    fq_conv2d_f32_params a = *p;
    a.act.kind = FQ_EPILOGUE_F32_NONE;
    int64_t nx = p->batch * p->in_channels * p->in_h * p->in_w;
    int64_t nw = p->out_channels * (p->in_channels / p->groups) * p->kernel_h * p->kernel_w;
    float *ax = malloc((size_t)nx * 4), *aw = malloc((size_t)nw * 4);
    float *ab = malloc((size_t)p->out_channels * 4);
    for (int64_t i = 0; i < nx; i++)
        ax[i] = fabsf(x[i]);
    for (int64_t i = 0; i < nw; i++)
        aw[i] = fabsf(w[i]);
    for (int64_t i = 0; i < p->out_channels; i++)
        ab[i] = fabsf(bias[i]);
    void *ws = malloc(fq_ref_conv2d_f32_workspace_size(&a) + 4);
    fq_ref_conv2d_f32(&a, ax, aw, ab, bound, ws);
    free(ws), free(ax), free(aw), free(ab);
}

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad)
{
    return (in + 2 * pad - d * (k - 1) - 1) / s + 1;
}

static void check_conv(const fq_conv2d_f32_params *p, fq_isa cap, fq_threadpool *pool)
{
    int64_t nx = p->batch * p->in_channels * p->in_h * p->in_w;
    int64_t ny = p->batch * p->out_channels * p->out_h * p->out_w;
    int64_t nw = p->out_channels * (p->in_channels / p->groups) * p->kernel_h * p->kernel_w;
    float *x = random_floats(nx), *w = random_floats(nw), *bias = random_floats(p->out_channels);
    float *slopes = random_floats(p->out_channels);
    float *got = calloc((size_t)ny, 4), *want = calloc((size_t)ny, 4);
    float *bound = calloc((size_t)ny, 4);
    fq_conv2d_f32_params rp = *p;
    rp.act = random_act(p->act.kind, slopes, p->out_channels);

    fq_f32_conv_plan *plan;
    fq_error err = {0};
    assert_int_equal(fq_f32_conv_plan_create(&rp, w, bias, cap, fq_threadpool_size(pool), &plan,
                                             &err), FQ_OK);
    void *ws = fq_malloc_aligned(plan->workspace + 64);
    fq_f32_conv_run(plan, x, rp.act.slopes, rp.act.slope_count, got, ws, pool);
    void *rws = malloc(fq_ref_conv2d_f32_workspace_size(&rp) + 4);
    fq_ref_conv2d_f32(&rp, x, w, bias, want, rws);
    conv_bounds(&rp, x, w, bias, bound);
    char what[256];
    snprintf(what, sizeof(what), "%s: %lldx%lldx%lld -> %lld, kernel %lldx%lld stride %lld,%lld "
             "dilation %lld,%lld pad %lld,%lld groups %lld act %d", plan->name,
             (long long)p->in_channels, (long long)p->in_h, (long long)p->in_w,
             (long long)p->out_channels, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->dilation_h,
             (long long)p->dilation_w, (long long)p->pad_top, (long long)p->pad_left,
             (long long)p->groups, p->act.kind);
    expect_close(got, want, bound, ny, what);
    free(rws);
    fq_free_aligned(ws);
    fq_f32_conv_plan_free(plan);
    free(x), free(w), free(bias), free(slopes), free(got), free(want), free(bound);
}

static fq_conv2d_f32_params random_conv(bool depthwise, int64_t kernel, int64_t stride)
{
    fq_conv2d_f32_params p = {.batch = fq_test_rand_int(1, 2)};
    int64_t groups = depthwise ? 0 : fq_test_rand_int(0, 3) == 0 ? fq_test_rand_int(2, 3) : 1;
    int64_t per_group = fq_test_rand_int(1, 9);
    p.groups = depthwise ? fq_test_rand_int(1, 19) : groups;
    p.in_channels = depthwise ? p.groups : groups * per_group;
    p.out_channels = depthwise ? p.groups : groups * fq_test_rand_int(1, 23);
    p.kernel_h = kernel > 0 ? kernel : fq_test_rand_int(1, 4);
    p.kernel_w = kernel > 0 ? kernel : fq_test_rand_int(1, 4);
    p.stride_h = stride > 0 ? stride : fq_test_rand_int(1, 3);
    p.stride_w = stride > 0 ? stride : fq_test_rand_int(1, 3);
    bool dilate = kernel == 0 && fq_test_rand_int(0, 3) == 0;
    p.dilation_h = dilate ? 2 : 1;
    p.dilation_w = dilate ? fq_test_rand_int(1, 2) : 1;
    p.pad_top = fq_test_rand_int(0, 2);
    p.pad_left = fq_test_rand_int(0, 2);
    p.in_h = fq_test_rand_int(p.dilation_h * (p.kernel_h - 1) + 1, 37);
    p.in_w = fq_test_rand_int(p.dilation_w * (p.kernel_w - 1) + 1, 67);
    p.out_h = out_size(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top);
    p.out_w = out_size(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left);
    p.act.kind = kinds[fq_test_rand_int(0, N_KINDS - 1)];
    return p;
}

static void for_each_cap(void (*fn)(fq_isa cap))
{
    static const fq_isa caps[] = {FQ_ISA_SCALAR, FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        if (!fq_isa_supported(caps[i])) {
            printf("skipping cap %s: this CPU lacks it\n", fq_isa_name(caps[i]));
            continue;
        }
        fn(caps[i]);
    }
}

static void dense_convs(fq_isa cap)
{
    for (int t = 0; t < fq_test_cases(40); t++) {
        fq_conv2d_f32_params p = random_conv(false, 0, 0);
        check_conv(&p, cap, NULL);
    }
}

static void test_dense_and_grouped_convs_match_the_reference(void **state)
{
    (void)state;
    fq_test_seed(3);
    for_each_cap(dense_convs);
}

static void pointwise_convs(fq_isa cap)
{
    for (int t = 0; t < fq_test_cases(20); t++) {
        fq_conv2d_f32_params p = random_conv(false, 1, 1);
        p.pad_top = p.pad_left = 0;
        p.out_h = p.in_h;
        p.out_w = p.in_w;
        check_conv(&p, cap, NULL);
    }
}

static void test_pointwise_convs_match_the_reference(void **state)
{
    (void)state;
    fq_test_seed(4);
    for_each_cap(pointwise_convs);
}

static void depthwise_convs(fq_isa cap)
{
    for (int t = 0; t < fq_test_cases(30); t++) {
        int64_t kernel = t % 3 == 2 ? 0 : 3;
        fq_conv2d_f32_params p = random_conv(true, kernel, kernel == 3 ? 1 + t % 2 : 0);
        check_conv(&p, cap, NULL);
    }
}

static void test_depthwise_convs_match_the_reference(void **state)
{
    (void)state;
    fq_test_seed(5);
    for_each_cap(depthwise_convs);
}

static void test_depthwise_3x3_picks_the_simd_kernel_of_the_cap(void **state)
{
    (void)state;
    static const fq_isa caps[] = {FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        if (!fq_isa_supported(caps[i]))
            continue;
        for (int stride = 1; stride <= 2; stride++) {
            const fq_f32_dwconv_kernel *k = fq_f32_dwconv_select(caps[i], stride);
            assert_non_null(k);
            assert_int_equal(k->isa, caps[i]);
            assert_int_equal(k->stride, stride);
        }
    }
    assert_null(fq_f32_dwconv_select(FQ_ISA_SCALAR, 1));
}

/* A dense undilated convolution of stride 1 or 2, the taps path's shape: few input channels,
 * a few dozen, and counts above 256 (depth in several blocks). */
static fq_conv2d_f32_params random_taps_conv(void)
{
    fq_conv2d_f32_params p = random_conv(false, 0, 1);
    static const int64_t wide[] = {264, 300, 257};
    int pick = fq_test_rand_int(0, 4);
    int64_t s = fq_test_rand_int(1, 2);
    p.groups = 1;
    p.stride_h = p.stride_w = s;
    p.dilation_h = p.dilation_w = 1;
    p.kernel_h = fq_test_rand_int(1, 5);
    p.kernel_w = fq_test_rand_int(p.kernel_h == 1 ? 2 : 1, 5);
    p.in_channels = pick == 0 ? wide[fq_test_rand_int(0, 2)]
                    : pick == 1 ? fq_test_rand_int(1, 15) : fq_test_rand_int(16, 40);
    p.out_channels = fq_test_rand_int(1, 40);
    p.in_h = fq_test_rand_int(p.kernel_h, 23);
    p.in_w = fq_test_rand_int(p.kernel_w, 45);
    p.pad_top = fq_test_rand_int(0, p.kernel_h - 1);
    p.pad_left = fq_test_rand_int(0, p.kernel_w - 1);
    p.out_h = out_size(p.in_h, p.kernel_h, s, 1, p.pad_top);
    p.out_w = out_size(p.in_w, p.kernel_w, s, 1, p.pad_left);
    return p;
}

static void taps_convs(fq_isa cap)
{
    for (int t = 0; t < fq_test_cases(60); t++) {
        fq_conv2d_f32_params p = random_taps_conv();
        check_conv(&p, cap, NULL);
    }
}

static void test_stride_one_and_two_dense_convs_match_the_reference(void **state)
{
    (void)state;
    fq_test_seed(7);
    for_each_cap(taps_convs);
}

static void test_wide_stride_one_3x3_conv_takes_the_taps_path(void **state)
{
    (void)state;
    fq_conv2d_f32_params p = {.batch = 1, .in_channels = 32, .in_h = 9, .in_w = 11,
                              .out_channels = 24, .out_h = 9, .out_w = 11, .kernel_h = 3,
                              .kernel_w = 3, .stride_h = 1, .stride_w = 1, .dilation_h = 1,
                              .dilation_w = 1, .pad_top = 1, .pad_left = 1, .groups = 1};
    float *w = random_floats(24 * 32 * 9);
    fq_f32_conv_plan *plan;
    fq_error err = {0};
    assert_int_equal(fq_f32_conv_plan_create(&p, w, NULL, FQ_ISA_AUTO, 1, &plan, &err), FQ_OK);
    assert_int_equal(plan->path, FQ_F32_CONV_TAPS);
    fq_f32_conv_plan_free(plan);
    free(w);
}

/* Few input channels (the stem's shape and its neighbours): 1..9 in, 1..33 out, strides 1
 * and 2, kernels 1..5 on each side, pads up to the kernel, odd sizes, a random activation. */
static fq_conv2d_f32_params random_small_channel_conv(void)
{
    fq_conv2d_f32_params p = {.batch = fq_test_rand_int(1, 2), .groups = 1, .dilation_h = 1,
                              .dilation_w = 1};
    int64_t s = fq_test_rand_int(1, 2);
    p.in_channels = fq_test_rand_int(1, 9);
    p.out_channels = fq_test_rand_int(1, 33);
    p.kernel_h = fq_test_rand_int(1, 5);
    p.kernel_w = fq_test_rand_int(1, 5);
    p.stride_h = p.stride_w = s;
    p.pad_top = fq_test_rand_int(0, p.kernel_h - 1);
    p.pad_left = fq_test_rand_int(0, p.kernel_w - 1);
    p.in_h = fq_test_rand_int(p.kernel_h, 29) | 1;
    p.in_w = fq_test_rand_int(p.kernel_w, 71) | 1;
    p.out_h = out_size(p.in_h, p.kernel_h, s, 1, p.pad_top);
    p.out_w = out_size(p.in_w, p.kernel_w, s, 1, p.pad_left);
    p.act.kind = kinds[fq_test_rand_int(0, N_KINDS - 1)];
    return p;
}

static void small_channel_convs(fq_isa cap)
{
    for (int t = 0; t < fq_test_cases(80); t++) {
        fq_conv2d_f32_params p = random_small_channel_conv();
        check_conv(&p, cap, NULL);
    }
}

static void test_convs_with_few_input_channels_match_the_reference(void **state)
{
    (void)state;
    fq_test_seed(21);
    for_each_cap(small_channel_convs);
}

static void test_convs_with_few_input_channels_match_the_reference_on_two_threads(void **state)
{
    (void)state;
    fq_threadpool *pool;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(2, &pool, &err), FQ_OK);
    fq_test_seed(22);
    for (int t = 0; t < fq_test_cases(40); t++) {
        fq_conv2d_f32_params p = random_small_channel_conv();
        check_conv(&p, FQ_ISA_AUTO, pool);
    }
    fq_threadpool_free(pool);
}

static fq_f32_conv_plan *plan_of(const fq_conv2d_f32_params *p, fq_isa cap)
{
    int64_t nw = p->out_channels * (p->in_channels / p->groups) * p->kernel_h * p->kernel_w;
    float *w = random_floats(nw);
    fq_f32_conv_plan *plan;
    fq_error err = {0};
    assert_int_equal(fq_f32_conv_plan_create(p, w, NULL, cap, 1, &plan, &err), FQ_OK);
    free(w);
    return plan;
}

static fq_conv2d_f32_params stem_conv(void)
{
    return (fq_conv2d_f32_params){.batch = 1, .in_channels = 3, .in_h = 64, .in_w = 64,
                                  .out_channels = 16, .out_h = 32, .out_w = 32, .kernel_h = 3,
                                  .kernel_w = 3, .stride_h = 2, .stride_w = 2, .dilation_h = 1,
                                  .dilation_w = 1, .pad_top = 1, .pad_left = 1, .groups = 1};
}

static void test_three_channel_stride_two_stem_takes_the_taps_path_under_every_cap(void **state)
{
    (void)state;
    static const fq_isa caps[] = {FQ_ISA_SCALAR, FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVX512,
                                  FQ_ISA_AUTO};
    fq_conv2d_f32_params p = stem_conv();
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        fq_f32_conv_plan *plan = plan_of(&p, caps[i]);
        assert_int_equal(plan->path, FQ_F32_CONV_TAPS);
        assert_non_null(strstr(plan->name, "offsets"));
        fq_f32_conv_plan_free(plan);
    }
}

static void test_dilated_grouped_and_stride_three_convs_stay_on_im2col(void **state)
{
    (void)state;
    fq_conv2d_f32_params dilated = stem_conv(), grouped = stem_conv(), strided = stem_conv();
    dilated.dilation_h = dilated.dilation_w = 2;
    dilated.out_h = dilated.out_w = 31;
    grouped.groups = 3;
    grouped.out_channels = 15;
    strided.stride_h = strided.stride_w = 3;
    strided.out_h = strided.out_w = 22;
    const fq_conv2d_f32_params *all[] = {&dilated, &grouped, &strided};
    for (size_t i = 0; i < 3; i++) {
        fq_f32_conv_plan *plan = plan_of(all[i], FQ_ISA_AUTO);
        assert_int_equal(plan->path, FQ_F32_CONV_IM2COL);
        fq_f32_conv_plan_free(plan);
    }
}

/* Products with fewer column panels than threads (one column: a fully connected layer on one
 * image) split the row panels over the threads: every kernel, on 1, 2 and 3 threads, matches
 * the reference and gives the same bits. */
/* kernel's product of w (m x k), x (k x n) and bias with a ReLU, run on pools of 1, 2 and 3
 * threads (pools[0] NULL): within the rounding bound of the reference, and the same bits on
 * every pool. Returns the packed weights' bytes. */
static size_t expect_the_same_bits_on_1_2_3_threads(const fq_f32_gemm_kernel *kernel, int64_t m,
                                                    int64_t n, int64_t k, const float *w,
                                                    const float *x, const float *bias,
                                                    fq_threadpool *const pools[3])
{
    fq_epilogue_f32 act = {.kind = FQ_EPILOGUE_F32_RELU};
    fq_f32_gemm_packed packed;
    fq_error err = {0};
    assert_int_equal(fq_f32_gemm_pack(kernel, m, k, w, k, bias, 1.0f, &packed, &err), FQ_OK);
    size_t bytes = packed.floats * sizeof(float);
    void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(kernel, 3));
    fq_f32_gemm_input in = {.x = x, .x_stride = n};
    float *got[3], *want = calloc((size_t)(m * n), 4), *bound = calloc((size_t)(m * n), 4);
    reference_gemm(m, n, k, w, x, bias, &act, want);
    gemm_bounds(m, n, k, w, x, bias, bound);
    for (int t = 0; t < 3; t++) {
        got[t] = calloc((size_t)(m * n), 4);
        fq_f32_gemm_run(kernel, &packed, n, &in, got[t], n, &act, ws, pools[t]);
    }
    char what[128];
    snprintf(what, sizeof(what), "%s m %lld n %lld k %lld", kernel->name, (long long)m,
             (long long)n, (long long)k);
    expect_close(got[0], want, bound, m * n, what);
    assert_memory_equal(got[0], got[1], (size_t)(m * n) * 4);
    assert_memory_equal(got[0], got[2], (size_t)(m * n) * 4);
    for (int t = 0; t < 3; t++)
        free(got[t]);
    free(want), free(bound);
    fq_free_aligned(ws);
    fq_f32_gemm_packed_free(&packed);
    return bytes;
}

/* pools[0] NULL (the caller alone), pools[1] and pools[2] of 2 and 3 threads. */
static void pools_create(fq_threadpool *pools[3])
{
    fq_error err = {0};
    pools[0] = NULL;
    for (int t = 1; t < 3; t++)
        assert_int_equal(fq_threadpool_create(t + 1, &pools[t], &err), FQ_OK);
}

static void pools_free(fq_threadpool *pools[3])
{
    for (int t = 1; t < 3; t++)
        fq_threadpool_free(pools[t]);
}

static void test_narrow_products_split_over_threads_give_the_same_bits(void **state)
{
    (void)state;
    static const int64_t shapes[][3] = {{200, 1, 67}, {67, 1, 300}, {9, 1, 5}, {1, 1, 40},
                                        {130, 5, 33}, {100, 40, 17}};
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(8);
    fq_threadpool *pools[3];
    pools_create(pools);
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(all[i]->isa))
            continue;
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            float *w = random_floats(m * k), *x = random_floats(k * n), *bias = random_floats(m);
            expect_the_same_bits_on_1_2_3_threads(all[i], m, n, k, w, x, bias, pools);
            free(w), free(x), free(bias);
        }
    }
    pools_free(pools);
}

/* Weights over fq_f32_gemm_range_bytes() run in ranges of row panels, each over every column
 * panel; the result matches the reference and has the same bits on 1, 2 and 3 threads. */
static void test_weights_larger_than_a_range_give_the_same_bits_on_any_thread_count(void **state)
{
    (void)state;
    /* Two and a half ranges of weights in 100 rows. */
    const int64_t m = 100, n = 40;
    const int64_t k = (int64_t)(fq_f32_gemm_range_bytes() * 5 / 2 / sizeof(float)) / m;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(9);
    float *w = random_floats(m * k), *x = random_floats(k * n), *bias = random_floats(m);
    fq_threadpool *pools[3];
    pools_create(pools);
    for (int i = 0; i < count; i++) {
        if (!fq_isa_supported(all[i]->isa))
            continue;
        size_t bytes = expect_the_same_bits_on_1_2_3_threads(all[i], m, n, k, w, x, bias, pools);
        assert_true(bytes > 2 * fq_f32_gemm_range_bytes());
    }
    pools_free(pools);
    free(w), free(x), free(bias);
}

/* Weights in several ranges over an X whose rows are a page or more apart: with scratch for
 * X's panels the driver packs X once ahead of the ranges instead of copying each panel once
 * per range, and the product has the same bits as without it, on 1, 2 and 3 threads (the
 * kernel of this CPU; a short last column panel included). Without several ranges, or with
 * rows closer than a page, the driver asks for no scratch. */
static void test_x_packed_ahead_gives_the_same_bits_as_x_copied_per_range(void **state)
{
    (void)state;
    const fq_f32_gemm_kernel *kernel = fq_f32_gemm_select(FQ_ISA_AUTO);
    const int64_t m = 480, n = 1024 + 21;
    const int64_t k = (int64_t)(fq_f32_gemm_range_bytes() * 3 / 2 / sizeof(float)) / m;
    fq_test_seed(12);
    float *w = random_floats(m * k), *x = random_floats(k * n), *bias = random_floats(m);
    fq_f32_gemm_packed packed, small;
    fq_error err = {0};
    assert_int_equal(fq_f32_gemm_pack(kernel, m, k, w, k, bias, 1.0f, &packed, &err), FQ_OK);
    assert_int_equal(fq_f32_gemm_pack(kernel, m, 64, w, k, bias, 1.0f, &small, &err), FQ_OK);
    size_t floats = fq_f32_gemm_x_panels_floats(kernel, &packed, n, n);
    assert_int_equal(floats, (size_t)((n + kernel->nr - 1) / kernel->nr * kernel->nr * k));
    assert_int_equal(fq_f32_gemm_x_panels_floats(kernel, &packed, n, 1000), 0);
    assert_int_equal(fq_f32_gemm_x_panels_floats(kernel, &small, n, n), 0);

    fq_epilogue_f32 act = {.kind = FQ_EPILOGUE_F32_RELU};
    void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(kernel, 3));
    float *panels = fq_malloc_aligned(floats * sizeof(float));
    float *want = calloc((size_t)(m * n), 4), *got = calloc((size_t)(m * n), 4);
    fq_f32_gemm_input copied = {.x = x, .x_stride = n};
    fq_f32_gemm_input ahead = {.x = x, .x_stride = n, .panels = panels};
    fq_f32_gemm_run(kernel, &packed, n, &copied, want, n, &act, ws, NULL);
    fq_threadpool *pools[3];
    pools_create(pools);
    for (int t = 0; t < 3; t++) {
        memset(panels, 0xff, floats * sizeof(float));
        memset(got, 0, (size_t)(m * n) * 4);
        fq_f32_gemm_run(kernel, &packed, n, &ahead, got, n, &act, ws, pools[t]);
        assert_memory_equal(got, want, (size_t)(m * n) * 4);
    }
    pools_free(pools);
    free(want), free(got);
    fq_free_aligned(panels), fq_free_aligned(ws);
    fq_f32_gemm_packed_free(&packed);
    fq_f32_gemm_packed_free(&small);
    free(w), free(x), free(bias);
}

/* A one-column product (the AVX-512 kernels run it over several row panels at once) equals
 * column 0 of a two-column product of the same weights bit for bit, for every kernel,
 * activation, depth block and row count, on 1 and 2 threads (which split the row panels). */
static void test_matrix_vector_products_equal_the_first_column_of_a_tile(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(10);
    fq_threadpool *pool = NULL;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(2, &pool, &err), FQ_OK);
    for (int i = 0; i < count; i++) {
        for (int r = 0; fq_isa_supported(all[i]->isa) && r < 30; r++) {
            int64_t m = fq_test_rand_int(1, 70), k = fq_test_rand_int(1, r % 3 ? 80 : 600);
            float *w = random_floats(m * k), *bias = random_floats(m), *slopes = random_floats(m);
            float *x1 = random_floats(k), *x2 = random_floats(2 * k);
            for (int64_t d = 0; d < k; d++)
                x2[2 * d] = x1[d];
            fq_epilogue_f32 act = random_act(kinds[r % N_KINDS], slopes, m);
            fq_f32_gemm_packed packed;
            assert_int_equal(fq_f32_gemm_pack(all[i], m, k, w, k, bias, 1.0f, &packed, &err),
                             FQ_OK);
            void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(all[i], 2));
            fq_f32_gemm_input in1 = {.x = x1, .x_stride = 1}, in2 = {.x = x2, .x_stride = 2};
            float *one = calloc((size_t)m, 4), *two = calloc((size_t)(2 * m), 4);
            fq_f32_gemm_run(all[i], &packed, 1, &in1, one, 1, &act, ws, r % 2 ? pool : NULL);
            fq_f32_gemm_run(all[i], &packed, 2, &in2, two, 2, &act, ws, NULL);
            for (int64_t row = 0; row < m; row++)
                if (memcmp(&one[row], &two[2 * row], 4) != 0)
                    fail_msg("%s: m %lld k %lld act %d row %lld: %.9g against %.9g",
                             all[i]->name, (long long)m, (long long)k, act.kind,
                             (long long)row, one[row], two[2 * row]);
            free(one), free(two), free(w), free(bias), free(slopes), free(x1), free(x2);
            fq_free_aligned(ws);
            fq_f32_gemm_packed_free(&packed);
        }
    }
    fq_threadpool_free(pool);
}

/* fq_f32_gemm_run_add equals fq_f32_gemm_run followed by C[i] + R[i] bit for bit, for every
 * kernel (those that add in their tiles and the driver's loop for the others), activation
 * (SIGMOID aside), depth block and tile width, on 1 and 2 threads; C's row stride is wider
 * than n, and R has its own values in the gap, which must stay out of C. */
static void test_gemm_with_a_residual_equals_the_product_then_the_add(void **state)
{
    (void)state;
    int count;
    const fq_f32_gemm_kernel *const *all = fq_f32_gemm_kernels(&count);
    fq_test_seed(9);
    fq_threadpool *pool = NULL;
    fq_error err = {0};
    assert_int_equal(fq_threadpool_create(2, &pool, &err), FQ_OK);
    for (int i = 0; i < count; i++) {
        for (int r = 0; fq_isa_supported(all[i]->isa) && r < 24; r++) {
            int64_t m = fq_test_rand_int(1, 40), n = fq_test_rand_int(1, 100);
            int64_t k = fq_test_rand_int(1, r % 4 == 0 ? 600 : 67), stride = n + 3;
            float *w = random_floats(m * k), *x = random_floats(k * n), *bias = random_floats(m);
            float *slopes = random_floats(m), *res = random_floats(m * stride);
            fq_epilogue_f32 act = random_act(kinds[r % (N_KINDS - 1)], slopes, m);
            fq_f32_gemm_packed packed;
            assert_int_equal(fq_f32_gemm_pack(all[i], m, k, w, k, bias, 1.0f, &packed, &err),
                             FQ_OK);
            void *ws = fq_malloc_aligned(fq_f32_gemm_workspace_size(all[i], 2));
            fq_f32_gemm_input in = {.x = x, .x_stride = n};
            float *want = calloc((size_t)(m * stride), 4), *got = calloc((size_t)(m * stride), 4);
            fq_f32_gemm_run(all[i], &packed, n, &in, want, stride, &act, ws, NULL);
            for (int64_t row = 0; row < m; row++)
                for (int64_t col = 0; col < n; col++)
                    want[row * stride + col] += res[row * stride + col];
            fq_f32_gemm_run_add(all[i], &packed, n, &in, res, got, stride, &act, ws,
                                r % 2 ? pool : NULL);
            if (memcmp(got, want, (size_t)(m * stride) * 4) != 0)
                fail_msg("%s: m %lld n %lld k %lld act %d differs from the product and the add",
                         all[i]->name, (long long)m, (long long)n, (long long)k, act.kind);
            free(want), free(got), free(w), free(x), free(bias), free(slopes), free(res);
            fq_free_aligned(ws);
            fq_f32_gemm_packed_free(&packed);
        }
    }
    fq_threadpool_free(pool);
}

/* Every output element bit-identical whatever the thread count. */
static void test_conv_outputs_are_identical_for_one_two_and_three_threads(void **state)
{
    (void)state;
    fq_test_seed(6);
    fq_conv2d_f32_params shapes[6] = {random_conv(false, 3, 1), random_conv(true, 3, 2),
                                      random_conv(false, 1, 1), random_taps_conv(),
                                      random_small_channel_conv(), stem_conv()};
    shapes[2].pad_top = shapes[2].pad_left = 0;
    shapes[2].out_h = shapes[2].in_h;
    shapes[2].out_w = shapes[2].in_w;
    for (int s = 0; s < 6; s++) {
        fq_conv2d_f32_params *p = &shapes[s];
        p->act.kind = FQ_EPILOGUE_F32_RELU;
        int64_t nx = p->batch * p->in_channels * p->in_h * p->in_w;
        int64_t ny = p->batch * p->out_channels * p->out_h * p->out_w;
        int64_t nw = p->out_channels * (p->in_channels / p->groups) * p->kernel_h * p->kernel_w;
        float *x = random_floats(nx), *w = random_floats(nw);
        float *bias = random_floats(p->out_channels);
        float *y[3];
        for (int t = 0; t < 3; t++) {
            fq_threadpool *pool;
            fq_error err = {0};
            assert_int_equal(fq_threadpool_create(t + 1, &pool, &err), FQ_OK);
            fq_f32_conv_plan *plan;
            assert_int_equal(fq_f32_conv_plan_create(p, w, bias, FQ_ISA_AUTO, t + 1, &plan,
                                                     &err), FQ_OK);
            void *ws = fq_malloc_aligned(plan->workspace + 64);
            y[t] = calloc((size_t)ny, 4);
            fq_f32_conv_run(plan, x, NULL, 0, y[t], ws, pool);
            fq_free_aligned(ws);
            fq_f32_conv_plan_free(plan);
            fq_threadpool_free(pool);
        }
        assert_memory_equal(y[0], y[1], (size_t)ny * 4);
        assert_memory_equal(y[0], y[2], (size_t)ny * 4);
        for (int t = 0; t < 3; t++)
            free(y[t]);
        free(x), free(w), free(bias);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_gemm_kernel_matches_the_reference_on_random_shapes),
        cmocka_unit_test(test_gemm_kernels_handle_depth_blocks_and_wide_outputs),
        cmocka_unit_test(test_gemm_select_respects_the_isa_cap),
        cmocka_unit_test(test_gemm_rows_take_the_short_tile_only_for_products_that_fit_it),
        cmocka_unit_test(test_every_offsets_kernel_matches_sums_over_random_offset_tables),
        cmocka_unit_test(test_offsets_kernels_equal_their_strided_forms_bit_for_bit),
        cmocka_unit_test(test_narrow_tiles_equal_the_columns_of_full_tiles_bit_for_bit),
        cmocka_unit_test(test_tiles_with_a_lone_last_column_equal_full_tiles_bit_for_bit),
        cmocka_unit_test(test_f16w_offsets_twins_equal_their_f32_forms_on_rounded_weights),
        cmocka_unit_test(test_dense_and_grouped_convs_match_the_reference),
        cmocka_unit_test(test_pointwise_convs_match_the_reference),
        cmocka_unit_test(test_depthwise_convs_match_the_reference),
        cmocka_unit_test(test_stride_one_and_two_dense_convs_match_the_reference),
        cmocka_unit_test(test_wide_stride_one_3x3_conv_takes_the_taps_path),
        cmocka_unit_test(test_convs_with_few_input_channels_match_the_reference),
        cmocka_unit_test(test_convs_with_few_input_channels_match_the_reference_on_two_threads),
        cmocka_unit_test(test_three_channel_stride_two_stem_takes_the_taps_path_under_every_cap),
        cmocka_unit_test(test_dilated_grouped_and_stride_three_convs_stay_on_im2col),
        cmocka_unit_test(test_depthwise_3x3_picks_the_simd_kernel_of_the_cap),
        cmocka_unit_test(test_narrow_products_split_over_threads_give_the_same_bits),
        cmocka_unit_test(test_weights_larger_than_a_range_give_the_same_bits_on_any_thread_count),
        cmocka_unit_test(test_x_packed_ahead_gives_the_same_bits_as_x_copied_per_range),
        cmocka_unit_test(test_matrix_vector_products_equal_the_first_column_of_a_tile),
        cmocka_unit_test(test_gemm_with_a_residual_equals_the_product_then_the_add),
        cmocka_unit_test(test_conv_outputs_are_identical_for_one_two_and_three_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
