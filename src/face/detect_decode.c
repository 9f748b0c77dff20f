/* Decoding of SCRFD and YuNet detector outputs into candidate faces in input pixels.
 *
 * Both families give, per stride, one row per anchor of a feature map laid over the input:
 * row k belongs to cell k / anchors, cells in row-major order over a ceil(H / stride) x
 * ceil(W / stride) grid. The outputs are told apart by their last dimension (1: scores, 4: boxes,
 * 10: landmarks) and ordered by stride within each group, as the graphs list them. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/face.h"

#define DECODE_MAX_STRIDES 5
#define DECODE_FIRST_STRIDE 8
#define DECODE_GROUP_MAX (2 * DECODE_MAX_STRIDES)

/* Output indices by last dimension: 1, 4, 10, in graph order. */
typedef struct output_groups {
    int scores[DECODE_GROUP_MAX];
    int n_scores;
    int boxes[DECODE_GROUP_MAX];
    int n_boxes;
    int kps[DECODE_GROUP_MAX];
    int n_kps;
} output_groups;

/* One stride's outputs. obj is YuNet's objectness (NULL for SCRFD); kps may be NULL. */
typedef struct stride_level {
    int stride;
    int grid_width;
    int anchors;
    int64_t rows;
    const float *score;
    const float *obj;
    const float *box;
    const float *kps;
} stride_level;

typedef struct decode_plan {
    fq_detector_family family;
    int n_levels;
    stride_level levels[DECODE_MAX_STRIDES];
} decode_plan;

/* Rows and channels of a [N, C] or [1, N, C] f32 tensor. */
static fq_status tensor_rows(const fq_tensor *t, int index, int64_t *rows, int64_t *channels,
                             fq_error *err)
{
    if (t->dtype != FQ_DTYPE_F32 || t->data == NULL)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "detector output %d: expected f32 data, "
                            "got %s", index, fq_dtype_name(t->dtype));
    if (t->shape.rank != 2 && t->shape.rank != 3)
        return fq_error_set(err, FQ_ERR_SHAPE, "detector output %d: expected [N, C] or "
                            "[1, N, C], got rank %d", index, t->shape.rank);
    if (t->shape.rank == 3 && t->shape.dims[0] != 1)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "detector output %d: batch %lld; decoding "
                            "handles one image (batch 1)", index, (long long)t->shape.dims[0]);
    *rows = t->shape.dims[t->shape.rank - 2];
    *channels = t->shape.dims[t->shape.rank - 1];
    if (*rows < 0 || *channels < 0)
        return fq_error_set(err, FQ_ERR_SHAPE, "detector output %d: unknown dimensions", index);
    return FQ_OK;
}

static fq_status add_to_group(int *group, int *n, int index, fq_error *err)
{
    if (*n == DECODE_GROUP_MAX)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "detector output %d: more than %d outputs "
                            "of its kind", index, DECODE_GROUP_MAX);
    group[(*n)++] = index;
    return FQ_OK;
}

static fq_status group_outputs(const fq_tensor *outputs, int n_outputs, output_groups *groups,
                               fq_error *err)
{
    memset(groups, 0, sizeof(*groups));
    for (int i = 0; i < n_outputs; i++) {
        int64_t rows = 0, channels = 0;
        fq_status status = tensor_rows(&outputs[i], i, &rows, &channels, err);
        if (status == FQ_OK && channels == 1)
            status = add_to_group(groups->scores, &groups->n_scores, i, err);
        else if (status == FQ_OK && channels == 4)
            status = add_to_group(groups->boxes, &groups->n_boxes, i, err);
        else if (status == FQ_OK && channels == 10)
            status = add_to_group(groups->kps, &groups->n_kps, i, err);
        else if (status == FQ_OK)
            status = fq_error_set(err, FQ_ERR_SHAPE, "detector output %d: last dimension %lld; "
                                  "scores, boxes and landmarks have 1, 4 and 10", i,
                                  (long long)channels);
        if (status != FQ_OK)
            return status;
    }
    return FQ_OK;
}

static int64_t rows_of(const fq_tensor *t)
{
    return t->shape.dims[t->shape.rank - 2];
}

