/* measure.h - timing one candidate honestly: verify, pin, warm up, calibrate, sample, count, isolate.
 *
 * A measurement is a set of samples. A warm sample repeats the candidate until the sample lasts at
 * least min_time (the repeat count is calibrated once, after warm-up, and then fixed so samples are
 * comparable) and records seconds per call. A cold sample is a single call right after the caches
 * were flushed, since repeating it would warm them again. Clock: CLOCK_MONOTONIC_RAW, which NTP
 * does not slew. Counters (see counters.h) run around the timed loops only.
 *
 * ft_measure_isolated runs all of that in a forked worker, so a candidate that crashes, hangs or
 * computes garbage is recorded as CRASH, TIMEOUT or WRONG and the caller carries on.
 */
#ifndef FT_MEASURE_H
#define FT_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "ft_common.h"

typedef enum ft_outcome {
    FT_OUTCOME_OK = 0,
    FT_OUTCOME_WRONG,   /* verify reported a wrong result */
    FT_OUTCOME_CRASH,   /* killed by a signal, exited, or run returned non-zero */
    FT_OUTCOME_TIMEOUT, /* killed after the deadline */
    FT_OUTCOME_SKIPPED  /* not run (set by callers, never by the harness) */
} ft_outcome;

/* "OK", "WRONG", "CRASH", "TIMEOUT", "SKIPPED": the spelling stored in the database. */
const char *ft_outcome_name(ft_outcome o);

#define FT_MEASURE_MAX_SAMPLES 256
#define FT_MEASURE_CPU_CURRENT (-1) /* pin to the CPU the caller is on when measuring starts */
#define FT_MEASURE_NO_PIN (-2)

typedef struct ft_measure_config {
    double warmup_s;          /* keep calling for this long before calibrating (at least one call) */
    double min_time_s;        /* a warm sample lasts at least this long */
    int samples;              /* 1..FT_MEASURE_MAX_SAMPLES */
    int cold;                 /* flush the caches before every sample; one call per sample */
    size_t flush_bytes;       /* bytes written to flush; 0 = twice the last-level cache, 8..128 MiB */
    int cpu;                  /* CPU to pin to, or FT_MEASURE_CPU_CURRENT / FT_MEASURE_NO_PIN */
    ft_counter_tier max_tier; /* highest counter tier to try */
    double timeout_s;         /* ft_measure_isolated: kill the worker after this long; <= 0 = never */
} ft_measure_config;

typedef struct ft_measure_stats {
    double min, median, mad, mean; /* seconds per call; mad = median absolute deviation, unscaled */
} ft_measure_stats;

typedef struct ft_measure_result {
    ft_outcome status;
    char detail[256]; /* CRASH: "SIGSEGV", "exit status 3", "run returned 2"; WRONG: verify's message */
    int n_samples;
    double samples[FT_MEASURE_MAX_SAMPLES]; /* seconds per call, in the order taken */
    ft_measure_stats stats;
    int64_t reps;      /* calls per sample */
    int64_t n_flushes; /* cache flushes done (cold) */
    int cpu;           /* the CPU measured on, -1 when not pinned */
    ft_counter_tier tier;
    char tier_note[512]; /* why the tier is below hw, or which events were dropped */
    int multiplexed;
    int n_counters;
    ft_counter_value counters[FT_COUNTERS_MAX]; /* per call */
} ft_measure_result;

typedef struct ft_measure_job {
    /* One call of the candidate; non-zero return stops the measurement with CRASH. */
    int (*run)(void *ctx);
    /* Optional, called once before timing: runs the candidate and compares it with the reference.
     * Returns 0 when correct; otherwise writes why into msg (n bytes) and the outcome is WRONG. */
    int (*verify)(void *ctx, char *msg, size_t n);
    void *ctx;
} ft_measure_job;

/* 10 ms warm-up, 1 ms min time, 10 samples, warm, pinned to the current CPU, best counter tier,
 * 10 s timeout. */
void ft_measure_config_default(ft_measure_config *c);

/* Measures job in this process. Returns FT_OK when the job was handled, whatever its outcome (see
 * r->status); an error only for a bad config, a failed pin to an explicit CPU, or lack of memory.
 * The caller's CPU affinity is restored before returning. */
int ft_measure_run(const ft_measure_config *c, const ft_measure_job *job, ft_measure_result *r, ft_error *err);

/* Like ft_measure_run, but in a forked worker with c->timeout_s as deadline. Crashes, exits and
 * hangs of the worker become outcomes, not errors; the worker is always reaped. Data the job
 * writes in the worker stays there. */
int ft_measure_isolated(const ft_measure_config *c, const ft_measure_job *job, ft_measure_result *r, ft_error *err);

/* min, median, MAD and mean of n >= 1 values (all NaN for n == 0). */
void ft_measure_stats_compute(const double *x, int n, ft_measure_stats *s);

#endif
