/* JPEG decoding for the face tests, with libjpeg at its default settings (ISLOW DCT, fancy
 * upsampling), as Pillow decodes for the ONNX Runtime references. No EXIF orientation is
 * applied: the references were made on the pixels as stored. */
#ifndef FQ_TESTS_FACE_JPEG_DECODE_H
#define FQ_TESTS_FACE_JPEG_DECODE_H

#include "facequant/image.h"

/* Decodes the file into a new RGB image (fq_image_free); false when it cannot. */
bool fq_test_read_jpeg(const char *path, fq_image *rgb);

#endif
