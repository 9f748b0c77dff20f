/* The HTTP side of fq serve on libmicrohttpd: routing, collecting multipart forms within the
 * upload limit, JSON responses, job threads (the connection is suspended while its job runs),
 * and the daemon's start and stop. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "fq_common.h"
#include "serve_models.h"

#define POST_BUFFER_BYTES (64 * 1024)
#define CONNECTION_TIMEOUT_S 30
#define CONNECTION_LIMIT 256

typedef struct route {
    const char *method;
    const char *url;
    serve_handler handler;
    bool form;          /* takes a multipart/form-data body */
} route;

static const route routes[] = {
    {"GET", "/health", serve_health, false},
    {"GET", "/models", serve_models, false},
    {"POST", "/quantization/convert_model", serve_convert_model, true},
    {"POST", "/quantization/quantize_model", serve_quantize_model, true},
    {"POST", "/quantization/mobile/detect_faces", serve_detect_faces, true},
    {"POST", "/quantization/mobile/recognize_faces", serve_recognize_faces, true},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* One HTTP request, from its first call to its completion. */
typedef struct request {
    serve_server *server;
    struct MHD_Connection *connection;
    const route *route;
    struct MHD_PostProcessor *post;
    serve_form form;
    serve_answer answer;
    bool failed;        /* answer holds an error; the rest of the body is discarded */
    size_t received;
    serve_job *job;     /* running (the connection suspended) or done */
    bool responded;     /* a response is queued */
} request;

/* ---- the endpoints without a form ---- */

bool serve_health(serve_server *server, const serve_form *form, serve_answer *answer,
                  serve_job **job)
{
    (void)form;
    (void)job;
    if (!serve_answer_ok(answer))
        return true;
    pthread_mutex_lock(&server->lock);
    long long requests = server->requests, finished = server->jobs_finished;
    int running = server->jobs_running;
    pthread_mutex_unlock(&server->lock);
    cJSON *body = answer->body;
    bool ok = cJSON_AddStringToObject(body, "status", "ok") != NULL &&
              cJSON_AddStringToObject(body, "version", FQ_VERSION_STRING) != NULL &&
              serve_json_add_number(body, "uptime_s", (fq_tool_now_ms() - server->start_ms) /
                                                      1000.0, 1) &&
              cJSON_AddNumberToObject(body, "requests", (double)requests) != NULL &&
              cJSON_AddNumberToObject(body, "jobs_running", running) != NULL &&
              cJSON_AddNumberToObject(body, "jobs_finished", (double)finished) != NULL &&
              cJSON_AddNumberToObject(body, "threads", server->config.threads) != NULL;
    if (!ok)
        serve_answer_error(answer, 500, "out of memory writing the answer");
    return true;
}

bool serve_models(serve_server *server, const serve_form *form, serve_answer *answer,
                  serve_job **job)
{
    (void)form;
    (void)job;
    if (!serve_answer_ok(answer))
        return true;
    cJSON *body = answer->body;
    cJSON *list = cJSON_AddArrayToObject(body, "models");
    bool ok = list != NULL &&
              cJSON_AddStringToObject(body, "detector", server->config.detector) != NULL &&
              cJSON_AddStringToObject(body, "recognizer", server->config.recognizer) != NULL &&
              cJSON_AddStringToObject(body, "models_dir", server->models_real) != NULL &&
              cJSON_AddStringToObject(body, "work_dir", server->work_real) != NULL &&
              serve_models_json(server, list);
    if (!ok)
        serve_answer_error(answer, 500, "out of memory writing the answer");
    return true;
}

/* ---- responses ---- */

static enum MHD_Result respond(struct MHD_Connection *connection, const serve_answer *answer)
{
    static const char fallback[] = "{\"success\": false, \"error\": \"out of memory\"}";
    char *text = answer->body != NULL ? cJSON_PrintUnformatted(answer->body) : NULL;
    unsigned status = text != NULL ? answer->status : 500;
    if (status >= 500)
        fprintf(stderr, "fq serve: %u %s\n", status, text != NULL ? text : fallback);
    struct MHD_Response *response = text != NULL
        ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY)
        : MHD_create_response_from_buffer(sizeof(fallback) - 1, (void *)fallback,
                                          MHD_RESPMEM_PERSISTENT);
    cJSON_free(text);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

static void fail(request *r, unsigned status, const char *message)
{
    if (r->failed)
        return;
    serve_answer_error(&r->answer, status, "%s", message);
    r->failed = true;
}

/* ---- the first call: route, limits, form parser ---- */

static const route *find_route(const char *method, const char *url, request *r)
{
    bool url_known = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (strcmp(url, routes[i].url) != 0)
            continue;
        url_known = true;
        if (strcmp(method, routes[i].method) == 0)
            return &routes[i];
    }
    char message[256];
    if (url_known) {
        snprintf(message, sizeof(message), "%.16s is not allowed on %.128s", method, url);
        fail(r, 405, message);
    } else {
        snprintf(message, sizeof(message), "no endpoint %.128s; see GET /health, GET /models "
                 "and the POST endpoints under /quantization/", url);
        fail(r, 404, message);
    }
    return NULL;
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    request *r = cls;
    return serve_form_add(&r->form, key, filename, data, off, size) ? MHD_YES : MHD_NO;
}

