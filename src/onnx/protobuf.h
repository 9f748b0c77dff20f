/* The protobuf wire format, read with bounds checks at every step.
 *
 * A cursor walks a byte range and knows the absolute file offset of its first byte, so every
 * error names where in the file it happened: "byte 1234: TensorProto.raw_data: length 5000
 * exceeds the 200 bytes left". The `what` arguments name the field being read in that form
 * ("TensorProto.raw_data"); `message` arguments name the message ("TensorProto").
 *
 * Every failure is FQ_ERR_PARSE (FQ_ERR_NO_MEMORY when a list cannot grow). Nothing is allocated
 * except by the repeated-field readers, whose lists grow only by as many elements as the bytes
 * read can hold.
 */
#ifndef FQ_ONNX_PROTOBUF_H
#define FQ_ONNX_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facequant/status.h"

typedef enum fq_pb_wire {
    FQ_PB_VARINT = 0,
    FQ_PB_FIXED64 = 1,
    FQ_PB_LEN = 2,     /* length-delimited: bytes, strings, sub-messages, packed arrays */
    FQ_PB_FIXED32 = 5
} fq_pb_wire;

#define FQ_PB_MAX_VARINT_BYTES 10
#define FQ_PB_MAX_FIELD_NUMBER ((1u << 29) - 1)

typedef struct fq_pb_cursor {
    const uint8_t *data;
    size_t size;
    size_t pos;
    size_t base; /* absolute offset of data[0] in the file */
} fq_pb_cursor;

typedef struct fq_pb_field {
    uint32_t number;
    fq_pb_wire wire;
    size_t offset; /* absolute offset of the tag */
} fq_pb_field;

/* A growable array of fixed-size elements: uint64_t for varint and fixed64 fields, uint32_t for
 * fixed32 fields, or any struct the caller pushes. */
typedef struct fq_pb_list {
    void *items;
    size_t count;
    size_t cap;
    size_t elem_size;
} fq_pb_list;

void fq_pb_cursor_init(fq_pb_cursor *c, const void *data, size_t size, size_t base);

static inline bool fq_pb_at_end(const fq_pb_cursor *c)
{
    return c->pos >= c->size;
}

/* Absolute file offset of the next byte. */
static inline size_t fq_pb_offset(const fq_pb_cursor *c)
{
    return c->base + c->pos;
}

static inline size_t fq_pb_left(const fq_pb_cursor *c)
{
    return c->size - c->pos;
}

/* Raw reads at the cursor. */
fq_status fq_pb_read_varint(fq_pb_cursor *c, uint64_t *value, const char *what, fq_error *err);
fq_status fq_pb_read_fixed32(fq_pb_cursor *c, uint32_t *value, const char *what, fq_error *err);
fq_status fq_pb_read_fixed64(fq_pb_cursor *c, uint64_t *value, const char *what, fq_error *err);
/* Reads a length prefix and sets sub to the bytes it covers (the cursor moves past them). */
fq_status fq_pb_read_length_delimited(fq_pb_cursor *c, fq_pb_cursor *sub, const char *what,
                                      fq_error *err);

/* Reads a field tag. Field number 0 and the wire types 3, 4 (groups), 6 and 7 are refused. */
fq_status fq_pb_read_tag(fq_pb_cursor *c, fq_pb_field *field, const char *message,
                         fq_error *err);
/* Skips the value of a field the reader does not use. */
fq_status fq_pb_skip(fq_pb_cursor *c, const fq_pb_field *field, const char *message,
                     fq_error *err);

/* Field reads that first check the field's wire type. */
fq_status fq_pb_field_varint(fq_pb_cursor *c, const fq_pb_field *field, uint64_t *value,
                             const char *what, fq_error *err);
fq_status fq_pb_field_fixed32(fq_pb_cursor *c, const fq_pb_field *field, uint32_t *value,
                              const char *what, fq_error *err);
fq_status fq_pb_field_bytes(fq_pb_cursor *c, const fq_pb_field *field, fq_pb_cursor *sub,
                            const char *what, fq_error *err);
/* Appends the values of a repeated scalar field whose elements have wire type element
 * (FQ_PB_VARINT, FQ_PB_FIXED32 or FQ_PB_FIXED64) to list, accepting both encodings: one element
 * per field occurrence, or packed (all elements in one length-delimited run). */
fq_status fq_pb_field_repeated(fq_pb_cursor *c, const fq_pb_field *field, fq_pb_wire element,
                               fq_pb_list *list, const char *what, fq_error *err);

void fq_pb_list_init(fq_pb_list *list, size_t elem_size);
/* Makes room for extra more elements; false when memory runs out. */
bool fq_pb_list_reserve(fq_pb_list *list, size_t extra);
/* Appends one zeroed element and returns it, or NULL when memory runs out. */
void *fq_pb_list_push(fq_pb_list *list);
void fq_pb_list_free(fq_pb_list *list);

#endif
