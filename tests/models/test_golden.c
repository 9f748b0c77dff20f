/* The real models of ../shared/models against ONNX Runtime's outputs (../shared/golden).
 *
 * One cmocka test per line of golden/CASES (MODEL/CASE), or per entry of $FQ_GOLDEN_CASES (a
 * comma-separated subset; an entry may also name a whole model). Each case reads case.json, loads
 * models/<model>, sets each input's shape from its .npy, runs the passes and a session, and
 * compares every output case.json names with the .npy beside it: the session's output must have
 * the shape case.json gives (the same element count in another shape is a failure) and
 *     max |got - ref| <= 1e-4 * max(1, max |ref|).
 * One line per case goes to stdout (worst output's max |diff|, max |ref| and their ratio to the
 * bound's scale), and the worst case at the end.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "facequant/fq.h"
#include "facequant/npy.h"
#include "test_util.h"

#define MAX_CASE_INPUTS 8
#define TOLERANCE 1e-4

typedef struct golden_case {
    char name[256];          /* MODEL/CASE */
    bool unknown;            /* named by FQ_GOLDEN_CASES but not in golden/CASES */
    bool ran;
    bool passed;
    double max_abs_diff;     /* of the output with the largest ratio */
    double max_ref;
    double ratio;            /* max |diff| / max(1, max |ref|), worst output */
    char worst_output[128];
    double seconds;
    /* What a running case holds; the teardown releases it, also after a failure. */
    cJSON *json;
    fq_graph *graph;
    fq_session *session;
    fq_npy inputs[MAX_CASE_INPUTS];
    fq_npy ref;
} golden_case;

static void join_path(char *buf, size_t cap, const char *a, const char *b)
{
    if ((size_t)snprintf(buf, cap, "%s/%s", a, b) >= cap)
        fail_msg("path %s/%s is too long", a, b);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *json_string(const golden_case *c, const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsString(item))
        fail_msg("%s: case.json lacks the string '%s'", c->name, key);
    return item->valuestring;
}

static cJSON *read_case_json(const golden_case *c, const char *case_dir)
{
    char path[2048];
    join_path(path, sizeof(path), case_dir, "case.json");
    size_t size = 0;
    char *text = fq_test_read_file(path, &size);
    if (text == NULL)
        fail_msg("%s: cannot read %s", c->name, path);
    text[size] = '\0';
    cJSON *json = cJSON_Parse(text);
    free(text);
    if (json == NULL)
        fail_msg("%s: %s is not valid JSON", c->name, path);
    return json;
}

static void check_status(const golden_case *c, fq_status st, const char *step, const fq_error *err)
{
    if (st != FQ_OK)
        fail_msg("%s: %s failed (%s): %s", c->name, step, fq_status_name(st), err->message);
}

/* Reads every input .npy and sets the shape of the graph input of that name. */
static void load_inputs(golden_case *c, const char *case_dir, const cJSON *inputs)
{
    int n = cJSON_GetArraySize(inputs);
    if (n < 1 || n > MAX_CASE_INPUTS)
        fail_msg("%s: case.json has %d inputs (1 to %d handled)", c->name, n, MAX_CASE_INPUTS);

    for (int i = 0; i < n; i++) {
        const cJSON *input = cJSON_GetArrayItem(inputs, i);
        const char *name = json_string(c, input, "name");
        char path[2048];
        join_path(path, sizeof(path), case_dir, json_string(c, input, "file"));

        fq_error err;
        check_status(c, fq_npy_read_file(path, &c->inputs[i], &err), "reading an input", &err);
        check_status(c, fq_pass_set_input_shape(c->graph, name, &c->inputs[i].shape, &err),
                     "fq_pass_set_input_shape", &err);
    }
}

