/* Helpers shared by the fq subcommands. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fq_common.h"

bool fq_tool_parse_size(const char *text, fq_input_size *size)
{
    char *end;
    long w = strtol(text, &end, 10);
    if (end == text || (*end != 'x' && *end != 'X'))
        return false;
    const char *h_text = end + 1;
    long h = strtol(h_text, &end, 10);
    if (end == h_text || *end != '\0' || w <= 0 || h <= 0 || w > 65536 || h > 65536)
        return false;
    size->width = w;
    size->height = h;
    return true;
}

void fq_tool_error(const char *cmd, const fq_error *err)
{
    fprintf(stderr, "fq %s: %s: %s\n", cmd, fq_status_name(err->status), err->message);
}

void fq_tool_fail(const char *cmd, const char *format, ...)
{
    va_list args;
    fprintf(stderr, "fq %s: ", cmd);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

bool fq_tool_mkdirs(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return false;
        buf[i] = saved;
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void fq_tool_sanitize_name(const char *name, char *out, size_t size)
{
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < size; i++) {
        unsigned char c = (unsigned char)name[i];
        out[i] = isalnum(c) || c == '.' || c == '_' || c == '-' ? (char)c : '_';
    }
    out[i] = '\0';
}

double fq_tool_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
