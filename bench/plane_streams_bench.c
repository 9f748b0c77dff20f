/* Memory bandwidth of the two orders an NCHW layer can walk its planes in, one thread: y = x + 1
 * over C planes, either plane after plane (two streams at a time: what a blocked NCHWc layout
 * gives a pointwise convolution) or in column chunks taken across every plane (2C streams at a
 * time: what a pointwise convolution of NCHW planes does, a chunk of every input plane for a
 * chunk of every output plane). The caches are flushed before each run, so both orders go to
 * memory, as layers of large images do; GB/s counts the bytes read and written, best of 7.
 *
 * Measured on the AVX-512 machine of bench/README.md: 16 planes of 320x320 ran at 34 GB/s plane
 * after plane and at 17-21 GB/s in chunks of 32 to 51200 floats; see bench/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_peak.h"
#include "facequant/alloc.h"

enum { RUNS = 7, FLUSH_BYTES = 64 << 20 };

typedef struct shape {
    const char *what;
    int64_t planes, plane;
} shape;

static const shape shapes[] = {
    {"16 x 320x320", 16, 320 * 320},
    {"64 x 160x160", 64, 160 * 160},
    {"64 x 80x80", 64, 80 * 80},
};

static const int64_t chunks[] = {32, 1024, 16384};

/* y[p][j0, j1) = x[p][j0, j1) + 1 for every plane p; chunk 0: plane after plane. */
static void walk(const shape *s, const float *x, float *y, int64_t chunk)
{
    int64_t step = chunk > 0 ? chunk : s->plane;
    for (int64_t j0 = 0; j0 < s->plane; j0 += step) {
        int64_t j1 = j0 + step < s->plane ? j0 + step : s->plane;
        for (int64_t p = 0; p < s->planes; p++) {
            const float *src = x + p * s->plane;
            float *dst = y + p * s->plane;
            for (int64_t j = j0; j < j1; j++)
                dst[j] = src[j] + 1.0f;
        }
    }
}

static double gbps(const shape *s, const float *x, float *y, unsigned char *flush,
                   int64_t chunk)
{
    double best = 0.0;
    for (int r = 0; r < RUNS; r++) {
        memset(flush, r, FLUSH_BYTES);
        double t0 = fq_bench_now();
        walk(s, x, y, chunk);
        double rate = 2.0 * (double)(s->planes * s->plane) * sizeof(float) /
                      (fq_bench_now() - t0) * 1e-9;
        best = rate > best ? rate : best;
    }
    return best;
}

int main(void)
{
    unsigned char *flush = fq_malloc_aligned(FLUSH_BYTES);
    printf("y = x + 1 over NCHW planes, one thread, GB/s read + written, best of %d\n", RUNS);
    for (size_t i = 0; flush != NULL && i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const shape *s = &shapes[i];
        size_t bytes = (size_t)(s->planes * s->plane) * sizeof(float);
        float *x = fq_malloc_aligned(bytes), *y = fq_malloc_aligned(bytes);
        if (x == NULL || y == NULL) {
            printf("  %-14s cannot allocate its planes\n", s->what);
        } else {
            memset(x, 0, bytes);
            memset(y, 0, bytes);
            printf("  %-14s plane after plane %5.1f", s->what, gbps(s, x, y, flush, 0));
            for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
                printf("   chunks of %5lld %5.1f", (long long)chunks[c],
                       gbps(s, x, y, flush, chunks[c]));
            printf("\n");
        }
        fq_free_aligned(x), fq_free_aligned(y);
    }
    fq_free_aligned(flush);
    return flush != NULL ? 0 : 1;
}
