/* Selection, packing and drivers of the fp16 kernels: see f16_gemm.h. */
#include <string.h>

#include "f16_gemm.h"
#include "ref/f16_gemm_ref.h"
#include "ref/tensor_cast_ref.h"

/* Most specific first; selection takes the first one the CPU and the cap allow. */
static const fq_f16_gemm_kernel f16_gemm_kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512FP16)
    {"f16_gemm_8x64__avx512fp16", FQ_ISA_AVX512FP16, 8, 64, fq_f16_gemm_ukernel_8x64__avx512fp16},
#endif
#if defined(FQ_HAVE_ISA_NEONFP16)
    {"f16_gemm_8x16__neonfp16", FQ_ISA_NEONFP16, 8, 16, fq_f16_gemm_ukernel_8x16__neonfp16},
#endif
    {NULL, FQ_ISA_SCALAR, 0, 0, NULL},
};

static const fq_f16w_f32_gemm_kernel f16w_f32_gemm_kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512)
    {"f16w_f32_gemm_8x32__avx512", FQ_ISA_AVX512, 8, 32, fq_f16w_f32_gemm_ukernel_8x32__avx512},
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    {"f16w_f32_gemm_6x16__avx2", FQ_ISA_AVX2, 6, 16, fq_f16w_f32_gemm_ukernel_6x16__avx2},
#endif
#if defined(FQ_KERNELS_AARCH64) && defined(FQ_HAVE_ISA_NEON)
    {"f16w_f32_gemm_6x16__neon", FQ_ISA_NEON, 6, 16, fq_f16w_f32_gemm_ukernel_6x16__neon},
#endif
    {"f16w_f32_gemm_4x8__scalar", FQ_ISA_SCALAR, 4, 8, fq_f16w_f32_gemm_ukernel_4x8__scalar},
};

static const fq_f16_dwconv3x3_kernel f16_dwconv3x3_kernels[] = {
#if defined(FQ_HAVE_ISA_AVX512FP16)
    {"f16_dwconv3x3_c32__avx512fp16", FQ_ISA_AVX512FP16, 32,
     fq_f16_dwconv3x3_ukernel_c32__avx512fp16},
#endif
#if defined(FQ_HAVE_ISA_NEONFP16)
    {"f16_dwconv3x3_c8__neonfp16", FQ_ISA_NEONFP16, 8, fq_f16_dwconv3x3_ukernel_c8__neonfp16},
#endif
    {NULL, FQ_ISA_SCALAR, 0, NULL},
};

const fq_f16_gemm_kernel *fq_f16_gemm_select(fq_isa cap)
{
    for (const fq_f16_gemm_kernel *k = f16_gemm_kernels; k->ukernel != NULL; k++)
        if (fq_isa_allowed(k->isa, cap))
            return k;
    return NULL;
}

const fq_f16w_f32_gemm_kernel *fq_f16w_f32_gemm_select(fq_isa cap)
{
    size_t count = sizeof(f16w_f32_gemm_kernels) / sizeof(f16w_f32_gemm_kernels[0]);
    for (size_t i = 0; i + 1 < count; i++)
        if (fq_isa_allowed(f16w_f32_gemm_kernels[i].isa, cap))
            return &f16w_f32_gemm_kernels[i];
    return &f16w_f32_gemm_kernels[count - 1];
}

const fq_f16_dwconv3x3_kernel *fq_f16_dwconv3x3_select(fq_isa cap)
{
    for (const fq_f16_dwconv3x3_kernel *k = f16_dwconv3x3_kernels; k->ukernel != NULL; k++)
        if (fq_isa_allowed(k->isa, cap))
            return k;
    return NULL;
}

fq_f32_exceeds_f16_fn fq_f32_exceeds_f16_select(fq_isa cap)
{
    (void)cap;
#if defined(FQ_HAVE_ISA_AVX512)
    if (fq_isa_allowed(FQ_ISA_AVX512, cap))
        return fq_f32_exceeds_f16__avx512;
#endif
#if defined(FQ_HAVE_ISA_AVX2)
    if (fq_isa_allowed(FQ_ISA_AVX2, cap))
        return fq_f32_exceeds_f16__avx2;
#endif
    return fq_f32_exceeds_f16__scalar;
}

size_t fq_f16_gemm_packed_count(size_t n, size_t k, size_t nr)
{
    size_t panels = (n + nr - 1) / nr;
    return panels * nr * (k + 1);
}

void fq_f16_gemm_pack(size_t n, size_t k_count, size_t nr, const float *w, size_t k_stride,
                      size_t n_stride, const float *bias, uint16_t *packed)
{
    memset(packed, 0, fq_f16_gemm_packed_count(n, k_count, nr) * sizeof(*packed));

    for (size_t j = 0; j < n; j++) {
        uint16_t *panel = packed + (j / nr) * nr * (k_count + 1);
        size_t lane = j % nr;
        panel[lane] = fq_f16_from_f32(bias != NULL ? bias[j] : 0.0f);
        for (size_t k = 0; k < k_count; k++)
            panel[nr + k * nr + lane] = fq_f16_from_f32(w[k * k_stride + j * n_stride]);
    }
}

/* Columns per pass over all rows: a multiple of nr, so that the packed weights of one pass
 * (about 128 columns x K) stay in the L2 cache while every row block reads them. */
static size_t column_chunk(size_t nr)
{
    return nr * ((128 + nr - 1) / nr);
}

