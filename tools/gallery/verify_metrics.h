/* Verification metrics over scored pairs: accuracy at a threshold, the threshold that maximizes
 * accuracy, and the area under the ROC curve. A pair is predicted "same" when its score is at or
 * above the threshold. */
#ifndef FQ_TOOLS_VERIFY_METRICS_H
#define FQ_TOOLS_VERIFY_METRICS_H

#include <stdbool.h>

#include "facequant/status.h"

/* Fraction of the n pairs whose prediction at threshold matches same[i]; 0 when n is 0. */
double fq_verify_accuracy(const float *scores, const bool *same, int n, float threshold);

/* The threshold of highest accuracy, reported as the midpoint between the lowest score accepted
 * and the highest score rejected (any threshold between them gives the same accuracy); of equal
 * accuracies the lowest threshold wins. With every pair accepted, the threshold is just below
 * the lowest score; with every pair rejected, just above the highest. */
fq_status fq_verify_best_threshold(const float *scores, const bool *same, int n,
                                   float *threshold, double *accuracy, fq_error *err);

/* Area under the ROC curve computed exactly from ranks (Mann-Whitney U): the probability that a
 * "same" pair scores above a "different" one, ties counted half. FQ_ERR_INVALID_ARG when either
 * class is empty. */
fq_status fq_verify_roc_auc(const float *scores, const bool *same, int n, double *auc,
                            fq_error *err);

#endif
