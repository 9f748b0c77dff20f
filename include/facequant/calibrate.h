/* facequant: calibration, the statistics of a model's activations over real inputs, and the
 * clipping ranges, scales and zero points the quantizer derives from them.
 *
 * Statistics. For every non-constant f32 value of a graph (graph inputs, intermediates, outputs)
 * a set keeps the running minimum and maximum and a histogram of |x| with FQ_CALIB_BINS equal
 * bins over [0, range). The first batch sets range to its largest |x|; a later batch with a
 * larger |x| doubles range as often as needed and merges each pair of adjacent bins into one, so
 * counts are kept exactly and memory never grows: a set's size depends on the number of values,
 * their names and channel counts only, never on the number of inputs seen. NaN and infinities
 * are counted apart and left out of min, max and histogram. For 4-D values the runner also
 * keeps the sum and count of each channel (NCHW), from which bias correction takes the
 * per-channel means of a convolution's input.
 *
 * Thresholds. Each method chooses a threshold t on |x| from the histogram:
 *   minmax      t = max |x|
 *   percentile  t = the p-th percentile of |x| (p = 99.99 by default), interpolated linearly
 *               inside the bin where the cumulative count crosses p / 100 of the total
 *   entropy     TensorRT's algorithm: for every candidate of i bins (128 <= i <= FQ_CALIB_BINS),
 *               P is bins 0..i-1 with the counts beyond folded into bin i-1, Q is bins 0..i-1
 *               merged into 128 levels and spread back evenly over the bins of each level that
 *               were not empty; a bin of Q left empty under mass of P (the folded bin)
 *               is smoothed to a count of eps = 1e-4, and empty bins of P add nothing;
 *               t = i * bin width for the i of least KL(P || Q). Prefix sums make each
 *               candidate cost one log per level.
 *               Elements exactly 0 (the outputs of ReLU) are left out of bin 0 here and in
 *               mse: every quantizer represents 0 exactly, so they say nothing about where
 *               to clip, and their spike would pull the entropy threshold down
 *   mse         t minimises, over every bin edge, the expected squared error estimated from the
 *               histogram: step^2 / 12 for each element below t plus (|x| - t)^2 for each above
 *               (|x| uniform inside its bin), with step = t / 255 for a value never negative
 *               (u8 with zero point 0) and t / 127 otherwise
 * The clipping range of a value is then [max(min, -t), min(max, t)]: symmetric quantization uses
 * t alone, asymmetric quantization the range.
 *
 * Scales. real = scale * (q - zero_point).
 *   i8 symmetric:  scale = t / 127, zero_point = 0, q in [-127, 127].
 *   u8 asymmetric: the range is first widened to contain 0 (lo = min(lo, 0), hi = max(hi, 0));
 *                  scale = (hi - lo) / 255, zero_point = round(-lo / scale) clamped to
 *                  [0, 255], so real 0 is exactly q = zero_point (the range moves by less than
 *                  half a step).
 *   A range of zero width gives scale 1 and zero_point 0.
 *
 * The runner feeds inputs one by one through a callback, so the core library needs no image
 * decoder, and reads each value right after the node producing it has run
 * (fq_session_run_observed), since values share arena memory.
 */
#ifndef FACEQUANT_CALIBRATE_H
#define FACEQUANT_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facequant/face.h"
#include "facequant/image.h"
#include "facequant/ir.h"
#include "facequant/ops.h"
#include "facequant/session.h"
#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FQ_CALIB_BINS 2048
#define FQ_CALIB_LEVELS 128          /* quantized levels the entropy method merges bins into */
#define FQ_CALIB_DEFAULT_PERCENTILE 99.99
#define FQ_CALIB_NAME_MAX 4096       /* longest value name a statistics file may hold */

/* Statistics of one value. range 0 means every finite element seen so far was 0 (all in bin 0).
 */
