/* Latency statistics and peak memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/latency.h"

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void fq_latency_summarize(double *times, int runs, fq_latency_stats *stats)
{
    *stats = (fq_latency_stats){.runs = runs};
    if (runs < 1)
        return;
    double sum = 0.0;
    for (int i = 0; i < runs; i++)
        sum += times[i];
    qsort(times, (size_t)runs, sizeof(double), compare_doubles);

    stats->mean_ms = sum / runs;
    stats->median_ms = runs % 2 ? times[runs / 2]
                                : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
    stats->p90_ms = times[(int)(0.9 * (runs - 1) + 0.5)];
    stats->min_ms = times[0];
}

long fq_tool_peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0 && sscanf(line + 6, "%ld", &kib) != 1)
            kib = -1;
    fclose(f);
    return kib;
}
