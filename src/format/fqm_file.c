/* .fqm files: written through a temporary file and a rename, read through a read-only private
 * mapping whose bytes the constants point into. POSIX only; a build with -Dfiles=false leaves
 * this file's functions out. */
#if defined(FQ_HAVE_FILES)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_write.h"
#include "facequant/alloc.h"
#include "format/fqm_layout.h"

fq_status fq_fqm_write_file(const fq_graph *graph, const fq_fqm_meta *meta, int n_meta,
                            const char *path, fq_error *err)
{
    if (path == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_fqm_write_file: path is NULL");
    void *data = NULL;
    size_t size = 0;
    fq_status status = fq_fqm_write_memory(graph, meta, n_meta, &data, &size, err);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);

    status = fq_write_file_atomic(path, data, size, err);
    fq_free(data);
    return status;
}

/* graph->backing is the mapping itself; its length is the file size its header holds (the
 * reader checked that it equals the mapped length). */
static void unmap_file(void *mapping)
{
    munmap(mapping, (size_t)fqm_get_u64((const unsigned char *)mapping + FQM_HEADER_FILE_SIZE));
}

static fq_status map_file(const char *path, void **mapping, size_t *size, fq_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode) || st.st_size < FQM_HEADER_SIZE ||
        (unsigned long long)st.st_size > SIZE_MAX) {
        close(fd);
        return fq_error_set(err, FQ_ERR_PARSE, "%s: header: %lld bytes%s cannot hold an .fqm "
                            "header of %d bytes", path, (long long)st.st_size,
                            S_ISREG(st.st_mode) ? "" : " (not a regular file)", FQM_HEADER_SIZE);
    }
    *size = (size_t)st.st_size;
    *mapping = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    int mmap_errno = errno;
    close(fd);
    if (*mapping == MAP_FAILED)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot map %zu bytes: %s", path, *size,
                            strerror(mmap_errno));
    return FQ_OK;
}

fq_status fq_fqm_read_file(const char *path, const fq_fqm_read_options *options,
                           fq_graph **out, fq_fqm_meta **meta, int *n_meta, fq_error *err)
{
    if (path == NULL || out == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_fqm_read_file: path and out must not "
                            "be NULL");
    *out = NULL;
    if (meta != NULL)
        *meta = NULL;
    if (n_meta != NULL)
        *n_meta = 0;
    void *mapping = NULL;
    size_t size = 0;
    unsigned flags = options != NULL ? options->flags & ~(unsigned)FQ_FQM_READ_COPY : 0;
    fq_status status = map_file(path, &mapping, &size, err);
    if (status != FQ_OK)
        return status;

    status = fq_fqm_decode(mapping, size, flags, out, meta, n_meta, err);
    if (status != FQ_OK) {
        munmap(mapping, size);
        return fq_error_prefix(err, status, "%s", path);
    }
    (*out)->backing = mapping;
    (*out)->backing_release = unmap_file;
    return FQ_OK;
}
#else
/* ISO C needs at least one declaration in a translation unit. */
typedef int fq_fqm_file_functions_are_left_out;
#endif
