/* qs8 GEMM, 6 rows x 16 channels, k in groups of 4, AVX-VNNI (256-bit vpdpbusd, VEX encoded:
 * u8 activations x s8 weights, four products summed into each int32 lane, no saturation).
 *
 * CPUs with AVX-VNNI and no AVX-512 have 16 ymm registers: 12 accumulators (6 rows x 2 vectors
 * of 8 channels), 2 weight vectors and a broadcast row fit, and 12 independent vpdpbusd chains
 * cover their latency on both ports, where the 8x8c4 tile's 8 chains cannot (and it loads a row
 * value per multiply-add vector instead of per two). */
#include "x86/avxvnni/qs8_gemm_avxvnni.h"

#define MR 6
#define NV 2 /* vectors of 8 channels */
#define NR (8 * NV)

/* acc += x (u8) . w (s8) by groups of 4, the VEX form. An asm statement, as in the AVX512-VNNI
 * tiles: GCC 12 copies every accumulator through a spare register around the intrinsic, and
 * this tile has no spare register. */
static inline __m256i dot(__m256i acc, __m256i x, __m256i w)
{
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(x), "x"(w));
    return acc;
}

void fq_qs8_gemm_ukernel_6x16c4__avxvnni(size_t mr, size_t nc, size_t kc, const uint8_t *a,
                                         size_t a_stride, const void *packed_w, uint8_t *c,
                                         size_t c_stride, const fq_qs8_requant_params *params)
{
    /* Rows past mr repeat the last one: computed, and stored over it with the same values. */
    const uint8_t *arow[MR];
    uint8_t *crow[MR];
    fq_qs8_tile_rows(mr, MR, a, a_stride, c, c_stride, arow, crow);

    const size_t kmain = kc & ~(size_t)3;
    const uint8_t *w = packed_w;
    for (size_t j0 = 0; j0 < nc; j0 += NR) {
        __m256i acc[MR][NV];
        for (int v = 0; v < NV; v++) {
            __m256i bias = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32 * v));
            for (int i = 0; i < MR; i++)
                acc[i][v] = bias;
        }
        w += 32 * NV;

        for (size_t k = 0; k < kmain; k += 4) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)w);
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32));
            w += 32 * NV;
            for (int i = 0; i < MR; i++) {
                __m256i x = _mm256_set1_epi32((int)fq_qs8_c4_group(arow[i] + k));
                acc[i][0] = dot(acc[i][0], x, w0);
                acc[i][1] = dot(acc[i][1], x, w1);
            }
        }
        if (kmain < kc) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)w);
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32));
            w += 32 * NV;
            for (int i = 0; i < MR; i++) {
                __m256i x = _mm256_set1_epi32((int)fq_qs8_c4_tail(arow[i] + kmain, kc - kmain));
                acc[i][0] = dot(acc[i][0], x, w0);
                acc[i][1] = dot(acc[i][1], x, w1);
            }
        }

        size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (int v = 0; v < NV; v++) {
            if ((size_t)v * 8 >= cols)
                break;
            __m256 multiplier = _mm256_loadu_ps((const float *)(const void *)(w + 32 * v));
            for (int i = MR - 1; i >= 0; i--)
                qs8_vnni_store8(crow[i] + j0 + 8 * (size_t)v,
                       qs8_vnni_requantize8(acc[i][v], multiplier, params), cols - 8 * (size_t)v);
        }
        w += 32 * NV;
    }
}
