/* Multipart form fields collected in memory, within limits. */
#include <string.h>

#include "facequant/alloc.h"
#include "serve_form.h"

void serve_form_init(serve_form *form, size_t max_bytes)
{
    memset(form, 0, sizeof(*form));
    form->max_bytes = max_bytes;
}

void serve_form_free(serve_form *form)
{
    for (int i = 0; i < form->count; i++) {
        fq_free(form->fields[i].name);
        fq_free(form->fields[i].filename);
        fq_free(form->fields[i].data);
    }
    fq_free(form->fields);
    memset(form, 0, sizeof(*form));
}

const char *serve_form_fault_message(serve_form_fault fault)
{
    switch (fault) {
    case SERVE_FORM_OK: return "no fault";
    case SERVE_FORM_TOO_LARGE: return "the form's values exceed the upload limit";
    case SERVE_FORM_TOO_MANY: return "the form has more than 256 fields";
    case SERVE_FORM_BAD_NAME: return "a form field name is empty or longer than 64 characters";
    case SERVE_FORM_NO_MEMORY: return "out of memory collecting the form";
    }
    return "unknown form fault";
}

static bool fail(serve_form *form, serve_form_fault fault)
{
    if (form->fault == SERVE_FORM_OK)
        form->fault = fault;
    return false;
}

static serve_field *no_field(serve_form *form, serve_form_fault fault)
{
    fail(form, fault);
    return NULL;
}

static bool same_field(const serve_field *field, const char *name, const char *filename)
{
    if (strcmp(field->name, name) != 0)
        return false;
    if ((field->filename == NULL) != (filename == NULL))
        return false;
    return filename == NULL || strcmp(field->filename, filename) == 0;
}

static serve_field *new_field(serve_form *form, const char *name, const char *filename)
{
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len > SERVE_FORM_MAX_NAME)
        return no_field(form, SERVE_FORM_BAD_NAME);
    if (form->count == SERVE_FORM_MAX_FIELDS)
        return no_field(form, SERVE_FORM_TOO_MANY);
    if (form->count == form->capacity) {
        int grown = form->capacity == 0 ? 8 : form->capacity * 2;
        serve_field *bigger = fq_realloc(form->fields, (size_t)grown * sizeof(*bigger));
        if (bigger == NULL)
            return no_field(form, SERVE_FORM_NO_MEMORY);
        form->fields = bigger;
        form->capacity = grown;
    }

    serve_field *field = &form->fields[form->count];
    memset(field, 0, sizeof(*field));
    field->name = fq_strdup(name);
    field->filename = filename != NULL ? fq_strdup(filename) : NULL;
    field->data = fq_malloc(1);
    if (field->name == NULL || (filename != NULL && field->filename == NULL) ||
        field->data == NULL) {
        fq_free(field->name);
        fq_free(field->filename);
        fq_free(field->data);
        return no_field(form, SERVE_FORM_NO_MEMORY);
    }
    field->data[0] = '\0';
    field->capacity = 1;
    form->count++;
    return field;
}

static bool append_bytes(serve_form *form, serve_field *field, const char *data, size_t size)
{
    if (size > form->max_bytes - form->total_bytes)
        return fail(form, SERVE_FORM_TOO_LARGE);
    if (field->size + size + 1 > field->capacity) {
        size_t grown = field->capacity * 2;
        if (grown < field->size + size + 1)
            grown = field->size + size + 1;
        uint8_t *bigger = fq_realloc(field->data, grown);
        if (bigger == NULL)
            return fail(form, SERVE_FORM_NO_MEMORY);
        field->data = bigger;
        field->capacity = grown;
    }
    memcpy(field->data + field->size, data, size);
    field->size += size;
    field->data[field->size] = '\0';
    form->total_bytes += size;
    return true;
}

bool serve_form_add(serve_form *form, const char *name, const char *filename, const char *data,
                    uint64_t offset, size_t size)
{
    if (form->fault != SERVE_FORM_OK)
        return false;
    if (name == NULL)
        return fail(form, SERVE_FORM_BAD_NAME);

    serve_field *last = form->count > 0 ? &form->fields[form->count - 1] : NULL;
    bool continues = last != NULL && same_field(last, name, filename) &&
                     (offset > 0 || last->size == 0);
    serve_field *field = continues ? last : new_field(form, name, filename);
    if (field == NULL)
        return false;
    return size == 0 || append_bytes(form, field, data, size);
}

const serve_field *serve_form_find(const serve_form *form, const char *name)
{
    for (int i = 0; i < form->count; i++)
        if (strcmp(form->fields[i].name, name) == 0)
            return &form->fields[i];
    return NULL;
}

int serve_form_count(const serve_form *form, const char *name)
{
    int n = 0;
    for (int i = 0; i < form->count; i++)
        n += strcmp(form->fields[i].name, name) == 0;
    return n;
}
