/* ONNX's node conformance tests, run through facequant's whole path: reader, passes, session.
 *
 * One cmocka test per case folder of libonnx-testdata (/usr/share/libonnx-testdata/data/node, or
 * $FQ_ONNX_TESTDATA; $FQ_CONFORMANCE_FILTER keeps only cases whose name contains that text). For
 * each test_data_set_* of a case, input_<i>.pb feeds graph input i and output_<i>.pb is compared
 * with graph output i.
 *
 * How inputs are fed. facequant plans a session for fixed shapes, so inputs that decide the
 * shape of a result must be known before the passes. Such inputs become constants of the graph
 * (their data is set, their kind becomes FQ_VALUE_CONSTANT and they leave graph->inputs):
 *   - every integer-typed input (i64/i32: shapes, axes, indices, pads, repeats, sizes);
 *   - the float inputs that fix an output size: Resize's roi and scales, Upsample's scales,
 *     Range's start, limit and delta.
 * All other inputs stay runtime inputs: their shapes are set with fq_pass_set_input_shape and
 * their data is copied into the session.
 *
 * Outcomes: a case passes when every output has the reference dtype and shape and its values are
 * within |got - ref| <= 1e-4 + 1e-3 * |ref| (floats, NaN equal to NaN) or equal (integers,
 * bool). FQ_ERR_UNSUPPORTED from the reader, the passes or the session creation means facequant
 * refuses the case: the test is skipped with the reason, unless the case is listed in
 * must_pass.txt (the program's first argument), where a refusal fails. Every other error fails.
 * A per-op table of the outcomes is printed on stdout at the end.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "facequant/fq.h"
#include "test_util.h"

#define DEFAULT_TESTDATA "/usr/share/libonnx-testdata/data/node"
#define MAX_CASE_TENSORS 32
#define LABEL_SIZE 56

typedef enum case_result { CASE_NOT_RUN, CASE_PASSED, CASE_FAILED, CASE_REFUSED } case_result;

typedef struct conf_case {
    char name[160];
    char dir[1024];
    char label[LABEL_SIZE]; /* op type, or "A+B" for a model of several op types */
    bool must_pass;
    case_result result;
    /* What a running case holds; the teardown releases it, also after a failure. */
    fq_graph *model;
    fq_graph *graph;
    fq_graph *tensors;
    fq_session *session;
} conf_case;

/* A float input that fixes an output size, by op type and input position. */
typedef struct size_input {
    const char *op_type;
    int position;
} size_input;

static const size_input size_inputs[] = {
    {"Resize", 1}, {"Resize", 2}, {"Upsample", 1}, {"Range", 0}, {"Range", 1}, {"Range", 2},
};

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void join_path(char *buf, size_t cap, const char *a, const char *b)
{
    if ((size_t)snprintf(buf, cap, "%s/%s", a, b) >= cap)
        fail_msg("path %s/%s is too long", a, b);
}

/* Records the outcome of a failed step and leaves the test: skipped when facequant refused the
 * case and the case is not required to pass, failed otherwise. */
static void leave_case(conf_case *c, fq_status st, const char *step, const fq_error *err)
{
    if (st == FQ_ERR_UNSUPPORTED && !c->must_pass) {
        c->result = CASE_REFUSED;
        print_message("%s: refused at %s: %s\n", c->name, step, err->message);
        skip();
    }
    c->result = CASE_FAILED;
    if (st == FQ_ERR_UNSUPPORTED)
        fail_msg("%s: listed in must_pass.txt but refused at %s: %s", c->name, step,
                 err->message);
    fail_msg("%s: %s failed (%s): %s", c->name, step, fq_status_name(st), err->message);
}

#define CASE_FAIL(c, ...)              \
    do {                               \
        (c)->result = CASE_FAILED;     \
        fail_msg(__VA_ARGS__);         \
    } while (0)

/* Op labels. ------------------------------------------------------------------------------- */

/* Whether the "A+B" label lists op_type already (an empty op type counts as listed). */
static bool label_has(const char *label, const char *op_type)
{
    size_t n = strlen(op_type);
    if (n == 0)
        return true;
    for (const char *p = label; (p = strstr(p, op_type)) != NULL; p += n)
        if ((p == label || p[-1] == '+') && (p[n] == '\0' || p[n] == '+'))
            return true;
    return false;
}

