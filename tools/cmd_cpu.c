/* fq cpu: what the CPU has, and for a model which kernel each node would run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facequant/fq.h"
#include "fq_common.h"
#include "model_file.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq cpu [MODEL] [--isa X] [--fp16-arithmetic] [--input-size WxH]\n"
            "\n"
            "Prints the CPU features facequant detects and the ISA levels it can use; with a\n"
            "model, the kernel each node would run in a session (after the passes).\n"
            "\n"
            "  --isa X           cap the ISA as a session would (auto, scalar, sse41, avx2,\n"
            "                    avxvnni, avx512, avx512vnni, avx512fp16, neon, neondot,\n"
            "                    neonfp16); $FQ_ISA sets it too\n"
            "  --fp16-arithmetic the kernels of a session that runs an fp16 model's\n"
            "                    convolutions in fp16 arithmetic (fq run, fq bench)\n"
            "  --input-size WxH  input size for models with a dynamic one (default 640x640)\n"
            "  -h, --help        show this help\n");
}

static void print_features(void)
{
    const fq_cpu_features *f = fq_cpu_features_get();
    struct { const char *name; bool on; } flags[] = {
        {"sse4.1", f->sse41}, {"avx2", f->avx2}, {"fma", f->fma}, {"f16c", f->f16c},
        {"avx512f", f->avx512f}, {"avx512bw", f->avx512bw}, {"avx512vl", f->avx512vl},
        {"avx512dq", f->avx512dq}, {"avx512vnni", f->avx512vnni}, {"avxvnni", f->avxvnni},
        {"avx512fp16", f->avx512fp16}, {"asimd", f->neon}, {"asimddp", f->neon_dot},
        {"asimdhp", f->neon_fp16}, {"i8mm", f->i8mm},
    };
    printf("features  ");
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (flags[i].on)
            printf(" %s", flags[i].name);
    printf("\nlevels    ");
    for (int isa = 0; isa < FQ_ISA_COUNT; isa++)
        if (fq_isa_supported((fq_isa)isa))
            printf(" %s", fq_isa_name((fq_isa)isa));
    printf("\nbest       %s\n", fq_isa_name(fq_isa_best()));
    const char *env = getenv("FQ_ISA");
    fq_isa cap = fq_isa_resolve_cap(FQ_ISA_AUTO);
    if (env != NULL && env[0] != '\0')
        printf("in use     %s: capped by FQ_ISA=%s (unset it to use the best)\n",
               fq_isa_name(cap == FQ_ISA_AUTO ? fq_isa_best() : cap), env);
}

static int print_kernels(const char *path, fq_isa isa, bool fp16_arithmetic,
                         fq_input_size *size)
{
    fq_error err = {0};
    fq_graph *graph = NULL;
    fq_session *session = NULL;
    fq_status status = fq_tool_read_model(path, &graph, NULL, NULL, &err);
    if (status == FQ_OK) {
        for (int i = 0; i < graph->n_inputs && size->width == 0; i++) {
            const fq_value *v = &graph->values[graph->inputs[i]];
            if (v->shape.rank == 4 && (v->shape.dims[2] < 0 || v->shape.dims[3] < 0))
                size->width = size->height = 640;
        }
        status = fq_passes_run(graph, size, &err);
    }
    fq_session_options options = fq_session_options_default();
    options.isa = isa;
    options.fp16_arithmetic = fp16_arithmetic;
    if (status == FQ_OK)
        status = fq_session_create(graph, &options, &session, &err);
    if (status != FQ_OK) {
        fq_tool_error("cpu", &err);
        fq_graph_free(graph);
        return FQ_EXIT_FAILURE;
    }
    printf("cap        %s\n", fq_isa_name(fq_session_isa_cap(session)));
    printf("model      %s (%d nodes after passes)\n", path, graph->n_nodes);
    for (int n = 0; n < graph->n_nodes; n++)
        printf("  %4d %-32s %-18s %s\n", n, graph->nodes[n].name, graph->nodes[n].op_type,
               fq_session_kernel_name(session, n));
    fq_session_free(session);
    fq_graph_free(graph);
    return FQ_EXIT_OK;
}

int fq_cmd_cpu(int argc, char **argv)
{
    static const struct option options[] = {
        {"isa", required_argument, NULL, 'i'}, {"input-size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},      {"fp16-arithmetic", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    fq_isa isa = FQ_ISA_AUTO;
    bool fp16_arithmetic = false;
    fq_input_size size = {0, 0, 0};
    fq_error err = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'i':
            if (fq_isa_parse(optarg, &isa, &err) != FQ_OK) {
                fq_tool_fail("cpu", "%s", err.message);
                return FQ_EXIT_USAGE;
            }
            break;
        case 's':
            if (!fq_tool_parse_size(optarg, &size)) {
                fq_tool_fail("cpu", "--input-size takes WxH, such as 640x480, not '%s'", optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'f': fp16_arithmetic = true; break;
        case 'h': help(stdout); return FQ_EXIT_OK;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
    }
    if (optind < argc - 1) {
        help(stderr);
        return FQ_EXIT_USAGE;
    }
    print_features();
    return optind == argc - 1 ? print_kernels(argv[optind], isa, fp16_arithmetic, &size)
                              : FQ_EXIT_OK;
}
