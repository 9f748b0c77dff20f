/* The library's allocator hooks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "facequant/alloc.h"

static void *libc_alloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void *libc_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    return realloc(ptr, size);
}

static void libc_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static fq_allocator current = {libc_alloc, libc_realloc, libc_free, NULL};

void fq_set_allocator(const fq_allocator *allocator)
{
    if (allocator == NULL) {
        current = (fq_allocator){libc_alloc, libc_realloc, libc_free, NULL};
        return;
    }
    current = *allocator;
}

void *fq_malloc(size_t size)
{
    return current.alloc(current.user, size == 0 ? 1 : size);
}

void *fq_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = fq_malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void *fq_realloc(void *ptr, size_t size)
{
    return current.realloc(current.user, ptr, size == 0 ? 1 : size);
}

void fq_free(void *ptr)
{
    if (ptr != NULL)
        current.free(current.user, ptr);
}

char *fq_strndup(const char *s, size_t n)
{
    char *copy = fq_malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

char *fq_strdup(const char *s)
{
    return fq_strndup(s, strlen(s));
}

/* The pointer returned by malloc is stored just below the aligned block. */
void *fq_malloc_aligned(size_t size)
{
    if (size > SIZE_MAX - FQ_ALIGNMENT - sizeof(void *))
        return NULL;
    unsigned char *raw = fq_malloc(size + FQ_ALIGNMENT + sizeof(void *));
    if (raw == NULL)
        return NULL;
    uintptr_t start = (uintptr_t)(raw + sizeof(void *));
    uintptr_t aligned = (start + FQ_ALIGNMENT - 1) & ~(uintptr_t)(FQ_ALIGNMENT - 1);
    ((void **)aligned)[-1] = raw;
    return (void *)aligned;
}

void fq_free_aligned(void *ptr)
{
    if (ptr != NULL)
        fq_free(((void **)ptr)[-1]);
}
