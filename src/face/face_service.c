/* The face service: a detector and a recognizer, each read, passed and planned once, and the
 * pipeline from pixels to faces and embeddings. */
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/face.h"
#include "facequant/format.h"
#include "facequant/onnx.h"
#include "facequant/passes.h"
#include "facequant/session.h"

#define DEFAULT_DETECTOR_SIZE 640

typedef struct face_model {
    fq_graph *graph;
    fq_session *session;
    int width;
    int height;
    bool passed;        /* read from an .fqm file: the passes already ran, the size is fixed */
} face_model;

struct fq_face_service {
    face_model detector;
    face_model recognizer;
    fq_model_card detector_card;
    fq_model_card recognizer_card;
    fq_tensor *detector_outputs; /* one per detector graph output, filled after each run */
    int embedding_size;
};

static void model_free(face_model *model)
{
    fq_session_free(model->session);
    fq_graph_free(model->graph);
    memset(model, 0, sizeof(*model));
}

/* The one NCHW f32 image input of a model, with 3 channels. */
static fq_status check_image_input(const fq_graph *graph, const char *path, fq_error *err)
{
    if (graph->n_inputs != 1)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: %d inputs; a face model has one "
                            "image input", path, graph->n_inputs);
    const fq_value *in = &graph->values[graph->inputs[0]];
    if (in->dtype != FQ_DTYPE_F32 || in->shape.rank != 4 || in->shape.dims[1] != 3)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: input '%s' is not a f32 image "
                            "tensor [N, 3, H, W]", path, in->name);
    return FQ_OK;
}

/* The input size the file fixes, or 0 x 0 when it leaves width or height open. */
static void fixed_input_size(const fq_graph *graph, int *width, int *height)
{
    const fq_value *in = &graph->values[graph->inputs[0]];
    bool fixed = in->shape.dims[2] > 0 && in->shape.dims[3] > 0 &&
                 in->shape.dims[2] <= FQ_IMAGE_MAX_SIDE && in->shape.dims[3] <= FQ_IMAGE_MAX_SIDE;
    *width = fixed ? (int)in->shape.dims[3] : 0;
    *height = fixed ? (int)in->shape.dims[2] : 0;
}

/* Fixes the input at width x height (both 0: the file's fixed size, else the default), runs the
 * passes and plans the session. */
static fq_status model_prepare(face_model *model, const char *path, int width, int height,
                               fq_error *err)
{
    if (model->passed) {
        int fixed_width, fixed_height;
        fixed_input_size(model->graph, &fixed_width, &fixed_height);
        if ((width != 0 || height != 0) && (width != fixed_width || height != fixed_height))
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: this .fqm file was converted at "
                                "%dx%d and cannot run at %dx%d; convert the ONNX model again "
                                "with --input-size %dx%d", path, fixed_width, fixed_height,
                                width, height, width, height);
        width = fixed_width;
        height = fixed_height;
    }
    if (width == 0 && height == 0)
        fixed_input_size(model->graph, &width, &height);
    if (width == 0 && height == 0)
        width = height = DEFAULT_DETECTOR_SIZE;
    if (width < 1 || height < 1 || width > FQ_IMAGE_MAX_SIDE || height > FQ_IMAGE_MAX_SIDE)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: input size %dx%d out of range", path,
                            width, height);

    fq_input_size size = {width, height, 1};
    fq_status status = model->passed ? FQ_OK : fq_passes_run(model->graph, &size, err);
    if (status == FQ_OK)
        status = fq_session_create(model->graph, NULL, &model->session, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);
    model->width = width;
    model->height = height;
    return FQ_OK;
}

/* An ONNX or an .fqm file, told by its first bytes. A build with -Dfiles=false reads no files:
 * the service refuses model paths there. */
static fq_status read_model_file(const char *path, face_model *model, fq_error *err)
{
#if defined(FQ_HAVE_FILES)
    unsigned char magic[FQ_FQM_MAGIC_SIZE];
    size_t got = 0;
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
        got = fread(magic, 1, sizeof(magic), f);
        fclose(f);
    }
    model->passed = fq_fqm_is_fqm(magic, got);
    if (model->passed)
        return fq_fqm_read_file(path, NULL, &model->graph, NULL, NULL, err);
    return fq_onnx_read_file(path, &model->graph, err);
