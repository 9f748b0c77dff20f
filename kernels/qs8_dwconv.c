/* qs8 depthwise 3x3: the kernel table, weight packing, shape checks and the driver that builds
 * the tap pointers (an indirection buffer) one chunk of output pixels at a time. */
#include <string.h>

#include "qs8_dwconv.h"

/* Output pixels whose tap pointers sit on the stack at once. */
#define PIXEL_CHUNK 32

static const fq_qs8_dwconv_kernel kernels[] = {
    {"qs8_dwconv3x3_16c__scalar", FQ_ISA_SCALAR, fq_qs8_dwconv3x3_ukernel_16c__scalar, NULL},
    {"qs8_dwconv3x3_row_16c__scalar", FQ_ISA_SCALAR, NULL,
     fq_qs8_dwconv3x3_row_ukernel_16c__scalar},
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX2)
    {"qs8_dwconv3x3_16c__avx2", FQ_ISA_AVX2, fq_qs8_dwconv3x3_ukernel_16c__avx2, NULL},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512)
    {"qs8_dwconv3x3_16c__avx512", FQ_ISA_AVX512, fq_qs8_dwconv3x3_ukernel_16c__avx512, NULL},
    {"qs8_dwconv3x3_row_16c__avx512", FQ_ISA_AVX512, NULL,
     fq_qs8_dwconv3x3_row_ukernel_16c__avx512},
#endif
#if defined(FQ_KERNELS_X86) && defined(FQ_HAVE_ISA_AVX512VNNI)
    {"qs8_dwconv3x3_row_16c__avx512vnni", FQ_ISA_AVX512VNNI, NULL,
     fq_qs8_dwconv3x3_row_ukernel_16c__avx512vnni},
#endif
#if (defined(FQ_KERNELS_AARCH64) || defined(FQ_KERNELS_ARMV7)) && defined(FQ_HAVE_ISA_NEON)
    {"qs8_dwconv3x3_16c__neon", FQ_ISA_NEON, fq_qs8_dwconv3x3_ukernel_16c__neon, NULL},
#endif
};

const fq_qs8_dwconv_kernel *fq_qs8_dwconv3x3_kernels(int *count)
{
    *count = (int)(sizeof(kernels) / sizeof(kernels[0]));
    return kernels;
}

const fq_qs8_dwconv_kernel *fq_qs8_dwconv3x3_select(fq_isa cap)
{
    for (int i = (int)(sizeof(kernels) / sizeof(kernels[0])) - 1; i > 0; i--)
        if (fq_isa_allowed(kernels[i].isa, cap))
            return &kernels[i];
    return &kernels[0];
}

size_t fq_qs8_dwconv3x3_packed_size(size_t channels)
{
    return (channels + FQ_QS8_DWCONV_TILE - 1) / FQ_QS8_DWCONV_TILE * FQ_QS8_DWCONV_TILE_BYTES;
}

static fq_status check_pack_args(size_t channels, const int32_t *bias, int32_t input_zero_point,
                                 const float *multiplier, fq_error *err)
{
    if (channels == 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "qs8 dwconv pack: no channels");
    if (input_zero_point < 0 || input_zero_point > 255)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "qs8 dwconv pack: input zero point %d is outside 0..255",
                            (int)input_zero_point);
    for (size_t c = 0; c < channels; c++) {
        if (!(multiplier[c] > 0.0f) || !isfinite(multiplier[c]))
            return fq_error_set(err, FQ_ERR_INVALID_ARG,
                                "qs8 dwconv pack: multiplier of channel %zu is %g, not finite "
                                "and positive", c, (double)multiplier[c]);
        int64_t b = bias != NULL ? bias[c] : 0;
        if ((b < 0 ? -b : b) + 2 * FQ_QS8_DWCONV_TAPS * 255 * 128 > INT32_MAX)
            return fq_error_set(err, FQ_ERR_INVALID_ARG,
                                "qs8 dwconv pack: bias %lld of channel %zu could overflow its "
                                "int32 accumulator", (long long)b, c);
    }
    return FQ_OK;
}

fq_status fq_qs8_dwconv3x3_pack(size_t channels, const int8_t *w, const int32_t *bias,
                                int32_t input_zero_point, const float *multiplier, void *packed,
                                fq_error *err)
{
    fq_status st = check_pack_args(channels, bias, input_zero_point, multiplier, err);
    if (st != FQ_OK)
        return st;

    uint8_t *tile = packed;
    memset(tile, 0, fq_qs8_dwconv3x3_packed_size(channels));
    for (size_t c0 = 0; c0 < channels; c0 += FQ_QS8_DWCONV_TILE) {
        int32_t *packed_bias = (int32_t *)(void *)tile;
        int8_t *packed_w = (int8_t *)(tile + FQ_QS8_DWCONV_TILE * sizeof(int32_t));
        float *packed_multiplier = (float *)(void *)(packed_w + FQ_QS8_DWCONV_TAPS *
                                                                    FQ_QS8_DWCONV_TILE);
        for (size_t j = 0; j < FQ_QS8_DWCONV_TILE; j++) {
            size_t c = c0 + j;
            packed_multiplier[j] = 1.0f;
            if (c >= channels)
                continue;
            int32_t sum = 0;
            for (int t = 0; t < FQ_QS8_DWCONV_TAPS; t++) {
                packed_w[t * FQ_QS8_DWCONV_TILE + j] = w[t * channels + c];
                sum += w[t * channels + c];
            }
            packed_bias[j] = (bias != NULL ? bias[c] : 0) - input_zero_point * sum;
            packed_multiplier[j] = multiplier[c];
        }
        tile += FQ_QS8_DWCONV_TILE_BYTES;
    }
    return FQ_OK;
}

