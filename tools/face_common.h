/* What the face commands (detect, enroll, recognize, verify, gallery) share: finding models and
 * their cards, opening a detector and a recognizer together, embedding a photo, paths, JSON. */
#ifndef FQ_TOOLS_FACE_COMMON_H
#define FQ_TOOLS_FACE_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "facequant/fq.h"
#include "gallery/gallery.h"

#define FQ_TOOL_PATH_SIZE 4096
#define FQ_TOOL_DEFAULT_DETECTOR "det_500m"
#define FQ_TOOL_DEFAULT_RECOGNIZER "mobilefacenet_128d"

/* The lookup order of models and cards, for the commands' --help. */
extern const char fq_tool_model_lookup_help[];

/* Resolves a model name (det_500m) or path (ends in .onnx or holds a '/') to an existing file.
 * A name is looked for as NAME.onnx in each model folder and in its subfolders (where
 * models/fetch-pack.sh unpacks packs). When nothing is found the message lists the models that
 * exist. */
fq_status fq_tool_find_model(const char *name, char *path, size_t size, fq_error *err);

/* The file name of a model without folder and .onnx: its card's stem. */
void fq_tool_model_stem(const char *name_or_path, char *stem, size_t size);

/* Reads the card models/cards/STEM.card; *found is false (and card untouched) when there is
 * none, an error when one exists and is malformed. */
fq_status fq_tool_find_card(const char *stem, fq_model_card *card, bool *found, fq_error *err);

/* The card of a model file: the one named by an .fqm file's "card" metadata (meta may be NULL),
 * else the card of its stem, else the defaults of its role (one graph output makes a
 * recognizer), with a note on stderr prefixed by "fq CMD". */
fq_status fq_tool_model_card(const char *cmd, const char *path, const fq_graph *graph,
                             const fq_fqm_meta *meta, int n_meta, fq_model_card *card,
                             fq_error *err);

/* A face service with what the commands report about its models. */
typedef struct fq_tool_pipeline {
    fq_face_service *service;
    char detector_path[FQ_TOOL_PATH_SIZE];
    char recognizer_path[FQ_TOOL_PATH_SIZE];
    bool detector_card_found;
    bool recognizer_card_found;
    fq_gallery_model recognizer; /* name, checksum and embedding size, when there is one */
} fq_tool_pipeline;

/* Opens the named detector and recognizer (either may be NULL) with their cards; size (may be
 * NULL or 0x0) overrides the detector's input size. Prints which files are used on stderr. */
fq_status fq_tool_pipeline_open(const char *cmd, const char *detector, const char *recognizer,
                                const fq_input_size *size, fq_tool_pipeline *pipeline,
                                fq_error *err);
void fq_tool_pipeline_close(fq_tool_pipeline *pipeline);

/* The recognizer's match threshold (cosine similarity) from its card or the defaults. */
float fq_tool_match_threshold(const fq_tool_pipeline *pipeline);

/* Whether an image is already an aligned crop: exactly the recognizer's input size. */
bool fq_tool_is_aligned_crop(const fq_tool_pipeline *pipeline, const fq_image *rgb);

/* The embedding of a photo's largest face, or of the whole image when it is an aligned crop.
 * *found is false when no face is detected; face (may be NULL) receives the face used. */
fq_status fq_tool_embed_photo(fq_tool_pipeline *pipeline, const fq_image *rgb, float *embedding,
                              bool *found, fq_face *face, fq_error *err);

/* Index of the face with the largest box, -1 when count is 0. */
int fq_tool_largest_face(const fq_face *faces, int count);

bool fq_tool_is_dir(const char *path);
bool fq_tool_is_file(const char *path);
/* dir/name, or name alone when it is absolute or dir is empty; false when it does not fit. */
bool fq_tool_join_path(const char *dir, const char *name, char *out, size_t size);
/* The folder part of a path ("." for a bare file name). */
void fq_tool_dirname(const char *path, char *out, size_t size);

/* Sorted names of the entries of a folder that are folders (dirs true) or regular files,
 * skipping names that start with '.'. Free with fq_tool_free_names. */
fq_status fq_tool_list_dir(const char *path, bool dirs, char ***names, int *count,
                           fq_error *err);
void fq_tool_free_names(char **names, int count);

/* A face as the JSON object {"box": [..4], "score": S, "kps": [[x, y] x 5]} in pixels rounded to
 * 0.01 (kps only when the detector gives landmarks); NULL when out of memory. */
cJSON *fq_tool_face_json(const fq_face *face);
/* A number rounded to the given number of decimals, so the JSON stays short. */
cJSON *fq_tool_json_number(double value, int decimals);
/* Prints a JSON document and a newline on stdout; false when out of memory. */
bool fq_tool_print_json(const cJSON *root);

#endif
