/* Writing a whole file so that no reader ever sees part of it: the bytes go to PATH.tmp.<pid>
 * in the same folder, are flushed to disk, and the temporary file is renamed over path; on any
 * failure it is removed and path is left as it was. POSIX; not in a build with -Dfiles=false. */
#ifndef FQ_SRC_CORE_FILE_WRITE_H
#define FQ_SRC_CORE_FILE_WRITE_H

#include <stddef.h>

#include "facequant/status.h"

#if defined(FQ_HAVE_FILES)
fq_status fq_write_file_atomic(const char *path, const void *data, size_t size, fq_error *err);
#endif

#endif
