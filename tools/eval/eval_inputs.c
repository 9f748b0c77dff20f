/* Inputs from a folder of photos or .npy files. */
#include <stdio.h>
#include <string.h>

#include "eval/eval_inputs.h"

static bool is_npy_name(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcmp(name + len - 4, ".npy") == 0;
}

/* Keeps only the .npy names of the folder's files. */
static fq_status list_npy(fq_eval_inputs *in, fq_error *err)
{
    char **names;
    int count;
    fq_status status = fq_tool_list_dir(in->dir, false, &names, &count, err);
    if (status != FQ_OK)
        return status;
    int kept = 0;
    for (int i = 0; i < count; i++) {
        if (is_npy_name(names[i]))
            names[kept++] = names[i];
        else
            fq_free(names[i]);
    }
    in->npy_names = names;
    in->n_npy = kept;
    in->npy = kept > 0;
    return FQ_OK;
}

static fq_status open_photos(const char *cmd, fq_eval_inputs *in, fq_error *err)
{
    fq_status status = fq_calib_images_scan(in->dir, &in->images, err);
    if (status != FQ_OK)
        return status;
    if (in->pre.geometry == FQ_PREPROCESS_ALIGNED_FACE) {
        status = fq_tool_pipeline_open(cmd, FQ_TOOL_DEFAULT_DETECTOR, NULL, NULL, &in->detector,
                                       err);
        if (status != FQ_OK)
            return fq_error_prefix(err, status, "the detector that cuts face crops");
        in->detector_open = true;
    }
    fq_eval_inputs_rewind(in);
    return FQ_OK;
}

fq_status fq_eval_inputs_open(const char *cmd, const char *dir, const fq_preprocess *pre,
                              fq_eval_inputs *inputs, fq_error *err)
{
    memset(inputs, 0, sizeof(*inputs));
    inputs->pre = *pre;
    snprintf(inputs->log_prefix, sizeof(inputs->log_prefix), "fq %s", cmd);
    if (snprintf(inputs->dir, sizeof(inputs->dir), "%s", dir) >= (int)sizeof(inputs->dir))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "input folder name too long");
    if (!fq_tool_is_dir(dir))
        return fq_error_set(err, FQ_ERR_IO, "the input folder '%s' does not exist", dir);

    fq_status status = list_npy(inputs, err);
    if (status == FQ_OK && !inputs->npy)
        status = open_photos(cmd, inputs, err);
    if (status != FQ_OK)
        fq_eval_inputs_close(inputs);
    else
        fprintf(stderr, "fq %s: %d %s in %s\n", cmd, fq_eval_inputs_files(inputs),
                inputs->npy ? ".npy inputs" : "photos", dir);
    return status;
}

void fq_eval_inputs_close(fq_eval_inputs *inputs)
{
    fq_tool_free_names(inputs->npy_names, inputs->n_npy);
    fq_calib_images_free(&inputs->images);
    if (inputs->detector_open)
        fq_tool_pipeline_close(&inputs->detector);
    memset(inputs, 0, sizeof(*inputs));
}

int fq_eval_inputs_files(const fq_eval_inputs *inputs)
{
    return inputs->npy ? inputs->n_npy : inputs->images.count;
}

void fq_eval_inputs_rewind(fq_eval_inputs *inputs)
{
    inputs->given = 0;
    inputs->next_npy = 0;
    if (inputs->npy)
        return;
    fq_calib_source_init(&inputs->source, &inputs->images, &inputs->pre,
                         inputs->detector_open ? inputs->detector.service : NULL, 0);
    inputs->source.progress = false;
    inputs->source.log_prefix = inputs->log_prefix;
}

static fq_status npy_input(fq_eval_inputs *in, fq_tensor *input, fq_error *err)
{
    char path[FQ_TOOL_PATH_SIZE];
    const char *name = in->npy_names[in->next_npy++];
    if (!fq_tool_join_path(in->dir, name, path, sizeof(path)))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "path of '%s' too long", name);
    fq_npy npy = {0};
    fq_status status = fq_npy_read_file(path, &npy, err);
    if (status != FQ_OK)
        return status;
    int64_t want = fq_shape_numel(&input->shape);
    if (npy.dtype != FQ_DTYPE_F32 || fq_shape_numel(&npy.shape) != want)
        status = fq_error_set(err, FQ_ERR_SHAPE, "%s: %s with %lld elements; the model's input "
                              "takes f32 with %lld", path, fq_dtype_name(npy.dtype),
                              (long long)fq_shape_numel(&npy.shape), (long long)want);
    else
        memcpy(input->data, npy.data, npy.size);
    fq_npy_free(&npy);
    return status;
}

fq_status fq_eval_inputs_next(fq_eval_inputs *inputs, fq_session *session, bool *more,
                              fq_error *err)
{
    *more = false;
    fq_tensor input;
    fq_status status = fq_session_input(session, 0, &input, err);
    if (status != FQ_OK)
        return status;
    if (input.dtype != FQ_DTYPE_F32)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "the model's input is %s; real inputs "
                            "are f32", fq_dtype_name(input.dtype));

    if (inputs->npy) {
        if (inputs->next_npy == inputs->n_npy)
            return FQ_OK;
        status = npy_input(inputs, &input, err);
        *more = status == FQ_OK;
    } else {
        status = fq_calib_source_feed(&inputs->source, inputs->given, &input, 1, more, err);
    }
    if (*more)
        inputs->given++;
    return status;
}
