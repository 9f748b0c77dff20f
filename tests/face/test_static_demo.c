/* The static example program: t1.jpg as a PPM through a detector and a recognizer prints six
 * faces, each with its embedding. The example's path is the first argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/image.h"
#include "jpeg_decode.h"
#include "test_util.h"

static const char *demo_path;
static int make_tmp_dir(void **state)
{
    (void)state;
    return fq_test_tmp_dir_create("fq_demo");
}

static int remove_tmp_dir(void **state)
{
    (void)state;
    return fq_test_tmp_dir_remove();
}

/* Writes the shared t1.jpg as t1.ppm in the temporary directory. */
static void write_t1_ppm(const char *shared, const char *ppm_path)
{
    char jpg[1024];
    snprintf(jpg, sizeof(jpg), "%s/images/insightface/t1.jpg", shared);
    fq_image rgb;
    if (!fq_test_read_jpeg(jpg, &rgb))
        fail_msg("cannot decode %s", jpg);
    void *data = NULL;
    size_t size = 0;
    fq_error err = {0};
    if (fq_image_write_ppm(&rgb, &data, &size, &err) != FQ_OK)
        fail_msg("ppm: %s", err.message);
    FILE *f = fopen(ppm_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    fclose(f);
    fq_free(data);
    fq_image_free(&rgb);
}

/* Runs the demo and returns its standard output (malloc'd) and exit status. */
static char *run_demo(const char *args, int *status)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' %s", demo_path, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t got;
    while ((got = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len <= 1)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    *status = pclose(p);
    return out;
}

static int count_lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *line = text; line != NULL && *line != '\0';) {
        n += strncmp(line, prefix, strlen(prefix)) == 0;
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    return n;
}

static void test_demo_prints_six_faces_with_embeddings_for_t1(void **state)
{
    (void)state;
    const char *shared = fq_test_require_shared();
    char ppm[512], args[3072];
    snprintf(ppm, sizeof(ppm), "%s/t1.ppm", fq_test_tmp_dir());
    write_t1_ppm(shared, ppm);
    snprintf(args, sizeof(args), "'%s' '%s/models/det_500m.onnx' "
             "'%s/models/mobilefacenet_128d.onnx' '%s/models/cards/det_500m.card' "
             "'%s/models/cards/mobilefacenet_128d.card'", ppm, shared, shared,
             getenv("FQ_SOURCE_ROOT"), getenv("FQ_SOURCE_ROOT"));

    int status = -1;
    char *out = run_demo(args, &status);
    printf("%s", out);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "faces: 6\n"));
    assert_int_equal(count_lines_starting(out, "face "), 6);
    assert_int_equal(count_lines_starting(out, "  embedding[0..7]:"), 6);
    free(out);
}

static void test_demo_refuses_a_missing_photo(void **state)
{
    (void)state;
    int status = 0;
    char args[600];
    snprintf(args, sizeof(args), "'%s/none.ppm' a.onnx b.onnx 2>/dev/null", fq_test_tmp_dir());
    free(run_demo(args, &status));
    assert_int_not_equal(status, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_static_demo PATH_OF_static_face_demo\n");
        return 1;
    }
    demo_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_prints_six_faces_with_embeddings_for_t1),
        cmocka_unit_test(test_demo_refuses_a_missing_photo),
    };
    return cmocka_run_group_tests_name("face_static_demo", tests, make_tmp_dir, remove_tmp_dir);
}
