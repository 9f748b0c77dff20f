/* Embedding arithmetic: L2 normalization, cosine similarity, best match among known people. */
#include <math.h>

#include "facequant/face.h"

static double dot(const float *a, const float *b, int n)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += (double)a[i] * b[i];
    return sum;
}

/* A zero vector is left as it is: it has no direction to keep. */
void fq_l2_normalize(float *v, int n)
{
    if (v == NULL || n <= 0)
        return;
    double norm = sqrt(dot(v, v, n));
    if (!(norm > 0.0))
        return;
    for (int i = 0; i < n; i++)
        v[i] = (float)(v[i] / norm);
}

/* 0 when either vector is zero. */
float fq_cosine_similarity(const float *a, const float *b, int n)
{
    if (a == NULL || b == NULL || n <= 0)
        return 0.0f;
    double norms = sqrt(dot(a, a, n) * dot(b, b, n));
    return norms > 0.0 ? (float)(dot(a, b, n) / norms) : 0.0f;
}

/* With no known embeddings, *index is -1 and *similarity -1. */
void fq_match_embedding(const float *embedding, const float *known, int count, int n,
                        float threshold, int *index, float *similarity)
{
    int best = -1;
    float best_similarity = -1.0f;
    for (int i = 0; embedding != NULL && known != NULL && n > 0 && i < count; i++) {
        float s = fq_cosine_similarity(embedding, known + (size_t)i * (size_t)n, n);
        if (best < 0 || s > best_similarity) {
            best = i;
            best_similarity = s;
        }
    }
    if (index != NULL)
        *index = best >= 0 && best_similarity >= threshold ? best : -1;
    if (similarity != NULL)
        *similarity = best_similarity;
}
