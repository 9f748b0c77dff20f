/* The HTML report of `fq quantize --report`: sizes, output agreement, per-layer SQNR with an
 * inline SVG chart, and the layers left in float with the reason. */
#ifndef FQ_TOOLS_QUANT_REPORT_HTML_H
#define FQ_TOOLS_QUANT_REPORT_HTML_H

#include "quant/quantize_tool.h"

/* Writes the page to path (through a temporary file renamed over it). */
fq_status fq_tool_write_report_html(const char *path, const fq_tool_quantize_request *request,
                                    const fq_tool_quantize_result *result, fq_error *err);

#endif
