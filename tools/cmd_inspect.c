/* fq inspect: what a model holds, as read and after the passes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "facequant/fq.h"
#include "fq_common.h"
#include "model_file.h"

#define MAX_OP_TYPES 128

typedef struct op_tally {
    const char *op;
    int count;
    int64_t flops;
    bool flops_known;
} op_tally;

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq inspect MODEL [--input-size WxH] [--batch N] [--passes] [--nodes]\n"
            "\n"
            "Shows the model's inputs and outputs, node count, op counts, parameters, FLOPs per\n"
            "op type and the planned memory, after the passes that prepare it for running.\n"
            "\n"
            "  --input-size WxH  width x height for inputs with a dynamic size (default 640x640\n"
            "                    when the model does not fix it)\n"
            "  --batch N         batch size for a dynamic batch dimension (default 1)\n"
            "  --passes          show the graph before the passes too, and what they changed\n"
            "  --nodes           list every node with its inputs' and outputs' shapes\n"
            "  -h, --help        show this help\n");
}

static void print_values(const char *title, const fq_graph *g, const int *values, int count)
{
    for (int i = 0; i < count; i++) {
        const fq_value *v = &g->values[values[i]];
        char shape[128] = "";
        size_t used = 0;
        for (int d = 0; d < v->shape.rank && used < sizeof(shape); d++) {
            const char *sep = d == 0 ? "" : "x";
            int n = v->shape.dims[d] >= 0
                        ? snprintf(shape + used, sizeof(shape) - used, "%s%lld", sep,
                                   (long long)v->shape.dims[d])
                        : snprintf(shape + used, sizeof(shape) - used, "%s%s", sep,
                                   v->dim_param[d] != NULL ? v->dim_param[d] : "?");
            used += n > 0 ? (size_t)n : 0;
        }
        printf("  %-7s %-24s %-4s %s\n", i == 0 ? title : "", v->name, fq_dtype_name(v->dtype),
               v->shape.rank == 0 ? "scalar" : shape);
    }
}

static bool is_mac_op(const char *op)
{
    return strcmp(op, "Conv") == 0 || strcmp(op, "Gemm") == 0 || strcmp(op, "MatMul") == 0;
}

/* FLOPs of one node: 2 per multiply-accumulate for Conv/Gemm/MatMul, else the op's count. */
static bool node_flops(const fq_graph *g, const fq_node *node, int64_t *flops)
{
    const fq_op_info *info = fq_op_get(node->op);
    for (int o = 0; o < node->n_outputs; o++) {
        const fq_value *v = fq_node_output((fq_graph *)g, node, o);
        if (v != NULL && !fq_shape_is_known(&v->shape))
            return false;
    }
    if (info == NULL)
        return false;
    int64_t work = info->flops != NULL ? info->flops(g, node) : 0;
    *flops = is_mac_op(node->op_type) ? 2 * work : work;
    return true;
}

static int tally_ops(const fq_graph *g, op_tally *tally)
{
    int n_types = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        const fq_node *node = &g->nodes[n];
        int t = 0;
        while (t < n_types && strcmp(tally[t].op, node->op_type) != 0)
            t++;
        if (t == n_types) {
            if (n_types == MAX_OP_TYPES)
                continue;
            tally[n_types++] = (op_tally){node->op_type, 0, 0, true};
        }
        int64_t flops = 0;
        tally[t].count++;
        if (node_flops(g, node, &flops))
            tally[t].flops += flops;
        else
            tally[t].flops_known = false;
    }
    return n_types;
}

static void print_parameters(const fq_graph *g)
{
    int64_t elements = 0;
    size_t bytes = 0;
    int tensors = 0;
    for (int v = 0; v < g->n_values; v++) {
        const fq_value *value = &g->values[v];
        if (value->kind != FQ_VALUE_CONSTANT)
            continue;
        int64_t numel = fq_shape_numel(&value->shape);
        tensors++;
        elements += numel > 0 ? numel : 0;
        bytes += (size_t)(numel > 0 ? numel : 0) * fq_dtype_size(value->dtype);
    }
    printf("  parameters  %lld in %d constant tensors (%.2f MiB)\n", (long long)elements, tensors,
           (double)bytes / (1024.0 * 1024.0));
}

static void print_ops(const fq_graph *g)
{
    op_tally tally[MAX_OP_TYPES];
    int n_types = tally_ops(g, tally);
    int64_t total = 0;
    bool all_known = true;
    for (int t = 0; t < n_types; t++) {
        total += tally[t].flops;
        all_known = all_known && tally[t].flops_known;
    }
    printf("  nodes       %d\n", g->n_nodes);
    printf("  %-22s %6s %14s %7s\n", "op", "count", "MFLOPs", "share");
    for (int t = 0; t < n_types; t++) {
        if (tally[t].flops_known && all_known && total > 0)
            printf("  %-22s %6d %14.2f %6.1f%%\n", tally[t].op, tally[t].count,
                   (double)tally[t].flops / 1e6, 100.0 * (double)tally[t].flops / (double)total);
        else
            printf("  %-22s %6d %14s %7s\n", tally[t].op, tally[t].count, "?", "");
    }
    if (all_known)
        printf("  %-22s %6d %14.2f   (2 FLOPs per multiply-add)\n", "total", g->n_nodes,
               (double)total / 1e6);
    else
        printf("  FLOPs need known shapes: they show after the passes fix the input size\n");
}