typedef struct fq_value_stats {
    char *name;
    double min;              /* +inf / -inf before the first finite element */
    double max;
    double range;            /* the histogram covers |x| in [0, range) in FQ_CALIB_BINS bins */
    uint64_t count;          /* finite elements in the histogram */
    uint64_t non_finite;     /* NaN and infinities, left out */
    uint64_t zeros;          /* elements exactly 0 (also counted in hist[0]) */
    uint64_t hist[FQ_CALIB_BINS];
    /* Per-channel sums of 4-D (NCHW) values, for bias correction: channel_sum[c] adds every
     * finite element of channel c, channel_count[c] counts them; channels 0 (and both NULL)
     * when none were recorded (other ranks, or a version 1 statistics file). */
    int channels;
    double *channel_sum;
    uint64_t *channel_count;
    /* Per-channel extremes of the same elements (+inf / -inf for a channel with none), for the
     * equalization of a depthwise convolution's input; NULL when the statistics came from a
     * version 1 or 2 file. */
    double *channel_min;
    double *channel_max;
} fq_value_stats;

typedef struct fq_calib_stats {
    int n_values;
    fq_value_stats *values;
    int inputs_seen;         /* inputs (runs) accumulated */
} fq_calib_stats;

typedef enum fq_calib_method {
    FQ_CALIB_MINMAX = 0,
    FQ_CALIB_PERCENTILE,
    FQ_CALIB_ENTROPY,
    FQ_CALIB_MSE,
    FQ_CALIB_METHOD_COUNT
} fq_calib_method;

/* "minmax", "percentile", "entropy", "mse"; parsing returns false for anything else. */
const char *fq_calib_method_name(fq_calib_method method);
bool fq_calib_method_parse(const char *name, fq_calib_method *method);

/* A set with one empty entry per name (copied). */
fq_status fq_calib_stats_create(const char *const *names, int count, fq_calib_stats **out,
                                fq_error *err);
void fq_calib_stats_free(fq_calib_stats *stats);
/* Bytes the set holds on the heap (structs, histograms, names, per-channel sums): exact, and
 * independent of the number of inputs accumulated. */
size_t fq_calib_stats_memory_bytes(const fq_calib_stats *stats);
/* Index of the entry named name, -1 if absent. */
int fq_calib_stats_find(const fq_calib_stats *stats, const char *name);

/* Empties one entry (keeps its name). */
void fq_value_stats_reset(fq_value_stats *vs);
/* Adds count elements to an entry, rebinning first if they exceed its range. */
void fq_value_stats_add(fq_value_stats *vs, const float *data, size_t count);
/* Adds an NCHW tensor (batch x channels x inner elements) to the entry's per-channel sums,
 * allocating them on first use; a channel count other than the one recorded before is
 * FQ_ERR_SHAPE naming the value. The histogram is fq_value_stats_add's. */
fq_status fq_value_stats_add_channels(fq_value_stats *vs, const float *data, int64_t batch,
                                      int64_t channels, int64_t inner, fq_error *err);
/* Mean of channel c (0 for a channel with no element); false when the entry has no
 * per-channel sums or c is out of range. */
bool fq_value_stats_channel_mean(const fq_value_stats *vs, int c, double *mean);
/* Smallest and largest finite element of channel c; false when the entry has no per-channel
 * extremes, c is out of range or the channel had no finite element. */
bool fq_value_stats_channel_range(const fq_value_stats *vs, int c, double *min, double *max);
/* Multiplies what channel c's statistics say by factor > 0 (sum, min and max): the statistics
 * of the value after a rewrite scaled that channel. The histogram is left as it is. */
void fq_value_stats_scale_channel(fq_value_stats *vs, int c, double factor);

/* The threshold t of a method (percentile in (0, 100], used by FQ_CALIB_PERCENTILE only).
 * An entry with no element is FQ_ERR_INVALID_ARG naming the value. */
fq_status fq_value_stats_threshold(const fq_value_stats *vs, fq_calib_method method,
                                   double percentile, double *threshold, fq_error *err);

/* A clipping range and its quantization parameters. */
typedef struct fq_calib_range {
    double threshold;        /* t */
    double lo;               /* max(min, -t) */
    double hi;               /* min(max, t) */
} fq_calib_range;

