/* Greedy non-maximum suppression, and mapping faces out of a letterboxed input. */
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/face.h"

/* Merges the sorted runs a[0, n_a) and b[0, n_b) into out, higher scores first; on equal scores
 * the face of a (earlier in the input) comes first, which keeps the sort stable. */
static void merge_runs(const fq_face *a, int n_a, const fq_face *b, int n_b, fq_face *out)
{
    int i = 0, j = 0, k = 0;
    while (i < n_a && j < n_b)
        out[k++] = b[j].score > a[i].score ? b[j++] : a[i++];
    while (i < n_a)
        out[k++] = a[i++];
    while (j < n_b)
        out[k++] = b[j++];
}

/* Bottom-up merge sort through a scratch buffer of count faces. */
static void merge_sort(fq_face *faces, int count, fq_face *scratch)
{
    fq_face *from = faces, *to = scratch;
    for (int width = 1; width < count; width *= 2) {
        for (int start = 0; start < count; start += 2 * width) {
            int mid = start + width < count ? start + width : count;
            int end = start + 2 * width < count ? start + 2 * width : count;
            merge_runs(from + start, mid - start, from + mid, end - mid, to + start);
        }
        fq_face *t = from;
        from = to;
        to = t;
    }
    if (from != faces)
        memcpy(faces, from, (size_t)count * sizeof(fq_face));
}

/* Used when no scratch memory can be had: stable, quadratic. */
static void insertion_sort(fq_face *faces, int count)
{
    for (int i = 1; i < count; i++) {
        fq_face f = faces[i];
        int j = i;
        while (j > 0 && f.score > faces[j - 1].score) {
            faces[j] = faces[j - 1];
            j--;
        }
        faces[j] = f;
    }
}

static void sort_by_score(fq_face *faces, int count)
{
    fq_face *scratch = count > 1 ? fq_malloc((size_t)count * sizeof(fq_face)) : NULL;
    if (scratch != NULL)
        merge_sort(faces, count, scratch);
    else
        insertion_sort(faces, count);
    fq_free(scratch);
}

static float box_area(const float *b, float one)
{
    float w = b[2] - b[0] + one, h = b[3] - b[1] + one;
    return w > 0.0f && h > 0.0f ? w * h : 0.0f;
}

static float box_iou(const float *a, const float *b, float one)
{
    float x1 = a[0] > b[0] ? a[0] : b[0];
    float y1 = a[1] > b[1] ? a[1] : b[1];
    float x2 = a[2] < b[2] ? a[2] : b[2];
    float y2 = a[3] < b[3] ? a[3] : b[3];
    float w = x2 - x1 + one, h = y2 - y1 + one;
    float inter = w > 0.0f && h > 0.0f ? w * h : 0.0f;
    float uni = box_area(a, one) + box_area(b, one) - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

int fq_nms(fq_face *faces, int count, float iou_threshold, bool plus_one, int max_faces)
{
    if (faces == NULL || count <= 0)
        return 0;
    sort_by_score(faces, count);

    float one = plus_one ? 1.0f : 0.0f;
    int kept = 0;
    for (int i = 0; i < count && (max_faces <= 0 || kept < max_faces); i++) {
        bool suppressed = false;
        for (int k = 0; k < kept && !suppressed; k++)
            suppressed = box_iou(faces[k].box, faces[i].box, one) > iou_threshold;
        if (!suppressed)
            faces[kept++] = faces[i];
    }
    return kept;
}

void fq_faces_unletterbox(fq_face *faces, int count, const fq_letterbox *letterbox)
{
    if (faces == NULL || letterbox == NULL || !(letterbox->scale > 0.0f))
        return;
    float inv = 1.0f / letterbox->scale;
    for (int i = 0; i < count; i++) {
        for (int c = 0; c < 4; c++)
            faces[i].box[c] *= inv;
        for (int c = 0; c < 10; c++)
            faces[i].kps[c] *= inv;
    }
}