/* The precision a node computes in: int8 when it reads or writes 8-bit integer activations
 * (QLinearConv, QLinearAdd, u8 MaxPool, Concat and moves), "dynamic" for FqDynamicConv, fp16
 * for a node with an fp16 weight, else fp32; the Q/DQ borders are "convert". */
typedef enum precision { P_FP32, P_FP16, P_INT8, P_DYNAMIC, P_CONVERT, P_COUNT } precision;

static precision node_precision(const fq_graph *g, const fq_node *node)
{
    if (strcmp(node->op_type, "QuantizeLinear") == 0 ||
        strcmp(node->op_type, "DequantizeLinear") == 0)
        return P_CONVERT;
    if (strcmp(node->op_type, "FqDynamicConv") == 0)
        return P_DYNAMIC;
    bool f16 = false;
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *in = fq_node_input(g, node, i);
        if (in == NULL)
            continue;
        if (in->kind != FQ_VALUE_CONSTANT && (in->dtype == FQ_DTYPE_U8 || in->dtype == FQ_DTYPE_I8))
            return P_INT8;
        f16 = f16 || (in->kind == FQ_VALUE_CONSTANT && in->dtype == FQ_DTYPE_F16);
    }
    return f16 ? P_FP16 : P_FP32;
}

/* Whether a float node does arithmetic worth counting as an island (not shape bookkeeping). */
static bool is_compute(const fq_node *node)
{
    static const char *const moves[] = {"Reshape", "Transpose", "Flatten", "Squeeze",
                                        "Unsqueeze", "Shape", "Gather", "Slice", "Concat",
                                        "Identity"};
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
        if (strcmp(node->op_type, moves[i]) == 0)
            return false;
    return true;
}

/* Float islands of a quantized graph: groups of fp32 compute nodes connected through fp32
 * values, each entered from or left into int8 through a QuantizeLinear or DequantizeLinear. */
static int count_float_islands(const fq_graph *g, const precision *p)
{
    int *island = fq_malloc(((size_t)g->n_nodes + 1) * sizeof(int));
    if (island == NULL)
        return -1;
    int count = 0;
    for (int n = 0; n < g->n_nodes; n++)
        island[n] = -1;
    for (int n = 0; n < g->n_nodes; n++) {
        if (p[n] != P_FP32 || !is_compute(&g->nodes[n]))
            continue;
        int joined = -1;
        for (int i = 0; i < g->nodes[n].n_inputs && joined < 0; i++) {
            int producer = g->nodes[n].inputs[i] < 0 ? -1
                                                     : fq_graph_producer(g, g->nodes[n].inputs[i]);
            if (producer >= 0 && island[producer] >= 0)
                joined = island[producer];
        }
        island[n] = joined >= 0 ? joined : count++;
    }
    fq_free(island);
    return count;
}

static void print_precisions(const fq_graph *g)
{
    static const char *const names[P_COUNT] = {"fp32", "fp16", "int8", "dynamic int8",
                                               "quantize/dequantize"};
    precision *p = fq_malloc(((size_t)g->n_nodes + 1) * sizeof(precision));
    if (p == NULL)
        return;
    int counts[P_COUNT] = {0};
    for (int n = 0; n < g->n_nodes; n++) {
        p[n] = node_precision(g, &g->nodes[n]);
        counts[p[n]]++;
    }
    if (counts[P_FP32] == g->n_nodes) {
        fq_free(p);
        return;
    }
    printf("  nodes by precision:");
    const char *sep = " ";
    for (int k = 0; k < P_COUNT; k++) {
        if (counts[k] > 0) {
            printf("%s%s %d", sep, names[k], counts[k]);
            sep = ", ";
        }
    }
    if (counts[P_INT8] > 0)
        printf("; float islands %d", count_float_islands(g, p));
    printf("\n");
    fq_free(p);
}

static void print_nodes(const fq_graph *g)
{
    static const char *act_names[] = {"", "+Relu", "+Clip", "+LeakyRelu", "+PRelu", "+Sigmoid"};
    printf("  nodes in order:\n");
    for (int n = 0; n < g->n_nodes; n++) {
        const fq_node *node = &g->nodes[n];
        char shape[64];
        const fq_value *in = fq_node_input(g, node, 0);
        const fq_value *out = fq_node_output((fq_graph *)g, node, 0);
        printf("  %4d %-28s %s%s", n, node->name, node->op_type, act_names[node->act.kind]);
        if (in != NULL)
            printf("  %s", fq_shape_format(&in->shape, shape, sizeof(shape)));
        if (out != NULL)
            printf(" -> %s", fq_shape_format(&out->shape, shape, sizeof(shape)));
        printf("\n");
    }
}

