/* counters.h - per-thread performance counters as one perf_event group, with a fallback ladder.
 *
 * Tiers, best first: "hw" (cycles, instructions, L1D/LLC/dTLB load misses, encoded through libpfm4
 * when fluidtune was built with it, else with the kernel's generic encodings), "sw" (task-clock,
 * page-faults, context-switches: always there on Linux, even in a VM without a PMU) and "none".
 * ft_counters_open never fails for lack of a PMU: it steps down a tier and says why in the note.
 * The events of a tier form one group (a leader and members), so they are scheduled together and
 * read with one read(); when the kernel multiplexes the group (time_running < time_enabled) values
 * are scaled up and the result is flagged as multiplexed.
 */
#ifndef FT_COUNTERS_H
#define FT_COUNTERS_H

#include "ft_common.h"

typedef enum ft_counter_tier { FT_TIER_NONE = 0, FT_TIER_SW = 1, FT_TIER_HW = 2 } ft_counter_tier;

#define FT_COUNTERS_MAX 8

typedef struct ft_counter_value {
    char name[32]; /* perf's spelling: "cycles", "L1-dcache-load-misses", "task-clock", ... */
    double value;  /* per call of the measured function; task-clock in nanoseconds */
} ft_counter_value;

typedef struct ft_counters ft_counters;

/* "hw", "sw", "none". */
const char *ft_counter_tier_name(ft_counter_tier t);
/* Parses a tier name; FT_ERR_INPUT naming the text when it is none of them. */
int ft_counter_tier_parse(const char *s, ft_counter_tier *t, ft_error *err);
/* How hardware events are encoded in this build: "libpfm4 ..." or a note that libpfm4 was absent. */
const char *ft_counters_backend(void);

/* Opens the best available tier no higher than max_tier for the calling thread. The environment
 * variable FT_COUNTER_TIER=hw|sw|none lowers max_tier further (tests use it to force the fallback);
 * an unparsable value is FT_ERR_INPUT. Fails only for that or lack of memory. */
int ft_counters_open(ft_counter_tier max_tier, ft_counters **out, ft_error *err);
void ft_counters_close(ft_counters *c);

ft_counter_tier ft_counters_tier(const ft_counters *c);
/* Why the tier is below hw, or which events of the tier could not be opened; "" when nothing to say. */
const char *ft_counters_note(const ft_counters *c);

/* Resets and enables the group; ft_counters_stop disables it and adds its (scaled) counts to the
 * running totals. Both are no-ops at tier none. */
void ft_counters_start(ft_counters *c);
void ft_counters_stop(ft_counters *c);

/* The totals divided by calls into out (at most FT_COUNTERS_MAX entries); returns how many.
 * *multiplexed is set when any interval ran with the group only part of the time. */
int ft_counters_read(const ft_counters *c, double calls, ft_counter_value *out, int *multiplexed);

#endif
