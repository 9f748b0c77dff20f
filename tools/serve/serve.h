/* fq serve: the HTTP API on libmicrohttpd. What the parts of the server share: its settings,
 * the answer every endpoint builds (an HTTP status and a JSON body), and the endpoint handlers.
 *
 * The parts: cmd_serve.c (options, start, stop), serve_http.c (connections, routing, form
 * collection, responses), serve_form.c (multipart fields with limits), serve_models.c (the
 * model variants, loaded once and shared), serve_face.c (detect_faces, recognize_faces),
 * serve_jobs.c (convert_model, quantize_model on their own threads), serve_json.c (answers). */
#ifndef FQ_TOOLS_SERVE_SERVE_H
#define FQ_TOOLS_SERVE_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "face_common.h"
#include "serve_form.h"

#define SERVE_DEFAULT_PORT 8100
#define SERVE_DEFAULT_THREADS 2
#define SERVE_DEFAULT_MAX_UPLOAD_MB 16
#define SERVE_DEFAULT_MAX_IMAGE_SIDE 4096
#define SERVE_DEFAULT_MAX_JOBS 2

typedef struct serve_config {
    const char *bind;           /* IPv4 address to listen on */
    int port;                   /* 0: any free port (printed on stderr) */
    const char *models_dir;
    const char *work_dir;
    const char *detector;       /* stems of the default models */
    const char *recognizer;
    int threads;                /* HTTP worker threads */
    size_t max_upload_bytes;    /* a request body over this is answered 413 */
    int max_image_side;         /* images wider or higher are answered 400 */
    int max_jobs;               /* conversions and quantizations running at once */
} serve_config;

typedef struct serve_registry serve_registry;

typedef struct serve_server {
    serve_config config;
    char models_real[FQ_TOOL_PATH_SIZE]; /* realpath of the folders */
    char work_real[FQ_TOOL_PATH_SIZE];
    serve_registry *registry;
    double start_ms;

    pthread_mutex_t lock;       /* guards the counters below */
    pthread_cond_t jobs_done;
    int jobs_running;
    long long requests;
    long long jobs_finished;
} serve_server;

/* What an endpoint answers: an HTTP status and a JSON body (owned; NULL until set). */
typedef struct serve_answer {
    unsigned status;
    cJSON *body;
} serve_answer;

/* A body {"success": true}; false when out of memory (the answer is then a 500). */
bool serve_answer_ok(serve_answer *answer);
/* Replaces the answer by {"success": false, "error": message}. Always returns false, so a
 * check can `return serve_answer_error(...)`. */
bool serve_answer_error(serve_answer *answer, unsigned status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The status an fq_error maps to: bad input (parse, unsupported, argument, shape) 400, a
 * missing file 404, out of memory and internal faults 500. */
unsigned serve_status_of(fq_status status);
void serve_answer_clear(serve_answer *answer);
/* Adds a number rounded to decimals; false when out of memory. */
bool serve_json_add_number(cJSON *object, const char *key, double value, int decimals);

/* Field checks of a form; each answers 400 naming the field and returns false on failure. */
/* Every field is one of allowed (NULL-terminated), and only repeatable (or NULL) repeats. */
bool serve_check_fields(const serve_form *form, const char *endpoint,
                        const char *const *allowed, const char *repeatable,
                        serve_answer *answer);
/* A plain (not file) value; *value is NULL when the field is absent and not required. */
bool serve_text_field(const serve_form *form, const char *name, bool required,
                      const char **value, serve_answer *answer);
/* A file upload (curl -F name=@file). */
bool serve_file_field(const serve_form *form, const char *name, const serve_field **field,
                      serve_answer *answer);
/* A number in [lo, hi]; *value is left alone when the field is absent. */
bool serve_float_field(const serve_form *form, const char *name, double lo, double hi,
                       float *value, serve_answer *answer);
bool serve_int_field(const serve_form *form, const char *name, int lo, int hi, int *value,
                     serve_answer *answer);

/* A long-running endpoint's work, done on its own thread while the connection waits. The
 * handler fills run and params; the HTTP layer starts the thread and answers with answer. */
typedef struct serve_job {
    serve_server *server;
    void (*run)(struct serve_job *job);
    void *params;
    void (*free_params)(void *params);
    serve_answer answer;
} serve_job;

/* An endpoint: answers from a complete form (returns true), or sets *job to work that goes to
 * its own thread (returns false). */
typedef bool (*serve_handler)(serve_server *server, const serve_form *form, serve_answer *answer,
                              serve_job **job);

bool serve_health(serve_server *server, const serve_form *form, serve_answer *answer,
                  serve_job **job);
bool serve_models(serve_server *server, const serve_form *form, serve_answer *answer,
                  serve_job **job);
bool serve_detect_faces(serve_server *server, const serve_form *form, serve_answer *answer,
                        serve_job **job);
bool serve_recognize_faces(serve_server *server, const serve_form *form, serve_answer *answer,
                           serve_job **job);
bool serve_convert_model(serve_server *server, const serve_form *form, serve_answer *answer,
                         serve_job **job);
bool serve_quantize_model(serve_server *server, const serve_form *form, serve_answer *answer,
                          serve_job **job);

/* A new job of server (zeroed but for server); NULL when out of memory. */
serve_job *serve_job_new(serve_server *server);
void serve_job_free(serve_job *job);

/* Starts the daemon and serves until SIGINT or SIGTERM; returns an exit code. */
int serve_run(serve_server *server);

#endif
