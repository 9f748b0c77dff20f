/* Real inputs for fq bench, fq eval and fq compare from a folder: either .npy files (the folder
 * holds at least one; each is one input of the model's first graph input, sorted by name) or
 * photos (the folder walked recursively as fq calibrate walks it, each photo preprocessed as the
 * model's descriptor says; recognizers get the aligned crop of the largest face the default
 * detector finds, and images already at the input size are taken as crops). */
#ifndef FQ_TOOLS_EVAL_EVAL_INPUTS_H
#define FQ_TOOLS_EVAL_EVAL_INPUTS_H

#include <stdbool.h>

#include "calib/calib_images.h"
#include "face_common.h"
#include "facequant/fq.h"

typedef struct fq_eval_inputs {
    char dir[FQ_TOOL_PATH_SIZE];
    bool npy;
    char **npy_names;           /* sorted .npy file names in dir */
    int n_npy;
    int next_npy;
    fq_calib_image_list images;
    fq_preprocess pre;
    fq_tool_pipeline detector;  /* for recognizers' face crops */
    bool detector_open;
    fq_calib_source source;
    int given;                  /* inputs given since the last rewind */
    char log_prefix[32];        /* "fq CMD", for messages about skipped files */
} fq_eval_inputs;

/* Opens the inputs of dir for a model preprocessed by pre. cmd names the command in messages. */
fq_status fq_eval_inputs_open(const char *cmd, const char *dir, const fq_preprocess *pre,
                              fq_eval_inputs *inputs, fq_error *err);
void fq_eval_inputs_close(fq_eval_inputs *inputs);

/* Files found (photos or .npy); photos without a face are skipped when they come up. */
int fq_eval_inputs_files(const fq_eval_inputs *inputs);

/* Writes the next input into the session's first graph input (which must be the only one, and
 * f32); *more is false when there is none left. */
fq_status fq_eval_inputs_next(fq_eval_inputs *inputs, fq_session *session, bool *more,
                              fq_error *err);

/* Starts again from the first input. */
void fq_eval_inputs_rewind(fq_eval_inputs *inputs);

#endif