#else
    (void)model;
    return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: this build of facequant reads no files "
                        "(-Dfiles=false)", path);
#endif
}

/* YuNet lists 12 outputs, 6 of them [N, 1] (cls and obj per stride); SCRFD has one [N, 1] per
 * stride. */
static fq_detector_family infer_family(const fq_graph *graph)
{
    int ones = 0;
    for (int i = 0; i < graph->n_outputs; i++) {
        const fq_shape *s = &graph->values[graph->outputs[i]].shape;
        ones += s->rank >= 2 && s->dims[s->rank - 1] == 1;
    }
    return graph->n_outputs == 12 && ones == 6 ? FQ_DETECTOR_YUNET : FQ_DETECTOR_SCRFD;
}

/* SCRFD and YuNet read feature maps at strides 8, 16 and 32 and upsample between them: a side
 * that is not a multiple of 32 gives maps whose anchors (or whose upsampled sums) do not line
 * up. 0 x 0 means the file's size or the default, checked once known. */
static fq_status check_detector_size(const char *path, int width, int height, fq_error *err)
{
    if ((width % 32) == 0 && (height % 32) == 0)
        return FQ_OK;
    int w_lo = width / 32 * 32, h_lo = height / 32 * 32;
    return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: a face detector cannot run at %dx%d: its "
                        "width and height must be multiples of 32 (such as %dx%d or %dx%d; "
                        "640x640 and 640x480 are common)", path, width, height,
                        w_lo > 0 ? w_lo : 32, h_lo > 0 ? h_lo : 32, w_lo + 32, h_lo + 32);
}

static fq_status load_detector(fq_face_service *service, const fq_face_service_options *opt,
                               fq_error *err)
{
    face_model *model = &service->detector;
    fq_status status = read_model_file(opt->detector_path, model, err);
    if (status == FQ_OK)
        status = check_image_input(model->graph, opt->detector_path, err);
    if (status != FQ_OK)
        return status;

    const fq_model_card *card = opt->detector_card;
    if (card != NULL && card->role != FQ_ROLE_DETECTOR)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "detector card '%s' is a recognizer card",
                            card->name);
    int width = opt->detector_width, height = opt->detector_height;
    if (width == 0 && height == 0 && card != NULL) {
        width = card->input_width;
        height = card->input_height;
    }
    status = check_detector_size(opt->detector_path, width, height, err);
    if (status == FQ_OK)
        status = model_prepare(model, opt->detector_path, width, height, err);
    if (status != FQ_OK)
        return status;

    if (card != NULL)
        service->detector_card = *card;
    else
        fq_model_card_defaults(FQ_ROLE_DETECTOR, infer_family(model->graph),
                               &service->detector_card);
    service->detector_card.input_width = model->width;
    service->detector_card.input_height = model->height;
    service->detector_outputs = fq_calloc((size_t)model->graph->n_outputs, sizeof(fq_tensor));
    if (service->detector_outputs == NULL && model->graph->n_outputs > 0)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "%s: out of memory", opt->detector_path);
    return FQ_OK;
}

static fq_status check_embedding_output(fq_face_service *service, const char *path,
                                        fq_error *err)
{
    const fq_graph *graph = service->recognizer.graph;
    if (graph->n_outputs < 1)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: the recognizer has no output", path);
    const fq_value *out = &graph->values[graph->outputs[0]];
    int64_t n = fq_shape_numel(&out->shape);
    if (out->dtype != FQ_DTYPE_F32 || n < 1 || n > 65536)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: output '%s' is not an f32 embedding "
                            "of 1 to 65536 values", path, out->name);
    int wanted = service->recognizer_card.embedding_size;
    if (wanted > 0 && wanted != n)
        return fq_error_set(err, FQ_ERR_SHAPE, "%s: the card says embedding_size %d, output "
                            "'%s' has %lld values", path, wanted, out->name, (long long)n);
    service->embedding_size = (int)n;
    service->recognizer_card.embedding_size = (int)n;
    return FQ_OK;
}

