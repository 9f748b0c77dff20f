/* facequant: the face pipeline on pixel buffers. Detection (SCRFD and YuNet output decoding,
 * score threshold, NMS, mapping back to original pixels), 5-point alignment to the ArcFace
 * 112x112 template, embeddings, cosine matching against known people, model cards, and the
 * fq_face_service that ties a detector and a recognizer together.
 *
 * Nothing here decodes files or touches a database: photos come in as fq_image, galleries as
 * arrays of embeddings.
 */
#ifndef FACEQUANT_FACE_H
#define FACEQUANT_FACE_H

#include <stdbool.h>
#include <stddef.h>

#include "facequant/image.h"
#include "facequant/ir.h"
#include "facequant/ops.h"
#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One detected face in original image pixels. kps: 5 landmarks (left eye, right eye, nose,
 * left mouth corner, right mouth corner) as x, y pairs. */
typedef struct fq_face {
    float box[4];   /* x1, y1, x2, y2 */
    float score;
    float kps[10];
    bool has_kps;
} fq_face;

typedef enum fq_detector_family {
    FQ_DETECTOR_SCRFD = 0,
    FQ_DETECTOR_YUNET
} fq_detector_family;

typedef enum fq_model_role {
    FQ_ROLE_DETECTOR = 0,
    FQ_ROLE_RECOGNIZER
} fq_model_role;

/* A model card: how to feed a model and what its defaults are. Cards are text files of
 * `key = value` lines (models/cards/NAME.card); see fq_model_card_parse for the keys. */
typedef struct fq_model_card {
    char name[64];
    fq_model_role role;
    fq_detector_family family;      /* detectors */
    int input_width;                /* 0: dynamic (detectors default to 640x640) */
    int input_height;
    fq_normalization norm;
    float score_threshold;          /* detectors */
    float nms_threshold;            /* detectors */
    int embedding_size;             /* recognizers */
    float match_threshold;          /* recognizers: cosine similarity */
} fq_model_card;

/* Keys: name, role (detector|recognizer), family (scrfd|yunet), input_size (WxH or dynamic),
 * mean (one value or three), std (one or three), color (rgb|bgr), score_threshold,
 * nms_threshold, embedding_size, match_threshold. '#' starts a comment. Unknown keys and
 * malformed values are errors naming the line. Missing keys take the family defaults
 * (fq_model_card_defaults). */
fq_status fq_model_card_parse(const char *text, size_t size, fq_model_card *card,
                              fq_error *err);
/* Defaults of a role and family: SCRFD score 0.5, NMS 0.4, RGB, (x - 127.5) / 128; YuNet
 * score 0.6, NMS 0.3, BGR, raw 0..255; recognizers (x - 127.5) / 127.5, RGB, 112x112. */
void fq_model_card_defaults(fq_model_role role, fq_detector_family family, fq_model_card *card);

/* Detection decoding. outputs are a detector's graph outputs in graph order. SCRFD: per stride a
 * score [.., 1], box [.., 4] and optionally landmark [.., 10] tensor (3 or 5 strides, 1 or 2
 * anchors per cell, inferred from the shapes and the input size); YuNet: cls, obj, bbox, kps per
 * stride 8/16/32. Candidates at or above score_threshold are appended in the model's input
 * pixels; the caller owns *faces (fq_free). */
fq_status fq_detect_decode(fq_detector_family family, const fq_tensor *outputs, int n_outputs,
                           int input_width, int input_height, float score_threshold,
                           fq_face **faces, int *count, fq_error *err);

/* Greedy non-maximum suppression in place: sorts by score, drops faces overlapping a kept one by
 * more than iou_threshold. plus_one uses InsightFace's (x2 - x1 + 1) area convention. Keeps at
 * most max_faces when max_faces > 0. Returns the number kept. */
int fq_nms(fq_face *faces, int count, float iou_threshold, bool plus_one, int max_faces);

/* Maps faces from the letterboxed input back to original pixels (divides by the scale). */
void fq_faces_unletterbox(fq_face *faces, int count, const fq_letterbox *letterbox);

/* The ArcFace 112x112 landmark template, x, y pairs. */
extern const float fq_arcface_template[10];

/* Least-squares similarity transform (rotation, uniform scale, translation; Umeyama) mapping the
 * n points src onto dst, as the 2x3 matrix m (x' = m0 x + m1 y + m2, y' = m3 x + m4 y + m5). */
fq_status fq_similarity_transform(const float *src, const float *dst, int n, float m[6],
                                  fq_error *err);

/* Cuts the aligned size x size RGB crop of a face (size 112 for ArcFace models). */
fq_status fq_face_align(const fq_image *rgb, const float kps[10], int size, fq_image *crop,
                        fq_error *err);

void fq_l2_normalize(float *v, int n);
float fq_cosine_similarity(const float *a, const float *b, int n);

/* Best match of an L2-normalized embedding among count known ones (row-major, count x n):
 * *index is -1 when the best similarity is below threshold. */
void fq_match_embedding(const float *embedding, const float *known, int count, int n,
                        float threshold, int *index, float *similarity);

/* The face service: a detector and a recognizer, loaded, passed and planned once. One service
 * must not be used by two threads at once; create one per thread. */
typedef struct fq_face_service fq_face_service;

typedef struct fq_face_service_options {
    const char *detector_path;        /* ONNX file, or NULL for no detector */
    const fq_model_card *detector_card; /* NULL: inferred from the model's outputs */
    int detector_width;               /* input size; 0: from the card, else 640x640 */
    int detector_height;
    const char *recognizer_path;      /* ONNX file, or NULL for no recognizer */
    const fq_model_card *recognizer_card; /* NULL: ArcFace defaults */
} fq_face_service_options;

typedef struct fq_detect_options {
    float score_threshold;  /* <= 0: the card's */
    float nms_threshold;    /* <= 0: the card's */
    int max_faces;          /* 0: all */
} fq_detect_options;

fq_status fq_face_service_create(const fq_face_service_options *options,
                                 fq_face_service **out, fq_error *err);
void fq_face_service_free(fq_face_service *service);
const fq_model_card *fq_face_service_detector_card(const fq_face_service *service);
const fq_model_card *fq_face_service_recognizer_card(const fq_face_service *service);

/* Detects faces in an image of any pixel format; *faces (fq_free) in original pixels, sorted by
 * score. options may be NULL. */
fq_status fq_face_service_detect(fq_face_service *service, const fq_image *image,
                                 const fq_detect_options *options, fq_face **faces, int *count,
                                 fq_error *err);
/* Embedding of one face (aligned from its landmarks), L2-normalized, into embedding (the
 * recognizer's embedding_size floats). */
fq_status fq_face_service_embed(fq_face_service *service, const fq_image *image,
                                const fq_face *face, float *embedding, fq_error *err);
/* Embedding of an image that already is an aligned crop at the recognizer's input size. */
fq_status fq_face_service_embed_aligned(fq_face_service *service, const fq_image *crop,
                                        float *embedding, fq_error *err);
int fq_face_service_embedding_size(const fq_face_service *service);

#ifdef __cplusplus
}
#endif

#endif
