/* facequant: the quantizer, which rewrites a float graph to static int8, dynamic int8 or fp16.
 *
 * The quantized graph and its operators are described in docs/QUANTIZATION.md. In short: the
 * rewritten graph keeps the float graph's inputs and outputs (names, f32, shapes); int8 runs as
 * QLinearConv/QLinearAdd/... on u8 activations and per-channel i8 weights, with QuantizeLinear
 * and DequantizeLinear at the edges of each int8 region; dynamic int8 as FqDynamicConv; fp16 as
 * Conv with fp16 weights.
 */
#ifndef FACEQUANT_QUANTIZE_H
#define FACEQUANT_QUANTIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "facequant/calibrate.h"
#include "facequant/ir.h"
#include "facequant/session.h"
#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fq_quant_type {
    FQ_QUANT_INT8 = 0,  /* static: needs calibration statistics */
    FQ_QUANT_FP16,
    FQ_QUANT_DYNAMIC,
    FQ_QUANT_TYPE_COUNT
} fq_quant_type;

/* "int8", "fp16", "dynamic"; parsing returns false for anything else. */
const char *fq_quant_type_name(fq_quant_type type);
bool fq_quant_type_parse(const char *name, fq_quant_type *type);

typedef struct fq_quantize_options {
    fq_quant_type type;
    /* int8: statistics of the float graph's values (fq_calibrate), required. fp16: optional;
     * with them, an activation whose range exceeds the safe fp16 range keeps its producer in
     * fp32. Unused by dynamic. */
    const fq_calib_stats *stats;
    fq_calib_method method;      /* int8 activation ranges; default FQ_CALIB_PERCENTILE */
    double percentile;           /* FQ_CALIB_PERCENTILE; 0 means FQ_CALIB_DEFAULT_PERCENTILE */
    /* Names of nodes of the float graph to leave in float (sensitivity, --keep-float). */
    const char *const *keep_float;
    int n_keep_float;
    /* int8: move the int8 regions to NHWC (fq_pass_channels_last) after the rewrite. Set false
     * to get the NCHW form the QDQ exporter reads. */
    bool channels_last;
    /* int8: correct the biases of depthwise convolutions for the mean error their weight
     * quantization adds, from the per-channel input means in stats (when it holds them). */
    bool bias_correction;
    /* int8: equalize the channels of each depthwise convolution's input with the Conv that
     * writes it, from the per-channel ranges in stats (when it holds them; docs/QUANTIZATION.md,
     * "Equalization"). */
    bool equalize;
} fq_quantize_options;

/* type int8, percentile 99.99, channels_last, bias_correction and equalize on, nothing kept
 * float. */
fq_quantize_options fq_quantize_options_default(void);

/* What happened to one node of the float graph. */
typedef struct fq_quant_node_report {
    char *node;          /* name in the float graph */
    char *op_type;
    fq_dtype precision;  /* FQ_DTYPE_I8 (int8, static or dynamic), FQ_DTYPE_F16, FQ_DTYPE_F32 */
    char *reason;        /* why it stayed float, or NULL */
} fq_quant_node_report;

typedef struct fq_quantize_report {
    fq_quant_type type;
    int n_nodes;
    fq_quant_node_report *nodes;
    int quantized;       /* nodes at the target precision */
    int kept_float;      /* compute nodes (Conv, Gemm, MatMul, Add, pools) the rewrite could
                            have quantized but left in float, each with its reason */
    int saturated_biases; /* int32 biases clamped */
    int equalized;       /* int8: depthwise inputs equalized with their producer */
    size_t weight_bytes_before;
    size_t weight_bytes_after;
} fq_quantize_report;

void fq_quantize_report_free(fq_quantize_report *report);

/* Rewrites a copy of graph (which must have been through fq_passes_run and is only read) into
 * *out. report may be NULL. Refuses int8 without statistics, and statistics that miss a value the
 * rewrite needs (naming the value). */
fq_status fq_quantize(const fq_graph *graph, const fq_quantize_options *options,
                      fq_graph **out, fq_quantize_report **report, fq_error *err);

/* Moves each connected region of u8 operators of a quantized NCHW graph to NHWC: sets
 * channels_last on QLinearConv, MaxPool and the pools, permutes shapes, Concat axes and Resize
 * scales inside the region, and inserts u8 Transposes at its borders. Outputs do not change by
 * a single bit. */
fq_status fq_pass_channels_last(fq_graph *graph, fq_error *err);

/* ---- measuring what quantization costs ---- */

/* Agreement of two runs of graphs with the same outputs, accumulated over inputs. */
typedef struct fq_output_agreement {
    double cosine_mean;   /* per input, cosine of all outputs flattened, then mean/min */
    double cosine_min;
    double max_abs_error;
    double sqnr_db;       /* 10 log10(sum ref^2 / sum (ref - test)^2) over every input */
    int inputs;
} fq_output_agreement;

/* Input feed as in fq_calibrate: fills the float graph's inputs. The sensitivity and target
 * functions pass over the inputs several times (once per node measured), each pass asking for
 * index 0, 1, 2, ... again: a feed must give the same input for the same index every time. */
typedef struct fq_sensitivity_entry {
    char *node;           /* float-graph node quantized alone */
    fq_output_agreement agreement;
} fq_sensitivity_entry;

typedef struct fq_sensitivity {
    int n_entries;
    fq_sensitivity_entry *entries;  /* in graph order */
} fq_sensitivity;

void fq_sensitivity_free(fq_sensitivity *s);

/* Runs the float graph and the quantized graph on the inputs the feed gives and compares their
 * outputs. */
fq_status fq_measure_agreement(const fq_graph *reference, const fq_graph *test,
                               const fq_session_options *session, fq_calib_feed feed, void *user,
                               int max_inputs, fq_output_agreement *out, fq_error *err);

/* Quantizes one compute node at a time (every other node kept float) and measures each against
 * the float graph over the feed's inputs. */
fq_status fq_quantize_sensitivity(const fq_graph *graph, const fq_quantize_options *options,
                                  const fq_session_options *session, fq_calib_feed feed,
                                  void *user, int max_inputs, fq_sensitivity **out,
                                  fq_error *err);

/* Quantizes with the fewest nodes kept float that reach a mean output cosine of target over the
 * feed's inputs: nodes are kept float in decreasing order of sensitivity until the target holds
 * (or every node is float, which is FQ_ERR_INVALID_ARG). *kept receives how many. */
fq_status fq_quantize_to_target(const fq_graph *graph, const fq_quantize_options *options,
                                const fq_session_options *session, fq_calib_feed feed,
                                void *user, int max_inputs, double target_cosine,
                                fq_graph **out, fq_quantize_report **report, int *kept,
                                fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
