/* Calibration statistics on synthetic distributions with known answers: histograms and their
 * rebinning, the four threshold methods, scales and zero points, statistics files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "test_util.h"

#define SAMPLES 1000000

static const double pi = 3.14159265358979323846;

static float gaussian(void)
{
    double u1 = (fq_test_rand() >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
    double u2 = (fq_test_rand() >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * pi * u2));
}

static float laplacian(void)
{
    double u = (fq_test_rand() >> 11) * (1.0 / 9007199254740992.0) - 0.5;
    double sign = u < 0.0 ? -1.0 : 1.0;
    return (float)(-sign * log(1.0 - 2.0 * fabs(u) + 1e-300));
}

static float *samples_of(float (*draw)(void), int n, unsigned long long seed)
{
    fq_test_seed(seed);
    float *x = malloc((size_t)n * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < n; i++)
        x[i] = draw();
    return x;
}

static fq_calib_stats *one_value(void)
{
    const char *names[] = {"x"};
    fq_calib_stats *stats;
    assert_int_equal(fq_calib_stats_create(names, 1, &stats, NULL), FQ_OK);
    return stats;
}

/* Feeds x in batches of batch elements. */
static void add_batches(fq_value_stats *vs, const float *x, int n, int batch)
{
    for (int i = 0; i < n; i += batch)
        fq_value_stats_add(vs, x + i, (size_t)(n - i < batch ? n - i : batch));
}

static double threshold_of(const fq_value_stats *vs, fq_calib_method method, double percentile)
{
    double t = -1.0;
    fq_error err;
    fq_status status = fq_value_stats_threshold(vs, method, percentile, &t, &err);
    if (status != FQ_OK)
        fail_msg("%s", err.message);
    return t;
}

static uint64_t hist_sum(const fq_value_stats *vs)
{
    uint64_t sum = 0;
    for (int b = 0; b < FQ_CALIB_BINS; b++)
        sum += vs->hist[b];
    return sum;
}

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Mean squared error of quantizing x to i8 symmetric with clipping threshold t. */
static double quantized_mse(const float *x, int n, double t)
{
    double scale = t / 127.0, sum = 0.0;
    for (int i = 0; i < n; i++) {
        double q = round(x[i] / scale);
        q = q > 127.0 ? 127.0 : q < -127.0 ? -127.0 : q;
        double e = x[i] - q * scale;
        sum += e * e;
    }
    return sum / n;
}

/* The threshold of least quantized_mse on a 0.01 grid from lo to hi. */
static double brute_force_mse_threshold(const float *x, int n, double lo, double hi)
{
    double best_t = lo, best = INFINITY;
    for (double t = lo; t <= hi; t += 0.01) {
        double e = quantized_mse(x, n, t);
        if (e < best) {
            best = e;
            best_t = t;
        }
    }
    return best_t;
}

static void test_minmax_of_uniform_is_its_bound(void **state)
{
    (void)state;
    const float a = 3.0f;
    fq_test_seed(1);
    float *x = malloc(SAMPLES * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < SAMPLES; i++)
        x[i] = fq_test_rand_float(-a, a);
    x[17] = -a;
    fq_calib_stats *stats = one_value();
    add_batches(&stats->values[0], x, SAMPLES, 4096);

    assert_true(threshold_of(&stats->values[0], FQ_CALIB_MINMAX, 0) == a);
    assert_true(stats->values[0].min == -a);
    fq_calib_stats_free(stats);
    free(x);
}

static void test_percentile_of_uniform_is_near_its_bound(void **state)
{
    (void)state;
    const double a = 2.5;
    fq_test_seed(2);
    float *x = malloc(SAMPLES * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < SAMPLES; i++)
        x[i] = fq_test_rand_float((float)-a, (float)a);
    fq_calib_stats *stats = one_value();
    add_batches(&stats->values[0], x, SAMPLES, 10000);

    double t = threshold_of(&stats->values[0], FQ_CALIB_PERCENTILE, 99.99);
    /* |x| is uniform on [0, a]: its 99.99th percentile is 0.9999 a. */
    assert_true(fabs(t - 0.9999 * a) < 2.0 * a / FQ_CALIB_BINS);
    fq_calib_stats_free(stats);
    free(x);
}

