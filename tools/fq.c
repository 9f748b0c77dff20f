/* fq: the facequant command line. Progress and errors go to stderr, results to stdout.
 * Exit codes: 0 success, 1 failure, 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "facequant/fq.h"
#include "fq_common.h"

int fq_cmd_inspect(int argc, char **argv);
int fq_cmd_run(int argc, char **argv);
int fq_cmd_bench(int argc, char **argv);
int fq_cmd_cpu(int argc, char **argv);
int fq_cmd_detect(int argc, char **argv);
int fq_cmd_enroll(int argc, char **argv);
int fq_cmd_gallery(int argc, char **argv);
int fq_cmd_recognize(int argc, char **argv);
int fq_cmd_verify(int argc, char **argv);
int fq_cmd_calibrate(int argc, char **argv);
int fq_cmd_convert(int argc, char **argv);
int fq_cmd_serve(int argc, char **argv);
int fq_cmd_eval(int argc, char **argv);
int fq_cmd_compare(int argc, char **argv);
int fq_cmd_quantize(int argc, char **argv);

typedef struct command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"inspect", fq_cmd_inspect, "show a model's inputs, outputs, ops, parameters, FLOPs, memory"},
    {"run", fq_cmd_run, "run a model on .npy inputs and write its outputs as .npy files"},
    {"bench", fq_cmd_bench, "time a model's runs: mean, median, p90, min latency and FPS"},
    {"cpu", fq_cmd_cpu, "show the CPU features, and which kernel each node of a model runs"},
    {"detect", fq_cmd_detect, "find faces in photos: boxes, scores, landmarks; text, JSON, PNG"},
    {"enroll", fq_cmd_enroll, "add people from a folder of photos to a gallery"},
    {"gallery", fq_cmd_gallery, "list the people of a gallery, or remove one"},
    {"recognize", fq_cmd_recognize, "name the faces of photos from a gallery"},
    {"verify", fq_cmd_verify, "accuracy, best threshold and ROC AUC on labelled image pairs"},
    {"calibrate", fq_cmd_calibrate, "activation statistics over photos, for quantization"},
    {"convert", fq_cmd_convert, "write an ONNX model, after the passes, as an .fqm file"},
    {"serve", fq_cmd_serve, "the HTTP API: convert, quantize, detect, recognize"},
    {"eval", fq_cmd_eval, "how closely model B follows model A on real inputs: outputs, faces"},
    {"compare", fq_cmd_compare, "variants side by side: size, load time, latency, agreement"},
    {"quantize", fq_cmd_quantize, "rewrite a model to int8, fp16 or dynamic int8 (.fqm)"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fq COMMAND [OPTIONS] ...\n"
            "\n"
            "facequant %s: on-device face detection and recognition engine.\n"
            "\n"
            "commands:\n",
            FQ_VERSION_STRING);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Run 'fq COMMAND --help' for the options of a command.\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return FQ_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return FQ_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("fq %s\n", FQ_VERSION_STRING);
        return FQ_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "fq: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return FQ_EXIT_USAGE;
}