static void set_inputs(golden_case *c, const cJSON *inputs)
{
    for (int i = 0; i < cJSON_GetArraySize(inputs); i++) {
        const char *name = json_string(c, cJSON_GetArrayItem(inputs, i), "name");
        int index = fq_session_input_index(c->session, name);
        if (index < 0)
            fail_msg("%s: the session has no input '%s'", c->name, name);
        fq_error err;
        check_status(c, fq_session_set_input(c->session, index, c->inputs[i].data,
                                             c->inputs[i].size, &err),
                     "fq_session_set_input", &err);
    }
}

static void json_shape(const golden_case *c, const cJSON *output, fq_shape *shape)
{
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(output, "shape");
    if (!cJSON_IsArray(dims) || cJSON_GetArraySize(dims) > FQ_MAX_RANK)
        fail_msg("%s: case.json output without a valid 'shape'", c->name);
    shape->rank = cJSON_GetArraySize(dims);
    for (int d = 0; d < shape->rank; d++)
        shape->dims[d] = (int64_t)cJSON_GetArrayItem(dims, d)->valuedouble;
}

static void format_index(const fq_shape *shape, int64_t i, char *buf, size_t cap)
{
    int64_t coords[FQ_MAX_RANK];
    for (int d = shape->rank - 1; d >= 0; d--) {
        int64_t dim = shape->dims[d] > 0 ? shape->dims[d] : 1;
        coords[d] = i % dim;
        i /= dim;
    }
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < shape->rank && used < cap; d++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", d > 0 ? ", " : "",
                                 (long long)coords[d]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

typedef struct diff_stats {
    double max_abs_diff;
    int64_t max_diff_at;
    double max_ref;
    int64_t first_bad; /* first element over the bound, or -1 */
} diff_stats;

static diff_stats measure(const float *got, const float *ref, int64_t n)
{
    diff_stats s = {0.0, 0, 0.0, -1};
    for (int64_t i = 0; i < n; i++)
        if (fabs((double)ref[i]) > s.max_ref)
            s.max_ref = fabs((double)ref[i]);

    double bound = TOLERANCE * (s.max_ref > 1.0 ? s.max_ref : 1.0);
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - (double)ref[i]);
        if (isnan(diff))
            diff = INFINITY;
        if (diff > s.max_abs_diff) {
            s.max_abs_diff = diff;
            s.max_diff_at = i;
        }
        if (diff > bound && s.first_bad < 0)
            s.first_bad = i;
    }
    return s;
}

static void check_output(golden_case *c, const char *case_dir, const cJSON *output)
{
    const char *name = json_string(c, output, "name");
    fq_shape want;
    json_shape(c, output, &want);
    char path[2048];
    join_path(path, sizeof(path), case_dir, json_string(c, output, "file"));

    fq_error err;
    fq_npy_free(&c->ref);
    check_status(c, fq_npy_read_file(path, &c->ref, &err), "reading a reference", &err);
    char want_s[128], got_s[128];
    if (c->ref.dtype != FQ_DTYPE_F32 || !fq_shape_equal(&c->ref.shape, &want))
        fail_msg("%s: %s is %s %s, case.json says f32 %s", c->name, path,
                 fq_dtype_name(c->ref.dtype), fq_shape_format(&c->ref.shape, got_s, 128),
                 fq_shape_format(&want, want_s, 128));

    int index = fq_session_output_index(c->session, name);
    if (index < 0)
        fail_msg("%s: the session has no output '%s'", c->name, name);
    fq_tensor got;
    check_status(c, fq_session_output(c->session, index, &got, &err), "fq_session_output", &err);
    if (got.dtype != FQ_DTYPE_F32 || !fq_shape_equal(&got.shape, &want))
        fail_msg("%s: output '%s' is %s %s (%lld elements), expected f32 %s (%lld elements)",
                 c->name, name, fq_dtype_name(got.dtype), fq_shape_format(&got.shape, got_s, 128),
                 (long long)fq_shape_numel(&got.shape), fq_shape_format(&want, want_s, 128),
                 (long long)fq_shape_numel(&want));

    diff_stats s = measure(got.data, c->ref.data, fq_shape_numel(&want));
    double ratio = s.max_abs_diff / (s.max_ref > 1.0 ? s.max_ref : 1.0);
    if (ratio >= c->ratio || c->worst_output[0] == '\0') {
        c->ratio = ratio;
        c->max_abs_diff = s.max_abs_diff;
        c->max_ref = s.max_ref;
        snprintf(c->worst_output, sizeof(c->worst_output), "%s", name);
    }
    if (s.first_bad >= 0) {
        const float *g = got.data, *r = c->ref.data;
        char first[160], worst[160];
        format_index(&want, s.first_bad, first, sizeof(first));
        format_index(&want, s.max_diff_at, worst, sizeof(worst));
        fail_msg("%s: output '%s' (%s): max |diff| %.6g > %.1g * max(1, %.6g); first mismatch at "
                 "element %lld %s: got %.9g, reference %.9g; largest at %s: got %.9g, "
                 "reference %.9g", c->name, name, fq_shape_format(&want, want_s, 128),
                 s.max_abs_diff, TOLERANCE, s.max_ref, (long long)s.first_bad, first,
                 g[s.first_bad], r[s.first_bad], worst, g[s.max_diff_at], r[s.max_diff_at]);
    }
}

