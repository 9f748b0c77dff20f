/* The fields of a multipart/form-data request body, collected in memory with limits: the total
 * bytes of field values, the number of fields and the length of a field name. Text values and
 * file contents are both kept as bytes followed by a NUL (so a text value is a C string). */
#ifndef FQ_TOOLS_SERVE_SERVE_FORM_H
#define FQ_TOOLS_SERVE_SERVE_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVE_FORM_MAX_FIELDS 256
#define SERVE_FORM_MAX_NAME 64

typedef struct serve_field {
    char *name;
    char *filename;     /* NULL for a plain value (curl -F name=value) */
    uint8_t *data;      /* size bytes and a NUL */
    size_t size;
    size_t capacity;
} serve_field;

typedef enum serve_form_fault {
    SERVE_FORM_OK = 0,
    SERVE_FORM_TOO_LARGE,   /* the values exceed max_bytes */
    SERVE_FORM_TOO_MANY,    /* more than SERVE_FORM_MAX_FIELDS fields */
    SERVE_FORM_BAD_NAME,    /* a field name empty or longer than SERVE_FORM_MAX_NAME */
    SERVE_FORM_NO_MEMORY
} serve_form_fault;

typedef struct serve_form {
    serve_field *fields;
    int count;
    int capacity;
    size_t total_bytes;
    size_t max_bytes;
    serve_form_fault fault;  /* the first limit hit; collection stops there */
} serve_form;

void serve_form_init(serve_form *form, size_t max_bytes);
void serve_form_free(serve_form *form);

/* Appends bytes to the field name: a new field when offset is 0 and the last field is another
 * one (or already holds bytes), else the continuation of the last field. False once a limit is
 * hit (form->fault says which). */
bool serve_form_add(serve_form *form, const char *name, const char *filename, const char *data,
                    uint64_t offset, size_t size);

/* A message for the fault, naming the limit. */
const char *serve_form_fault_message(serve_form_fault fault);

/* The first field called name, or NULL. */
const serve_field *serve_form_find(const serve_form *form, const char *name);
int serve_form_count(const serve_form *form, const char *name);

#endif
