/* What the quantizer's parts share: src/quant/quantize.c (dispatch, options, reports),
 * quantize_static.c (int8), quantize_fp16.c, quantize_dynamic.c, and the weight and constant
 * helpers of quantize_common.c. */
#ifndef FQ_SRC_QUANT_QUANTIZE_INTERNAL_H
#define FQ_SRC_QUANT_QUANTIZE_INTERNAL_H

#include <stdint.h>

#include "facequant/quantize.h"

/* The rewrites behind fq_quantize. Each gets a copy of the float graph (*graph, already cloned,
 * which it rewrites in place) and a report with one entry per float-graph node, precision
 * FQ_DTYPE_F32 and reason NULL, which it updates (fq_quant_report_set). */
fq_status fq_quantize_static_impl(fq_graph *graph, const fq_quantize_options *options,
                                  fq_quantize_report *report, fq_error *err);
fq_status fq_quantize_fp16_impl(fq_graph *graph, const fq_quantize_options *options,
                                fq_quantize_report *report, fq_error *err);
fq_status fq_quantize_dynamic_impl(fq_graph *graph, const fq_quantize_options *options,
                                   fq_quantize_report *report, fq_error *err);

/* The node reading value, when exactly one live node input (and no graph output) does; else
 * -1. */
int fq_quant_sole_reader(const fq_graph *graph, int value);

/* Equalizes every depthwise Conv's input with the Conv that writes it (src/quant/equalize.c):
 * rescales both weight tensors from the per-channel ranges in stats and scales those channels'
 * statistics to match; *pairs counts the pairs. Values without per-channel ranges are left. */
fq_status fq_quant_equalize_depthwise(fq_graph *graph, const fq_quantize_options *options,
                                      fq_calib_stats *stats, int *pairs, fq_error *err);

/* Whether options->keep_float names node. */
bool fq_quant_keep_float(const fq_quantize_options *options, const char *node);

/* Sets the precision of the report entry of the node named node (and its reason, copied; NULL
 * for none). Unknown names are ignored. */
fq_status fq_quant_report_set(fq_quantize_report *report, const char *node, fq_dtype precision,
                              const char *reason, fq_error *err);

/* Symmetric int8 quantization of n_channels rows of `per_channel` weights (w[c * per_channel +
 * i], an OIHW tensor read as O x IHW): scale[c] = max |w_c| / 127 (1 for an all-zero row),
 * q = round_half_even(w / scale) clamped to [-127, 127]. */
void fq_quant_weights_i8(const float *w, int64_t n_channels, int64_t per_channel, int8_t *q,
                         float *scale);

/* int32 bias: round_half_even(b[c] / (x_scale * w_scale[c])), saturated; returns how many
 * saturated. */
int fq_quant_bias_i32(const float *b, int64_t n_channels, float x_scale, const float *w_scale,
                      int32_t *q);

/* Adds a new constant value (name made unique from base) holding a copy of data with dtype and
 * shape; *index receives it. */
fq_status fq_quant_add_constant(fq_graph *graph, const char *base, fq_dtype dtype,
                                const fq_shape *shape, const void *data, int *index,
                                fq_error *err);
/* Scalar shortcuts: an f32 scale and a u8 zero point (rank 0). */
fq_status fq_quant_add_scale(fq_graph *graph, const char *base, float scale, int *index,
                             fq_error *err);
fq_status fq_quant_add_zero_point_u8(fq_graph *graph, const char *base, int32_t zero_point,
                                     int *index, fq_error *err);

/* Sets value->quant to one scale and zero point (per tensor). */
fq_status fq_quant_set_per_tensor(fq_value *value, float scale, int32_t zero_point,
                                  fq_error *err);
/* Sets value->quant per channel along axis with count scales and zero points 0. */
fq_status fq_quant_set_per_channel(fq_value *value, int axis, int count, const float *scale,
                                   fq_error *err);

/* Sorts the node list so that every producer comes before its readers, keeping the existing
 * order where it already is one (nodes appended by a rewrite move in front of their first
 * reader). */
fq_status fq_quant_sort_nodes(fq_graph *graph, fq_error *err);

/* Binds every node whose op exists at the graph's opset; the others keep op -1, which a session
 * refuses naming the node. */
void fq_quant_bind_known_ops(fq_graph *graph);

#endif
