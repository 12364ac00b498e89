/* report.h - `fluidtune report`: tuning databases of one or more machines compared side by side, as a
 * self-contained folder (index.html with gnuplot charts, summary.md, the charts' .dat and .gp files).
 *
 * A "run" is one machine and one kernel build: the unit measurements are keyed by. Several database
 * files (one per board, or shards of one sweep) and merged files holding several machines may be
 * given together; a measurement seen twice (a merged file beside its sources) counts once, the first
 * file wins, as `db merge` does.
 *
 * Without a model the baseline a candidate is compared with is the median of a signature's OK
 * candidates; with a model it is the candidate the registry's default plan picks for the nodes of
 * that signature (ft_registry_default), and the model is solved per run (the planner, with each run's
 * measurements) for predicted times per op type, the memory plan and the cross-machine plan costs.
 * Charts come from gnuplot run as an external program; when it cannot be found the report is written
 * without charts and the result says so.
 */
#ifndef FT_REPORT_H
#define FT_REPORT_H

#include "graph.h"

typedef struct ft_report ft_report;

/* Opens every database read-only and loads its machines, builds, signatures, candidates,
 * measurements, counters and sweeps. FT_ERR_INPUT naming the file when one cannot be opened or holds
 * no measurement at all. */
int ft_report_create(const char *const *db_paths, int n_dbs, ft_report **out, ft_error *err);
void ft_report_destroy(ft_report *r);

/* Gives the report a model: load must return a freshly imported and prepared copy each call (the
 * planner inserts layout conversions into the graph it solves, so every run needs its own). label
 * names the model in the report (its path). Solves the model once per run. */
typedef int (*ft_report_model_loader)(void *ctx, ft_graph **out, ft_error *err);
int ft_report_set_model(ft_report *r, const char *label, ft_report_model_loader load, void *ctx, ft_error *err);

typedef struct ft_report_options {
    const char *gnuplot; /* program to run, looked up on PATH unless it holds a '/'; NULL = "gnuplot" */
    int text_only;       /* 1: no charts even when gnuplot is there */
} ft_report_options;

typedef struct ft_report_written {
    int n_runs, n_signatures;
    int n_charts;          /* charts referenced by index.html (each exists and is non-empty) */
    int n_charts_failed;   /* charts gnuplot did not produce; details in DIR/gnuplot.log */
    int gnuplot_missing;   /* 1 when the program was not found: a text-only report was written */
    char note[512];        /* for the user when gnuplot was missing or failed; "" otherwise */
} ft_report_written;

/* Writes DIR/index.html, DIR/summary.md and the charts (creating DIR and its parents), replacing
 * what an earlier report left there. FT_ERR_FAIL naming the file on I/O errors. */
int ft_report_write(ft_report *r, const char *dir, const ft_report_options *opts, ft_report_written *out,
                    ft_error *err);

/* Copies s into buf with &, <, >, " and ' escaped for HTML text and attributes; truncates to n
 * bytes (never inside an entity). Returns buf. */
char *ft_report_html_escape(const char *s, char *buf, size_t n);

#endif
