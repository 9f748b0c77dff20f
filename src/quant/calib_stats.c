/* Calibration statistics: streaming min/max and |x| histograms with rebinning, the threshold
 * methods (minmax, percentile, entropy, mse) and the scales and zero points they lead to. The
 * formulas are documented in facequant/calibrate.h. */
#include <math.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/calibrate.h"

#define ENTROPY_EPSILON 1e-4

static const char *const method_names[FQ_CALIB_METHOD_COUNT] = {
    "minmax", "percentile", "entropy", "mse",
};

const char *fq_calib_method_name(fq_calib_method method)
{
    return (unsigned)method < FQ_CALIB_METHOD_COUNT ? method_names[method] : "unknown";
}

bool fq_calib_method_parse(const char *name, fq_calib_method *method)
{
    for (int m = 0; m < FQ_CALIB_METHOD_COUNT; m++) {
        if (strcmp(name, method_names[m]) == 0) {
            *method = (fq_calib_method)m;
            return true;
        }
    }
    return false;
}

void fq_value_stats_reset(fq_value_stats *vs)
{
    char *name = vs->name;
    fq_free(vs->channel_sum);
    fq_free(vs->channel_count);
    fq_free(vs->channel_min);
    fq_free(vs->channel_max);
    memset(vs, 0, sizeof(*vs));
    vs->name = name;
    vs->min = INFINITY;
    vs->max = -INFINITY;
}

void fq_calib_stats_free(fq_calib_stats *stats)
{
    if (stats == NULL)
        return;
    for (int i = 0; i < stats->n_values; i++) {
        fq_free(stats->values[i].name);
        fq_free(stats->values[i].channel_sum);
        fq_free(stats->values[i].channel_count);
        fq_free(stats->values[i].channel_min);
        fq_free(stats->values[i].channel_max);
    }
    fq_free(stats->values);
    fq_free(stats);
}

fq_status fq_calib_stats_create(const char *const *names, int count, fq_calib_stats **out,
                                fq_error *err)
{
    *out = NULL;
    if (count < 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "negative value count %d", count);
    fq_calib_stats *stats = fq_calloc(1, sizeof(*stats));
    if (stats == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate calibration statistics");
    stats->values = fq_calloc((size_t)count + 1, sizeof(fq_value_stats));
    if (stats->values == NULL) {
        fq_free(stats);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot allocate statistics of %d values",
                            count);
    }
    for (int i = 0; i < count; i++) {
        stats->values[i].name = fq_strdup(names[i]);
        stats->n_values = i + 1;
        if (stats->values[i].name == NULL) {
            fq_calib_stats_free(stats);
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "cannot copy the value name '%s'",
                                names[i]);
        }
        fq_value_stats_reset(&stats->values[i]);
    }
    *out = stats;
    return FQ_OK;
}

size_t fq_calib_stats_memory_bytes(const fq_calib_stats *stats)
{
    size_t bytes = sizeof(*stats) + ((size_t)stats->n_values + 1) * sizeof(fq_value_stats);
    for (int i = 0; i < stats->n_values; i++) {
        bytes += strlen(stats->values[i].name) + 1;
        const fq_value_stats *vs = &stats->values[i];
        size_t per_channel = sizeof(double) + sizeof(uint64_t) +
                             (vs->channel_min != NULL ? 2 * sizeof(double) : 0);
        bytes += (size_t)vs->channels * per_channel;
    }
    return bytes;
}

int fq_calib_stats_find(const fq_calib_stats *stats, const char *name)
{
    for (int i = 0; i < stats->n_values; i++)
        if (strcmp(stats->values[i].name, name) == 0)
            return i;
    return -1;
}

/* Doubles the histogram range: bins 2j and 2j + 1 become bin j. */
static void merge_bin_pairs(fq_value_stats *vs)
{
    for (int j = 0; j < FQ_CALIB_BINS / 2; j++)
        vs->hist[j] = vs->hist[2 * j] + vs->hist[2 * j + 1];
    memset(&vs->hist[FQ_CALIB_BINS / 2], 0, sizeof(vs->hist) / 2);
    vs->range *= 2.0;
}

/* Makes the range cover abs_max: set by the first non-zero batch, doubled after. */
static void cover_range(fq_value_stats *vs, double abs_max)
{
    if (vs->range == 0.0) {
        vs->range = abs_max;
        return;
    }
    while (vs->range < abs_max)
        merge_bin_pairs(vs);
}

