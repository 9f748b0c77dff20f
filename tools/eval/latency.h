/* Latency statistics of timed runs, and the process's peak memory. */
#ifndef FQ_TOOLS_EVAL_LATENCY_H
#define FQ_TOOLS_EVAL_LATENCY_H

typedef struct fq_latency_stats {
    double mean_ms;
    double median_ms;
    double p90_ms;   /* the run at rank round(0.9 (runs - 1)) of the sorted times */
    double min_ms;
    int runs;
} fq_latency_stats;

/* Sorts times (runs >= 1 entries, milliseconds) in place and summarizes them. */
void fq_latency_summarize(double *times, int runs, fq_latency_stats *stats);

/* The peak resident set size of this process (VmHWM of /proc/self/status) in KiB; -1 where
 * the kernel does not report it. */
long fq_tool_peak_rss_kib(void);

#endif