/* Whether the last window along an axis ends at most 2 past the input: the far padding that
 * the output size implies. */
static int window_fits(size_t out, size_t stride, size_t in, size_t pad)
{
    return (out - 1) * stride + 3 <= in + pad + 2;
}

fq_status fq_qs8_dwconv3x3_check_shape(const fq_qs8_dwconv_shape *s, fq_error *err)
{
    if (s->batch == 0 || s->in_height == 0 || s->in_width == 0 || s->channels == 0 ||
        s->out_height == 0 || s->out_width == 0 || s->stride_h == 0 || s->stride_w == 0)
        return fq_error_set(err, FQ_ERR_SHAPE, "qs8 dwconv3x3: a size or stride is 0");
    if (s->pad_top > 2 || s->pad_left > 2)
        return fq_error_set(err, FQ_ERR_SHAPE, "qs8 dwconv3x3: padding %zu x %zu exceeds 2",
                            s->pad_top, s->pad_left);
    if (s->input_zero_point < 0 || s->input_zero_point > 255)
        return fq_error_set(err, FQ_ERR_INVALID_ARG,
                            "qs8 dwconv3x3: input zero point %d is outside 0..255",
                            (int)s->input_zero_point);
    if (!window_fits(s->out_height, s->stride_h, s->in_height, s->pad_top) ||
        !window_fits(s->out_width, s->stride_w, s->in_width, s->pad_left))
        return fq_error_set(err, FQ_ERR_SHAPE,
                            "qs8 dwconv3x3: output %zu x %zu does not fit input %zu x %zu with "
                            "strides %zu x %zu", s->out_height, s->out_width, s->in_height,
                            s->in_width, s->stride_h, s->stride_w);
    return FQ_OK;
}

/* Tap pointers of output pixels [ox0, ox0 + count) of output row oy of one image. */
static void fill_taps(const fq_qs8_dwconv_shape *s, const uint8_t *image, const uint8_t *pad_row,
                      size_t oy, size_t ox0, size_t count, const uint8_t **taps)
{
    for (size_t p = 0; p < count; p++) {
        for (size_t r = 0; r < 3; r++) {
            size_t iy = (oy * s->stride_h + r) - s->pad_top; /* wraps when above the image */
            for (size_t q = 0; q < 3; q++) {
                size_t ix = ((ox0 + p) * s->stride_w + q) - s->pad_left;
                int inside = iy < s->in_height && ix < s->in_width;
                taps[p * 9 + r * 3 + q] =
                    inside ? image + (iy * s->in_width + ix) * s->channels : pad_row;
            }
        }
    }
}

/* Output row oy of one image through a row microkernel. */
static void run_row(const fq_qs8_dwconv_kernel *kernel, const fq_qs8_dwconv_shape *s,
                    const uint8_t *image, const uint8_t *pad_row, size_t oy, const void *packed,
                    uint8_t *out_row, const fq_qs8_requant_params *params)
{
    fq_qs8_dwconv_row row = {.channels = s->channels, .out_width = s->out_width,
                             .in_width = s->in_width, .stride = s->stride_w,
                             .pad_left = s->pad_left, .pad_row = pad_row};
    for (size_t r = 0; r < 3; r++) {
        size_t iy = (oy * s->stride_h + r) - s->pad_top; /* wraps when above the image */
        int inside = iy < s->in_height;
        row.rows[r] = inside ? image + iy * s->in_width * s->channels : pad_row;
        row.pixel_step[r] = inside ? s->channels : 0;
    }
    kernel->row(&row, packed, out_row, params);
}

void fq_qs8_dwconv3x3_run(const fq_qs8_dwconv_kernel *kernel, const fq_qs8_dwconv_shape *s,
                          const uint8_t *input, const void *packed, uint8_t *output,
                          uint8_t *pad_row, const fq_qs8_requant_params *params)
{
    const uint8_t *taps[PIXEL_CHUNK * FQ_QS8_DWCONV_TAPS];
    memset(pad_row, s->input_zero_point, s->channels);
    size_t image_size = s->in_height * s->in_width * s->channels;

    for (size_t b = 0; b < s->batch; b++) {
        const uint8_t *image = input + b * image_size;
        for (size_t oy = 0; oy < s->out_height; oy++) {
            uint8_t *out_row = output + ((b * s->out_height + oy) * s->out_width) * s->channels;
            if (kernel->row != NULL) {
                run_row(kernel, s, image, pad_row, oy, packed, out_row, params);
                continue;
            }
            for (size_t ox = 0; ox < s->out_width; ox += PIXEL_CHUNK) {
                size_t count = s->out_width - ox < PIXEL_CHUNK ? s->out_width - ox : PIXEL_CHUNK;
                fill_taps(s, image, pad_row, oy, ox, count, taps);
                kernel->ukernel(s->channels, count, taps, packed, out_row + ox * s->channels,
                                s->channels, params);
            }
        }
    }
}
