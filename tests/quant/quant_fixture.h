/* What the quantizer's tests share: small float graphs of convolutions, a feed of seeded random
 * inputs, calibration and quantization in one call each. Every function asserts (cmocka). */
#ifndef FQ_TESTS_QUANT_FIXTURE_H
#define FQ_TESTS_QUANT_FIXTURE_H

#include <stdbool.h>

#include "facequant/fq.h"

/* A feed of `count` inputs, each filled with uniform values in [lo, hi) from seed + index, so
 * every pass over the feed sees the same inputs. */
typedef struct qf_feed {
    int count;
    unsigned long long seed;
    float lo;
    float hi;
} qf_feed;

fq_status qf_feed_random(void *user, int index, fq_tensor *inputs, int n_inputs, bool *more,
                         fq_error *err);

/* Conv of x (NCHW, c_in channels) to c_out channels with a k x k kernel, stride 1, padding k/2,
 * the given group, seeded random weights and bias in [-1, 1]; then act ("Relu", "Clip" to
 * [0, 0.5], "LeakyRelu", "Sigmoid", or NULL) as its own node, whose output is named name (the
 * Conv node is named name too). Returns the output value. */
int qf_conv(fq_graph *g, int x, const char *name, int c_in, int c_out, int k, int group,
            const char *act);

/* fq_passes_run, asserting success. */
void qf_prepare(fq_graph *g);
/* Statistics of g over the feed. */
fq_calib_stats *qf_calibrate(const fq_graph *g, qf_feed *feed);
/* fq_quantize to int8 with default options but channels_last as given and the keep list. */
fq_graph *qf_quantize(const fq_graph *g, const fq_calib_stats *stats, bool channels_last,
                      const char *const *keep, int n_keep, fq_quantize_report **report);

/* Index of the k-th live node of op type op, -1 if none. */
int qf_find_node(const fq_graph *g, const char *op, int k);
/* The report entry of a float-graph node. */
const fq_quant_node_report *qf_report_entry(const fq_quantize_report *r, const char *node);

/* Skips the test (cmocka skip()) with a message naming the first of ops the table lacks. */
void qf_require_ops(const char *const *ops, int n);

#endif
