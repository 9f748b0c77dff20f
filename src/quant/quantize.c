/* fq_quantize: options, the report, and dispatch to the rewrite of each precision. */
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/passes.h"
#include "quant/quantize_internal.h"

static const char *const type_names[FQ_QUANT_TYPE_COUNT] = {"int8", "fp16", "dynamic"};

const char *fq_quant_type_name(fq_quant_type type)
{
    if ((unsigned)type >= (unsigned)FQ_QUANT_TYPE_COUNT) /* enums may be unsigned (short-enums) */
        return "unknown";
    return type_names[type];
}

bool fq_quant_type_parse(const char *name, fq_quant_type *type)
{
    for (int t = 0; t < FQ_QUANT_TYPE_COUNT; t++) {
        if (strcmp(name, type_names[t]) == 0) {
            *type = (fq_quant_type)t;
            return true;
        }
    }
    return false;
}

fq_quantize_options fq_quantize_options_default(void)
{
    fq_quantize_options options;
    memset(&options, 0, sizeof(options));
    options.type = FQ_QUANT_INT8;
    options.method = FQ_CALIB_PERCENTILE;
    options.percentile = FQ_CALIB_DEFAULT_PERCENTILE;
    options.channels_last = true;
    options.bias_correction = true;
    options.equalize = true;
    return options;
}

void fq_quantize_report_free(fq_quantize_report *report)
{
    if (report == NULL)
        return;
    for (int i = 0; i < report->n_nodes; i++) {
        fq_free(report->nodes[i].node);
        fq_free(report->nodes[i].op_type);
        fq_free(report->nodes[i].reason);
    }
    fq_free(report->nodes);
    fq_free(report);
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = fq_malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

static size_t constant_bytes(const fq_graph *graph)
{
    size_t total = 0;
    for (int v = 0; v < graph->n_values; v++) {
        const fq_value *value = &graph->values[v];
        if (value->kind == FQ_VALUE_CONSTANT && value->data != NULL)
            total += (size_t)fq_shape_numel(&value->shape) * fq_dtype_size(value->dtype);
    }
    return total;
}

static fq_status report_create(const fq_graph *graph, fq_quant_type type,
                               fq_quantize_report **out, fq_error *err)
{
    fq_quantize_report *report = fq_calloc(1, sizeof(*report));
    if (report == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the report");
    report->type = type;
    report->weight_bytes_before = constant_bytes(graph);
    if (graph->n_nodes > 0) {
        report->nodes = fq_calloc((size_t)graph->n_nodes, sizeof(*report->nodes));
        if (report->nodes == NULL) {
            fq_free(report);
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the report");
        }
    }
    for (int n = 0; n < graph->n_nodes; n++) {
        fq_quant_node_report *entry = &report->nodes[n];
        report->n_nodes = n + 1;
        entry->precision = FQ_DTYPE_F32;
        entry->node = copy_string(graph->nodes[n].name);
        entry->op_type = copy_string(graph->nodes[n].op_type);
        if (entry->node == NULL || entry->op_type == NULL) {
            fq_quantize_report_free(report);
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the report");
        }
    }
    *out = report;
    return FQ_OK;
}

/* Nodes the rewrite of a type could have quantized: for fp16 and dynamic int8 the weighted
 * ones only, for static int8 also the adds and pools that have int8 forms. */
static bool is_compute_op(fq_quant_type type, const char *op_type)
{
    static const char *const ops[] = {"Conv", "Gemm", "MatMul", "Add", "AveragePool",
                                      "GlobalAveragePool", "MaxPool"};
    size_t n = type == FQ_QUANT_INT8 ? sizeof(ops) / sizeof(ops[0]) : 3;
    for (size_t i = 0; i < n; i++)
        if (strcmp(op_type, ops[i]) == 0)
            return true;
    return false;
}

/* Per-channel parameters of constants (weights, biases) are the scale inputs of the nodes that
 * read them; the copy on the value itself would add 8 bytes per channel to every file. */
static void drop_constant_channel_quant(fq_graph *graph)
{
    for (int v = 0; v < graph->n_values; v++) {
        fq_value *value = &graph->values[v];
        if (value->kind != FQ_VALUE_CONSTANT || value->quant.count <= 1)
            continue;
        fq_free(value->quant.scale);
        fq_free(value->quant.zero_point);
        value->quant.scale = NULL;
        value->quant.zero_point = NULL;
        value->quant.count = 0;
        value->quant.axis = -1;
    }
}

static void report_count(fq_quantize_report *report, const fq_graph *out)
{
    fq_dtype target = report->type == FQ_QUANT_FP16 ? FQ_DTYPE_F16 : FQ_DTYPE_I8;
    report->quantized = 0;
    report->kept_float = 0;
    for (int n = 0; n < report->n_nodes; n++) {
        const fq_quant_node_report *entry = &report->nodes[n];
        if (entry->precision == target)
            report->quantized++;
        else if (entry->reason != NULL && is_compute_op(report->type, entry->op_type))
            report->kept_float++;
    }
    report->weight_bytes_after = constant_bytes(out);
}

fq_status fq_quantize(const fq_graph *graph, const fq_quantize_options *options,
                      fq_graph **out, fq_quantize_report **report_out, fq_error *err)
{
    *out = NULL;
    if (report_out != NULL)
        *report_out = NULL;
    fq_quantize_options defaults = fq_quantize_options_default();
    if (options == NULL)
        options = &defaults;
    if (options->type == FQ_QUANT_INT8 && options->stats == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "quantize: static int8 needs calibration "
                            "statistics (run fq calibrate, or give --calib DIR)");

    fq_quantize_report *report = NULL;
    fq_status status = report_create(graph, options->type, &report, err);
    if (status != FQ_OK)
        return status;
    fq_graph *copy = NULL;
    status = fq_graph_clone(graph, &copy, err);
    if (status == FQ_OK) {
        switch (options->type) {
        case FQ_QUANT_INT8:
            status = fq_quantize_static_impl(copy, options, report, err);
            break;
        case FQ_QUANT_FP16:
            status = fq_quantize_fp16_impl(copy, options, report, err);
            break;
        case FQ_QUANT_DYNAMIC:
            status = fq_quantize_dynamic_impl(copy, options, report, err);
            break;
        default:
            status = fq_error_set(err, FQ_ERR_INVALID_ARG, "quantize: unknown type %d",
                                  (int)options->type);
        }
    }
    if (status == FQ_OK) {
        drop_constant_channel_quant(copy);
        status = fq_pass_share_constants(copy, err);
    }
    if (status == FQ_OK)
        status = fq_graph_validate(copy, err);
    if (status != FQ_OK) {
        fq_graph_free(copy);
        fq_quantize_report_free(report);
        return status;
    }
    report_count(report, copy);
    *out = copy;
    if (report_out != NULL)
        *report_out = report;
    else
        fq_quantize_report_free(report);
    return FQ_OK;
}
