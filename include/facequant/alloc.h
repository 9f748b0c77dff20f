/* facequant: the allocator every heap allocation of the library goes through.
 *
 * A firmware or app can install its own functions (or count calls, as the tests do). The hooks
 * are process-wide; install them before creating any graph or session and do not change them while
 * objects made with the previous hooks are alive.
 */
#ifndef FACEQUANT_ALLOC_H
#define FACEQUANT_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fq_allocator {
    void *(*alloc)(void *user, size_t size);
    void *(*realloc)(void *user, void *ptr, size_t size);
    void (*free)(void *user, void *ptr);
    void *user;
} fq_allocator;

/* Installs allocator hooks; NULL restores the C library's malloc/realloc/free. */
void fq_set_allocator(const fq_allocator *allocator);

void *fq_malloc(size_t size);
void *fq_calloc(size_t count, size_t size); /* zeroed; NULL when count * size overflows */
void *fq_realloc(void *ptr, size_t size);
void fq_free(void *ptr);
char *fq_strdup(const char *s);
char *fq_strndup(const char *s, size_t n);

/* Allocation aligned to FQ_ALIGNMENT bytes, freed with fq_free_aligned. */
#define FQ_ALIGNMENT 64
void *fq_malloc_aligned(size_t size);
void fq_free_aligned(void *ptr);

#ifdef __cplusplus
}
#endif

#endif
