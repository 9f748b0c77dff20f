/* The static rewrite of fq_quantize (placeholder until it lands: refuses). */
#include "quant/quantize_internal.h"

fq_status fq_quantize_static_impl(fq_graph *graph, const fq_quantize_options *options,
                                fq_quantize_report *report, fq_error *err)
{
    (void)graph;
    (void)options;
    (void)report;
    return fq_error_set(err, FQ_ERR_UNSUPPORTED, "quantize: the static rewrite is not built");
}
