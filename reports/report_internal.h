/* report_internal.h - the report's in-memory model of the databases, shared by the reports/ sources. */
#ifndef FT_REPORT_INTERNAL_H
#define FT_REPORT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "fingerprint.h"
#include "report.h"

enum { RP_OK = 0, RP_WRONG, RP_CRASH, RP_TIMEOUT, RP_SKIPPED, RP_N_STATUS };
enum { RP_TIER_NONE = 0, RP_TIER_SW, RP_TIER_HW, RP_N_TIER };
enum { RP_BASE_NONE = 0, RP_BASE_DEFAULT, RP_BASE_MEDIAN };

extern const char *const ft_report_status_names[RP_N_STATUS];
extern const char *const ft_report_tier_names[RP_N_TIER];

/* String -> index; keys are borrowed and must outlive the map. */
typedef struct ft_report_map {
    int cap, n;
    const char **keys;
    int *vals;
} ft_report_map;

int ft_report_map_get(const ft_report_map *m, const char *key);
/* 0, or -1 when out of memory. */
int ft_report_map_put(ft_report_map *m, const char *key, int val);
void ft_report_map_free(ft_report_map *m);

typedef struct ft_report_counters {
    double cycles, instructions, l1d_misses, llc_misses, dtlb_misses; /* per call; NAN when absent */
    double task_clock_ns, page_faults;
} ft_report_counters;

typedef struct ft_report_meas {
    int present;
    int status;
    double median_s, min_s, mad_s, mean_s;
    int n_samples;
    int64_t reps;
    int tier, multiplexed;
    ft_report_counters ctr;
} ft_report_meas;

typedef struct ft_report_run {
    char label[16]; /* "M1" */
    int db;        /* the first file it was found in */
    ft_machine machine;
    char build_key[FT_ID_HEX], compiler[128], flags[512];
    char first_seen[32];
    int n_status[RP_N_STATUS], n_tier[RP_N_TIER];
    int n_multiplexed;
    int n_duplicates; /* measurements also present in a later file (ignored there) */
    int n_sweeps, n_sweeps_done, n_sweeps_unfinished;
    double sweep_wall_s; /* sum over finished sweeps of finished - started */
    double measured_s;   /* sum over measurements of samples x reps x mean: time inside timed calls */
    char models[256];    /* names of the models its sweeps were about, comma-separated */
} ft_report_run;

typedef struct ft_report_sig {
    char *text, *op;
    char label[12];    /* "S1" in display order */
    int model_nodes;   /* nodes of the model with this signature (0 without a model) */
    char *default_key; /* the registry default's key for those nodes, or NULL */
    int n_cands;
    int *cands;        /* candidate indices sorted by key */
} ft_report_sig;

typedef struct ft_report_cand {
    int sig;
    char *key, *params, *sig_key; /* sig_key: signature text, '\x1f', key (the map's key) */
    char family[64];
    char layouts[96]; /* "in 0123,0213 out 0213" from params */
    int row_major;    /* every layout in params is the identity */
} ft_report_cand;

/* Per signature and run. */
typedef struct ft_report_stat {
    int n_meas, n_ok;
    int best, base;  /* candidate indices, -1 when none */
    int base_kind;   /* RP_BASE_* */
    double best_s, base_s, median_s, worst_s; /* medians of candidates; NAN when no OK candidate */
} ft_report_stat;

typedef struct ft_report_memrect {
    int first, last; /* schedule steps */
    size_t offset, size;
    char tensor[96];
} ft_report_memrect;

/* The model solved with one run's measurements. */
typedef struct ft_report_model_run {
    int ok;             /* 0 when the run never swept the model's signatures */
    char note[256];     /* why ok is 0, or what the planner warned */
    double predicted_s, default_s, greedy_s;
    int n_unmeasured, n_default_unmeasured, n_conversions;
    double *tuned_by_op, *default_by_op; /* per model op type (ft_report.model_ops) */
    size_t arena_bytes, lower_bound_bytes, no_reuse_bytes;
    char mem_algorithm[32];
    int n_rects, n_steps;
    ft_report_memrect *rects;
    int n_plan;                   /* solved plan, node by node (conversions included) */
    char **plan_sig, **plan_key;
    double *cross_s;              /* per run: this plan's cost from that run's measurements */
    int *cross_missing;           /* per run: nodes whose chosen kernel that run never measured OK */
} ft_report_model_run;

