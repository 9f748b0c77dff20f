/* Helpers for the cmocka tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_util.h"

static bool is_dir(const char *path)
{
    struct stat st;
    return path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fq_test_shared_dir(void)
{
    const char *dir = getenv("FQ_SHARED");
    if (dir != NULL && dir[0] != '\0')
        return is_dir(dir) ? dir : NULL;
    dir = getenv("FQ_SHARED_DEFAULT");
    return is_dir(dir) ? dir : NULL;
}

const char *fq_test_require_shared(void)
{
    const char *dir = fq_test_shared_dir();
    if (dir != NULL)
        return dir;
    const char *require = getenv("FQ_REQUIRE_SHARED");
    if (require != NULL && strcmp(require, "1") == 0)
        fail_msg("the shared folder is missing (set FQ_SHARED); FQ_REQUIRE_SHARED=1 forbids "
                 "skipping");
    print_message("skipped: the shared folder (models, golden outputs) is missing; set FQ_SHARED "
                  "to run this test\n");
    skip();
    return NULL;
}

const char *fq_test_path(const char *a, const char *b)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", a, b);
    return buf;
}

void *fq_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long len = ftell(f);
    rewind(f);
    void *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

static char tmp_dir[256];

int fq_test_tmp_dir_create(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/%s_XXXXXX", base != NULL ? base : "/tmp", prefix);
    return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

int fq_test_tmp_dir_remove(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

const char *fq_test_tmp_dir(void)
{
    return tmp_dir;
}

const char *fq_test_tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    return path;
}

static unsigned long long rng_state = 88172645463325252ULL;

int fq_test_cases(int n)
{
    const char *text = getenv("FQ_TEST_CASES_PERCENT");
    if (text == NULL || text[0] == '\0')
        return n;
    long percent = strtol(text, NULL, 10);
    if (percent <= 0 || percent >= 100)
        return n;
    int cases = (int)((long)n * percent / 100);
    return cases > 0 ? cases : 1;
}

void fq_test_seed(unsigned long long seed)
{
    rng_state = seed ? seed : 88172645463325252ULL;
}

unsigned long long fq_test_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

int fq_test_rand_int(int lo, int hi)
{
    return lo + (int)(fq_test_rand() % (unsigned long long)(hi - lo + 1));
}

float fq_test_rand_float(float lo, float hi)
{
    return lo + (hi - lo) * (float)((fq_test_rand() >> 11) * (1.0 / 9007199254740992.0));
}

float *fq_test_rand_floats(int64_t n)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = fq_test_rand_float(-1.0f, 1.0f);
    return v;
}