static fq_status load_recognizer(fq_face_service *service, const fq_face_service_options *opt,
                                 fq_error *err)
{
    fq_model_card *card = &service->recognizer_card;
    if (opt->recognizer_card != NULL)
        *card = *opt->recognizer_card;
    else
        fq_model_card_defaults(FQ_ROLE_RECOGNIZER, FQ_DETECTOR_SCRFD, card);
    if (card->role != FQ_ROLE_RECOGNIZER)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "recognizer card '%s' is a detector card",
                            card->name);
    if (card->input_width == 0 && card->input_height == 0)
        card->input_width = card->input_height = 112;
    /* Alignment cuts square crops. */
    if (card->input_width != card->input_height)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "recognizer card '%s': input %dx%d is not "
                            "square", card->name, card->input_width, card->input_height);

    face_model *model = &service->recognizer;
    fq_status status = read_model_file(opt->recognizer_path, model, err);
    if (status == FQ_OK)
        status = check_image_input(model->graph, opt->recognizer_path, err);
    if (status == FQ_OK)
        status = model_prepare(model, opt->recognizer_path, card->input_width,
                               card->input_height, err);
    if (status == FQ_OK)
        status = check_embedding_output(service, opt->recognizer_path, err);
    return status;
}

fq_status fq_face_service_create(const fq_face_service_options *options,
                                 fq_face_service **out, fq_error *err)
{
    if (options == NULL || out == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_service_create: NULL argument");
    *out = NULL;
    if (options->detector_width < 0 || options->detector_height < 0 ||
        (options->detector_width == 0) != (options->detector_height == 0))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_service_create: detector size "
                            "%dx%d; give both or neither", options->detector_width,
                            options->detector_height);

    fq_face_service *service = fq_calloc(1, sizeof(*service));
    if (service == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "fq_face_service_create: out of memory");
    fq_status status = FQ_OK;
    if (options->detector_path != NULL)
        status = load_detector(service, options, err);
    if (status == FQ_OK && options->recognizer_path != NULL)
        status = load_recognizer(service, options, err);
    if (status != FQ_OK) {
        fq_face_service_free(service);
        return status;
    }
    *out = service;
    return FQ_OK;
}

void fq_face_service_free(fq_face_service *service)
{
    if (service == NULL)
        return;
    model_free(&service->detector);
    model_free(&service->recognizer);
    fq_free(service->detector_outputs);
    fq_free(service);
}

const fq_model_card *fq_face_service_detector_card(const fq_face_service *service)
{
    return service != NULL && service->detector.session != NULL ? &service->detector_card : NULL;
}

const fq_model_card *fq_face_service_recognizer_card(const fq_face_service *service)
{
    return service != NULL && service->recognizer.session != NULL ? &service->recognizer_card
                                                                   : NULL;
}

int fq_face_service_embedding_size(const fq_face_service *service)
{
    return service != NULL ? service->embedding_size : 0;
}

/* Writes an RGB image of the model's input size into the session's input as a normalized
 * tensor and runs the model. */
static fq_status run_on_image(face_model *model, const fq_image *rgb,
                              const fq_normalization *norm, fq_error *err)
{
    fq_tensor input;
    fq_status status = fq_session_input(model->session, 0, &input, err);
    if (status != FQ_OK)
        return status;
    if (input.dtype != FQ_DTYPE_F32 ||
        fq_shape_numel(&input.shape) != 3 * (int64_t)model->width * model->height)
        return fq_error_set(err, FQ_ERR_INTERNAL, "model input is not 1x3x%dx%d f32",
                            model->height, model->width);
    status = fq_image_to_tensor(rgb, norm, input.data, err);
    if (status == FQ_OK)
        status = fq_session_run(model->session, err);
    return status;
}