static void test_percentile_of_gaussian_is_its_quantile_within_a_bin(void **state)
{
    (void)state;
    float *x = samples_of(gaussian, SAMPLES, 3);
    fq_calib_stats *stats = one_value();
    add_batches(&stats->values[0], x, SAMPLES, 50000);
    const fq_value_stats *vs = &stats->values[0];
    double width = vs->range / FQ_CALIB_BINS;

    for (int i = 0; i < SAMPLES; i++)
        x[i] = fabsf(x[i]);
    qsort(x, SAMPLES, sizeof(float), compare_floats);
    /* Two-sided quantiles of the unit Gaussian: P(|X| < z) = p. */
    const double p[] = {95.0, 99.0, 99.9};
    const double z[] = {1.959964, 2.575829, 3.290527};
    for (int k = 0; k < 3; k++) {
        double t = threshold_of(vs, FQ_CALIB_PERCENTILE, p[k]);
        double sample_quantile = x[(int)(p[k] / 100.0 * SAMPLES) - 1];
        assert_true(fabs(t - sample_quantile) <= width);
        assert_true(fabs(t - z[k]) < width + 0.02);
    }
    fq_calib_stats_free(stats);
    free(x);
}

/* 1e6 unit Gaussian samples and 3 outliers at +-100. */
static float *gaussian_with_outliers(void)
{
    float *x = samples_of(gaussian, SAMPLES, 4);
    x[1000] = 100.0f;
    x[2000] = -100.0f;
    x[3000] = 100.0f;
    return x;
}

static fq_calib_stats *stats_of(const float *x, int n)
{
    fq_calib_stats *stats = one_value();
    add_batches(&stats->values[0], x, n, 65536);
    return stats;
}

static void test_entropy_clips_gaussian_outliers_well_below_the_max(void **state)
{
    (void)state;
    float *x = gaussian_with_outliers();
    fq_calib_stats *stats = stats_of(x, SAMPLES);
    double t = threshold_of(&stats->values[0], FQ_CALIB_ENTROPY, 0);
    print_message("entropy threshold of N(0,1) + 3 outliers at 100: %.3f\n", t);
    assert_true(t < 100.0 / 4.0);
    assert_true(t > 2.5);
    fq_calib_stats_free(stats);
    free(x);
}

/* With squared error, outliers pull the optimum up (the error of clipping them grows with the
 * square of their distance): the optimum is checked by brute force, not assumed to be ~4. */
static void test_mse_clips_gaussian_outliers_at_the_brute_force_optimum(void **state)
{
    (void)state;
    float *x = gaussian_with_outliers();
    fq_calib_stats *stats = stats_of(x, SAMPLES);
    double t = threshold_of(&stats->values[0], FQ_CALIB_MSE, 0);
    double best = INFINITY, best_t = 0.0;
    for (double c = 2.0; c <= 100.0; c += 0.25) {
        double e = quantized_mse(x, SAMPLES, c);
        if (e < best) {
            best = e;
            best_t = c;
        }
    }
    print_message("mse threshold of N(0,1) + 3 outliers at 100: %.3f, brute force %.2f\n", t,
                  best_t);
    assert_true(t < 100.0 / 2.0);
    assert_true(fabs(t - best_t) < 0.1 * best_t);
    assert_true(quantized_mse(x, SAMPLES, t) <= 1.02 * best);
    fq_calib_stats_free(stats);
    free(x);
}

/* The histogram's MSE threshold against the brute-force optimum of real i8 quantization of the
 * same samples: close in t, and within 2% in error (the error is flat near its minimum). */
static void check_mse_against_brute_force(float (*draw)(void), double lo, double hi,
                                          const char *what)
{
    const int n = 200000;
    float *x = samples_of(draw, n, 5);
    fq_calib_stats *stats = one_value();
    add_batches(&stats->values[0], x, n, 8192);

    double t = threshold_of(&stats->values[0], FQ_CALIB_MSE, 0);
    double best = brute_force_mse_threshold(x, n, lo, hi);
    print_message("%s: histogram mse threshold %.3f, brute force %.3f\n", what, t, best);
    assert_true(fabs(t - best) < 0.1 * best);
    assert_true(quantized_mse(x, n, t) <= 1.02 * quantized_mse(x, n, best));
    fq_calib_stats_free(stats);
    free(x);
}

