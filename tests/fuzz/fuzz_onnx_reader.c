/* libFuzzer target: any byte string given to fq_onnx_read_memory (decode, then bind the nodes
 * to the op table) must come back as a status, never as a crash, leak or sanitizer report. */
#include <stddef.h>
#include <stdint.h>

#include "facequant/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fq_graph *graph = NULL;
    fq_error err;
    if (fq_onnx_read_memory(data, size, &graph, &err) == FQ_OK)
        fq_graph_free(graph);
    return 0;
}
