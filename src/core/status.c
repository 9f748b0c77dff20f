/* Status names and error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "facequant/status.h"

const char *fq_status_name(fq_status status)
{
    switch (status) {
    case FQ_OK: return "ok";
    case FQ_ERR_INVALID_ARG: return "invalid argument";
    case FQ_ERR_PARSE: return "parse error";
    case FQ_ERR_UNSUPPORTED: return "unsupported";
    case FQ_ERR_SHAPE: return "shape error";
    case FQ_ERR_NO_MEMORY: return "out of memory";
    case FQ_ERR_IO: return "i/o error";
    case FQ_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

fq_status fq_error_set(fq_error *err, fq_status status, const char *format, ...)
{
    if (err != NULL) {
        va_list args;
        va_start(args, format);
        vsnprintf(err->message, sizeof(err->message), format, args);
        va_end(args);
        err->status = status;
    }
    return status;
}

fq_status fq_error_prefix(fq_error *err, fq_status status, const char *format, ...)
{
    if (err != NULL) {
        char prefix[FQ_ERROR_MESSAGE_SIZE];
        char old[FQ_ERROR_MESSAGE_SIZE];
        va_list args;

        va_start(args, format);
        vsnprintf(prefix, sizeof(prefix), format, args);
        va_end(args);
        memcpy(old, err->message, sizeof(old));
        old[sizeof(old) - 1] = '\0';
        size_t used = strlen(prefix);
        memcpy(err->message, prefix, used + 1);
        if (used + 2 < sizeof(err->message)) {
            memcpy(err->message + used, ": ", 3);
            used += 2;
            size_t room = sizeof(err->message) - used - 1;
            size_t len = strlen(old);
            len = len < room ? len : room;
            memcpy(err->message + used, old, len);
            err->message[used + len] = '\0';
        }
        err->status = status;
    }
    return status;
}

void fq_error_clear(fq_error *err)
{
    if (err != NULL) {
        err->status = FQ_OK;
        err->message[0] = '\0';
    }
}