static void upload_limit_message(const request *r, char *message, size_t size)
{
    snprintf(message, size, "the upload is over the limit of %zu bytes (--max-upload-mb)",
             r->server->config.max_upload_bytes);
}

/* The declared Content-Length over the limit answers 413 at once, before any body is read. */
static bool declared_too_large(request *r)
{
    const char *length = MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length == NULL || strtoull(length, NULL, 10) <= r->server->config.max_upload_bytes)
        return false;
    char message[160];
    upload_limit_message(r, message, sizeof(message));
    fail(r, 413, message);
    return true;
}

static void open_form(request *r)
{
    const char *type = MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    if (type == NULL || strncasecmp(type, "multipart/form-data", 19) != 0) {
        fail(r, 400, "the endpoint takes a multipart/form-data body (curl -F name=value)");
        return;
    }
    serve_form_init(&r->form, r->server->config.max_upload_bytes);
    r->post = MHD_create_post_processor(r->connection, POST_BUFFER_BYTES, on_field, r);
    if (r->post == NULL)
        fail(r, 400, "malformed multipart/form-data header (no boundary)");
}

static enum MHD_Result begin(serve_server *server, struct MHD_Connection *connection,
                             const char *url, const char *method, void **con_cls)
{
    request *r = fq_calloc(1, sizeof(*r));
    if (r == NULL)
        return MHD_NO;
    r->server = server;
    r->connection = connection;
    *con_cls = r;
    pthread_mutex_lock(&server->lock);
    server->requests++;
    pthread_mutex_unlock(&server->lock);

    r->route = find_route(method, url, r);
    if (r->route == NULL || !r->route->form)
        return MHD_YES;
    if (declared_too_large(r)) {
        r->responded = true;
        return respond(connection, &r->answer);
    }
    open_form(r);
    return MHD_YES;
}

/* ---- the body ---- */

static void take_body(request *r, const char *data, size_t size)
{
    r->received += size;
    if (r->failed || r->post == NULL)
        return;
    char message[160];
    if (r->received > r->server->config.max_upload_bytes) {
        upload_limit_message(r, message, sizeof(message));
        fail(r, 413, message);
        return;
    }
    if (MHD_post_process(r->post, data, size) == MHD_YES)
        return;
    if (r->form.fault == SERVE_FORM_TOO_LARGE) {
        upload_limit_message(r, message, sizeof(message));
        fail(r, 413, message);
    } else if (r->form.fault == SERVE_FORM_NO_MEMORY) {
        fail(r, 500, serve_form_fault_message(r->form.fault));
    } else if (r->form.fault != SERVE_FORM_OK) {
        fail(r, 400, serve_form_fault_message(r->form.fault));
    } else {
        fail(r, 400, "malformed multipart/form-data body");
    }
}

/* ---- jobs ---- */

static void *job_thread(void *arg)
{
    request *r = arg;
    serve_server *server = r->server;
    r->job->run(r->job);
    /* After the resume the request may be answered and freed: touch it no more. */
    MHD_resume_connection(r->connection);
    pthread_mutex_lock(&server->lock);
    server->jobs_running--;
    server->jobs_finished++;
    pthread_cond_broadcast(&server->jobs_done);
    pthread_mutex_unlock(&server->lock);
    return NULL;
}

static bool reserve_job(serve_server *server)
{
    pthread_mutex_lock(&server->lock);
    bool free_slot = server->jobs_running < server->config.max_jobs;
    if (free_slot)
        server->jobs_running++;
    pthread_mutex_unlock(&server->lock);
    return free_slot;
}

static void release_job(serve_server *server)
{
    pthread_mutex_lock(&server->lock);
    server->jobs_running--;
    pthread_cond_broadcast(&server->jobs_done);
    pthread_mutex_unlock(&server->lock);
}

/* Suspends the connection and runs the job on its own thread; false (with the answer set)
 * when it cannot start. */
