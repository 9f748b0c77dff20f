/* A model as fq bench, fq eval and fq compare load it: an .onnx or .fqm file read, passed (ONNX)
 * and planned into a session, with the load time, the file size and the descriptor saying what
 * the model is (detector, recognizer or other) and how photos become its input: the .fqm
 * metadata when it holds the preprocessing, else the model card, else the defaults of face.h
 * for the role the outputs suggest. */
#ifndef FQ_TOOLS_EVAL_EVAL_MODEL_H
#define FQ_TOOLS_EVAL_EVAL_MODEL_H

#include <stdbool.h>

#include "face_common.h"
#include "facequant/fq.h"

typedef enum fq_eval_kind {
    FQ_EVAL_OTHER = 0,      /* outputs compared as tensors only */
    FQ_EVAL_DETECTOR,       /* outputs decoded into faces too */
    FQ_EVAL_RECOGNIZER      /* the first output is an embedding */
} fq_eval_kind;

typedef struct fq_eval_load_options {
    const char *cmd;        /* "eval", for messages on stderr */
    fq_input_size size;     /* 0x0: the card's, else the file's, else 640x640 when dynamic */
    int threads;
    fq_isa isa;
    bool fp16_arithmetic;   /* fq_session_options.fp16_arithmetic */
} fq_eval_load_options;

typedef struct fq_eval_model {
    char path[FQ_TOOL_PATH_SIZE];
    bool is_fqm;
    long long file_bytes;
    fq_graph *graph;
    fq_session *session;
    double read_ms;          /* reading the file */
    double load_ms;          /* reading, passes and session creation */
    fq_eval_kind kind;
    fq_model_card card;      /* the card, or the defaults of the kind */
    const char *descriptor;  /* where card and preprocessing come from: "metadata", "card" or
                                "defaults" */
    fq_preprocess pre;       /* width and height: the input size the session runs at */
} fq_eval_model;

/* Resolves path_or_name (a file, or a model name as fq detect takes it), loads and plans it.
 * On failure the model is left empty (fq_eval_model_free is harmless). */
fq_status fq_eval_model_load(const char *path_or_name, const fq_eval_load_options *options,
                             fq_eval_model *model, fq_error *err);
void fq_eval_model_free(fq_eval_model *model);

const char *fq_eval_kind_name(fq_eval_kind kind);

/* Refuses a test model whose graph inputs or outputs differ from the reference's in count,
 * dtype or shape; outputs must be f32. Different names are allowed (a note goes to stderr). */
fq_status fq_eval_check_same_io(const fq_eval_model *ref, const fq_eval_model *test,
                                const char *cmd, fq_error *err);

/* Fills every f32 input with values uniform in [-1, 1) from seed, other inputs with zeros. */
fq_status fq_eval_fill_random(fq_eval_model *model, unsigned long long seed, fq_error *err);

/* Copies the graph inputs of src (filled, not yet run: a run may reuse input memory for other
 * values) into dst, which has the same inputs. */
fq_status fq_eval_copy_inputs(const fq_eval_model *src, fq_eval_model *dst, fq_error *err);

/* A copy of a model's graph inputs, to give every timed run the same input. */
typedef struct fq_eval_saved_inputs {
    int count;
    void **data;
    size_t *bytes;
} fq_eval_saved_inputs;

/* Copies the model's graph inputs (filled, not yet run) into saved. */
fq_status fq_eval_save_inputs(const fq_eval_model *model, fq_eval_saved_inputs *saved,
                              fq_error *err);
/* Writes saved back into the graph inputs of a model with the same inputs. */
fq_status fq_eval_restore_inputs(const fq_eval_saved_inputs *saved, fq_eval_model *model,
                                 fq_error *err);
void fq_eval_saved_inputs_free(fq_eval_saved_inputs *saved);

/* Decodes the detector's outputs of the last run with the card's family and thresholds and
 * suppresses overlaps as fq detect does; faces in the model's input pixels, best score first;
 * *faces freed with fq_free. */
fq_status fq_eval_detect(const fq_eval_model *model, fq_face **faces, int *count,
                         fq_error *err);

#endif
