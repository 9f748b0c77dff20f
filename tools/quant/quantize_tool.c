/* fq_tool_quantize: a float model file to a quantized .fqm file, calibrating on photos when int8
 * needs it and measuring the output agreement with the float model on the same photos. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/calib_images.h"
#include "face_common.h"
#include "fq_common.h"
#include "model_file.h"
#include "quant/quantize_tool.h"

/* Inputs the agreement with the float model is measured on, at most. */
#define AGREEMENT_INPUTS 32

typedef struct quantize_job {
    const fq_tool_quantize_request *req;
    const char *prefix;
    char path[FQ_TOOL_PATH_SIZE];
    fq_graph *graph;
    fq_fqm_meta *meta;
    int n_meta;
    fq_model_card card;
    fq_preprocess pre;
    fq_calib_image_list images;
    bool images_open;
    fq_tool_pipeline detector;
    bool detector_open;
    fq_calib_stats *stats;
    fq_graph *quantized;
} quantize_job;

/* The subcommand name inside the prefix ("quantize" of "fq quantize"), for the shared helpers
 * that print "fq CMD: ...". */
static const char *command_name(const char *prefix)
{
    return strncmp(prefix, "fq ", 3) == 0 ? prefix + 3 : prefix;
}

static void job_free(quantize_job *job)
{
    fq_graph_free(job->quantized);
    fq_calib_stats_free(job->stats);
    if (job->detector_open)
        fq_tool_pipeline_close(&job->detector);
    if (job->images_open)
        fq_calib_images_free(&job->images);
    fq_fqm_meta_free(job->meta);
    fq_graph_free(job->graph);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The input size of the first 4-D graph input. */
static void graph_input_size(const fq_graph *graph, int *width, int *height)
{
    for (int i = 0; i < graph->n_inputs; i++) {
        const fq_value *v = &graph->values[graph->inputs[i]];
        if (v->shape.rank == 4 && v->shape.dims[2] > 0 && v->shape.dims[3] > 0) {
            *width = (int)v->shape.dims[3];
            *height = (int)v->shape.dims[2];
            return;
        }
    }
}

static fq_status load_model(quantize_job *job, fq_error *err)
{
    const fq_tool_quantize_request *req = job->req;
    fq_status status = fq_tool_find_model(req->model_path, job->path, sizeof(job->path), err);
    if (status == FQ_OK)
        status = fq_tool_read_model(job->path, &job->graph, &job->meta, &job->n_meta, err);
    if (status == FQ_OK)
        status = fq_tool_model_card(command_name(job->prefix), job->path, job->graph, job->meta,
                                    job->n_meta, &job->card, err);
    if (status != FQ_OK)
        return status;
    fq_preprocess_from_card(&job->card, &job->pre);
    if (fq_tool_is_fqm_file(job->path)) {
        int width = 0, height = 0;
        graph_input_size(job->graph, &width, &height);
        if (req->size.width > 0 && (req->size.width != width || req->size.height != height))
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s was converted at %dx%d; convert "
                                "the ONNX model again with --input-size %lldx%lld", job->path,
                                width, height, (long long)req->size.width,
                                (long long)req->size.height);
        job->pre.width = width;
        job->pre.height = height;
        return FQ_OK;
    }
    if (req->size.width > 0) {
        job->pre.width = (int)req->size.width;
        job->pre.height = (int)req->size.height;
    }
    fq_input_size size = {job->pre.width, job->pre.height, 1};
    status = fq_passes_run(job->graph, &size, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", job->path);
    return FQ_OK;
}

static fq_status open_images(quantize_job *job, fq_error *err)
{
    const fq_tool_quantize_request *req = job->req;
    fq_status status = fq_calib_images_scan(req->calib_dir, &job->images, err);
    if (status != FQ_OK)
        return status;
    job->images_open = true;
    fprintf(stderr, "%s: %d images in %s (%d other files skipped)\n", job->prefix,
            job->images.count, req->calib_dir, job->images.skipped);
    if (job->images.count < FQ_CALIB_FEW_IMAGES && req->type == FQ_QUANT_INT8)
        fprintf(stderr, "%s: warning: %d calibration images; more give better scales (%d or "
                "more recommended)\n", job->prefix, job->images.count, FQ_CALIB_FEW_IMAGES);
    if (job->pre.geometry != FQ_PREPROCESS_ALIGNED_FACE)
        return FQ_OK;
    const char *detector = req->detector != NULL ? req->detector : FQ_TOOL_DEFAULT_DETECTOR;
    status = fq_tool_pipeline_open(command_name(job->prefix), detector, NULL, NULL,
                                   &job->detector, err);
    job->detector_open = status == FQ_OK;
    return status;
}

static void source_init(quantize_job *job, fq_calib_source *source, int inputs)
{
    fq_calib_source_init(source, &job->images, &job->pre,
                         job->detector_open ? job->detector.service : NULL, inputs);
    source->progress = source->progress && job->req->progress;
    source->log_prefix = job->prefix;
}

static fq_status calibrate(quantize_job *job, fq_error *err)
{
    const fq_tool_quantize_request *req = job->req;
    if (req->stats_path != NULL) {
        fprintf(stderr, "%s: statistics from %s\n", job->prefix, req->stats_path);
        return fq_calib_stats_load(req->stats_path, &job->stats, err);
    }
    fq_calib_source source;
    source_init(job, &source, req->max_inputs);
    fq_calibrate_options options = {fq_session_options_default(), 0};
    options.session.threads = req->threads;
    fq_status status = fq_calibrate(job->graph, &options, fq_calib_source_feed, &source,
                                    &job->stats, err);
    if (source.progress && source.given != fq_calib_source_total(&source))
        fputc('\n', stderr);
    if (status == FQ_OK)
        fprintf(stderr, "%s: calibrated on %d inputs (%d undecodable, %d without a face)\n",
                job->prefix, source.given, source.undecodable, source.no_face);
    return status;
}

static fq_status write_output(quantize_job *job, fq_error *err)
{
    const fq_tool_quantize_request *req = job->req;
    fq_tool_meta_list meta = {.count = 0};
    const char *source = fq_fqm_meta_find(job->meta, job->n_meta, FQ_FQM_META_SOURCE);
    const char *slash = strrchr(job->path, '/');
    fq_tool_meta_add(&meta, FQ_FQM_META_SOURCE, "%s",
                     source != NULL ? source : slash != NULL ? slash + 1 : job->path);
    fq_tool_meta_add_input_size(&meta, job->quantized);
    fq_tool_meta_add_card(&meta, &job->card);
    fq_tool_meta_add(&meta, "precision", "%s", fq_quant_type_name(req->type));
    if (job->stats != NULL)
        fq_tool_meta_add(&meta, "calibration", "%s over %d inputs",
                         fq_calib_method_name(req->method), job->stats->inputs_seen);
    return fq_fqm_write_file(job->quantized, meta.entries, meta.count, req->output_path, err);
}

static int agreement_inputs(const quantize_job *job)
{
    return job->images.count < AGREEMENT_INPUTS ? job->images.count : AGREEMENT_INPUTS;
}

static fq_session_options session_options(const quantize_job *job)
{
    fq_session_options session = fq_session_options_default();
    session.threads = job->req->threads;
    return session;
}

static fq_status measure(quantize_job *job, fq_tool_quantize_result *result, fq_error *err)
{
    fq_calib_source source;
    int inputs = agreement_inputs(job);
    source_init(job, &source, inputs);
    source.progress = false;
    fq_session_options session = session_options(job);
    fq_status status = fq_measure_agreement(job->graph, job->quantized, &session,
                                            fq_calib_source_feed, &source, inputs,
                                            &result->agreement, err);
    result->measured = status == FQ_OK;
    if (status != FQ_OK || !job->req->layer_sqnr)
        return status;
    source_init(job, &source, inputs < 4 ? inputs : 4);
    source.progress = false;
    return fq_tool_layer_sqnr(job->graph, job->quantized, &session, fq_calib_source_feed,
                              &source, inputs < 4 ? inputs : 4, &result->layers, err);
}

/* The sensitivity table and the rewrite that reaches the target cosine, on the photos. */
static fq_status quantize_measured(quantize_job *job, const fq_quantize_options *options,
                                   fq_tool_quantize_result *result, fq_error *err)
{
    const fq_tool_quantize_request *req = job->req;
    fq_session_options session = session_options(job);
    fq_calib_source source;
    fq_status status = FQ_OK;
    if (req->sensitivity) {
        source_init(job, &source, agreement_inputs(job));
        source.progress = false;
        status = fq_quantize_sensitivity(job->graph, options, &session, fq_calib_source_feed,
                                         &source, agreement_inputs(job), &result->sensitivity,
                                         err);
    }
    if (status != FQ_OK || req->target_cosine <= 0.0)
        return status;
    source_init(job, &source, agreement_inputs(job));
    source.progress = false;
    return fq_quantize_to_target(job->graph, options, &session, fq_calib_source_feed, &source,
                                 agreement_inputs(job), req->target_cosine, &job->quantized,
                                 &result->report, &result->kept_for_target, err);
}

static fq_status quantize(quantize_job *job, fq_tool_quantize_result *result, fq_error *err)
{
    const fq_tool_quantize_request *req = job->req;
    fq_quantize_options options = fq_quantize_options_default();
    options.type = req->type;
    options.stats = job->stats;
    options.method = req->method;
    if (req->percentile > 0.0)
        options.percentile = req->percentile;
    options.keep_float = req->keep_float;
    options.n_keep_float = req->n_keep_float;
    /* The QDQ export reads the NCHW form; the layout pass runs after it (write_qdq). */
    options.channels_last = req->qdq_path == NULL;
    if (req->sensitivity || req->target_cosine > 0.0) {
        fq_status status = quantize_measured(job, &options, result, err);
        if (status != FQ_OK || job->quantized != NULL)
            return status;
    }
    return fq_quantize(job->graph, &options, &job->quantized, &result->report, err);
}

/* The QDQ ONNX file of the NCHW quantized graph, then the graph moved to NHWC for the .fqm. */
static fq_status write_qdq(quantize_job *job, fq_error *err)
{
    fq_graph *qdq = NULL;
    fq_status status = fq_qdq_export(job->quantized, &qdq, err);
    if (status == FQ_OK)
        status = fq_onnx_write_file(qdq, job->req->qdq_path, err);
    fq_graph_free(qdq);
    if (status == FQ_OK)
        fprintf(stderr, "%s: QDQ model written to %s\n", job->prefix, job->req->qdq_path);
    return status == FQ_OK ? fq_pass_channels_last(job->quantized, err) : status;
}

static fq_status run(quantize_job *job, fq_tool_quantize_result *result, fq_error *err)
{
    const fq_tool_quantize_request *req = job->req;
    fq_status status = load_model(job, err);
    if (status != FQ_OK)
        return status;
    fprintf(stderr, "%s: %s at %dx%d to %s\n", job->prefix, job->path, job->pre.width,
            job->pre.height, fq_quant_type_name(req->type));
    if (req->type == FQ_QUANT_INT8 && req->calib_dir == NULL && req->stats_path == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "static int8 needs calibration photos: "
                            "give --calib DIR (%d or more images recommended) or --stats FILE "
                            "from fq calibrate; fp16 and dynamic need none",
                            FQ_CALIB_FEW_IMAGES);
    if (req->calib_dir != NULL && (status = open_images(job, err)) != FQ_OK)
        return status;
    bool wants_stats = req->type == FQ_QUANT_INT8 || (req->type == FQ_QUANT_FP16 &&
                                                      (job->images_open || req->stats_path));
    if (wants_stats && (status = calibrate(job, err)) != FQ_OK)
        return status;
    if ((status = quantize(job, result, err)) != FQ_OK)
        return status;
    if (req->qdq_path != NULL && (status = write_qdq(job, err)) != FQ_OK)
        return status;
    if (job->images_open && (status = measure(job, result, err)) != FQ_OK)
        return status;
    if ((status = write_output(job, err)) != FQ_OK)
        return status;
    result->input_bytes = (size_t)file_size(job->path);
    result->output_bytes = (size_t)file_size(req->output_path);
    return FQ_OK;
}

fq_status fq_tool_quantize(const fq_tool_quantize_request *request,
                           fq_tool_quantize_result *result, fq_error *err)
{
    memset(result, 0, sizeof(*result));
    if (request->model_path == NULL || request->output_path == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "quantize: needs a model and an output "
                            "path");
    quantize_job job;
    memset(&job, 0, sizeof(job));
    job.req = request;
    job.prefix = request->log_prefix != NULL ? request->log_prefix : "fq quantize";
    double t0 = fq_tool_now_ms();
    fq_status status = run(&job, result, err);
    job_free(&job);
    result->seconds = (fq_tool_now_ms() - t0) / 1000.0;
    if (status != FQ_OK)
        fq_tool_quantize_result_free(result);
    return status;
}

void fq_tool_quantize_result_free(fq_tool_quantize_result *result)
{
    fq_quantize_report_free(result->report);
    result->report = NULL;
    fq_sensitivity_free(result->sensitivity);
    result->sensitivity = NULL;
    fq_tool_layer_sqnr_free(&result->layers);
}