/* Appends op_type to the label; a label that would overflow ends in "+...". */
static void label_add(char *label, const char *op_type)
{
    size_t used = strlen(label);
    if (label_has(label, op_type) || label_has(label, "..."))
        return;
    if (used + strlen(op_type) + 5 >= LABEL_SIZE)
        snprintf(label + used, LABEL_SIZE - used, "+...");
    else
        snprintf(label + used, LABEL_SIZE - used, "%s%s", used > 0 ? "+" : "", op_type);
}

static void label_from_graph(conf_case *c, const fq_graph *graph)
{
    c->label[0] = '\0';
    for (int n = 0; n < graph->n_nodes; n++)
        label_add(c->label, graph->nodes[n].op_type);
}

/* For a model the reader refuses, the op types are read straight from the protobuf: ModelProto
 * field 7 (graph), GraphProto field 1 (node), NodeProto field 4 (op_type). */
static bool read_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char byte = *(*p)++;
        *v |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0)
            return true;
    }
    return false;
}

/* Calls found(field payload) for every length-delimited field numbered field in [p, end). */
static bool scan_fields(const unsigned char *p, const unsigned char *end, uint64_t field,
                        void (*found)(const unsigned char *, size_t, void *), void *user)
{
    while (p < end) {
        uint64_t key, len;
        if (!read_varint(&p, end, &key))
            return false;
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &len))
                return false;
            break;
        case 1:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        case 2:
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return false;
            if (key >> 3 == field)
                found(p, (size_t)len, user);
            p += len;
            break;
        default:
            return false;
        }
    }
    return true;
}

static void found_op_type(const unsigned char *p, size_t len, void *user)
{
    char op_type[LABEL_SIZE];
    len = len < sizeof(op_type) - 1 ? len : sizeof(op_type) - 1;
    memcpy(op_type, p, len);
    op_type[len] = '\0';
    label_add(user, op_type);
}

static void found_node(const unsigned char *p, size_t len, void *user)
{
    scan_fields(p, p + len, 4, found_op_type, user);
}

static void found_graph(const unsigned char *p, size_t len, void *user)
{
    scan_fields(p, p + len, 1, found_node, user);
}

static void label_from_file(conf_case *c, const char *model_path)
{
    size_t size = 0;
    unsigned char *bytes = fq_test_read_file(model_path, &size);
    c->label[0] = '\0';
    if (bytes != NULL)
        scan_fields(bytes, bytes + size, 7, found_graph, c->label);
    free(bytes);
    if (c->label[0] == '\0')
        snprintf(c->label, sizeof(c->label), "(unreadable)");
}

/* Comparison. ------------------------------------------------------------------------------ */

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float magnitude;
    if (exponent == 0)
        magnitude = ldexpf((float)mantissa, -24);
    else if (exponent == 31)
        magnitude = mantissa != 0 ? NAN : INFINITY;
    else
        magnitude = ldexpf((float)(mantissa | 0x400), exponent - 25);
    return sign ? -magnitude : magnitude;
}

static double element_as_double(fq_dtype dtype, const void *data, int64_t i)
{
    switch (dtype) {
    case FQ_DTYPE_F32: return ((const float *)data)[i];
    case FQ_DTYPE_F16: return half_to_float(((const uint16_t *)data)[i]);
    case FQ_DTYPE_I8: return ((const int8_t *)data)[i];
    case FQ_DTYPE_U8: return ((const uint8_t *)data)[i];
    case FQ_DTYPE_BOOL: return ((const uint8_t *)data)[i];
    case FQ_DTYPE_I32: return ((const int32_t *)data)[i];
    case FQ_DTYPE_I64: return (double)((const int64_t *)data)[i];
    default: return NAN;
    }
}

static bool float_close(double got, double ref)
{
    if (isnan(ref) || isnan(got))
        return isnan(ref) && isnan(got);
    if (isinf(ref) || isinf(got))
        return got == ref;
    return fabs(got - ref) <= 1e-4 + 1e-3 * fabs(ref);
}