static void test_golden_case(void **state)
{
    golden_case *c = *state;
    if (c->unknown)
        fail_msg("FQ_GOLDEN_CASES names '%s', which selects nothing in golden/CASES", c->name);
    const char *shared = fq_test_require_shared();
    char golden[2048], case_dir[2048], model_path[2048];
    join_path(golden, sizeof(golden), shared, "golden");
    join_path(case_dir, sizeof(case_dir), golden, c->name);
    c->json = read_case_json(c, case_dir);
    double start = now_seconds();
    c->ran = true;

    char models[2048];
    join_path(models, sizeof(models), shared, "models");
    join_path(model_path, sizeof(model_path), models, json_string(c, c->json, "model"));
    fq_error err;
    check_status(c, fq_onnx_read_file(model_path, &c->graph, &err), "fq_onnx_read_file", &err);

    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(c->json, "inputs");
    load_inputs(c, case_dir, inputs);
    fq_input_size size = {0};
    check_status(c, fq_passes_run(c->graph, &size, &err), "fq_passes_run", &err);
    check_status(c, fq_session_create(c->graph, NULL, &c->session, &err), "fq_session_create",
                 &err);
    set_inputs(c, inputs);
    check_status(c, fq_session_run(c->session, &err), "fq_session_run", &err);

    const cJSON *output;
    cJSON_ArrayForEach(output, cJSON_GetObjectItemCaseSensitive(c->json, "outputs"))
        check_output(c, case_dir, output);
    c->seconds = now_seconds() - start;
    c->passed = true;
}

static void print_case_line(const golden_case *c)
{
    printf("%-52s %12.4g %12.4g %12.4g %-12s %6.2fs\n", c->name, c->max_abs_diff, c->max_ref,
           c->ratio, c->worst_output, c->seconds);
}

static int case_teardown(void **state)
{
    golden_case *c = *state;
    if (c->ran && c->passed)
        print_case_line(c);
    else if (c->ran)
        printf("%-52s FAILED\n", c->name);
    fflush(stdout);

    fq_session_free(c->session);
    fq_graph_free(c->graph);
    cJSON_Delete(c->json);
    for (int i = 0; i < MAX_CASE_INPUTS; i++)
        fq_npy_free(&c->inputs[i]);
    fq_npy_free(&c->ref);
    c->session = NULL;
    c->graph = NULL;
    c->json = NULL;
    return 0;
}

static void test_shared_present(void **state)
{
    (void)state;
    fq_test_require_shared();
}

/* The case list: golden/CASES, or the subset in $FQ_GOLDEN_CASES. ---------------------------- */