static void test_mse_threshold_of_gaussian_matches_brute_force(void **state)
{
    (void)state;
    check_mse_against_brute_force(gaussian, 2.0, 5.5, "N(0,1)");
}

static void test_mse_threshold_of_laplacian_matches_brute_force(void **state)
{
    (void)state;
    check_mse_against_brute_force(laplacian, 4.0, 14.0, "Laplace(0,1)");
}

/* ReLU of a Gaussian: half the elements exactly 0. */
static float *relu_gaussian(int n)
{
    float *x = samples_of(gaussian, n, 9);
    for (int i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return x;
}

static void test_exact_zeros_change_neither_entropy_nor_mse(void **state)
{
    (void)state;
    const int n = 200000;
    float *x = relu_gaussian(n);
    float *positive = malloc((size_t)n * sizeof(float));
    assert_non_null(positive);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (x[i] > 0.0f)
            positive[kept++] = x[i];
    fq_calib_stats *with = stats_of(x, n), *without = stats_of(positive, kept);
    assert_int_equal(with->values[0].zeros, n - kept);
    /* The same range: the largest element is in both. */
    assert_true(with->values[0].range == without->values[0].range);
    without->values[0].min = 0.0; /* both are non-negative values */
    for (int m = FQ_CALIB_ENTROPY; m <= FQ_CALIB_MSE; m++)
        assert_true(threshold_of(&with->values[0], (fq_calib_method)m, 0) ==
                    threshold_of(&without->values[0], (fq_calib_method)m, 0));
    fq_calib_stats_free(with);
    fq_calib_stats_free(without);
    free(positive);
    free(x);
}

/* Mean squared error of u8 quantization over [0, t] (zero point 0). */
static double quantized_mse_u8(const float *x, int n, double t)
{
    double scale = t / 255.0, sum = 0.0;
    for (int i = 0; i < n; i++) {
        double q = round(x[i] / scale);
        q = q > 255.0 ? 255.0 : q;
        double e = x[i] - q * scale;
        sum += e * e;
    }
    return sum / n;
}

static void test_mse_threshold_of_relu_gaussian_matches_u8_brute_force(void **state)
{
    (void)state;
    const int n = 200000;
    float *x = relu_gaussian(n);
    fq_calib_stats *stats = stats_of(x, n);
    double t = threshold_of(&stats->values[0], FQ_CALIB_MSE, 0);
    double best = INFINITY, best_t = 0.0;
    for (double c = 2.0; c <= 5.5; c += 0.01) {
        double e = quantized_mse_u8(x, n, c);
        if (e < best) {
            best = e;
            best_t = c;
        }
    }
    print_message("ReLU(N(0,1)), u8: histogram mse threshold %.3f, brute force %.3f\n", t,
                  best_t);
    assert_true(fabs(t - best_t) < 0.1 * best_t);
    assert_true(quantized_mse_u8(x, n, t) <= 1.02 * best);
    fq_calib_stats_free(stats);
    free(x);
}

static void test_rebinning_merges_bins_and_keeps_counts(void **state)
{
    (void)state;
    fq_calib_stats *stats = one_value();
    fq_value_stats *vs = &stats->values[0];
    const float first[] = {0.25f, -0.5f, 1.0f};
    const float second[] = {3.0f};
    fq_value_stats_add(vs, first, 3);
    assert_true(vs->range == 1.0);
    assert_int_equal(vs->hist[512], 1);
    assert_int_equal(vs->hist[1024], 1);
    assert_int_equal(vs->hist[2047], 1);

    fq_value_stats_add(vs, second, 1);
    /* The range doubles twice (1 -> 4): bin b moves to b / 4. */
    assert_true(vs->range == 4.0);
    assert_int_equal(vs->hist[128], 1);
    assert_int_equal(vs->hist[256], 1);
    assert_int_equal(vs->hist[511], 1);
    assert_int_equal(vs->hist[1536], 1);
    assert_int_equal(vs->count, 4);
    assert_int_equal(hist_sum(vs), 4);
    fq_calib_stats_free(stats);
}

static void test_rebinning_many_times_keeps_every_count(void **state)
{
    (void)state;
    fq_calib_stats *stats = one_value();
    fq_value_stats *vs = &stats->values[0];
    fq_test_seed(6);
    float batch[1000];
    for (int k = 0; k < 40; k++) {
        float scale = powf(1.7f, (float)k);
        for (int i = 0; i < 1000; i++)
            batch[i] = fq_test_rand_float(-scale, scale);
        fq_value_stats_add(vs, batch, 1000);
    }
    assert_int_equal(vs->count, 40000);
    assert_int_equal(hist_sum(vs), 40000);
    assert_true(vs->range >= fabs(vs->min) && vs->range >= fabs(vs->max));
    fq_calib_stats_free(stats);
}

static void test_memory_does_not_grow_with_batches(void **state)
{
    (void)state;
    const char *names[] = {"conv_1", "relu_2", "output"};
    fq_calib_stats *stats;
    assert_int_equal(fq_calib_stats_create(names, 3, &stats, NULL), FQ_OK);
    size_t before = fq_calib_stats_memory_bytes(stats);
    assert_int_equal(before, sizeof(fq_calib_stats) + 4 * sizeof(fq_value_stats) + 7 + 7 + 7);

    fq_test_seed(7);
    float batch[512];
    for (int k = 0; k < 1000; k++) {
        for (int i = 0; i < 512; i++)
            batch[i] = fq_test_rand_float(-1.0f, 1.0f) * (float)(k + 1);
        for (int v = 0; v < 3; v++)
            fq_value_stats_add(&stats->values[v], batch, 512);
    }
    assert_int_equal(fq_calib_stats_memory_bytes(stats), before);
    fq_calib_stats_free(stats);
}

static void test_non_finite_elements_are_counted_apart(void **state)
{
    (void)state;
    fq_calib_stats *stats = one_value();
    fq_value_stats *vs = &stats->values[0];
    const float x[] = {1.0f, NAN, -2.0f, INFINITY, -INFINITY};
    fq_value_stats_add(vs, x, 5);
    assert_int_equal(vs->count, 2);
    assert_int_equal(vs->non_finite, 3);
    assert_true(vs->min == -2.0 && vs->max == 1.0 && vs->range == 2.0);
    fq_calib_stats_free(stats);
}

static void test_all_zero_value_has_zero_threshold_and_unit_scale(void **state)
{
    (void)state;
    fq_calib_stats *stats = one_value();
    const float zeros[4] = {0};
    fq_value_stats_add(&stats->values[0], zeros, 4);
    for (int m = 0; m < FQ_CALIB_METHOD_COUNT; m++)
        assert_true(threshold_of(&stats->values[0], (fq_calib_method)m, 99.0) == 0.0);
    fq_calib_range range;
    assert_int_equal(fq_value_stats_range(&stats->values[0], FQ_CALIB_MSE, 0, &range, NULL),
                     FQ_OK);
    float scale;
    int32_t zp;
    fq_calib_params_u8_asymmetric(&range, &scale, &zp);
    assert_true(scale == 1.0f && zp == 0);
    fq_calib_stats_free(stats);
}

static void test_threshold_of_an_empty_value_is_an_error(void **state)
{
    (void)state;
    fq_calib_stats *stats = one_value();
    double t;
    fq_error err;
    assert_int_equal(fq_value_stats_threshold(&stats->values[0], FQ_CALIB_MINMAX, 0, &t, &err),
                     FQ_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'x'"));
    fq_calib_stats_free(stats);
}

static void test_percentile_out_of_range_is_an_error(void **state)
{
    (void)state;
    fq_calib_stats *stats = one_value();
    const float x[] = {1.0f, 2.0f};
    fq_value_stats_add(&stats->values[0], x, 2);
    double t;
    assert_int_equal(fq_value_stats_threshold(&stats->values[0], FQ_CALIB_PERCENTILE, 0.0, &t,
                                              NULL), FQ_ERR_INVALID_ARG);
    assert_int_equal(fq_value_stats_threshold(&stats->values[0], FQ_CALIB_PERCENTILE, 100.5, &t,
                                              NULL), FQ_ERR_INVALID_ARG);
    fq_calib_stats_free(stats);
}

static void test_range_is_the_threshold_cut_to_min_and_max(void **state)
{
    (void)state;
    fq_calib_stats *stats = one_value();
    float x[1001];
    for (int i = 0; i <= 1000; i++)
        x[i] = -1.0f + 7.0f * (float)i / 1000.0f; /* -1 .. 6 */
    fq_value_stats_add(&stats->values[0], x, 1001);
    fq_calib_range r;
    assert_int_equal(fq_value_stats_range(&stats->values[0], FQ_CALIB_PERCENTILE, 90.0, &r, NULL),
                     FQ_OK);
    assert_true(r.threshold < 6.0 && r.threshold > 4.0);
    assert_true(r.lo == -1.0);
    assert_true(r.hi == r.threshold);
    fq_calib_stats_free(stats);
}

static void test_i8_symmetric_scale_maps_threshold_to_127(void **state)
{
    (void)state;
    fq_calib_range r = {12.7, -3.0, 12.7};
    float scale;
    int32_t zp;
    fq_calib_params_i8_symmetric(&r, &scale, &zp);
    assert_float_equal(scale, 0.1f, 1e-7f);
    assert_int_equal(zp, 0);
}

static void test_u8_asymmetric_zero_point_makes_zero_exact(void **state)
{
    (void)state;
    fq_calib_range r = {5.2, -1.3, 5.2};
    float scale;
    int32_t zp;
    fq_calib_params_u8_asymmetric(&r, &scale, &zp);
    assert_float_equal(scale, 6.5f / 255.0f, 1e-7f);
    assert_int_equal(zp, 51);
    assert_true(scale * (float)(zp - zp) == 0.0f);
    /* The ends stay within half a step of the range. */
    assert_true(fabs(scale * (0 - zp) - r.lo) <= 0.5 * scale + 1e-6);
    assert_true(fabs(scale * (255 - zp) - r.hi) <= 0.5 * scale + 1e-6);

    fq_calib_range positive = {4.0, 0.5, 4.0};
    fq_calib_params_u8_asymmetric(&positive, &scale, &zp);
    assert_int_equal(zp, 0);
    assert_float_equal(scale, 4.0f / 255.0f, 1e-7f);
}

static void test_method_names_parse_back(void **state)
{
    (void)state;
    for (int m = 0; m < FQ_CALIB_METHOD_COUNT; m++) {
        fq_calib_method parsed;
        assert_true(fq_calib_method_parse(fq_calib_method_name((fq_calib_method)m), &parsed));
        assert_int_equal(parsed, m);
    }
    fq_calib_method unused;
    assert_false(fq_calib_method_parse("kl", &unused));
}

static fq_calib_stats *two_filled_values(void)
{
    const char *names[] = {"input.1", "conv/out"};
    fq_calib_stats *stats;
    assert_int_equal(fq_calib_stats_create(names, 2, &stats, NULL), FQ_OK);
    float *x = samples_of(gaussian, 10000, 8);
    fq_value_stats_add(&stats->values[0], x, 10000);
    fq_value_stats_add(&stats->values[1], x, 5000);
    stats->inputs_seen = 3;
    free(x);
    return stats;
}

static void test_serialized_statistics_load_back_identical(void **state)
{
    (void)state;
    fq_calib_stats *stats = two_filled_values();
    void *data;
    size_t size;
    assert_int_equal(fq_calib_stats_serialize(stats, &data, &size, NULL), FQ_OK);
    fq_calib_stats *back;
    assert_int_equal(fq_calib_stats_deserialize(data, size, &back, NULL), FQ_OK);

    assert_int_equal(back->n_values, 2);
    assert_int_equal(back->inputs_seen, 3);
    for (int v = 0; v < 2; v++) {
        const fq_value_stats *a = &stats->values[v], *b = &back->values[v];
        assert_string_equal(a->name, b->name);
        assert_true(a->min == b->min && a->max == b->max && a->range == b->range);
        assert_int_equal(a->count, b->count);
        assert_memory_equal(a->hist, b->hist, sizeof(a->hist));
    }
    fq_free(data);
    fq_calib_stats_free(back);
    fq_calib_stats_free(stats);
}

static void test_saved_file_loads_back(void **state)
{
    (void)state;
    fq_calib_stats *stats = two_filled_values();
    char path[] = "/tmp/fq_calib_stats_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fq_error err;
    assert_int_equal(fq_calib_stats_save(stats, path, &err), FQ_OK);
    fq_calib_stats *back;
    assert_int_equal(fq_calib_stats_load(path, &back, &err), FQ_OK);
    assert_int_equal(back->values[1].count, 5000);
    fq_calib_stats_free(back);
    fq_calib_stats_free(stats);
    remove(path);
}

static void test_every_truncation_is_a_parse_error(void **state)
{
    (void)state;
    fq_calib_stats *stats = two_filled_values();
    void *data;
    size_t size;
    assert_int_equal(fq_calib_stats_serialize(stats, &data, &size, NULL), FQ_OK);
    for (size_t cut = 0; cut < size; cut += cut < 64 ? 1 : 97) {
        fq_calib_stats *back = NULL;
        fq_error err;
        assert_int_equal(fq_calib_stats_deserialize(data, cut, &back, &err), FQ_ERR_PARSE);
        assert_null(back);
        assert_non_null(strstr(err.message, "byte"));
    }
    fq_free(data);
    fq_calib_stats_free(stats);
}

static void test_corrupt_counts_are_refused(void **state)
{
    (void)state;
    fq_calib_stats *stats = two_filled_values();
    void *data;
    size_t size;
    assert_int_equal(fq_calib_stats_serialize(stats, &data, &size, NULL), FQ_OK);
    ((unsigned char *)data)[size - 8] ^= 1; /* the last bin of the last value */
    fq_calib_stats *back = NULL;
    fq_error err;
    assert_int_equal(fq_calib_stats_deserialize(data, size, &back, &err), FQ_ERR_PARSE);
    assert_non_null(strstr(err.message, "conv/out"));
    ((unsigned char *)data)[size - 8] ^= 1;
    ((unsigned char *)data)[8] = 9; /* version */
    assert_int_equal(fq_calib_stats_deserialize(data, size, &back, &err), FQ_ERR_UNSUPPORTED);
    fq_free(data);
    fq_calib_stats_free(stats);
}

/* ---- per-channel sums (bias correction) ---- */

static fq_calib_stats *channel_value(void)
{
    const char *names[] = {"conv/out"};
    fq_calib_stats *stats;
    assert_int_equal(fq_calib_stats_create(names, 1, &stats, NULL), FQ_OK);
    return stats;
}

/* [2, 3, 1, 2]: channel c of batch n holds 10 n + c and 10 n + c + 1; one NaN in channel 2. */
static void add_nchw(fq_value_stats *vs)
{
    float x[12];
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 2; i++)
                x[(n * 3 + c) * 2 + i] = (float)(10 * n + c + i);
    x[11] = NAN;
    assert_int_equal(fq_value_stats_add_channels(vs, x, 2, 3, 2, NULL), FQ_OK);
}

static void test_channel_sums_of_an_nchw_tensor_leave_out_non_finite(void **state)
{
    (void)state;
    fq_calib_stats *stats = channel_value();
    fq_value_stats *vs = &stats->values[0];
    add_nchw(vs);
    assert_int_equal(vs->channels, 3);
    double mean;
    assert_true(fq_value_stats_channel_mean(vs, 0, &mean));
    assert_float_equal(mean, (0 + 1 + 10 + 11) / 4.0, 1e-12);
    assert_true(fq_value_stats_channel_mean(vs, 2, &mean));
    assert_float_equal(mean, (2 + 3 + 12) / 3.0, 1e-12);
    assert_int_equal(vs->channel_count[2], 3);
    assert_false(fq_value_stats_channel_mean(vs, 3, &mean));
    fq_calib_stats_free(stats);
}

static void test_channel_ranges_of_an_nchw_tensor_leave_out_non_finite(void **state)
{
    (void)state;
    fq_calib_stats *stats = channel_value();
    fq_value_stats *vs = &stats->values[0];
    add_nchw(vs);
    double lo, hi;
    assert_true(fq_value_stats_channel_range(vs, 0, &lo, &hi));
    assert_float_equal(lo, 0.0, 0.0);
    assert_float_equal(hi, 11.0, 0.0);
    assert_true(fq_value_stats_channel_range(vs, 2, &lo, &hi));
    assert_float_equal(lo, 2.0, 0.0);
    assert_float_equal(hi, 12.0, 0.0); /* the NaN (13's place) is left out */
    assert_false(fq_value_stats_channel_range(vs, 3, &lo, &hi));
    fq_calib_stats_free(stats);
}

static void test_scaling_a_channel_scales_its_sum_and_range(void **state)
{
    (void)state;
    fq_calib_stats *stats = channel_value();
    fq_value_stats *vs = &stats->values[0];
    add_nchw(vs);
    fq_value_stats_scale_channel(vs, 1, 4.0);
    double mean, lo, hi;
    assert_true(fq_value_stats_channel_mean(vs, 1, &mean));
    assert_float_equal(mean, 4.0 * (1 + 2 + 11 + 12) / 4.0, 1e-12);
    assert_true(fq_value_stats_channel_range(vs, 1, &lo, &hi));
    assert_float_equal(lo, 4.0, 0.0);
    assert_float_equal(hi, 48.0, 0.0);
    assert_true(fq_value_stats_channel_range(vs, 0, &lo, &hi));
    assert_float_equal(hi, 11.0, 0.0);
    fq_calib_stats_free(stats);
}

static void test_another_channel_count_is_refused_naming_the_value(void **state)
{
    (void)state;
    fq_calib_stats *stats = channel_value();
    add_nchw(&stats->values[0]);
    float x[4] = {0};
    fq_error err;
    assert_int_equal(fq_value_stats_add_channels(&stats->values[0], x, 1, 4, 1, &err),
                     FQ_ERR_SHAPE);
    assert_non_null(strstr(err.message, "conv/out"));
    fq_calib_stats_free(stats);
}

static void test_channel_sums_survive_serialization(void **state)
{
    (void)state;
    fq_calib_stats *stats = channel_value();
    add_nchw(&stats->values[0]);
    void *data;
    size_t size;
    assert_int_equal(fq_calib_stats_serialize(stats, &data, &size, NULL), FQ_OK);
    fq_calib_stats *back;
    assert_int_equal(fq_calib_stats_deserialize(data, size, &back, NULL), FQ_OK);
    const fq_value_stats *a = &stats->values[0], *b = &back->values[0];
    assert_int_equal(b->channels, 3);
    assert_memory_equal(a->channel_sum, b->channel_sum, 3 * sizeof(double));
    assert_memory_equal(a->channel_count, b->channel_count, 3 * sizeof(uint64_t));
    assert_memory_equal(a->channel_min, b->channel_min, 3 * sizeof(double));
    assert_memory_equal(a->channel_max, b->channel_max, 3 * sizeof(double));
    assert_int_equal(fq_calib_stats_memory_bytes(back), fq_calib_stats_memory_bytes(stats));
    fq_free(data);
    fq_calib_stats_free(back);
    fq_calib_stats_free(stats);
}

/* Version 2 is version 3 without the f64 min and max of each channel record. */
static void test_version_2_files_load_without_channel_ranges(void **state)
{
    (void)state;
    fq_calib_stats *stats = channel_value();
    add_nchw(&stats->values[0]);
    void *data;
    size_t size;
    assert_int_equal(fq_calib_stats_serialize(stats, &data, &size, NULL), FQ_OK);
    unsigned char *bytes = data;
    size_t records = 24 + 4 + strlen("conv/out") + 6 * 8 + FQ_CALIB_BINS * 8 + 4;
    assert_int_equal(size, records + 3 * 32);
    for (int c = 0; c < 3; c++)
        memmove(bytes + records + (size_t)c * 16, bytes + records + (size_t)c * 32, 16);
    size = records + 3 * 16;
    bytes[8] = 2;
    fq_calib_stats *back = NULL;
    fq_error err;
    if (fq_calib_stats_deserialize(data, size, &back, &err) != FQ_OK)
        fail_msg("%s", err.message);
    const fq_value_stats *vs = &back->values[0];
    assert_int_equal(vs->channels, 3);
    assert_memory_equal(vs->channel_sum, stats->values[0].channel_sum, 3 * sizeof(double));
    assert_null(vs->channel_min);
    double lo, hi, mean;
    assert_false(fq_value_stats_channel_range(vs, 0, &lo, &hi));
    assert_true(fq_value_stats_channel_mean(vs, 0, &mean));
    assert_int_equal(fq_calib_stats_memory_bytes(back),
                     fq_calib_stats_memory_bytes(stats) - 3 * 2 * sizeof(double));
    fq_free(data);
    fq_calib_stats_free(back);
    fq_calib_stats_free(stats);
}

/* Version 1 is version 2 without the u32 channel count (0 here) after each histogram. */
static void test_version_1_files_load_without_channel_sums(void **state)
{
    (void)state;
    fq_calib_stats *stats = two_filled_values();
    void *data;
    size_t size;
    assert_int_equal(fq_calib_stats_serialize(stats, &data, &size, NULL), FQ_OK);
    unsigned char *bytes = data;
    size_t first_end = 24 + 4 + strlen("input.1") + 6 * 8 + FQ_CALIB_BINS * 8;
    memmove(bytes + first_end, bytes + first_end + 4, size - first_end - 4);
    size -= 8;
    bytes[8] = 1;
    fq_calib_stats *back = NULL;
    fq_error err;
    if (fq_calib_stats_deserialize(data, size, &back, &err) != FQ_OK)
        fail_msg("%s", err.message);
    assert_int_equal(back->n_values, 2);
    assert_int_equal(back->values[1].count, 5000);
    assert_int_equal(back->values[0].channels, 0);
    assert_null(back->values[1].channel_sum);
    fq_free(data);
    fq_calib_stats_free(back);
    fq_calib_stats_free(stats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minmax_of_uniform_is_its_bound),
        cmocka_unit_test(test_percentile_of_uniform_is_near_its_bound),
        cmocka_unit_test(test_percentile_of_gaussian_is_its_quantile_within_a_bin),
        cmocka_unit_test(test_entropy_clips_gaussian_outliers_well_below_the_max),
        cmocka_unit_test(test_mse_clips_gaussian_outliers_at_the_brute_force_optimum),
        cmocka_unit_test(test_mse_threshold_of_gaussian_matches_brute_force),
        cmocka_unit_test(test_mse_threshold_of_laplacian_matches_brute_force),
        cmocka_unit_test(test_exact_zeros_change_neither_entropy_nor_mse),
        cmocka_unit_test(test_mse_threshold_of_relu_gaussian_matches_u8_brute_force),
        cmocka_unit_test(test_rebinning_merges_bins_and_keeps_counts),
        cmocka_unit_test(test_rebinning_many_times_keeps_every_count),
        cmocka_unit_test(test_memory_does_not_grow_with_batches),
        cmocka_unit_test(test_non_finite_elements_are_counted_apart),
        cmocka_unit_test(test_all_zero_value_has_zero_threshold_and_unit_scale),
        cmocka_unit_test(test_threshold_of_an_empty_value_is_an_error),
        cmocka_unit_test(test_percentile_out_of_range_is_an_error),
        cmocka_unit_test(test_range_is_the_threshold_cut_to_min_and_max),
        cmocka_unit_test(test_i8_symmetric_scale_maps_threshold_to_127),
        cmocka_unit_test(test_u8_asymmetric_zero_point_makes_zero_exact),
        cmocka_unit_test(test_method_names_parse_back),
        cmocka_unit_test(test_serialized_statistics_load_back_identical),
        cmocka_unit_test(test_saved_file_loads_back),
        cmocka_unit_test(test_every_truncation_is_a_parse_error),
        cmocka_unit_test(test_corrupt_counts_are_refused),
        cmocka_unit_test(test_channel_sums_of_an_nchw_tensor_leave_out_non_finite),
        cmocka_unit_test(test_another_channel_count_is_refused_naming_the_value),
        cmocka_unit_test(test_channel_sums_survive_serialization),
        cmocka_unit_test(test_version_1_files_load_without_channel_sums),
        cmocka_unit_test(test_version_2_files_load_without_channel_ranges),
        cmocka_unit_test(test_channel_ranges_of_an_nchw_tensor_leave_out_non_finite),
        cmocka_unit_test(test_scaling_a_channel_scales_its_sum_and_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
