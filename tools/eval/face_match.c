/* Matching the faces of two detectors. */
#include <math.h>
#include <stdbool.h>

#include "eval/face_match.h"

float fq_face_iou(const fq_face *a, const fq_face *b)
{
    float w = fminf(a->box[2], b->box[2]) - fmaxf(a->box[0], b->box[0]);
    float h = fminf(a->box[3], b->box[3]) - fmaxf(a->box[1], b->box[1]);
    float area_a = (a->box[2] - a->box[0]) * (a->box[3] - a->box[1]);
    float area_b = (b->box[2] - b->box[0]) * (b->box[3] - b->box[1]);
    if (w <= 0.0f || h <= 0.0f || area_a <= 0.0f || area_b <= 0.0f)
        return 0.0f;
    float overlap = w * h;
    return overlap / (area_a + area_b - overlap);
}

/* Mean distance of the 5 landmarks over the reference box width. */
static double landmark_error(const fq_face *ref, const fq_face *test)
{
    double sum = 0.0;
    for (int k = 0; k < 5; k++) {
        double dx = ref->kps[2 * k] - test->kps[2 * k];
        double dy = ref->kps[2 * k + 1] - test->kps[2 * k + 1];
        sum += hypot(dx, dy);
    }
    double width = ref->box[2] - ref->box[0];
    return width > 0.0 ? sum / 5.0 / width : 0.0;
}

static int best_unmatched(const fq_face *face, const fq_face *test, int n_test,
                          const bool *taken, float *best_iou)
{
    int best = -1;
    *best_iou = 0.0f;
    for (int j = 0; j < n_test; j++) {
        float iou = taken[j] ? 0.0f : fq_face_iou(face, &test[j]);
        if (iou > *best_iou) {
            *best_iou = iou;
            best = j;
        }
    }
    return best;
}

fq_status fq_face_agreement_add(fq_face_agreement *agreement, const fq_face *ref, int n_ref,
                                const fq_face *test, int n_test, fq_error *err)
{
    if (n_ref < 0 || n_test < 0 || (n_ref > 0 && ref == NULL) || (n_test > 0 && test == NULL))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "face matching: %d and %d faces", n_ref,
                            n_test);
    bool *taken = fq_calloc((size_t)n_test + 1, sizeof(bool));
    if (taken == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "face matching: no memory for %d faces",
                            n_test);

    int matched = 0;
    for (int i = 0; i < n_ref; i++) {
        float iou;
        int j = best_unmatched(&ref[i], test, n_test, taken, &iou);
        if (j < 0 || iou < FQ_FACE_MATCH_IOU)
            continue;
        taken[j] = true;
        matched++;
        agreement->iou_sum += iou;
        if (ref[i].has_kps && test[j].has_kps) {
            agreement->landmark_error_sum += landmark_error(&ref[i], &test[j]);
            agreement->landmark_faces++;
        }
    }

    agreement->reference_faces += n_ref;
    agreement->matched += matched;
    agreement->extra += n_test - matched;
    fq_free(taken);
    return FQ_OK;
}

double fq_face_agreement_recall(const fq_face_agreement *agreement)
{
    if (agreement->reference_faces == 0)
        return 1.0;
    return (double)agreement->matched / agreement->reference_faces;
}

double fq_face_agreement_landmark_percent(const fq_face_agreement *agreement)
{
    if (agreement->landmark_faces == 0)
        return 0.0;
    return 100.0 * agreement->landmark_error_sum / agreement->landmark_faces;
}
