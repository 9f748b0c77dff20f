/* facequant: reading and writing NumPy .npy files.
 *
 * Formats 1.0, 2.0 and 3.0 are read; the writer produces 1.0 (2.0 for a header too long for 1.0).
 * Element types: '<f4' (f32), '<f2' (f16), '|i1' (i8), '|u1' (u8), '<i4' (i32), '<i8' (i64) and
 * '|b1' (bool). A one-byte type may carry any byte-order mark ('<', '>', '|', '='); a multi-byte
 * type may be '<' or '|'. Data is little-endian in the file and converted on a big-endian host.
 *
 * The header is parsed strictly: a dict literal with exactly the keys 'descr', 'fortran_order' and
 * 'shape', a tuple of at most FQ_MAX_RANK sizes, and data whose length is exactly the element
 * count times the element size (short files and trailing bytes are refused). A malformed file
 * fails with FQ_ERR_PARSE; a well-formed file facequant does not handle (big-endian or another
 * element type, Fortran order) fails with FQ_ERR_UNSUPPORTED. Messages name the file (or
 * "<memory>") and the byte offset.
 */
#ifndef FACEQUANT_NPY_H
#define FACEQUANT_NPY_H

#include <stddef.h>

#include "facequant/ir.h"
#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fq_npy {
    fq_dtype dtype;
    fq_shape shape;
    void *data;   /* size bytes from fq_malloc_aligned; never NULL after a successful read */
    size_t size;
} fq_npy;

fq_status fq_npy_read_memory(const void *data, size_t size, fq_npy *out, fq_error *err);
/* The two file functions are not in a build with -Dfiles=false (no stdio file system). */
fq_status fq_npy_read_file(const char *path, fq_npy *out, fq_error *err);

/* Writes fq_shape_numel(shape) * fq_dtype_size(dtype) bytes of data. The file is written to
 * PATH.tmp.<pid> and then renamed to path, so a reader never sees a half-written file. */
fq_status fq_npy_write_file(const char *path, fq_dtype dtype, const fq_shape *shape,
                            const void *data, fq_error *err);

/* Releases the data of a read; npy may be NULL or already freed. */
void fq_npy_free(fq_npy *npy);

#ifdef __cplusplus
}
#endif

#endif