struct ft_report {
    int n_dbs;
    char **db_paths;
    int n_runs;
    ft_report_run *runs;
    int n_sigs, cap_sigs;
    ft_report_sig *sigs;
    int *sig_order; /* display order: op type, then signature text */
    int n_cands, cap_cands;
    ft_report_cand *cands;
    ft_report_map sig_map, cand_map;
    ft_report_meas *meas;  /* n_runs x n_cands */
    ft_report_stat *stats; /* n_sigs x n_runs */
    char **events;         /* counter events seen, for the note on what was recorded */
    int n_events;
    /* model */
    int has_model;
    char model_label[512];
    char model_sha256[FT_ID_HEX];
    int model_nodes;
    int n_model_ops;
    char **model_ops; /* op types in first-use order, "Reorder" last */
    ft_report_model_run *mruns; /* n_runs */
};

static inline ft_report_meas *ft_report_meas_at(const ft_report *r, int run, int cand)
{
    return &r->meas[(size_t)run * (size_t)r->n_cands + (size_t)cand];
}

static inline ft_report_stat *ft_report_stat_at(const ft_report *r, int sig, int run)
{
    return &r->stats[(size_t)sig * (size_t)r->n_runs + (size_t)run];
}

/* Recomputes every ft_report_stat from the measurements and the signatures' default keys. */
void ft_report_compute_stats(ft_report *r);
/* Median seconds of (run, signature text, key) when measured OK, else NAN. */
double ft_report_cost(const ft_report *r, int run, const char *signature, const char *key);

/* Cross-machine cost from the measurements alone: run a's best candidate of every signature timed
 * with run b's measurements. Signatures weigh the number of model nodes using them (1 each without a
 * model; signatures the model does not use weigh 0). *ratio is that sum over b's own best on the same
 * signatures; *missing counts signatures whose choice b never measured OK (left out of both sums). */
void ft_report_cross(const ft_report *r, int a, int b, double *a_on_b_s, double *b_own_s, double *ratio,
                     int *missing, int *n_common);

void ft_report_model_run_clear(ft_report_model_run *m);

/* Display helpers. */
const char *ft_report_run_title(const ft_report *r, int run, char *buf, size_t n); /* "M1: vendor model" */
char *ft_report_bytes_str(size_t b, char *buf, size_t n);
char *ft_report_fmt_us(double s, char *buf, size_t n); /* "12.345" or "-" */
char *ft_report_fmt_ratio(double x, char *buf, size_t n); /* "1.52x" or "-" */

/* The charts, written into dir and rendered by gnuplot; see report_charts.c. */
typedef struct ft_report_chart {
    char file[64];    /* "speedup.svg" */
    char title[128];
    char caption[512];
    int section;      /* where index.html shows it */
    int ok;           /* rendered and non-empty */
} ft_report_chart;

enum { RP_SEC_SPEEDUP, RP_SEC_SPREAD, RP_SEC_COUNTERS, RP_SEC_CHOICES, RP_SEC_CROSS, RP_SEC_MODEL, RP_SEC_MEMORY,
       RP_SEC_SWEEP };

#define FT_REPORT_MAX_CHARTS 64

typedef struct ft_report_charts {
    int n;
    ft_report_chart c[FT_REPORT_MAX_CHARTS];
} ft_report_charts;

int ft_report_write_charts(const ft_report *r, const char *dir, const ft_report_options *opts, ft_report_charts *ch,
                           ft_report_written *w, ft_error *err);
int ft_report_write_html(const ft_report *r, const char *dir, const ft_report_charts *ch, const ft_report_written *w,
                         ft_error *err);
int ft_report_write_markdown(const ft_report *r, const char *dir, const ft_report_written *w, ft_error *err);

#endif
