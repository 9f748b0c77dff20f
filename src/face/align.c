/* 5-point face alignment: a least-squares similarity transform onto the ArcFace template and
 * the affine warp that cuts the crop. */
#include <math.h>

#include "facequant/face.h"

const float fq_arcface_template[10] = {
    38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f, 71.7366f, 41.5493f, 92.3655f,
    70.7299f, 92.2041f,
};

#define ARCFACE_TEMPLATE_SIZE 112

/* Sums over the centred point pairs: a = sum(s . d), b = sum(s x d), var = sum(|s|^2). */
typedef struct point_moments {
    double src_mean[2];
    double dst_mean[2];
    double a;
    double b;
    double var;
} point_moments;

static void measure(const float *src, const float *dst, int n, point_moments *m)
{
    double sx = 0, sy = 0, dx = 0, dy = 0;
    for (int i = 0; i < n; i++) {
        sx += src[2 * i];
        sy += src[2 * i + 1];
        dx += dst[2 * i];
        dy += dst[2 * i + 1];
    }
    m->src_mean[0] = sx / n;
    m->src_mean[1] = sy / n;
    m->dst_mean[0] = dx / n;
    m->dst_mean[1] = dy / n;

    m->a = m->b = m->var = 0;
    for (int i = 0; i < n; i++) {
        double px = src[2 * i] - m->src_mean[0], py = src[2 * i + 1] - m->src_mean[1];
        double qx = dst[2 * i] - m->dst_mean[0], qy = dst[2 * i + 1] - m->dst_mean[1];
        m->a += px * qx + py * qy;
        m->b += px * qy - py * qx;
        m->var += px * px + py * py;
    }
}

static bool all_finite(const float *v, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

/* Umeyama's estimate in two dimensions. With A the covariance of the centred points, the best
 * rotation R maximises trace(R^T A) over proper rotations; in 2-D that is the angle
 * atan2(b, a), and the sum of the singular values of A, with the smaller one negated when
 * det A < 0 (the reflection case), is sqrt(a^2 + b^2). So R * scale = [a -b; b a] / var, which
 * is the SVD solution (skimage's SimilarityTransform.estimate) without the SVD: a mirrored point
 * set gets the best rotation, never a reflection. */
fq_status fq_similarity_transform(const float *src, const float *dst, int n, float m[6],
                                  fq_error *err)
{
    if (src == NULL || dst == NULL || m == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_similarity_transform: NULL argument");
    if (n < 2)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_similarity_transform: %d points; at "
                            "least 2 are needed", n);
    if (!all_finite(src, 2 * n) || !all_finite(dst, 2 * n))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_similarity_transform: a point is not "
                            "finite");

    point_moments pm;
    measure(src, dst, n, &pm);
    double norm = sqrt(pm.a * pm.a + pm.b * pm.b);
    if (!(pm.var > 1e-12) || !(norm > 1e-12 * pm.var))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_similarity_transform: degenerate "
                            "points (%s); no similarity maps them",
                            pm.var > 1e-12 ? "the fit has scale 0" : "the source points coincide");

    double c = pm.a / pm.var, s = pm.b / pm.var;
    m[0] = (float)c;
    m[1] = (float)-s;
    m[2] = (float)(pm.dst_mean[0] - (c * pm.src_mean[0] - s * pm.src_mean[1]));
    m[3] = (float)s;
    m[4] = (float)c;
    m[5] = (float)(pm.dst_mean[1] - (s * pm.src_mean[0] + c * pm.src_mean[1]));
    return FQ_OK;
}

fq_status fq_face_align(const fq_image *rgb, const float kps[10], int size, fq_image *crop,
                        fq_error *err)
{
    if (rgb == NULL || kps == NULL || crop == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_align: NULL argument");
    if (rgb->format != FQ_PIXEL_RGB)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_align: the image must be RGB "
                            "(convert it with fq_image_to_rgb)");
    if (size < 1 || size > FQ_IMAGE_MAX_SIDE)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_face_align: crop size %d out of range",
                            size);

    float target[10];
    float ratio = (float)size / ARCFACE_TEMPLATE_SIZE;
    for (int i = 0; i < 10; i++)
        target[i] = fq_arcface_template[i] * ratio;

    float m[6];
    fq_status status = fq_similarity_transform(kps, target, 5, m, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "fq_face_align");
    return fq_image_warp_affine(rgb, m, size, size, crop, err);
}
