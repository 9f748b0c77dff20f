/* static_face_demo: the face pipeline in a program linked statically against libfacequant, with
 * nothing but the public headers. Reads a binary PPM, detects faces, and prints each face with
 * the first values of its embedding.
 *
 *   static_face_demo PHOTO.ppm DETECTOR.onnx RECOGNIZER.onnx [DETECTOR.card [RECOGNIZER.card]]
 *
 * Without cards the detector family is inferred from the model and the recognizer takes the
 * ArcFace defaults. */
#include <stdio.h>
#include <stdlib.h>

#include "facequant/fq.h"

#define SHOWN_VALUES 8

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (len >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)len + 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = buf != NULL ? (size_t)len : 0;
    return buf;
}

static int fail(const char *what, const fq_error *err)
{
    fprintf(stderr, "static_face_demo: %s: %s\n", what, err != NULL ? err->message : "failed");
    return 1;
}

static int read_card(const char *path, fq_model_card *card)
{
    size_t size = 0;
    char *text = read_file(path, &size);
    if (text == NULL)
        return fail(path, NULL);
    fq_error err = {0};
    fq_status status = fq_model_card_parse(text, size, card, &err);
    free(text);
    return status == FQ_OK ? 0 : fail(path, &err);
}

static int read_photo(const char *path, fq_image *rgb)
{
    size_t size = 0;
    void *data = read_file(path, &size);
    if (data == NULL)
        return fail(path, NULL);
    fq_error err = {0};
    fq_status status = fq_image_read_pnm(data, size, rgb, &err);
    free(data);
    return status == FQ_OK ? 0 : fail(path, &err);
}

static void print_face(int i, const fq_face *face, const float *embedding, int n)
{
    printf("face %d: score %.4f box %.1f %.1f %.1f %.1f\n", i, face->score, face->box[0],
           face->box[1], face->box[2], face->box[3]);
    printf("  landmarks:");
    for (int p = 0; p < 5; p++)
        printf(" (%.1f, %.1f)", face->kps[2 * p], face->kps[2 * p + 1]);
    printf("\n  embedding[0..%d]:", SHOWN_VALUES - 1);
    for (int k = 0; k < SHOWN_VALUES && k < n; k++)
        printf(" %+.4f", embedding[k]);
    printf("\n");
}

static int run(fq_face_service *service, const fq_image *photo)
{
    fq_error err = {0};
    fq_face *faces = NULL;
    int count = 0;
    if (fq_face_service_detect(service, photo, NULL, &faces, &count, &err) != FQ_OK)
        return fail("detect", &err);
    printf("faces: %d\n", count);

    int n = fq_face_service_embedding_size(service);
    float *embedding = malloc((size_t)n * sizeof(float));
    int code = embedding == NULL;
    for (int i = 0; i < count && code == 0; i++) {
        if (fq_face_service_embed(service, photo, &faces[i], embedding, &err) != FQ_OK)
            code = fail("embed", &err);
        else
            print_face(i, &faces[i], embedding, n);
    }
    free(embedding);
    fq_free(faces);
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: static_face_demo PHOTO.ppm DETECTOR.onnx RECOGNIZER.onnx "
                        "[DETECTOR.card [RECOGNIZER.card]]\n");
        return 2;
    }
    fq_model_card cards[2];
    fq_face_service_options options = {.detector_path = argv[2], .recognizer_path = argv[3]};
    if (argc > 4 && read_card(argv[4], &cards[0]) != 0)
        return 1;
    if (argc > 5 && read_card(argv[5], &cards[1]) != 0)
        return 1;
    options.detector_card = argc > 4 ? &cards[0] : NULL;
    options.recognizer_card = argc > 5 ? &cards[1] : NULL;

    fq_image photo;
    if (read_photo(argv[1], &photo) != 0)
        return 1;
    fq_error err = {0};
    fq_face_service *service = NULL;
    int code = fq_face_service_create(&options, &service, &err) == FQ_OK
                   ? run(service, &photo) : fail("loading the models", &err);
    fq_face_service_free(service);
    fq_image_free(&photo);
    return code;
}
