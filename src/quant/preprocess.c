/* Preprocessing descriptors: how a photo becomes the input tensor of a model family. */
#include "facequant/alloc.h"
#include "facequant/calibrate.h"

#define DEFAULT_DETECTOR_SIZE 640
#define DEFAULT_RECOGNIZER_SIZE 112

void fq_preprocess_from_card(const fq_model_card *card, fq_preprocess *pre)
{
    bool detector = card->role == FQ_ROLE_DETECTOR;
    int fallback = detector ? DEFAULT_DETECTOR_SIZE : DEFAULT_RECOGNIZER_SIZE;
    bool sized = card->input_width > 0 && card->input_height > 0;
    pre->geometry = detector ? FQ_PREPROCESS_LETTERBOX : FQ_PREPROCESS_ALIGNED_FACE;
    pre->width = sized ? card->input_width : fallback;
    pre->height = sized ? card->input_height : fallback;
    pre->norm = card->norm;
}

/* The image at the input size by the descriptor's geometry, into a new image. */
static fq_status fit_image(const fq_preprocess *pre, const fq_image *rgb, fq_image *fitted,
                           fq_error *err)
{
    if (pre->geometry == FQ_PREPROCESS_LETTERBOX) {
        fq_letterbox info;
        return fq_image_letterbox(rgb, pre->width, pre->height, fitted, &info, err);
    }
    return fq_image_resize(rgb, pre->width, pre->height, fitted, err);
}

fq_status fq_preprocess_image(const fq_preprocess *pre, const fq_image *rgb, float *out,
                              fq_error *err)
{
    if (rgb->format != FQ_PIXEL_RGB)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "preprocessing takes an RGB image");
    if (pre->width < 1 || pre->height < 1 || pre->width > FQ_IMAGE_MAX_SIDE ||
        pre->height > FQ_IMAGE_MAX_SIDE)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "preprocessing to %dx%d: size out of "
                            "range", pre->width, pre->height);
    if (rgb->width == pre->width && rgb->height == pre->height)
        return fq_image_to_tensor(rgb, &pre->norm, out, err);

    fq_image fitted = {0};
    fq_status status = fit_image(pre, rgb, &fitted, err);
    if (status == FQ_OK)
        status = fq_image_to_tensor(&fitted, &pre->norm, out, err);
    fq_image_free(&fitted);
    return status;
}