/* Checks that output index has the level's row count. */
static fq_status check_rows(const fq_tensor *outputs, int index, const stride_level *level,
                            fq_error *err)
{
    if (rows_of(&outputs[index]) == level->rows)
        return FQ_OK;
    return fq_error_set(err, FQ_ERR_SHAPE, "detector output %d has %lld rows, the stride %d "
                        "scores have %lld", index, (long long)rows_of(&outputs[index]),
                        level->stride, (long long)level->rows);
}

/* Stride, grid and anchors per cell of level i, from its score tensor's rows. */
static fq_status size_level(int i, int64_t rows, int width, int height, int max_anchors,
                            stride_level *level, fq_error *err)
{
    level->stride = DECODE_FIRST_STRIDE << i;
    level->grid_width = (width + level->stride - 1) / level->stride;
    int64_t grid_height = (height + level->stride - 1) / level->stride;
    int64_t cells = (int64_t)level->grid_width * grid_height;
    level->rows = rows;
    level->anchors = (int)(rows / cells);
    if (rows % cells != 0 || level->anchors < 1 || level->anchors > max_anchors)
        return fq_error_set(err, FQ_ERR_SHAPE, "stride %d scores have %lld rows; a %dx%d input "
                            "gives %lld cells at that stride, and rows must be %s the cells",
                            level->stride, (long long)rows, width, height, (long long)cells,
                            max_anchors == 1 ? "as many as" : "1 or 2 times");
    return FQ_OK;
}

static fq_status plan_levels(const fq_tensor *outputs, const output_groups *g, int width,
                             int height, decode_plan *plan, fq_error *err)
{
    bool yunet = plan->family == FQ_DETECTOR_YUNET;
    for (int i = 0; i < plan->n_levels; i++) {
        stride_level *level = &plan->levels[i];
        fq_status status = size_level(i, rows_of(&outputs[g->scores[i]]), width, height,
                                      yunet ? 1 : 2, level, err);
        if (status == FQ_OK && yunet)
            status = check_rows(outputs, g->scores[plan->n_levels + i], level, err);
        if (status == FQ_OK)
            status = check_rows(outputs, g->boxes[i], level, err);
        if (status == FQ_OK && g->n_kps > 0)
            status = check_rows(outputs, g->kps[i], level, err);
        if (status != FQ_OK)
            return status;

        level->score = outputs[g->scores[i]].data;
        level->obj = yunet ? outputs[g->scores[plan->n_levels + i]].data : NULL;
        level->box = outputs[g->boxes[i]].data;
        level->kps = g->n_kps > 0 ? outputs[g->kps[i]].data : NULL;
    }
    return FQ_OK;
}

static fq_status plan_decode(fq_detector_family family, const fq_tensor *outputs, int n_outputs,
                             int width, int height, decode_plan *plan, fq_error *err)
{
    output_groups g;
    fq_status status = group_outputs(outputs, n_outputs, &g, err);
    if (status != FQ_OK)
        return status;

    plan->family = family;
    plan->n_levels = g.n_boxes;
    if (family == FQ_DETECTOR_SCRFD && (g.n_scores != 3 && g.n_scores != 5))
        return fq_error_set(err, FQ_ERR_SHAPE, "SCRFD outputs: %d score tensors (last "
                            "dimension 1); expected 3 or 5, one per stride", g.n_scores);
    if (family == FQ_DETECTOR_SCRFD && g.n_boxes != g.n_scores)
        return fq_error_set(err, FQ_ERR_SHAPE, "SCRFD outputs: %d score tensors but %d box "
                            "tensors", g.n_scores, g.n_boxes);
    if (family == FQ_DETECTOR_YUNET && (g.n_boxes != 3 || g.n_scores != 6))
        return fq_error_set(err, FQ_ERR_SHAPE, "YuNet outputs: expected 6 tensors [N, 1] (cls "
                            "and obj) and 3 [N, 4] (bbox), got %d and %d", g.n_scores,
                            g.n_boxes);
    if (g.n_kps != 0 && g.n_kps != g.n_boxes)
        return fq_error_set(err, FQ_ERR_SHAPE, "detector outputs: %d landmark tensors for %d "
                            "strides", g.n_kps, g.n_boxes);
    return plan_levels(outputs, &g, width, height, plan, err);
}