/* Bin of |x| = a, given bins_per_unit = FQ_CALIB_BINS / range (0 when range is 0). */
static int bin_of(double a, double bins_per_unit)
{
    double b = a * bins_per_unit;
    return b >= FQ_CALIB_BINS - 1 ? FQ_CALIB_BINS - 1 : (int)b;
}

void fq_value_stats_add(fq_value_stats *vs, const float *data, size_t count)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(data[i]))
            continue;
        lo = data[i] < lo ? data[i] : lo;
        hi = data[i] > hi ? data[i] : hi;
    }
    if (lo <= hi) {
        vs->min = lo < vs->min ? lo : vs->min;
        vs->max = hi > vs->max ? hi : vs->max;
        double abs_max = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
        if (abs_max > vs->range)
            cover_range(vs, abs_max);
    }

    double bins_per_unit = vs->range > 0.0 ? FQ_CALIB_BINS / vs->range : 0.0;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(data[i])) {
            vs->non_finite++;
            continue;
        }
        vs->hist[bin_of(fabs((double)data[i]), bins_per_unit)]++;
        vs->count++;
        vs->zeros += data[i] == 0.0f;
    }
}

static fq_status channels_allocate(fq_value_stats *vs, int64_t channels, fq_error *err)
{
    if (channels <= 0 || channels > INT32_MAX)
        return fq_error_set(err, FQ_ERR_SHAPE, "statistics of '%s': %lld channels",
                            vs->name, (long long)channels);
    vs->channel_sum = fq_calloc((size_t)channels, sizeof(double));
    vs->channel_count = fq_calloc((size_t)channels, sizeof(uint64_t));
    vs->channel_min = fq_malloc((size_t)channels * sizeof(double));
    vs->channel_max = fq_malloc((size_t)channels * sizeof(double));
    if (vs->channel_sum == NULL || vs->channel_count == NULL || vs->channel_min == NULL ||
        vs->channel_max == NULL) {
        fq_free(vs->channel_sum);
        fq_free(vs->channel_count);
        fq_free(vs->channel_min);
        fq_free(vs->channel_max);
        vs->channel_sum = NULL;
        vs->channel_count = NULL;
        vs->channel_min = NULL;
        vs->channel_max = NULL;
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "statistics of '%s': no memory for %lld "
                            "channel sums", vs->name, (long long)channels);
    }
    for (int64_t c = 0; c < channels; c++) {
        vs->channel_min[c] = INFINITY;
        vs->channel_max[c] = -INFINITY;
    }
    vs->channels = (int)channels;
    return FQ_OK;
}

fq_status fq_value_stats_add_channels(fq_value_stats *vs, const float *data, int64_t batch,
                                      int64_t channels, int64_t inner, fq_error *err)
{
    if (vs->channels == 0) {
        fq_status status = channels_allocate(vs, channels, err);
        if (status != FQ_OK)
            return status;
    }
    if (channels != vs->channels)
        return fq_error_set(err, FQ_ERR_SHAPE, "statistics of '%s': %lld channels, %d "
                            "recorded before", vs->name, (long long)channels, vs->channels);
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t c = 0; c < channels; c++) {
            const float *row = data + (n * channels + c) * inner;
            double sum = 0.0;
            uint64_t count = 0;
            float lo = INFINITY, hi = -INFINITY;
            for (int64_t i = 0; i < inner; i++) {
                if (isfinite(row[i])) {
                    sum += row[i];
                    count++;
                    lo = row[i] < lo ? row[i] : lo;
                    hi = row[i] > hi ? row[i] : hi;
                }
            }
            vs->channel_sum[c] += sum;
            vs->channel_count[c] += count;
            if (vs->channel_min != NULL && lo < vs->channel_min[c])
                vs->channel_min[c] = lo;
            if (vs->channel_max != NULL && hi > vs->channel_max[c])
                vs->channel_max[c] = hi;
        }
    }
    return FQ_OK;
}

bool fq_value_stats_channel_mean(const fq_value_stats *vs, int c, double *mean)
{
    if (vs->channels <= 0 || c < 0 || c >= vs->channels)
        return false;
    uint64_t count = vs->channel_count[c];
    *mean = count > 0 ? vs->channel_sum[c] / (double)count : 0.0;
    return true;
}