fq_status fq_value_stats_range(const fq_value_stats *vs, fq_calib_method method,
                               double percentile, fq_calib_range *range, fq_error *err);

/* Scale and zero point by the formulas above. */
void fq_calib_params_i8_symmetric(const fq_calib_range *range, float *scale, int32_t *zero_point);
void fq_calib_params_u8_asymmetric(const fq_calib_range *range, float *scale,
                                   int32_t *zero_point);

/* Statistics files. Little-endian:
 *   "FQCALIB\0", u32 version (3), u32 bins, u32 value count, u32 inputs seen, then per value:
 *   u32 name length, name bytes (no NUL), f64 min, f64 max, f64 range, u64 count,
 *   u64 non-finite, u64 zeros, bins x u64 counts, u32 channels, channels x (f64 sum, u64
 *   count, f64 min, f64 max).
 * Version 2 files (channels x (f64 sum, u64 count)) load without per-channel extremes, version
 * 1 files (without the channel part) with no per-channel statistics.
 * Loading checks every length against the bytes left and names the byte offset of a fault. */
#define FQ_CALIB_FILE_VERSION 3
fq_status fq_calib_stats_serialize(const fq_calib_stats *stats, void **data, size_t *size,
                                   fq_error *err);
fq_status fq_calib_stats_deserialize(const void *data, size_t size, fq_calib_stats **out,
                                     fq_error *err);
/* Not in a build with -Dfiles=false. */
fq_status fq_calib_stats_save(const fq_calib_stats *stats, const char *path, fq_error *err);
fq_status fq_calib_stats_load(const char *path, fq_calib_stats **out, fq_error *err);

/* How a photo becomes a model input. */
typedef enum fq_preprocess_geometry {
    FQ_PREPROCESS_LETTERBOX = 0, /* keep the aspect ratio, black padding right and bottom */
    FQ_PREPROCESS_RESIZE,        /* stretch to the input size */
    FQ_PREPROCESS_ALIGNED_FACE   /* a 5-point aligned face crop cut by a detector (recognizers);
                                    the crop given to fq_preprocess_image is resized if needed */
} fq_preprocess_geometry;

typedef struct fq_preprocess {
    fq_preprocess_geometry geometry;
    int width;                   /* model input size */
    int height;
    fq_normalization norm;       /* colour order, mean and std per channel */
} fq_preprocess;

/* The preprocessing of a model family: detectors letterbox to the card's size (640x640 when the
 * card says dynamic), recognizers take aligned crops at the card's size (112x112 by default);
 * colour order, mean and std come from the card. */
void fq_preprocess_from_card(const fq_model_card *card, fq_preprocess *pre);
/* Writes the 1x3xHxW tensor of an RGB image (out: 3 * width * height floats). */
fq_status fq_preprocess_image(const fq_preprocess *pre, const fq_image *rgb, float *out,
                              fq_error *err);

/* The runner. Before each run the callback fills the session's graph inputs (tensors point into
 * the session; every one is f32) and sets *more to false when there is no input left (the
 * inputs are then not run). It returns an error to stop the calibration. */
typedef fq_status (*fq_calib_feed)(void *user, int index, fq_tensor *inputs, int n_inputs,
                                   bool *more, fq_error *err);

typedef struct fq_calibrate_options {
    fq_session_options session;  /* start from fq_session_options_default() */
    int max_inputs;              /* stop after this many runs; 0: until the feed says no more */
} fq_calibrate_options;

/* Runs graph (after the passes) on every input the feed gives and accumulates statistics of
 * every non-constant f32 value that is a graph input or produced by a node into *stats,
 * which is created when NULL on entry (else it must hold the graph's value names, for example
 * from a previous call, and keeps accumulating). Zero inputs is FQ_ERR_INVALID_ARG. options
 * may be NULL. */
fq_status fq_calibrate(const fq_graph *graph, const fq_calibrate_options *options,
                       fq_calib_feed feed, void *user, fq_calib_stats **stats, fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