void fq_f16_gemm_run(const fq_f16_gemm_kernel *kernel, size_t m, size_t n, size_t k,
                     const uint16_t *a, size_t a_stride, const uint16_t *packed_w, uint16_t *c,
                     size_t c_stride, const fq_f16_minmax *params)
{
    size_t chunk = column_chunk(kernel->nr);

    for (size_t j = 0; j < n; j += chunk) {
        size_t cols = n - j < chunk ? n - j : chunk;
        const uint16_t *w = packed_w + j / kernel->nr * kernel->nr * (k + 1);
        for (size_t i = 0; i < m; i += kernel->mr) {
            size_t rows = m - i < kernel->mr ? m - i : kernel->mr;
            kernel->ukernel(rows, cols, k, a + i * a_stride, a_stride, w, c + i * c_stride + j,
                            c_stride, params);
        }
    }
}

void fq_f16w_f32_gemm_run(const fq_f16w_f32_gemm_kernel *kernel, size_t m, size_t n, size_t k,
                          const float *a, size_t a_stride, const uint16_t *packed_w, float *c,
                          size_t c_stride, const fq_f16w_f32_minmax *params)
{
    size_t chunk = column_chunk(kernel->nr);

    for (size_t j = 0; j < n; j += chunk) {
        size_t cols = n - j < chunk ? n - j : chunk;
        const uint16_t *w = packed_w + j / kernel->nr * kernel->nr * (k + 1);
        for (size_t i = 0; i < m; i += kernel->mr) {
            size_t rows = m - i < kernel->mr ? m - i : kernel->mr;
            kernel->ukernel(rows, cols, k, a + i * a_stride, a_stride, w, c + i * c_stride + j,
                            c_stride, params);
        }
    }
}

static size_t conv_depth(const fq_f16_conv2d_params *p)
{
    return p->kernel_h * p->kernel_w * p->in_channels;
}

size_t fq_f16_conv2d_packed_count(const fq_f16_conv2d_params *p,
                                  const fq_f16_gemm_kernel *kernel)
{
    return fq_f16_gemm_packed_count(p->out_channels, conv_depth(p), kernel->nr);
}

size_t fq_f16_conv2d_workspace_count(const fq_f16_conv2d_params *p,
                                     const fq_f16_gemm_kernel *kernel)
{
    return kernel->mr * conv_depth(p);
}

void fq_f16_conv2d_pack(const fq_f16_conv2d_params *p, const fq_f16_gemm_kernel *kernel,
                        const float *w, const float *bias, uint16_t *packed)
{
    size_t taps = p->kernel_h * p->kernel_w;
    size_t depth = conv_depth(p);
    size_t nr = kernel->nr;
    memset(packed, 0, fq_f16_conv2d_packed_count(p, kernel) * sizeof(*packed));

    /* GEMM depth index (tap * in_channels + c) reads OIHW element (o, c, tap). */
    for (size_t o = 0; o < p->out_channels; o++) {
        uint16_t *panel = packed + (o / nr) * nr * (depth + 1);
        size_t lane = o % nr;
        panel[lane] = fq_f16_from_f32(bias != NULL ? bias[o] : 0.0f);
        for (size_t tap = 0; tap < taps; tap++)
            for (size_t c = 0; c < p->in_channels; c++) {
                float value = w[(o * p->in_channels + c) * taps + tap];
                panel[nr + (tap * p->in_channels + c) * nr + lane] = fq_f16_from_f32(value);
            }
    }
}

/* Writes the (kh, kw, c) patch of output pixel (oh, ow) into row. */
static void im2col_row(const fq_f16_conv2d_params *p, const uint16_t *x, size_t oh, size_t ow,
                       uint16_t *row)
{
    size_t cin = p->in_channels;
    for (size_t kh = 0; kh < p->kernel_h; kh++) {
        size_t ih = oh * p->stride_h + kh * p->dilation_h - p->pad_top;
        for (size_t kw = 0; kw < p->kernel_w; kw++) {
            size_t iw = ow * p->stride_w + kw * p->dilation_w - p->pad_left;
            uint16_t *dst = row + (kh * p->kernel_w + kw) * cin;
            if (ih < p->in_h && iw < p->in_w) /* unsigned: also false above or left of it */
                memcpy(dst, x + (ih * p->in_w + iw) * cin, cin * sizeof(*dst));
            else
                memset(dst, 0, cin * sizeof(*dst));
        }
    }
}

void fq_f16_conv2d(const fq_f16_conv2d_params *p, const fq_f16_gemm_kernel *kernel,
                   const uint16_t *x, const uint16_t *packed_w, uint16_t *y, uint16_t *workspace)
{
    size_t depth = conv_depth(p);
    size_t pixels = p->out_h * p->out_w;

    for (size_t first = 0; first < pixels; first += kernel->mr) {
        size_t rows = pixels - first < kernel->mr ? pixels - first : kernel->mr;
        for (size_t r = 0; r < rows; r++) {
            size_t pixel = first + r;
            im2col_row(p, x, pixel / p->out_w, pixel % p->out_w, workspace + r * depth);
        }
        kernel->ukernel(rows, p->out_channels, depth, workspace, depth, packed_w,
                        y + first * p->out_channels, p->out_channels, &p->clamp);
    }
}

size_t fq_f16_dwconv3x3_packed_count(size_t channels, size_t cr)
{
    return (channels + cr - 1) / cr * cr * 10;
}

void fq_f16_dwconv3x3_pack(size_t channels, size_t cr, const float *w, const float *bias,
                           uint16_t *packed)
{
    memset(packed, 0, fq_f16_dwconv3x3_packed_count(channels, cr) * sizeof(*packed));

    for (size_t ch = 0; ch < channels; ch++) {
        uint16_t *group = packed + (ch / cr) * cr * 10;
        size_t lane = ch % cr;
        group[lane] = fq_f16_from_f32(bias != NULL ? bias[ch] : 0.0f);
        for (size_t tap = 0; tap < 9; tap++)
            group[cr + tap * cr + lane] = fq_f16_from_f32(w[ch * 9 + tap]);
    }
}
