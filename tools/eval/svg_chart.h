/* A self-contained SVG file of labelled horizontal bar charts, one panel per measure (latency,
 * size), stacked top to bottom, each bar with its label on the left and its value on the right.
 */
#ifndef FQ_TOOLS_EVAL_SVG_CHART_H
#define FQ_TOOLS_EVAL_SVG_CHART_H

#include <stdio.h>

#include "facequant/fq.h"

typedef struct fq_svg_panel {
    const char *title;          /* "median latency" */
    const char *unit;           /* "ms", shown after each value */
    const char *const *labels;  /* n_bars labels, any text (escaped for XML) */
    const double *values;       /* n_bars values >= 0 */
    int n_bars;
} fq_svg_panel;

/* Writes the document to out. */
fq_status fq_svg_write_charts(FILE *out, const char *title, const fq_svg_panel *panels,
                              int n_panels, fq_error *err);

/* Writes the document to the file at path (replaced when it exists). */
fq_status fq_svg_save_charts(const char *path, const char *title, const fq_svg_panel *panels,
                             int n_panels, fq_error *err);

#endif
