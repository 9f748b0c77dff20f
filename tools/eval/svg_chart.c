/* SVG bar charts. */
#include <math.h>
#include <stdio.h>

#include "eval/svg_chart.h"

#define CHART_WIDTH 760
#define LABEL_WIDTH 200
#define VALUE_WIDTH 120
#define BAR_HEIGHT 22
#define BAR_GAP 8
#define PANEL_TITLE_HEIGHT 34
#define PANEL_GAP 18
#define TITLE_HEIGHT 40
#define MAX_BARS 1000

static const char *const bar_colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                         "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};

static void write_escaped(FILE *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            /* Control characters other than tab are not allowed in XML 1.0. */
            fputc((unsigned char)*p < 0x20 && *p != '\t' ? '?' : *p, out);
        }
    }
}

static int panel_height(const fq_svg_panel *panel)
{
    return PANEL_TITLE_HEIGHT + panel->n_bars * (BAR_HEIGHT + BAR_GAP);
}

static double largest_value(const fq_svg_panel *panel)
{
    double max = 0.0;
    for (int i = 0; i < panel->n_bars; i++)
        if (panel->values[i] > max)
            max = panel->values[i];
    return max;
}

static void write_bar(FILE *out, const fq_svg_panel *panel, int i, int y, double max)
{
    int span = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
    double width = max > 0.0 ? span * panel->values[i] / max : 0.0;
    fprintf(out, "  <text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_WIDTH - 8,
            y + BAR_HEIGHT - 6);
    write_escaped(out, panel->labels[i]);
    fprintf(out, "</text>\n  <rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
            "fill=\"%s\"/>\n", LABEL_WIDTH, y, width < 1.0 ? 1.0 : width, BAR_HEIGHT,
            bar_colors[i % (int)(sizeof(bar_colors) / sizeof(bar_colors[0]))]);
    double v = panel->values[i];
    /* three significant digits, never in exponent form for the values charts show */
    int decimals = v >= 100.0 ? 0 : v >= 10.0 ? 1 : v >= 1.0 ? 2 : 3;
    fprintf(out, "  <text x=\"%.1f\" y=\"%d\">%.*f ", LABEL_WIDTH + width + 6,
            y + BAR_HEIGHT - 6, decimals, v);
    write_escaped(out, panel->unit);
    fputs("</text>\n", out);
}

static void write_panel(FILE *out, const fq_svg_panel *panel, int y)
{
    fprintf(out, "  <text x=\"10\" y=\"%d\" class=\"panel\">", y + 22);
    write_escaped(out, panel->title);
    fputs(" (", out);
    write_escaped(out, panel->unit);
    fputs(")</text>\n", out);

    double max = largest_value(panel);
    int bar_y = y + PANEL_TITLE_HEIGHT;
    for (int i = 0; i < panel->n_bars; i++, bar_y += BAR_HEIGHT + BAR_GAP)
        write_bar(out, panel, i, bar_y, max);
}

static fq_status check_panels(const fq_svg_panel *panels, int n_panels, fq_error *err)
{
    if (n_panels < 1 || panels == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "SVG chart: no panel");
    for (int p = 0; p < n_panels; p++) {
        const fq_svg_panel *panel = &panels[p];
        if (panel->n_bars < 0 || panel->n_bars > MAX_BARS ||
            (panel->n_bars > 0 && (panel->labels == NULL || panel->values == NULL)))
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "SVG chart: panel %d has %d bars", p,
                                panel->n_bars);
        for (int i = 0; i < panel->n_bars; i++)
            if (!isfinite(panel->values[i]) || panel->values[i] < 0.0 ||
                panel->labels[i] == NULL)
                return fq_error_set(err, FQ_ERR_INVALID_ARG, "SVG chart: panel %d, bar %d has "
                                    "no label or a value that is negative or not finite", p, i);
    }
    return FQ_OK;
}

fq_status fq_svg_write_charts(FILE *out, const char *title, const fq_svg_panel *panels,
                              int n_panels, fq_error *err)
{
    fq_status status = check_panels(panels, n_panels, err);
    if (status != FQ_OK)
        return status;
    int height = TITLE_HEIGHT;
    for (int p = 0; p < n_panels; p++)
        height += panel_height(&panels[p]) + PANEL_GAP;

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\">\n", CHART_WIDTH, height, CHART_WIDTH, height);
    fputs("  <style>text { font-family: sans-serif; font-size: 13px; fill: #222; }\n"
          "    .title { font-size: 17px; font-weight: bold; }\n"
          "    .panel { font-size: 14px; font-weight: bold; }</style>\n", out);
    fprintf(out, "  <rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", CHART_WIDTH, height);
    fputs("  <text x=\"10\" y=\"26\" class=\"title\">", out);
    write_escaped(out, title != NULL ? title : "");
    fputs("</text>\n", out);

    int y = TITLE_HEIGHT;
    for (int p = 0; p < n_panels; p++) {
        write_panel(out, &panels[p], y);
        y += panel_height(&panels[p]) + PANEL_GAP;
    }
    fputs("</svg>\n", out);
    return ferror(out) ? fq_error_set(err, FQ_ERR_IO, "SVG chart: write error") : FQ_OK;
}

fq_status fq_svg_save_charts(const char *path, const char *title, const fq_svg_panel *panels,
                             int n_panels, fq_error *err)
{
    FILE *out = fopen(path, "w");
    if (out == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot create the SVG file '%s'", path);
    fq_status status = fq_svg_write_charts(out, title, panels, n_panels, err);
    if (fclose(out) != 0 && status == FQ_OK)
        status = fq_error_set(err, FQ_ERR_IO, "cannot write the SVG file '%s'", path);
    if (status != FQ_OK)
        remove(path);
    return status;
}