static float clamp_unit(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

static float candidate_score(const stride_level *level, int64_t k)
{
    if (level->obj == NULL)
        return level->score[k];
    return sqrtf(clamp_unit(level->score[k]) * clamp_unit(level->obj[k]));
}

/* SCRFD: distances from the anchor centre, landmarks offset from it, in stride units. */
static void decode_scrfd(const stride_level *level, int64_t k, float cx, float cy, fq_face *face)
{
    const float s = (float)level->stride;
    const float *d = level->box + 4 * k;
    face->box[0] = cx - d[0] * s;
    face->box[1] = cy - d[1] * s;
    face->box[2] = cx + d[2] * s;
    face->box[3] = cy + d[3] * s;
    for (int p = 0; level->kps != NULL && p < 5; p++) {
        face->kps[2 * p] = cx + level->kps[10 * k + 2 * p] * s;
        face->kps[2 * p + 1] = cy + level->kps[10 * k + 2 * p + 1] * s;
    }
}

/* YuNet: centre offset in cells, log size in strides, landmarks in cells from the cell corner. */
static void decode_yunet(const stride_level *level, int64_t k, float col, float row,
                         fq_face *face)
{
    const float s = (float)level->stride;
    const float *d = level->box + 4 * k;
    float cx = (col + d[0]) * s, cy = (row + d[1]) * s;
    float w = expf(d[2]) * s, h = expf(d[3]) * s;
    face->box[0] = cx - 0.5f * w;
    face->box[1] = cy - 0.5f * h;
    face->box[2] = cx + 0.5f * w;
    face->box[3] = cy + 0.5f * h;
    for (int p = 0; level->kps != NULL && p < 5; p++) {
        face->kps[2 * p] = (col + level->kps[10 * k + 2 * p]) * s;
        face->kps[2 * p + 1] = (row + level->kps[10 * k + 2 * p + 1]) * s;
    }
}

static void decode_candidate(const stride_level *level, int64_t k, float score, fq_face *face)
{
    int64_t cell = k / level->anchors;
    float col = (float)(cell % level->grid_width);
    float row = (float)(cell / level->grid_width);

    memset(face, 0, sizeof(*face));
    face->score = score;
    face->has_kps = level->kps != NULL;
    if (level->obj == NULL)
        decode_scrfd(level, k, col * (float)level->stride, row * (float)level->stride, face);
    else
        decode_yunet(level, k, col, row, face);
}

/* Visits every anchor at or above threshold; with faces NULL only counts them. */
static int64_t collect(const decode_plan *plan, float threshold, fq_face *faces)
{
    int64_t n = 0;
    for (int i = 0; i < plan->n_levels; i++) {
        const stride_level *level = &plan->levels[i];
        for (int64_t k = 0; k < level->rows; k++) {
            float score = candidate_score(level, k);
            if (!(score >= threshold))
                continue;
            if (faces != NULL)
                decode_candidate(level, k, score, &faces[n]);
            n++;
        }
    }
    return n;
}

fq_status fq_detect_decode(fq_detector_family family, const fq_tensor *outputs, int n_outputs,
                           int input_width, int input_height, float score_threshold,
                           fq_face **faces, int *count, fq_error *err)
{
    if (faces == NULL || count == NULL || (outputs == NULL && n_outputs > 0) || n_outputs < 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_detect_decode: NULL argument");
    *faces = NULL;
    *count = 0;
    if (family != FQ_DETECTOR_SCRFD && family != FQ_DETECTOR_YUNET)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_detect_decode: unknown family %d",
                            (int)family);
    if (input_width < 1 || input_height < 1 || input_width > FQ_IMAGE_MAX_SIDE ||
        input_height > FQ_IMAGE_MAX_SIDE)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_detect_decode: input size %dx%d out of "
                            "range", input_width, input_height);

    decode_plan plan;
    fq_status status = plan_decode(family, outputs, n_outputs, input_width, input_height, &plan,
                                   err);
    if (status != FQ_OK)
        return status;

    int64_t n = collect(&plan, score_threshold, NULL);
    if (n == 0)
        return FQ_OK;
    if (n > INT32_MAX / (int64_t)sizeof(fq_face))
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "fq_detect_decode: %lld candidates",
                            (long long)n);
    *faces = fq_malloc((size_t)n * sizeof(fq_face));
    if (*faces == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "fq_detect_decode: out of memory for %lld "
                            "candidates", (long long)n);
    collect(&plan, score_threshold, *faces);
    *count = (int)n;
    return FQ_OK;
}