static bool element_equal(fq_dtype dtype, const void *got, const void *ref, int64_t i)
{
    size_t elem = fq_dtype_size(dtype);
    if (dtype == FQ_DTYPE_F32 || dtype == FQ_DTYPE_F16)
        return float_close(element_as_double(dtype, got, i), element_as_double(dtype, ref, i));
    return memcmp((const char *)got + (size_t)i * elem, (const char *)ref + (size_t)i * elem,
                  elem) == 0;
}

/* Writes the coordinates of flat index i of shape, such as "[0, 2, 1]". */
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

static void compare_output(conf_case *c, int i, const char *name, const fq_tensor *got,
                           const fq_value *ref)
{
    char got_s[128], ref_s[128];
    if (got->dtype != ref->dtype)
        CASE_FAIL(c, "%s: output %d '%s': dtype %s, reference %s", c->name, i, name,
                  fq_dtype_name(got->dtype), fq_dtype_name(ref->dtype));
    if (!fq_shape_equal(&got->shape, &ref->shape))
        CASE_FAIL(c, "%s: output %d '%s': shape %s, reference %s", c->name, i, name,
                  fq_shape_format(&got->shape, got_s, sizeof(got_s)),
                  fq_shape_format(&ref->shape, ref_s, sizeof(ref_s)));

    int64_t numel = fq_shape_numel(&ref->shape);
    for (int64_t e = 0; e < numel; e++) {
        if (element_equal(ref->dtype, got->data, ref->data, e))
            continue;
        char where[160];
        format_index(&ref->shape, e, where, sizeof(where));
        CASE_FAIL(c, "%s: output %d '%s' (%s %s): first mismatch at element %lld %s: got %.9g, "
                  "reference %.9g", c->name, i, name, fq_dtype_name(ref->dtype),
                  fq_shape_format(&ref->shape, ref_s, sizeof(ref_s)), (long long)e, where,
                  element_as_double(ref->dtype, got->data, e),
                  element_as_double(ref->dtype, ref->data, e));
    }
}

/* One data set. ---------------------------------------------------------------------------- */

/* Reads prefix_<i>.pb for i = 0, 1, ... into c->tensors; returns how many there are. */
static int read_tensors(conf_case *c, const char *set_dir, const char *prefix, int *values)
{
    int count = 0;
    for (;; count++) {
        char file[64], path[1200];
        snprintf(file, sizeof(file), "%s_%d.pb", prefix, count);
        join_path(path, sizeof(path), set_dir, file);
        if (!file_exists(path))
            return count;
        if (count == MAX_CASE_TENSORS)
            CASE_FAIL(c, "%s: more than %d %s files", c->name, MAX_CASE_TENSORS, prefix);

        size_t size = 0;
        void *bytes = fq_test_read_file(path, &size);
        if (bytes == NULL)
            CASE_FAIL(c, "%s: cannot read %s", c->name, path);
        fq_error err;
        fq_status st = fq_onnx_read_tensor(c->tensors, bytes, size, &values[count], &err);
        free(bytes);
        if (st != FQ_OK)
            leave_case(c, st, path, &err);
    }
}

static bool feeds_size_input(const fq_graph *graph, int value)
{
    for (int n = 0; n < graph->n_nodes; n++) {
        const fq_node *node = &graph->nodes[n];
        for (size_t k = 0; k < sizeof(size_inputs) / sizeof(size_inputs[0]); k++) {
            int pos = size_inputs[k].position;
            if (strcmp(node->op_type, size_inputs[k].op_type) == 0 && pos < node->n_inputs &&
                node->inputs[pos] == value)
                return true;
        }
    }
    return false;
}

static bool becomes_constant(const fq_graph *graph, int value, fq_dtype dtype)
{
    return dtype == FQ_DTYPE_I64 || dtype == FQ_DTYPE_I32 || feeds_size_input(graph, value);
}

/* Turns graph input `value` into a constant holding the data of tensor ref. */
static void make_constant(conf_case *c, int value, const fq_value *ref)
{
    fq_value *v = &c->graph->values[value];
    v->shape = ref->shape;
    fq_error err;
    fq_status st = fq_value_set_data(c->graph, value, ref->data, false, &err);
    if (st != FQ_OK)
        leave_case(c, st, "making an input constant", &err);
}

