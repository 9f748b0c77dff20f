/* Reference fp32 resize of the last two dimensions (planes of in_h x in_w to out_h x out_w).
 *
 * For each output coordinate x along an axis with input length in, resized length len and scale
 * s, the source coordinate is (ONNX Resize's coordinate_transformation_mode):
 *   half_pixel                  (x + 0.5) / s - 0.5
 *   pytorch_half_pixel          len > 1 ? (x + 0.5) / s - 0.5 : 0
 *   align_corners               len > 1 ? x * (in - 1) / (len - 1) : 0
 *   asymmetric                  x / s
 *   tf_half_pixel_for_nn        (x + 0.5) / s
 * The resized length is in * s as a real number (ONNX's length_resized): the output size unless
 * a given scale does not divide evenly. Nearest mode rounds the coordinate (round_prefer_floor,
 * round_prefer_ceil, floor, ceil, or "simple": floor when s >= 1, ceil when s < 1, as Upsample
 * and Resize-10 do) and clamps the index to [0, in - 1]. Linear mode clamps the coordinate to
 * [0, in - 1] and interpolates between the two neighbouring samples, first along the width, then
 * along the height. Arithmetic is in float. Nearest mode copies the sample, bits and all. */
#ifndef FQ_KERNELS_REF_F32_RESIZE2D_REF_H
#define FQ_KERNELS_REF_F32_RESIZE2D_REF_H

#include <stddef.h>
#include <stdint.h>

typedef enum fq_resize_mode {
    FQ_RESIZE_NEAREST = 0,
    FQ_RESIZE_LINEAR
} fq_resize_mode;

typedef enum fq_resize_coordinates {
    FQ_RESIZE_HALF_PIXEL = 0,
    FQ_RESIZE_PYTORCH_HALF_PIXEL,
    FQ_RESIZE_ALIGN_CORNERS,
    FQ_RESIZE_ASYMMETRIC,
    FQ_RESIZE_TF_HALF_PIXEL_FOR_NEAREST
} fq_resize_coordinates;

typedef enum fq_resize_rounding {
    FQ_RESIZE_ROUND_PREFER_FLOOR = 0,
    FQ_RESIZE_ROUND_PREFER_CEIL,
    FQ_RESIZE_FLOOR,
    FQ_RESIZE_CEIL,
    FQ_RESIZE_SIMPLE
} fq_resize_rounding;

typedef struct fq_resize2d_f32_params {
    int64_t planes;
    int64_t in_h, in_w;
    int64_t out_h, out_w;
    float scale_h, scale_w;   /* > 0 */
    float length_h, length_w; /* resized lengths, in * scale */
    fq_resize_mode mode;
    fq_resize_coordinates coordinates;
    fq_resize_rounding rounding; /* nearest mode only */
} fq_resize2d_f32_params;

/* Workspace bytes: the per-column source indices and weights. */
size_t fq_ref_resize2d_f32_workspace_size(const fq_resize2d_f32_params *p);

void fq_ref_resize2d_f32(const fq_resize2d_f32_params *p, const float *x, float *y,
                         void *workspace);

/* In nearest mode: the input row (axis 0) or column (axis 1) that output row or column `at`
 * copies. */
int64_t fq_ref_resize2d_nearest_index(const fq_resize2d_f32_params *p, int axis, int64_t at);

#endif
