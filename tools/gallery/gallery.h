/* Galleries: the embeddings of known people, kept in one SQLite file.
 *
 * A gallery records which recognizer made its embeddings (name, checksum of the ONNX bytes,
 * embedding size) and refuses embeddings from any other model. Each person is added in one
 * transaction, so a crash or an interrupted enrollment never leaves half of a person behind.
 *
 * Schema version 1 (PRAGMA user_version = 1):
 *   meta(key TEXT PRIMARY KEY, value TEXT): embedding_size, recognizer, recognizer_checksum,
 *       created (UTC, ISO 8601)
 *   people(id INTEGER PRIMARY KEY, name TEXT UNIQUE)
 *   embeddings(id INTEGER PRIMARY KEY, person_id INTEGER, vector BLOB, source TEXT): vector holds
 *       embedding_size little-endian IEEE-754 floats
 */
#ifndef FQ_TOOLS_GALLERY_H
#define FQ_TOOLS_GALLERY_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/status.h"

#define FQ_GALLERY_SCHEMA_VERSION 1
#define FQ_GALLERY_MAX_EMBEDDING 4096

typedef struct fq_gallery fq_gallery;

/* The recognizer a gallery's embeddings come from. */
typedef struct fq_gallery_model {
    char recognizer[64];     /* model name, such as mobilefacenet_128d */
    char checksum[64];       /* fq_gallery_checksum of the model file's bytes */
    int embedding_size;
} fq_gallery_model;

typedef struct fq_gallery_person {
    int64_t id;
    char *name;
    int embeddings;
} fq_gallery_person;

/* Every embedding of a gallery in memory, for matching: row i of vectors (size floats) belongs
 * to names[person[i]]. */
typedef struct fq_gallery_set {
    int count;
    int size;
    float *vectors;
    int *person;
    char **names;
    int n_people;
} fq_gallery_set;

/* Checksum of a model file's bytes as text: "fnv1a64:" and 16 hex digits. */
void fq_gallery_checksum(const void *data, size_t size, char out[64]);
fq_status fq_gallery_checksum_file(const char *path, char out[64], fq_error *err);

/* Opens a gallery. With model, a missing file is created and records model; an existing gallery
 * is opened whatever its model (fq_gallery_check_model tells whether they agree). Without model,
 * the file must already be a gallery. */
fq_status fq_gallery_open(const char *path, const fq_gallery_model *model, fq_gallery **out,
                          fq_error *err);
void fq_gallery_close(fq_gallery *gallery);

/* The model recorded in the gallery, and when it was created (UTC, ISO 8601). */
const fq_gallery_model *fq_gallery_model_of(const fq_gallery *gallery);
const char *fq_gallery_created(const fq_gallery *gallery);

/* FQ_ERR_INVALID_ARG naming the gallery and both models when model is not the gallery's. */
fq_status fq_gallery_check_model(const fq_gallery *gallery, const fq_gallery_model *model,
                                 fq_error *err);

/* Adds count embeddings (count x model->embedding_size floats) to the person called name,
 * creating the person if new, in one transaction: on any error nothing is written. sources
 * (may be NULL, or hold NULL entries) names the image of each embedding. */
fq_status fq_gallery_add(fq_gallery *gallery, const char *name, const fq_gallery_model *model,
                         const float *embeddings, int count, const char *const *sources,
                         fq_error *err);

/* Whether a person of that name is in the gallery. */
fq_status fq_gallery_has_person(fq_gallery *gallery, const char *name, int *found, fq_error *err);

/* Removes a person and their embeddings; FQ_ERR_INVALID_ARG when there is no such person. */
fq_status fq_gallery_remove(fq_gallery *gallery, const char *name, fq_error *err);

/* People sorted by name with their embedding counts; free with fq_gallery_people_free. */
fq_status fq_gallery_list(fq_gallery *gallery, fq_gallery_person **people, int *count,
                          fq_error *err);
void fq_gallery_people_free(fq_gallery_person *people, int count);

/* Loads every embedding; free with fq_gallery_set_free. */
fq_status fq_gallery_load(fq_gallery *gallery, fq_gallery_set *set, fq_error *err);
void fq_gallery_set_free(fq_gallery_set *set);

#endif
