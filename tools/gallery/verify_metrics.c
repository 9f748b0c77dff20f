/* Verification metrics: accuracy, best threshold, ROC AUC from ranks. */
#include <math.h>
#include <stdlib.h>

#include "facequant/alloc.h"
#include "gallery/verify_metrics.h"

typedef struct scored_pair {
    float score;
    bool same;
} scored_pair;

static int compare_scores(const void *a, const void *b)
{
    float x = ((const scored_pair *)a)->score, y = ((const scored_pair *)b)->score;
    return (x > y) - (x < y);
}

double fq_verify_accuracy(const float *scores, const bool *same, int n, float threshold)
{
    if (n <= 0)
        return 0.0;
    int correct = 0;
    for (int i = 0; i < n; i++)
        correct += (scores[i] >= threshold) == same[i];
    return (double)correct / n;
}

/* The pairs sorted by ascending score; refuses scores that are not finite. */
static fq_status sorted_pairs(const float *scores, const bool *same, int n, scored_pair **out,
                              fq_error *err)
{
    *out = NULL;
    if (n <= 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "no pairs to measure");
    scored_pair *pairs = fq_malloc((size_t)n * sizeof(*pairs));
    if (pairs == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to sort %d pairs", n);
    for (int i = 0; i < n; i++) {
        if (!isfinite(scores[i])) {
            fq_free(pairs);
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "pair %d has a score that is not "
                                "finite", i);
        }
        pairs[i].score = scores[i];
        pairs[i].same = same[i];
    }
    qsort(pairs, (size_t)n, sizeof(*pairs), compare_scores);
    *out = pairs;
    return FQ_OK;
}

/* Threshold accepting pairs[k..n-1] and rejecting pairs[0..k-1]. */
static float threshold_at(const scored_pair *pairs, int n, int k)
{
    if (k == 0)
        return nextafterf(pairs[0].score, -INFINITY);
    if (k == n)
        return nextafterf(pairs[n - 1].score, INFINITY);
    return (float)(((double)pairs[k - 1].score + pairs[k].score) / 2.0);
}

fq_status fq_verify_best_threshold(const float *scores, const bool *same, int n,
                                   float *threshold, double *accuracy, fq_error *err)
{
    scored_pair *pairs;
    fq_status status = sorted_pairs(scores, same, n, &pairs, err);
    if (status != FQ_OK)
        return status;

    int positives = 0;
    for (int i = 0; i < n; i++)
        positives += pairs[i].same;

    /* Sweep k = number rejected; only boundaries between distinct scores are thresholds. */
    int best_k = 0, best_correct = -1, negatives_below = 0, positives_below = 0;
    for (int k = 0; k <= n; k++) {
        if (k > 0) {
            negatives_below += !pairs[k - 1].same;
            positives_below += pairs[k - 1].same;
        }
        if (k > 0 && k < n && pairs[k - 1].score == pairs[k].score)
            continue;
        int correct = negatives_below + positives - positives_below;
        if (correct > best_correct) {
            best_correct = correct;
            best_k = k;
        }
    }
    *threshold = threshold_at(pairs, n, best_k);
    *accuracy = (double)best_correct / n;
    fq_free(pairs);
    return FQ_OK;
}

fq_status fq_verify_roc_auc(const float *scores, const bool *same, int n, double *auc,
                            fq_error *err)
{
    scored_pair *pairs;
    fq_status status = sorted_pairs(scores, same, n, &pairs, err);
    if (status != FQ_OK)
        return status;

    /* Ranks are 1-based; a group of equal scores shares the mean of its ranks. */
    double positive_rank_sum = 0.0;
    long long positives = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && pairs[j].score == pairs[i].score)
            j++;
        double mean_rank = (i + 1 + j) / 2.0;
        for (int k = i; k < j; k++) {
            if (pairs[k].same) {
                positive_rank_sum += mean_rank;
                positives++;
            }
        }
        i = j;
    }
    fq_free(pairs);

    long long negatives = n - positives;
    if (positives == 0 || negatives == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "ROC AUC needs both same and different "
                            "pairs (%lld same, %lld different)", positives, negatives);
    double u = positive_rank_sum - (double)positives * (positives + 1) / 2.0;
    *auc = u / ((double)positives * negatives);
    return FQ_OK;
}
