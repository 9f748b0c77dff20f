/* fq_write_file_atomic: a temporary file, fsync, rename. */
#if defined(FQ_HAVE_FILES)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/file_write.h"
#include "facequant/alloc.h"

static fq_status write_all(int fd, const unsigned char *data, size_t size, const char *path,
                           fq_error *err)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fq_error_set(err, FQ_ERR_IO, "%s: cannot write: %s", path,
                                n < 0 ? strerror(errno) : "no progress");
        data += n;
        size -= (size_t)n;
    }
    return FQ_OK;
}

static fq_status write_temporary(const char *tmp, const void *data, size_t size, fq_error *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    fq_status status = write_all(fd, data, size, tmp, err);
    if (status == FQ_OK && fsync(fd) != 0)
        status = fq_error_set(err, FQ_ERR_IO, "%s: cannot flush: %s", tmp, strerror(errno));
    if (close(fd) != 0 && status == FQ_OK)
        status = fq_error_set(err, FQ_ERR_IO, "%s: cannot close: %s", tmp, strerror(errno));
    return status;
}

fq_status fq_write_file_atomic(const char *path, const void *data, size_t size, fq_error *err)
{
    size_t tmp_size = strlen(path) + 32;
    char *tmp = fq_malloc(tmp_size);
    if (tmp == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "%s: cannot allocate a path", path);
    snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid());
    fq_status status = write_temporary(tmp, data, size, err);
    if (status == FQ_OK && rename(tmp, path) != 0)
        status = fq_error_set(err, FQ_ERR_IO, "%s: cannot rename %s to it: %s", path, tmp,
                              strerror(errno));
    if (status != FQ_OK)
        unlink(tmp);
    fq_free(tmp);
    return status;
}
#endif
