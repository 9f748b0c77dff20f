/* The models the server answers with. A model is a stem (det_500m) and a variant: fp32 is
 * STEM.onnx in the models folder (else a converted STEM.fqm in the work or models folder);
 * int8, fp16 and dynamic are STEM.VARIANT.fqm in the work or models folder, as quantize_model
 * writes them. Each file is loaded and planned once and its graph shared read-only; requests
 * lease a session of it (sessions are kept for reuse, one per concurrent request). A file that
 * changes on disk (a new quantization) is loaded anew on the next lease, and the old graph is
 * freed when its last lease returns. */
#ifndef FQ_TOOLS_SERVE_SERVE_MODELS_H
#define FQ_TOOLS_SERVE_SERVE_MODELS_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "serve.h"

typedef enum serve_variant {
    SERVE_FP32 = 0,
    SERVE_FP16,
    SERVE_INT8,
    SERVE_DYNAMIC,
    SERVE_VARIANT_COUNT
} serve_variant;

const char *serve_variant_name(serve_variant variant);
bool serve_variant_parse(const char *text, serve_variant *variant);

#define SERVE_MAX_IDLE_SESSIONS 8

typedef struct serve_model {
    char path[FQ_TOOL_PATH_SIZE];
    char stem[256];
    dev_t device;              /* identity of the file loaded, to notice a replaced file */
    ino_t inode;
    struct timespec mtime;
    off_t size;
    fq_graph *graph;
    fq_model_card card;        /* input size and embedding size filled from the graph */
    fq_session *idle[SERVE_MAX_IDLE_SESSIONS];
    int n_idle;
    int users;
    bool retired;
    struct serve_model *next;
} serve_model;

/* A model and a session of it, held by one request. */
typedef struct serve_lease {
    serve_model *model;
    fq_session *session;
} serve_lease;

fq_status serve_registry_create(serve_registry **out, fq_error *err);
void serve_registry_free(serve_registry *registry);

/* The model's stem without folder, .onnx/.fqm and variant suffix: det_500m.int8.fqm ->
 * det_500m; *variant (may be NULL) gets the variant the name says. */
void serve_base_stem(const char *path, char *stem, size_t size, serve_variant *variant);

/* The file of a stem's variant; false when there is none. */
bool serve_variant_path(const serve_server *server, const char *stem, serve_variant variant,
                        char *path, size_t size);
/* "fp32, int8": the variants of stem that exist ("none" when none). */
void serve_variant_list(const serve_server *server, const char *stem, char *out, size_t size);

/* Leases a session of stem's variant, loading the model on first use. Answers 404 (naming the
 * variants that exist) when the file is missing, 400 when it is no model of role, 500 when it
 * fails to load. */
bool serve_model_lease(serve_server *server, const char *stem, serve_variant variant,
                       fq_model_role role, serve_lease *lease, serve_answer *answer);
void serve_model_return(serve_server *server, serve_lease *lease);

/* {"name", "role", "variants": {"fp32": path, ...}} for every model in the folders. */
bool serve_models_json(const serve_server *server, cJSON *list);

#endif
