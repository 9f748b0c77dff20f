/* fp32 pointwise convolution fused with the depthwise 3x3 convolution that reads it: the
 * pointwise output (the "middle" tensor) never goes to memory.
 *
 * Two plans of f32_conv.h describe the pair: pw, a pointwise plan (1x1, stride 1, unpadded,
 * one group), and dw, a depthwise plan with a 3x3 SIMD kernel (stride 1 or 2, dilation 1)
 * whose input is pw's output. The driver computes dw's output in bands of output rows. A
 * band's middle rows (every middle channel, the rows the band's taps read, clipped to the
 * image) sit in a band buffer of its task's workspace slot, sized to stay in L2; they are
 * computed by the GEMM microkernel of pw (f32_gemm.h) reading X in place as fq_f32_gemm_run
 * does (whichever driver the unfused pw plan uses: the sums are the same), and the depthwise
 * kernel of dw then reads the buffer as a
 * sub-image (its geometry's in_h and pad_top place the band) and writes the band's rows of
 * the real output.
 *
 * With T threads, task t takes output rows [t * out_h / T, (t + 1) * out_h / T), band after
 * band, and keeps the rows two consecutive bands share (the kernel's halo) by moving them to
 * the top of the buffer, so a middle row is computed twice only where two tasks' rows meet.
 * Every middle value is the same kernel's sum over the same data in the same order as in the
 * unfused pw plan, and every output row sums its taps kh-major from the bias as in the
 * unfused dw plan, so the output equals running the two plans one after the other bit for
 * bit, for every thread count and band size.
 *
 * Supported activations: pw NONE, RELU, CLIP, LEAKY_RELU and PRELU (one slope or one per
 * channel); dw the same. SIGMOID on either side is not fused (fq_f32_pwdw_applies refuses it),
 * nor are fp16-arithmetic plans, grouped pointwise plans, reference depthwise planes or shapes
 * where dw does not read pw's output as it is. */
#ifndef FQ_KERNELS_F32_PWDW_H
#define FQ_KERNELS_F32_PWDW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f32_conv.h"
#include "f32_maxpool.h"

struct fq_threadpool;

typedef struct fq_f32_pwdw_plan {
    const fq_f32_conv_plan *pw;  /* not owned: they must outlive this plan */
    const fq_f32_conv_plan *dw;
    int64_t band_rows;           /* dw output rows per band */
    int64_t buffer_rows;         /* middle rows a band buffer holds */
    int64_t channel_stride;      /* floats between middle channels in the band buffer */
    size_t slot_floats;          /* one task's band buffer and panel of X's last columns */
    int slots;                   /* concurrent tasks the workspace is sized for */
    size_t workspace;            /* bytes fq_f32_pwdw_run needs */
    const fq_f32_maxpool_kernel *pool; /* a max pool over dw's output, or NULL */
    fq_pool2d_f32_params pool_p; /* its parameters for the whole image (planes ignored) */
    size_t pool_offset;          /* floats from a slot's start to its depthwise band rows */
    char name[96];               /* "f32_gemm_8x32__avx512+dw3x3s1" */
} fq_f32_pwdw_plan;

/* Band buffers of at most about this many bytes: with the packed block of X they stay in the
 * L2 of one core (1 MiB on the AVX-512 machine measured) while the depthwise kernel reads
 * them. At 160x160x64, 512 KiB bands ran about 2% faster than 256 KiB ones. */
enum { FQ_F32_PWDW_BAND_BYTES = 512 * 1024 };

/* True when pw followed by dw can run fused (see above). */
bool fq_f32_pwdw_applies(const fq_f32_conv_plan *pw, const fq_f32_conv_plan *dw);

/* Middle tensors (one image's pw output) of fewer bytes stay in the caches between the two
 * unfused plans: fused pairs there measured no faster on AVX-512 (14x14x256, 28x28x128,
 * 40x40x64), one and two threads, while from 80x80x64 (1.6 MB) on they are as fast or
 * faster, and at 160x160x64 about 12% faster. */
enum { FQ_F32_PWDW_MIN_MIDDLE_BYTES = 1 << 20 };

/* True when the pair applies and its middle tensor has at least FQ_F32_PWDW_MIN_MIDDLE_BYTES,
 * so that fusing it is expected to pay. */
bool fq_f32_pwdw_pays(const fq_f32_conv_plan *pw, const fq_f32_conv_plan *dw);

/* Plans the pair for `threads` threads with band buffers of about band_bytes (0: the default
 * FQ_F32_PWDW_BAND_BYTES); refuses, with FQ_ERR_UNSUPPORTED, a pair that does not apply. */
fq_status fq_f32_pwdw_plan_init(fq_f32_pwdw_plan *plan, const fq_f32_conv_plan *pw,
                                const fq_f32_conv_plan *dw, int threads, size_t band_bytes,
                                fq_error *err);

/* Max pools that can follow the pair: 2 x 2 windows at stride 2 (k = 2; the SIMD max pool kernels
 * take strides 1 and 2 only), no padding or dilation, over depthwise output planes of even sides,
 * so that every band of whole windows' rows pools on its own. With one, the driver keeps each
 * band's depthwise rows in the task's slot too and pools them into the real output: the depthwise
 * output is never written either. The pool's values are the kernel's over the same depthwise
 * values, so the result equals the three nodes run one after the other bit for bit. */
bool fq_f32_pwdw_maxpool_applies(const fq_f32_pwdw_plan *plan,
                                 const fq_f32_maxpool_kernel *kernel,
                                 const fq_pool2d_f32_params *p);

/* Adds such a pool to an initialised plan; it is re-planned with bands half as large so both
 * band buffers stay in L2, and plan->workspace grows. Refuses with FQ_ERR_UNSUPPORTED a pool
 * that does not apply. */
fq_status fq_f32_pwdw_plan_add_maxpool(fq_f32_pwdw_plan *plan,
                                       const fq_f32_maxpool_kernel *kernel,
                                       const fq_pool2d_f32_params *p, fq_error *err);

/* y = dw(pw(x)), or the pool of it when the plan has one. pw_slopes and dw_slopes are the
 * PRELU slopes of each (count values, or NULL). workspace has plan->workspace bytes, 64-byte
 * aligned; at most plan->slots of pool's threads take part. */
void fq_f32_pwdw_run(const fq_f32_pwdw_plan *plan, const float *x, const float *pw_slopes,
                     int64_t pw_slope_count, const float *dw_slopes, int64_t dw_slope_count,
                     float *y, void *workspace, struct fq_threadpool *pool);

#endif