/* Binds the input tensors to the graph inputs; the runtime inputs are left in *runtime (tensor
 * indices, matching graph->inputs after the call). */
static int bind_inputs(conf_case *c, const int *tensors, int n_tensors, int *runtime)
{
    fq_graph *graph = c->graph;
    if (n_tensors != graph->n_inputs)
        CASE_FAIL(c, "%s: %d input files for %d graph inputs", c->name, n_tensors,
                  graph->n_inputs);

    int kept = 0;
    for (int i = 0; i < n_tensors; i++) {
        int value = graph->inputs[i];
        const fq_value *ref = &c->tensors->values[tensors[i]];
        fq_value *v = &graph->values[value];
        if (v->dtype != ref->dtype)
            CASE_FAIL(c, "%s: input '%s' is %s in the model, %s in input_%d.pb", c->name,
                      v->name, fq_dtype_name(v->dtype), fq_dtype_name(ref->dtype), i);
        if (becomes_constant(graph, value, ref->dtype)) {
            make_constant(c, value, ref);
            continue;
        }
        fq_error err;
        fq_status st = fq_pass_set_input_shape(graph, v->name, &ref->shape, &err);
        if (st != FQ_OK)
            leave_case(c, st, "fq_pass_set_input_shape", &err);
        graph->inputs[kept] = value;
        runtime[kept++] = tensors[i];
    }
    graph->n_inputs = kept;
    return kept;
}

static void prepare_session(conf_case *c)
{
    fq_error err;
    fq_input_size size = {0};
    fq_status st = fq_passes_run(c->graph, &size, &err);
    if (st != FQ_OK)
        leave_case(c, st, "fq_passes_run", &err);
    st = fq_session_create(c->graph, NULL, &c->session, &err);
    if (st != FQ_OK)
        leave_case(c, st, "fq_session_create", &err);
}

static void set_inputs(conf_case *c, const int *input_values, const int *runtime, int n)
{
    for (int i = 0; i < n; i++) {
        const fq_value *ref = &c->tensors->values[runtime[i]];
        const char *name = c->graph->values[input_values[i]].name;
        int index = fq_session_input_index(c->session, name);
        if (index < 0)
            continue; /* the passes dropped an input no output depends on */

        size_t bytes = (size_t)fq_shape_numel(&ref->shape) * fq_dtype_size(ref->dtype);
        fq_error err;
        fq_status st = fq_session_set_input(c->session, index, ref->data, bytes, &err);
        if (st != FQ_OK)
            CASE_FAIL(c, "%s: setting input '%s': %s", c->name, name, err.message);
    }
}

static void check_outputs(conf_case *c, const int *refs, int n_refs)
{
    if (n_refs != c->graph->n_outputs)
        CASE_FAIL(c, "%s: %d output files for %d graph outputs", c->name, n_refs,
                  c->graph->n_outputs);
    for (int i = 0; i < n_refs; i++) {
        fq_tensor got;
        fq_error err;
        fq_status st = fq_session_output(c->session, i, &got, &err);
        if (st != FQ_OK)
            CASE_FAIL(c, "%s: fq_session_output %d: %s", c->name, i, err.message);
        const char *name = c->graph->values[c->graph->outputs[i]].name;
        compare_output(c, i, name, &got, &c->tensors->values[refs[i]]);
    }
}

static void release(conf_case *c)
{
    fq_session_free(c->session);
    fq_graph_free(c->graph);
    fq_graph_free(c->tensors);
    c->session = NULL;
    c->graph = NULL;
    c->tensors = NULL;
}