static fq_status detector_outputs(fq_face_service *service, fq_error *err)
{
    for (int i = 0; i < service->detector.graph->n_outputs; i++) {
        fq_status status = fq_session_output(service->detector.session, i,
                                             &service->detector_outputs[i], err);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

/* Runs the detector on the letterboxed image and decodes, suppresses and maps the faces. */
static fq_status detect_letterboxed(fq_face_service *service, const fq_image *boxed,
                                    const fq_letterbox *info, const fq_detect_options *options,
                                    fq_face **faces, int *count, fq_error *err)
{
    const fq_model_card *card = &service->detector_card;
    float score = options != NULL && options->score_threshold > 0.0f
                      ? options->score_threshold : card->score_threshold;
    float iou = options != NULL && options->nms_threshold > 0.0f ? options->nms_threshold
                                                                 : card->nms_threshold;
    int max_faces = options != NULL ? options->max_faces : 0;

    face_model *model = &service->detector;
    fq_status status = run_on_image(model, boxed, &card->norm, err);
    if (status == FQ_OK)
        status = detector_outputs(service, err);
    if (status == FQ_OK)
        status = fq_detect_decode(card->family, service->detector_outputs,
                                  model->graph->n_outputs, model->width, model->height, score,
                                  faces, count, err);
    if (status != FQ_OK)
        return status;

    *count = fq_nms(*faces, *count, iou, card->family == FQ_DETECTOR_SCRFD, max_faces);
    fq_faces_unletterbox(*faces, *count, info);
    if (*count == 0) {
        fq_free(*faces);
        *faces = NULL;
    }
    return FQ_OK;
}

fq_status fq_face_service_detect(fq_face_service *service, const fq_image *image,
                                 const fq_detect_options *options, fq_face **faces, int *count,
                                 fq_error *err)
{
    if (service == NULL || image == NULL || faces == NULL || count == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_service_detect: NULL argument");
    *faces = NULL;
    *count = 0;
    if (service->detector.session == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_service_detect: the service has "
                            "no detector");

    fq_image rgb = {0}, boxed = {0};
    fq_letterbox info;
    fq_status status = fq_image_to_rgb(image, &rgb, err);
    if (status == FQ_OK)
        status = fq_image_letterbox(&rgb, service->detector.width, service->detector.height,
                                    &boxed, &info, err);
    if (status == FQ_OK)
        status = detect_letterboxed(service, &boxed, &info, options, faces, count, err);
    fq_image_free(&boxed);
    fq_image_free(&rgb);
    if (status != FQ_OK) {
        fq_free(*faces);
        *faces = NULL;
        *count = 0;
        return fq_error_prefix(err, status, "face detection");
    }
    return FQ_OK;
}

/* Runs the recognizer on an RGB crop of its input size. */
static fq_status embed_rgb(fq_face_service *service, const fq_image *crop, float *embedding,
                           fq_error *err)
{
    face_model *model = &service->recognizer;
    if (crop->width != model->width || crop->height != model->height)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "aligned crop is %dx%d, the recognizer "
                            "takes %dx%d", crop->width, crop->height, model->width,
                            model->height);
    fq_status status = run_on_image(model, crop, &service->recognizer_card.norm, err);
    fq_tensor out;
    if (status == FQ_OK)
        status = fq_session_output(model->session, 0, &out, err);
    if (status != FQ_OK)
        return status;
    memcpy(embedding, out.data, (size_t)service->embedding_size * sizeof(float));
    fq_l2_normalize(embedding, service->embedding_size);
    return FQ_OK;
}

static fq_status check_recognizer(const fq_face_service *service, const void *a, const void *b,
                                  const char *where, fq_error *err)
{
    if (service == NULL || a == NULL || b == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: NULL argument", where);
    if (service->recognizer.session == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: the service has no recognizer", where);
    return FQ_OK;
}

fq_status fq_face_service_embed_aligned(fq_face_service *service, const fq_image *crop,
                                        float *embedding, fq_error *err)
{
    fq_status status = check_recognizer(service, crop, embedding,
                                        "fq_face_service_embed_aligned", err);
    if (status != FQ_OK)
        return status;

    fq_image rgb = {0};
    status = fq_image_to_rgb(crop, &rgb, err);
    if (status == FQ_OK)
        status = embed_rgb(service, &rgb, embedding, err);
    fq_image_free(&rgb);
    return status;
}

fq_status fq_face_service_embed(fq_face_service *service, const fq_image *image,
                                const fq_face *face, float *embedding, fq_error *err)
{
    fq_status status = check_recognizer(service, image, embedding, "fq_face_service_embed",
                                        err);
    if (status != FQ_OK)
        return status;
    if (face == NULL || !face->has_kps)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_service_embed: the face has no "
                            "landmarks to align it by");

    fq_image rgb = {0}, crop = {0};
    status = fq_image_to_rgb(image, &rgb, err);
    if (status == FQ_OK)
        status = fq_face_align(&rgb, face->kps, service->recognizer.width, &crop, err);
    if (status == FQ_OK)
        status = embed_rgb(service, &crop, embedding, err);
    fq_image_free(&crop);
    fq_image_free(&rgb);
    return status;
}
