/* The quantization report as one self-contained HTML page. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "quant/report_html.h"

#define CHART_WIDTH 900
#define BAR_HEIGHT 14
#define LABEL_WIDTH 260
#define SQNR_FULL_SCALE 60.0 /* dB at the right edge of the chart */

static void put_escaped(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *precision_name(fq_dtype precision)
{
    return precision == FQ_DTYPE_I8 ? "int8" : precision == FQ_DTYPE_F16 ? "fp16" : "fp32";
}

static void write_summary(FILE *f, const fq_tool_quantize_request *req,
                          const fq_tool_quantize_result *r)
{
    const fq_quantize_report *rep = r->report;
    fprintf(f, "<h2>Summary</h2>\n<table>\n<tr><th>model</th><td>");
    put_escaped(f, req->model_path);
    fprintf(f, "</td></tr>\n<tr><th>output</th><td>");
    put_escaped(f, req->output_path);
    fprintf(f, "</td></tr>\n<tr><th>precision</th><td>%s</td></tr>\n",
            fq_quant_type_name(rep->type));
    if (req->type == FQ_QUANT_INT8)
        fprintf(f, "<tr><th>calibration method</th><td>%s</td></tr>\n",
                fq_calib_method_name(req->method));
    fprintf(f, "<tr><th>file size</th><td>%zu bytes (float model file %zu bytes: %.1f%%)"
            "</td></tr>\n", r->output_bytes, r->input_bytes,
            r->input_bytes > 0 ? 100.0 * (double)r->output_bytes / (double)r->input_bytes : 0.0);
    fprintf(f, "<tr><th>constants</th><td>%zu bytes before, %zu after</td></tr>\n",
            rep->weight_bytes_before, rep->weight_bytes_after);
    fprintf(f, "<tr><th>nodes</th><td>%d quantized, %d compute nodes kept float, %d saturated "
            "biases, %d depthwise inputs equalized</td></tr>\n", rep->quantized, rep->kept_float,
            rep->saturated_biases, rep->equalized);
    if (r->measured)
        fprintf(f, "<tr><th>outputs against float</th><td>%d inputs: cosine mean %.6f, min "
                "%.6f; max |error| %.4g; SQNR %.2f dB</td></tr>\n", r->agreement.inputs,
                r->agreement.cosine_mean, r->agreement.cosine_min, r->agreement.max_abs_error,
                r->agreement.sqnr_db);
    else
        fprintf(f, "<tr><th>outputs against float</th><td>not measured (no photos given)"
                "</td></tr>\n");
    fprintf(f, "</table>\n");
}

static void write_chart(FILE *f, const fq_layer_sqnr *layers)
{
    int height = layers->n_layers * (BAR_HEIGHT + 4) + 30;
    double scale = (CHART_WIDTH - LABEL_WIDTH - 60) / SQNR_FULL_SCALE;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"11\">\n", CHART_WIDTH, height);
    fprintf(f, "<text x=\"%d\" y=\"14\">SQNR (dB) of each quantized activation; higher is "
            "closer to float</text>\n", LABEL_WIDTH);
    for (int i = 0; i < layers->n_layers; i++) {
        double db = layers->sqnr_db[i];
        double shown = db < 0.0 ? 0.0 : db > SQNR_FULL_SCALE ? SQNR_FULL_SCALE : db;
        int y = 24 + i * (BAR_HEIGHT + 4);
        const char *colour = db < 20.0 ? "#c0392b" : db < 30.0 ? "#e67e22" : "#2e86c1";
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_WIDTH - 6,
                y + BAR_HEIGHT - 3);
        put_escaped(f, layers->names[i]);
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"%d\">%.1f</text>\n", LABEL_WIDTH, y, shown * scale,
                BAR_HEIGHT, colour, LABEL_WIDTH + shown * scale + 4, y + BAR_HEIGHT - 3, db);
    }
    fprintf(f, "</svg>\n");
}

static void write_layers(FILE *f, const fq_tool_quantize_result *r)
{
    fprintf(f, "<h2>Per-layer SQNR</h2>\n");
    if (r->layers.n_layers == 0) {
        fprintf(f, "<p>Not measured: give calibration photos (--calib) to compare each "
                "quantized activation with the float one.</p>\n");
        return;
    }
    fprintf(f, "<p>Each uint8 activation, dequantized, against the float model's value of the "
            "same name, over the first calibration inputs.</p>\n");
    write_chart(f, &r->layers);
}

static void write_nodes(FILE *f, const fq_quantize_report *rep)
{
    fprintf(f, "<h2>Layers kept in float, and notes</h2>\n<table>\n<tr><th>node</th><th>op</th>"
            "<th>precision</th><th>why</th></tr>\n");
    int shown = 0;
    for (int n = 0; n < rep->n_nodes; n++) {
        const fq_quant_node_report *e = &rep->nodes[n];
        if (e->reason == NULL)
            continue;
        fprintf(f, "<tr><td>");
        put_escaped(f, e->node);
        fprintf(f, "</td><td>");
        put_escaped(f, e->op_type);
        fprintf(f, "</td><td>%s</td><td>", precision_name(e->precision));
        put_escaped(f, e->reason);
        fprintf(f, "</td></tr>\n");
        shown++;
    }
    if (shown == 0)
        fprintf(f, "<tr><td colspan=\"4\">none: every node runs at the target precision or "
                "has no arithmetic</td></tr>\n");
    fprintf(f, "</table>\n");
}

static void write_sensitivity(FILE *f, const fq_sensitivity *s)
{
    if (s == NULL)
        return;
    fprintf(f, "<h2>Sensitivity (each layer quantized alone)</h2>\n<table>\n<tr><th>node</th>"
            "<th>cosine mean</th><th>cosine min</th><th>SQNR dB</th></tr>\n");
    for (int i = 0; i < s->n_entries; i++) {
        fprintf(f, "<tr><td>");
        put_escaped(f, s->entries[i].node);
        fprintf(f, "</td><td>%.6f</td><td>%.6f</td><td>%.2f</td></tr>\n",
                s->entries[i].agreement.cosine_mean, s->entries[i].agreement.cosine_min,
                s->entries[i].agreement.sqnr_db);
    }
    fprintf(f, "</table>\n");
}

static void write_page(FILE *f, const fq_tool_quantize_request *req,
                       const fq_tool_quantize_result *r)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>facequant quantization report</title>\n<style>\n"
            "body { font-family: sans-serif; margin: 2em; }\n"
            "table { border-collapse: collapse; }\n"
            "th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }\n"
            "</style>\n</head>\n<body>\n<h1>Quantization report</h1>\n");
    write_summary(f, req, r);
    write_layers(f, r);
    write_nodes(f, r->report);
    write_sensitivity(f, r->sensitivity);
    fprintf(f, "</body>\n</html>\n");
}

fq_status fq_tool_write_report_html(const char *path, const fq_tool_quantize_request *request,
                                    const fq_tool_quantize_result *result, fq_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot write the report '%s'", tmp);
    write_page(f, request, result);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return fq_error_set(err, FQ_ERR_IO, "cannot write the report '%s'", path);
    }
    return FQ_OK;
}
