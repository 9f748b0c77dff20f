/* The JSON answers of the server and the checks of form fields they start from. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

void serve_answer_clear(serve_answer *answer)
{
    cJSON_Delete(answer->body);
    answer->body = NULL;
    answer->status = 0;
}

bool serve_answer_ok(serve_answer *answer)
{
    serve_answer_clear(answer);
    answer->body = cJSON_CreateObject();
    if (answer->body == NULL || cJSON_AddTrueToObject(answer->body, "success") == NULL) {
        serve_answer_clear(answer);
        answer->status = 500;
        return false;
    }
    answer->status = 200;
    return true;
}

bool serve_answer_error(serve_answer *answer, unsigned status, const char *format, ...)
{
    char message[FQ_ERROR_MESSAGE_SIZE + 256];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);

    serve_answer_clear(answer);
    answer->status = status;
    answer->body = cJSON_CreateObject();
    if (answer->body != NULL && (cJSON_AddFalseToObject(answer->body, "success") == NULL ||
                                 cJSON_AddStringToObject(answer->body, "error", message) == NULL))
        serve_answer_clear(answer);
    if (answer->body == NULL)
        answer->status = 500;
    return false;
}

unsigned serve_status_of(fq_status status)
{
    switch (status) {
    case FQ_OK: return 200;
    case FQ_ERR_INVALID_ARG:
    case FQ_ERR_PARSE:
    case FQ_ERR_UNSUPPORTED:
    case FQ_ERR_SHAPE: return 400;
    case FQ_ERR_IO: return 404;
    case FQ_ERR_NO_MEMORY:
    case FQ_ERR_INTERNAL: return 500;
    }
    return 500;
}

bool serve_json_add_number(cJSON *object, const char *key, double value, int decimals)
{
    if (!isfinite(value))
        return cJSON_AddNullToObject(object, key) != NULL;
    return cJSON_AddItemToObject(object, key, fq_tool_json_number(value, decimals));
}

static bool is_allowed(const char *name, const char *const *allowed)
{
    for (int i = 0; allowed[i] != NULL; i++)
        if (strcmp(name, allowed[i]) == 0)
            return true;
    return false;
}

static void list_names(const char *const *allowed, char *out, size_t size)
{
    out[0] = '\0';
    for (int i = 0; allowed[i] != NULL; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i > 0 ? ", " : "", allowed[i]);
    }
}

bool serve_check_fields(const serve_form *form, const char *endpoint,
                        const char *const *allowed, const char *repeatable,
                        serve_answer *answer)
{
    char names[512];
    list_names(allowed, names, sizeof(names));
    for (int i = 0; i < form->count; i++) {
        const char *name = form->fields[i].name;
        if (!is_allowed(name, allowed))
            return serve_answer_error(answer, 400, "unknown field '%.64s'; %s takes %s", name,
                                      endpoint, names);
        bool may_repeat = repeatable != NULL && strcmp(name, repeatable) == 0;
        if (!may_repeat && serve_form_count(form, name) > 1)
            return serve_answer_error(answer, 400, "field '%s' is given more than once", name);
    }
    return true;
}

bool serve_text_field(const serve_form *form, const char *name, bool required,
                      const char **value, serve_answer *answer)
{
    const serve_field *field = serve_form_find(form, name);
    *value = NULL;
    if (field == NULL && required)
        return serve_answer_error(answer, 400, "missing field '%s'", name);
    if (field == NULL)
        return true;
    if (field->filename != NULL)
        return serve_answer_error(answer, 400, "field '%s' takes a value, not a file upload",
                                  name);
    if (strlen((const char *)field->data) != field->size)
        return serve_answer_error(answer, 400, "field '%s' holds a NUL byte", name);
    *value = (const char *)field->data;
    return true;
}

bool serve_file_field(const serve_form *form, const char *name, const serve_field **field,
                      serve_answer *answer)
{
    *field = serve_form_find(form, name);
    if (*field == NULL)
        return serve_answer_error(answer, 400, "missing field '%s' (a file: -F %s=@FILE)", name,
                                  name);
    if ((*field)->filename == NULL)
        return serve_answer_error(answer, 400, "field '%s' must be a file upload "
                                  "(-F %s=@FILE), not a value", name, name);
    if ((*field)->size == 0)
        return serve_answer_error(answer, 400, "file '%s' of field '%s' is empty",
                                  (*field)->filename, name);
    return true;
}

bool serve_float_field(const serve_form *form, const char *name, double lo, double hi,
                       float *value, serve_answer *answer)
{
    const char *text;
    if (!serve_text_field(form, name, false, &text, answer))
        return false;
    if (text == NULL)
        return true;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(v))
        return serve_answer_error(answer, 400, "field '%s' takes a number, not '%.64s'", name,
                                  text);
    if (v < lo || v > hi)
        return serve_answer_error(answer, 400, "field '%s' is %g; it takes %g to %g", name, v,
                                  lo, hi);
    *value = (float)v;
    return true;
}

bool serve_int_field(const serve_form *form, const char *name, int lo, int hi, int *value,
                     serve_answer *answer)
{
    const char *text;
    if (!serve_text_field(form, name, false, &text, answer))
        return false;
    if (text == NULL)
        return true;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0)
        return serve_answer_error(answer, 400, "field '%s' takes an integer, not '%.64s'", name,
                                  text);
    if (v < lo || v > hi)
        return serve_answer_error(answer, 400, "field '%s' is %ld; it takes %d to %d", name, v,
                                  lo, hi);
    *value = (int)v;
    return true;
}
