/* qs8 small-channel convolution: the kernel table and weight packing (see qs8_stemconv.h). */
#include <math.h>
#include <string.h>

#include "qs8_stemconv.h"

static const fq_qs8_stemconv_kernel kernels[] = {
    {"qs8_stemconv_1x16c4__scalar", FQ_ISA_SCALAR, fq_qs8_stemconv_ukernel_1x16c4__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512VNNI)
    {"qs8_stemconv_8x48c4__avx512vnni", FQ_ISA_AVX512VNNI,
     fq_qs8_stemconv_ukernel_8x48c4__avx512vnni},
#endif
};

const fq_qs8_stemconv_kernel *fq_qs8_stemconv_kernels(int *count)
{
    *count = (int)(sizeof(kernels) / sizeof(kernels[0]));
    return kernels;
}

const fq_qs8_stemconv_kernel *fq_qs8_stemconv_select(fq_isa cap)
{
    for (int i = (int)(sizeof(kernels) / sizeof(kernels[0])) - 1; i > 0; i--)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return NULL;
}

size_t fq_qs8_stemconv_split(size_t out_channels)
{
    size_t tail = out_channels % FQ_QS8_STEMCONV_PANEL;
    if (tail == 0 || tail > 8)
        return 1;
    return tail > 4 ? 2 : tail > 2 ? 4 : 8;
}

size_t fq_qs8_stemconv_groups(size_t kernel_w, size_t in_channels, size_t out_channels)
{
    size_t split = fq_qs8_stemconv_split(out_channels);
    size_t groups = (kernel_w * in_channels + 3) / 4;
    return (groups + split - 1) / split * split;
}

size_t fq_qs8_stemconv_packed_size(size_t out_channels, size_t kernel_h, size_t groups)
{
    size_t full = out_channels / FQ_QS8_STEMCONV_PANEL;
    size_t size = full * fq_qs8_stemconv_panel_bytes(kernel_h, groups, 1);
    if (out_channels % FQ_QS8_STEMCONV_PANEL != 0)
        size += fq_qs8_stemconv_panel_bytes(kernel_h, groups,
                                            fq_qs8_stemconv_split(out_channels));
    return size;
}

static fq_status check_channel(size_t j, size_t depth, const int32_t *bias,
                               const float *multiplier, fq_error *err)
{
    if (!(multiplier[j] > 0.0f) || !isfinite(multiplier[j]))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 stemconv pack: multiplier of channel "
                            "%zu is %g, not finite and positive", j, (double)multiplier[j]);
    int64_t b = bias != NULL ? bias[j] : 0;
    if ((b < 0 ? -b : b) + 2 * (int64_t)depth * 255 * 128 > INT32_MAX)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 stemconv pack: bias %lld of channel "
                            "%zu could overflow its int32 accumulator", (long long)b, j);
    return FQ_OK;
}

/* The geometry of one packing: weights OIHW, kernel rows of `run` bytes read as `groups`. */
typedef struct pack_shape {
    size_t in_channels, kernel_h, kernel_w, run, groups;
} pack_shape;

/* Channel j's weights into lane set j of a panel of split `split` (see qs8_stemconv.h);
 * returns their sum. */
static int32_t pack_channel(const pack_shape *s, const int8_t *w, size_t j, size_t lane_set,
                            size_t split, int8_t *packed_w)
{
    size_t steps = s->groups / split;
    int32_t sum = 0;
    for (size_t r = 0; r < s->kernel_h; r++)
        for (size_t t = 0; t < s->run; t++) {
            size_t kw = t / s->in_channels, c = t % s->in_channels, g = t / 4;
            size_t lane = lane_set * split + g % split;
            int8_t v = w[((j * s->in_channels + c) * s->kernel_h + r) * s->kernel_w + kw];
            packed_w[((r * steps + g / split) * FQ_QS8_STEMCONV_PANEL + lane) * 4 + t % 4] = v;
            sum += v;
        }
    return sum;
}

/* The panel of channels [j0, j0 + count), split `split`. */
static fq_status pack_panel(const pack_shape *s, size_t j0, size_t count, size_t split,
                            const int8_t *w, const int32_t *bias, int32_t input_zero_point,
                            const float *multiplier, uint8_t *panel, fq_error *err)
{
    int32_t *packed_bias = (int32_t *)(void *)panel;
    int8_t *packed_w = (int8_t *)(panel + FQ_QS8_STEMCONV_PANEL * sizeof(int32_t));
    float *packed_multiplier =
        (float *)(void *)(packed_w + s->kernel_h * s->groups / split * 4 *
                                         FQ_QS8_STEMCONV_PANEL);
    for (size_t i = 0; i < FQ_QS8_STEMCONV_PANEL; i++)
        packed_multiplier[i] = 1.0f;
    for (size_t i = 0; i < count; i++) {
        size_t j = j0 + i;
        fq_status status = check_channel(j, s->kernel_h * s->run, bias, multiplier, err);
        if (status != FQ_OK)
            return status;
        int32_t sum = pack_channel(s, w, j, i, split, packed_w);
        packed_bias[i * split] = (bias != NULL ? bias[j] : 0) - input_zero_point * sum;
        packed_multiplier[i] = multiplier[j];
    }
    return FQ_OK;
}

fq_status fq_qs8_stemconv_pack(size_t out_channels, size_t in_channels, size_t kernel_h,
                               size_t kernel_w, const int8_t *w, const int32_t *bias,
                               int32_t input_zero_point, const float *multiplier, void *packed,
                               fq_error *err)
{
    pack_shape s = {in_channels, kernel_h, kernel_w, kernel_w * in_channels,
                    fq_qs8_stemconv_groups(kernel_w, in_channels, out_channels)};
    if (out_channels == 0 || s.run == 0 || s.run > FQ_QS8_STEMCONV_MAX_ROW_BYTES ||
        kernel_h == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 stemconv pack: %zu x %zu x %zu "
                            "weights do not fit kernel rows of at most %d bytes", out_channels,
                            kernel_h, s.run, FQ_QS8_STEMCONV_MAX_ROW_BYTES);
    memset(packed, 0, fq_qs8_stemconv_packed_size(out_channels, kernel_h, s.groups));

    uint8_t *panel = packed;
    for (size_t j0 = 0; j0 < out_channels; j0 += FQ_QS8_STEMCONV_PANEL) {
        size_t count = out_channels - j0 < FQ_QS8_STEMCONV_PANEL ? out_channels - j0
                                                                 : FQ_QS8_STEMCONV_PANEL;
        size_t split = count < FQ_QS8_STEMCONV_PANEL ? fq_qs8_stemconv_split(out_channels) : 1;
        fq_status status = pack_panel(&s, j0, count, split, w, bias, input_zero_point,
                                      multiplier, panel, err);
        if (status != FQ_OK)
            return status;
        panel += fq_qs8_stemconv_panel_bytes(kernel_h, s.groups, split);
    }
    return FQ_OK;
}