bool fq_value_stats_channel_range(const fq_value_stats *vs, int c, double *min, double *max)
{
    if (vs->channels <= 0 || c < 0 || c >= vs->channels || vs->channel_min == NULL ||
        vs->channel_max == NULL || !(vs->channel_min[c] <= vs->channel_max[c]))
        return false;
    *min = vs->channel_min[c];
    *max = vs->channel_max[c];
    return true;
}

void fq_value_stats_scale_channel(fq_value_stats *vs, int c, double factor)
{
    if (vs->channels <= 0 || c < 0 || c >= vs->channels || !(factor > 0.0))
        return;
    vs->channel_sum[c] *= factor;
    if (vs->channel_min != NULL && vs->channel_max != NULL) {
        vs->channel_min[c] *= factor;
        vs->channel_max[c] *= factor;
    }
}

static double abs_max_of(const fq_value_stats *vs)
{
    return fabs(vs->min) > fabs(vs->max) ? fabs(vs->min) : fabs(vs->max);
}

static double percentile_threshold(const fq_value_stats *vs, double percentile)
{
    double width = vs->range / FQ_CALIB_BINS;
    double target = percentile / 100.0 * (double)vs->count;
    double below = 0.0;
    for (int b = 0; b < FQ_CALIB_BINS; b++) {
        double here = (double)vs->hist[b];
        if (here > 0.0 && below + here >= target)
            return (b + (target - below) / here) * width;
        below += here;
    }
    return vs->range;
}

/* Prefix sums over the histogram without its exact zeros: count[m], non-empty bins[m] and
 * sum of h log h over bins 0 .. m-1. */
typedef struct entropy_prefix {
    double count[FQ_CALIB_BINS + 1];
    double h_log_h[FQ_CALIB_BINS + 1];
    int filled[FQ_CALIB_BINS + 1];
} entropy_prefix;

static double x_log_x(double x)
{
    return x > 0.0 ? x * log(x) : 0.0;
}

static void entropy_prefix_build(const fq_value_stats *vs, entropy_prefix *e)
{
    e->count[0] = e->h_log_h[0] = 0.0;
    e->filled[0] = 0;
    for (int b = 0; b < FQ_CALIB_BINS; b++) {
        double h = (double)(vs->hist[b] - (b == 0 ? vs->zeros : 0));
        e->count[b + 1] = e->count[b] + h;
        e->h_log_h[b + 1] = e->h_log_h[b] + x_log_x(h);
        e->filled[b + 1] = e->filled[b] + (h > 0.0);
    }
}

/* KL(P || Q) of the candidate of n bins, in O(levels): P is the histogram with the counts
 * beyond bin n-1 folded into it; Q is constant over the non-empty bins of P in each level, so
 * sum p log q needs one log per level. A Q bin left empty under mass of P (the folded bin of a
 * level whose own bins are empty) gets ENTROPY_EPSILON counts; empty bins of P add nothing.
 * Returns INFINITY when bins 0 .. n-1 are all empty. */
static double candidate_kl(const entropy_prefix *e, int n)
{
    double total = e->count[FQ_CALIB_BINS], inside = e->count[n], beyond = total - inside;
    if (inside <= 0.0)
        return INFINITY;
    double last = e->count[n] - e->count[n - 1] + beyond;
    double sum_p_log_p = (e->h_log_h[n - 1] + x_log_x(last)) / total - log(total);

    double sum_p_log_q = 0.0;
    for (int k = 0; k < FQ_CALIB_LEVELS; k++) {
        int start = k * n / FQ_CALIB_LEVELS, end = (k + 1) * n / FQ_CALIB_LEVELS;
        double q_mass = e->count[end] - e->count[start];
        double p_mass = q_mass + (end == n ? beyond : 0.0);
        int filled = e->filled[end] - e->filled[start];
        if (end == n && e->count[n] == e->count[n - 1] && beyond > 0.0)
            filled++;
        if (p_mass <= 0.0)
            continue;
        double q_bin = q_mass > 0.0 ? q_mass / filled : ENTROPY_EPSILON;
        sum_p_log_q += p_mass / total * log(q_bin / inside);
    }
    return sum_p_log_p - sum_p_log_q;
}

