/* Quantizing a model file for the tools (`fq quantize`, `fq serve`): read the float model,
 * calibrate on a folder of images when int8 needs it, quantize, measure the agreement with the
 * float model, and write the .fqm file (to a temporary name, then renamed). */
#ifndef FQ_TOOLS_QUANT_QUANTIZE_TOOL_H
#define FQ_TOOLS_QUANT_QUANTIZE_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "facequant/fq.h"
#include "facequant/quantize.h"
#include "quant/layer_sqnr.h"

typedef struct fq_tool_quantize_request {
    const char *model_path;     /* float model: .onnx or .fqm */
    fq_quant_type type;
    const char *calib_dir;      /* images for int8 calibration (required for int8 unless
                                   stats_path is given); also used to measure agreement */
    const char *stats_path;     /* statistics file from `fq calibrate`, or NULL */
    const char *detector;       /* recognizers: detector name or path cutting the face crops,
                                   or NULL for the default */
    fq_calib_method method;
    double percentile;
    fq_input_size size;         /* 0x0: the file's size, or 640x640 for dynamic detectors */
    const char *output_path;    /* the .fqm to write */
    const char *qdq_path;       /* int8: also write a QDQ ONNX file here, or NULL */
    int threads;
    int max_inputs;             /* calibration inputs; 0: every image once */
    const char *const *keep_float; /* node names to leave in float, n_keep_float of them */
    int n_keep_float;
    double target_cosine;       /* > 0: keep the fewest layers float that reach this mean
                                   output cosine on the calibration photos */
    bool sensitivity;           /* measure each layer quantized alone (result.sensitivity) */
    bool layer_sqnr;            /* per-layer SQNR of the quantized activations (result) */
    bool progress;              /* progress lines on stderr */
    const char *log_prefix;     /* "fq quantize": messages on stderr start with it */
} fq_tool_quantize_request;

typedef struct fq_tool_quantize_result {
    size_t input_bytes;         /* the float model file */
    size_t output_bytes;        /* the .fqm written */
    fq_quantize_report *report; /* freed by fq_tool_quantize_result_free */
    bool measured;              /* agreement measured (calibration images were given) */
    int kept_for_target;        /* layers kept float to reach target_cosine */
    fq_sensitivity *sensitivity; /* when asked for */
    fq_layer_sqnr layers;       /* layer_sqnr: each quantized activation against the float one */
    fq_output_agreement agreement;
    double seconds;
} fq_tool_quantize_result;

fq_status fq_tool_quantize(const fq_tool_quantize_request *request,
                           fq_tool_quantize_result *result, fq_error *err);
void fq_tool_quantize_result_free(fq_tool_quantize_result *result);

#endif