typedef struct case_list {
    golden_case *cases;
    int count;
} case_list;

static void add_case(case_list *list, const char *name)
{
    list->cases = realloc(list->cases, (size_t)(list->count + 1) * sizeof(golden_case));
    golden_case *c = &list->cases[list->count++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
}

/* True when a CASES line MODEL/CASE is selected by a subset entry (the line or its MODEL). */
static bool entry_selects(const char *entry, const char *line)
{
    size_t n = strlen(entry);
    return strcmp(entry, line) == 0 || (strncmp(entry, line, n) == 0 && line[n] == '/');
}

static bool subset_selects(const char *subset, const char *line)
{
    if (subset == NULL || subset[0] == '\0')
        return true;
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", subset);
    for (char *entry = strtok(copy, ","); entry != NULL; entry = strtok(NULL, ","))
        if (entry_selects(entry, line))
            return true;
    return false;
}

static void strip(char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
}

static bool read_cases(const char *shared, const char *subset, case_list *list)
{
    char golden[2048], path[2100];
    snprintf(golden, sizeof(golden), "%s/golden", shared);
    snprintf(path, sizeof(path), "%s/CASES", golden);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return false;
    }
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        strip(line);
        if (line[0] != '\0' && line[0] != '#' && subset_selects(subset, line))
            add_case(list, line);
    }
    fclose(f);
    return true;
}

/* Subset entries that select nothing become failing cases, so a typo cannot pass. */
static void add_unmatched_entries(const char *subset, case_list *list)
{
    if (subset == NULL || subset[0] == '\0')
        return;
    int selected = list->count;
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", subset);
    for (char *entry = strtok(copy, ","); entry != NULL; entry = strtok(NULL, ",")) {
        bool found = false;
        for (int i = 0; i < selected && !found; i++)
            found = entry_selects(entry, list->cases[i].name);
        if (!found) {
            add_case(list, entry);
            list->cases[list->count - 1].unknown = true;
        }
    }
}

static void print_summary(const case_list *list)
{
    const golden_case *worst = NULL;
    int passed = 0;
    for (int i = 0; i < list->count; i++) {
        const golden_case *c = &list->cases[i];
        if (!c->passed)
            continue;
        passed++;
        if (worst == NULL || c->ratio > worst->ratio)
            worst = c;
    }
    printf("\n%d of %d golden cases within %.0e * max(1, max |ref|)\n", passed, list->count,
           TOLERANCE);
    if (worst != NULL)
        printf("worst case: %s, output %s: max |diff| %.4g, max |ref| %.4g, ratio %.4g\n",
               worst->name, worst->worst_output, worst->max_abs_diff, worst->max_ref,
               worst->ratio);
}

int main(void)
{
    const char *shared_dir = fq_test_shared_dir();
    if (shared_dir == NULL) {
        const struct CMUnitTest absent[] = {cmocka_unit_test(test_shared_present)};
        return cmocka_run_group_tests(absent, NULL, NULL);
    }

    const char *subset = getenv("FQ_GOLDEN_CASES");
    case_list list = {0};
    if (!read_cases(shared_dir, subset, &list))
        return 1;
    add_unmatched_entries(subset, &list);

    struct CMUnitTest *tests = calloc((size_t)list.count + 1, sizeof(struct CMUnitTest));
    for (int i = 0; i < list.count; i++)
        tests[i] = (struct CMUnitTest){list.cases[i].name, test_golden_case, NULL, case_teardown,
                                       &list.cases[i]};

    printf("%-52s %12s %12s %12s %-12s %7s\n", "case", "max_abs_diff", "max_ref", "ratio",
           "worst_output", "time");
    int failed = _cmocka_run_group_tests("golden", tests, (size_t)list.count, NULL, NULL);
    print_summary(&list);

    free(tests);
    free(list.cases);
    return failed;
}