static fq_status entropy_threshold(const fq_value_stats *vs, double *threshold, fq_error *err)
{
    entropy_prefix *e = fq_malloc(sizeof(*e));
    if (e == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for the entropy search of '%s'",
                            vs->name);
    entropy_prefix_build(vs, e);
    int best_bins = FQ_CALIB_BINS;
    double best_kl = INFINITY;
    for (int n = FQ_CALIB_LEVELS; n <= FQ_CALIB_BINS; n++) {
        double kl = candidate_kl(e, n);
        if (kl < best_kl) {
            best_kl = kl;
            best_bins = n;
        }
    }
    fq_free(e);
    *threshold = best_bins * (vs->range / FQ_CALIB_BINS);
    return FQ_OK;
}

/* Expected squared error of clipping |x| at each bin edge k * width, from suffix sums of the
 * counts and their first two moments about the bin centres. Exact zeros cost nothing. */
static double mse_threshold(const fq_value_stats *vs)
{
    double width = vs->range / FQ_CALIB_BINS;
    double levels = vs->min >= 0.0 ? 255.0 : 127.0;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0;
    double best_t = vs->range, best_error = INFINITY;
    for (int k = FQ_CALIB_BINS; k >= 1; k--) {
        uint64_t nonzero = vs->hist[k - 1] - (k == 1 ? vs->zeros : 0);
        double h = (double)nonzero, centre = (k - 0.5) * width;
        /* Bins k .. BINS-1 are clipped at t = k * width; bin k - 1 joins them next turn. */
        double t = k * width, step = t / levels;
        double inside = (double)(vs->count - vs->zeros) - s0;
        double clipped = s2 - 2.0 * t * s1 + t * t * s0 + s0 * width * width / 12.0;
        double error = inside * step * step / 12.0 + clipped;
        if (error <= best_error) {
            best_error = error;
            best_t = t;
        }
        s0 += h;
        s1 += h * centre;
        s2 += h * centre * centre;
    }
    return best_t;
}

fq_status fq_value_stats_threshold(const fq_value_stats *vs, fq_calib_method method,
                                   double percentile, double *threshold, fq_error *err)
{
    if (vs->count == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "value '%s' has no statistics: no finite "
                            "element was seen", vs->name);
    double abs_max = abs_max_of(vs);
    fq_status status = FQ_OK;
    double t = abs_max;
    if (vs->range == 0.0)
        t = 0.0;
    else if (method == FQ_CALIB_PERCENTILE) {
        if (!(percentile > 0.0 && percentile <= 100.0))
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "percentile %g is not in (0, 100]",
                                percentile);
        t = percentile_threshold(vs, percentile);
    } else if (method == FQ_CALIB_ENTROPY)
        status = entropy_threshold(vs, &t, err);
    else if (method == FQ_CALIB_MSE)
        t = mse_threshold(vs);
    else if (method != FQ_CALIB_MINMAX)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "unknown calibration method %d",
                            (int)method);
    *threshold = t < abs_max ? t : abs_max;
    return status;
}

fq_status fq_value_stats_range(const fq_value_stats *vs, fq_calib_method method,
                               double percentile, fq_calib_range *range, fq_error *err)
{
    double t;
    fq_status status = fq_value_stats_threshold(vs, method, percentile, &t, err);
    if (status != FQ_OK)
        return status;
    range->threshold = t;
    range->lo = vs->min > -t ? vs->min : -t;
    range->hi = vs->max < t ? vs->max : t;
    return FQ_OK;
}

void fq_calib_params_i8_symmetric(const fq_calib_range *range, float *scale, int32_t *zero_point)
{
    *scale = range->threshold > 0.0 ? (float)(range->threshold / 127.0) : 1.0f;
    *zero_point = 0;
}

void fq_calib_params_u8_asymmetric(const fq_calib_range *range, float *scale,
                                   int32_t *zero_point)
{
    double lo = range->lo < 0.0 ? range->lo : 0.0;
    double hi = range->hi > 0.0 ? range->hi : 0.0;
    if (!(hi > lo)) {
        *scale = 1.0f;
        *zero_point = 0;
        return;
    }
    *scale = (float)((hi - lo) / 255.0);
    double zp = round(-lo / (double)*scale);
    *zero_point = zp < 0.0 ? 0 : zp > 255.0 ? 255 : (int32_t)zp;
}
