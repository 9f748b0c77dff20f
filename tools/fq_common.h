/* Helpers shared by the fq subcommands. */
#ifndef FQ_TOOLS_FQ_COMMON_H
#define FQ_TOOLS_FQ_COMMON_H

#include <stdbool.h>

#include "facequant/fq.h"

/* Exit codes of every subcommand. */
enum { FQ_EXIT_OK = 0, FQ_EXIT_FAILURE = 1, FQ_EXIT_USAGE = 2 };

/* Parses "WxH" (for example 640x480: 640 wide, 480 high) into size; false if malformed. */
bool fq_tool_parse_size(const char *text, fq_input_size *size);

/* Prints "fq CMD: message" on stderr. */
void fq_tool_error(const char *cmd, const fq_error *err);
void fq_tool_fail(const char *cmd, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Creates a directory and its parents (like mkdir -p). */
bool fq_tool_mkdirs(const char *path);

/* Copies name into out with every character other than letters, digits, '.', '_' and '-'
 * replaced by '_' (the file naming ../shared/golden uses). */
void fq_tool_sanitize_name(const char *name, char *out, size_t size);

/* Milliseconds on a monotonic clock. */
double fq_tool_now_ms(void);

#endif
