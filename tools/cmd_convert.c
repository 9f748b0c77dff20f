/* fq convert: an ONNX model, through the passes, into an .fqm file with its preprocessing as
 * metadata. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "face_common.h"
#include "facequant/fq.h"
#include "fq_common.h"
#include "model_file.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: fq convert MODEL.onnx -o MODEL.fqm [--input-size WxH]\n"
            "\n"
            "Reads MODEL.onnx, runs the passes (fixed input size, folded constants, fused\n"
            "layers) and writes the graph as an .fqm file that fq run, fq inspect and the\n"
            "library load without passes, weights used in place. The metadata records the\n"
            "source file, the input size and, when the model has a card (models/cards or\n"
            "$FQ_CARDS), its preprocessing: colour order, mean, std, resize.\n"
            "\n"
            "  -o, --output FILE  the .fqm file to write\n"
            "  --input-size WxH   width x height for inputs with a dynamic size (default: the\n"
            "                     card's size, else 640x640)\n"
            "  -h, --help         show this help\n");
}

static bool has_dynamic_size(const fq_graph *g)
{
    for (int i = 0; i < g->n_inputs; i++) {
        const fq_value *v = &g->values[g->inputs[i]];
        if (v->shape.rank == 4 && (v->shape.dims[2] < 0 || v->shape.dims[3] < 0))
            return true;
    }
    return false;
}

/* The size the passes fix: the option, else the card's, else 640x640 for a dynamic input. */
static fq_input_size choose_size(const fq_graph *g, fq_input_size size, const fq_model_card *card,
                                 bool card_found)
{
    if (size.width > 0 || !has_dynamic_size(g))
        return size;
    if (card_found && card->input_width > 0)
        return (fq_input_size){card->input_width, card->input_height, 0};
    fprintf(stderr, "fq convert: the input size is dynamic; fixing it at 640x640 (use "
            "--input-size WxH for another)\n");
    return (fq_input_size){640, 640, 0};
}

static int convert(const char *input, const char *output, fq_input_size size)
{
    fq_error err = {0};
    fq_graph *graph = NULL;
    fq_model_card card;
    bool card_found = false;
    char stem[256];
    fq_tool_meta_list meta = {.count = 0};
    double t0 = fq_tool_now_ms();

    fq_tool_model_stem(input, stem, sizeof(stem));
    fq_status status = fq_tool_find_card(stem, &card, &card_found, &err);
    if (status == FQ_OK)
        status = fq_onnx_read_file(input, &graph, &err);
    if (status == FQ_OK) {
        size = choose_size(graph, size, &card, card_found);
        status = fq_passes_run(graph, &size, &err);
    }
    if (status == FQ_OK) {
        const char *slash = strrchr(input, '/');
        fq_tool_meta_add(&meta, FQ_FQM_META_SOURCE, "%s", slash != NULL ? slash + 1 : input);
        fq_tool_meta_add_input_size(&meta, graph);
        if (card_found)
            fq_tool_meta_add_card(&meta, &card);
        status = fq_fqm_write_file(graph, meta.entries, meta.count, output, &err);
    }
    if (status != FQ_OK) {
        fq_tool_error("convert", &err);
        fq_graph_free(graph);
        return FQ_EXIT_FAILURE;
    }

    struct stat in_st, out_st;
    long long in_size = stat(input, &in_st) == 0 ? (long long)in_st.st_size : -1;
    long long out_size = stat(output, &out_st) == 0 ? (long long)out_st.st_size : -1;
    fprintf(stderr, "fq convert: %s%s, converted in %.1f ms\n", input,
            card_found ? " (with its card)" : " (no card: no preprocessing metadata)",
            fq_tool_now_ms() - t0);
    printf("%s: %lld bytes (ONNX %lld bytes), %d nodes, %d values, %d metadata entries\n",
           output, out_size, in_size, graph->n_nodes, graph->n_values, meta.count);
    fq_graph_free(graph);
    return FQ_EXIT_OK;
}

int fq_cmd_convert(int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'}, {"input-size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    fq_input_size size = {0, 0, 0};
    const char *output = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        switch (opt) {
        case 'o': output = optarg; break;
        case 's':
            if (!fq_tool_parse_size(optarg, &size)) {
                fq_tool_fail("convert", "--input-size takes WxH, such as 640x480, not '%s'",
                             optarg);
                return FQ_EXIT_USAGE;
            }
            break;
        case 'h': help(stdout); return FQ_EXIT_OK;
        default: help(stderr); return FQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || output == NULL) {
        fq_tool_fail("convert", "needs MODEL.onnx and -o MODEL.fqm (see --help)");
        return FQ_EXIT_USAGE;
    }
    return convert(argv[optind], output, size);
}
