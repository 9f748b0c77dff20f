/* Reference fp32 GEMM: B is packed, a strip of TILE_N columns by up to DEPTH_BLOCK rows at a
 * time, into a contiguous panel (rows of B far apart in memory would otherwise fall into the
 * same few cache sets); register tiles of TILE_M x TILE_N multiply A against the panel. */
#include <stdbool.h>

#include "ref/f32_gemm_ref.h"

#define TILE_M 4
#define TILE_N 8
#define DEPTH_BLOCK 256

/* Copies rows [0, depth) and columns [0, nr) of B into panel (depth x TILE_N), zero-filled past
 * nr. Full strips take a loop of constant length, which compiles to plain vector moves. */
static void pack_panel(int64_t depth, int nr, const float *restrict b, int64_t ldb,
                       float *restrict panel)
{
    if (nr == TILE_N) {
        for (int64_t p = 0; p < depth; p++)
            for (int j = 0; j < TILE_N; j++)
                panel[p * TILE_N + j] = b[p * ldb + j];
        return;
    }
    for (int64_t p = 0; p < depth; p++)
        for (int j = 0; j < TILE_N; j++)
            panel[p * TILE_N + j] = j < nr ? b[p * ldb + j] : 0.0f;
}

/* C[0..mr)[0..nr) (+)= A[0..mr)[0..depth) * panel; the sums go on from C's values when
 * accumulate is set, so the order of additions is the same as one pass over the whole depth. */
static void tile(int64_t depth, int mr, int nr, const float *restrict a, int64_t lda,
                 const float *restrict panel, float *restrict c, int64_t ldc, bool accumulate)
{
    float acc[TILE_M][TILE_N] = {{0.0f}};
    if (accumulate)
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                acc[i][j] = c[i * ldc + j];

    for (int64_t p = 0; p < depth; p++) {
        const float *restrict brow = panel + p * TILE_N;
        for (int i = 0; i < TILE_M; i++) {
            float av = i < mr ? a[i * lda + p] : 0.0f;
            for (int j = 0; j < TILE_N; j++)
                acc[i][j] += av * brow[j];
        }
    }

    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = acc[i][j];
}

void fq_ref_gemm_f32(const fq_gemm_f32_params *p, const float *a, const float *b, float *c)
{
    float panel[DEPTH_BLOCK * TILE_N];
    for (int64_t j = 0; j < p->n; j += TILE_N) {
        int nr = p->n - j < TILE_N ? (int)(p->n - j) : TILE_N;
        for (int64_t k0 = 0; k0 < p->k || k0 == 0; k0 += DEPTH_BLOCK) {
            int64_t depth = p->k - k0 < DEPTH_BLOCK ? p->k - k0 : DEPTH_BLOCK;
            pack_panel(depth, nr, b + k0 * p->ldb + j, p->ldb, panel);
            for (int64_t i = 0; i < p->m; i += TILE_M) {
                int mr = p->m - i < TILE_M ? (int)(p->m - i) : TILE_M;
                tile(depth, mr, nr, a + i * p->lda + k0, p->lda, panel, c + i * p->ldc + j,
                     p->ldc, k0 > 0);
            }
        }
    }
}