static void print_graph(const char *title, const fq_graph *g, bool nodes)
{
    printf("%s\n", title);
    print_values("inputs", g, g->inputs, g->n_inputs);
    print_values("outputs", g, g->outputs, g->n_outputs);
    print_parameters(g);
    print_ops(g);
    print_precisions(g);
    if (nodes)
        print_nodes(g);
}

static void print_memory(const fq_graph *g)
{
    fq_session *session;
    fq_error err = {0};
    if (fq_session_create(g, NULL, &session, &err) != FQ_OK) {
        printf("memory\n  no plan: %s\n", err.message);
        return;
    }
    fq_memory_plan_stats stats = fq_session_memory_stats(session);
    double mib = 1024.0 * 1024.0;
    printf("memory\n");
    printf("  arena       %.2f MiB planned (intermediates, inputs, outputs, workspace)\n",
           (double)stats.arena_bytes / mib);
    printf("  values      %.2f MiB if every value had its own buffer (arena is %.1f%% of it)\n",
           (double)stats.values_bytes / mib,
           stats.values_bytes > 0 ? 100.0 * (double)stats.arena_bytes / (double)stats.values_bytes
                                  : 0.0);
    printf("  workspace   %.2f MiB largest kernel scratch\n",
           (double)stats.workspace_bytes / mib);
    printf("  constants   %.2f MiB\n", (double)stats.constant_bytes / mib);
    fq_session_free(session);
}

/* Picks 640x640 for models whose inputs have a dynamic height or width when no size is given. */
static void default_size(const fq_graph *g, fq_input_size *size)
{
    if (size->width > 0)
        return;
    for (int i = 0; i < g->n_inputs; i++) {
        const fq_value *v = &g->values[g->inputs[i]];
        if (v->shape.rank == 4 && (v->shape.dims[2] < 0 || v->shape.dims[3] < 0)) {
            size->width = 640;
            size->height = 640;
            fprintf(stderr, "fq inspect: input '%s' has a dynamic size; showing it at 640x640 "
                    "(use --input-size WxH for another)\n", v->name);
            return;
        }
    }
}

int fq_cmd_inspect(int argc, char **argv)
{
    static const struct option options[] = {
        {"input-size", required_argument, NULL, 's'}, {"batch", required_argument, NULL, 'b'},
        {"passes", no_argument, NULL, 'p'},           {"nodes", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    fq_input_size size = {0, 0, 0};
    bool show_before = false, show_nodes = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (!fq_tool_parse_size(optarg, &size)) {
                fq_tool_fail("inspect", "--input-size takes WxH, such as 640x480, not '%s'",
                             optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'b':
            size.batch = atoi(optarg);
            if (size.batch <= 0) {
                fq_tool_fail("inspect", "--batch takes a positive number, not '%s'", optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'p': show_before = true; break;
        case 'n': show_nodes = true; break;
        case 'h': help(stdout); return FQ_EXIT_OK;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        help(stderr);
        return FQ_EXIT_USAGE;
    }
    const char *path = argv[optind];

    fq_error err = {0};
    fq_graph *graph;
    double t0 = fq_tool_now_ms();
    fq_fqm_meta *meta = NULL;
    int n_meta = 0;
    if (fq_tool_read_model(path, &graph, &meta, &n_meta, &err) != FQ_OK) {
        fq_tool_error("inspect", &err);
        return FQ_EXIT_FAILURE;
    }
    double t1 = fq_tool_now_ms();
    struct stat st;
    printf("model %s: %lld bytes, ir_version %lld, opset %lld, producer '%s'\n", path,
           stat(path, &st) == 0 ? (long long)st.st_size : -1LL, (long long)graph->ir_version,
           (long long)graph->opset, graph->producer != NULL ? graph->producer : "");
    fq_tool_print_meta(meta, n_meta);
    fq_fqm_meta_free(meta);
    if (show_before)
        print_graph("as read", graph, show_nodes);

    default_size(graph, &size);
    if (fq_passes_run(graph, &size, &err) != FQ_OK) {
        fq_tool_error("inspect", &err);
        fq_graph_free(graph);
        return FQ_EXIT_FAILURE;
    }
    double t2 = fq_tool_now_ms();
    print_graph(show_before ? "after passes (fixed input size, folded constants, fused layers)"
                            : "after passes", graph, show_nodes);
    print_memory(graph);
    printf("load\n  read %.1f ms, passes %.1f ms\n", t1 - t0, t2 - t1);
    fq_graph_free(graph);
    return FQ_EXIT_OK;
}
