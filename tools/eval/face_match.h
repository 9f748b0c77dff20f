/* Whether a detector finds the faces a reference detector finds: each reference face is matched
 * to the unmatched test face of highest IoU, when that IoU is at least FQ_FACE_MATCH_IOU. */
#ifndef FQ_TOOLS_EVAL_FACE_MATCH_H
#define FQ_TOOLS_EVAL_FACE_MATCH_H

#include "facequant/fq.h"

#define FQ_FACE_MATCH_IOU 0.5f

typedef struct fq_face_agreement {
    int reference_faces;
    int matched;                /* reference faces the test detector found */
    int extra;                  /* test faces matching no reference face */
    int landmark_faces;         /* matched faces with landmarks on both sides */
    double landmark_error_sum;  /* per such face: mean landmark distance / reference box width */
    double iou_sum;             /* over matched faces */
} fq_face_agreement;

/* IoU of two boxes (x1, y1, x2, y2); 0 when either is empty. */
float fq_face_iou(const fq_face *a, const fq_face *b);

/* Matches the faces of one image (reference faces in order, best score first). */
fq_status fq_face_agreement_add(fq_face_agreement *agreement, const fq_face *ref, int n_ref,
                                const fq_face *test, int n_test, fq_error *err);

/* Share of reference faces found, in [0, 1] (1 when there was none). */
double fq_face_agreement_recall(const fq_face_agreement *agreement);
/* Mean landmark error in percent of the box width (0 when no face had landmarks). */
double fq_face_agreement_landmark_percent(const fq_face_agreement *agreement);

#endif
