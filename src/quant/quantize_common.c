/* Helpers every rewrite of the quantizer uses: weight and bias quantization, new constants,
 * quantization parameters on values, and the report. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "quant/quantize_internal.h"

bool fq_quant_keep_float(const fq_quantize_options *options, const char *node)
{
    for (int i = 0; i < options->n_keep_float; i++)
        if (options->keep_float[i] != NULL && strcmp(options->keep_float[i], node) == 0)
            return true;
    return false;
}

fq_status fq_quant_report_set(fq_quantize_report *report, const char *node, fq_dtype precision,
                              const char *reason, fq_error *err)
{
    for (int n = 0; n < report->n_nodes; n++) {
        fq_quant_node_report *entry = &report->nodes[n];
        if (strcmp(entry->node, node) != 0)
            continue;
        entry->precision = precision;
        fq_free(entry->reason);
        entry->reason = NULL;
        if (reason != NULL) {
            size_t len = strlen(reason) + 1;
            entry->reason = fq_malloc(len);
            if (entry->reason == NULL)
                return fq_error_set(err, FQ_ERR_NO_MEMORY,
                                    "quantize: out of memory for the report");
            memcpy(entry->reason, reason, len);
        }
        return FQ_OK;
    }
    return FQ_OK;
}

void fq_quant_weights_i8(const float *w, int64_t n_channels, int64_t per_channel, int8_t *q,
                         float *scale)
{
    for (int64_t c = 0; c < n_channels; c++) {
        const float *row = w + c * per_channel;
        float max_abs = 0.0f;
        for (int64_t i = 0; i < per_channel; i++)
            max_abs = fmaxf(max_abs, fabsf(row[i]));
        float s = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
        scale[c] = s;
        for (int64_t i = 0; i < per_channel; i++) {
            float v = nearbyintf(row[i] / s); /* default mode: ties to even */
            v = fminf(fmaxf(v, -127.0f), 127.0f);
            q[c * per_channel + i] = (int8_t)v;
        }
    }
}

int fq_quant_bias_i32(const float *b, int64_t n_channels, float x_scale, const float *w_scale,
                      int32_t *q)
{
    int saturated = 0;
    for (int64_t c = 0; c < n_channels; c++) {
        double v = nearbyint((double)b[c] / ((double)x_scale * (double)w_scale[c]));
        if (v > (double)INT32_MAX || v < -(double)INT32_MAX) {
            v = v > 0 ? (double)INT32_MAX : -(double)INT32_MAX;
            saturated++;
        }
        q[c] = (int32_t)v;
    }
    return saturated;
}

static fq_status unique_name(const fq_graph *graph, const char *base, char *name, size_t size,
                             fq_error *err)
{
    snprintf(name, size, "%s", base);
    for (int i = 1; fq_graph_find_value(graph, name) >= 0; i++) {
        if (i > 1000000)
            return fq_error_set(err, FQ_ERR_INTERNAL, "quantize: no free name for '%s'", base);
        snprintf(name, size, "%s_%d", base, i);
    }
    return FQ_OK;
}

fq_status fq_quant_add_constant(fq_graph *graph, const char *base, fq_dtype dtype,
                                const fq_shape *shape, const void *data, int *index,
                                fq_error *err)
{
    char name[512];
    fq_status status = unique_name(graph, base, name, sizeof(name), err);
    if (status != FQ_OK)
        return status;
    status = fq_graph_add_value(graph, name, dtype, shape, index, err);
    if (status != FQ_OK)
        return status;
    return fq_value_set_data(graph, *index, data, false, err);
}

fq_status fq_quant_add_scale(fq_graph *graph, const char *base, float scale, int *index,
                             fq_error *err)
{
    fq_shape scalar = {0};
    return fq_quant_add_constant(graph, base, FQ_DTYPE_F32, &scalar, &scale, index, err);
}

fq_status fq_quant_add_zero_point_u8(fq_graph *graph, const char *base, int32_t zero_point,
                                     int *index, fq_error *err)
{
    if (zero_point < 0 || zero_point > 255)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "quantize: zero point %d of '%s' is "
                            "outside 0..255", (int)zero_point, base);
    fq_shape scalar = {0};
    uint8_t zp = (uint8_t)zero_point;
    return fq_quant_add_constant(graph, base, FQ_DTYPE_U8, &scalar, &zp, index, err);
}

static fq_status set_quant(fq_value *value, int axis, int count, const float *scale,
                           const int32_t *zero_point, fq_error *err)
{
    float *s = fq_malloc((size_t)count * sizeof(float));
    int32_t *z = fq_calloc((size_t)count, sizeof(int32_t));
    if (s == NULL || z == NULL) {
        fq_free(s);
        fq_free(z);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "quantize: out of memory for the parameters of "
                            "'%s'", value->name);
    }
    memcpy(s, scale, (size_t)count * sizeof(float));
    if (zero_point != NULL)
        memcpy(z, zero_point, (size_t)count * sizeof(int32_t));
    fq_free(value->quant.scale);
    fq_free(value->quant.zero_point);
    value->quant.axis = axis;
    value->quant.count = count;
    value->quant.scale = s;
    value->quant.zero_point = z;
    return FQ_OK;
}

fq_status fq_quant_set_per_tensor(fq_value *value, float scale, int32_t zero_point,
                                  fq_error *err)
{
    return set_quant(value, -1, 1, &scale, &zero_point, err);
}

fq_status fq_quant_set_per_channel(fq_value *value, int axis, int count, const float *scale,
                                   fq_error *err)
{
    return set_quant(value, axis, count, scale, NULL, err);
}