static void run_data_set(conf_case *c, const char *set_dir)
{
    fq_error err;
    release(c);
    if (fq_graph_clone(c->model, &c->graph, &err) != FQ_OK ||
        fq_graph_create(&c->tensors, &err) != FQ_OK)
        CASE_FAIL(c, "%s: %s", c->name, err.message);

    int inputs[MAX_CASE_TENSORS], outputs[MAX_CASE_TENSORS], runtime[MAX_CASE_TENSORS];
    int n_in = read_tensors(c, set_dir, "input", inputs);
    int n_out = read_tensors(c, set_dir, "output", outputs);
    int n_runtime = bind_inputs(c, inputs, n_in, runtime);
    int runtime_values[MAX_CASE_TENSORS];
    memcpy(runtime_values, c->graph->inputs, (size_t)n_runtime * sizeof(int));

    prepare_session(c);
    set_inputs(c, runtime_values, runtime, n_runtime);
    fq_status st = fq_session_run(c->session, &err);
    if (st != FQ_OK)
        CASE_FAIL(c, "%s: fq_session_run failed (%s): %s", c->name, fq_status_name(st),
                  err.message);
    check_outputs(c, outputs, n_out);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_set_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Names of the test_data_set_* folders of a case, sorted; returns the count. */
static int list_data_sets(const char *dir, char names[][64], int max)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max)
        if (strncmp(e->d_name, "test_data_set_", 14) == 0 && strlen(e->d_name) < 64)
            snprintf(names[n++], 64, "%s", e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), compare_set_names);
    return n;
}

static void test_case(void **state)
{
    conf_case *c = *state;
    char model_path[1100];
    join_path(model_path, sizeof(model_path), c->dir, "model.onnx");

    fq_error err;
    fq_status st = fq_onnx_read_file(model_path, &c->model, &err);
    if (st != FQ_OK) {
        label_from_file(c, model_path);
        leave_case(c, st, "fq_onnx_read_file", &err);
    }
    label_from_graph(c, c->model);

    char sets[64][64];
    int n_sets = list_data_sets(c->dir, sets, 64);
    if (n_sets == 0)
        CASE_FAIL(c, "%s: no test_data_set_* folder", c->name);
    for (int s = 0; s < n_sets; s++) {
        char set_dir[1200];
        join_path(set_dir, sizeof(set_dir), c->dir, sets[s]);
        run_data_set(c, set_dir);
    }
    c->result = CASE_PASSED;
}

static int case_teardown(void **state)
{
    conf_case *c = *state;
    release(c);
    fq_graph_free(c->model);
    c->model = NULL;
    return 0;
}

/* The case list and must_pass.txt. ---------------------------------------------------------- */

typedef struct name_list {
    char **names;
    int count;
} name_list;

static void name_list_add(name_list *list, const char *name)
{
    list->names = realloc(list->names, (size_t)(list->count + 1) * sizeof(char *));
    list->names[list->count++] = strdup(name);
}

static bool name_list_has(const name_list *list, const char *name)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->names[i], name) == 0)
            return true;
    return false;
}

static void name_list_free(name_list *list)
{
    for (int i = 0; i < list->count; i++)
        free(list->names[i]);
    free(list->names);
}

static bool filter_keeps(const char *name)
{
    const char *filter = getenv("FQ_CONFORMANCE_FILTER");
    return filter == NULL || filter[0] == '\0' || strstr(name, filter) != NULL;
}

/* Reads names one per line; '#' starts a comment, spaces around a name are ignored. */
static bool read_must_pass(const char *path, name_list *list)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *start = line;
        while (*start == ' ' || *start == '\t')
            start++;
        char *end = start + strlen(start);
        while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
                               end[-1] == '\r'))
            *--end = '\0';
        if (*start != '\0')
            name_list_add(list, start);
    }
    fclose(f);
    return true;
}

