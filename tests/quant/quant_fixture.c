/* The quantizer tests' shared fixture (see quant_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "graph_builder.h"
#include "quant_fixture.h"
#include "test_util.h"

fq_status qf_feed_random(void *user, int index, fq_tensor *inputs, int n_inputs, bool *more,
                         fq_error *err)
{
    (void)err;
    qf_feed *feed = user;
    *more = index < feed->count;
    if (!*more)
        return FQ_OK;
    fq_test_seed(feed->seed + (unsigned long long)index);
    for (int i = 0; i < n_inputs; i++) {
        float *data = inputs[i].data;
        int64_t n = fq_shape_numel(&inputs[i].shape);
        for (int64_t k = 0; k < n; k++)
            data[k] = fq_test_rand_float(feed->lo, feed->hi);
    }
    return FQ_OK;
}

int qf_conv(fq_graph *g, int x, const char *name, int c_in, int c_out, int k, int group,
            const char *act)
{
    char buf[128];
    const int64_t w_dims[] = {c_out, c_in / group, k, k};
    const int64_t b_dims[] = {c_out};
    snprintf(buf, sizeof(buf), "%s_w", name);
    int w = gb_const_f32(g, buf, 4, w_dims, NULL);
    snprintf(buf, sizeof(buf), "%s_b", name);
    int b = gb_const_f32(g, buf, 1, b_dims, NULL);
    int inputs[] = {x, w, b};
    snprintf(buf, sizeof(buf), "%s_out", name);
    int y = gb_node(g, "Conv", inputs, 3, act == NULL ? name : buf);
    fq_free(g->nodes[g->n_nodes - 1].name);
    g->nodes[g->n_nodes - 1].name = fq_strdup(name);
    const int64_t pads[] = {k / 2, k / 2, k / 2, k / 2};
    const int64_t kernel[] = {k, k};
    gb_attr_ints(g, "pads", 4, pads);
    gb_attr_ints(g, "kernel_shape", 2, kernel);
    gb_attr_int(g, "group", group);
    if (act == NULL)
        return y;
    if (strcmp(act, "Clip") == 0) {
        const float lo = 0.0f, hi = 0.5f;
        snprintf(buf, sizeof(buf), "%s_min", name);
        int min = gb_const_f32(g, buf, 0, NULL, &lo);
        snprintf(buf, sizeof(buf), "%s_max", name);
        int max = gb_const_f32(g, buf, 0, NULL, &hi);
        int clip[] = {y, min, max};
        return gb_node(g, act, clip, 3, name);
    }
    y = gb_node(g, act, &y, 1, name);
    if (strcmp(act, "LeakyRelu") == 0)
        gb_attr_float(g, "alpha", 0.1f);
    return y;
}

void qf_prepare(fq_graph *g)
{
    fq_error err;
    if (fq_passes_run(g, NULL, &err) != FQ_OK)
        fail_msg("passes: %s", err.message);
}

fq_calib_stats *qf_calibrate(const fq_graph *g, qf_feed *feed)
{
    fq_calib_stats *stats = NULL;
    fq_error err;
    if (fq_calibrate(g, NULL, qf_feed_random, feed, &stats, &err) != FQ_OK)
        fail_msg("calibrate: %s", err.message);
    return stats;
}

fq_graph *qf_quantize(const fq_graph *g, const fq_calib_stats *stats, bool channels_last,
                      const char *const *keep, int n_keep, fq_quantize_report **report)
{
    fq_quantize_options o = fq_quantize_options_default();
    o.stats = stats;
    o.channels_last = channels_last;
    o.keep_float = keep;
    o.n_keep_float = n_keep;
    fq_graph *q = NULL;
    fq_error err;
    if (fq_quantize(g, &o, &q, report, &err) != FQ_OK)
        fail_msg("quantize: %s", err.message);
    return q;
}

int qf_find_node(const fq_graph *g, const char *op, int k)
{
    for (int n = 0; n < g->n_nodes; n++)
        if (!g->nodes[n].dead && strcmp(g->nodes[n].op_type, op) == 0 && k-- == 0)
            return n;
    return -1;
}

const fq_quant_node_report *qf_report_entry(const fq_quantize_report *r, const char *node)
{
    for (int i = 0; i < r->n_nodes; i++)
        if (strcmp(r->nodes[i].node, node) == 0)
            return &r->nodes[i];
    fail_msg("no report entry for node '%s'", node);
    return NULL;
}

void qf_require_ops(const char *const *ops, int n)
{
    for (int i = 0; i < n; i++) {
        if (fq_op_find(ops[i]) < 0) {
            print_message("skipped: the operator table has no %s yet\n", ops[i]);
            skip();
        }
    }
}
