/* facequant: status codes and error reports.
 *
 * Every library function that can fail returns an fq_status and takes an optional fq_error as its
 * last argument. On failure the error receives the status and one line saying what was wrong and
 * where (byte offset, node name, op type). Passing NULL for the error is allowed: the status alone
 * is then returned. The library never prints, aborts or exits.
 */
#ifndef FACEQUANT_STATUS_H
#define FACEQUANT_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fq_status {
    FQ_OK = 0,
    FQ_ERR_INVALID_ARG,   /* a caller passed a bad argument */
    FQ_ERR_PARSE,         /* a file is truncated, oversized or malformed */
    FQ_ERR_UNSUPPORTED,   /* valid input that facequant does not handle (op, opset, dtype) */
    FQ_ERR_SHAPE,         /* shapes that do not fit together, or are unknown where needed */
    FQ_ERR_NO_MEMORY,     /* an allocation failed, or a caller-provided arena is too small */
    FQ_ERR_IO,            /* a file could not be opened, read or written */
    FQ_ERR_INTERNAL       /* a broken invariant inside facequant: a bug */
} fq_status;

#define FQ_ERROR_MESSAGE_SIZE 512

typedef struct fq_error {
    fq_status status;
    char message[FQ_ERROR_MESSAGE_SIZE];
} fq_error;

/* Short name of a status, such as "parse error". Never NULL. */
const char *fq_status_name(fq_status status);

/* Records a formatted message in err (if not NULL) and returns status, so a failing path can
 * say `return fq_error_set(err, FQ_ERR_PARSE, "...", ...);`. */
fq_status fq_error_set(fq_error *err, fq_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Puts "prefix: " in front of the message already in err, to add context on the way out. */
fq_status fq_error_prefix(fq_error *err, fq_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Empties err (status FQ_OK, empty message). */
void fq_error_clear(fq_error *err);

#ifdef __cplusplus
}
#endif

#endif
