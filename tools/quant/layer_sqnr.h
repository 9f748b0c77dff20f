/* Per-layer SQNR of a quantized graph: each u8 activation, dequantized, against the float
 * graph's value of the same name, over real inputs. */
#ifndef FQ_TOOLS_QUANT_LAYER_SQNR_H
#define FQ_TOOLS_QUANT_LAYER_SQNR_H

#include "facequant/fq.h"

typedef struct fq_layer_sqnr {
    int n_layers;
    char (*names)[128];   /* value names, in the quantized graph's node order */
    double *sqnr_db;      /* 10 log10(sum f^2 / sum (f - dq)^2); 200 when exact */
} fq_layer_sqnr;

/* Runs both graphs on the feed's inputs (it fills the float graph's inputs; the quantized graph
 * gets the same bytes). Values are matched by name (NAME_quantized stands for NAME); a quantized
 * value stored NHWC (N, H, W, C) is compared with its NCHW float twin element by element. */
fq_status fq_tool_layer_sqnr(const fq_graph *reference, const fq_graph *quantized,
                             const fq_session_options *options, fq_calib_feed feed, void *user,
                             int max_inputs, fq_layer_sqnr *out, fq_error *err);
void fq_tool_layer_sqnr_free(fq_layer_sqnr *s);

#endif