static void list_cases(const char *root, name_list *list)
{
    DIR *d = opendir(root);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[2048];
        if (e->d_name[0] == '.' || !filter_keeps(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
        if (dir_exists(path))
            name_list_add(list, e->d_name);
    }
    closedir(d);
    qsort(list->names, (size_t)list->count, sizeof(char *), compare_names);
}

static name_list missing_must_pass;

static void test_must_pass_cases_exist(void **state)
{
    (void)state;
    for (int i = 0; i < missing_must_pass.count; i++)
        print_error("must_pass.txt lists %s, which is not in the test data\n",
                    missing_must_pass.names[i]);
    if (missing_must_pass.count > 0)
        fail_msg("%d cases of must_pass.txt are missing", missing_must_pass.count);
}

static void test_testdata_present(void **state)
{
    (void)state;
    const char *require = getenv("FQ_REQUIRE_SHARED");
    if (require != NULL && strcmp(require, "1") == 0)
        fail_msg("the ONNX test data is missing (install libonnx-testdata or set "
                 "FQ_ONNX_TESTDATA); FQ_REQUIRE_SHARED=1 forbids skipping");
    print_message("skipped: the ONNX test data is missing (install libonnx-testdata or set "
                  "FQ_ONNX_TESTDATA)\n");
    skip();
}

/* The per-op table. ------------------------------------------------------------------------- */

typedef struct op_row {
    const char *label;
    int counts[4]; /* by case_result */
} op_row;

static int compare_rows(const void *a, const void *b)
{
    return strcmp(((const op_row *)a)->label, ((const op_row *)b)->label);
}

static void print_row(const char *label, const int *counts)
{
    int total = counts[CASE_NOT_RUN] + counts[CASE_PASSED] + counts[CASE_FAILED] +
                counts[CASE_REFUSED];
    printf("%-56s %6d %7d %7d %8d\n", label, total, counts[CASE_PASSED], counts[CASE_FAILED],
           counts[CASE_REFUSED]);
}

static void print_table(const conf_case *cases, int n)
{
    op_row *rows = calloc((size_t)n + 1, sizeof(op_row));
    int n_rows = 0;
    int totals[4] = {0};
    for (int i = 0; i < n; i++) {
        const char *label = cases[i].label[0] != '\0' ? cases[i].label : "(not run)";
        int r = 0;
        while (r < n_rows && strcmp(rows[r].label, label) != 0)
            r++;
        if (r == n_rows)
            rows[n_rows++].label = label;
        rows[r].counts[cases[i].result]++;
        totals[cases[i].result]++;
    }
    qsort(rows, (size_t)n_rows, sizeof(op_row), compare_rows);

    printf("\n%-56s %6s %7s %7s %8s\n", "op", "cases", "passed", "failed", "refused");
    for (int r = 0; r < n_rows; r++)
        print_row(rows[r].label, rows[r].counts);
    print_row("total", totals);
    free(rows);
}

int main(int argc, char **argv)
{
    const char *root = getenv("FQ_ONNX_TESTDATA");
    if (root == NULL || root[0] == '\0')
        root = DEFAULT_TESTDATA;
    if (!dir_exists(root)) {
        const struct CMUnitTest absent[] = {cmocka_unit_test(test_testdata_present)};
        return cmocka_run_group_tests(absent, NULL, NULL);
    }

    name_list must_pass = {0}, names = {0};
    if (argc > 1 && !read_must_pass(argv[1], &must_pass)) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    list_cases(root, &names);
    for (int i = 0; i < must_pass.count; i++)
        if (filter_keeps(must_pass.names[i]) && !name_list_has(&names, must_pass.names[i]))
            name_list_add(&missing_must_pass, must_pass.names[i]);

    conf_case *cases = calloc((size_t)names.count + 1, sizeof(conf_case));
    struct CMUnitTest *tests = calloc((size_t)names.count + 1, sizeof(struct CMUnitTest));
    for (int i = 0; i < names.count; i++) {
        conf_case *c = &cases[i];
        snprintf(c->name, sizeof(c->name), "%s", names.names[i]);
        snprintf(c->dir, sizeof(c->dir), "%s/%s", root, names.names[i]);
        c->must_pass = name_list_has(&must_pass, names.names[i]);
        tests[i] = (struct CMUnitTest){c->name, test_case, NULL, case_teardown, c};
    }
    tests[names.count] = (struct CMUnitTest){"must_pass_cases_exist", test_must_pass_cases_exist,
                                             NULL, NULL, NULL};

    int failed = _cmocka_run_group_tests("conformance", tests, (size_t)names.count + 1, NULL,
                                         NULL);
    print_table(cases, names.count);

    free(tests);
    free(cases);
    name_list_free(&names);
    name_list_free(&must_pass);
    name_list_free(&missing_must_pass);
    return failed;
}
