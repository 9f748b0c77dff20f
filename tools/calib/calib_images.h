/* Calibration images for `fq calibrate`: a folder walked recursively, photos decoded and turned
 * into a model's input by its preprocessing descriptor. Detectors get letterboxed photos;
 * recognizers get aligned face crops, cut from the largest face a detector finds, while images
 * already at the model's input size are taken as aligned crops. Tool code: it decodes files
 * (tools/image) and prints progress on stderr. */
#ifndef FQ_TOOLS_CALIB_CALIB_IMAGES_H
#define FQ_TOOLS_CALIB_CALIB_IMAGES_H

#include <stdbool.h>

#include "facequant/fq.h"

/* Below this many images `fq calibrate` warns that more would give better scales. */
#define FQ_CALIB_FEW_IMAGES 100
/* Folders deeper than this below the root are not walked. */
#define FQ_CALIB_MAX_DEPTH 32

/* The image files under a folder, sorted by path. Files whose first bytes are not those of a
 * JPEG, PNG, WebP or PPM/PGM are skipped and counted. */
typedef struct fq_calib_image_list {
    char **paths;
    int count;
    int skipped;            /* files that are not images */
} fq_calib_image_list;

/* Walks dir and its subfolders (names starting with '.' and symbolic links to folders are
 * left out). No image at all is FQ_ERR_INVALID_ARG. */
fq_status fq_calib_images_scan(const char *dir, fq_calib_image_list *list, fq_error *err);
void fq_calib_images_free(fq_calib_image_list *list);

/* Feeds the images to fq_calibrate (fq_calib_source_feed is an fq_calib_feed). */
typedef struct fq_calib_source {
    const fq_calib_image_list *images;
    fq_preprocess pre;
    fq_face_service *detector;  /* cuts aligned crops (FQ_PREPROCESS_ALIGNED_FACE); may be NULL
                                   when every image is already a crop */
    int inputs;                 /* inputs to give: 0 gives each image once; more repeats them */
    bool progress;              /* a progress line on stderr */
    const char *log_prefix;     /* "fq calibrate", for messages on stderr */

    int next;                   /* next image, counting repeats */
    int given;                  /* inputs given */
    int undecodable;            /* image files that failed to decode (each time they came up) */
    int no_face;                /* photos in which the detector found no face */
    int failed_in_a_row;        /* images given up on since the last input */
    double start_ms;
} fq_calib_source;

void fq_calib_source_init(fq_calib_source *source, const fq_calib_image_list *images,
                          const fq_preprocess *pre, fq_face_service *detector, int inputs);
/* Gives the next input; stops when the images (or the requested inputs) are done, or when a
 * whole round of the images gave nothing. Index 0 starts again from the first image. */
fq_status fq_calib_source_feed(void *user, int index, fq_tensor *inputs, int n_inputs,
                               bool *more, fq_error *err);
/* Inputs the source will give at most (for progress). */
int fq_calib_source_total(const fq_calib_source *source);

#endif