static bool start_job(request *r, serve_job *job)
{
    if (!reserve_job(r->server)) {
        serve_job_free(job);
        serve_answer_error(&r->answer, 429, "%d conversions or quantizations are running; "
                           "try again when one is done", r->server->config.max_jobs);
        return false;
    }
    r->job = job;
    MHD_suspend_connection(r->connection);
    pthread_attr_t attr;
    pthread_t thread;
    bool started = pthread_attr_init(&attr) == 0;
    if (started) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, job_thread, r) == 0;
        pthread_attr_destroy(&attr);
    }
    if (started)
        return true;
    release_job(r->server);
    serve_answer_error(&job->answer, 500, "cannot start a thread for the job");
    MHD_resume_connection(r->connection);
    return true;
}

/* ---- the last call ---- */

static enum MHD_Result dispatch(request *r)
{
    if (r->post != NULL) {
        bool complete = MHD_destroy_post_processor(r->post) == MHD_YES;
        r->post = NULL;
        if (!complete && r->form.fault == SERVE_FORM_OK)
            fail(r, 400, "the multipart/form-data body ends in the middle of a part");
    }
    if (r->failed)
        return respond(r->connection, &r->answer);

    serve_job *job = NULL;
    if (r->route->handler(r->server, &r->form, &r->answer, &job) || job == NULL)
        return respond(r->connection, &r->answer);
    if (start_job(r, job))
        return MHD_YES;
    return respond(r->connection, &r->answer);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    request *r = *con_cls;
    if (r == NULL)
        return begin(cls, connection, url, method, con_cls);
    if (*upload_data_size > 0) {
        take_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* A body without Content-Length is read to its end, so the client gets the 413, unless
         * it goes on past twice the limit: then it is answered at once and cut off. */
        size_t cut_off = 2 * r->server->config.max_upload_bytes;
        if (r->failed && r->answer.status == 413 && r->received > cut_off && !r->responded) {
            r->responded = true;
            return respond(connection, &r->answer);
        }
        return MHD_YES;
    }
    if (r->responded)
        return MHD_YES;
    if (r->job != NULL) {
        serve_answer_clear(&r->answer);
        r->answer = r->job->answer;
        r->job->answer = (serve_answer){0, NULL};
        return respond(connection, &r->answer);
    }
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)connection;
    (void)code;
    request *r = *con_cls;
    if (r == NULL)
        return;
    if (r->post != NULL)
        MHD_destroy_post_processor(r->post);
    serve_form_free(&r->form);
    serve_answer_clear(&r->answer);
    serve_job_free(r->job);
    fq_free(r);
    *con_cls = NULL;
}

/* ---- the daemon ---- */

static struct MHD_Daemon *start_daemon(serve_server *server)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)server->config.port);
    if (inet_pton(AF_INET, server->config.bind, &addr.sin_addr) != 1) {
        fq_tool_fail("serve", "--bind takes an IPv4 address, not '%s'", server->config.bind);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_AUTO;
    struct MHD_Daemon *daemon = MHD_start_daemon(
        flags, (uint16_t)server->config.port, NULL, NULL, on_request, server,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)server->config.threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
        MHD_OPTION_END);
    if (daemon == NULL)
        fq_tool_fail("serve", "cannot listen on %s:%d (in use, or not allowed)",
                     server->config.bind, server->config.port);
    return daemon;
}

static unsigned bound_port(struct MHD_Daemon *daemon, int fallback)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info != NULL && info->port != 0 ? info->port : (unsigned)fallback;
}

static void wait_for_jobs(serve_server *server)
{
    pthread_mutex_lock(&server->lock);
    while (server->jobs_running > 0)
        pthread_cond_wait(&server->jobs_done, &server->lock);
    pthread_mutex_unlock(&server->lock);
}

int serve_run(serve_server *server)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    /* Blocked before the daemon's threads start, so only sigwait below receives them. */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct MHD_Daemon *daemon = start_daemon(server);
    if (daemon == NULL)
        return FQ_EXIT_FAILURE;
    fprintf(stderr, "fq serve: listening on http://%s:%u (%d threads; models %s, work %s)\n",
            server->config.bind, bound_port(daemon, server->config.port), server->config.threads,
            server->models_real, server->work_real);

    int signal_number = 0;
    sigwait(&stop, &signal_number);
    fprintf(stderr, "fq serve: signal %d: finishing the running jobs, then stopping\n",
            signal_number);
    MHD_socket listener = MHD_quiesce_daemon(daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    wait_for_jobs(server);
    MHD_stop_daemon(daemon);
    fprintf(stderr, "fq serve: stopped\n");
    return FQ_EXIT_OK;
}
